/* Kubernetes API transport for one job. See kapi.h. */
#include "kapi.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "loop.h"
#include "sb.h"
#include "str.h"

/* ---- transport hooks: tests replace these ---- */

typedef int (*kapi_do_fn)(const struct httpc_opts *, const char *, const struct url *,
                          const char *const *, const char *, size_t, size_t, struct httpc_resp *,
                          char *, size_t);
typedef struct httpc_stream *(*kapi_open_fn)(const struct httpc_opts *, const char *,
                                             const struct url *, const char *const *, const char *,
                                             size_t, int *, char *, size_t);
typedef long (*kapi_readl_fn)(struct httpc_stream *, char *, size_t, int, char *, size_t);

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR) {
    }
}

static kapi_do_fn hook_do = httpc_do;
static kapi_open_fn hook_open = httpc_open;
static kapi_readl_fn hook_readl = httpc_read_line;
static void (*hook_close)(struct httpc_stream *) = httpc_close;
static void (*hook_free)(struct httpc_resp *) = httpc_resp_free;
static void (*hook_sleep_ms)(long) = sleep_ms;
static long long (*hook_now_ms)(void) = loop_clock_ms;

static int group_path(char *out, size_t cap, const struct url *api, const char *group,
                      const char *ns, const char *rest)
{
    size_t n = strlen(api->path);
    while (n > 0 && api->path[n - 1] == '/') n--;
    int r = snprintf(out, cap, "%.*s/%s/namespaces/%s/%s", (int)n, api->path, group, ns, rest);
    if (r < 0 || (size_t)r >= cap) {
        if (cap) out[0] = 0;
        return -1;
    }
    return 0;
}

int kapi_path(char *out, size_t cap, const struct url *api, const char *ns, const char *rest)
{
    return group_path(out, cap, api, "apis/apps/v1", ns, rest);
}

int kapi_core_path(char *out, size_t cap, const struct url *api, const char *ns, const char *rest)
{
    return group_path(out, cap, api, "api/v1", ns, rest);
}

int kapi_fail(struct kube_result *res, const char *fmt, ...)
{
    va_list ap;
    char tmp[1024];
    va_start(ap, fmt);
    vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    res->ok = 0;
    sb_clean_copy(res->error, sizeof res->error, tmp);
    sb_clean_copy(res->text, sizeof res->text, tmp);
    return -1;
}

int kapi_read_token(struct kapi_job *j, char *err, size_t errlen)
{
    const struct kube_cfg *k = j->k;
    char tok[KUBE_TOKEN_MAX + 1];
    size_t n = 0;
    int fd;
    j->auth[0] = 0;
    if (!k->token_file || !*k->token_file) {
        if (k->token) {
            char fresh[KUBE_TOKEN_MAX + 1];
            const char *t = k->token;
            if (j->authed && k->refresh_token) { /* after a 401: expired or revoked */
                if (k->refresh_token(k->refresh_ctx, fresh, sizeof fresh, err, errlen) < 0)
                    return -1;
                t = fresh;
            }
            j->authed = 1;
            snprintf(j->auth, sizeof j->auth, "Authorization: Bearer %s", t);
            memset(fresh, 0, sizeof fresh);
            return 0;
        }
        if (!k->api.https || k->client_cert) return 0; /* a proxy, or certificate auth */
        snprintf(err, errlen, "no token file configured");
        return -1;
    }
    fd = open(k->token_file, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (!k->api.https && errno == ENOENT) return 0;
        snprintf(err, errlen, "cannot read token file %s: %s", k->token_file, strerror(errno));
        return -1;
    }
    for (;;) {
        ssize_t r = read(fd, tok + n, sizeof tok - n);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) {
            snprintf(err, errlen, "cannot read token file %s: %s", k->token_file, strerror(errno));
            close(fd);
            return -1;
        }
        if (r == 0) break;
        n += (size_t)r;
        if (n == sizeof tok) {
            snprintf(err, errlen, "cannot read token file %s: larger than %d bytes", k->token_file,
                     KUBE_TOKEN_MAX);
            close(fd);
            return -1;
        }
    }
    close(fd);
    size_t a = 0;
    while (a < n && (tok[a] == ' ' || tok[a] == '\t' || tok[a] == '\r' || tok[a] == '\n')) a++;
    while (n > a &&
           (tok[n - 1] == ' ' || tok[n - 1] == '\t' || tok[n - 1] == '\r' || tok[n - 1] == '\n'))
        n--;
    if (n == a) {
        if (!k->api.https) return 0;
        snprintf(err, errlen, "cannot read token file %s: it is empty", k->token_file);
        return -1;
    }
    for (size_t i = a; i < n; i++) {
        if (tok[i] < 0x21 || tok[i] > 0x7e) {
            snprintf(err, errlen, "cannot read token file %s: invalid characters", k->token_file);
            return -1;
        }
    }
    snprintf(j->auth, sizeof j->auth, "Authorization: Bearer %.*s", (int)(n - a), tok + a);
    return 0;
}

