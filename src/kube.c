/* Kubernetes operations for one job, matching what kubectl does: set image
 * (strategic merge patch), rollout status (watch, falling back to polling),
 * rollout history and rollout undo (JSON patch). */
#include "kube.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "json.h"
#include "loop.h"
#include "k8sname.h"
#include "str.h"

#define JP_END ((const char *)NULL)

static const char REV_KEY[] = "deployment.kubernetes.io/revision";
static const char CAUSE_KEY[] = "kubernetes.io/change-cause";
static const char HASH_KEY[] = "pod-template-hash";

/* Annotations kubectl rollout undo does not copy from the ReplicaSet
 * (rollback.go annotationsToSkip): the Deployment keeps its own values. */
static const char *const skip_annotations[] = {
    "kubectl.kubernetes.io/last-applied-configuration",
    "deployment.kubernetes.io/revision",
    "deployment.kubernetes.io/revision-history",
    "deployment.kubernetes.io/desired-replicas",
    "deployment.kubernetes.io/max-replicas",
    "deprecated.deployment.rollback.to",
};

/* ---- transport hooks: tests replace these ---- */

typedef int (*kube_do_fn)(const struct httpc_opts *, const char *, const struct url *,
                          const char *const *, const char *, size_t, size_t, struct httpc_resp *,
                          char *, size_t);
typedef struct httpc_stream *(*kube_open_fn)(const struct httpc_opts *, const char *,
                                             const struct url *, const char *const *, const char *,
                                             size_t, int *, char *, size_t);
typedef long (*kube_readl_fn)(struct httpc_stream *, char *, size_t, int, char *, size_t);

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR) {
    }
}

static kube_do_fn kube_do = httpc_do;
static kube_open_fn kube_open = httpc_open;
static kube_readl_fn kube_readl = httpc_read_line;
static void (*kube_close)(struct httpc_stream *) = httpc_close;
static void (*kube_free)(struct httpc_resp *) = httpc_resp_free;
static void (*kube_sleep_ms)(long) = sleep_ms;
static long long (*kube_now_ms)(void) = loop_clock_ms;

/* ---- small helpers ---- */

/* Text builder over a fixed buffer; on overflow it ends the text with
 * "..." at a UTF-8 boundary and ignores further appends. */
struct sb {
    char *p;
    size_t cap, len;
    int full;
};

static void sb_init(struct sb *b, char *p, size_t cap)
{
    b->p = p;
    b->cap = cap;
    b->len = 0;
    b->full = cap == 0;
    if (cap) p[0] = 0;
}

__attribute__((format(printf, 2, 3))) static void sb_add(struct sb *b, const char *fmt, ...)
{
    va_list ap;
    int n;
    if (b->full) return;
    va_start(ap, fmt);
    n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
    va_end(ap);
    if (n >= 0 && (size_t)n < b->cap - b->len) {
        b->len += (size_t)n;
        return;
    }
    b->full = 1;
    if (b->cap < 4) {
        b->p[0] = 0;
        b->len = 0;
        return;
    }
    size_t keep = b->cap - 4;
    while (keep > 0 && ((unsigned char)b->p[keep] & 0xC0) == 0x80) keep--;
    memcpy(b->p + keep, "...", 4);
    b->len = keep + 3;
}

/* Copy s into out replacing control characters by spaces, cut at a UTF-8
 * boundary to fit. */
static void clean_copy(char *out, size_t cap, const char *s)
{
    size_t n = 0;
    if (cap == 0) return;
    for (; s && *s && n + 1 < cap; s++, n++) {
        unsigned char c = (unsigned char)*s;
        out[n] = (c < 0x20 || c == 0x7f) ? ' ' : (char)c;
    }
    if (s && ((unsigned char)*s & 0xC0) == 0x80) { /* cut inside a character: drop its head */
        while (n > 0 && ((unsigned char)out[n - 1] & 0xC0) == 0x80) n--;
        if (n > 0 && (unsigned char)out[n - 1] >= 0xC0) n--;
    }
    out[n] = 0;
}

static int base_ok(const char *b, size_t n)
{
    if (n == 0) return 0;
    for (size_t i = 0; i < n; i++) {
        char c = b[i];
        int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                 c == '.' || c == '-' || c == '_' || c == '/' || c == ':';
        if (!ok) return 0;
    }
    return 1;
}

int kube_image_ref(char *out, size_t cap, const char *base, const char *name, const char *version,
                   char *err, size_t errlen)
{
    size_t bn;
    int n;
    if (cap) out[0] = 0;
    if (!base || !*base) {
        snprintf(err, errlen, "IMAGE_BASE is not set");
        return -1;
    }
    bn = strlen(base);
    while (bn > 0 && base[bn - 1] == '/') bn--;
    if (!base_ok(base, bn)) {
        snprintf(err, errlen, "IMAGE_BASE is not a valid registry prefix");
        return -1;
    }
    if (!name || !k8sname_name_ok(name, strlen(name))) {
        snprintf(err, errlen, "invalid deployment name");
        return -1;
    }
    if (!version || !k8sname_version_ok(version, strlen(version))) {
        snprintf(err, errlen, "invalid version (a tag or sha256:<64 hex>)");
        return -1;
    }
    n = snprintf(out, cap, "%.*s/%s%c%s", (int)bn, base, name,
                 strncmp(version, "sha256:", 7) == 0 ? '@' : ':', version);
    if (n < 0 || (size_t)n >= cap) {
        if (cap) out[0] = 0;
        snprintf(err, errlen, "image reference longer than %zu bytes", cap - 1);
        return -1;
    }
    return 0;
}

/* JSON documents of any size: tokens allocated to fit (a child may
 * allocate; it exits). */
static int doc_parse(struct json_doc *d, const char *s, size_t n)
{
    size_t cap = n / 2 + 4;
    struct json_tok *t;
    d->toks = NULL;
    d->ntoks = 0;
    if (s == NULL) return -1;
    if (cap > KUBE_MAX_TOKENS) cap = KUBE_MAX_TOKENS;
    t = malloc(cap * sizeof *t);
    if (t == NULL) return -1;
    if (json_parse(d, s, n, t, (int)cap) < 0) {
        free(t);
        d->toks = NULL;
        d->ntoks = 0;
        return -1;
    }
    return 0;
}

static void doc_free(struct json_doc *d)
{
    free(d->toks);
    d->toks = NULL;
}

/* String at tok into out; "" and -1 when absent or not a fitting string. */
static long tok_str(const struct json_doc *d, int tok, char *out, size_t cap)
{
    if (cap == 0) return -1;
    out[0] = 0;
    if (tok < 0 || d->toks[tok].type != JSON_STRING) return -1;
    return json_str(d, tok, out, cap);
}

static long long tok_ll(const struct json_doc *d, int tok, long long def)
{
    return tok < 0 ? def : json_int_or(d, tok, def);
}

/* deployment.kubernetes.io/revision of the object at obj, or -1. */
static long obj_revision(const struct json_doc *d, int obj)
{
    char b[32], *end;
    int t = json_path(d, obj, "metadata", "annotations", REV_KEY, JP_END);
    if (tok_str(d, t, b, sizeof b) <= 0) return -1;
    errno = 0;
    long long v = strtoll(b, &end, 10);
    if (*end || errno || v < 0 || v > 0x7fffffff || b[0] < '0' || b[0] > '9') return -1;
    return (long)v;
}

static int is_deployment(const struct json_doc *d, int obj)
{
    int kind = json_get(d, obj, "kind");
    if (obj < 0 || d->toks[obj].type != JSON_OBJECT) return 0;
    if (kind >= 0 && !json_eq(d, kind, "Deployment")) return 0;
    int spec = json_get(d, obj, "spec");
    int meta = json_get(d, obj, "metadata");
    return spec >= 0 && d->toks[spec].type == JSON_OBJECT && meta >= 0 &&
           d->toks[meta].type == JSON_OBJECT;
}

/* ---- rollout status (kubectl's DeploymentStatusViewer) ---- */

