/* Kubernetes operations for one job, matching what kubectl does: set image
 * (strategic merge patch), rollout status, rollout history and rollout undo
 * (JSON patch). Transport in kapi.c, documents in kdoc.c and krs.c,
 * following the rollout in rollout.c. */
#include "kube.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "k8sname.h"
#include "kapi.h"
#include "kjson.h"
#include "kdoc.h"
#include "kpods.h"
#include "krs.h"
#include "rollout.h"
#include "sb.h"

static const char SMP[] = "Content-Type: application/strategic-merge-patch+json";
static const char JSON_PATCH[] = "Content-Type: application/json-patch+json";

static int check_target(const char *ns, const char *name, struct kube_result *res)
{
    if (!k8sname_ns_ok(ns, strlen(ns))) return kapi_fail(res, "invalid namespace");
    if (!k8sname_name_ok(name, strlen(name))) return kapi_fail(res, "invalid deployment name");
    return 0;
}

/* Read the token; then (path not NULL) the deployment's API path. */
static int job_open(struct kapi_job *j, const char *ns, const char *name, char *path, size_t cap,
                    struct kube_result *res)
{
    char err[600], rest[K8S_NAME_MAX + 16];
    if (kapi_read_token(j, err, sizeof err) < 0) return kapi_fail(res, "%s", err);
    if (!path) return 0;
    snprintf(rest, sizeof rest, "deployments/%s", name);
    if (kapi_path(path, cap, &j->k->api, ns, rest) < 0)
        return kapi_fail(res, "request path too long");
    return 0;
}

/* ---- issue 9: when a revision went live, and why a rollout failed ---- */

/* Record on the Deployment when generation gen went live (KRS_LIVE_KEY);
 * the controller copies it to the ReplicaSet like the change-cause, where
 * history reads it. The JSON patch tests the generation first: nothing is
 * written over a later change. Best effort: the answer is not needed. */
static void mark_live(struct kapi_job *j, const char *ns, const char *name, long long gen)
{
    char rest[K8S_NAME_MAX + 16], path[1024], ts[32], body[256], err[600];
    struct httpc_resp p;
    snprintf(rest, sizeof rest, "deployments/%s", name);
    if (kapi_path(path, sizeof path, &j->k->api, ns, rest) < 0) return;
    krs_time_format(ts, sizeof ts, (long long)time(NULL));
    snprintf(body, sizeof body,
             "[{\"op\":\"test\",\"path\":\"/metadata/generation\",\"value\":%lld},"
             "{\"op\":\"add\",\"path\":\"/metadata/annotations/deploy-api~1live-at\","
             "\"value\":\"%s\"}]",
             gen, ts);
    if (kapi_request(j, "PATCH", path, JSON_PATCH, body, strlen(body), &p, err, sizeof err) == 0)
        kapi_free(&p);
}

/* Append why the rollout of ns/name is stuck (its new pods) and the next step. */
static void explain(struct kapi_job *j, const char *ns, const char *name, struct kube_result *res)
{
    char why[1500];
    size_t len = strlen(res->text);
    int plain = j->k->ui && j->k->ui->plain;
    struct sb b;
    int n = kpods_diagnose(j, ns, name, why, sizeof why);
    sb_init(&b, res->text + len, sizeof res->text - len);
    if (n > 0)
        sb_add(&b, "\n%s", why);
    else if (n < 0)
        sb_add(&b, "\n(the new pods could not be read: %s)", why);
    sb_add(&b, "\nNext: %s%s rollback %s/%s%s", plain ? "" : "`", plain ? "deploy-api" : "/deploy",
           ns, name, plain ? "" : "`");
}

