/* Why a rollout is stuck: the new ReplicaSet's pods, summarised. The pure
 * summariser comes first; kpods_diagnose (I/O through kapi) at the end. */
#include "kpods.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "kapi.h"
#include "kdoc.h"
#include "krs.h"
#include "sb.h"

void kpods_init(struct kpods_tally *t, const char *owner_uid)
{
    memset(t, 0, sizeof *t);
    if (owner_uid) snprintf(t->owner_uid, sizeof t->owner_uid, "%s", owner_uid);
}

/* String at tok cleaned of control characters into out; "" when absent. */
static void clean_str(const struct json_doc *d, int tok, char *out, size_t cap)
{
    char raw[1024];
    kdoc_tok_str(d, tok, raw, sizeof raw);
    if (tok >= 0 && d->toks[tok].type == JSON_STRING && !raw[0] &&
        d->toks[tok].end > d->toks[tok].start) {
        /* longer than raw: take its first bytes (escapes stay escaped) */
        size_t n = d->toks[tok].end - d->toks[tok].start;
        if (n >= sizeof raw) n = sizeof raw - 1;
        memcpy(raw, d->src + d->toks[tok].start, n);
        raw[n] = 0;
    }
    sb_clean_copy(out, cap, raw);
    size_t n = strlen(out);
    while (n > 0 && out[n - 1] == ' ') out[--n] = 0;
}

/* "what: msg", or "what" when msg is empty; cut to fit. */
static void join(char *out, size_t cap, const char *what, const char *msg)
{
    struct sb b;
    sb_init(&b, out, cap);
    sb_add(&b, "%s%s%s", what, msg[0] ? ": " : "", msg);
}

/* The condition of type typ in the pod's status.conditions, or -1. */
static int condition(const struct json_doc *d, int pod, const char *typ)
{
    int cs = json_path(d, pod, "status", "conditions", JP_END);
    if (cs < 0 || d->toks[cs].type != JSON_ARRAY) return -1;
    for (int c = json_first(d, cs); c >= 0; c = json_next(d, c))
        if (json_eq(d, json_get(d, c, "type"), typ)) return c;
    return -1;
}

/* "REASON, exit N: MESSAGE" of a terminated state object (reason defaults
 * to dflt; the message is the container's termination message). */
static void terminated_label(const struct json_doc *d, int term, const char *reason, char *out,
                             size_t cap)
{
    char msg[KPODS_LABEL], why[64];
    long long code = json_int_or(d, json_get(d, term, "exitCode"), -1);
    clean_str(d, json_get(d, term, "message"), msg, sizeof msg);
    if (!msg[0]) clean_str(d, json_get(d, term, "reason"), msg, sizeof msg);
    sb_clean_copy(why, sizeof why, reason);
    struct sb b;
    sb_init(&b, out, cap);
    sb_add(&b, "%s, exit %lld", why, code);
    if (msg[0] && strcmp(msg, why) != 0) sb_add(&b, ": %s", msg);
}

/* The problem of one container status cs into out; 1 when there is one. */
static int container_problem(const struct json_doc *d, int cs, char *out, size_t cap)
{
    char reason[64], msg[KPODS_LABEL];
    int w = json_path(d, cs, "state", "waiting", JP_END);
    int last = json_path(d, cs, "lastState", "terminated", JP_END);
    if (w >= 0 && d->toks[w].type == JSON_OBJECT) {
        clean_str(d, json_get(d, w, "reason"), reason, sizeof reason);
        if (!reason[0] || strcmp(reason, "PodInitializing") == 0) return 0;
        if (last >= 0 && d->toks[last].type == JSON_OBJECT) {
            terminated_label(d, last, reason, out, cap);
            return 1;
        }
        clean_str(d, json_get(d, w, "message"), msg, sizeof msg);
        join(out, cap, reason, msg);
        return 1;
    }
    int term = json_path(d, cs, "state", "terminated", JP_END);
    if (term >= 0 && d->toks[term].type == JSON_OBJECT &&
        json_int_or(d, json_get(d, term, "exitCode"), 0) != 0) {
        clean_str(d, json_get(d, term, "reason"), reason, sizeof reason);
        terminated_label(d, term, reason[0] ? reason : "Error", out, cap);
        return 1;
    }
    return 0;
}