static enum kube_rollout rollout_doc(const struct json_doc *d, int obj, struct kube_counts *c,
                                     char *msg, size_t cap)
{
    struct kube_counts k;
    char name[K8S_NAME_MAX + 1];
    if (cap) msg[0] = 0;
    if (!is_deployment(d, obj)) {
        snprintf(msg, cap, "not a Deployment object");
        return ROLLOUT_ERROR;
    }
    tok_str(d, json_path(d, obj, "metadata", "name", JP_END), name, sizeof name);
    long long gen = tok_ll(d, json_path(d, obj, "metadata", "generation", JP_END), 0);
    int st = json_get(d, obj, "status");
    long long og = tok_ll(d, json_get(d, st, "observedGeneration"), 0);
    k.desired = tok_ll(d, json_path(d, obj, "spec", "replicas", JP_END), 1);
    k.replicas = tok_ll(d, json_get(d, st, "replicas"), 0);
    k.updated = tok_ll(d, json_get(d, st, "updatedReplicas"), 0);
    k.available = tok_ll(d, json_get(d, st, "availableReplicas"), 0);
    k.ready = tok_ll(d, json_get(d, st, "readyReplicas"), 0);
    if (c) *c = k;
    if (gen > og) {
        snprintf(msg, cap, "Waiting for deployment spec update to be observed...");
        return ROLLOUT_WAITING;
    }
    int conds = json_get(d, st, "conditions");
    for (int e = json_first(d, conds); e >= 0; e = json_next(d, e)) {
        if (!json_eq(d, json_get(d, e, "type"), "Progressing")) continue;
        if (json_eq(d, json_get(d, e, "reason"), "ProgressDeadlineExceeded")) {
            snprintf(msg, cap, "deployment \"%s\" exceeded its progress deadline", name);
            return ROLLOUT_FAILED;
        }
        break; /* kubectl looks at the first Progressing condition only */
    }
    if (k.updated < k.desired) {
        snprintf(msg, cap,
                 "Waiting for deployment \"%s\" rollout to finish: %lld out of %lld new replicas "
                 "have been updated...",
                 name, k.updated, k.desired);
        return ROLLOUT_WAITING;
    }
    if (k.replicas > k.updated) {
        snprintf(msg, cap,
                 "Waiting for deployment \"%s\" rollout to finish: %lld old replicas are pending "
                 "termination...",
                 name, k.replicas - k.updated);
        return ROLLOUT_WAITING;
    }
    if (k.available < k.updated) {
        snprintf(msg, cap,
                 "Waiting for deployment \"%s\" rollout to finish: %lld of %lld updated replicas "
                 "are available...",
                 name, k.available, k.updated);
        return ROLLOUT_WAITING;
    }
    snprintf(msg, cap, "deployment \"%s\" successfully rolled out", name);
    return ROLLOUT_DONE;
}

enum kube_rollout kube_rollout_state(const char *json, size_t len, struct kube_counts *c, char *msg,
                                     size_t msgcap)
{
    struct json_doc d;
    if (doc_parse(&d, json, len) < 0) {
        if (msgcap) snprintf(msg, msgcap, "malformed JSON");
        return ROLLOUT_ERROR;
    }
    enum kube_rollout r = rollout_doc(&d, 0, c, msg, msgcap);
    doc_free(&d);
    return r;
}

/* ---- container choice ---- */

static int choose_doc(const struct json_doc *d, int obj, const char *deployment, char *cname,
                      size_t ccap, char *image, size_t icap, char *err, size_t errlen)
{
    int cs = json_path(d, obj, "spec", "template", "spec", "containers", JP_END);
    int pick = -1, n = 0;
    if (ccap) cname[0] = 0;
    if (icap) image[0] = 0;
    if (cs < 0 || d->toks[cs].type != JSON_ARRAY || d->toks[cs].size == 0) {
        snprintf(err, errlen, "deployment %s has no containers", deployment);
        return -1;
    }
    for (int e = json_first(d, cs); e >= 0; e = json_next(d, e), n++)
        if (json_eq(d, json_get(d, e, "name"), deployment)) pick = e;
    if (pick < 0 && n == 1) pick = json_first(d, cs);
    if (pick < 0) {
        struct sb b;
        char nm[256];
        sb_init(&b, err, errlen);
        sb_add(&b, "deployment %s has %d containers and none is named %s: ", deployment, n,
               deployment);
        int i = 0;
        for (int e = json_first(d, cs); e >= 0; e = json_next(d, e), i++) {
            char cl[256];
            tok_str(d, json_get(d, e, "name"), nm, sizeof nm);
            clean_copy(cl, sizeof cl, nm);
            sb_add(&b, "%s%s", i ? ", " : "", cl);
        }
        return -1;
    }
    if (tok_str(d, json_get(d, pick, "name"), cname, ccap) <= 0) {
        snprintf(err, errlen, "deployment %s has a container without a valid name", deployment);
        return -1;
    }
    tok_str(d, json_get(d, pick, "image"), image, icap);
    return 0;
}

int kube_choose_container(const char *json, size_t len, const char *deployment, char *cname,
                          size_t ccap, char *image, size_t icap, char *err, size_t errlen)
{
    struct json_doc d;
    if (ccap) cname[0] = 0;
    if (icap) image[0] = 0;
    if (doc_parse(&d, json, len) < 0) {
        snprintf(err, errlen, "malformed Deployment JSON");
        return -1;
    }
    int r = choose_doc(&d, 0, deployment, cname, ccap, image, icap, err, errlen);
    doc_free(&d);
    return r;
}

/* ---- change-cause and patches ---- */

void kube_change_cause(char *out, size_t cap, const struct kube_actor *who, const char *what)
{
    char tmp[2048];
    struct sb b;
    const char *uid = who ? who->user_id : NULL, *uname = who ? who->user_name : NULL;
    const char *cid = who ? who->channel_id : NULL, *cname = who ? who->channel_name : NULL;
    sb_init(&b, tmp, sizeof tmp);
    sb_add(&b, "deploy-api: ");
    if (!uid && !uname) {
        const char *u = getenv("USER");
        if (u && *u)
            sb_add(&b, "%.64s (cli)", u);
        else
            sb_add(&b, "cli");
    } else if (uname && uid) {
        sb_add(&b, "%.96s (%.32s)", uname, uid);
    } else {
        sb_add(&b, "%.96s", uname ? uname : uid);
    }
    sb_add(&b, " %.1024s", what ? what : "changed");
    if (cname && cid)
        sb_add(&b, " from #%.96s (%.32s)", cname, cid);
    else if (cname || cid)
        sb_add(&b, " from %s%.96s", cname ? "#" : "", cname ? cname : cid);
    if (cap > KUBE_CAUSE_MAX) cap = KUBE_CAUSE_MAX;
    clean_copy(out, cap, tmp);
}

long kube_set_image_patch(char *buf, size_t cap, const char *container, const char *image,
                          const char *cause)
{
    struct jw w;
    jw_init(&w, buf, cap);
    jw_obj_begin(&w);
    if (cause && *cause) {
        jw_key(&w, "metadata");
        jw_obj_begin(&w);
        jw_key(&w, "annotations");
        jw_obj_begin(&w);
        jw_kstr(&w, CAUSE_KEY, cause);
        jw_obj_end(&w);
        jw_obj_end(&w);
    }
    jw_key(&w, "spec");
    jw_obj_begin(&w);
    jw_key(&w, "template");
    jw_obj_begin(&w);
    jw_key(&w, "spec");
    jw_obj_begin(&w);
    jw_key(&w, "containers");
    jw_arr_begin(&w);
    jw_obj_begin(&w);
    jw_kstr(&w, "name", container);
    jw_kstr(&w, "image", image);
    jw_obj_end(&w);
    jw_arr_end(&w);
    jw_obj_end(&w);
    jw_obj_end(&w);
    jw_obj_end(&w);
    jw_obj_end(&w);
    return jw_finish(&w);
}

/* Write the key token k as a key (unescaped, then escaped again by jw). */
static int emit_key(struct jw *w, const struct json_doc *d, int k)
{
    size_t n = d->toks[k].end - d->toks[k].start + 1;
    char *s = malloc(n);
    if (!s) return -1;
    if (json_str(d, k, s, n) < 0) {
        free(s);
        return -1;
    }
    jw_key(w, s);
    free(s);
    return 0;
}

