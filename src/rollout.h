/* Following a Deployment's rollout the way kubectl rollout status does:
 * a watch from the last resourceVersion, a fresh GET after it ends or
 * expires (410), polling when watches cannot be used, until the rollout
 * is done or failed or ROLLOUT_TIMEOUT (from the job start) has passed. */
#ifndef ROLLOUT_H
#define ROLLOUT_H

#include <stddef.h>

#include "kapi.h"
#include "kdoc.h"

/* What a follow is waiting for (rollout_follow's want; NULL or zeroed: any
 * generation, ROLLOUT_TIMEOUT or the derived timeout). */
struct rollout_want {
    long long gen;         /* the generation a PATCH produced; 0: any */
    char container[256];   /* with gen: the container whose image that change set */
    char image[IMAGE_MAX]; /* ... and that image; another one in a later generation: REPLACED */
    int timeout_s;         /* seconds from the job start; 0: kube_cfg.rollout_timeout_s */
};

/* Where a followed rollout stands. */
struct rollout {
    struct rollout_want want;
    enum kdoc_rollout st;
    struct kdoc_counts c;
    long rev;     /* last deployment revision seen, -1 if none */
    char rv[128]; /* resourceVersion to watch from, "" for now */
    char msg[512];
    char by[IMAGE_MAX]; /* REPLACED: the image that replaced want.image */
    char shown[512];    /* msg as last told to the progress callback */
    int due_done;       /* the PROGRESS_AFTER call was made */
    int gone;           /* FAILED because the deployment was deleted */
};

/* The seconds to follow d's rollout: ROLLOUT_TIMEOUT when set, else its
 * progressDeadlineSeconds (600 when absent) + ROLLOUT_MARGIN_S, at most
 * ROLLOUT_TIMEOUT_CAP. */
int rollout_timeout_for(const struct kube_cfg *k, const struct kdeploy *d);

/* Take the state of the Deployment d into f (rv and rev only when d has them). */
void rollout_take(struct rollout *f, const struct kdeploy *d);
/* rollout_take of the Deployment JSON in js[0..n); ROLLOUT_ERROR with a
 * message when it is malformed. */
void rollout_eval(struct rollout *f, const char *js, size_t n);

/* Follow the rollout from start until done, failed, replaced (want), or
 * the deadline; f is reset first, f->want is a copy of want (NULL: zeroed)
 * with its timeout filled in. A deployment that disappears (404) ends it
 * as FAILED. While it waits, j->k->ui's progress callback (if any) is
 * called as kube.h says; a watch is cut short at the PROGRESS_AFTER time
 * so the due call comes on time even when nothing changes. */
void rollout_follow(struct kapi_job *j, const char *ns, const char *name,
                    const struct kdeploy *start, const struct rollout_want *want,
                    struct rollout *f);

/* Fill res from the end of a follow: ok with "DONE_WHAT, now revision N: u/d
 * replicas updated and available in Ns", else "FAIL_WHAT failed (revision
 * N): why", "FAIL_WHAT was replaced by a later change (IMAGE) ...", the
 * timeout or the unknown outcome, with res->outcome set. Returns 0 when
 * done, -1 otherwise. */
int rollout_report(struct kapi_job *j, const struct rollout *f, struct kube_result *res,
                   const char *done_what, const char *fail_what);

#endif
