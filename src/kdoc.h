/* Deployment documents of the Kubernetes API: reading them (rollout state
 * with kubectl's rules, container choice, status text, watch events) and
 * building the set-image patch. Pure functions over JSON text, no I/O; a
 * body is parsed once into a struct kdeploy that the steps read. They may
 * allocate (forked children only). ReplicaSet documents are in krs.h. */
#ifndef KDOC_H
#define KDOC_H

#include <stddef.h>

#include "json.h"
#include "limits.h"
#include "sb.h"

/* Who asked; every field may be NULL (the CLI: then "cli" and $USER). */
struct kube_actor {
    const char *user_id, *user_name, *channel_id, *channel_name, *team_id;
};

/* REPLACED: a later change put another image in the template before the
 * followed generation rolled out (set by rollout.c, never by kdoc_rollout). */
enum kdoc_rollout {
    ROLLOUT_DONE,
    ROLLOUT_WAITING,
    ROLLOUT_FAILED,
    ROLLOUT_ERROR,
    ROLLOUT_REPLACED
};

struct kdoc_counts {
    long long desired, replicas, updated, available, ready;
};

/* One container of a pod template; name and image as the JSON strings
 * decoded ("" when absent, not a string or too long). */
struct kdoc_container {
    char name[256];
    int name_ok; /* name is a non-empty string that fit */
    char image[IMAGE_MAX];
};

/* What the steps need from one Deployment body. Filled by
 * kdoc_deploy_parse; free with kdoc_deploy_free. */
struct kdeploy {
    int is_deployment; /* an object, kind absent or Deployment, with spec and metadata */
    char name[K8S_NAME_MAX + 1], ns[K8S_NS_MAX + 1];
    char uid[128], rv[128];            /* metadata.uid, metadata.resourceVersion ("" if absent) */
    long long generation, observed;    /* metadata.generation, status.observedGeneration (0) */
    struct kdoc_counts counts;         /* spec.replicas defaults to 1, the others to 0 */
    long revision;                     /* deployment.kubernetes.io/revision, -1 if absent */
    int deadline_exceeded;             /* first Progressing condition: ProgressDeadlineExceeded */
    int paused;                        /* spec.paused is true */
    long long progress_deadline_s;     /* spec.progressDeadlineSeconds, -1 if absent */
    int has_containers;                /* spec.template.spec.containers is a non-empty array */
    struct kdoc_container *containers; /* malloc'd, ncontainers of them */
    int ncontainers;
    struct kdoc_container *init; /* initContainers, malloc'd, ninit of them */
    int ninit;
    char manager[200]; /* who else manages it ("Argo CD (annotation ...)"), "" if none seen */
};

/* Parse json[0..len) once into d. 0 (then d->is_deployment tells whether
 * it was a Deployment; fields absent stay at their defaults), or -1 on
 * malformed JSON or no memory (d is then empty, freeing it is harmless). */
int kdoc_deploy_parse(const char *json, size_t len, struct kdeploy *d);
/* Free what kdoc_deploy_parse allocated; idempotent. */
void kdoc_deploy_free(struct kdeploy *d);

/* kubectl rollout status for d: DONE, WAITING or FAILED with kubectl's
 * message in msg (no trailing newline); ERROR when d is not a Deployment.
 * c (may be NULL) receives the replica counts. */
enum kdoc_rollout kdoc_rollout(const struct kdeploy *d, struct kdoc_counts *c, char *msg,
                               size_t msgcap);
/* kdoc_rollout on the JSON text (ERROR "malformed JSON" when it does not parse). */
enum kdoc_rollout kdoc_rollout_state(const char *json, size_t len, struct kdoc_counts *c, char *msg,
                                     size_t msgcap);

/* Pick the container of d (initContainers never): the one named want (-c)
 * when want is non-empty; else the one named like the deployment, else the
 * only one, else the only one whose repository's last path element is the
 * deployment's name. 0 with its name and current image copied out; -1 with
 * err listing the containers ("... none is named X: app, envoy"). */
int kdoc_choose(const struct kdeploy *d, const char *deployment, const char *want, char *cname,
                size_t ccap, char *image, size_t icap, char *err, size_t errlen);
/* kdoc_choose on JSON text ("malformed Deployment JSON" when it does not parse). */
int kdoc_choose_container(const char *json, size_t len, const char *deployment, const char *want,
                          char *cname, size_t ccap, char *image, size_t icap, char *err,
                          size_t errlen);