/* Re-emit the value at t, leaving out the object member whose key token is
 * skipkey. Scalars are copied as they were. */
static int emit_value(struct jw *w, const struct json_doc *d, int t, int skipkey, int depth)
{
    const struct json_tok *k = &d->toks[t];
    if (depth > JW_MAX_DEPTH) return -1;
    switch (k->type) {
    case JSON_OBJECT:
        jw_obj_begin(w);
        for (int m = json_first(d, t); m >= 0; m = json_next(d, m)) {
            if (m == skipkey) continue;
            if (emit_key(w, d, m) < 0 || emit_value(w, d, m + 1, skipkey, depth + 1) < 0) return -1;
        }
        jw_obj_end(w);
        return 0;
    case JSON_ARRAY:
        jw_arr_begin(w);
        for (int e = json_first(d, t); e >= 0; e = json_next(d, e))
            if (emit_value(w, d, e, skipkey, depth + 1) < 0) return -1;
        jw_arr_end(w);
        return 0;
    case JSON_STRING:
        jw_raw(w, d->src + k->start - 1, k->end - k->start + 2);
        return 0;
    default:
        jw_raw(w, d->src + k->start, k->end - k->start);
        return 0;
    }
}

static int skipped_annotation(const struct json_doc *d, int key)
{
    for (size_t i = 0; i < sizeof skip_annotations / sizeof skip_annotations[0]; i++)
        if (json_eq(d, key, skip_annotations[i])) return 1;
    return 0;
}

/* The key token of template.metadata.labels["pod-template-hash"], or -1. */
static int hash_label_key(const struct json_doc *d, int tmpl)
{
    int v = json_get(d, json_path(d, tmpl, "metadata", "labels", JP_END), HASH_KEY);
    return v < 0 ? -1 : v - 1;
}

static long rollback_patch_doc(const struct json_doc *dd, int dobj, const struct json_doc *rd,
                               int robj, const char *cause, char *buf, size_t cap, char *err,
                               size_t errlen)
{
    struct jw w;
    int tmpl = json_path(rd, robj, "spec", "template", JP_END);
    if (tmpl < 0 || rd->toks[tmpl].type != JSON_OBJECT) {
        snprintf(err, errlen, "ReplicaSet has no pod template");
        return -1;
    }
    jw_init(&w, buf, cap);
    jw_arr_begin(&w);
    jw_obj_begin(&w);
    jw_kstr(&w, "op", "replace");
    jw_kstr(&w, "path", "/spec/template");
    jw_key(&w, "value");
    if (emit_value(&w, rd, tmpl, hash_label_key(rd, tmpl), 0) < 0) goto toolarge;
    jw_obj_end(&w);
    jw_obj_begin(&w);
    jw_kstr(&w, "op", "replace");
    jw_kstr(&w, "path", "/metadata/annotations");
    jw_key(&w, "value");
    jw_obj_begin(&w);
    int da = json_path(dd, dobj, "metadata", "annotations", JP_END);
    for (int k = json_first(dd, da); k >= 0; k = json_next(dd, k)) {
        if (!skipped_annotation(dd, k)) continue;
        if (emit_key(&w, dd, k) < 0 || emit_value(&w, dd, k + 1, -1, 0) < 0) goto toolarge;
    }
    int ra = json_path(rd, robj, "metadata", "annotations", JP_END);
    for (int k = json_first(rd, ra); k >= 0; k = json_next(rd, k)) {
        if (skipped_annotation(rd, k)) continue;
        if (cause && *cause && json_eq(rd, k, CAUSE_KEY)) continue;
        if (emit_key(&w, rd, k) < 0 || emit_value(&w, rd, k + 1, -1, 0) < 0) goto toolarge;
    }
    if (cause && *cause) jw_kstr(&w, CAUSE_KEY, cause);
    jw_obj_end(&w);
    jw_obj_end(&w);
    jw_arr_end(&w);
    long n = jw_finish(&w);
    if (n < 0) goto toolarge;
    return n;
toolarge:
    snprintf(err, errlen, "rollback patch does not fit in %zu bytes", cap);
    return -1;
}

long kube_rollback_patch(const char *deploy, size_t dlen, const char *rs, size_t rlen,
                         const char *cause, char *buf, size_t cap, char *err, size_t errlen)
{
    struct json_doc dd, rd;
    long n;
    if (doc_parse(&dd, deploy, dlen) < 0) {
        snprintf(err, errlen, "malformed Deployment JSON");
        return -1;
    }
    if (doc_parse(&rd, rs, rlen) < 0) {
        doc_free(&dd);
        snprintf(err, errlen, "malformed ReplicaSet JSON");
        return -1;
    }
    n = rollback_patch_doc(&dd, 0, &rd, 0, cause, buf, cap, err, errlen);
    doc_free(&rd);
    doc_free(&dd);
    return n;
}

/* ---- ReplicaSets: ownership, revisions, template equality ---- */

/* 1 when rs has an ownerReference with controller=true and uid. */
static int controlled_by(const struct json_doc *d, int rs, const char *uid)
{
    int refs = json_path(d, rs, "metadata", "ownerReferences", JP_END);
    if (!uid || !*uid) return 0;
    for (int e = json_first(d, refs); e >= 0; e = json_next(d, e)) {
        int c = json_get(d, e, "controller");
        if (c >= 0 && d->toks[c].type == JSON_TRUE && json_eq(d, json_get(d, e, "uid"), uid))
            return 1;
    }
    return 0;
}

struct rsrev {
    long rev;
    int tok;
};

static int rsrev_desc(const void *a, const void *b)
{
    long x = ((const struct rsrev *)a)->rev, y = ((const struct rsrev *)b)->rev;
    return x < y ? 1 : x > y ? -1 : 0;
}

/* The ReplicaSets of the list rl controlled by the Deployment (uid), with a
 * valid revision, sorted newest first. Returns the count (*out malloc'd) or
 * -1. */
static int owned_revisions(const struct json_doc *rl, const char *uid, struct rsrev **out)
{
    int items = json_get(rl, 0, "items");
    int n = 0;
    struct rsrev *v;
    *out = NULL;
    if (items < 0 || rl->toks[items].type != JSON_ARRAY) return -1;
    v = malloc(((size_t)rl->toks[items].size + 1) * sizeof *v);
    if (!v) return -1;
    for (int e = json_first(rl, items); e >= 0; e = json_next(rl, e)) {
        long r;
        if (!controlled_by(rl, e, uid) || (r = obj_revision(rl, e)) < 0) continue;
        v[n].rev = r;
        v[n].tok = e;
        n++;
    }
    qsort(v, (size_t)n, sizeof *v, rsrev_desc);
    *out = v;
    return n;
}

long kube_rollback_target(const char *deploy, size_t dlen, const char *rslist, size_t rlen,
                          long want, size_t *rs_off, size_t *rs_len, char *err, size_t errlen)
{
    struct json_doc dd, rl;
    struct rsrev *v = NULL;
    char uid[128], name[K8S_NAME_MAX + 1];
    long found = -1;
    int n, pick = -1;
    *rs_off = *rs_len = 0;
    if (want < 0) {
        snprintf(err, errlen, "revision %ld not found", want);
        return -1;
    }
    if (doc_parse(&dd, deploy, dlen) < 0) {
        snprintf(err, errlen, "malformed Deployment JSON");
        return -1;
    }
    if (doc_parse(&rl, rslist, rlen) < 0) {
        doc_free(&dd);
        snprintf(err, errlen, "malformed ReplicaSetList JSON");
        return -1;
    }
    tok_str(&dd, json_path(&dd, 0, "metadata", "uid", JP_END), uid, sizeof uid);
    tok_str(&dd, json_path(&dd, 0, "metadata", "name", JP_END), name, sizeof name);
    n = owned_revisions(&rl, uid, &v);
    if (n < 0) {
        snprintf(err, errlen, "malformed ReplicaSetList JSON");
        goto out;
    }
    if (want == 0) {
        /* kubectl: the second newest revision among the ReplicaSets */
        if (n >= 2) pick = 1;
        if (pick < 0) {
            snprintf(err, errlen, "no rollout history found for deployment \"%s\"", name);
            goto out;
        }
    } else {
        for (int i = 0; i < n; i++)
            if (v[i].rev == want) pick = i;
        if (pick < 0) {
            struct sb b;
            sb_init(&b, err, errlen);
            sb_add(&b, "revision %ld not found; available: ", want);
            for (int i = 0; i < n; i++) sb_add(&b, "%s%ld", i ? ", " : "", v[i].rev);
            if (n == 0) sb_add(&b, "none");
            goto out;
        }
    }
    found = v[pick].rev;
    *rs_off = rl.toks[v[pick].tok].start;
    *rs_len = rl.toks[v[pick].tok].end - rl.toks[v[pick].tok].start;
out:
    free(v);
    doc_free(&rl);
    doc_free(&dd);
    return found;
}

