/* Deployment documents: kubectl's rollout-status rules, container choice,
 * image references, change-cause, set-image patch, selector, status text,
 * watch events. See kdoc.h. */
#include "kdoc.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "k8sname.h"
#include "kimage.h"
#include "str.h"

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

int kdoc_image_ref(char *out, size_t cap, const char *base, const char *name, const char *version,
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
int kdoc_json_parse(struct json_doc *d, const char *s, size_t n)
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

void kdoc_json_free(struct json_doc *d)
{
    free(d->toks);
    d->toks = NULL;
}

/* String at tok into out; "" and -1 when absent or not a fitting string. */
long kdoc_tok_str(const struct json_doc *d, int tok, char *out, size_t cap)
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
long kdoc_revision(const struct json_doc *d, int obj)
{
    char b[32], *end;
    int t = json_path(d, obj, "metadata", "annotations", KDOC_REV_KEY, JP_END);
    if (kdoc_tok_str(d, t, b, sizeof b) <= 0) return -1;
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

/* The containers (or initContainers) array of the pod template at obj into
 * a malloc'd table; 0, or -1 when out of memory. */
static int read_containers(const struct json_doc *d, int obj, const char *key,
                           struct kdoc_container **out, int *n)
{
    int cs = json_path(d, obj, "spec", "template", "spec", key, JP_END);
    *out = NULL;
    *n = 0;
    if (cs < 0 || d->toks[cs].type != JSON_ARRAY || d->toks[cs].size == 0) return 0;
    struct kdoc_container *v = calloc((size_t)d->toks[cs].size, sizeof *v);
    if (!v) return -1;
    for (int e = json_first(d, cs); e >= 0 && *n < d->toks[cs].size; e = json_next(d, e)) {
        struct kdoc_container *c = &v[(*n)++];
        c->name_ok = kdoc_tok_str(d, json_get(d, e, "name"), c->name, sizeof c->name) > 0;
        kdoc_tok_str(d, json_get(d, e, "image"), c->image, sizeof c->image);
    }
    *out = v;
    return 0;
}

static void fill_status(const struct json_doc *d, int obj, struct kdeploy *k)
{
    int st = json_get(d, obj, "status");
    k->generation = tok_ll(d, json_path(d, obj, "metadata", "generation", JP_END), 0);
    k->observed = tok_ll(d, json_get(d, st, "observedGeneration"), 0);
    k->counts.desired = tok_ll(d, json_path(d, obj, "spec", "replicas", JP_END), 1);
    k->counts.replicas = tok_ll(d, json_get(d, st, "replicas"), 0);
    k->counts.updated = tok_ll(d, json_get(d, st, "updatedReplicas"), 0);
    k->counts.available = tok_ll(d, json_get(d, st, "availableReplicas"), 0);
    k->counts.ready = tok_ll(d, json_get(d, st, "readyReplicas"), 0);
    int conds = json_get(d, st, "conditions");
    for (int e = json_first(d, conds); e >= 0; e = json_next(d, e)) {
        if (!json_eq(d, json_get(d, e, "type"), "Progressing")) continue;
        k->deadline_exceeded = json_eq(d, json_get(d, e, "reason"), "ProgressDeadlineExceeded");
        break; /* kubectl looks at the first Progressing condition only */
    }
}

/* The struct kdeploy of the object at obj of a parsed document. */
static int fill_deploy(const struct json_doc *d, int obj, struct kdeploy *k)
{
    memset(k, 0, sizeof *k);
    k->is_deployment = is_deployment(d, obj);
    kdoc_tok_str(d, json_path(d, obj, "metadata", "name", JP_END), k->name, sizeof k->name);
    kdoc_tok_str(d, json_path(d, obj, "metadata", "namespace", JP_END), k->ns, sizeof k->ns);
    kdoc_tok_str(d, json_path(d, obj, "metadata", "uid", JP_END), k->uid, sizeof k->uid);
    if (kdoc_tok_str(d, json_path(d, obj, "metadata", "resourceVersion", JP_END), k->rv,
                     sizeof k->rv) <= 0)
        k->rv[0] = 0;
    k->revision = kdoc_revision(d, obj);
    fill_status(d, obj, k);
    int p = json_path(d, obj, "spec", "paused", JP_END);
    k->paused = p >= 0 && d->toks[p].type == JSON_TRUE;
    k->progress_deadline_s =
        tok_ll(d, json_path(d, obj, "spec", "progressDeadlineSeconds", JP_END), -1);
    if (read_containers(d, obj, "containers", &k->containers, &k->ncontainers) < 0 ||
        read_containers(d, obj, "initContainers", &k->init, &k->ninit) < 0) {
        kdoc_deploy_free(k);
        return -1;
    }
    k->has_containers = k->ncontainers > 0;
    kdoc_manager(d, obj, k->manager, sizeof k->manager);
    return 0;
}

/* ---- who else manages it ---- */

/* The string value of metadata.WHERE[key] of obj into v ("" if absent). */
static int meta_has(const struct json_doc *d, int obj, const char *where, const char *key, char *v,
                    size_t cap)
{
    int t = json_path(d, obj, "metadata", where, key, JP_END);
    if (t < 0) return 0;
    kdoc_tok_str(d, t, v, cap);
    return 1;
}

void kdoc_manager(const struct json_doc *d, int obj, char *out, size_t cap)
{
    static const struct {
        const char *who, *where, *key, *value; /* value NULL: any */
    } m[] = {
        {"Argo CD", "annotations", "argocd.argoproj.io/tracking-id", NULL},
        {"Argo CD", "labels", "argocd.argoproj.io/instance", NULL},
        {"Flux", "labels", "kustomize.toolkit.fluxcd.io/name", NULL},
        {"Flux", "labels", "helm.toolkit.fluxcd.io/name", NULL},
        {"Helm", "labels", "app.kubernetes.io/managed-by", "Helm"},
        {"Helm", "annotations", "meta.helm.sh/release-name", NULL},
        {"Argo CD", "labels", "app.kubernetes.io/instance", NULL}, /* after Helm's */
    };
    char v[128], clean[128];
    if (cap) out[0] = 0;
    for (size_t i = 0; i < sizeof m / sizeof m[0]; i++) {
        if (!meta_has(d, obj, m[i].where, m[i].key, v, sizeof v)) continue;
        if (m[i].value && strcmp(v, m[i].value) != 0) continue;
        sb_clean_copy(clean, sizeof clean, v);
        snprintf(out, cap, "%s (%s %s%s%s)", m[i].who,
                 m[i].where[0] == 'l' ? "label" : "annotation", m[i].key, clean[0] ? "=" : "",
                 clean);
        return;
    }
}

int kdoc_deploy_parse(const char *json, size_t len, struct kdeploy *d)
{
    struct json_doc doc;
    memset(d, 0, sizeof *d);
    d->revision = -1;
    if (kdoc_json_parse(&doc, json, len) < 0) return -1;
    int r = fill_deploy(&doc, 0, d);
    kdoc_json_free(&doc);
    return r;
}

void kdoc_deploy_free(struct kdeploy *d)
{
    free(d->containers);
    free(d->init);
    d->containers = d->init = NULL;
    d->ncontainers = d->ninit = 0;
}

/* ---- rollout status (kubectl's DeploymentStatusViewer) ---- */

enum kdoc_rollout kdoc_rollout(const struct kdeploy *d, struct kdoc_counts *c, char *msg,
                               size_t cap)
{
    const struct kdoc_counts *k = &d->counts;
    if (cap) msg[0] = 0;
    if (!d->is_deployment) {
        snprintf(msg, cap, "not a Deployment object");
        return ROLLOUT_ERROR;
    }
    if (c) *c = *k;
    if (d->generation > d->observed) {
        snprintf(msg, cap, "Waiting for deployment spec update to be observed...");
        return ROLLOUT_WAITING;
    }
    if (d->deadline_exceeded) {
        snprintf(msg, cap, "deployment \"%s\" exceeded its progress deadline", d->name);
        return ROLLOUT_FAILED;
    }
    if (k->updated < k->desired) {
        snprintf(msg, cap,
                 "Waiting for deployment \"%s\" rollout to finish: %lld out of %lld new replicas "
                 "have been updated...",
                 d->name, k->updated, k->desired);
        return ROLLOUT_WAITING;
    }
    if (k->replicas > k->updated) {
        snprintf(msg, cap,
                 "Waiting for deployment \"%s\" rollout to finish: %lld old replicas are pending "
                 "termination...",
                 d->name, k->replicas - k->updated);
        return ROLLOUT_WAITING;
    }
    if (k->available < k->updated) {
        snprintf(msg, cap,
                 "Waiting for deployment \"%s\" rollout to finish: %lld of %lld updated replicas "
                 "are available...",
                 d->name, k->available, k->updated);
        return ROLLOUT_WAITING;
    }
    snprintf(msg, cap, "deployment \"%s\" successfully rolled out", d->name);
    return ROLLOUT_DONE;
}

enum kdoc_rollout kdoc_rollout_state(const char *json, size_t len, struct kdoc_counts *c, char *msg,
                                     size_t msgcap)
{
    struct kdeploy d;
    if (kdoc_deploy_parse(json, len, &d) < 0) {
        if (msgcap) snprintf(msg, msgcap, "malformed JSON");
        return ROLLOUT_ERROR;
    }
    enum kdoc_rollout r = kdoc_rollout(&d, c, msg, msgcap);
    kdoc_deploy_free(&d);
    return r;
}

/* ---- container choice ---- */

/* The containers of d as "a, b" into err after a lead-in. */
static void list_containers(const struct kdeploy *d, struct sb *b)
{
    char cl[256];
    for (int i = 0; i < d->ncontainers; i++) {
        sb_clean_copy(cl, sizeof cl, d->containers[i].name);
        sb_add(b, "%s%s", i ? ", " : "", cl);
    }
}

/* The only container whose repository's last element is name, or NULL. */
static const struct kdoc_container *by_repo(const struct kdeploy *d, const char *name)
{
    const struct kdoc_container *pick = NULL;
    char repo[IMAGE_MAX];
    for (int i = 0; i < d->ncontainers; i++) {
        if (kimage_repo(d->containers[i].image, repo, sizeof repo) < 0 ||
            strcmp(kimage_last_elem(repo), name) != 0)
            continue;
        if (pick) return NULL;
        pick = &d->containers[i];
    }
    return pick;
}

int kdoc_choose(const struct kdeploy *d, const char *deployment, const char *want, char *cname,
                size_t ccap, char *image, size_t icap, char *err, size_t errlen)
{
    const struct kdoc_container *pick = NULL;
    const char *by = want && *want ? want : deployment;
    struct sb b;
    if (ccap) cname[0] = 0;
    if (icap) image[0] = 0;
    if (!d->has_containers) {
        snprintf(err, errlen, "deployment %s has no containers", deployment);
        return -1;
    }
    for (int i = 0; i < d->ncontainers; i++)
        if (d->containers[i].name_ok && strcmp(d->containers[i].name, by) == 0)
            pick = &d->containers[i];
    if (!pick && by == deployment && d->ncontainers == 1) pick = &d->containers[0];
    if (!pick && by == deployment) pick = by_repo(d, deployment);
    if (!pick) {
        sb_init(&b, err, errlen);
        if (by != deployment)
            sb_add(&b, "deployment %s has no container named %s; its containers: ", deployment, by);
        else
            sb_add(&b, "deployment %s has %d containers and none is named %s: ", deployment,
                   d->ncontainers, deployment);
        list_containers(d, &b);
        return -1;
    }
    if (!pick->name_ok || str_copy(cname, ccap, pick->name) < 0) {
        if (ccap) cname[0] = 0;
        snprintf(err, errlen, "deployment %s has a container without a valid name", deployment);
        return -1;
    }
    str_copy(image, icap, pick->image);
    return 0;
}

int kdoc_choose_container(const char *json, size_t len, const char *deployment, const char *want,
                          char *cname, size_t ccap, char *image, size_t icap, char *err,
                          size_t errlen)
{
    struct kdeploy d;
    if (ccap) cname[0] = 0;
    if (icap) image[0] = 0;
    if (kdoc_deploy_parse(json, len, &d) < 0) {
        snprintf(err, errlen, "malformed Deployment JSON");
        return -1;
    }
    int r = kdoc_choose(&d, deployment, want, cname, ccap, image, icap, err, errlen);
    kdoc_deploy_free(&d);
    return r;
}

const char *kdoc_image_of(const struct kdeploy *d, const char *name, int init)
{
    const struct kdoc_container *v = init ? d->init : d->containers;
    int n = init ? d->ninit : d->ncontainers;
    for (int i = 0; i < n; i++)
        if (v[i].name_ok && strcmp(v[i].name, name) == 0) return v[i].image;
    return NULL;
}

/* ---- change-cause and patches ---- */

void kdoc_change_cause(char *out, size_t cap, const struct kube_actor *who, const char *what)
{
    char tmp[2048], un[SLACK_NAME_MAX + 1], cn[SLACK_NAME_MAX + 1];
    struct sb b;
    const char *uid = who ? who->user_id : NULL, *uname = who ? who->user_name : NULL;
    const char *cid = who ? who->channel_id : NULL, *cname = who ? who->channel_name : NULL;
    /* Names are shown without controls and bidi overrides (a U+202E in a
     * user name must not reorder the user id that follows it). */
    if (uname) str_clean_name(un, sizeof un, uname), uname = un;
    if (cname) str_clean_name(cn, sizeof cn, cname), cname = cn;
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
    sb_clean_copy(out, cap, tmp);
}

/* [{"name":N,"image":image}, ...] under key. */
static void named_images(struct jw *w, const char *key, const char *const *names, int n,
                         const char *image)
{
    jw_key(w, key);
    jw_arr_begin(w);
    for (int i = 0; i < n; i++) {
        jw_obj_begin(w);
        jw_kstr(w, "name", names[i]);
        jw_kstr(w, "image", image);
        jw_obj_end(w);
    }
    jw_arr_end(w);
}

long kdoc_set_image_patch(char *buf, size_t cap, const char *container, const char *image,
                          const char *const *inits, int ninit, const char *cause)
{
    struct jw w;
    jw_init(&w, buf, cap);
    jw_obj_begin(&w);
    if (cause && *cause) {
        jw_key(&w, "metadata");
        jw_obj_begin(&w);
        jw_key(&w, "annotations");
        jw_obj_begin(&w);
        jw_kstr(&w, KDOC_CAUSE_KEY, cause);
        jw_obj_end(&w);
        jw_obj_end(&w);
    }
    jw_key(&w, "spec");
    jw_obj_begin(&w);
    jw_key(&w, "template");
    jw_obj_begin(&w);
    jw_key(&w, "spec");
    jw_obj_begin(&w);
    named_images(&w, "containers", &container, 1, image);
    if (ninit > 0) named_images(&w, "initContainers", inits, ninit, image);
    jw_obj_end(&w);
    jw_obj_end(&w);
    jw_obj_end(&w);
    jw_obj_end(&w);
    return jw_finish(&w);
}

long kdoc_selector(const char *deploy, size_t len, char *out, size_t cap)
{
    struct json_doc d;
    char plain[8192], k[512], v[512];
    struct sb p, o;
    int n = 0, ok = 1;
    if (cap) out[0] = 0;
    if (kdoc_json_parse(&d, deploy, len) < 0) return -1;
    int sel = json_path(&d, 0, "spec", "selector", JP_END);
    sb_init(&p, plain, sizeof plain);
    int ml = json_get(&d, sel, "matchLabels");
    for (int m = json_first(&d, ml); m >= 0; m = json_next(&d, m), n++) {
        if (kdoc_tok_str(&d, m, k, sizeof k) < 0 || kdoc_tok_str(&d, m + 1, v, sizeof v) < 0)
            ok = 0;
        sb_add(&p, "%s%s=%s", n ? "," : "", k, v);
    }
    int me = json_get(&d, sel, "matchExpressions");
    for (int e = json_first(&d, me); e >= 0; e = json_next(&d, e), n++) {
        int op = json_get(&d, e, "operator");
        if (kdoc_tok_str(&d, json_get(&d, e, "key"), k, sizeof k) <= 0) ok = 0;
        sb_add(&p, "%s", n ? "," : "");
        if (json_eq(&d, op, "In") || json_eq(&d, op, "NotIn")) {
            sb_add(&p, "%s %s (", k, json_eq(&d, op, "In") ? "in" : "notin");
            int i = 0;
            for (int x = json_first(&d, json_get(&d, e, "values")); x >= 0;
                 x = json_next(&d, x), i++) {
                if (kdoc_tok_str(&d, x, v, sizeof v) < 0) ok = 0;
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
    kdoc_json_free(&d);
    if (!ok || p.full) return -1;
    sb_init(&o, out, cap);
    sb_urlenc(&o, plain);
    if (o.full) {
        if (cap) out[0] = 0;
        return -1;
    }
    return (long)o.len;
}

void kdoc_container_images(struct sb *b, const struct json_doc *d, int obj, int with_names)
{
    int cs = json_path(d, obj, "spec", "template", "spec", "containers", JP_END);
    char nm[256], im[IMAGE_MAX], cl[IMAGE_MAX];
    int i = 0;
    for (int e = json_first(d, cs); e >= 0; e = json_next(d, e), i++) {
        kdoc_tok_str(d, json_get(d, e, "name"), nm, sizeof nm);
        kdoc_tok_str(d, json_get(d, e, "image"), im, sizeof im);
        sb_add(b, "%s", i ? ", " : "");
        if (with_names) {
            sb_clean_copy(cl, sizeof cl, nm);
            sb_add(b, "%s=", cl);
        }
        sb_clean_copy(cl, sizeof cl, im);
        sb_add(b, "%s", cl);
    }
    if (i == 0) sb_add(b, "(no containers)");
}

int kdoc_status_text(const char *deploy, size_t len, char *out, size_t cap)
{
    struct json_doc d;
    struct kdeploy k;
    struct kdoc_counts c;
    char msg[512], s[256], cl[256];
    struct sb b;
    sb_init(&b, out, cap);
    if (kdoc_json_parse(&d, deploy, len) < 0) return -1;
    if (fill_deploy(&d, 0, &k) < 0 || !k.is_deployment) {
        kdoc_deploy_free(&k);
        kdoc_json_free(&d);
        return -1;
    }
    kdoc_rollout(&k, &c, msg, sizeof msg);
    sb_add(&b, "*%s/%s*: %s", k.ns, k.name, msg);
    if (k.revision >= 0) sb_add(&b, "\nrevision: %ld", k.revision);
    if (k.paused) sb_add(&b, "\npaused: true");
    sb_add(&b, "\nimages: ");
    kdoc_container_images(&b, &d, 0, 1);
    sb_add(&b, "\nreplicas: %lld desired, %lld updated, %lld available, %lld ready, %lld total",
           c.desired, c.updated, c.available, c.ready, c.replicas);
    int conds = json_path(&d, 0, "status", "conditions", JP_END);
    int i = 0;
    for (int e = json_first(&d, conds); e >= 0; e = json_next(&d, e), i++) {
        sb_add(&b, "%s", i ? ", " : "\nconditions: ");
        kdoc_tok_str(&d, json_get(&d, e, "type"), s, sizeof s);
        sb_clean_copy(cl, sizeof cl, s);
        sb_add(&b, "%s=", cl);
        kdoc_tok_str(&d, json_get(&d, e, "status"), s, sizeof s);
        sb_clean_copy(cl, sizeof cl, s);
        sb_add(&b, "%s", cl);
        if (kdoc_tok_str(&d, json_get(&d, e, "reason"), s, sizeof s) > 0) {
            sb_clean_copy(cl, sizeof cl, s);
            sb_add(&b, " (%s)", cl);
        }
    }
    kdoc_deploy_free(&k);
    kdoc_json_free(&d);
    return 0;
}

long kdoc_status_message(const char *json, size_t len, char *out, size_t cap)
{
    struct json_doc d;
    char tmp[1024];
    long n = -1;
    if (cap) out[0] = 0;
    if (kdoc_json_parse(&d, json, len) < 0) return -1;
    if (json_eq(&d, json_get(&d, 0, "kind"), "Status") &&
        kdoc_tok_str(&d, json_get(&d, 0, "message"), tmp, sizeof tmp) > 0) {
        sb_clean_copy(out, cap, tmp);
        n = (long)strlen(out);
    }
    kdoc_json_free(&d);
    return n;
}

enum kdoc_event kdoc_watch_event(const char *line, size_t len, size_t *obj_off, size_t *obj_len)
{
    struct json_doc d;
    enum kdoc_event ev = KEV_BAD;
    *obj_off = *obj_len = 0;
    if (kdoc_json_parse(&d, line, len) < 0) return KEV_BAD;
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
    kdoc_json_free(&d);
    return ev;
}
long kdoc_resource_version(const char *json, size_t len, char *rv, size_t cap)
{
    struct json_doc d;
    char tmp[128];
    long n = -1;
    if (kdoc_json_parse(&d, json, len) < 0) return -1;
    if (kdoc_tok_str(&d, json_path(&d, 0, "metadata", "resourceVersion", JP_END), tmp, sizeof tmp) >
            0 &&
        str_copy(rv, cap, tmp) == 0)
        n = (long)strlen(rv);
    kdoc_json_free(&d);
    return n;
}
