/* Kubernetes operations for one job: deploy (set image), follow the rollout
 * with kubectl's rules, status, history and rollback (kubectl rollout undo).
 * The flows do blocking I/O (kapi.h, rollout.h) and fill a kube_result; the
 * documents are read and built by the pure functions of kdoc.h and krs.h. */
#ifndef KUBE_H
#define KUBE_H

#include <stddef.h>

#include "httpc.h"
#include "kdoc.h"
#include "limits.h"

struct kapi_job;

/* A rollout still going, as told to kube_ui.progress. */
struct kube_progress {
    const char *msg;             /* kubectl rollout status's line ("Waiting for deployment ...") */
    const struct kdoc_counts *c; /* the replica counts */
    long long elapsed_ms;        /* since the job started */
    int due;                     /* 1 on the one call at progress_after_s (even without a change) */
    struct kapi_job *j;          /* for kpods_diagnose(j, ns, name, ...) from the callback */
    const char *ns, *name;
};

/* How a job talks back while it runs (worker.c: Slack; main.c: the CLI). */
struct kube_ui {
    int plain; /* 1: plain text (CLI), next steps as deploy-api commands; 0: Slack mrkdwn */
    /* Called while a followed rollout waits: each time kubectl's line (the
     * counts) changes, and once with due=1 when progress_after_s (> 0) have
     * passed since the job started. May do I/O; never called after the end. */
    void (*progress)(void *arg, const struct kube_progress *p);
    void *arg;
    int progress_after_s; /* PROGRESS_AFTER; <= 0: no due call */
    /* Called once by kube_deploy when the API took the change (or an
     * already-set image is still rolling out): the public "is deploying
     * 1.3 -> 1.4" (text without the user); NULL: not told. Refusals and
     * API errors come before it. */
    void (*announce)(void *announce_arg, const char *text);
    void *announce_arg;
};

struct kube_cfg {
    struct url api;         /* KUBE_API_URL parsed (http:// allowed for kubectl proxy) */
    char server_name[256];  /* name checked in the API server certificate */
    const char *token_file; /* read at the start of every operation; may be absent for http:// */
    const char *token;      /* a bearer token held in memory (kubeconfig, exec plugin; checked
                               there by kubeconfig_token_ok), used when token_file is NULL */
    const struct tls_client_cert *client_cert; /* TLS client authentication, or NULL */
    /* After a 401 with an in-memory token: a fresh token into tok (an exec
     * plugin run again, as client-go does); NULL when there is no way. */
    int (*refresh_token)(void *ctx, char *tok, size_t cap, char *err, size_t errlen);
    void *refresh_ctx;
    const struct tls_anchors *ca;
    const char *proxy, *no_proxy;
    int timeout_s;          /* per I/O operation (IO_TIMEOUT) */
    int rollout_timeout_s;  /* ROLLOUT_TIMEOUT; 0: progressDeadlineSeconds + margin, capped */
    const char *image_base; /* IMAGE_BASE allow-list of repository prefixes; NULL/"": any */
    int auto_rollback;      /* AUTO_ROLLBACK=1: a failed deploy is rolled back */
    int gitops_refuse;      /* GITOPS_MANAGED=refuse: no deploys to managed deployments */
    /* NULL: a bare operation (Slack text, no progress, no live-at record,
     * no diagnosis of a failed rollout): what the unit tests of the
     * flows script; the worker and the CLI always give one. */
    const struct kube_ui *ui;
    int output_json; /* status, history: res->text is JSON (kjson.h; CLI -o json) */
};

/* How a failed operation ended, for the emoji people see first. */
enum kube_outcome {
    KUBE_FAILED,   /* refused, API error or failed rollout */
    KUBE_DONE,     /* done (ok) */
    KUBE_REPLACED, /* a later change replaced it before it rolled out */
    KUBE_PENDING,  /* still rolling out at the deadline, or paused */
};

struct kube_result {
    int ok;
    char image[IMAGE_MAX];
    char text[4096]; /* human-readable result: Slack mrkdwn, NOT escaped for Slack (&, <, >) */
    char error[512]; /* short reason when !ok, for the audit line */
    long revision;   /* deployment revision reached (deploy/rollback) or current (status) */
    enum kube_outcome outcome;
    int announced; /* kube_deploy called ui->announce: the result goes to the channel */
    int mrkdwn;    /* 1: text is Slack mrkdwn already escaped (history's dates): post as is */
    int rollout;   /* enum rollout_result (metrics.h): how a followed rollout ended, 0 none */
};

/* The operations. Each returns 0 on success, -1 on failure, and fills res
 * either way (res->text always says what happened). ns and name must be
 * DNS-1123 names; version a tag or "sha256:<64 hex>". kube_deploy sets the
 * chosen container (container, or kdoc_choose's order when NULL or "")
 * and the init containers of the same repository to that repository with
 * the new version, in one PATCH; it follows the generation that PATCH
 * produced and reports the image the answer holds. */
int kube_deploy(const struct kube_cfg *k, const char *ns, const char *name, const char *version,
                const char *container, const struct kube_actor *who, struct kube_result *res);
int kube_status(const struct kube_cfg *k, const char *ns, const char *name,
                struct kube_result *res);
/* The newest want revisions (0: KUBE_HISTORY_DEFAULT; 1..KUBE_HISTORY_MAX),
 * ReplicaSets read page by page. */
int kube_history(const struct kube_cfg *k, const char *ns, const char *name, int want,
                 struct kube_result *res);
/* revision 0 rolls back to the previous revision, like kubectl rollout undo. */
int kube_rollback(const struct kube_cfg *k, const char *ns, const char *name, long revision,
                  const struct kube_actor *who, struct kube_result *res);

#endif