/* Follow the rollout from d and report it. */
static int follow(struct kapi_job *j, const char *ns, const char *name, const struct kdeploy *d,
                  const char *done, const char *fail, struct kube_result *res)
{
    struct rollout f;
    rollout_follow(j, ns, name, d, &f);
    int rc = rollout_report(j, &f, res, done, fail);
    if (!j->k->ui) return rc; /* a bare operation (kube.h) */
    if (f.st == ROLLOUT_DONE) mark_live(j, ns, name, d->generation);
    if ((f.st == ROLLOUT_FAILED && !f.gone) || f.st == ROLLOUT_WAITING) explain(j, ns, name, res);
    return rc;
}

/* PATCH container's image to res->image with a change-cause into p. */
static int send_set_image(struct kapi_job *j, const char *path, const char *cname,
                          const struct kube_actor *who, struct httpc_resp *p,
                          struct kube_result *res)
{
    char err[600], cause[KUBE_CAUSE_MAX], what[IMAGE_MAX + 300], patch[4096];
    snprintf(what, sizeof what, "set %s=%s", cname, res->image);
    kdoc_change_cause(cause, sizeof cause, who, what);
    if (kdoc_set_image_patch(patch, sizeof patch, cname, res->image, cause) < 0)
        return kapi_fail(res, "patch too large");
    if (kapi_request(j, "PATCH", path, SMP, patch, strlen(patch), p, err, sizeof err) < 0)
        return kapi_fail(res, "%s", err);
    return 0;
}

/* 1 when the PATCH answer p is the deployment with res->image in place
 * (then parsed into pd), 0 when not, -1 with res filled on an API error. */
static int patch_applied(const struct httpc_resp *p, const char *ns, const char *name,
                         struct kdeploy *pd, struct kube_result *res)
{
    char now[IMAGE_MAX], c2[256], e2[256];
    if (!kapi_is2xx(p->status) || !p->body) {
        char w[400];
        snprintf(w, sizeof w, "cannot update deployment %s/%s", ns, name);
        return kapi_status_fail(res, p, w);
    }
    if (kdoc_deploy_parse(p->body, p->len, pd) == 0 &&
        kdoc_choose(pd, name, c2, sizeof c2, now, sizeof now, e2, sizeof e2) == 0 &&
        strcmp(now, res->image) == 0)
        return 1;
    kdoc_deploy_free(pd);
    return 0;
}

/* GET, choose the container, PATCH until the deployment runs res->image.
 * 1 with pd the deployment to follow; 0 when it already ran it (res
 * filled); -1 with res filled. */
static int set_image(struct kapi_job *j, const char *ns, const char *name, const char *path,
                     const struct kube_actor *who, struct kdeploy *pd, struct kube_result *res)
{
    struct httpc_resp r, p;
    char err[600], cname[256], cur[IMAGE_MAX];
    int sent = 0; /* a PATCH got a 2xx answer that was not readable */
    for (int attempt = 0;; attempt++) {
        if (kapi_get_deploy_checked(j, ns, name, &r, pd, res) < 0) return -1;
        kapi_free(&r);
        if (kdoc_choose(pd, name, cname, sizeof cname, cur, sizeof cur, err, sizeof err) < 0) {
            kdoc_deploy_free(pd);
            return kapi_fail(res, "%s", err);
        }
        if (strcmp(cur, res->image) == 0) {
            if (sent) return 1; /* that PATCH was applied after all: follow its rollout */
            res->ok = 1;
            res->revision = pd->revision;
            kdoc_deploy_free(pd);
            snprintf(res->text, sizeof res->text, "%s/%s is already running %s", ns, name,
                     res->image);
            return 0;
        }
        kdoc_deploy_free(pd);
        if (send_set_image(j, path, cname, who, &p, res) < 0) return -1;
        if (p.status == 409 && attempt < KUBE_CONFLICT_RETRIES) {
            kapi_free(&p);
            continue;
        }
        /* The answer must be the updated Deployment; anything else leaves
         * open whether the change was applied: read it again and see. */
        int ok = patch_applied(&p, ns, name, pd, res);
        kapi_free(&p);
        if (ok != 0) return ok;
        if (attempt >= KUBE_CONFLICT_RETRIES)
            return kapi_fail(res,
                             "cannot update deployment %s/%s: the API server's answer was not "
                             "the updated deployment",
                             ns, name);
        sent = 1;
    }
}

