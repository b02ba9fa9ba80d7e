/* Kubernetes API client for one job: deploy (set image), follow the rollout
 * with kubectl's rules, status, history and rollback (kubectl rollout undo).
 * The flows do blocking I/O through httpc and fill a kube_result; the
 * parsing and building pieces are pure functions over JSON text. */
#ifndef KUBE_H
#define KUBE_H

#include <stddef.h>

#include "httpc.h"
#include "limits.h"

struct kube_cfg {
    struct url api;         /* KUBE_API_URL parsed (http:// allowed for kubectl proxy) */
    char server_name[256];  /* name checked in the API server certificate */
    const char *token_file; /* read at the start of every operation; may be absent for http:// */
    const char *token;      /* a bearer token held in memory (kubeconfig, exec plugin; checked
                               there by kubeconfig_token_ok), used when token_file is NULL */
    const struct tls_client_cert *client_cert; /* TLS client authentication, or NULL */
    const struct tls_anchors *ca;
    const char *proxy, *no_proxy;
    int timeout_s;          /* per I/O operation (IO_TIMEOUT) */
    int rollout_timeout_s;  /* ROLLOUT_TIMEOUT */
    const char *image_base; /* IMAGE_BASE; required for deploy */
};

/* Who asked; every field may be NULL (the CLI: then "cli" and $USER). */
struct kube_actor {
    const char *user_id, *user_name, *channel_id, *channel_name, *team_id;
};

struct kube_result {
    int ok;
    char image[IMAGE_MAX];
    char text[4096]; /* human-readable result: Slack mrkdwn, NOT escaped for Slack (&, <, >) */
    char error[512]; /* short reason when !ok, for the audit line */
    long revision;   /* deployment revision reached (deploy/rollback) or current (status) */
};

/* The operations. Each returns 0 on success, -1 on failure, and fills res
 * either way (res->text always says what happened). ns and name must be
 * DNS-1123 names; version a tag or "sha256:<64 hex>". */
int kube_deploy(const struct kube_cfg *k, const char *ns, const char *name, const char *version,
                const struct kube_actor *who, struct kube_result *res);
int kube_status(const struct kube_cfg *k, const char *ns, const char *name,
                struct kube_result *res);
int kube_history(const struct kube_cfg *k, const char *ns, const char *name,
                 struct kube_result *res);
/* revision 0 rolls back to the previous revision, like kubectl rollout undo. */
int kube_rollback(const struct kube_cfg *k, const char *ns, const char *name, long revision,
                  const struct kube_actor *who, struct kube_result *res);

/* One request to path (after the server URL's own path) with the job's
 * credentials, kubectl's retries; body is JSON or NULL. 0 with r filled
 * (any status; httpc_resp_free it), -1 with err. For `deploy-api check`. */
int kube_raw(const struct kube_cfg *k, const char *method, const char *path, const char *body,
             struct httpc_resp *r, char *err, size_t errlen);

/* ---- pure pieces (tests and fuzzers call these directly) ---- */

enum kube_rollout { ROLLOUT_DONE, ROLLOUT_WAITING, ROLLOUT_FAILED, ROLLOUT_ERROR };

struct kube_counts {
    long long desired, replicas, updated, available, ready;
};

/* kubectl rollout status for the Deployment in json[0..len): DONE, WAITING
 * or FAILED with kubectl's message in msg (no trailing newline); ERROR when
 * json is not a Deployment. c (may be NULL) receives the replica counts. */
enum kube_rollout kube_rollout_state(const char *json, size_t len, struct kube_counts *c, char *msg,
                                     size_t msgcap);

/* Pick the container of the Deployment in json: the one named like the
 * deployment, else the only one (initContainers never). 0 with its name and
 * current image copied out; -1 with err naming the candidates. */
int kube_choose_container(const char *json, size_t len, const char *deployment, char *cname,
                          size_t ccap, char *image, size_t icap, char *err, size_t errlen);

/* base + "/" + name + ":" + version, or "@sha256:..." for a digest
 * version. 0, or -1 with err when a part is invalid or it does not fit. */
int kube_image_ref(char *out, size_t cap, const char *base, const char *name, const char *version,
                   char *err, size_t errlen);

/* One-line change-cause: "deploy-api: USER (UID) WHAT from #CHANNEL
 * (CID)"; control characters become spaces, cut at a character boundary
 * to fit cap (at most KUBE_CAUSE_MAX). */
void kube_change_cause(char *out, size_t cap, const struct kube_actor *who, const char *what);

/* The strategic merge patch that sets container's image and the change-cause
 * on the Deployment. Returns its length, or -1 when it does not fit. */
long kube_set_image_patch(char *buf, size_t cap, const char *container, const char *image,
                          const char *cause);

/* kubectl rollout undo's JSON patch: replace /spec/template with the
 * ReplicaSet's template minus its pod-template-hash label, and
 * /metadata/annotations with the RS's annotations (but the Deployment's own
 * values of the keys kubectl skips), change-cause set to cause. Returns
 * its length, or -1 with err. */
long kube_rollback_patch(const char *deploy, size_t dlen, const char *rs, size_t rlen,
                         const char *cause, char *buf, size_t cap, char *err, size_t errlen);

/* The ReplicaSet in the list rslist to roll back to: revision want, or with
 * want 0 the second newest (kubectl). Returns its revision and the byte
 * span of the RS object in rslist, or -1 with err ("revision N not found;
 * available: ..."). Only ReplicaSets controlled by the deployment count. */
long kube_rollback_target(const char *deploy, size_t dlen, const char *rslist, size_t rlen,
                          long want, size_t *rs_off, size_t *rs_len, char *err, size_t errlen);

/* 1 when the Deployment's pod template equals the ReplicaSet's ignoring
 * the pod-template-hash label (kubectl then skips the rollback), 0 if not,
 * -1 on bad input. */
int kube_template_matches(const char *deploy, size_t dlen, const char *rs, size_t rlen);

/* The deployment's spec.selector as a URL-encoded labelSelector value
 * ("app%3Dweb%2Ctier%3Dfront"). Returns its length, or -1. */
long kube_selector(const char *deploy, size_t len, char *out, size_t cap);

/* "revisions newest first" text for the Deployment and its ReplicaSetList.
 * Returns the number of revisions listed, or -1 on bad input. */
int kube_history_text(const char *deploy, size_t dlen, const char *rslist, size_t rlen, char *out,
                      size_t cap);

/* Human status of a Deployment: images, replicas, conditions, rollout
 * state. 0, or -1 on bad input. */
int kube_status_text(const char *deploy, size_t len, char *out, size_t cap);

/* The "message" of a Status object (or "" when json is not one). Returns
 * its length, or -1 when absent. */
long kube_status_message(const char *json, size_t len, char *out, size_t cap);

enum kube_event { KEV_BAD, KEV_OBJECT, KEV_DELETED, KEV_BOOKMARK, KEV_EXPIRED, KEV_ERROR };

/* Classify one watch event line; for KEV_OBJECT/KEV_DELETED/KEV_BOOKMARK,
 * *obj_off and *obj_len locate the object inside line. */
enum kube_event kube_watch_event(const char *line, size_t len, size_t *obj_off, size_t *obj_len);

/* API path (api's path prefix + "/apis/apps/v1/namespaces/NS/" + rest) in
 * out. 0, or -1 when it does not fit. */
int kube_api_path(char *out, size_t cap, const struct url *api, const char *ns, const char *rest);

#endif
