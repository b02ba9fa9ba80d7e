/* Kubernetes Leases as the per-target lock across replicas. See lease.h. */
#include "lease.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "json.h"
#include "sb.h"
#include "slack.h"
#include "str.h"

#define LEASE_TOKENS 4096             /* JSON tokens of one Lease (managedFields, annotations) */
#define LEASE_ROUNDS 4                /* create/read/update rounds before giving up */
#define LEASE_DURATION_CAP 31536000LL /* s: a year; larger durations are read as this */
#define ANN_USER "deploy-api/user"
#define ANN_VERB "deploy-api/verb"
#define ANN_TARGET "deploy-api/target"

/* ---- pure pieces ---- */

static uint64_t fnv1a(const char *s, uint64_t h)
{
    for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

int lease_name(const char *ns, const char *name, char *out, size_t cap)
{
    if (cap < LEASE_NAME_MAX + 1) return -1;
    int n = snprintf(out, cap, "deploy-api.%s.%s", ns, name);
    if (n >= 0 && n <= LEASE_NAME_MAX) return 0;
    /* Too long: keep a readable head, end it on a letter or digit, and
     * make it unique with a hash of the whole target. */
    uint64_t h = fnv1a(name, fnv1a("/", fnv1a(ns, 14695981039346656037ULL)));
    size_t keep = LEASE_NAME_MAX - 17;
    while (keep > 0 && (out[keep - 1] == '.' || out[keep - 1] == '-')) keep--;
    snprintf(out + keep, cap - keep, "-%016llx", (unsigned long long)h);
    return 0;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's
 * days_from_civil). */
static long long days_from_civil(long long y, unsigned m, unsigned d)
{
    y -= m <= 2;
    long long era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (long long)doe - 719468;
}

int lease_time_fmt(long long ms, char *out, size_t cap)
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    if (ms < 0 || !gmtime_r(&t, &tm)) return -1;
    int n =
        snprintf(out, cap, "%04d-%02d-%02dT%02d:%02d:%02d.%06dZ", tm.tm_year + 1900, tm.tm_mon + 1,
                 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(ms % 1000) * 1000);
    return n < 0 || (size_t)n >= cap ? -1 : 0;
}

/* n decimal digits at s as a number; -1 when one is not a digit. */
static long digits(const char *s, int n)
{
    long v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

int lease_time_parse(const char *s, size_t n, long long *ms)
{
    static const char shape[] = "dddd-dd-ddTdd:dd:dd";
    if (n < 20) return -1;
    for (size_t i = 0; i < 19; i++)
        if (shape[i] == 'd' ? (s[i] < '0' || s[i] > '9') : s[i] != shape[i]) return -1;
    long y = digits(s, 4), mo = digits(s + 5, 2), d = digits(s + 8, 2);
    long h = digits(s + 11, 2), mi = digits(s + 14, 2), se = digits(s + 17, 2);
    if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || se > 60) return -1;
    size_t i = 19;
    long frac_ms = 0;
    if (s[i] == '.') {
        size_t f = ++i;
        while (i < n && s[i] >= '0' && s[i] <= '9' && i - f < 9) i++;
        if (i == f) return -1;
        for (size_t k = f; k < f + 3; k++) frac_ms = frac_ms * 10 + (k < i ? s[k] - '0' : 0);
    }
    long off = 0;
    if (i + 1 == n && (s[i] == 'Z' || s[i] == 'z')) {
        i++;
    } else if (i + 6 == n && (s[i] == '+' || s[i] == '-') && s[i + 3] == ':') {
        long oh = digits(s + i + 1, 2), om = digits(s + i + 4, 2);
        if (oh < 0 || om < 0 || oh > 23 || om > 59) return -1;
        off = (oh * 60 + om) * 60 * (s[i] == '-' ? -1 : 1);
        i += 6;
    } else {
        return -1; /* a zone is required */
    }
    if (i != n) return -1;
    long long secs =
        days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400 + h * 3600 + mi * 60 + se - off;
    *ms = secs * 1000 + frac_ms;
    return 0;
}

static void time_member(struct jw *w, const char *key, long long ms)
{
    char t[40];
    if (ms > 0 && lease_time_fmt(ms, t, sizeof t) == 0) jw_kstr(w, key, t);
}

