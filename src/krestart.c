/* kubectl rollout restart for Deployments (kubectl's objectrestarter):
 * refuse a paused one, set the pod template's restartedAt annotation with
 * a strategic merge patch, follow the rollout it starts. */
#include "krestart.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "json.h"
#include "k8sname.h"
#include "kapi.h"
#include "rollout.h"

static const char SMP[] = "Content-Type: application/strategic-merge-patch+json";

/* {"k0":{"k1":...{"annotations":{key:val}}...}} as the next member of the
 * object being written: keys[0..n) open the path, which is then closed. */
static void annotation_at(struct jw *w, const char *const *keys, int n, const char *key,
                          const char *val)
{
    for (int i = 0; i < n; i++) {
        jw_key(w, keys[i]);
        jw_obj_begin(w);
    }
    jw_key(w, "annotations");
    jw_obj_begin(w);
    jw_kstr(w, key, val);
    for (int i = 0; i <= n; i++) jw_obj_end(w);
}

long krestart_patch(char *buf, size_t cap, const char *at, const char *cause)
{
    static const char *const meta[] = {"metadata"};
    static const char *const tmpl[] = {"spec", "template", "metadata"};
    struct jw w;
    jw_init(&w, buf, cap);
    jw_obj_begin(&w);
    if (cause && *cause) annotation_at(&w, meta, 1, KDOC_CAUSE_KEY, cause);
    annotation_at(&w, tmpl, 3, KRESTART_KEY, at);
    jw_obj_end(&w);
    return jw_finish(&w);
}

void krestart_time(char *out, size_t cap, long long t)
{
    time_t tt = (time_t)t;
    struct tm tm;
    gmtime_r(&tt, &tm);
    snprintf(out, cap, "%04d-%02d-%02dT%02d:%02d:%02dZ", tm.tm_year + 1900, tm.tm_mon + 1,
             tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

/* GET the deployment into d (refusing a paused one, as kubectl does) and
 * PATCH the restart into it. 0 with d the deployment to follow, -1 with
 * res filled. */
static int send_restart(struct kapi_job *j, const char *ns, const char *name, const char *path,
                        const struct kube_actor *who, struct kdeploy *d, struct kube_result *res)
{
    struct httpc_resp r;
    char err[600], cname[256], cause[KUBE_CAUSE_MAX], at[32], patch[KUBE_CAUSE_MAX + 256];
    if (kapi_get_deploy_checked(j, ns, name, &r, d, res) < 0) return -1;
    kapi_free(&r);
    int paused = d->paused;
    kdoc_choose(d, name, NULL, cname, sizeof cname, res->image, sizeof res->image, err, sizeof err);
    kdoc_deploy_free(d);
    if (paused)
        return kapi_fail(res, "can't restart paused deployment %s/%s (run rollout resume first)",
                         ns, name);
    krestart_time(at, sizeof at, (long long)time(NULL));
    char what[K8S_NAME_MAX + 16];
    snprintf(what, sizeof what, "restarted %s", name);
    kdoc_change_cause(cause, sizeof cause, who, what);
    long n = krestart_patch(patch, sizeof patch, at, cause);
    if (n < 0) return kapi_fail(res, "patch too large");
    if (kapi_request(j, "PATCH", path, SMP, patch, (size_t)n, &r, err, sizeof err) < 0)
        return kapi_fail(res, "%s", err);
    if (!kapi_is2xx(r.status) || !r.body) {
        snprintf(err, sizeof err, "cannot restart deployment %s/%s", ns, name);
        kapi_status_fail(res, &r, err);
        kapi_free(&r);
        return -1;
    }
    /* Follow what the answer holds; an answer that is not the Deployment
     * (a broken proxy) is read again. */
    int rc = kdoc_deploy_parse(r.body, r.len, d);
    kapi_free(&r);
    if (rc == 0 && d->is_deployment) return 0;
    kdoc_deploy_free(d);
    if (kapi_get_deploy_checked(j, ns, name, &r, d, res) < 0) return -1;
    kapi_free(&r);
    return 0;
}

int kube_restart(const struct kube_cfg *k, const char *ns, const char *name,
                 const struct kube_actor *who, struct kube_result *res)
{
    struct kapi_job j;
    struct kdeploy d;
    struct rollout f;
    char err[600], rest[K8S_NAME_MAX + 16], path[1024], done[400], fail[400];
    kapi_init(&j, k, res);
    if (!k8sname_ns_ok(ns, strlen(ns))) return kapi_fail(res, "invalid namespace");
    if (!k8sname_name_ok(name, strlen(name))) return kapi_fail(res, "invalid deployment name");
    if (kapi_read_token(&j, err, sizeof err) < 0) return kapi_fail(res, "%s", err);
    snprintf(rest, sizeof rest, "deployments/%s", name);
    if (kapi_path(path, sizeof path, &k->api, ns, rest) < 0)
        return kapi_fail(res, "request path too long");
    if (send_restart(&j, ns, name, path, who, &d, res) < 0) return -1;
    snprintf(done, sizeof done, "restarted %s/%s", ns, name);
    snprintf(fail, sizeof fail, "restart of %s/%s", ns, name);
    rollout_follow(&j, ns, name, &d, NULL, &f);
    kdoc_deploy_free(&d);
    return rollout_report(&j, &f, res, done, fail);
}