/* What keeps one pod from being Ready, into out; 0 when it is Ready (or done). */
static int pod_problem(const struct json_doc *d, int pod, char *out, size_t cap)
{
    static const char *const lists[] = {"initContainerStatuses", "containerStatuses"};
    char msg[KPODS_LABEL];
    int c = condition(d, pod, "PodScheduled");
    if (c >= 0 && json_eq(d, json_get(d, c, "status"), "False") &&
        json_eq(d, json_get(d, c, "reason"), "Unschedulable")) {
        clean_str(d, json_get(d, c, "message"), msg, sizeof msg);
        join(out, cap, "Unschedulable", msg);
        return 1;
    }
    for (size_t i = 0; i < 2; i++) {
        int arr = json_path(d, pod, "status", lists[i], JP_END);
        if (arr < 0 || d->toks[arr].type != JSON_ARRAY) continue;
        for (int cs = json_first(d, arr); cs >= 0; cs = json_next(d, cs))
            if (d->toks[cs].type == JSON_OBJECT && container_problem(d, cs, out, cap)) return 1;
    }
    c = condition(d, pod, "Ready");
    if (c >= 0 && json_eq(d, json_get(d, c, "status"), "True")) return 0;
    int phase = json_path(d, pod, "status", "phase", JP_END);
    if (json_eq(d, phase, "Succeeded")) return 0;
    if (json_eq(d, phase, "Running")) {
        snprintf(out, cap, "Running, not Ready");
        return 1;
    }
    clean_str(d, phase, msg, 64);
    snprintf(out, cap, "%s", msg[0] ? msg : "Pending");
    return 1;
}

static void add_problem(struct kpods_tally *t, const char *label)
{
    for (int i = 0; i < t->nproblems; i++) {
        if (strcmp(t->p[i].label, label) == 0) {
            t->p[i].pods++;
            return;
        }
    }
    if (t->nproblems == KPODS_KINDS) {
        t->other++;
        return;
    }
    snprintf(t->p[t->nproblems].label, sizeof t->p[0].label, "%s", label);
    t->p[t->nproblems++].pods = 1;
}

int kpods_add_page(struct kpods_tally *t, const char *json, size_t len, char *cont, size_t ccap)
{
    struct json_doc d;
    char label[KPODS_LABEL];
    int items = krs_list_page(&d, json, len, cont, ccap);
    if (items < 0) return -1;
    for (int pod = json_first(&d, items); pod >= 0; pod = json_next(&d, pod)) {
        if (d.toks[pod].type != JSON_OBJECT) continue;
        if (t->owner_uid[0] && !krs_controlled_by(&d, pod, t->owner_uid)) continue;
        t->pods++;
        if (pod_problem(&d, pod, label, sizeof label))
            add_problem(t, label);
        else
            t->ready++;
    }
    kdoc_json_free(&d);
    return 0;
}

size_t kpods_text(const struct kpods_tally *t, char *out, size_t cap)
{
    struct sb b;
    int done[KPODS_KINDS] = {0};
    sb_init(&b, out, cap);
    if (cap) out[0] = 0;
    for (int n = 0; n < t->nproblems; n++) {
        int best = -1;
        for (int i = 0; i < t->nproblems; i++)
            if (!done[i] && (best < 0 || t->p[i].pods > t->p[best].pods)) best = i;
        done[best] = 1;
        sb_add(&b, "%s%d of %d new pods: %s", n ? "\n" : "", t->p[best].pods, t->pods,
               t->p[best].label);
    }
    if (t->other)
        sb_add(&b, "%s%d of %d new pods: other problems", t->nproblems ? "\n" : "", t->other,
               t->pods);
    return b.len;
}

