/* Kubernetes API transport for one job (a forked child): the bearer token
 * read afresh per job, request paths and headers, GET/PATCH with kubectl's
 * retries, the Deployment GET and the ReplicaSet list, and watch streams.
 * Blocking I/O through httpc; failures fill a kube_result for people. */
#ifndef KAPI_H
#define KAPI_H

#include <stddef.h>

#include "httpc.h"
#include "kdoc.h"
#include "kube.h"

/* One job's connection state; lives on the operation's stack. */
struct kapi_job {
    const struct kube_cfg *k;
    struct httpc_opts o;
    char auth[KUBE_TOKEN_MAX + 32]; /* "Authorization: Bearer ..." or "" */
    long long t0;                   /* job start (monotonic ms), for deadlines */
    int authed;                     /* a token was set once (a later read is after a 401) */
};

/* Zero res, set up j for k (k must outlive j) and note the start time. */
void kapi_init(struct kapi_job *j, const struct kube_cfg *k, struct kube_result *res);
/* Read the token file afresh (bound tokens rotate). A missing file is fine
 * only for http:// (kubectl proxy). With an in-memory token instead, a
 * second read (after a 401) asks k->refresh_token for a fresh one. 0, or
 * -1 with err. */
int kapi_read_token(struct kapi_job *j, char *err, size_t errlen);

/* API path (api's path prefix + "/apis/apps/v1/namespaces/NS/" + rest) in
 * out. 0, or -1 when it does not fit. */
int kapi_path(char *out, size_t cap, const struct url *api, const char *ns, const char *rest);

/* One request; a 401 re-reads the token once and retries. 429 (any
 * method; the server did nothing) and, for GET only, 5xx and an answer
 * that broke off (httpc_err_broken) are retried up to KUBE_API_RETRIES
 * times. 0 with resp filled (any status; free with kapi_free), -1 with err
 * on transport or token errors. ctype is a whole header line or NULL. */
int kapi_request(struct kapi_job *j, const char *method, const char *path, const char *ctype,
                 const char *body, size_t blen, struct httpc_resp *resp, char *err, size_t errlen);

#define KAPI_NOT_FOUND (-2) /* kapi_get_deploy: the API answered 404 */

/* GET the deployment into r (2xx with a body only; kapi_free it); -1 with
 * res filled otherwise, KAPI_NOT_FOUND (< 0 too) with "deployment NS/NAME
 * not found" on 404. */
int kapi_get_deploy(struct kapi_job *j, const char *ns, const char *name, struct httpc_resp *r,
                    struct kube_result *res);
/* kapi_get_deploy, and the body parsed once into kd (kdoc_deploy_free it);
 * a 2xx answer that is not a Deployment (garbage from a broken proxy or
 * server) is asked for again, up to KUBE_API_RETRIES times. */
int kapi_get_deploy_checked(struct kapi_job *j, const char *ns, const char *name,
                            struct httpc_resp *r, struct kdeploy *kd, struct kube_result *res);

/* Core API path (api's path prefix + "/api/v1/namespaces/NS/" + rest). */
int kapi_core_path(char *out, size_t cap, const struct url *api, const char *ns, const char *rest);

/* One page of a list: parse body[0..len), keep what is needed, set cont to
 * the page's metadata.continue ("" on the last page). 0, or -1 when the
 * page is malformed. */
typedef int (*kapi_page_fn)(void *arg, const char *body, size_t len, char *cont, size_t ccap);

/* GET the list at path (with or without a query) in pages of limit items
 * (limit/continue, as kubectl does), handing each page to fn and freeing it
 * before the next: a list of any size never sits in memory whole. At most
 * max_pages pages. 0, or -1 with res filled ("what: MESSAGE (HTTP N)", a
 * malformed page, or more than max_pages pages). */
int kapi_list_pages(struct kapi_job *j, const char *path, int limit, int max_pages, kapi_page_fn fn,
                    void *arg, const char *what, struct kube_result *res);
/* kapi_list_pages over the ReplicaSets matching sel (a URL-encoded
 * labelSelector value, "" for all) in pages of KUBE_RS_PAGE. */
int kapi_list_rs_pages(struct kapi_job *j, const char *ns, const char *sel, kapi_page_fn fn,
                       void *arg, struct kube_result *res);

/* GET path as a stream (a watch); a 401 re-reads the token once. The
 * stream with *status set (any status), or NULL with err. */
struct httpc_stream *kapi_watch_open(struct kapi_job *j, const char *path, int *status, char *err,
                                     size_t errlen);
/* httpc_read_line, httpc_close, httpc_resp_free, a sleep and the monotonic
 * clock, through the hooks the unit tests replace. */
long kapi_read_line(struct httpc_stream *s, char *buf, size_t cap, int timeout_s, char *err,
                    size_t errlen);
void kapi_close(struct httpc_stream *s);
void kapi_free(struct httpc_resp *r);
void kapi_sleep_ms(long ms);
long long kapi_now_ms(void);

/* 1 for 2xx. */
int kapi_is2xx(int s);
/* res not ok, its error and text the formatted message (control
 * characters made spaces). Returns -1. */
__attribute__((format(printf, 2, 3))) int kapi_fail(struct kube_result *res, const char *fmt, ...);
/* kapi_fail with "what: MESSAGE (HTTP N)" from a non-2xx response (its
 * Status message, else the HTTP status). Returns -1. */
int kapi_status_fail(struct kube_result *res, const struct httpc_resp *r, const char *what);

#endif