static int raw_eq(const struct json_doc *a, int ta, const struct json_doc *b, int tb)
{
    size_t na = a->toks[ta].end - a->toks[ta].start, nb = b->toks[tb].end - b->toks[tb].start;
    return na == nb && memcmp(a->src + a->toks[ta].start, b->src + b->toks[tb].start, na) == 0;
}

/* Deep equality (object members in any order), ignoring the member whose key
 * token is skipa in a and skipb in b. Strings compare by their raw bytes:
 * both sides come from the same API server's encoder. */
static int json_same(const struct json_doc *a, int ta, int skipa, const struct json_doc *b, int tb,
                     int skipb, int depth)
{
    const struct json_tok *x = &a->toks[ta], *y = &b->toks[tb];
    if (depth > 64 || x->type != y->type) return 0;
    if (x->type == JSON_ARRAY) {
        if (x->size != y->size) return 0;
        for (int i = json_first(a, ta), j = json_first(b, tb); i >= 0 && j >= 0;
             i = json_next(a, i), j = json_next(b, j))
            if (!json_same(a, i, skipa, b, j, skipb, depth + 1)) return 0;
        return 1;
    }
    if (x->type == JSON_OBJECT) {
        int na = 0, nb = 0;
        for (int k = json_first(a, ta); k >= 0; k = json_next(a, k)) na += k != skipa;
        for (int k = json_first(b, tb); k >= 0; k = json_next(b, k)) nb += k != skipb;
        if (na != nb) return 0;
        for (int k = json_first(a, ta); k >= 0; k = json_next(a, k)) {
            int m;
            if (k == skipa) continue;
            for (m = json_first(b, tb); m >= 0; m = json_next(b, m))
                if (m != skipb && raw_eq(a, k, b, m)) break;
            if (m < 0 || !json_same(a, k + 1, skipa, b, m + 1, skipb, depth + 1)) return 0;
        }
        return 1;
    }
    return raw_eq(a, ta, b, tb);
}

static int template_same(const struct json_doc *dd, int dobj, const struct json_doc *rd, int robj)
{
    int ta = json_path(dd, dobj, "spec", "template", JP_END);
    int tb = json_path(rd, robj, "spec", "template", JP_END);
    if (ta < 0 || tb < 0) return -1;
    return json_same(dd, ta, hash_label_key(dd, ta), rd, tb, hash_label_key(rd, tb), 0);
}

int kube_template_matches(const char *deploy, size_t dlen, const char *rs, size_t rlen)
{
    struct json_doc dd, rd;
    int r;
    if (doc_parse(&dd, deploy, dlen) < 0) return -1;
    if (doc_parse(&rd, rs, rlen) < 0) {
        doc_free(&dd);
        return -1;
    }
    r = template_same(&dd, 0, &rd, 0);
    doc_free(&rd);
    doc_free(&dd);
    return r;
}

/* ---- selector and paths ---- */

static int unreserved(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '.' || c == '_' || c == '~';
}

/* Percent-encode s onto b. */
static void sb_urlenc(struct sb *b, const char *s)
{
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (unreserved(c))
            sb_add(b, "%c", c);
        else
            sb_add(b, "%%%02X", c);
    }
}

long kube_selector(const char *deploy, size_t len, char *out, size_t cap)
{
    struct json_doc d;
    char plain[8192], k[512], v[512];
    struct sb p, o;
    int n = 0, ok = 1;
    if (cap) out[0] = 0;
    if (doc_parse(&d, deploy, len) < 0) return -1;
    int sel = json_path(&d, 0, "spec", "selector", JP_END);
    sb_init(&p, plain, sizeof plain);
    int ml = json_get(&d, sel, "matchLabels");
    for (int m = json_first(&d, ml); m >= 0; m = json_next(&d, m), n++) {
        if (tok_str(&d, m, k, sizeof k) < 0 || tok_str(&d, m + 1, v, sizeof v) < 0) ok = 0;
        sb_add(&p, "%s%s=%s", n ? "," : "", k, v);
    }
    int me = json_get(&d, sel, "matchExpressions");
    for (int e = json_first(&d, me); e >= 0; e = json_next(&d, e), n++) {
        int op = json_get(&d, e, "operator");
        if (tok_str(&d, json_get(&d, e, "key"), k, sizeof k) <= 0) ok = 0;
        sb_add(&p, "%s", n ? "," : "");
        if (json_eq(&d, op, "In") || json_eq(&d, op, "NotIn")) {
            sb_add(&p, "%s %s (", k, json_eq(&d, op, "In") ? "in" : "notin");
            int i = 0;
            for (int x = json_first(&d, json_get(&d, e, "values")); x >= 0;
                 x = json_next(&d, x), i++) {
                if (tok_str(&d, x, v, sizeof v) < 0) ok = 0;
                sb_add(&p, "%s%s", i ? "," : "", v);
            }
            sb_add(&p, ")");
        } else if (json_eq(&d, op, "Exists")) {
            sb_add(&p, "%s", k);
        } else if (json_eq(&d, op, "DoesNotExist")) {
            sb_add(&p, "!%s", k);
        } else {
            ok = 0;
        }
    }
    doc_free(&d);
    if (!ok || p.full) return -1;
    sb_init(&o, out, cap);
    sb_urlenc(&o, plain);
    if (o.full) {
        if (cap) out[0] = 0;
        return -1;
    }
    return (long)o.len;
}

int kube_api_path(char *out, size_t cap, const struct url *api, const char *ns, const char *rest)
{
    size_t n = strlen(api->path);
    while (n > 0 && api->path[n - 1] == '/') n--;
    int r = snprintf(out, cap, "%.*s/apis/apps/v1/namespaces/%s/%s", (int)n, api->path, ns, rest);
    if (r < 0 || (size_t)r >= cap) {
        if (cap) out[0] = 0;
        return -1;
    }
    return 0;
}

/* ---- texts ---- */

static void container_images(struct sb *b, const struct json_doc *d, int obj, int with_names)
{
    int cs = json_path(d, obj, "spec", "template", "spec", "containers", JP_END);
    char nm[256], im[IMAGE_MAX], cl[IMAGE_MAX];
    int i = 0;
    for (int e = json_first(d, cs); e >= 0; e = json_next(d, e), i++) {
        tok_str(d, json_get(d, e, "name"), nm, sizeof nm);
        tok_str(d, json_get(d, e, "image"), im, sizeof im);
        sb_add(b, "%s", i ? ", " : "");
        if (with_names) {
            clean_copy(cl, sizeof cl, nm);
            sb_add(b, "%s=", cl);
        }
        clean_copy(cl, sizeof cl, im);
        sb_add(b, "%s", cl);
    }
    if (i == 0) sb_add(b, "(no containers)");
}