/* ---- I/O: find the new ReplicaSet, list its pods ---- */

/* What the ReplicaSet pages tell: the new ReplicaSet's hash and uid. */
struct newrs {
    const char *uid; /* the Deployment's */
    long rev;        /* the Deployment's revision */
    char hash[64], rs_uid[128];
};

static int newrs_page(void *arg, const char *body, size_t len, char *cont, size_t ccap)
{
    struct newrs *n = arg;
    struct json_doc d;
    int items = krs_list_page(&d, body, len, cont, ccap);
    if (items < 0) return -1;
    for (int rs = json_first(&d, items); rs >= 0; rs = json_next(&d, rs)) {
        if (!krs_controlled_by(&d, rs, n->uid) || kdoc_revision(&d, rs) != n->rev) continue;
        kdoc_tok_str(&d, json_path(&d, rs, "metadata", "labels", "pod-template-hash", JP_END),
                     n->hash, sizeof n->hash);
        kdoc_tok_str(&d, json_path(&d, rs, "metadata", "uid", JP_END), n->rs_uid, sizeof n->rs_uid);
    }
    kdoc_json_free(&d);
    return 0;
}

static int pods_page(void *arg, const char *body, size_t len, char *cont, size_t ccap)
{
    return kpods_add_page(arg, body, len, cont, ccap);
}

/* The new ReplicaSet of ns/name into n, and the Deployment's selector
 * (URL-encoded) into sel. 0, or -1 with res filled. */
static int find_new_rs(struct kapi_job *j, const char *ns, const char *name, struct newrs *n,
                       char *sel, size_t scap, struct kube_result *res)
{
    struct httpc_resp r;
    struct kdeploy kd;
    char uid[128];
    if (kapi_get_deploy_checked(j, ns, name, &r, &kd, res) < 0) return -1;
    long got = kdoc_selector(r.body, r.len, sel, scap);
    kapi_free(&r);
    memcpy(uid, kd.uid, sizeof uid);
    n->uid = uid;
    n->rev = kd.revision;
    kdoc_deploy_free(&kd);
    if (got <= 0) return kapi_fail(res, "the deployment has no usable selector");
    if (kapi_list_rs_pages(j, ns, sel, newrs_page, n, res) < 0) return -1;
    n->uid = NULL;
    if (!n->hash[0] || !n->rs_uid[0])
        return kapi_fail(res, "no ReplicaSet has the deployment's revision %ld", n->rev);
    return 0;
}

int kpods_diagnose(struct kapi_job *j, const char *ns, const char *name, char *out, size_t cap)
{
    static struct kube_result res; /* 5 KiB: not on a stack a callback may already use */
    struct newrs n;
    struct kpods_tally t;
    char sel[2048], rest[2400], path[3000];
    memset(&n, 0, sizeof n);
    if (cap) out[0] = 0;
    if (find_new_rs(j, ns, name, &n, sel, sizeof sel, &res) < 0) goto fail;
    snprintf(rest, sizeof rest, "pods?labelSelector=%s%%2Cpod-template-hash%%3D", sel);
    struct sb b;
    sb_init(&b, rest + strlen(rest), sizeof rest - strlen(rest));
    sb_urlenc(&b, n.hash);
    if (b.full || kapi_core_path(path, sizeof path, &j->k->api, ns, rest) < 0) {
        kapi_fail(&res, "request path too long");
        goto fail;
    }
    kpods_init(&t, n.rs_uid);
    if (kapi_list_pages(j, path, KPODS_PAGE, KPODS_MAX_PAGES, pods_page, &t, "cannot list pods",
                        &res) < 0)
        goto fail;
    kpods_text(&t, out, cap);
    int bad = t.other;
    for (int i = 0; i < t.nproblems; i++) bad += t.p[i].pods;
    return bad;
fail:
    sb_clean_copy(out, cap, res.error);
    return -1;
}