int kube_deploy(const struct kube_cfg *k, const char *ns, const char *name, const char *version,
                const struct kube_actor *who, struct kube_result *res)
{
    struct kapi_job j;
    struct kdeploy d;
    char err[600], path[1024], done[IMAGE_MAX + 400], fail[IMAGE_MAX + 400];
    kapi_init(&j, k, res);
    if (check_target(ns, name, res) < 0) return -1;
    if (kdoc_image_ref(res->image, sizeof res->image, k->image_base, name, version, err,
                       sizeof err) < 0)
        return kapi_fail(res, "%s", err);
    if (job_open(&j, ns, name, path, sizeof path, res) < 0) return -1;
    int rc = set_image(&j, ns, name, path, who, &d, res);
    if (rc <= 0) return rc;
    snprintf(done, sizeof done, "deployed %s to %s/%s", res->image, ns, name);
    snprintf(fail, sizeof fail, "deploy of %s to %s/%s", res->image, ns, name);
    rc = follow(&j, ns, name, &d, done, fail, res);
    kdoc_deploy_free(&d);
    return rc;
}

int kube_status(const struct kube_cfg *k, const char *ns, const char *name, struct kube_result *res)
{
    struct kapi_job j;
    struct httpc_resp r;
    struct kdeploy d;
    char err[600], cname[256];
    kapi_init(&j, k, res);
    if (check_target(ns, name, res) < 0 || job_open(&j, ns, name, NULL, 0, res) < 0) return -1;
    if (kapi_get_deploy_checked(&j, ns, name, &r, &d, res) < 0) return -1;
    int n = k->output_json ? (int)kjson_status(r.body, r.len, res->text, sizeof res->text)
                           : kdoc_status_text(r.body, r.len, res->text, sizeof res->text);
    kapi_free(&r);
    if (n < 0) {
        kdoc_deploy_free(&d);
        return kapi_fail(res, "deployment %s/%s: malformed answer", ns, name);
    }
    kdoc_choose(&d, name, cname, sizeof cname, res->image, sizeof res->image, err, sizeof err);
    res->revision = d.revision;
    res->ok = 1;
    kdoc_deploy_free(&d);
    return 0;
}

/* -o json (kjson.h): the whole list, as before issue 9's paging. */
static int history_json(struct kapi_job *j, const char *ns, const char *name, struct httpc_resp *r,
                        struct kube_result *res)
{
    struct httpc_resp l;
    if (kapi_list_rs(j, ns, r, &l, res) < 0) return -1;
    long n = kjson_history(r->body, r->len, l.body, l.len, res->text, sizeof res->text);
    kapi_free(&l);
    if (n < 0) return kapi_fail(res, "cannot read the rollout history of %s/%s", ns, name);
    res->ok = 1;
    return 0;
}

