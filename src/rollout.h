/* Following a Deployment's rollout the way kubectl rollout status does:
 * a watch from the last resourceVersion, a fresh GET after it ends or
 * expires (410), polling when watches cannot be used, until the rollout
 * is done or failed or ROLLOUT_TIMEOUT (from the job start) has passed. */
#ifndef ROLLOUT_H
#define ROLLOUT_H

#include <stddef.h>

#include "kapi.h"
#include "kdoc.h"

/* Where a followed rollout stands. */
struct rollout {
    enum kdoc_rollout st;
    struct kdoc_counts c;
    long rev;     /* last deployment revision seen, -1 if none */
    char rv[128]; /* resourceVersion to watch from, "" for now */
    char msg[512];
    char shown[512]; /* msg as last told to the progress callback */
    int due_done;    /* the PROGRESS_AFTER call was made */
    int gone;        /* FAILED because the deployment was deleted */
};

/* Take the state of the Deployment d into f (rv and rev only when d has them). */
void rollout_take(struct rollout *f, const struct kdeploy *d);
/* rollout_take of the Deployment JSON in js[0..n); ROLLOUT_ERROR with a
 * message when it is malformed. */
void rollout_eval(struct rollout *f, const char *js, size_t n);

/* Follow the rollout from start until done, failed, or the deadline; f is
 * reset first. A deployment that disappears (404) ends it as FAILED. While
 * it waits, j->k->ui's progress callback (if any) is called as kube.h says;
 * a watch is cut short at the PROGRESS_AFTER time so the due call comes on
 * time even when nothing changes. */
void rollout_follow(struct kapi_job *j, const char *ns, const char *name,
                    const struct kdeploy *start, struct rollout *f);

/* Fill res from the end of a follow: ok with "DONE_WHAT: u/d replicas
 * updated and available in Ns", else the failure, the timeout or the
 * unknown outcome after FAIL_WHAT. Returns 0 when done, -1 otherwise. */
int rollout_report(struct kapi_job *j, const struct rollout *f, struct kube_result *res,
                   const char *done_what, const char *fail_what);

#endif
