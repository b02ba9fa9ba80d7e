/* JSON answers for the command line, written with json.h's writer. */
#include "kjson.h"

#include <stdlib.h>

#include "json.h"
#include "kdoc.h"
#include "krs.h"

static void containers(struct jw *w, const char *key, const struct kdoc_container *c, int n)
{
    jw_key(w, key);
    jw_arr_begin(w);
    for (int i = 0; i < n; i++) {
        jw_obj_begin(w);
        jw_kstr(w, "name", c[i].name);
        jw_kstr(w, "image", c[i].image);
        jw_obj_end(w);
    }
    jw_arr_end(w);
}

long kjson_status(const char *deploy, size_t len, char *out, size_t cap)
{
    static const char *const state[] = {"complete", "progressing", "failed"};
    struct kdeploy d;
    struct kdoc_counts c;
    struct jw w;
    char msg[512];
    if (kdoc_deploy_parse(deploy, len, &d) < 0 || !d.is_deployment) {
        kdoc_deploy_free(&d);
        return -1;
    }
    enum kdoc_rollout r = kdoc_rollout(&d, &c, msg, sizeof msg);
    jw_init(&w, out, cap);
    jw_obj_begin(&w);
    jw_kstr(&w, "namespace", d.ns);
    jw_kstr(&w, "name", d.name);
    jw_key(&w, "revision");
    if (d.revision >= 0)
        jw_int(&w, d.revision);
    else
        jw_null(&w);
    jw_kint(&w, "generation", d.generation);
    jw_kint(&w, "observedGeneration", d.observed);
    jw_key(&w, "paused");
    jw_bool(&w, d.paused);
    jw_key(&w, "replicas");
    jw_obj_begin(&w);
    jw_kint(&w, "desired", c.desired);
    jw_kint(&w, "current", c.replicas);
    jw_kint(&w, "updated", c.updated);
    jw_kint(&w, "ready", c.ready);
    jw_kint(&w, "available", c.available);
    jw_obj_end(&w);
    containers(&w, "containers", d.containers, d.ncontainers);
    containers(&w, "initContainers", d.init, d.ninit);
    jw_key(&w, "rollout");
    jw_obj_begin(&w);
    jw_kstr(&w, "state", r <= ROLLOUT_FAILED ? state[r] : "unknown");
    jw_kstr(&w, "message", msg);
    jw_obj_end(&w);
    jw_obj_end(&w);
    kdoc_deploy_free(&d);
    return jw_finish(&w);
}

/* "images" of the ReplicaSet at rs: its pod template's containers. */
static void rs_images(struct jw *w, const struct json_doc *l, int rs)
{
    char s[1024];
    int cs = json_path(l, rs, "spec", "template", "spec", "containers", JP_END);
    jw_key(w, "images");
    jw_arr_begin(w);
    for (int e = json_first(l, cs); e >= 0; e = json_next(l, e))
        if (kdoc_tok_str(l, json_get(l, e, "image"), s, sizeof s) >= 0) jw_str(w, s);
    jw_arr_end(w);
}

static void revisions(struct jw *w, const struct json_doc *l, const struct krs_rev *v, int n,
                      long current)
{
    char s[1024];
    jw_key(w, "revisions");
    jw_arr_begin(w);
    for (int i = 0; i < n; i++) {
        int rs = v[i].tok;
        jw_obj_begin(w);
        jw_kint(w, "revision", v[i].rev);
        jw_key(w, "current");
        jw_bool(w, v[i].rev == current);
        kdoc_tok_str(l, json_path(l, rs, "metadata", "creationTimestamp", JP_END), s, sizeof s);
        jw_kstr(w, "created", s);
        rs_images(w, l, rs);
        jw_key(w, "changeCause");
        if (kdoc_tok_str(l, json_path(l, rs, "metadata", "annotations", KDOC_CAUSE_KEY, JP_END), s,
                         sizeof s) > 0)
            jw_str(w, s);
        else
            jw_null(w);
        jw_obj_end(w);
    }
    jw_arr_end(w);
}

long kjson_history(const char *deploy, size_t dlen, const char *rslist, size_t rlen, char *out,
                   size_t cap)
{
    struct json_doc dd, rl;
    struct krs_rev *v = NULL;
    char uid[128], s[256];
    struct jw w;
    long len = -1;
    if (kdoc_json_parse(&dd, deploy, dlen) < 0) return -1;
    if (kdoc_json_parse(&rl, rslist, rlen) < 0) goto out_dd;
    kdoc_tok_str(&dd, json_path(&dd, 0, "metadata", "uid", JP_END), uid, sizeof uid);
    int n = krs_owned_revisions(&rl, uid, &v);
    if (n < 0) goto out;
    long current = kdoc_revision(&dd, 0);
    if (current < 0 && n > 0) current = v[0].rev;
    jw_init(&w, out, cap);
    jw_obj_begin(&w);
    kdoc_tok_str(&dd, json_path(&dd, 0, "metadata", "namespace", JP_END), s, sizeof s);
    jw_kstr(&w, "namespace", s);
    kdoc_tok_str(&dd, json_path(&dd, 0, "metadata", "name", JP_END), s, sizeof s);
    jw_kstr(&w, "name", s);
    jw_key(&w, "currentRevision");
    if (current >= 0)
        jw_int(&w, current);
    else
        jw_null(&w);
    revisions(&w, &rl, v, n, current);
    jw_obj_end(&w);
    len = jw_finish(&w);
out:
    free(v);
    kdoc_json_free(&rl);
out_dd:
    kdoc_json_free(&dd);
    return len;
}