int kube_history_text(const char *deploy, size_t dlen, const char *rslist, size_t rlen, char *out,
                      size_t cap)
{
    struct json_doc dd, rl;
    struct rsrev *v = NULL;
    char uid[128], name[K8S_NAME_MAX + 1], ns[K8S_NS_MAX + 1], ts[64], cause[1024], cl[1024];
    struct sb b;
    int n;
    sb_init(&b, out, cap);
    if (doc_parse(&dd, deploy, dlen) < 0) return -1;
    if (doc_parse(&rl, rslist, rlen) < 0) {
        doc_free(&dd);
        return -1;
    }
    tok_str(&dd, json_path(&dd, 0, "metadata", "uid", JP_END), uid, sizeof uid);
    tok_str(&dd, json_path(&dd, 0, "metadata", "name", JP_END), name, sizeof name);
    tok_str(&dd, json_path(&dd, 0, "metadata", "namespace", JP_END), ns, sizeof ns);
    n = owned_revisions(&rl, uid, &v);
    if (n < 0) goto out;
    long current = obj_revision(&dd, 0);
    if (current < 0 && n > 0) current = v[0].rev;
    if (n == 0) {
        sb_add(&b, "*%s/%s*: no rollout history", ns, name);
        goto out;
    }
    sb_add(&b, "*%s/%s* revisions, newest first:", ns, name);
    for (int i = 0; i < n; i++) {
        int rs = v[i].tok;
        tok_str(&rl, json_path(&rl, rs, "metadata", "creationTimestamp", JP_END), ts, sizeof ts);
        clean_copy(cl, sizeof cl, ts);
        sb_add(&b, "\n%ld%s  %s  ", v[i].rev, v[i].rev == current ? " (current)" : "",
               cl[0] ? cl : "-");
        container_images(&b, &rl, rs, 0);
        if (tok_str(&rl, json_path(&rl, rs, "metadata", "annotations", CAUSE_KEY, JP_END), cause,
                    sizeof cause) > 0) {
            clean_copy(cl, sizeof cl, cause);
            sb_add(&b, "  %s", cl);
        } else {
            sb_add(&b, "  <none>");
        }
    }
out:
    free(v);
    doc_free(&rl);
    doc_free(&dd);
    return n;
}

int kube_status_text(const char *deploy, size_t len, char *out, size_t cap)
{
    struct json_doc d;
    struct kube_counts c;
    char name[K8S_NAME_MAX + 1], ns[K8S_NS_MAX + 1], msg[512], s[256], cl[256];
    struct sb b;
    sb_init(&b, out, cap);
    if (doc_parse(&d, deploy, len) < 0) return -1;
    if (!is_deployment(&d, 0)) {
        doc_free(&d);
        return -1;
    }
    tok_str(&d, json_path(&d, 0, "metadata", "name", JP_END), name, sizeof name);
    tok_str(&d, json_path(&d, 0, "metadata", "namespace", JP_END), ns, sizeof ns);
    enum kube_rollout st = rollout_doc(&d, 0, &c, msg, sizeof msg);
    sb_add(&b, "*%s/%s*: %s", ns, name, msg);
    long rev = obj_revision(&d, 0);
    if (rev >= 0) sb_add(&b, "\nrevision: %ld", rev);
    int paused = json_path(&d, 0, "spec", "paused", JP_END);
    if (paused >= 0 && d.toks[paused].type == JSON_TRUE) sb_add(&b, "\npaused: true");
    sb_add(&b, "\nimages: ");
    container_images(&b, &d, 0, 1);
    sb_add(&b, "\nreplicas: %lld desired, %lld updated, %lld available, %lld ready, %lld total",
           c.desired, c.updated, c.available, c.ready, c.replicas);
    int conds = json_path(&d, 0, "status", "conditions", JP_END);
    int i = 0;
    for (int e = json_first(&d, conds); e >= 0; e = json_next(&d, e), i++) {
        sb_add(&b, "%s", i ? ", " : "\nconditions: ");
        tok_str(&d, json_get(&d, e, "type"), s, sizeof s);
        clean_copy(cl, sizeof cl, s);
        sb_add(&b, "%s=", cl);
        tok_str(&d, json_get(&d, e, "status"), s, sizeof s);
        clean_copy(cl, sizeof cl, s);
        sb_add(&b, "%s", cl);
        if (tok_str(&d, json_get(&d, e, "reason"), s, sizeof s) > 0) {
            clean_copy(cl, sizeof cl, s);
            sb_add(&b, " (%s)", cl);
        }
    }
    (void)st;
    doc_free(&d);
    return 0;
}

long kube_status_message(const char *json, size_t len, char *out, size_t cap)
{
    struct json_doc d;
    char tmp[1024];
    long n = -1;
    if (cap) out[0] = 0;
    if (doc_parse(&d, json, len) < 0) return -1;
    if (json_eq(&d, json_get(&d, 0, "kind"), "Status") &&
        tok_str(&d, json_get(&d, 0, "message"), tmp, sizeof tmp) > 0) {
        clean_copy(out, cap, tmp);
        n = (long)strlen(out);
    }
    doc_free(&d);
    return n;
}

enum kube_event kube_watch_event(const char *line, size_t len, size_t *obj_off, size_t *obj_len)
{
    struct json_doc d;
    enum kube_event ev = KEV_BAD;
    *obj_off = *obj_len = 0;
    if (doc_parse(&d, line, len) < 0) return KEV_BAD;
    int type = json_get(&d, 0, "type");
    int obj = json_get(&d, 0, "object");
    if (type < 0 || obj < 0 || d.toks[obj].type != JSON_OBJECT) goto out;
    *obj_off = d.toks[obj].start;
    *obj_len = d.toks[obj].end - d.toks[obj].start;
    if (json_eq(&d, type, "ADDED") || json_eq(&d, type, "MODIFIED"))
        ev = KEV_OBJECT;
    else if (json_eq(&d, type, "DELETED"))
        ev = KEV_DELETED;
    else if (json_eq(&d, type, "BOOKMARK"))
        ev = KEV_BOOKMARK;
    else if (json_eq(&d, type, "ERROR"))
        ev = tok_ll(&d, json_get(&d, obj, "code"), 0) == 410 ? KEV_EXPIRED : KEV_ERROR;
out:
    if (ev == KEV_BAD) *obj_off = *obj_len = 0;
    doc_free(&d);
    return ev;
}

/* ---- I/O: one job's connection state ---- */

struct kjob {
    const struct kube_cfg *k;
    struct httpc_opts o;
    char auth[KUBE_TOKEN_MAX + 32]; /* "Authorization: Bearer ..." or "" */
    long long t0;
};

__attribute__((format(printf, 2, 3))) static int kfail(struct kube_result *res, const char *fmt,
                                                       ...)
{
    va_list ap;
    char tmp[1024];
    va_start(ap, fmt);
    vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    res->ok = 0;
    clean_copy(res->error, sizeof res->error, tmp);
    clean_copy(res->text, sizeof res->text, tmp);
    return -1;
}

/* Read the token file afresh (bound tokens rotate). A missing file is fine
 * only for http:// (kubectl proxy). */
