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
#include "kimage.h"
#include "kpods.h"
#include "krs.h"
#include "rollout.h"
#include "sb.h"
#include "str.h"

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

/* Follow the rollout from d (waiting for want, may be NULL) into f and
 * report it: the live-at record when done, why when it failed. */
static int follow(struct kapi_job *j, const char *ns, const char *name, const struct kdeploy *d,
                  const struct rollout_want *want, struct rollout *f, const char *done,
                  const char *fail, struct kube_result *res)
{
    rollout_follow(j, ns, name, d, want, f);
    int rc = rollout_report(j, f, res, done, fail);
    if (!j->k->ui) return rc; /* a bare operation (kube.h) */
    if (f->st == ROLLOUT_DONE) mark_live(j, ns, name, d->generation);
    if ((f->st == ROLLOUT_FAILED && !f->gone) || f->st == ROLLOUT_WAITING)
        explain(j, ns, name, res);
    return rc;
}

/* What a deploy is about to do, read from the deployment before any change. */
struct plan {
    char cname[256];                                 /* the chosen container */
    char cur[IMAGE_MAX];                             /* its image now */
    char from[VERSION_MAX + 8], to[VERSION_MAX + 8]; /* the versions people read */
    char init[KUBE_INIT_MAX][64];                    /* init containers of the same repository */
    const char *initp[KUBE_INIT_MAX];                /* pointers to them, for the patch */
    int ninit, inits_set; /* inits_set: they all run res->image already */
    char warn[300];       /* who else manages it, "" if nobody */
};

/* The refusal for a container that cannot be chosen: kdoc_choose's list and the -c form. */
static int choose_fail(const struct kdeploy *d, const char *ns, const char *name,
                       const char *version, const char *err, struct kube_result *res)
{
    const char *ex =
        d->ncontainers > 0 && d->containers[0].name_ok ? d->containers[0].name : "NAME";
    return kapi_fail(res, "%s. Choose one with -c: /deploy %s/%s %s -c %s", err, ns, name, version,
                     ex);
}

/* Choose the container, the new image (res->image), the init containers
 * and check IMAGE_BASE and GITOPS_MANAGED. 0, or -1 with res filled. */
static int plan_deploy(const struct kube_cfg *k, const struct kdeploy *d, const char *ns,
                       const char *name, const char *version, const char *want, struct plan *p,
                       struct kube_result *res)
{
    char err[600], repo[IMAGE_MAX];
    memset(p, 0, sizeof *p);
    if (kdoc_choose(d, name, want, p->cname, sizeof p->cname, p->cur, sizeof p->cur, err,
                    sizeof err) < 0)
        return choose_fail(d, ns, name, version, err, res);
    if (kimage_with_version(res->image, sizeof res->image, p->cur, version, err, sizeof err) < 0)
        return kapi_fail(res, "container %s of %s/%s: %s", p->cname, ns, name, err);
    kimage_repo(p->cur, repo, sizeof repo);
    if (!kimage_allowed(k->image_base, repo))
        return kapi_fail(res,
                         "the image repository %s of container %s is not under IMAGE_BASE (%s): "
                         "deploy-api only deploys new versions of the repositories it allows",
                         repo, p->cname, k->image_base);
    if (d->manager[0] && k->gitops_refuse)
        return kapi_fail(res,
                         "%s/%s is managed by %s: change it there (GITOPS_MANAGED=refuse here)", ns,
                         name, d->manager);
    if (d->manager[0])
        snprintf(p->warn, sizeof p->warn, "managed by %s, which may revert this change",
                 d->manager);
    kimage_version(p->cur, p->from, sizeof p->from);
    kimage_version(res->image, p->to, sizeof p->to);
    p->inits_set = 1;
    for (int i = 0; i < d->ninit; i++) {
        const struct kdoc_container *c = &d->init[i];
        if (!c->name_ok || !kimage_same_repo(c->image, p->cur)) continue;
        if (p->ninit == KUBE_INIT_MAX ||
            str_copy(p->init[p->ninit], sizeof p->init[0], c->name) < 0)
            return kapi_fail(res,
                             "%s/%s: more than %d init containers run %s, or one's name is "
                             "too long; set the image with kubectl",
                             ns, name, KUBE_INIT_MAX, repo);
        p->initp[p->ninit] = p->init[p->ninit];
        p->ninit++;
        if (strcmp(c->image, res->image) != 0) p->inits_set = 0;
    }
    return 0;
}