long lease_json(char *out, size_t cap, const char *lns, const char *name,
                const struct lease_rec *rec)
{
    struct jw w;
    jw_init(&w, out, cap);
    jw_obj_begin(&w);
    jw_kstr(&w, "apiVersion", "coordination.k8s.io/v1");
    jw_kstr(&w, "kind", "Lease");
    jw_key(&w, "metadata");
    jw_obj_begin(&w);
    jw_kstr(&w, "name", name);
    jw_kstr(&w, "namespace", lns);
    if (rec->rv[0]) jw_kstr(&w, "resourceVersion", rec->rv);
    jw_key(&w, "labels");
    jw_obj_begin(&w);
    jw_kstr(&w, "app.kubernetes.io/managed-by", "deploy-api");
    jw_obj_end(&w);
    jw_key(&w, "annotations");
    jw_obj_begin(&w);
    jw_kstr(&w, ANN_USER, rec->user);
    jw_kstr(&w, ANN_VERB, rec->verb);
    jw_kstr(&w, ANN_TARGET, rec->target);
    jw_obj_end(&w);
    jw_obj_end(&w);
    jw_key(&w, "spec");
    jw_obj_begin(&w);
    jw_kstr(&w, "holderIdentity", rec->holder);
    jw_kint(&w, "leaseDurationSeconds", rec->duration_s);
    time_member(&w, "acquireTime", rec->acquire_ms);
    time_member(&w, "renewTime", rec->renew_ms);
    jw_kint(&w, "leaseTransitions", rec->transitions);
    jw_obj_end(&w);
    jw_obj_end(&w);
    return jw_finish(&w);
}

/* A string member into out: 0 when absent or null, -1 when not a string or
 * too long. */
static int str_member(const struct json_doc *d, int tok, char *out, size_t cap)
{
    out[0] = 0;
    if (tok < 0 || d->toks[tok].type == JSON_NULL) return 0;
    return json_str(d, tok, out, cap) < 0 ? -1 : 0;
}

static int time_read(const struct json_doc *d, int tok, long long *ms)
{
    *ms = 0;
    if (tok < 0 || d->toks[tok].type == JSON_NULL) return 0;
    if (d->toks[tok].type != JSON_STRING) return -1;
    const struct json_tok *t = &d->toks[tok];
    return lease_time_parse(d->src + t->start, t->end - t->start, ms);
}

static int lease_read(const struct json_doc *d, struct lease_rec *rec)
{
    int kind = json_get(d, 0, "kind");
    if (d->toks[0].type != JSON_OBJECT || (kind >= 0 && !json_eq(d, kind, "Lease"))) return -1;
    int ann = json_path(d, 0, "metadata", "annotations", JP_END);
    int spec = json_get(d, 0, "spec");
    if (str_member(d, json_path(d, 0, "metadata", "resourceVersion", JP_END), rec->rv,
                   sizeof rec->rv) < 0 ||
        (spec >= 0 && d->toks[spec].type != JSON_OBJECT) ||
        str_member(d, json_get(d, spec, "holderIdentity"), rec->holder, sizeof rec->holder) < 0 ||
        time_read(d, json_get(d, spec, "acquireTime"), &rec->acquire_ms) < 0 ||
        time_read(d, json_get(d, spec, "renewTime"), &rec->renew_ms) < 0)
        return -1;
    int dur = json_get(d, spec, "leaseDurationSeconds");
    int tr = json_get(d, spec, "leaseTransitions");
    if ((dur >= 0 && json_int(d, dur, &rec->duration_s) < 0) ||
        (tr >= 0 && json_int(d, tr, &rec->transitions) < 0))
        return -1;
    /* Our annotations are only for the message: an odd one is left out. */
    if (str_member(d, json_get(d, ann, ANN_USER), rec->user, sizeof rec->user) < 0)
        rec->user[0] = 0;
    if (str_member(d, json_get(d, ann, ANN_VERB), rec->verb, sizeof rec->verb) < 0)
        rec->verb[0] = 0;
    if (str_member(d, json_get(d, ann, ANN_TARGET), rec->target, sizeof rec->target) < 0)
        rec->target[0] = 0;
    return 0;
}