int kube_history(const struct kube_cfg *k, const char *ns, const char *name, int want,
                 struct kube_result *res)
{
    struct kapi_job j;
    struct httpc_resp r;
    struct kdeploy d;
    char sel[4096];
    kapi_init(&j, k, res);
    if (check_target(ns, name, res) < 0) return -1;
    if (want == 0) want = KUBE_HISTORY_DEFAULT;
    if (want < 1 || want > KUBE_HISTORY_MAX)
        return kapi_fail(res, "history shows 1 to %d revisions", KUBE_HISTORY_MAX);
    if (job_open(&j, ns, name, NULL, 0, res) < 0) return -1;
    if (kapi_get_deploy_checked(&j, ns, name, &r, &d, res) < 0) return -1;
    if (k->output_json) {
        kdoc_deploy_free(&d);
        int rc = history_json(&j, ns, name, &r, res);
        kapi_free(&r);
        return rc;
    }
    long sn = kdoc_selector(r.body, r.len, sel, sizeof sel);
    kapi_free(&r);
    struct krs_history *h = sn < 0 ? NULL : malloc(sizeof *h);
    if (!h) {
        kdoc_deploy_free(&d);
        return kapi_fail(res, "cannot build the deployment's label selector");
    }
    krs_history_init(h, d.uid, want);
    long current = d.revision;
    kdoc_deploy_free(&d);
    int rc = kapi_list_rs_pages(&j, ns, sel, krs_history_page, h, res);
    if (rc == 0) {
        int plain = k->ui && k->ui->plain;
        krs_history_format(h, ns, name, current, plain, res->text, sizeof res->text);
        res->mrkdwn = !plain;
        res->ok = 1;
    }
    krs_history_free(h);
    free(h);
    return rc;
}

/* GET the deployment (into r and d) and its ReplicaSets (into l) and pick
 * the target: its revision and its span in l (free r, d and l), or -1 with
 * res filled and nothing left to free. */
static long rollback_plan(struct kapi_job *j, const char *ns, const char *name, long revision,
                          struct httpc_resp *r, struct kdeploy *d, struct httpc_resp *l,
                          size_t *off, size_t *len, struct kube_result *res)
{
    char err[600];
    if (kapi_get_deploy_checked(j, ns, name, r, d, res) < 0) return -1;
    if (d->paused) {
        kdoc_deploy_free(d);
        kapi_free(r);
        return kapi_fail(res, "you cannot rollback a paused deployment; resume it first "
                              "with 'kubectl rollout resume' and try again");
    }
    if (kapi_list_rs(j, ns, r, l, res) < 0) {
        kdoc_deploy_free(d);
        kapi_free(r);
        return -1;
    }
    long target =
        krs_rollback_target(r->body, r->len, l->body, l->len, revision, off, len, err, sizeof err);
    if (target < 0) {
        kdoc_deploy_free(d);
        kapi_free(l);
        kapi_free(r);
        return kapi_fail(res, "%s", err);
    }
    return target;
}

/* Build kubectl's undo patch from the deployment r and the ReplicaSet
 * rs[0..len), free r, and send it into p. 0, or -1 with res filled. */
static int rollback_send(struct kapi_job *j, const char *path, struct httpc_resp *r, const char *rs,
                         size_t len, const char *cause, struct httpc_resp *p,
                         struct kube_result *res)
{
    char err[600];
    size_t cap = r->len + len + 2 * KUBE_CAUSE_MAX + 1024;
    char *patch = malloc(cap);
    long pn = patch
                  ? krs_rollback_patch(r->body, r->len, rs, len, cause, patch, cap, err, sizeof err)
                  : -1;
    kapi_free(r);
    if (pn < 0) {
        free(patch);
        return kapi_fail(res, "%s", patch ? err : "out of memory");
    }
    int rc = kapi_request(j, "PATCH", path, JSON_PATCH, patch, (size_t)pn, p, err, sizeof err);
    free(patch);
    return rc < 0 ? kapi_fail(res, "%s", err) : 0;
}

/* As for deploy: a 2xx whose body is not the restored deployment (garbage
 * from a proxy) is not taken for success; read it again. 1 with pd the
 * restored deployment, 0 when it is not (yet) restored, -1 with res filled.
 * p is freed. */
static int rollback_applied(struct kapi_job *j, const char *ns, const char *name,
                            struct httpc_resp *p, const char *rs, size_t len, struct kdeploy *pd,
                            struct kube_result *res)
{
    int ok = krs_template_matches(p->body, p->len, rs, len) == 1;
    if (ok) {
        if (kdoc_deploy_parse(p->body, p->len, pd) < 0) {
            kapi_free(p);
            return kapi_fail(res, "out of memory");
        }
        kapi_free(p);
        return 1;
    }
    kapi_free(p);
    if (kapi_get_deploy_checked(j, ns, name, p, pd, res) < 0) return -1;
    ok = krs_template_matches(p->body, p->len, rs, len) == 1;
    kapi_free(p);
    if (!ok) kdoc_deploy_free(pd);
    return ok;
}