/* "default/web 1.3 → 1.4 (r/web:1.4, with init container a, b)" into out. */
static void plan_what(const struct plan *p, const char *ns, const char *name, const char *image,
                      char *out, size_t cap)
{
    struct sb b;
    sb_init(&b, out, cap);
    sb_add(&b, "%s/%s %s \xe2\x86\x92 %s (%s", ns, name, p->from, p->to, image);
    for (int i = 0; i < p->ninit; i++)
        sb_add(&b, "%s%s", i ? ", " : ", with init container ", p->init[i]);
    sb_add(&b, ")");
}

/* Tell the channel the deploy is going ahead (once). */
static void announce(const struct kube_cfg *k, const struct plan *p, const char *ns,
                     const char *name, struct kube_result *res)
{
    char what[1200], text[1600];
    if (!k->ui || !k->ui->announce || res->announced) return;
    plan_what(p, ns, name, res->image, what, sizeof what);
    snprintf(text, sizeof text, "is deploying %s%s%s", what, p->warn[0] ? ". Warning: " : "",
             p->warn);
    res->announced = 1;
    k->ui->announce(k->ui->announce_arg, text);
}

/* PATCH the plan's images with a change-cause into r. 0, or -1 with res filled. */
static int send_set_image(struct kapi_job *j, const char *path, const struct plan *pl,
                          const struct kube_actor *who, struct httpc_resp *r,
                          struct kube_result *res)
{
    char err[600], cause[KUBE_CAUSE_MAX], what[IMAGE_MAX + 300], patch[16384];
    snprintf(what, sizeof what, "set %s=%s%s", pl->cname, res->image,
             pl->ninit ? " (and its init containers)" : "");
    kdoc_change_cause(cause, sizeof cause, who, what);
    if (kdoc_set_image_patch(patch, sizeof patch, pl->cname, res->image, pl->initp, pl->ninit,
                             cause) < 0)
        return kapi_fail(res, "patch too large");
    if (kapi_request(j, "PATCH", path, SMP, patch, strlen(patch), r, err, sizeof err) < 0)
        return kapi_fail(res, "%s", err);
    return 0;
}

/* The deployment the PATCH made, from its answer r (freed): parsed into
 * pd when it is a Deployment whose generation passed gen0, else read
 * again once (an answer broken by a proxy). 1 with pd, 0 with pd when the
 * answer was the deployment but its generation did not move (admission
 * made it what already runs), 2 when the answer was unreadable and the
 * deployment unchanged (the PATCH did not go in: send it again), -1 with
 * res filled. */
static int patch_result(struct kapi_job *j, const char *ns, const char *name, long long gen0,
                        struct httpc_resp *r, struct kdeploy *pd, struct kube_result *res)
{
    if (!kapi_is2xx(r->status) || !r->body) {
        char w[400];
        snprintf(w, sizeof w, "cannot update deployment %s/%s", ns, name);
        kapi_status_fail(res, r, w);
        kapi_free(r);
        return -1;
    }
    int ok = kdoc_deploy_parse(r->body, r->len, pd) == 0 && pd->is_deployment;
    kapi_free(r);
    if (!ok) {
        kdoc_deploy_free(pd);
        if (kapi_get_deploy_checked(j, ns, name, r, pd, res) < 0) return -1;
        kapi_free(r);
    }
    if (pd->generation > gen0) return 1;
    if (ok) return 0;
    kdoc_deploy_free(pd);
    return 2;
}

/* Image already in place: that revision's real rollout state. 1 when it
 * is still rolling out (follow it), else 0 or -1 with res filled. */
static int already_set(const struct kdeploy *d, const char *ns, const char *name,
                       const struct plan *p, struct kube_result *res)
{
    char msg[512];
    enum kdoc_rollout st = kdoc_rollout(d, NULL, msg, sizeof msg);
    res->revision = d->revision;
    if (st == ROLLOUT_WAITING) return 1;
    if (st == ROLLOUT_DONE) {
        res->ok = 1;
        res->outcome = KUBE_DONE;
        snprintf(res->text, sizeof res->text, "%s/%s is already running %s (%s, revision %ld)", ns,
                 name, p->to, res->image, d->revision);
        return 0;
    }
    kapi_fail(res, "%s", msg);
    snprintf(res->text, sizeof res->text,
             "%s/%s already has %s (revision %ld), but its rollout failed: %s", ns, name, p->to,
             d->revision, msg);
    return -1;
}

/* A failed deploy with AUTO_ROLLBACK: back to revision prev, both told. */
static void auto_rollback(struct kapi_job *j, const char *ns, const char *name, long prev,
                          const struct kube_actor *who, const char *path, struct kube_result *res);

/* GET, plan, PATCH once (again only after 409 Conflict). 1 with pd the
 * deployment to follow (want filled), 0 or -1 when done (res filled). */
