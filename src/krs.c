/* ReplicaSet documents: kubectl rollout undo's target and patch, template
 * equality, and rollout history text. */
#include "krs.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "kdoc.h"
#include "sb.h"
#include "slack.h"

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
        if (cause && *cause && json_eq(rd, k, KDOC_CAUSE_KEY)) continue;
        if (emit_key(&w, rd, k) < 0 || emit_value(&w, rd, k + 1, -1, 0) < 0) goto toolarge;
    }
    if (cause && *cause) jw_kstr(&w, KDOC_CAUSE_KEY, cause);
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

long krs_rollback_patch(const char *deploy, size_t dlen, const char *rs, size_t rlen,
                        const char *cause, char *buf, size_t cap, char *err, size_t errlen)
{
    struct json_doc dd, rd;
    long n;
    if (kdoc_json_parse(&dd, deploy, dlen) < 0) {
        snprintf(err, errlen, "malformed Deployment JSON");
        return -1;
    }
    if (kdoc_json_parse(&rd, rs, rlen) < 0) {
        kdoc_json_free(&dd);
        snprintf(err, errlen, "malformed ReplicaSet JSON");
        return -1;
    }
    n = rollback_patch_doc(&dd, 0, &rd, 0, cause, buf, cap, err, errlen);
    kdoc_json_free(&rd);
    kdoc_json_free(&dd);
    return n;
}

int krs_controlled_by(const struct json_doc *d, int rs, const char *uid)
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

int krs_target_init(struct krs_target *t, const char *uid, long want)
{
    memset(t, 0, sizeof *t);
    snprintf(t->uid, sizeof t->uid, "%s", uid ? uid : "");
    t->want = want;
    t->rsrev[0] = t->rsrev[1] = -1;
    return 0;
}

void krs_target_free(struct krs_target *t)
{
    free(t->revs);
    free(t->rs[0]);
    free(t->rs[1]);
    t->revs = NULL;
    t->rs[0] = t->rs[1] = NULL;
    t->nrevs = t->caprevs = 0;
    t->rsrev[0] = t->rsrev[1] = -1;
}

/* Append r to the growing array *v (n used, cap allocated). 0, or -1 with
 * no memory (*v unchanged). */
static int push_rev(long **v, int *n, int *cap, long r)
{
    if (*n == *cap) {
        int nc = *cap ? *cap * 2 : 64;
        long *g = realloc(*v, (size_t)nc * sizeof *g);
        if (!g) return -1;
        *v = g;
        *cap = nc;
    }
    (*v)[(*n)++] = r;
    return 0;
}

/* Keep a copy of the ReplicaSet at rs (revision r) in slot i. 0 or -1. */
static int keep_copy(struct krs_target *t, int i, const struct json_doc *d, int rs, long r)
{
    size_t n = d->toks[rs].end - d->toks[rs].start;
    char *c = malloc(n + 1);
    if (!c) return -1;
    memcpy(c, d->src + d->toks[rs].start, n);
    c[n] = 0;
    free(t->rs[i]);
    t->rs[i] = c;
    t->rslen[i] = n;
    t->rsrev[i] = r;
    return 0;
}

/* Note revision r of the ReplicaSet at rs: every one counted, a copy kept
 * when it may be the target. 0 or -1 (no memory). */
static int target_add(struct krs_target *t, const struct json_doc *d, int rs, long r)
{
    if (push_rev(&t->revs, &t->nrevs, &t->caprevs, r) < 0) return -1;
    if (t->want > 0) return r == t->want ? keep_copy(t, 0, d, rs, r) : 0;
    /* want 0: the two newest, slot 0 the newest */
    if (t->rsrev[0] < 0 || r > t->rsrev[0]) {
        free(t->rs[1]);
        t->rs[1] = t->rs[0];
        t->rslen[1] = t->rslen[0];
        t->rsrev[1] = t->rsrev[0];
        t->rs[0] = NULL;
        return keep_copy(t, 0, d, rs, r);
    }
    return t->rsrev[1] < 0 || r > t->rsrev[1] ? keep_copy(t, 1, d, rs, r) : 0;
}

int krs_target_page(void *arg, const char *body, size_t len, char *cont, size_t ccap)
{
    struct krs_target *t = arg;
    struct json_doc d;
    int ret = 0, items = krs_list_page(&d, body, len, cont, ccap);
    if (items < 0) return -1;
    for (int rs = json_first(&d, items); rs >= 0 && ret == 0; rs = json_next(&d, rs)) {
        long r;
        if (!krs_controlled_by(&d, rs, t->uid) || (r = kdoc_revision(&d, rs)) < 0) continue;
        ret = target_add(t, &d, rs, r);
    }
    kdoc_json_free(&d);
    if (ret < 0 && ccap) cont[0] = 0;
    return ret;
}