/* One rollback attempt: 1 with pd the deployment to follow, 0 when done
 * without a change (res filled), 2 to try again, -1 with res filled. */
static int rollback_once(struct kapi_job *j, const char *ns, const char *name, long revision,
                         const char *path, const struct kube_actor *who, int last, long *target,
                         struct kdeploy *pd, struct kube_result *res)
{
    struct httpc_resp r, l, p;
    char err[600], cname[256], cause[KUBE_CAUSE_MAX], what[300];
    size_t off, len;
    *target = rollback_plan(j, ns, name, revision, &r, pd, &l, &off, &len, res);
    if (*target < 0) return -1;
    const char *rs = l.body + off;
    kdoc_choose_container(rs, len, name, cname, sizeof cname, res->image, sizeof res->image, err,
                          sizeof err);
    int same = krs_template_matches(r.body, r.len, rs, len) == 1;
    long rev = pd->revision;
    kdoc_deploy_free(pd);
    if (same) {
        res->ok = 1;
        res->revision = rev;
        kapi_free(&l);
        kapi_free(&r);
        snprintf(res->text, sizeof res->text,
                 "%s/%s is already at revision %ld: skipped rollback (current template "
                 "already matches revision %ld)",
                 ns, name, *target, *target);
        return 0;
    }
    snprintf(what, sizeof what, "rolled back %s to revision %ld", name, *target);
    kdoc_change_cause(cause, sizeof cause, who, what);
    int rc = rollback_send(j, path, &r, rs, len, cause, &p, res);
    if (rc == 0 && p.status == 409 && !last) {
        kapi_free(&p);
        rc = 2;
    } else if (rc == 0 && (!kapi_is2xx(p.status) || !p.body)) {
        char w[400];
        snprintf(w, sizeof w, "failed restoring revision %ld of %s/%s", *target, ns, name);
        kapi_status_fail(res, &p, w);
        kapi_free(&p);
        rc = -1;
    } else if (rc == 0) {
        rc = rollback_applied(j, ns, name, &p, rs, len, pd, res);
        if (rc == 0 && !last) rc = 2;
        if (rc == 0)
            rc = kapi_fail(res,
                           "the API server's answer was not the restored deployment "
                           "%s/%s; check it with /deploy status",
                           ns, name);
    }
    kapi_free(&l);
    return rc;
}

int kube_rollback(const struct kube_cfg *k, const char *ns, const char *name, long revision,
                  const struct kube_actor *who, struct kube_result *res)
{
    struct kapi_job j;
    struct kdeploy d;
    char path[1024], done[IMAGE_MAX + 400], fail[IMAGE_MAX + 400];
    long target = -1;
    int rc;
    kapi_init(&j, k, res);
    if (check_target(ns, name, res) < 0) return -1;
    if (revision < 0) return kapi_fail(res, "invalid revision %ld", revision);
    if (job_open(&j, ns, name, path, sizeof path, res) < 0) return -1;
    for (int attempt = 0;; attempt++) {
        rc = rollback_once(&j, ns, name, revision, path, who, attempt >= KUBE_CONFLICT_RETRIES,
                           &target, &d, res);
        if (rc != 2) break;
    }
    if (rc <= 0) return rc;
    snprintf(done, sizeof done, "rolled back %s/%s to revision %ld (%s)", ns, name, target,
             res->image);
    snprintf(fail, sizeof fail, "rollback of %s/%s to revision %ld", ns, name, target);
    rc = follow(&j, ns, name, &d, done, fail, res);
    kdoc_deploy_free(&d);
    return rc;
}