/* The image of the container (or, with init set, init container) named
 * name in d, or NULL when there is none. */
const char *kdoc_image_of(const struct kdeploy *d, const char *name, int init);

/* Who manages d besides kubectl users, from its labels and annotations:
 * Argo CD (annotation argocd.argoproj.io/tracking-id, label
 * argocd.argoproj.io/instance, or label app.kubernetes.io/instance without
 * a Helm marker), Flux (labels kustomize.toolkit.fluxcd.io/name,
 * helm.toolkit.fluxcd.io/name), Helm (label app.kubernetes.io/managed-by:
 * Helm, annotation meta.helm.sh/release-name). kdoc_deploy_parse fills
 * kdeploy.manager with it: "Argo CD (annotation
 * argocd.argoproj.io/tracking-id)", or "" when none is seen. */
void kdoc_manager(const struct json_doc *d, int obj, char *out, size_t cap);

/* base + "/" + name + ":" + version, or "@sha256:..." for a digest
 * version. 0, or -1 with err when a part is invalid or it does not fit. */
int kdoc_image_ref(char *out, size_t cap, const char *base, const char *name, const char *version,
                   char *err, size_t errlen);

/* One-line change-cause: "deploy-api: USER (UID) WHAT from #CHANNEL
 * (CID)"; control characters become spaces, cut at a character boundary
 * to fit cap (at most KUBE_CAUSE_MAX). */
void kdoc_change_cause(char *out, size_t cap, const struct kube_actor *who, const char *what);

/* The strategic merge patch that sets container's image, the same image on
 * the ninit init containers named in inits (may be NULL when ninit is 0),
 * and the change-cause on the Deployment (kubectl set image with several
 * NAME=IMAGE). Returns its length, or -1 when it does not fit. */
long kdoc_set_image_patch(char *buf, size_t cap, const char *container, const char *image,
                          const char *const *inits, int ninit, const char *cause);

/* The deployment's spec.selector as a URL-encoded labelSelector value
 * ("app%3Dweb%2Ctier%3Dfront"). Returns its length, or -1. */
long kdoc_selector(const char *deploy, size_t len, char *out, size_t cap);

/* Human status of a Deployment: images, replicas, conditions, rollout
 * state. 0, or -1 on bad input. */
int kdoc_status_text(const char *deploy, size_t len, char *out, size_t cap);

/* The "message" of a Status object (or "" when json is not one). Returns
 * its length, or -1 when absent. */
long kdoc_status_message(const char *json, size_t len, char *out, size_t cap);

enum kdoc_event { KEV_BAD, KEV_OBJECT, KEV_DELETED, KEV_BOOKMARK, KEV_EXPIRED, KEV_ERROR };

/* Classify one watch event line; for KEV_OBJECT/KEV_DELETED/KEV_BOOKMARK,
 * *obj_off and *obj_len locate the object inside line. */
enum kdoc_event kdoc_watch_event(const char *line, size_t len, size_t *obj_off, size_t *obj_len);

/* metadata.resourceVersion of the object in json (a BOOKMARK) into rv;
 * its length, or -1 (rv untouched) when absent or malformed. */
long kdoc_resource_version(const char *json, size_t len, char *rv, size_t cap);

/* ---- shared with krs.c: JSON helpers over whole documents ---- */

#define JP_END ((const char *)NULL)
#define KDOC_CAUSE_KEY "kubernetes.io/change-cause"
#define KDOC_REV_KEY "deployment.kubernetes.io/revision"

/* Parse a document of any size (tokens malloc'd to fit, up to
 * KUBE_MAX_TOKENS). 0, or -1 with d empty. */
int kdoc_json_parse(struct json_doc *d, const char *s, size_t n);
void kdoc_json_free(struct json_doc *d);
/* String at tok into out; "" and -1 when absent (tok < 0) or not a fitting string. */
long kdoc_tok_str(const struct json_doc *d, int tok, char *out, size_t cap);
/* deployment.kubernetes.io/revision of the object at obj, or -1. */
long kdoc_revision(const struct json_doc *d, int obj);
/* "a, b" (or "n1=a, n2=b" with names) of the pod template's containers of
 * the object at obj, "(no containers)" when there are none. */
void kdoc_container_images(struct sb *b, const struct json_doc *d, int obj, int with_names);

#endif