static int deploy_patch(struct kapi_job *j, const char *ns, const char *name, const char *version,
                        const char *want, const char *path, const struct kube_actor *who,
                        struct plan *pl, struct kdeploy *pd, long *prev, struct kube_result *res)
{
    struct httpc_resp r;
    for (int attempt = 0;; attempt++) {
        if (kapi_get_deploy_checked(j, ns, name, &r, pd, res) < 0) return -1;
        kapi_free(&r);
        if (plan_deploy(j->k, pd, ns, name, version, want, pl, res) < 0) {
            kdoc_deploy_free(pd);
            return -1;
        }
        *prev = pd->revision;
        if (strcmp(pl->cur, res->image) == 0 && pl->inits_set) {
            /* nothing to change: public only when there is a rollout to follow */
            int rc = already_set(pd, ns, name, pl, res);
            if (rc <= 0) kdoc_deploy_free(pd);
            if (rc == 1) announce(j->k, pl, ns, name, res);
            return rc;
        }
        long long gen0 = pd->generation;
        kdoc_deploy_free(pd);
        if (send_set_image(j, path, pl, who, &r, res) < 0) return -1;
        if (r.status == 409 && attempt < KUBE_CONFLICT_RETRIES) {
            kapi_free(&r);
            continue;
        }
        int rc = patch_result(j, ns, name, gen0, &r, pd, res);
        /* public once the API took the change: a refusal stays private */
        if (rc == 1) announce(j->k, pl, ns, name, res);
        if (rc == 2 && attempt < KUBE_CONFLICT_RETRIES) continue;
        if (rc == 2)
            return kapi_fail(res,
                             "cannot update deployment %s/%s: the API server's answer was not "
                             "the updated deployment",
                             ns, name);
        if (rc == 0) { /* admission made it what runs already */
            const char *now = kdoc_image_of(pd, pl->cname, 0);
            str_copy(res->image, sizeof res->image, now ? now : res->image);
            rc = already_set(pd, ns, name, pl, res);
            if (rc <= 0) kdoc_deploy_free(pd);
        }
        return rc;
    }
}

int kube_deploy(const struct kube_cfg *k, const char *ns, const char *name, const char *version,
                const char *container, const struct kube_actor *who, struct kube_result *res)
{
    struct kapi_job j;
    struct kdeploy d;
    struct plan pl;
    struct rollout f;
    struct rollout_want want;
    char path[1024], what[1200], done[1400], fail[1400], asked[IMAGE_MAX], note[IMAGE_MAX + 64];
    long prev = -1;
    kapi_init(&j, k, res);
    if (check_target(ns, name, res) < 0) return -1;
    if (!version || !k8sname_version_ok(version, strlen(version)))
        return kapi_fail(res, "invalid version (a tag or sha256:<64 hex>)");
    if (job_open(&j, ns, name, path, sizeof path, res) < 0) return -1;
    int rc = deploy_patch(&j, ns, name, version, container, path, who, &pl, &d, &prev, res);
    if (rc <= 0) return rc;
    /* Follow the generation the PATCH made, with the image it holds. */
    memset(&want, 0, sizeof want);
    str_copy(asked, sizeof asked, res->image);
    const char *now = kdoc_image_of(&d, pl.cname, 0);
    if (now) str_copy(res->image, sizeof res->image, now);
    note[0] = 0;
    if (strcmp(asked, res->image) != 0)
        snprintf(note, sizeof note, "; admission changed it to %s", res->image);
    want.gen = d.generation;
    str_copy(want.container, sizeof want.container, pl.cname);
    str_copy(want.image, sizeof want.image, res->image);
    plan_what(&pl, ns, name, asked, what, sizeof what);
    if (d.paused) {
        kdoc_deploy_free(&d);
        res->outcome = KUBE_PENDING;
        kapi_fail(res, "deployment %s/%s is paused", ns, name);
        snprintf(res->text, sizeof res->text,
                 "%s/%s is paused: %s%s is recorded and rolls out when it is resumed "
                 "(kubectl rollout resume deployment/%s -n %s)",
                 ns, name, what, note, name, ns);
        return -1;
    }
    snprintf(done, sizeof done, "deployed %.1100s%.200s", what, note);
    snprintf(fail, sizeof fail, "deploy of %.1100s%.200s", what, note);
    rc = follow(&j, ns, name, &d, &want, &f, done, fail, res);
    kdoc_deploy_free(&d);
    if (pl.warn[0]) {
        size_t n = strlen(res->text);
        snprintf(res->text + n, sizeof res->text - n, "\nWarning: %s", pl.warn);
    }
    if (f.st == ROLLOUT_FAILED && k->auto_rollback && prev > 0)
        auto_rollback(&j, ns, name, prev, who, path, res);
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
    kdoc_choose(&d, name, NULL, cname, sizeof cname, res->image, sizeof res->image, err,
                sizeof err);
    res->revision = d.revision;
    res->ok = 1;
    kdoc_deploy_free(&d);
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
    if (rc == 0 && k->output_json) {
        if (kjson_history(ns, name, current, h, res->text, sizeof res->text) < 0)
            rc = kapi_fail(res, "cannot read the rollout history of %s/%s", ns, name);
        res->ok = rc == 0;
    } else if (rc == 0) {
        int plain = k->ui && k->ui->plain;
        krs_history_format(h, ns, name, current, plain, res->text, sizeof res->text);
        res->mrkdwn = !plain;
        res->ok = 1;
    }
    krs_history_free(h);
    free(h);
    return rc;
}