static int long_desc(const void *a, const void *b)
{
    long x = *(const long *)a, y = *(const long *)b;
    return x < y ? 1 : x > y ? -1 : 0;
}

long krs_target_pick(struct krs_target *t, const char *name, const char **rs, size_t *rs_len,
                     char *err, size_t errlen)
{
    int i = t->want > 0 ? 0 : 1;
    *rs = NULL;
    *rs_len = 0;
    if (t->want < 0) {
        snprintf(err, errlen, "revision %ld not found", t->want);
        return -1;
    }
    if (t->want == 0 && t->nrevs < 2) {
        snprintf(err, errlen, "no rollout history found for deployment \"%s\"", name);
        return -1;
    }
    if (!t->rs[i]) {
        struct sb b;
        if (t->nrevs) qsort(t->revs, (size_t)t->nrevs, sizeof *t->revs, long_desc);
        sb_init(&b, err, errlen);
        sb_add(&b, "revision %ld not found; available: ", t->want);
        for (int k = 0; k < t->nrevs; k++) sb_add(&b, "%s%ld", k ? ", " : "", t->revs[k]);
        if (t->nrevs == 0) sb_add(&b, "none");
        return -1;
    }
    *rs = t->rs[i];
    *rs_len = t->rslen[i];
    return t->rsrev[i];
}