static int read_token(struct kjob *j, char *err, size_t errlen)
{
    const struct kube_cfg *k = j->k;
    char tok[KUBE_TOKEN_MAX + 1];
    size_t n = 0;
    int fd;
    j->auth[0] = 0;
    if (!k->token_file || !*k->token_file) {
        if (!k->api.https) return 0;
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

static void kjob_init(struct kjob *j, const struct kube_cfg *k, struct kube_result *res)
{
    memset(res, 0, sizeof *res);
    memset(j, 0, sizeof *j);
    j->k = k;
    j->o.anchors = k->ca;
    j->o.server_name = k->server_name[0] ? k->server_name : NULL;
    j->o.proxy = k->proxy;
    j->o.no_proxy = k->no_proxy;
    j->o.timeout_s = k->timeout_s > 0 ? k->timeout_s : IO_TIMEOUT;
    j->t0 = kube_now_ms();
}

static int set_path(struct kjob *j, struct url *u, const char *path, char *err, size_t errlen)
{
    *u = j->k->api;
    if (str_copy(u->path, sizeof u->path, path) < 0) {
        snprintf(err, errlen, "request path too long");
        return -1;
    }
    return 0;
}

static void headers(const struct kjob *j, const char *ctype, const char *h[6])
{
    int n = 0;
    h[n++] = "Accept: application/json";
    if (j->auth[0]) h[n++] = j->auth;
    if (ctype) h[n++] = ctype;
    h[n] = NULL;
}

/* A transport error worth another GET: the answer broke off part-way
 * (client-go retries GETs on connection reset and EOF). Refusals, timeouts
 * and certificate problems are not transient at a job's time scale. The
 * words are httpc's and tls's error texts. */
/* httpc's words for an answer that broke off (its header promises them). */
static int broken_answer(const char *e)
{
    return strstr(e, "reset") || strstr(e, "truncated") || strstr(e, "closed") ||
           strstr(e, "malformed");
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
static int kreq(struct kjob *j, const char *method, const char *path, const char *ctype,
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
        if (kube_do(&j->o, method, &u, h, body, blen, HTTPC_MAX_RESPONSE, resp, e, sizeof e) < 0) {
            if (get && tries < KUBE_API_RETRIES && broken_answer(e)) {
                tries++;
                kube_sleep_ms(retry_wait_ms(-1, tries));
                continue;
            }
            snprintf(err, errlen, "cannot reach the Kubernetes API at %.255s: %.300s",
                     j->k->api.host, e);
            return -1;
        }
        if (resp->status == 401 && !reauth && j->k->token_file) {
            reauth = 1;
            kube_free(resp);
            if (read_token(j, err, errlen) < 0) return -1;
            continue;
        }
        int st = resp->status;
        if ((st == 429 || (get && (st == 500 || st == 502 || st == 503 || st == 504))) &&
            tries < KUBE_API_RETRIES) {
            long ra = resp->retry_after;
            tries++;
            kube_free(resp);
            kube_sleep_ms(retry_wait_ms(ra, tries));
            continue;
        }
        return 0;
    }
}

static int is2xx(int s)
{
    return s >= 200 && s < 300;
}

/* "what: MESSAGE (HTTP N)" from a non-2xx response. */
static int api_fail(struct kube_result *res, const struct httpc_resp *r, const char *what)
{
    char msg[512];
    if (!r->body || kube_status_message(r->body, r->len, msg, sizeof msg) <= 0)
        snprintf(msg, sizeof msg, "the API server answered HTTP %d", r->status);
    return kfail(res, "%s: %s (HTTP %d)", what, msg, r->status);
}

/* GET the deployment into r (2xx only); -1 with res filled otherwise. */
static int get_deploy(struct kjob *j, const char *ns, const char *name, struct httpc_resp *r,
                      struct kube_result *res)
{
    char path[1024], err[600], rest[K8S_NAME_MAX + 16];
    snprintf(rest, sizeof rest, "deployments/%s", name);
    if (kube_api_path(path, sizeof path, &j->k->api, ns, rest) < 0)
        return kfail(res, "request path too long");
    if (kreq(j, "GET", path, NULL, NULL, 0, r, err, sizeof err) < 0) return kfail(res, "%s", err);
    if (r->status == 404) {
        kube_free(r);
        return kfail(res, "deployment %s/%s not found", ns, name);
    }
    if (!is2xx(r->status)) {
        char what[400];
        snprintf(what, sizeof what, "cannot read deployment %s/%s", ns, name);
        api_fail(res, r, what);
        kube_free(r);
        return -1;
    }
    if (!r->body) {
        kube_free(r);
        return kfail(res, "empty answer for deployment %s/%s", ns, name);
    }
    return 0;
}

/* get_deploy, and a 2xx answer that is not a Deployment (garbage from a
 * broken proxy or server) is asked for again, up to KUBE_API_RETRIES times. */
static int get_deploy_checked(struct kjob *j, const char *ns, const char *name,
                              struct httpc_resp *r, struct kube_result *res)
{
    for (int tries = 0;; tries++) {
        if (get_deploy(j, ns, name, r, res) < 0) return -1;
        struct json_doc d;
        int ok = doc_parse(&d, r->body, r->len) == 0;
        if (ok) {
            ok = is_deployment(&d, 0);
            doc_free(&d);
        }
        if (ok) return 0;
        kube_free(r);
        if (tries >= KUBE_API_RETRIES)
            return kfail(res, "the API server sent a malformed answer for deployment %s/%s", ns,
                         name);
        kube_sleep_ms(retry_wait_ms(-1, tries + 1));
    }
}

/* GET the ReplicaSets matching the deployment's selector into r. */
static int list_rs(struct kjob *j, const char *ns, const struct httpc_resp *dep,
                   struct httpc_resp *r, struct kube_result *res)
{
    char sel[4096], rest[4200], path[4800], err[600];
    if (kube_selector(dep->body, dep->len, sel, sizeof sel) < 0)
        return kfail(res, "cannot build the deployment's label selector");
    snprintf(rest, sizeof rest, "replicasets%s%s", sel[0] ? "?labelSelector=" : "", sel);
    if (kube_api_path(path, sizeof path, &j->k->api, ns, rest) < 0)
        return kfail(res, "request path too long");
    if (kreq(j, "GET", path, NULL, NULL, 0, r, err, sizeof err) < 0) return kfail(res, "%s", err);
    if (!is2xx(r->status) || !r->body) {
        api_fail(res, r, "cannot list ReplicaSets");
        kube_free(r);
        return -1;
    }
    return 0;
}

/* ---- following a rollout ---- */

struct follow {
    enum kube_rollout st;
    struct kube_counts c;
    long rev;
    char rv[128];
    char msg[512];
};

/* Evaluate one Deployment object; keeps rv/rev up to date. */
static void follow_eval(struct follow *f, const char *js, size_t n)
{
    struct json_doc d;
    if (doc_parse(&d, js, n) < 0) {
        f->st = ROLLOUT_ERROR;
        snprintf(f->msg, sizeof f->msg, "the API server sent a malformed Deployment");
        return;
    }
    f->st = rollout_doc(&d, 0, &f->c, f->msg, sizeof f->msg);
    char rv[128];
    if (tok_str(&d, json_path(&d, 0, "metadata", "resourceVersion", JP_END), rv, sizeof rv) > 0)
        memcpy(f->rv, rv, sizeof rv);
    long r = obj_revision(&d, 0);
    if (r >= 0) f->rev = r;
    doc_free(&d);
}

static void bookmark_rv(struct follow *f, const char *js, size_t n)
{
    struct json_doc d;
    char rv[128];
    if (doc_parse(&d, js, n) < 0) return;
    if (tok_str(&d, json_path(&d, 0, "metadata", "resourceVersion", JP_END), rv, sizeof rv) > 0)
        memcpy(f->rv, rv, sizeof rv);
    doc_free(&d);
}

/* One watch from f->rv: 0 when it ended (closed, deadline or a final
 * state), 1 when the resourceVersion expired (410), -1 when the watch cannot
 * be used (fall back to polling). */
static int watch_once(struct kjob *j, const char *ns, const char *name, long long deadline,
                      struct follow *f)
{
    char rest[1024], path[2048], err[512];
    struct sb b;
    struct url u;
    const char *h[6];
    int status = 0, ret = -1;
    long long left = deadline - kube_now_ms();
    if (left <= 0) return 0;
    sb_init(&b, rest, sizeof rest);
    sb_add(&b, "deployments?watch=1&fieldSelector=metadata.name%%3D%s", name);
    if (f->rv[0]) {
        sb_add(&b, "&resourceVersion=");
        sb_urlenc(&b, f->rv);
    }
    sb_add(&b, "&timeoutSeconds=%lld", (left + 999) / 1000);
    if (b.full || kube_api_path(path, sizeof path, &j->k->api, ns, rest) < 0 ||
        set_path(j, &u, path, err, sizeof err) < 0)
        return -1;
    struct httpc_stream *s = NULL;
    for (int attempt = 0; attempt < 2; attempt++) {
        headers(j, NULL, h);
        s = kube_open(&j->o, "GET", &u, h, NULL, 0, &status, err, sizeof err);
        if (!s) return -1;
        if (status == 401 && attempt == 0 && j->k->token_file) {
            kube_close(s);
            s = NULL;
            if (read_token(j, err, sizeof err) < 0) return -1;
            continue;
        }
        break;
    }
    if (!s) return -1;
    if (status == 410) {
        kube_close(s);
        return 1;
    }
    if (status != 200) {
        kube_close(s);
        return -1;
    }
    char *line = malloc(KUBE_WATCH_LINE);
    if (!line) {
        kube_close(s);
        return -1;
    }
    for (;;) {
        size_t off, olen;
        left = deadline - kube_now_ms();
        if (left <= 0) {
            ret = 0;
            break;
        }
        long n = kube_readl(s, line, KUBE_WATCH_LINE, (int)((left + 999) / 1000), err, sizeof err);
        if (n == 0) {
            ret = 0;
            break;
        }
        if (n < 0) {
            ret = kube_now_ms() >= deadline ? 0 : -1;
            break;
        }
        while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r')) n--;
        if (n == 0) continue;
        enum kube_event ev = kube_watch_event(line, (size_t)n, &off, &olen);
        if (ev == KEV_OBJECT) {
            follow_eval(f, line + off, olen);
            if (f->st == ROLLOUT_ERROR) {
                ret = -1; /* not a Deployment: stop trusting this watch */
                break;
            }
            if (f->st != ROLLOUT_WAITING) {
                ret = 0;
                break;
            }
        } else if (ev == KEV_BOOKMARK) {
            bookmark_rv(f, line + off, olen);
        } else if (ev == KEV_DELETED) {
            f->st = ROLLOUT_FAILED;
            snprintf(f->msg, sizeof f->msg, "deployment %s/%s was deleted", ns, name);
            ret = 0;
            break;
        } else if (ev == KEV_EXPIRED) {
            ret = 1;
            break;
        } else {
            ret = -1;
            break;
        }
    }
    free(line);
    kube_close(s);
    return ret;
}

#define KUBE_WATCH_REOPEN 32 /* watches opened per rollout before polling only */

/* Follow the rollout from the Deployment in (js, n) until it is done,
 * failed, or ROLLOUT_TIMEOUT (counted from the job start) has passed. */
static void follow_rollout(struct kjob *j, const char *ns, const char *name, const char *js,
                           size_t n, struct follow *f)
{
    long long deadline = j->t0 + (long long)j->k->rollout_timeout_s * 1000;
    int use_watch = 1, opened = 0;
    memset(f, 0, sizeof *f);
    f->rev = -1;
    follow_eval(f, js, n);
    /* ROLLOUT_ERROR: an answer that was not a Deployment; read it again. */
    while ((f->st == ROLLOUT_WAITING || f->st == ROLLOUT_ERROR) && kube_now_ms() < deadline) {
        if (use_watch && opened < KUBE_WATCH_REOPEN) {
            opened++;
            int r = watch_once(j, ns, name, deadline, f);
            if (f->st == ROLLOUT_DONE || f->st == ROLLOUT_FAILED) break;
            if (r < 0) use_watch = 0;
            if (r < 0 && kube_now_ms() < deadline) {
                long long left = deadline - kube_now_ms();
                kube_sleep_ms((long)(left < KUBE_POLL_MS ? left : KUBE_POLL_MS));
            }
        } else {
            long long left = deadline - kube_now_ms();
            if (left <= 0) break;
            kube_sleep_ms((long)(left < KUBE_POLL_MS ? left : KUBE_POLL_MS));
        }
        if (kube_now_ms() >= deadline) break;
        /* re-list: fresh state and resourceVersion for the next watch */
        struct kube_result scratch;
        struct httpc_resp r;
        if (get_deploy(j, ns, name, &r, &scratch) < 0) {
            if (strstr(scratch.error, "not found")) {
                f->st = ROLLOUT_FAILED;
                clean_copy(f->msg, sizeof f->msg, scratch.error);
                break;
            }
            continue; /* transient: keep trying until the deadline */
        }
        f->rv[0] = 0;
        follow_eval(f, r.body, r.len);
        kube_free(&r);
    }
    /* A watch that hung until the deadline saw nothing: look once more so
     * the report states what is true now, not what the last event said. */
    if (f->st == ROLLOUT_WAITING || f->st == ROLLOUT_ERROR) {
        struct kube_result scratch;
        struct httpc_resp r;
        if (get_deploy(j, ns, name, &r, &scratch) == 0) {
            follow_eval(f, r.body, r.len);
            kube_free(&r);
        }
    }
}

/* Fill res from the end of a follow. */
static int follow_report(struct kjob *j, const struct follow *f, struct kube_result *res,
                         const char *done_what, const char *fail_what)
{
    long long ms = kube_now_ms() - j->t0;
    if (f->rev >= 0) res->revision = f->rev;
    if (f->st == ROLLOUT_DONE) {
        res->ok = 1;
        snprintf(res->text, sizeof res->text,
                 "%s: %lld/%lld replicas updated and available in %lld.%llds", done_what,
                 f->c.updated, f->c.desired, ms / 1000, (ms % 1000) / 100);
        return 0;
    }
    res->ok = 0;
    if (f->st == ROLLOUT_WAITING) {
        snprintf(res->error, sizeof res->error, "still rolling out after %d s",
                 j->k->rollout_timeout_s);
        snprintf(res->text, sizeof res->text, "%s: still rolling out after %d s (%s)", fail_what,
                 j->k->rollout_timeout_s, f->msg);
        return -1;
    }
    clean_copy(res->error, sizeof res->error, f->msg);
    if (f->st == ROLLOUT_ERROR) /* the change was accepted; its outcome is unknown */
        snprintf(res->text, sizeof res->text,
                 "%s: the change was sent but its rollout could not be followed: %s", fail_what,
                 f->msg);
    else
        snprintf(res->text, sizeof res->text, "%s failed: %s", fail_what, f->msg);
    return -1;
}

/* ---- operations ---- */

static int check_target(const char *ns, const char *name, struct kube_result *res)
{
    if (!k8sname_ns_ok(ns, strlen(ns))) return kfail(res, "invalid namespace");
    if (!k8sname_name_ok(name, strlen(name))) return kfail(res, "invalid deployment name");
    return 0;
}

int kube_deploy(const struct kube_cfg *k, const char *ns, const char *name, const char *version,
                const struct kube_actor *who, struct kube_result *res)
{
    struct kjob j;
    struct httpc_resp r, p;
    char err[600], cname[256], cur[IMAGE_MAX], cause[KUBE_CAUSE_MAX], what[IMAGE_MAX + 300];
    char patch[4096], path[1024], rest[K8S_NAME_MAX + 16];
    kjob_init(&j, k, res);
    if (check_target(ns, name, res) < 0) return -1;
    if (kube_image_ref(res->image, sizeof res->image, k->image_base, name, version, err,
                       sizeof err) < 0)
        return kfail(res, "%s", err);
    if (read_token(&j, err, sizeof err) < 0) return kfail(res, "%s", err);
    snprintf(rest, sizeof rest, "deployments/%s", name);
    if (kube_api_path(path, sizeof path, &k->api, ns, rest) < 0)
        return kfail(res, "request path too long");
    memset(&p, 0, sizeof p);
    int sent = 0; /* a PATCH got a 2xx answer that was not readable */
    for (int attempt = 0;; attempt++) {
        if (get_deploy_checked(&j, ns, name, &r, res) < 0) return -1;
        if (kube_choose_container(r.body, r.len, name, cname, sizeof cname, cur, sizeof cur, err,
                                  sizeof err) < 0) {
            kube_free(&r);
            return kfail(res, "%s", err);
        }
        if (sent && strcmp(cur, res->image) == 0) {
            p = r; /* that PATCH was applied after all: follow its rollout */
            break;
        }
        if (strcmp(cur, res->image) == 0) {
            struct follow f;
            follow_eval(&f, r.body, r.len);
            kube_free(&r);
            res->ok = 1;
            res->revision = f.rev;
            snprintf(res->text, sizeof res->text, "%s/%s is already running %s", ns, name,
                     res->image);
            return 0;
        }
        kube_free(&r);
        snprintf(what, sizeof what, "set %s=%s", cname, res->image);
        kube_change_cause(cause, sizeof cause, who, what);
        if (kube_set_image_patch(patch, sizeof patch, cname, res->image, cause) < 0)
            return kfail(res, "patch too large");
        if (kreq(&j, "PATCH", path, "Content-Type: application/strategic-merge-patch+json", patch,
                 strlen(patch), &p, err, sizeof err) < 0)
            return kfail(res, "%s", err);
        if (p.status == 409 && attempt < KUBE_CONFLICT_RETRIES) {
            kube_free(&p);
            continue;
        }
        if (!is2xx(p.status) || !p.body) {
            char w[400];
            snprintf(w, sizeof w, "cannot update deployment %s/%s", ns, name);
            api_fail(res, &p, w);
            kube_free(&p);
            return -1;
        }
        /* The answer must be the updated Deployment; anything else leaves
         * open whether the change was applied: read it again and see. */
        char now[IMAGE_MAX], c2[256], e2[256];
        if (kube_choose_container(p.body, p.len, name, c2, sizeof c2, now, sizeof now, e2,
                                  sizeof e2) == 0 &&
            strcmp(now, res->image) == 0)
            break;
        kube_free(&p);
        if (attempt >= KUBE_CONFLICT_RETRIES)
            return kfail(res,
                         "cannot update deployment %s/%s: the API server's answer was not "
                         "the updated deployment",
                         ns, name);
        sent = 1;
    }
    struct follow f;
    char done[IMAGE_MAX + 400], fail[IMAGE_MAX + 400];
    follow_rollout(&j, ns, name, p.body, p.len, &f);
    kube_free(&p);
    snprintf(done, sizeof done, "deployed %s to %s/%s", res->image, ns, name);
    snprintf(fail, sizeof fail, "deploy of %s to %s/%s", res->image, ns, name);
    return follow_report(&j, &f, res, done, fail);
}

int kube_status(const struct kube_cfg *k, const char *ns, const char *name, struct kube_result *res)
{
    struct kjob j;
    struct httpc_resp r;
    char err[600], cname[256];
    kjob_init(&j, k, res);
    if (check_target(ns, name, res) < 0) return -1;
    if (read_token(&j, err, sizeof err) < 0) return kfail(res, "%s", err);
    if (get_deploy_checked(&j, ns, name, &r, res) < 0) return -1;
    if (kube_status_text(r.body, r.len, res->text, sizeof res->text) < 0) {
        kube_free(&r);
        return kfail(res, "deployment %s/%s: malformed answer", ns, name);
    }
    kube_choose_container(r.body, r.len, name, cname, sizeof cname, res->image, sizeof res->image,
                          err, sizeof err);
    struct follow f;
    follow_eval(&f, r.body, r.len);
    res->revision = f.rev;
    res->ok = 1;
    kube_free(&r);
    return 0;
}

int kube_history(const struct kube_cfg *k, const char *ns, const char *name,
                 struct kube_result *res)
{
    struct kjob j;
    struct httpc_resp r, l;
    char err[600];
    kjob_init(&j, k, res);
    if (check_target(ns, name, res) < 0) return -1;
    if (read_token(&j, err, sizeof err) < 0) return kfail(res, "%s", err);
    if (get_deploy_checked(&j, ns, name, &r, res) < 0) return -1;
    if (list_rs(&j, ns, &r, &l, res) < 0) {
        kube_free(&r);
        return -1;
    }
    int n = kube_history_text(r.body, r.len, l.body, l.len, res->text, sizeof res->text);
    kube_free(&l);
    kube_free(&r);
    if (n < 0) return kfail(res, "cannot read the rollout history of %s/%s", ns, name);
    res->ok = 1;
    return 0;
}

int kube_rollback(const struct kube_cfg *k, const char *ns, const char *name, long revision,
                  const struct kube_actor *who, struct kube_result *res)
{
    struct kjob j;
    struct httpc_resp r, l, p;
    char err[600], cname[256], cause[KUBE_CAUSE_MAX], what[300], path[1024];
    char rest[K8S_NAME_MAX + 16];
    long target = -1;
    kjob_init(&j, k, res);
    if (check_target(ns, name, res) < 0) return -1;
    if (revision < 0) return kfail(res, "invalid revision %ld", revision);
    if (read_token(&j, err, sizeof err) < 0) return kfail(res, "%s", err);
    snprintf(rest, sizeof rest, "deployments/%s", name);
    if (kube_api_path(path, sizeof path, &k->api, ns, rest) < 0)
        return kfail(res, "request path too long");
    memset(&p, 0, sizeof p);
    for (int attempt = 0;; attempt++) {
        size_t off, len;
        if (get_deploy_checked(&j, ns, name, &r, res) < 0) return -1;
        {
            struct json_doc d;
            int paused = 0;
            if (doc_parse(&d, r.body, r.len) == 0) {
                int t = json_path(&d, 0, "spec", "paused", JP_END);
                paused = t >= 0 && d.toks[t].type == JSON_TRUE;
                doc_free(&d);
            }
            if (paused) {
                kube_free(&r);
                return kfail(res, "you cannot rollback a paused deployment; resume it first "
                                  "with 'kubectl rollout resume' and try again");
            }
        }
        if (list_rs(&j, ns, &r, &l, res) < 0) {
            kube_free(&r);
            return -1;
        }
        target = kube_rollback_target(r.body, r.len, l.body, l.len, revision, &off, &len, err,
                                      sizeof err);
        if (target < 0) {
            kube_free(&l);
            kube_free(&r);
            return kfail(res, "%s", err);
        }
        const char *rs = l.body + off;
        kube_choose_container(rs, len, name, cname, sizeof cname, res->image, sizeof res->image,
                              err, sizeof err);
        if (kube_template_matches(r.body, r.len, rs, len) == 1) {
            struct follow f;
            follow_eval(&f, r.body, r.len);
            kube_free(&l);
            kube_free(&r);
            res->ok = 1;
            res->revision = f.rev;
            snprintf(res->text, sizeof res->text,
                     "%s/%s is already at revision %ld: skipped rollback (current template "
                     "already matches revision %ld)",
                     ns, name, target, target);
            return 0;
        }
        snprintf(what, sizeof what, "rolled back %s to revision %ld", name, target);
        kube_change_cause(cause, sizeof cause, who, what);
        size_t cap = r.len + len + 2 * KUBE_CAUSE_MAX + 1024;
        char *patch = malloc(cap);
        long pn =
            patch ? kube_rollback_patch(r.body, r.len, rs, len, cause, patch, cap, err, sizeof err)
                  : -1;
        kube_free(&r);
        if (pn < 0) {
            free(patch);
            kube_free(&l);
            return kfail(res, "%s", patch ? err : "out of memory");
        }
        int rc = kreq(&j, "PATCH", path, "Content-Type: application/json-patch+json", patch,
                      (size_t)pn, &p, err, sizeof err);
        free(patch);
        if (rc < 0) {
            kube_free(&l);
            return kfail(res, "%s", err);
        }
        if (p.status == 409 && attempt < KUBE_CONFLICT_RETRIES) {
            kube_free(&p);
            kube_free(&l);
            continue;
        }
        if (!is2xx(p.status) || !p.body) {
            char w[400];
            snprintf(w, sizeof w, "failed restoring revision %ld of %s/%s", target, ns, name);
            api_fail(res, &p, w);
            kube_free(&p);
            kube_free(&l);
            return -1;
        }
        /* As for deploy: a 2xx whose body is not the restored deployment
         * (garbage from a proxy) is not taken for success. Read it again. */
        if (kube_template_matches(p.body, p.len, rs, len) != 1) {
            kube_free(&p);
            if (get_deploy_checked(&j, ns, name, &p, res) < 0) {
                kube_free(&l);
                return -1;
            }
            if (kube_template_matches(p.body, p.len, rs, len) != 1) {
                kube_free(&p);
                kube_free(&l);
                if (attempt < KUBE_CONFLICT_RETRIES) continue;
                return kfail(res,
                             "the API server's answer was not the restored deployment "
                             "%s/%s; check it with /deploy status",
                             ns, name);
            }
        }
        kube_free(&l);
        break;
    }
    struct follow f;
    char done[IMAGE_MAX + 400], fail[IMAGE_MAX + 400];
    follow_rollout(&j, ns, name, p.body, p.len, &f);
    kube_free(&p);
    snprintf(done, sizeof done, "rolled back %s/%s to revision %ld (%s)", ns, name, target,
             res->image);
    snprintf(fail, sizeof fail, "rollback of %s/%s to revision %ld", ns, name, target);
    return follow_report(&j, &f, res, done, fail);
}