void kapi_init(struct kapi_job *j, const struct kube_cfg *k, struct kube_result *res)
{
    memset(res, 0, sizeof *res);
    memset(j, 0, sizeof *j);
    j->k = k;
    j->o.anchors = k->ca;
    j->o.server_name = k->server_name[0] ? k->server_name : NULL;
    j->o.proxy = k->proxy;
    j->o.no_proxy = k->no_proxy;
    j->o.timeout_s = k->timeout_s > 0 ? k->timeout_s : IO_TIMEOUT;
    j->o.client_cert = k->client_cert;
    j->t0 = hook_now_ms();
}

static int set_path(struct kapi_job *j, struct url *u, const char *path, char *err, size_t errlen)
{
    *u = j->k->api;
    if (str_copy(u->path, sizeof u->path, path) < 0) {
        snprintf(err, errlen, "request path too long");
        return -1;
    }
    return 0;
}

static void headers(const struct kapi_job *j, const char *ctype, const char *h[6])
{
    int n = 0;
    h[n++] = "Accept: application/json";
    if (j->auth[0]) h[n++] = j->auth;
    if (ctype) h[n++] = ctype;
    h[n] = NULL;
}

/* ms to wait before retry number `tries` (1-based): the server's
 * Retry-After (capped), else 0.5 s, 1 s, 2 s. */
static long retry_wait_ms(long retry_after, int tries)
{
    if (retry_after > 0)
        return (retry_after > KUBE_RETRY_AFTER_MAX ? KUBE_RETRY_AFTER_MAX : retry_after) * 1000;
    return 500L << (tries - 1);
}

/* One request; a 401 re-reads the token once and retries. 429 (any
 * method; the server did nothing) and, for GET only, 5xx and an answer
 * that broke off are retried up to KUBE_API_RETRIES times. 0 with resp
 * filled (any status), -1 with err on transport or token errors. */
int kapi_request(struct kapi_job *j, const char *method, const char *path, const char *ctype,
                 const char *body, size_t blen, struct httpc_resp *resp, char *err, size_t errlen)
{
    struct url u;
    const char *h[6];
    char e[512];
    int get = strcmp(method, "GET") == 0, tries = 0, reauth = 0;
    if (set_path(j, &u, path, err, errlen) < 0) return -1;
    for (;;) {
        headers(j, ctype, h);
        memset(resp, 0, sizeof *resp);
        e[0] = 0;
        if (hook_do(&j->o, method, &u, h, body, blen, HTTPC_MAX_RESPONSE, resp, e, sizeof e) < 0) {
            /* client-go retries a GET whose answer broke off (connection reset,
             * EOF); refusals, timeouts and certificate problems are not
             * transient at a job's time scale. */
            if (get && tries < KUBE_API_RETRIES && httpc_err_broken(resp->error)) {
                tries++;
                hook_sleep_ms(retry_wait_ms(-1, tries));
                continue;
            }
            httpc_explain(resp->error, "the Kubernetes API", &u, e, err, errlen);
            return -1;
        }
        if (resp->status == 401 && !reauth && (j->k->token_file || j->k->refresh_token)) {
            reauth = 1;
            hook_free(resp);
            if (kapi_read_token(j, err, errlen) < 0) return -1;
            continue;
        }
        int st = resp->status;
        if ((st == 429 || (get && (st == 500 || st == 502 || st == 503 || st == 504))) &&
            tries < KUBE_API_RETRIES) {
            long ra = resp->retry_after;
            tries++;
            hook_free(resp);
            hook_sleep_ms(retry_wait_ms(ra, tries));
            continue;
        }
        return 0;
    }
}

int kapi_is2xx(int s)
{
    return s >= 200 && s < 300;
}

/* "what: MESSAGE (HTTP N)" from a non-2xx response. */
int kapi_status_fail(struct kube_result *res, const struct httpc_resp *r, const char *what)
{
    char msg[512];
    if (!r->body || kdoc_status_message(r->body, r->len, msg, sizeof msg) <= 0)
        snprintf(msg, sizeof msg, "the API server answered HTTP %d", r->status);
    return kapi_fail(res, "%s: %s (HTTP %d)", what, msg, r->status);
}