long krs_rollback_target(const char *deploy, size_t dlen, const char *rslist, size_t rlen,
                         long want, struct krs_target *t, const char **rs, size_t *rs_len,
                         char *err, size_t errlen)
{
    struct json_doc dd;
    char uid[128], name[K8S_NAME_MAX + 1], cont[16];
    *rs = NULL;
    *rs_len = 0;
    if (kdoc_json_parse(&dd, deploy, dlen) < 0) {
        krs_target_init(t, NULL, want);
        snprintf(err, errlen, "malformed Deployment JSON");
        return -1;
    }
    kdoc_tok_str(&dd, json_path(&dd, 0, "metadata", "uid", JP_END), uid, sizeof uid);
    kdoc_tok_str(&dd, json_path(&dd, 0, "metadata", "name", JP_END), name, sizeof name);
    kdoc_json_free(&dd);
    krs_target_init(t, uid, want);
    if (want >= 0 && krs_target_page(t, rslist, rlen, cont, sizeof cont) < 0) {
        snprintf(err, errlen, "malformed ReplicaSetList JSON");
        return -1;
    }
    return krs_target_pick(t, name, rs, rs_len, err, errlen);
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

int krs_template_matches(const char *deploy, size_t dlen, const char *rs, size_t rlen)
{
    struct json_doc dd, rd;
    int r;
    if (kdoc_json_parse(&dd, deploy, dlen) < 0) return -1;
    if (kdoc_json_parse(&rd, rs, rlen) < 0) {
        kdoc_json_free(&dd);
        return -1;
    }
    r = template_same(&dd, 0, &rd, 0);
    kdoc_json_free(&rd);
    kdoc_json_free(&dd);
    return r;
}

/* ---- rollout history, page by page ---- */

/* n digits at s as a number, -1 if one is not a digit. */
static int digits(const char *s, int n)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

/* Days since 1970-01-01 of a civil date (Howard Hinnant's days_from_civil). */
static long long days_from_civil(long long y, int m, int d)
{
    y -= m <= 2;
    long long era = (y >= 0 ? y : y - 399) / 400;
    long long yoe = y - era * 400;
    long long doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    long long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

long long krs_time_parse(const char *s)
{
    if (!s || strlen(s) != 20 || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' ||
        s[16] != ':' || s[19] != 'Z')
        return -1;
    int y = digits(s, 4), mo = digits(s + 5, 2), d = digits(s + 8, 2), h = digits(s + 11, 2),
        mi = digits(s + 14, 2), se = digits(s + 17, 2);
    if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > 31 || h < 0 || h > 23 || mi < 0 || mi > 59 ||
        se < 0 || se > 60)
        return -1;
    return days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + se;
}

void krs_time_format(char *out, size_t cap, long long t)
{
    if (t < 0) {
        snprintf(out, cap, "-");
        return;
    }
    /* civil_from_days (Howard Hinnant) */
    long long z = t / 86400 + 719468, sec = t % 86400;
    long long era = z / 146097, doe = z - era * 146097;
    long long yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    long long doy = doe - (365 * yoe + yoe / 4 - yoe / 100), mp = (5 * doy + 2) / 153;
    int d = (int)(doy - (153 * mp + 2) / 5 + 1), m = (int)(mp < 10 ? mp + 3 : mp - 9);
    long long y = yoe + era * 400 + (m <= 2);
    snprintf(out, cap, "%04lld-%02d-%02dT%02lld:%02lld:%02lldZ", y, m, d, sec / 3600, sec / 60 % 60,
             sec % 60);
}

int krs_history_init(struct krs_history *h, const char *uid, int want)
{
    memset(h, 0, sizeof *h);
    snprintf(h->uid, sizeof h->uid, "%s", uid ? uid : "");
    h->want = want < 1 ? 1 : want > KUBE_HISTORY_MAX ? KUBE_HISTORY_MAX : want;
    return 0;
}

void krs_history_free(struct krs_history *h)
{
    free(h->revs);
    h->revs = NULL;
    h->nrevs = h->caprevs = 0;
}

/* kubectl's revision of a ReplicaSet: the annotation's number, 0 when the
 * annotation is absent, -1 (skipped) when it is not a number. */
static long history_revision(const struct json_doc *d, int rs)
{
    if (json_path(d, rs, "metadata", "annotations", KDOC_REV_KEY, JP_END) < 0) return 0;
    return kdoc_revision(d, rs);
}

/* Note revision r as seen; 0, or -1 with no memory. */
static int seen(struct krs_history *h, long r)
{
    for (int i = 0; i < h->nrevs; i++)
        if (h->revs[i] == r) return 0;
    return push_rev(&h->revs, &h->nrevs, &h->caprevs, r);
}

/* The slot for revision r among the newest want kept, or NULL when it is
 * older than all of them. The same revision twice: the later one wins (a
 * map keyed by revision in kubectl). */
static struct krs_line *slot(struct krs_history *h, long r)
{
    int oldest = 0;
    for (int i = 0; i < h->n; i++) {
        if (h->v[i].rev == r) return &h->v[i];
        if (h->v[i].rev < h->v[oldest].rev) oldest = i;
    }
    if (h->n < h->want) return &h->v[h->n++];
    return r > h->v[oldest].rev ? &h->v[oldest] : NULL;
}

static void keep_rs(struct krs_line *e, const struct json_doc *d, int rs, long r)
{
    char ts[64];
    struct sb b;
    memset(e, 0, sizeof *e);
    e->rev = r;
    kdoc_tok_str(d, json_path(d, rs, "metadata", "creationTimestamp", JP_END), ts, sizeof ts);
    e->created = krs_time_parse(ts);
    kdoc_tok_str(d, json_path(d, rs, "metadata", "annotations", KRS_LIVE_KEY, JP_END), ts,
                 sizeof ts);
    e->live = krs_time_parse(ts);
    /* a kubectl deploy copies the Deployment's stale value to its new RS */
    if (e->live >= 0 && e->created >= 0 && e->live < e->created) e->live = -1;
    sb_init(&b, e->images, sizeof e->images);
    kdoc_container_images(&b, d, rs, 0);
    char cause[1024];
    if (kdoc_tok_str(d, json_path(d, rs, "metadata", "annotations", KDOC_CAUSE_KEY, JP_END), cause,
                     sizeof cause) > 0)
        sb_clean_copy(e->cause, sizeof e->cause, cause);
}

int krs_list_page(struct json_doc *d, const char *body, size_t len, char *cont, size_t ccap)
{
    if (ccap) cont[0] = 0;
    if (kdoc_json_parse(d, body, len) < 0) return -1;
    int items = json_get(d, 0, "items");
    if (items < 0 || d->toks[items].type != JSON_ARRAY) {
        kdoc_json_free(d);
        return -1;
    }
    if (ccap && kdoc_tok_str(d, json_path(d, 0, "metadata", "continue", JP_END), cont, ccap) < 0)
        cont[0] = 0;
    return items;
}

int krs_history_page(void *arg, const char *body, size_t len, char *cont, size_t ccap)
{
    struct krs_history *h = arg;
    struct json_doc d;
    int ret = 0, items = krs_list_page(&d, body, len, cont, ccap);
    if (items < 0) return -1;
    for (int rs = json_first(&d, items); rs >= 0 && ret == 0; rs = json_next(&d, rs)) {
        long r;
        if (!krs_controlled_by(&d, rs, h->uid) || (r = history_revision(&d, rs)) < 0) continue;
        ret = seen(h, r);
        struct krs_line *e = ret == 0 ? slot(h, r) : NULL;
        if (e) keep_rs(e, &d, rs, r);
    }
    kdoc_json_free(&d);
    if (ret < 0 && ccap) cont[0] = 0;
    return ret;
}

static int rev_desc(const void *a, const void *b)
{
    long x = ((const struct krs_line *)a)->rev, y = ((const struct krs_line *)b)->rev;
    return x < y ? 1 : x > y ? -1 : 0;
}

void krs_history_sort(struct krs_history *h)
{
    qsort(h->v, (size_t)h->n, sizeof h->v[0], rev_desc);
}

/* "live <when>" / "created <when>": Slack's date token with a UTC fallback,
 * or plain UTC text. */
static void add_when(struct sb *b, const struct krs_line *e, int plain)
{
    long long t = e->live >= 0 ? e->live : e->created;
    char iso[32];
    if (t < 0) {
        sb_add(b, "-");
        return;
    }
    krs_time_format(iso, sizeof iso, t);
    iso[10] = ' ';
    iso[16] = 0; /* "YYYY-MM-DD HH:MM" */
    sb_add(b, "%s ", e->live >= 0 ? "live" : "created");
    if (plain)
        sb_add(b, "%s UTC", iso);
    else
        sb_add(b, "<!date^%lld^{date_short_pretty} {time}|%s UTC>", t, iso);
}

#define HISTORY_MORE 48 /* room kept for "(N more not shown: ...)" */

static void history_line(struct sb *b, const struct krs_line *e, long current, int plain, char *esc,
                         size_t ecap)
{
    sb_add(b, "\n%ld%s  ", e->rev, e->rev == current ? " (current)" : "");
    add_when(b, e, plain);
    if (plain) {
        sb_add(b, "  %s  %s", e->images, e->cause[0] ? e->cause : "<none>");
        return;
    }
    slack_escape_text(e->images, esc, ecap);
    sb_add(b, "  %s  ", esc);
    slack_escape_text(e->cause[0] ? e->cause : "<none>", esc, ecap);
    sb_add(b, "%s", esc);
}

int krs_history_format(struct krs_history *h, const char *ns, const char *name, long current,
                       int plain, char *out, size_t cap)
{
    struct sb b;
    char esc[sizeof h->v[0].cause * 5];
    const char *star = plain ? "" : "*";
    sb_init(&b, out, cap);
    krs_history_sort(h);
    if (current < 0 && h->n > 0) current = h->v[0].rev;
    if (h->nrevs == 0) {
        sb_add(&b, "%s%s/%s%s: no rollout history", star, ns, name, star);
        return 0;
    }
    if (h->n < h->nrevs)
        sb_add(&b, "%s%s/%s%s: newest %d of %d revisions:", star, ns, name, star, h->n, h->nrevs);
    else
        sb_add(&b, "%s%s/%s%s revisions, newest first:", star, ns, name, star);
    int i;
    for (i = 0; i < h->n; i++) {
        char line[sizeof esc * 2 + 200];
        struct sb l;
        sb_init(&l, line, sizeof line);
        history_line(&l, &h->v[i], current, plain, esc, sizeof esc);
        /* a line that does not fit is not cut: say what is left out */
        if (b.len + l.len + HISTORY_MORE >= cap) break;
        sb_add(&b, "%s", line);
    }
    if (i < h->n) sb_add(&b, "\n(%d more not shown: the message is full)", h->n - i);
    return i;
}

int krs_history_text(const char *deploy, size_t dlen, const char *rslist, size_t rlen, int want,
                     int plain, char *out, size_t cap)
{
    struct json_doc dd;
    struct krs_history *h = malloc(sizeof *h);
    char uid[128], name[K8S_NAME_MAX + 1], ns[K8S_NS_MAX + 1], cont[16];
    int n = -1;
    if (cap) out[0] = 0;
    if (!h) return -1;
    if (kdoc_json_parse(&dd, deploy, dlen) < 0) {
        free(h);
        return -1;
    }
    kdoc_tok_str(&dd, json_path(&dd, 0, "metadata", "uid", JP_END), uid, sizeof uid);
    kdoc_tok_str(&dd, json_path(&dd, 0, "metadata", "name", JP_END), name, sizeof name);
    kdoc_tok_str(&dd, json_path(&dd, 0, "metadata", "namespace", JP_END), ns, sizeof ns);
    krs_history_init(h, uid, want);
    if (krs_history_page(h, rslist, rlen, cont, sizeof cont) == 0)
        n = krs_history_format(h, ns, name, kdoc_revision(&dd, 0), plain, out, cap);
    krs_history_free(h);
    free(h);
    kdoc_json_free(&dd);
    return n;
}
