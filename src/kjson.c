/* JSON answers for the command line, written with json.h's writer. */
#include "kjson.h"

#include <stdio.h>
#include <string.h>

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

/* "images": the line's ", "-joined image list as an array. */
static void line_images(struct jw *w, const char *images)
{
    char s[sizeof((struct krs_line *)0)->images];
    jw_key(w, "images");
    jw_arr_begin(w);
    for (const char *p = images; *p;) {
        const char *e = strstr(p, ", ");
        size_t n = e ? (size_t)(e - p) : strlen(p);
        snprintf(s, sizeof s, "%.*s", (int)n, p);
        jw_str(w, s);
        p += n + (e ? 2 : 0);
    }
    jw_arr_end(w);
}

long kjson_history(const char *ns, const char *name, long current, struct krs_history *h, char *out,
                   size_t cap)
{
    struct jw w;
    char ts[32];
    krs_history_sort(h);
    if (current < 0 && h->n > 0) current = h->v[0].rev;
    jw_init(&w, out, cap);
    jw_obj_begin(&w);
    jw_kstr(&w, "namespace", ns);
    jw_kstr(&w, "name", name);
    jw_key(&w, "currentRevision");
    if (current >= 0)
        jw_int(&w, current);
    else
        jw_null(&w);
    jw_kint(&w, "revisionCount", h->nrevs);
    jw_key(&w, "revisions");
    jw_arr_begin(&w);
    for (int i = 0; i < h->n; i++) {
        const struct krs_line *e = &h->v[i];
        jw_obj_begin(&w);
        jw_kint(&w, "revision", e->rev);
        jw_key(&w, "current");
        jw_bool(&w, e->rev == current);
        krs_time_format(ts, sizeof ts, e->created);
        jw_kstr(&w, "created", e->created < 0 ? "" : ts);
        line_images(&w, e->images);
        jw_key(&w, "changeCause");
        if (e->cause[0])
            jw_str(&w, e->cause);
        else
            jw_null(&w);
        jw_obj_end(&w);
    }
    jw_arr_end(&w);
    jw_obj_end(&w);
    return jw_finish(&w);
}