/* GET the deployment into r (2xx only); -1 with res filled otherwise. */
int kapi_get_deploy(struct kapi_job *j, const char *ns, const char *name, struct httpc_resp *r,
                    struct kube_result *res)
{
    char path[1024], err[600], rest[K8S_NAME_MAX + 16];
    snprintf(rest, sizeof rest, "deployments/%s", name);
    if (kapi_path(path, sizeof path, &j->k->api, ns, rest) < 0)
        return kapi_fail(res, "request path too long");
    if (kapi_request(j, "GET", path, NULL, NULL, 0, r, err, sizeof err) < 0)
        return kapi_fail(res, "%s", err);
    if (r->status == 404) {
        hook_free(r);
        kapi_fail(res, "deployment %s/%s not found", ns, name);
        return KAPI_NOT_FOUND;
    }
    if (!kapi_is2xx(r->status)) {
        char what[400];
        snprintf(what, sizeof what, "cannot read deployment %s/%s", ns, name);
        kapi_status_fail(res, r, what);
        hook_free(r);
        return -1;
    }
    if (!r->body) {
        hook_free(r);
        return kapi_fail(res, "empty answer for deployment %s/%s", ns, name);
    }
    return 0;
}

int kapi_get_deploy_checked(struct kapi_job *j, const char *ns, const char *name,
                            struct httpc_resp *r, struct kdeploy *kd, struct kube_result *res)
{
    for (int tries = 0;; tries++) {
        if (kapi_get_deploy(j, ns, name, r, res) < 0) return -1;
        if (kdoc_deploy_parse(r->body, r->len, kd) == 0 && kd->is_deployment) return 0;
        kdoc_deploy_free(kd);
        hook_free(r);
        if (tries >= KUBE_API_RETRIES)
            return kapi_fail(res, "the API server sent a malformed answer for deployment %s/%s", ns,
                             name);
        hook_sleep_ms(retry_wait_ms(-1, tries + 1));
    }
}

/* path + "limit=N" and, after the first page, "&continue=TOKEN". */
static int page_path(char *out, size_t cap, const char *path, int limit, const char *cont)
{
    struct sb b;
    sb_init(&b, out, cap);
    sb_add(&b, "%s%climit=%d", path, strchr(path, '?') ? '&' : '?', limit);
    if (cont[0]) {
        sb_add(&b, "&continue=");
        sb_urlenc(&b, cont);
    }
    return b.full ? -1 : 0;
}

int kapi_list_pages(struct kapi_job *j, const char *path, int limit, int max_pages, kapi_page_fn fn,
                    void *arg, const char *what, struct kube_result *res)
{
    char cont[KUBE_CONTINUE_MAX] = "", page[KUBE_CONTINUE_MAX * 3 + 4096], err[600];
    for (int n = 0;; n++) {
        struct httpc_resp r;
        if (n == max_pages)
            return kapi_fail(res, "%s: more than %d pages of %d", what, max_pages, limit);
        if (page_path(page, sizeof page, path, limit, cont) < 0)
            return kapi_fail(res, "request path too long");
        if (kapi_request(j, "GET", page, NULL, NULL, 0, &r, err, sizeof err) < 0)
            return kapi_fail(res, "%s", err);
        if (!kapi_is2xx(r.status) || !r.body) {
            kapi_status_fail(res, &r, what);
            hook_free(&r);
            return -1;
        }
        int ok = fn(arg, r.body, r.len, cont, sizeof cont);
        hook_free(&r);
        if (ok < 0) return kapi_fail(res, "%s: the API server sent a malformed page", what);
        if (!cont[0]) return 0;
    }
}

int kapi_list_rs_pages(struct kapi_job *j, const char *ns, const char *sel, kapi_page_fn fn,
                       void *arg, struct kube_result *res)
{
    char rest[4200], path[4800];
    snprintf(rest, sizeof rest, "replicasets%s%s", sel[0] ? "?labelSelector=" : "", sel);
    if (kapi_path(path, sizeof path, &j->k->api, ns, rest) < 0)
        return kapi_fail(res, "request path too long");
    return kapi_list_pages(j, path, KUBE_RS_PAGE, KUBE_MAX_PAGES, fn, arg,
                           "cannot list ReplicaSets", res);
}

struct httpc_stream *kapi_watch_open(struct kapi_job *j, const char *path, int *status, char *err,
                                     size_t errlen)
{
    struct url u;
    const char *h[6];
    if (set_path(j, &u, path, err, errlen) < 0) return NULL;
    for (int attempt = 0;; attempt++) {
        headers(j, NULL, h);
        struct httpc_stream *s = hook_open(&j->o, "GET", &u, h, NULL, 0, status, err, errlen);
        if (!s || *status != 401 || attempt > 0 || !(j->k->token_file || j->k->refresh_token))
            return s;
        hook_close(s);
        if (kapi_read_token(j, err, errlen) < 0) return NULL;
    }
}

long kapi_read_line(struct httpc_stream *s, char *buf, size_t cap, int timeout_s, char *err,
                    size_t errlen)
{
    return hook_readl(s, buf, cap, timeout_s, err, errlen);
}

void kapi_close(struct httpc_stream *s)
{
    hook_close(s);
}

void kapi_free(struct httpc_resp *r)
{
    hook_free(r);
}

void kapi_sleep_ms(long ms)
{
    hook_sleep_ms(ms);
}

long long kapi_now_ms(void)
{
    return hook_now_ms();
}