/* GET the deployment (into r and d), read its ReplicaSets page by page
 * into t and pick the target: its revision and its object rs[0..len)
 * (owned by t; free r, d and t), or -1 with res filled and nothing left to
 * free. */
static long rollback_plan(struct kapi_job *j, const char *ns, const char *name, long revision,
                          struct httpc_resp *r, struct kdeploy *d, struct krs_target *t,
                          const char **rs, size_t *len, struct kube_result *res)
{
    char err[600], sel[4096];
    if (kapi_get_deploy_checked(j, ns, name, r, d, res) < 0) return -1;
    if (d->paused) {
        kdoc_deploy_free(d);
        kapi_free(r);
        return kapi_fail(res, "you cannot rollback a paused deployment; resume it first "
                              "with 'kubectl rollout resume' and try again");
    }
    krs_target_init(t, d->uid, revision);
    long target = -1;
    if (kdoc_selector(r->body, r->len, sel, sizeof sel) < 0)
        kapi_fail(res, "cannot build the deployment's label selector");
    else if (kapi_list_rs_pages(j, ns, sel, krs_target_page, t, res) == 0 &&
             (target = krs_target_pick(t, name, rs, len, err, sizeof err)) < 0)
        kapi_fail(res, "%s", err);
    if (target < 0) {
        kdoc_deploy_free(d);
        krs_target_free(t);
        kapi_free(r);
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
    struct httpc_resp r, p;
    struct krs_target t;
    char err[600], cname[256], cause[KUBE_CAUSE_MAX], what[300];
    const char *rs;
    size_t len;
    *target = rollback_plan(j, ns, name, revision, &r, pd, &t, &rs, &len, res);
    if (*target < 0) return -1;
    kdoc_choose_container(rs, len, name, NULL, cname, sizeof cname, res->image, sizeof res->image,
                          err, sizeof err);
    int same = krs_template_matches(r.body, r.len, rs, len) == 1;
    long rev = pd->revision;
    kdoc_deploy_free(pd);
    if (same) {
        res->ok = 1;
        res->revision = rev;
        krs_target_free(&t);
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
    krs_target_free(&t);
    return rc;
}

int kube_rollback(const struct kube_cfg *k, const char *ns, const char *name, long revision,
                  const struct kube_actor *who, struct kube_result *res)
{
    struct kapi_job j;
    struct kdeploy d;
    struct rollout f;
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
    rc = follow(&j, ns, name, &d, NULL, &f, done, fail, res);
    kdoc_deploy_free(&d);
    return rc;
}

static void auto_rollback(struct kapi_job *j, const char *ns, const char *name, long prev,
                          const struct kube_actor *who, const char *path, struct kube_result *res)
{
    static struct kube_result rb; /* the rollback's own result; res keeps the failure */
    struct kdeploy d;
    long target = -1;
    int rc;
    memset(&rb, 0, sizeof rb);
    for (int attempt = 0;; attempt++) {
        rc = rollback_once(j, ns, name, prev, path, who, attempt >= KUBE_CONFLICT_RETRIES, &target,
                           &d, &rb);
        if (rc != 2) break;
    }
    size_t n = strlen(res->text);
    if (rc == 1) {
        char done[IMAGE_MAX + 200], fail[IMAGE_MAX + 200];
        struct rollout f;
        snprintf(done, sizeof done, "rolled back to revision %ld (%s)", target, rb.image);
        snprintf(fail, sizeof fail, "rollback to revision %ld (%s)", target, rb.image);
        rollout_follow(j, ns, name, &d, NULL, &f);
        kdoc_deploy_free(&d);
        rollout_report(j, &f, &rb, done, fail);
    }
    snprintf(res->text + n, sizeof res->text - n, "\nAUTO_ROLLBACK: %s", rb.text);
}