int lease_parse(const char *js, size_t n, struct lease_rec *rec)
{
    struct json_doc d;
    memset(rec, 0, sizeof *rec);
    struct json_tok *toks = malloc(LEASE_TOKENS * sizeof *toks);
    if (!toks) return -1;
    int r = json_parse(&d, js, n, toks, LEASE_TOKENS) < 0 ? -1 : lease_read(&d, rec);
    free(toks);
    if (r < 0) memset(rec, 0, sizeof *rec);
    return r;
}

enum lease_state lease_state(const struct lease_rec *r, const char *me, long long now_ms,
                             long long def_duration_s)
{
    if (!r->holder[0]) return LEASE_FREE;
    if (strcmp(r->holder, me) == 0) return LEASE_MINE;
    long long t = r->renew_ms ? r->renew_ms : r->acquire_ms;
    if (!t) return LEASE_EXPIRED;
    long long d = r->duration_s > 0 ? r->duration_s : def_duration_s;
    if (d > LEASE_DURATION_CAP) d = LEASE_DURATION_CAP;
    return now_ms >= t + d * 1000 ? LEASE_EXPIRED : LEASE_HELD;
}

void lease_busy_text(const struct lease_rec *r, const char *target, char *out, size_t cap)
{
    struct sb b;
    sb_init(&b, out, cap);
    sb_add(&b, "%s is already being deployed by ", target);
    if (r->user[0]) sb_add(&b, "@%s (", r->user);
    if (r->user[0] && r->verb[0] && strcmp(r->verb, "deploy") != 0) sb_add(&b, "%s, ", r->verb);
    sb_add(&b, "pod %s%s", r->holder, r->user[0] ? ")" : "");
    long long t = r->acquire_ms ? r->acquire_ms : r->renew_ms;
    time_t s = (time_t)(t / 1000);
    struct tm tm;
    if (t > 0 && gmtime_r(&s, &tm))
        sb_add(&b, " since %04d-%02d-%02d %02d:%02d:%02d UTC", tm.tm_year + 1900, tm.tm_mon + 1,
               tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
    sb_add(&b, "; try again when it is done.");
}

/* ---- I/O ---- */

static long long wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* .../apis/coordination.k8s.io/v1/namespaces/LNS/leases[/NAME][?...]. */
static int lease_path(char *out, size_t cap, const struct lease_hold *h, int with_name)
{
    const char *p = h->k.api.path;
    size_t n = strlen(p);
    while (n > 0 && p[n - 1] == '/') n--;
    int r = snprintf(out, cap, "%.*s/apis/coordination.k8s.io/v1/namespaces/%s/leases%s%s", (int)n,
                     p, h->c.lns, with_name ? "/" : "", with_name ? h->name : "");
    return r < 0 || (size_t)r >= cap ? -1 : 0;
}

enum lease_io { IO_OK, IO_CONFLICT, IO_GONE, IO_FAIL };

/* One request on our Lease; a 2xx answer parsed into got (when non-NULL).
 * IO_FAIL with msg for transport errors, other statuses and bad answers. */
static enum lease_io lease_call(struct lease_hold *h, const char *method, const char *body,
                                struct lease_rec *got, char *msg, size_t cap)
{
    char path[1024], err[600];
    struct httpc_resp r;
    const char *ct = body ? "Content-Type: application/json" : NULL;
    if (lease_path(path, sizeof path, h, strcmp(method, "POST") != 0) < 0) {
        snprintf(msg, cap, "request path too long");
        return IO_FAIL;
    }
    if (kapi_request(&h->j, method, path, ct, body, body ? strlen(body) : 0, &r, err, sizeof err) <
        0) {
        snprintf(msg, cap, "%s", err);
        return IO_FAIL;
    }
    enum lease_io io = IO_OK;
    if (r.status == 409) {
        io = IO_CONFLICT;
    } else if (r.status == 404) {
        io = IO_GONE;
    } else if (!kapi_is2xx(r.status)) {
        char m[512];
        if (!r.body || kdoc_status_message(r.body, r.len, m, sizeof m) <= 0)
            snprintf(m, sizeof m, "the API server answered");
        snprintf(msg, cap, "Lease %s/%s: %s (HTTP %d)", h->c.lns, h->name, m, r.status);
        io = IO_FAIL;
    } else if (got && (!r.body || lease_parse(r.body, r.len, got) < 0)) {
        snprintf(msg, cap, "Lease %s/%s: the API server sent a malformed Lease", h->c.lns, h->name);
        io = IO_FAIL;
    }
    kapi_free(&r);
    return io;
}

/* Create (rv "") or update our record; on success rec->rv is the new one. */
static enum lease_io lease_write(struct lease_hold *h, const char *method, char *msg, size_t cap)
{
    char body[2048];
    struct lease_rec got;
    if (lease_json(body, sizeof body, h->c.lns, h->name, &h->rec) < 0) {
        snprintf(msg, cap, "Lease %s/%s: too large", h->c.lns, h->name);
        return IO_FAIL;
    }
    enum lease_io io = lease_call(h, method, body, &got, msg, cap);
    if (io == IO_OK) memcpy(h->rec.rv, got.rv, sizeof got.rv);
    return io;
}

static void hold_init(struct lease_hold *h, const struct lease_cfg *c, const struct kube_cfg *k,
                      const struct job_spec *sp)
{
    struct kube_result scratch;
    memset(h, 0, sizeof *h);
    h->c = *c;
    h->k = *k;
    h->renew_fd = -1;
    kapi_init(&h->j, &h->k, &scratch);
    lease_name(sp->ns, sp->name, h->name, sizeof h->name);
    struct lease_rec *r = &h->rec;
    str_copy(r->holder, sizeof r->holder, c->me);
    str_copy(r->user, sizeof r->user, sp->user_name[0] ? sp->user_name : sp->user_id);
    str_copy(r->verb, sizeof r->verb, cmd_verb_str((enum cmd_verb)sp->verb));
    str_copy(r->target, sizeof r->target, sp->target);
    r->duration_s = c->duration_s;
}

enum lease_take lease_take(struct lease_hold *h, const struct lease_cfg *c,
                           const struct kube_cfg *k, const struct job_spec *sp, char *msg,
                           size_t cap)
{
    hold_init(h, c, k, sp);
    if (kapi_read_token(&h->j, msg, cap) < 0) return LEASE_ERROR;
    int create = 1;
    for (int round = 0; round < LEASE_ROUNDS; round++) {
        h->rec.acquire_ms = h->rec.renew_ms = wall_ms();
        enum lease_io io;
        if (create) {
            h->rec.rv[0] = 0;
            h->rec.transitions = 0;
            io = lease_write(h, "POST", msg, cap);
            h->held = io == IO_OK;
            if (io != IO_CONFLICT) return io == IO_OK ? LEASE_TAKEN : LEASE_ERROR;
        }
        struct lease_rec cur;
        io = lease_call(h, "GET", NULL, &cur, msg, cap);
        create = io == IO_GONE; /* released between our create and read */
        if (io == IO_GONE) continue;
        if (io != IO_OK) return LEASE_ERROR;
        if (lease_state(&cur, c->me, wall_ms(), c->duration_s) == LEASE_HELD) {
            lease_busy_text(&cur, sp->target, msg, cap);
            return LEASE_BUSY;
        }
        memcpy(h->rec.rv, cur.rv, sizeof cur.rv);
        h->rec.transitions = cur.transitions + (strcmp(cur.holder, c->me) != 0);
        io = lease_write(h, "PUT", msg, cap);
        h->held = io == IO_OK;
        if (io == IO_OK) return LEASE_TAKEN;
        if (io == IO_FAIL) return LEASE_ERROR;
        create = io == IO_GONE; /* IO_CONFLICT: someone else won; read again */
    }
    snprintf(msg, cap, "Lease %s/%s kept changing hands; try again", c->lns, h->name);
    return LEASE_ERROR;
}

#define RENEWER_LOST 2 /* the renewer's exit status when the Lease was taken over */

/* The renewer's life: renew every third of the duration until the job's
 * pipe closes, the Lease is lost (409: taken over, 404: deleted) or the
 * job's time is up. Other failures wait for the next round: the Lease
 * lives through two missed renewals. */
static void renewer(struct lease_hold *h, int fd)
{
    long long interval = (long long)h->c.duration_s * 1000 / 3, t0 = kapi_now_ms();
    long long end = t0 + (long long)h->c.max_s * 1000;
    char msg[600];
    while (kapi_now_ms() < end) {
        struct pollfd p = {fd, POLLIN, 0};
        int r = poll(&p, 1, (int)interval);
        if (r < 0 && errno == EINTR) continue;
        if (r != 0) _exit(0); /* the job closed its end or died */
        if (kapi_read_token(&h->j, msg, sizeof msg) < 0) continue;
        h->rec.renew_ms = wall_ms();
        enum lease_io io = lease_write(h, "PUT", msg, sizeof msg);
        if (io == IO_CONFLICT || io == IO_GONE) {
            fprintf(stderr, "deploy-api: Lease %s/%s was taken over or deleted; stopped renewing\n",
                    h->c.lns, h->name);
            _exit(RENEWER_LOST);
        }
    }
    _exit(0);
}

int lease_renew_start(struct lease_hold *h)
{
    int p[2];
    if (pipe(p) < 0) return -1;
    pid_t pid = fork();
    if (pid < 0) {
        close(p[0]);
        close(p[1]);
        return -1;
    }
    if (pid == 0) {
        close(p[1]);
        /* keep only the pipe: not the job's result pipe nor anything else */
        renewer(h, jobs_isolate_fd(p[0]));
    }
    close(p[0]);
    h->renewer = pid;
    h->renew_fd = p[1];
    return 0;
}

void lease_release(struct lease_hold *h)
{
    if (h->renewer > 0) {
        int st = 0;
        pid_t r = waitpid(h->renewer, &st, WNOHANG);
        if (r == 0) {
            /* It may be inside a PUT: the read below sees what it left. */
            kill(h->renewer, SIGKILL);
            while (waitpid(h->renewer, &st, 0) < 0 && errno == EINTR) {
            }
        }
        h->lost = r == h->renewer && WIFEXITED(st) && WEXITSTATUS(st) == RENEWER_LOST;
        h->renewer = 0;
        close(h->renew_fd);
        h->renew_fd = -1;
    }
    if (!h->held) return;
    h->held = 0;
    /* Hand it back with an update of the version we read (the Role allows
     * get, create and update only): a take-over in between wins with 409. */
    char msg[600];
    struct lease_rec cur;
    enum lease_io io = IO_FAIL;
    if (kapi_read_token(&h->j, msg, sizeof msg) == 0)
        io = lease_call(h, "GET", NULL, &cur, msg, sizeof msg);
    if (io == IO_GONE) h->lost = 1; /* deleted under us */
    if (io != IO_OK) return;
    if (strcmp(cur.holder, h->c.me) != 0) {
        h->lost = 1; /* someone else holds it now: theirs to keep */
        return;
    }
    memcpy(h->rec.rv, cur.rv, sizeof cur.rv);
    h->rec.holder[0] = h->rec.user[0] = h->rec.verb[0] = 0;
    h->rec.renew_ms = wall_ms();
    lease_write(h, "PUT", msg, sizeof msg);
}

int lease_job_begin(const struct config *cfg, const struct kube_cfg *k, const struct job_spec *sp,
                    struct lease_hold *h, struct kube_result *res)
{
    char msg[1024];
    memset(h, 0, sizeof *h);
    if (!sp->locks || !cfg->lease_namespace[0]) return 0;
    struct lease_cfg c = {cfg->lease_namespace, cfg->pod_name, cfg->lease_duration,
                          cfg->job_timeout};
    switch (lease_take(h, &c, k, sp, msg, sizeof msg)) {
    case LEASE_TAKEN:
        if (lease_renew_start(h) == 0) return 0;
        snprintf(msg, sizeof msg, "cannot start renewing Lease %s/%s", c.lns, h->name);
        break;
    case LEASE_BUSY:
        memset(res, 0, sizeof *res);
        sb_clean_copy(res->text, sizeof res->text, msg);
        snprintf(res->error, sizeof res->error, "locked by another replica");
        return -1;
    case LEASE_ERROR:
        break;
    }
    lease_release(h);
    kapi_fail(res, "cannot take the lock for %s: %s", sp->target, msg);
    return -1;
}

void lease_job_end(struct lease_hold *h, struct kube_result *res)
{
    lease_release(h);
    if (!h->lost) return;
    size_t n = strlen(res->text);
    snprintf(res->text + n, sizeof res->text - n,
             "\n(Note: the lock was taken over by another holder while this ran.)");
}
