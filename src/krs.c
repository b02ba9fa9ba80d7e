/* ReplicaSet documents: kubectl rollout undo's target and patch, template
 * equality, and rollout history text. */
#include "krs.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "kdoc.h"
#include "sb.h"

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

static int rsrev_desc(const void *a, const void *b)
{
    long x = ((const struct krs_rev *)a)->rev, y = ((const struct krs_rev *)b)->rev;
    return x < y ? 1 : x > y ? -1 : 0;
}

int krs_owned_revisions(const struct json_doc *rl, const char *uid, struct krs_rev **out)
{
    int items = json_get(rl, 0, "items");
    int n = 0;
    struct krs_rev *v;
    *out = NULL;
    if (items < 0 || rl->toks[items].type != JSON_ARRAY) return -1;
    v = malloc(((size_t)rl->toks[items].size + 1) * sizeof *v);
    if (!v) return -1;
    for (int e = json_first(rl, items); e >= 0; e = json_next(rl, e)) {
        long r;
        if (!controlled_by(rl, e, uid) || (r = kdoc_revision(rl, e)) < 0) continue;
        v[n].rev = r;
        v[n].tok = e;
        n++;
    }
    qsort(v, (size_t)n, sizeof *v, rsrev_desc);
    *out = v;
    return n;
}

long krs_rollback_target(const char *deploy, size_t dlen, const char *rslist, size_t rlen,
                         long want, size_t *rs_off, size_t *rs_len, char *err, size_t errlen)
{
    struct json_doc dd, rl;
    struct krs_rev *v = NULL;
    char uid[128], name[K8S_NAME_MAX + 1];
    long found = -1;
    int n, pick = -1;
    *rs_off = *rs_len = 0;
    if (want < 0) {
        snprintf(err, errlen, "revision %ld not found", want);
        return -1;
    }
    if (kdoc_json_parse(&dd, deploy, dlen) < 0) {
        snprintf(err, errlen, "malformed Deployment JSON");
        return -1;
    }
    if (kdoc_json_parse(&rl, rslist, rlen) < 0) {
        kdoc_json_free(&dd);
        snprintf(err, errlen, "malformed ReplicaSetList JSON");
        return -1;
    }
    kdoc_tok_str(&dd, json_path(&dd, 0, "metadata", "uid", JP_END), uid, sizeof uid);
    kdoc_tok_str(&dd, json_path(&dd, 0, "metadata", "name", JP_END), name, sizeof name);
    n = krs_owned_revisions(&rl, uid, &v);
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
    kdoc_json_free(&rl);
    kdoc_json_free(&dd);
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

int krs_history_text(const char *deploy, size_t dlen, const char *rslist, size_t rlen, char *out,
                     size_t cap)
{
    struct json_doc dd, rl;
    struct krs_rev *v = NULL;
    char uid[128], name[K8S_NAME_MAX + 1], ns[K8S_NS_MAX + 1], ts[64], cause[1024], cl[1024];
    struct sb b;
    int n;
    sb_init(&b, out, cap);
    if (kdoc_json_parse(&dd, deploy, dlen) < 0) return -1;
    if (kdoc_json_parse(&rl, rslist, rlen) < 0) {
        kdoc_json_free(&dd);
        return -1;
    }
    kdoc_tok_str(&dd, json_path(&dd, 0, "metadata", "uid", JP_END), uid, sizeof uid);
    kdoc_tok_str(&dd, json_path(&dd, 0, "metadata", "name", JP_END), name, sizeof name);
    kdoc_tok_str(&dd, json_path(&dd, 0, "metadata", "namespace", JP_END), ns, sizeof ns);
    n = krs_owned_revisions(&rl, uid, &v);
    if (n < 0) goto out;
    long current = kdoc_revision(&dd, 0);
    if (current < 0 && n > 0) current = v[0].rev;
    if (n == 0) {
        sb_add(&b, "*%s/%s*: no rollout history", ns, name);
        goto out;
    }
    sb_add(&b, "*%s/%s* revisions, newest first:", ns, name);
    for (int i = 0; i < n; i++) {
        int rs = v[i].tok;
        kdoc_tok_str(&rl, json_path(&rl, rs, "metadata", "creationTimestamp", JP_END), ts,
                     sizeof ts);
        sb_clean_copy(cl, sizeof cl, ts);
        sb_add(&b, "\n%ld%s  %s  ", v[i].rev, v[i].rev == current ? " (current)" : "",
               cl[0] ? cl : "-");
        kdoc_container_images(&b, &rl, rs, 0);
        if (kdoc_tok_str(&rl, json_path(&rl, rs, "metadata", "annotations", KDOC_CAUSE_KEY, JP_END),
                         cause, sizeof cause) > 0) {
            sb_clean_copy(cl, sizeof cl, cause);
            sb_add(&b, "  %s", cl);
        } else {
            sb_add(&b, "  <none>");
        }
    }
out:
    free(v);
    kdoc_json_free(&rl);
    kdoc_json_free(&dd);
    return n;
}
