/* Unit tests of src/kube.c, kapi.c, rollout.c, kdoc.c and krs.c: kubectl's rollout-status rules,
 * container choice, patch builders, rollback rules, history, selectors, and the deploy and rollback
 * flows over a scripted fake transport. */
#include "../../src/kapi.c"
#include "../../src/kube.c"
#include "../../src/rollout.c"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "t.h"

/* ---- fixtures ---- */

/* A Deployment named web in ns default. spec < 0 leaves spec.replicas out;
 * reason NULL leaves the Progressing condition out. */
static char *dep(char *buf, size_t cap, const char *image, long gen, long og, int spec, int repl,
                 int upd, int avail, const char *reason)
{
    char specr[64] = "", cond[256] = "";
    if (spec >= 0) snprintf(specr, sizeof specr, "\"replicas\":%d,", spec);
    if (reason)
        snprintf(cond, sizeof cond,
                 ",\"conditions\":[{\"type\":\"Available\",\"status\":\"True\",\"reason\":"
                 "\"MinimumReplicasAvailable\"},{\"type\":\"Progressing\",\"status\":\"True\","
                 "\"reason\":\"%s\"}]",
                 reason);
    snprintf(buf, cap,
             "{\"kind\":\"Deployment\",\"apiVersion\":\"apps/v1\",\"metadata\":{\"name\":\"web\","
             "\"namespace\":\"default\",\"uid\":\"uid-web\",\"resourceVersion\":\"100\","
             "\"generation\":%ld,\"annotations\":{\"deployment.kubernetes.io/revision\":\"4\"}},"
             "\"spec\":{%s\"selector\":{\"matchLabels\":{\"app\":\"web\"}},\"template\":{"
             "\"metadata\":{\"labels\":{\"app\":\"web\"}},\"spec\":{\"initContainers\":[{"
             "\"name\":\"init\",\"image\":\"busybox\"}],\"containers\":[{\"name\":\"web\","
             "\"image\":\"%s\"},{\"name\":\"envoy\",\"image\":\"envoy:1.2\"}]}}},"
             "\"status\":{\"observedGeneration\":%ld,\"replicas\":%d,\"updatedReplicas\":%d,"
             "\"readyReplicas\":%d,\"availableReplicas\":%d%s}}",
             gen, specr, image, og, repl, upd, avail, avail, cond);
    return buf;
}

/* Drop dep()'s init container and sidecar: the template of RS_LIST's
 * revisions 1 and 3, which hold only the web container. */
static void only_web(char *d)
{
    static const char *const cut[] = {
        "\"initContainers\":[{\"name\":\"init\",\"image\":\"busybox\"}],",
        ",{\"name\":\"envoy\",\"image\":\"envoy:1.2\"}"};
    for (size_t i = 0; i < 2; i++) {
        char *p = strstr(d, cut[i]);
        if (p) memmove(p, p + strlen(cut[i]), strlen(p + strlen(cut[i])) + 1);
    }
}

static enum kdoc_rollout st(const char *js, char *msg, size_t cap)
{
    return kdoc_rollout_state(js, strlen(js), NULL, msg, cap);
}

/* ---- rollout status ---- */

TEST(rollout_table)
{
    char b[4096], m[512];
    struct {
        long gen, og;
        int spec, repl, upd, avail;
        const char *reason;
        enum kdoc_rollout want;
        const char *msg;
    } t[] = {
        {2, 1, 3, 3, 3, 3, NULL, ROLLOUT_WAITING,
         "Waiting for deployment spec update to be observed..."},
        {2, 1, 3, 3, 3, 3, "ProgressDeadlineExceeded", ROLLOUT_WAITING,
         "Waiting for deployment spec update to be observed..."},
        {2, 2, 3, 3, 3, 3, "ProgressDeadlineExceeded", ROLLOUT_FAILED,
         "deployment \"web\" exceeded its progress deadline"},
        {2, 3, 3, 1, 1, 0, "ProgressDeadlineExceeded", ROLLOUT_FAILED,
         "deployment \"web\" exceeded its progress deadline"},
        {2, 2, 3, 4, 1, 1, "ReplicaSetUpdated", ROLLOUT_WAITING,
         "Waiting for deployment \"web\" rollout to finish: 1 out of 3 new replicas have been "
         "updated..."},
        {2, 2, 3, 4, 3, 3, "ReplicaSetUpdated", ROLLOUT_WAITING,
         "Waiting for deployment \"web\" rollout to finish: 1 old replicas are pending "
         "termination..."},
        {2, 2, 3, 3, 3, 2, NULL, ROLLOUT_WAITING,
         "Waiting for deployment \"web\" rollout to finish: 2 of 3 updated replicas are "
         "available..."},
        {2, 2, 3, 3, 3, 3, "NewReplicaSetAvailable", ROLLOUT_DONE,
         "deployment \"web\" successfully rolled out"},
        {7, 9, 3, 3, 3, 5, NULL, ROLLOUT_DONE, "deployment \"web\" successfully rolled out"},
        {1, 1, -1, 1, 1, 1, NULL, ROLLOUT_DONE, "deployment \"web\" successfully rolled out"},
        {1, 1, -1, 0, 0, 0, NULL, ROLLOUT_WAITING,
         "Waiting for deployment \"web\" rollout to finish: 0 out of 1 new replicas have been "
         "updated..."},
        {1, 1, 0, 0, 0, 0, NULL, ROLLOUT_DONE, "deployment \"web\" successfully rolled out"},
        {1, 1, 0, 2, 0, 0, NULL, ROLLOUT_WAITING,
         "Waiting for deployment \"web\" rollout to finish: 2 old replicas are pending "
         "termination..."},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        dep(b, sizeof b, "r/web:1", t[i].gen, t[i].og, t[i].spec, t[i].repl, t[i].upd, t[i].avail,
            t[i].reason);
        CHECK_EQ(st(b, m, sizeof m), t[i].want);
        CHECK_STR(m, t[i].msg);
        if (t_failed_now) {
            printf("  row %zu\n", i);
            return;
        }
    }
}

TEST(rollout_missing_fields)
{
    char m[512];
    struct kdoc_counts c;
    /* no status, no generation: 0 <= 0, desired 1, updated 0 */
    const char *a = "{\"metadata\":{\"name\":\"x\"},\"spec\":{}}";
    CHECK_EQ(kdoc_rollout_state(a, strlen(a), &c, m, sizeof m), ROLLOUT_WAITING);
    CHECK_STR(m, "Waiting for deployment \"x\" rollout to finish: 0 out of 1 new replicas have "
                 "been updated...");
    CHECK_EQ(c.desired, 1);
    CHECK_EQ(c.updated, 0);
    /* generation set, status missing */
    const char *b = "{\"metadata\":{\"name\":\"x\",\"generation\":1},\"spec\":{\"replicas\":2}}";
    CHECK_EQ(st(b, m, sizeof m), ROLLOUT_WAITING);
    CHECK_STR(m, "Waiting for deployment spec update to be observed...");
    /* a Progressing condition that is not the deadline one does not fail */
    const char *d = "{\"metadata\":{\"name\":\"x\"},\"spec\":{\"replicas\":1},\"status\":{"
                    "\"updatedReplicas\":1,\"replicas\":1,\"availableReplicas\":1,\"conditions\":"
                    "[{\"type\":\"Progressing\",\"reason\":\"NewReplicaSetAvailable\"}]}}";
    CHECK_EQ(st(d, m, sizeof m), ROLLOUT_DONE);
    /* wrong types for counts fall back to defaults */
    const char *e = "{\"metadata\":{\"name\":\"x\"},\"spec\":{\"replicas\":\"3\"},\"status\":{"
                    "\"updatedReplicas\":1.5}}";
    CHECK_EQ(st(e, m, sizeof m), ROLLOUT_WAITING);
    CHECK_STR(m, "Waiting for deployment \"x\" rollout to finish: 0 out of 1 new replicas have "
                 "been updated...");
}

TEST(rollout_counts)
{
    char b[4096], m[512];
    struct kdoc_counts c;
    dep(b, sizeof b, "r/web:1", 3, 3, 5, 6, 4, 2, NULL);
    CHECK_EQ(kdoc_rollout_state(b, strlen(b), &c, m, sizeof m), ROLLOUT_WAITING);
    CHECK_EQ(c.desired, 5);
    CHECK_EQ(c.replicas, 6);
    CHECK_EQ(c.updated, 4);
    CHECK_EQ(c.available, 2);
    CHECK_EQ(c.ready, 2);
}

TEST(rollout_bad_input)
{
    char m[64], b[4096];
    const char *bad[] = {"",
                         "{",
                         "[]",
                         "null",
                         "{\"kind\":\"Service\",\"metadata\":{},\"spec\":{}}",
                         "{\"metadata\":{}}",
                         "{\"metadata\":1,\"spec\":{}}",
                         "{\"spec\":{}}",
                         "{} x"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        CHECK_EQ(st(bad[i], m, sizeof m), ROLLOUT_ERROR);
    /* every strict prefix of a real Deployment is malformed; read nothing past it */
    dep(b, sizeof b, "r/web:1", 2, 2, 3, 3, 3, 3, "NewReplicaSetAvailable");
    size_t n = strlen(b);
    for (size_t k = 0; k < n; k++) {
        char *g = t_guard(b, k);
        CHECK_EQ(kdoc_rollout_state(g, k, NULL, m, sizeof m), ROLLOUT_ERROR);
        t_unguard(g, k);
    }
    char *g = t_guard(b, n);
    CHECK_EQ(kdoc_rollout_state(g, n, NULL, m, sizeof m), ROLLOUT_DONE);
    t_unguard(g, n);
    /* a tiny message buffer is cut, never overrun */
    char tiny[8];
    CHECK_EQ(kdoc_rollout_state(b, n, NULL, tiny, sizeof tiny), ROLLOUT_DONE);
    CHECK_STR(tiny, "deploym");
}

/* ---- the parsed Deployment ---- */

TEST(deploy_parse)
{
    char b[4096], big[8192];
    struct kdeploy d;
    dep(b, sizeof b, "r/web:1", 3, 2, 4, 5, 3, 2, "ProgressDeadlineExceeded");
    CHECK_EQ(kdoc_deploy_parse(b, strlen(b), &d), 0);
    CHECK_EQ(d.is_deployment, 1);
    CHECK_STR(d.name, "web");
    CHECK_STR(d.ns, "default");
    CHECK_STR(d.uid, "uid-web");
    CHECK_STR(d.rv, "100");
    CHECK_EQ(d.generation, 3);
    CHECK_EQ(d.observed, 2);
    CHECK_EQ(d.counts.desired, 4);
    CHECK_EQ(d.counts.replicas, 5);
    CHECK_EQ(d.counts.updated, 3);
    CHECK_EQ(d.counts.available, 2);
    CHECK_EQ(d.revision, 4);
    CHECK_EQ(d.deadline_exceeded, 1);
    CHECK_EQ(d.paused, 0);
    CHECK_EQ(d.progress_deadline_s, -1);
    CHECK_EQ(d.ncontainers, 2);
    CHECK_STR(d.containers[0].name, "web");
    CHECK_STR(d.containers[0].image, "r/web:1");
    CHECK_STR(d.containers[1].image, "envoy:1.2");
    CHECK_EQ(d.ninit, 1);
    CHECK_STR(d.init[0].name, "init");
    kdoc_deploy_free(&d);
    kdoc_deploy_free(&d); /* idempotent */
    /* paused and progressDeadlineSeconds are read; a bare object is not a Deployment */
    snprintf(big, sizeof big, "%s", b);
    static const char ins[] = "\"paused\":true,\"progressDeadlineSeconds\":120,";
    char *spec = strstr(big, "\"spec\":{") + 8;
    memmove(spec + sizeof ins - 1, spec, strlen(spec) + 1);
    memcpy(spec, ins, sizeof ins - 1);
    CHECK_EQ(kdoc_deploy_parse(big, strlen(big), &d), 0);
    CHECK_EQ(d.paused, 1);
    CHECK_EQ(d.progress_deadline_s, 120);
    kdoc_deploy_free(&d);
    CHECK_EQ(kdoc_deploy_parse("{}", 2, &d), 0);
    CHECK_EQ(d.is_deployment, 0);
    CHECK_EQ(d.revision, -1);
    CHECK_EQ(d.ncontainers, 0);
    kdoc_deploy_free(&d);
    /* every strict prefix is malformed: -1, nothing to free, nothing read past it */
    size_t n = strlen(b);
    for (size_t k = 0; k < n; k++) {
        char *g = t_guard(b, k);
        CHECK_EQ(kdoc_deploy_parse(g, k, &d), -1);
        CHECK_EQ(d.ncontainers, 0);
        kdoc_deploy_free(&d);
        t_unguard(g, k);
    }
}

TEST(resource_version)
{
    char rv[8];
    const char *bm = "{\"kind\":\"Deployment\",\"metadata\":{\"resourceVersion\":\"1234567\"}}";
    CHECK_EQ(kdoc_resource_version(bm, strlen(bm), rv, sizeof rv), 7); /* at the limit */
    CHECK_STR(rv, "1234567");
    const char *bm8 = "{\"metadata\":{\"resourceVersion\":\"12345678\"}}";
    strcpy(rv, "old");
    CHECK_EQ(kdoc_resource_version(bm8, strlen(bm8), rv, sizeof rv), -1); /* one past */
    CHECK_EQ(kdoc_resource_version("{\"metadata\":{}}", 15, rv, sizeof rv), -1);
    CHECK_EQ(kdoc_resource_version("{\"metadata\":{\"resourceVersion\":\"1\"", 34, rv, sizeof rv),
             -1);
}

/* ---- container choice ---- */

TEST(container_choice)
{
    char b[4096], c[64], img[IMAGE_MAX], err[256];
    dep(b, sizeof b, "r/web:1", 1, 1, 1, 1, 1, 1, NULL);
    CHECK_EQ(kdoc_choose_container(b, strlen(b), "web", NULL, c, sizeof c, img, sizeof img, err,
                                   sizeof err),
             0);
    CHECK_STR(c, "web");
    CHECK_STR(img, "r/web:1");
    /* ambiguous: the names are listed, initContainers are not candidates */
    CHECK_EQ(kdoc_choose_container(b, strlen(b), "init", NULL, c, sizeof c, img, sizeof img, err,
                                   sizeof err),
             -1);
    CHECK_STR(err, "deployment init has 2 containers and none is named init: web, envoy");
    /* the only container, whatever its name */
    const char *one = "{\"spec\":{\"template\":{\"spec\":{\"initContainers\":[{\"name\":\"web\"}],"
                      "\"containers\":[{\"name\":\"app\",\"image\":\"x:1\"}]}}}}";
    CHECK_EQ(kdoc_choose_container(one, strlen(one), "web", NULL, c, sizeof c, img, sizeof img, err,
                                   sizeof err),
             0);
    CHECK_STR(c, "app");
    CHECK_STR(img, "x:1");
    const char *none[] = {"{\"spec\":{\"template\":{\"spec\":{\"containers\":[]}}}}",
                          "{\"spec\":{\"template\":{\"spec\":{}}}}",
                          "{\"spec\":{\"template\":{\"spec\":{\"containers\":{}}}}}"};
    for (size_t i = 0; i < 3; i++) {
        CHECK_EQ(kdoc_choose_container(none[i], strlen(none[i]), "web", NULL, c, sizeof c, img,
                                       sizeof img, err, sizeof err),
                 -1);
        CHECK_STR(err, "deployment web has no containers");
    }
    CHECK_EQ(
        kdoc_choose_container("{", 1, "web", NULL, c, sizeof c, img, sizeof img, err, sizeof err),
        -1);
    /* a container with a non-string name is refused, not guessed */
    const char *badname = "{\"spec\":{\"template\":{\"spec\":{\"containers\":[{\"name\":7}]}}}}";
    CHECK_EQ(kdoc_choose_container(badname, strlen(badname), "web", NULL, c, sizeof c, img,
                                   sizeof img, err, sizeof err),
             -1);
}

/* ---- names, images, paths ---- */

/* The names kube.c accepts are k8sname.h's: a NULL-safe view for the checks. */
static int kube_label_ok(const char *s)
{
    return s && k8sname_ns_ok(s, strlen(s));
}

static int kube_name_ok(const char *s)
{
    return s && k8sname_name_ok(s, strlen(s));
}

TEST(names)
{
    char s[300];
    CHECK(kube_label_ok("default"));
    CHECK(kube_label_ok("a"));
    CHECK(kube_label_ok("a-1"));
    CHECK(!kube_label_ok(""));
    CHECK(!kube_label_ok("-a"));
    CHECK(!kube_label_ok("a-"));
    CHECK(!kube_label_ok("A"));
    CHECK(!kube_label_ok("a.b"));
    CHECK(!kube_label_ok("a/b"));
    memset(s, 'a', 63);
    s[63] = 0;
    CHECK(kube_label_ok(s));
    s[63] = 'a';
    s[64] = 0;
    CHECK(!kube_label_ok(s));
    CHECK(kube_name_ok("web.v2-x"));
    CHECK(!kube_name_ok("web..x"));
    CHECK(!kube_name_ok(".web"));
    CHECK(!kube_name_ok("web."));
    CHECK(!kube_name_ok("web-.x"));
    CHECK(!kube_name_ok("../x"));
    CHECK(!kube_name_ok("web%2f"));
    CHECK(!kube_name_ok(NULL));
    memset(s, 'a', 253);
    s[253] = 0;
    CHECK(kube_name_ok(s));
    s[253] = 'a';
    s[254] = 0;
    CHECK(!kube_name_ok(s));
}

TEST(image_ref)
{
    char out[IMAGE_MAX], err[128], v[200];
    CHECK_EQ(
        kdoc_image_ref(out, sizeof out, "registry.example/team/", "web", "1.4", err, sizeof err),
        0);
    CHECK_STR(out, "registry.example/team/web:1.4");
    const char *dg = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
    CHECK_EQ(kdoc_image_ref(out, sizeof out, "r:5000", "web", dg, err, sizeof err), 0);
    CHECK_STR(out, "r:5000/web@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789"
                   "abcdef");
    const char *bad[] = {"",    "-x",  ".x",         "a b", "a/b",
                         "a:b", "a@b", "sha256:abc", "x\n", ("sha256:0123456789ABCDEF")};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        CHECK_EQ(kdoc_image_ref(out, sizeof out, "r", "web", bad[i], err, sizeof err), -1);
    memset(v, 'a', VERSION_MAX);
    v[VERSION_MAX] = 0;
    CHECK_EQ(kdoc_image_ref(out, sizeof out, "r", "web", v, err, sizeof err), 0);
    v[VERSION_MAX] = 'a';
    v[VERSION_MAX + 1] = 0;
    CHECK_EQ(kdoc_image_ref(out, sizeof out, "r", "web", v, err, sizeof err), -1);
    CHECK_EQ(kdoc_image_ref(out, sizeof out, "", "web", "1", err, sizeof err), -1);
    CHECK_STR(err, "IMAGE_BASE is not set");
    CHECK_EQ(kdoc_image_ref(out, sizeof out, NULL, "web", "1", err, sizeof err), -1);
    CHECK_EQ(kdoc_image_ref(out, sizeof out, "r e", "web", "1", err, sizeof err), -1);
    CHECK_EQ(kdoc_image_ref(out, sizeof out, "r", "Web", "1", err, sizeof err), -1);
    /* exactly fitting and one byte short */
    CHECK_EQ(kdoc_image_ref(out, 10, "r", "web", "1.4", err, sizeof err), 0);
    CHECK_STR(out, "r/web:1.4");
    CHECK_EQ(kdoc_image_ref(out, 9, "r", "web", "1.4", err, sizeof err), -1);
}

TEST(api_path)
{
    struct url u;
    char out[128];
    memset(&u, 0, sizeof u);
    strcpy(u.path, "/");
    CHECK_EQ(kapi_path(out, sizeof out, &u, "prod", "deployments/web"), 0);
    CHECK_STR(out, "/apis/apps/v1/namespaces/prod/deployments/web");
    strcpy(u.path, "/k8s//");
    CHECK_EQ(kapi_path(out, sizeof out, &u, "prod", "replicasets"), 0);
    CHECK_STR(out, "/k8s/apis/apps/v1/namespaces/prod/replicasets");
    strcpy(u.path, "");
    CHECK_EQ(kapi_path(out, sizeof out, &u, "a", "b"), 0);
    CHECK_STR(out, "/apis/apps/v1/namespaces/a/b");
    size_t n = strlen(out);
    CHECK_EQ(kapi_path(out, n + 1, &u, "a", "b"), 0);
    CHECK_EQ(kapi_path(out, n, &u, "a", "b"), -1);
    CHECK_STR(out, "");
}

TEST(selector)
{
    char out[256];
    const char *d = "{\"spec\":{\"selector\":{\"matchLabels\":{\"app\":\"web\",\"tier\":\"a b/c\","
                    "\"x.io/k\":\"v\"}}}}";
    CHECK_EQ(kdoc_selector(d, strlen(d), out, sizeof out), (long)strlen(out));
    CHECK_STR(out, "app%3Dweb%2Ctier%3Da%20b%2Fc%2Cx.io%2Fk%3Dv");
    const char *e = "{\"spec\":{\"selector\":{\"matchLabels\":{\"app\":\"web\"},"
                    "\"matchExpressions\":[{\"key\":\"env\",\"operator\":\"In\",\"values\":"
                    "[\"a\",\"b\"]},{\"key\":\"z\",\"operator\":\"NotIn\",\"values\":[\"q\"]},"
                    "{\"key\":\"e\",\"operator\":\"Exists\"},{\"key\":\"n\",\"operator\":"
                    "\"DoesNotExist\"}]}}}";
    CHECK(kdoc_selector(e, strlen(e), out, sizeof out) > 0);
    CHECK_STR(out, "app%3Dweb%2Cenv%20in%20%28a%2Cb%29%2Cz%20notin%20%28q%29%2Ce%2C%21n");
    const char *bad = "{\"spec\":{\"selector\":{\"matchExpressions\":[{\"key\":\"a\","
                      "\"operator\":\"Gt\"}]}}}";
    CHECK_EQ(kdoc_selector(bad, strlen(bad), out, sizeof out), -1);
    const char *empty = "{\"spec\":{}}";
    CHECK_EQ(kdoc_selector(empty, strlen(empty), out, sizeof out), 0);
    CHECK_STR(out, "");
    /* "app%3Dweb" is 9 bytes: fits in 10, not in 9 */
    const char *one = "{\"spec\":{\"selector\":{\"matchLabels\":{\"app\":\"web\"}}}}";
    CHECK_EQ(kdoc_selector(one, strlen(one), out, 10), 9);
    CHECK_EQ(kdoc_selector(one, strlen(one), out, 9), -1);
    CHECK_EQ(kdoc_selector("[", 1, out, sizeof out), -1);
}

/* ---- change-cause and patches ---- */

TEST(change_cause)
{
    char c[KUBE_CAUSE_MAX + 100];
    struct kube_actor a = {"U0TESTER", "tester", "C0DEPLOY", "deploys", "T0TEAM"};
    kdoc_change_cause(c, sizeof c, &a, "set myservice=registry/myservice:1.4");
    CHECK_STR(c, "deploy-api: tester (U0TESTER) set myservice=registry/myservice:1.4 from "
                 "#deploys (C0DEPLOY)");
    struct kube_actor nl = {"U1", "evil\nname\r\t", NULL, NULL, NULL};
    kdoc_change_cause(c, sizeof c, &nl, "x");
    CHECK_STR(c, "deploy-api: evilname (U1) x"); /* controls removed from names */
    /* A right-to-left override in a name cannot reorder the user id after it. */
    struct kube_actor bidi = {"U1", "mallory\xe2\x80\xae)1U( ecila", "C1", "ops\xe2\x81\xa6", NULL};
    kdoc_change_cause(c, sizeof c, &bidi, "x");
    CHECK_STR(c, "deploy-api: mallory)1U( ecila (U1) x from #ops (C1)");
    setenv("USER", "alice", 1);
    kdoc_change_cause(c, sizeof c, NULL, "set a=b");
    CHECK_STR(c, "deploy-api: alice (cli) set a=b");
    struct kube_actor empty = {0};
    unsetenv("USER");
    kdoc_change_cause(c, sizeof c, &empty, "set a=b");
    CHECK_STR(c, "deploy-api: cli set a=b");
    /* long input is cut at KUBE_CAUSE_MAX on a character boundary */
    char what[2000];
    size_t n = 0;
    while (n + 3 < sizeof what) {
        memcpy(what + n, "\xc3\xa9", 2); /* é */
        n += 2;
    }
    what[n] = 0;
    kdoc_change_cause(c, sizeof c, &a, what);
    CHECK(strlen(c) <= KUBE_CAUSE_MAX - 1);
    CHECK(strlen(c) >= KUBE_CAUSE_MAX - 3);
    size_t l = strlen(c);
    CHECK(((unsigned char)c[l - 1] & 0xC0) == 0x80); /* ends with the 2nd byte of é */
    CHECK((unsigned char)c[l - 2] == 0xc3);
    /* a small buffer */
    char s[12];
    kdoc_change_cause(s, sizeof s, &a, "x");
    CHECK_STR(s, "deploy-api:");
}

TEST(set_image_patch)
{
    char b[1024], s[256];
    struct json_doc d;
    struct json_tok t[64];
    long n = kdoc_set_image_patch(b, sizeof b, "web", "r/web:1", NULL, 0, "c");
    CHECK_STR(b, "{\"metadata\":{\"annotations\":{\"kubernetes.io/change-cause\":\"c\"}},\"spec\":"
                 "{\"template\":{\"spec\":{\"containers\":[{\"name\":\"web\",\"image\":\"r/web:"
                 "1\"}]}}}}");
    CHECK_EQ(n, (long)strlen(b));
    /* exact fit and one short */
    CHECK_EQ(kdoc_set_image_patch(b, (size_t)n + 1, "web", "r/web:1", NULL, 0, "c"), n);
    CHECK_EQ(kdoc_set_image_patch(b, (size_t)n, "web", "r/web:1", NULL, 0, "c"), -1);
    /* hostile strings round-trip through the JSON reader */
    const char *cn = "we\"b\\x", *im = "r/\"x\":1",
               *cause = "who \"q\" \\ \xc3\xa9 \xe2\x9c\x93 \x01 end";
    n = kdoc_set_image_patch(b, sizeof b, cn, im, NULL, 0, cause);
    CHECK(n > 0);
    CHECK(json_parse(&d, b, (size_t)n, t, 64) > 0);
    int c0 = json_first(&d, json_path(&d, 0, "spec", "template", "spec", "containers", JP_END));
    CHECK(c0 > 0);
    CHECK(json_str(&d, json_get(&d, c0, "name"), s, sizeof s) >= 0);
    CHECK_STR(s, cn);
    CHECK(json_str(&d, json_get(&d, c0, "image"), s, sizeof s) >= 0);
    CHECK_STR(s, im);
    CHECK(json_str(&d, json_path(&d, 0, "metadata", "annotations", KDOC_CAUSE_KEY, JP_END), s,
                   sizeof s) >= 0);
    CHECK_STR(s, cause);
    CHECK_EQ(d.toks[json_path(&d, 0, "spec", "template", "spec", "containers", JP_END)].size, 1);
    /* no cause: no metadata at all */
    n = kdoc_set_image_patch(b, sizeof b, "web", "i", NULL, 0, NULL);
    CHECK_STR(b, "{\"spec\":{\"template\":{\"spec\":{\"containers\":[{\"name\":\"web\",\"image\":"
                 "\"i\"}]}}}}");
}

static const char RB_DEPLOY[] =
    "{\"kind\":\"Deployment\",\"metadata\":{\"name\":\"web\",\"uid\":\"U1\",\"annotations\":{"
    "\"deployment.kubernetes.io/revision\":\"5\",\"kubectl.kubernetes.io/last-applied-"
    "configuration\":\"{\\\"a\\\":1}\\n\",\"kubernetes.io/change-cause\":\"old\",\"mine\":\"d\"}},"
    "\"spec\":{\"template\":{\"metadata\":{\"labels\":{\"app\":\"web\"}},\"spec\":{\"containers\":"
    "[{\"name\":\"web\",\"image\":\"r/web:5\"}]}}}}";

static const char RB_RS[] =
    "{\"metadata\":{\"name\":\"web-abc\",\"annotations\":{\"deployment.kubernetes.io/revision\":"
    "\"3\",\"deployment.kubernetes.io/revision-history\":\"1\",\"deployment.kubernetes.io/"
    "desired-replicas\":\"2\",\"deployment.kubernetes.io/max-replicas\":\"3\",\"kubernetes.io/"
    "change-cause\":\"rs cause\",\"rs-own\":\"x\\\"y \\u00e9\",\"deprecated.deployment.rollback."
    "to\":\"2\"}},\"spec\":{\"template\":{\"metadata\":{\"creationTimestamp\":null,\"labels\":{"
    "\"pod-template-hash\":\"abc\",\"app\":\"web\"}},\"spec\":{\"containers\":[{\"name\":\"web\","
    "\"image\":\"r/web:3\",\"ports\":[{\"containerPort\":80}],\"env\":[{\"name\":\"E\",\"value\":"
    "\"a\\\\b\\\"c\"}]}],\"terminationGracePeriodSeconds\":30}}}}";

TEST(rollback_patch)
{
    char b[8192], err[128], s[256];
    struct json_doc d;
    struct json_tok t[256];
    long n = krs_rollback_patch(RB_DEPLOY, strlen(RB_DEPLOY), RB_RS, strlen(RB_RS), "new cause", b,
                                sizeof b, err, sizeof err);
    CHECK(n > 0);
    CHECK(json_parse(&d, b, (size_t)n, t, 256) > 0);
    CHECK_EQ(d.toks[0].type, JSON_ARRAY);
    CHECK_EQ(d.toks[0].size, 2);
    int op1 = json_first(&d, 0), op2 = json_next(&d, op1);
    CHECK(json_eq(&d, json_get(&d, op1, "op"), "replace"));
    CHECK(json_eq(&d, json_get(&d, op1, "path"), "/spec/template"));
    CHECK(json_eq(&d, json_get(&d, op2, "op"), "replace"));
    CHECK(json_eq(&d, json_get(&d, op2, "path"), "/metadata/annotations"));
    int tmpl = json_get(&d, op1, "value");
    int labels = json_path(&d, tmpl, "metadata", "labels", JP_END);
    CHECK_EQ(d.toks[labels].size, 1);
    CHECK(json_eq(&d, json_get(&d, labels, "app"), "web"));
    CHECK_EQ(json_get(&d, labels, "pod-template-hash"), -1);
    CHECK(json_path(&d, tmpl, "metadata", "creationTimestamp", JP_END) > 0);
    int c0 = json_first(&d, json_path(&d, tmpl, "spec", "containers", JP_END));
    CHECK(json_eq(&d, json_get(&d, c0, "image"), "r/web:3"));
    CHECK_EQ(
        json_int_or(&d, json_path(&d, tmpl, "spec", "terminationGracePeriodSeconds", JP_END), 0),
        30);
    json_str(&d, json_get(&d, json_first(&d, json_get(&d, c0, "env")), "value"), s, sizeof s);
    CHECK_STR(s, "a\\b\"c");
    int ann = json_get(&d, op2, "value");
    /* the deployment keeps its own skipped keys; RS's skipped keys are not copied */
    CHECK(json_eq(&d, json_get(&d, ann, "deployment.kubernetes.io/revision"), "5"));
    json_str(&d, json_get(&d, ann, "kubectl.kubernetes.io/last-applied-configuration"), s,
             sizeof s);
    CHECK_STR(s, "{\"a\":1}\n");
    CHECK_EQ(json_get(&d, ann, "deployment.kubernetes.io/revision-history"), -1);
    CHECK_EQ(json_get(&d, ann, "deployment.kubernetes.io/desired-replicas"), -1);
    CHECK_EQ(json_get(&d, ann, "deployment.kubernetes.io/max-replicas"), -1);
    CHECK_EQ(json_get(&d, ann, "deprecated.deployment.rollback.to"), -1);
    /* the RS's other annotations replace the deployment's */
    CHECK_EQ(json_get(&d, ann, "mine"), -1);
    json_str(&d, json_get(&d, ann, "rs-own"), s, sizeof s);
    CHECK_STR(s, "x\"y \xc3\xa9");
    CHECK(json_eq(&d, json_get(&d, ann, KDOC_CAUSE_KEY), "new cause"));
    CHECK_EQ(d.toks[ann].size, 4);
    /* without a cause the RS's change-cause is carried (kubectl) */
    n = krs_rollback_patch(RB_DEPLOY, strlen(RB_DEPLOY), RB_RS, strlen(RB_RS), NULL, b, sizeof b,
                           err, sizeof err);
    CHECK(json_parse(&d, b, (size_t)n, t, 256) > 0);
    ann = json_get(&d, json_next(&d, json_first(&d, 0)), "value");
    CHECK(json_eq(&d, json_get(&d, ann, KDOC_CAUSE_KEY), "rs cause"));
    /* bounds: exact fit, one short */
    n = krs_rollback_patch(RB_DEPLOY, strlen(RB_DEPLOY), RB_RS, strlen(RB_RS), "c", b, sizeof b,
                           err, sizeof err);
    CHECK(n > 0);
    CHECK_EQ(krs_rollback_patch(RB_DEPLOY, strlen(RB_DEPLOY), RB_RS, strlen(RB_RS), "c", b,
                                (size_t)n + 1, err, sizeof err),
             n);
    CHECK_EQ(krs_rollback_patch(RB_DEPLOY, strlen(RB_DEPLOY), RB_RS, strlen(RB_RS), "c", b,
                                (size_t)n, err, sizeof err),
             -1);
    /* an RS without a template is refused */
    CHECK_EQ(krs_rollback_patch(RB_DEPLOY, strlen(RB_DEPLOY), "{}", 2, "c", b, sizeof b, err,
                                sizeof err),
             -1);
    CHECK_STR(err, "ReplicaSet has no pod template");
}

TEST(template_matches)
{
    const char *d = "{\"spec\":{\"template\":{\"metadata\":{\"labels\":{\"app\":\"w\"}},\"spec\":"
                    "{\"containers\":[{\"name\":\"w\",\"image\":\"i:1\"}]}}}}";
    const char *same = "{\"spec\":{\"template\":{\"spec\":{\"containers\":[{\"image\":\"i:1\","
                       "\"name\":\"w\"}]},\"metadata\":{\"labels\":{\"pod-template-hash\":\"h\","
                       "\"app\":\"w\"}}}}}";
    const char *other = "{\"spec\":{\"template\":{\"metadata\":{\"labels\":{\"app\":\"w\","
                        "\"pod-template-hash\":\"h\"}},\"spec\":{\"containers\":[{\"name\":\"w\","
                        "\"image\":\"i:2\"}]}}}}";
    const char *extra = "{\"spec\":{\"template\":{\"metadata\":{\"labels\":{\"app\":\"w\","
                        "\"x\":\"h\"}},\"spec\":{\"containers\":[{\"name\":\"w\",\"image\":"
                        "\"i:1\"}]}}}}";
    CHECK_EQ(krs_template_matches(d, strlen(d), same, strlen(same)), 1);
    CHECK_EQ(krs_template_matches(d, strlen(d), other, strlen(other)), 0);
    CHECK_EQ(krs_template_matches(d, strlen(d), extra, strlen(extra)), 0);
    CHECK_EQ(krs_template_matches(d, strlen(d), "{}", 2), -1);
    CHECK_EQ(krs_template_matches(d, strlen(d), "{", 1), -1);
    CHECK_EQ(krs_template_matches(RB_DEPLOY, strlen(RB_DEPLOY), RB_RS, strlen(RB_RS)), 0);
}

/* ---- history and rollback target ---- */

static const char RS_LIST[] =
    "{\"kind\":\"ReplicaSetList\",\"apiVersion\":\"apps/v1\",\"metadata\":{\"resourceVersion\":"
    "\"9\"},\"items\":["
    /* rev 1, owned */
    "{\"metadata\":{\"name\":\"web-1\",\"creationTimestamp\":\"2026-11-01T10:00:00Z\","
    "\"annotations\":{\"deployment.kubernetes.io/revision\":\"1\"},\"ownerReferences\":[{"
    "\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\",\"name\":\"web\",\"uid\":\"uid-web\","
    "\"controller\":true}]},\"spec\":{\"template\":{\"metadata\":{\"labels\":{\"app\":\"web\","
    "\"pod-template-hash\":\"h1\"}},\"spec\":{\"containers\":[{\"name\":\"web\",\"image\":"
    "\"r/web:1\"}]}}}},"
    /* rev 2, another deployment's */
    "{\"metadata\":{\"name\":\"other-2\",\"creationTimestamp\":\"2026-11-02T10:00:00Z\","
    "\"annotations\":{\"deployment.kubernetes.io/revision\":\"2\"},\"ownerReferences\":[{"
    "\"uid\":\"uid-other\",\"controller\":true}]},\"spec\":{\"template\":{\"spec\":{"
    "\"containers\":[{\"name\":\"web\",\"image\":\"r/other:2\"}]}}}},"
    /* rev 4, owned, current, with a change-cause holding a newline */
    "{\"metadata\":{\"name\":\"web-4\",\"creationTimestamp\":\"2026-11-04T10:00:00Z\","
    "\"annotations\":{\"deployment.kubernetes.io/revision\":\"4\",\"kubernetes.io/change-cause\":"
    "\"deploy-api: tester (U0TESTER) set web=r/web:4\\nX\"},\"ownerReferences\":[{\"uid\":"
    "\"uid-web\",\"controller\":true}]},\"spec\":{\"template\":{\"metadata\":{\"labels\":{"
    "\"app\":\"web\",\"pod-template-hash\":\"h4\"}},\"spec\":{\"containers\":[{\"name\":\"web\","
    "\"image\":\"r/web:4\"},{\"name\":\"envoy\",\"image\":\"envoy:1.2\"}]}}}},"
    /* rev 10, owner but not controller */
    "{\"metadata\":{\"name\":\"web-10\",\"annotations\":{\"deployment.kubernetes.io/revision\":"
    "\"10\"},\"ownerReferences\":[{\"uid\":\"uid-web\",\"controller\":false}]},\"spec\":{}},"
    /* no revision */
    "{\"metadata\":{\"name\":\"web-x\",\"annotations\":{\"deployment.kubernetes.io/revision\":"
    "\"x1\"},\"ownerReferences\":[{\"uid\":\"uid-web\",\"controller\":true}]},\"spec\":{}},"
    /* rev 3, owned */
    "{\"metadata\":{\"name\":\"web-3\",\"creationTimestamp\":\"2026-11-03T10:00:00Z\","
    "\"annotations\":{\"deployment.kubernetes.io/revision\":\"3\"},\"ownerReferences\":[{"
    "\"uid\":\"uid-web\",\"controller\":true}]},\"spec\":{\"template\":{\"metadata\":{\"labels\":{"
    "\"app\":\"web\",\"pod-template-hash\":\"h3\"}},\"spec\":{\"containers\":[{\"name\":\"web\","
    "\"image\":\"r/web:3\"}]}}}}"
    "]}";

TEST(history)
{
    char d[4096], out[2048];
    dep(d, sizeof d, "r/web:4", 1, 1, 1, 1, 1, 1, NULL);
    CHECK_EQ(krs_history_text(d, strlen(d), RS_LIST, strlen(RS_LIST), 10, 1, out, sizeof out), 3);
    CHECK_STR(out, "default/web revisions, newest first:\n"
                   "4 (current)  created 2026-11-04 10:00 UTC  r/web:4, envoy:1.2  deploy-api: "
                   "tester (U0TESTER) set web=r/web:4 X\n"
                   "3  created 2026-11-03 10:00 UTC  r/web:3  <none>\n"
                   "1  created 2026-11-01 10:00 UTC  r/web:1  <none>");
    /* no owned ReplicaSets */
    const char *empty = "{\"items\":[]}";
    CHECK_EQ(krs_history_text(d, strlen(d), empty, strlen(empty), 10, 1, out, sizeof out), 0);
    CHECK_STR(out, "default/web: no rollout history");
    CHECK_EQ(krs_history_text(d, strlen(d), "{}", 2, 10, 1, out, sizeof out), -1);
    /* lines that do not fit are left out and counted; a tiny buffer is cut with "..." */
    char mid[200], small[40];
    CHECK_EQ(krs_history_text(d, strlen(d), RS_LIST, strlen(RS_LIST), 10, 1, mid, sizeof mid), 1);
    CHECK(strstr(mid, "\n4 (current)  created 2026-11-04 10:00 UTC") != NULL);
    CHECK(strstr(mid, "\n(2 more not shown: the message is full)") != NULL);
    CHECK_EQ(krs_history_text(d, strlen(d), RS_LIST, strlen(RS_LIST), 10, 1, small, sizeof small),
             0);
    CHECK_EQ(strlen(small), sizeof small - 1);
    CHECK(strcmp(small + strlen(small) - 3, "...") == 0);
}

TEST(rollback_target)
{
    char d[4096], err[256];
    struct krs_target t;
    const char *rs;
    size_t len;
    dep(d, sizeof d, "r/web:4", 1, 1, 1, 1, 1, 1, NULL);
    size_t dl = strlen(d), rl = strlen(RS_LIST);
    CHECK_EQ(krs_rollback_target(d, dl, RS_LIST, rl, 0, &t, &rs, &len, err, sizeof err), 3);
    CHECK(len > 0 && rs[0] == '{' && rs[len - 1] == '}' && rs[len] == 0);
    CHECK(strstr(rs, "\"web-3\"") == rs + 20);
    CHECK(memmem(RS_LIST, rl, rs, len) != NULL); /* the object as it was */
    krs_target_free(&t);
    CHECK_EQ(krs_rollback_target(d, dl, RS_LIST, rl, 1, &t, &rs, &len, err, sizeof err), 1);
    CHECK(memmem(rs, len, "\"web-1\"", 7) != NULL);
    krs_target_free(&t);
    CHECK_EQ(krs_rollback_target(d, dl, RS_LIST, rl, 2, &t, &rs, &len, err, sizeof err), -1);
    CHECK_STR(err, "revision 2 not found; available: 4, 3, 1");
    CHECK(rs == NULL && len == 0);
    krs_target_free(&t);
    CHECK_EQ(krs_rollback_target(d, dl, RS_LIST, rl, 10, &t, &rs, &len, err, sizeof err), -1);
    krs_target_free(&t);
    CHECK_EQ(krs_rollback_target(d, dl, RS_LIST, rl, -1, &t, &rs, &len, err, sizeof err), -1);
    CHECK_STR(err, "revision -1 not found");
    krs_target_free(&t);
    const char *one = "{\"items\":[{\"metadata\":{\"annotations\":{\"deployment.kubernetes.io/"
                      "revision\":\"1\"},\"ownerReferences\":[{\"uid\":\"uid-web\","
                      "\"controller\":true}]}}]}";
    CHECK_EQ(krs_rollback_target(d, dl, one, strlen(one), 0, &t, &rs, &len, err, sizeof err), -1);
    CHECK_STR(err, "no rollout history found for deployment \"web\"");
    krs_target_free(&t);
    CHECK_EQ(krs_rollback_target(d, dl, "{\"items\":[]}", 12, 3, &t, &rs, &len, err, sizeof err),
             -1);
    CHECK_STR(err, "revision 3 not found; available: none");
    krs_target_free(&t);
    CHECK_EQ(krs_rollback_target(d, dl, "{\"items\":[", 10, 0, &t, &rs, &len, err, sizeof err), -1);
    CHECK_STR(err, "malformed ReplicaSetList JSON");
    krs_target_free(&t);
    CHECK_EQ(krs_rollback_target("{", 1, RS_LIST, rl, 0, &t, &rs, &len, err, sizeof err), -1);
    CHECK_STR(err, "malformed Deployment JSON");
    krs_target_free(&t);
}

#define RSI(name, rev, uid)                                                                        \
    "{\"metadata\":{\"name\":\"" name "\",\"annotations\":{\"deployment.kubernetes.io/"            \
    "revision\":\"" rev "\"},\"ownerReferences\":[{\"uid\":\"" uid "\",\"controller\":true}]},"    \
    "\"spec\":{}}"

static const char *const TPAGE[] = {
    "{\"metadata\":{\"continue\":\"c1\"},\"items\":[" RSI("web-3", "3", "uid-web") "," RSI(
        "web-1", "1", "uid-web") "]}",
    "{\"metadata\":{\"continue\":\"c2\"},\"items\":[" RSI("other-9", "9", "uid-other") "]}",
    "{\"metadata\":{},\"items\":[" RSI("web-5", "5", "uid-web") "," RSI("web-4", "4",
                                                                        "uid-web") "]}",
};

/* Feed the pages in order (or reversed) and pick want's target. */
static long pick_pages(struct krs_target *t, long want, int reversed, const char **rs, char *err)
{
    char cont[16];
    size_t len;
    krs_target_init(t, "uid-web", want);
    for (int i = 0; i < 3; i++) {
        const char *p = TPAGE[reversed ? 2 - i : i];
        if (krs_target_page(t, p, strlen(p), cont, sizeof cont) < 0) return -2;
    }
    long r = krs_target_pick(t, "web", rs, &len, err, 256);
    if (r >= 0 && strlen(*rs) != len) return -3;
    return r;
}

/* The target and the revision list come out the same whatever page holds them. */
TEST(rollback_target_pages)
{
    struct krs_target t;
    const char *rs;
    char err[256], cont[16];
    for (int rev = 0; rev < 2; rev++) {
        CHECK_EQ(pick_pages(&t, 0, rev, &rs, err), 4); /* last page, or first */
        CHECK(strstr(rs, "\"web-4\"") != NULL);
        krs_target_free(&t);
        CHECK_EQ(pick_pages(&t, 1, rev, &rs, err), 1);
        CHECK(strstr(rs, "\"web-1\"") != NULL);
        krs_target_free(&t);
        CHECK_EQ(pick_pages(&t, 5, rev, &rs, err), 5);
        CHECK(strstr(rs, "\"web-5\"") != NULL);
        krs_target_free(&t);
        CHECK_EQ(pick_pages(&t, 9, rev, &rs, err), -1); /* another deployment's */
        CHECK_STR(err, "revision 9 not found; available: 5, 4, 3, 1");
        krs_target_free(&t);
    }
    /* the continue token is passed on; a truncated or non-list page is refused */
    krs_target_init(&t, "uid-web", 0);
    CHECK_EQ(krs_target_page(&t, TPAGE[0], strlen(TPAGE[0]), cont, sizeof cont), 0);
    CHECK_STR(cont, "c1");
    CHECK_EQ(krs_target_page(&t, TPAGE[2], strlen(TPAGE[2]) - 3, cont, sizeof cont), -1);
    CHECK_STR(cont, "");
    CHECK_EQ(krs_target_page(&t, "{\"metadata\":{}}", 15, cont, sizeof cont), -1);
    CHECK_EQ(krs_target_page(&t, "[]", 2, cont, sizeof cont), -1);
    CHECK_EQ(t.nrevs, 2);
    CHECK_EQ(krs_target_pick(&t, "web", &rs, &(size_t){0}, err, sizeof err), 1);
    krs_target_free(&t);
    /* two ReplicaSets of the same newest revision: the second newest is that one too */
    const char *dup = "{\"items\":[" RSI("a", "2", "uid-web") "," RSI("b", "2", "uid-web") "," RSI(
        "c", "1", "uid-web") "]}";
    krs_target_init(&t, "uid-web", 0);
    CHECK_EQ(krs_target_page(&t, dup, strlen(dup), cont, sizeof cont), 0);
    CHECK_EQ(krs_target_pick(&t, "web", &rs, &(size_t){0}, err, sizeof err), 2);
    krs_target_free(&t);
}

TEST(status_and_events)
{
    char d[4096], out[1024], m[128];
    size_t off, len;
    dep(d, sizeof d, "r/web:4", 2, 2, 3, 3, 3, 3, "NewReplicaSetAvailable");
    CHECK_EQ(kdoc_status_text(d, strlen(d), out, sizeof out), 0);
    CHECK_STR(out, "*default/web*: deployment \"web\" successfully rolled out\nrevision: 4\n"
                   "images: web=r/web:4, envoy=envoy:1.2\nreplicas: 3 desired, 3 updated, 3 "
                   "available, 3 ready, 3 total\nconditions: Available=True "
                   "(MinimumReplicasAvailable), Progressing=True (NewReplicaSetAvailable)");
    CHECK_EQ(kdoc_status_text("{}", 2, out, sizeof out), -1);
    const char *s = "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"status\":\"Failure\",\"message\":"
                    "\"deployments.apps \\\"web\\\" is forbidden\\n\",\"reason\":\"Forbidden\","
                    "\"code\":403}";
    CHECK_EQ(kdoc_status_message(s, strlen(s), m, sizeof m), 36);
    CHECK_STR(m, "deployments.apps \"web\" is forbidden ");
    CHECK_EQ(kdoc_status_message(d, strlen(d), m, sizeof m), -1);
    CHECK_EQ(kdoc_status_message("x", 1, m, sizeof m), -1);
    const char *ev[] = {
        "{\"type\":\"MODIFIED\",\"object\":{\"a\":1}}",
        "{\"type\":\"ADDED\",\"object\":{}}",
        "{\"type\":\"DELETED\",\"object\":{}}",
        "{\"type\":\"BOOKMARK\",\"object\":{\"metadata\":{\"resourceVersion\":\"7\"}}}",
        ("{\"type\":\"ERROR\",\"object\":{\"kind\":\"Status\",\"code\":410,\"reason\":"
         "\"Expired\"}}"),
        "{\"type\":\"ERROR\",\"object\":{\"kind\":\"Status\",\"code\":500}}",
        "{\"type\":\"WHAT\",\"object\":{}}",
        "{\"type\":\"MODIFIED\",\"object\":[]}",
        "{\"type\":\"MODIFIED\"}",
        "{\"type\":\"MODIFIED\",\"object\":{}",
    };
    enum kdoc_event want[] = {KEV_OBJECT, KEV_OBJECT, KEV_DELETED, KEV_BOOKMARK, KEV_EXPIRED,
                              KEV_ERROR,  KEV_BAD,    KEV_BAD,     KEV_BAD,      KEV_BAD};
    for (size_t i = 0; i < sizeof ev / sizeof ev[0]; i++)
        CHECK_EQ(kdoc_watch_event(ev[i], strlen(ev[i]), &off, &len), want[i]);
    CHECK_EQ(kdoc_watch_event(ev[0], strlen(ev[0]), &off, &len), KEV_OBJECT);
    CHECK_EQ(len, 7);
    CHECK(memcmp(ev[0] + off, "{\"a\":1}", 7) == 0);
}

/* ---- flows over a fake transport ---- */

struct step {
    const char *method; /* "GET", "PATCH", "WATCH" (httpc_open) */
    const char *path;   /* expected substring of the request path */
    int status;         /* -1: transport error */
    const char *body;   /* response body; WATCH: lines separated by '\n' */
};

static struct step script[32];
static int nscript, pos, script_bad;
static char last_body[16384], last_hdrs[4096];
static long long fake_clock;
static long slept_ms;

struct fake_stream {
    const char *p;
};
static struct fake_stream streams[8];
static int nstreams;

static const struct step *next_step(const char *method, const struct url *u)
{
    if (pos >= nscript) {
        printf("  unexpected %s %s\n", method, u->path);
        script_bad = 1;
        return NULL;
    }
    const struct step *s = &script[pos++];
    if (strcmp(s->method, method) != 0 || !strstr(u->path, s->path)) {
        printf("  step %d: wanted %s %s, got %s %s\n", pos - 1, s->method, s->path, method,
               u->path);
        script_bad = 1;
    }
    return s;
}

static void note_headers(const char *const *h)
{
    last_hdrs[0] = 0;
    for (; *h; h++) {
        strncat(last_hdrs, *h, sizeof last_hdrs - strlen(last_hdrs) - 2);
        strcat(last_hdrs, "|");
    }
}

static long fake_retry_after = -1; /* Retry-After of every 429 */

static int fake_do(const struct httpc_opts *o, const char *method, const struct url *u,
                   const char *const *h, const char *body, size_t blen, size_t max,
                   struct httpc_resp *r, char *err, size_t errlen)
{
    const struct step *s = next_step(method, u);
    note_headers(h);
    if (body) {
        size_t n = blen < sizeof last_body - 1 ? blen : sizeof last_body - 1;
        memcpy(last_body, body, n);
        last_body[n] = 0;
    }
    fake_clock += 10;
    if (s && s->status == -2) { /* an answer that broke off */
        snprintf(err, errlen, "connection reset");
        r->error = HTTPC_RESET;
        return -1;
    }
    if (!s || s->status < 0) {
        snprintf(err, errlen, "connection refused");
        r->error = HTTPC_CONNECT;
        return -1;
    }
    r->status = s->status;
    r->body = strdup(s->body ? s->body : "");
    r->len = strlen(r->body);
    r->retry_after = s->status == 429 ? fake_retry_after : -1;
    return 0;
}

static void fake_free(struct httpc_resp *r)
{
    free(r->body);
    r->body = NULL;
}

static struct httpc_stream *fake_open(const struct httpc_opts *o, const char *method,
                                      const struct url *u, const char *const *h, const char *body,
                                      size_t blen, int *status, char *err, size_t errlen)
{
    const struct step *s = next_step("WATCH", u);
    note_headers(h);
    if (!s || s->status < 0 || nstreams >= 8) {
        snprintf(err, errlen, "connection refused");
        return NULL;
    }
    *status = s->status;
    streams[nstreams].p = s->body ? s->body : "";
    return (struct httpc_stream *)&streams[nstreams++];
}

static long fake_readl(struct httpc_stream *hs, char *buf, size_t cap, int tmo, char *err,
                       size_t errlen)
{
    struct fake_stream *s = (struct fake_stream *)hs;
    if (!*s->p) return 0;
    if (*s->p == '!') { /* a broken stream */
        snprintf(err, errlen, "reset");
        return -1;
    }
    const char *nl = strchr(s->p, '\n');
    size_t n = nl ? (size_t)(nl - s->p) : strlen(s->p);
    if (n >= cap) return -1;
    memcpy(buf, s->p, n);
    buf[n] = 0;
    s->p += n + (nl ? 1 : 0);
    fake_clock += 100;
    return (long)n;
}

static void fake_close(struct httpc_stream *s)
{
    (void)s;
}

static void fake_sleep(long ms)
{
    slept_ms += ms;
    fake_clock += ms;
}

static long long fake_now(void)
{
    return fake_clock;
}

static char token_path[64];

static void fake_setup(struct kube_cfg *k)
{
    hook_do = fake_do;
    hook_open = fake_open;
    hook_readl = fake_readl;
    hook_close = fake_close;
    hook_free = fake_free;
    hook_sleep_ms = fake_sleep;
    hook_now_ms = fake_now;
    nscript = pos = script_bad = nstreams = 0;
    fake_clock = 1000000;
    slept_ms = 0;
    last_body[0] = last_hdrs[0] = 0;
    memset(k, 0, sizeof *k);
    k->api.https = 1;
    strcpy(k->api.host, "10.0.0.1");
    strcpy(k->api.port, "443");
    strcpy(k->api.path, "/");
    strcpy(token_path, "/tmp/test_kube_tokenXXXXXX");
    int fd = mkstemp(token_path);
    CHECK(fd >= 0);
    CHECK_EQ(write(fd, "  tok-1\n", 8), 8);
    close(fd);
    k->token_file = token_path;
    k->timeout_s = 5;
    k->rollout_timeout_s = 60;
    k->image_base = "r";
}

static void fake_teardown(void)
{
    unlink(token_path);
    CHECK(!script_bad);
    CHECK_EQ(pos, nscript);
}

static void add(const char *m, const char *p, int status, const char *body)
{
    script[nscript++] = (struct step){m, p, status, body};
}

static const struct kube_actor actor = {"U0TESTER", "tester", "C0DEPLOY", "deploys", "T1"};

TEST(deploy_watch_success)
{
    struct kube_cfg k;
    struct kube_result r;
    char d0[4096], d1[4096], w1[4200], w2[4200], lines[9000];
    fake_setup(&k);
    dep(d0, sizeof d0, "r/web:1.3", 1, 1, 3, 3, 3, 3, NULL);
    dep(d1, sizeof d1, "r/web:1.4", 2, 1, 3, 3, 3, 3, NULL);
    snprintf(w1, sizeof w1, "{\"type\":\"MODIFIED\",\"object\":%s}",
             dep(d1, sizeof d1, "r/web:1.4", 2, 2, 3, 4, 1, 1, NULL));
    snprintf(w2, sizeof w2, "{\"type\":\"MODIFIED\",\"object\":%s}",
             dep(d1, sizeof d1, "r/web:1.4", 2, 2, 3, 3, 3, 3, NULL));
    snprintf(lines, sizeof lines, "%s\n%s\n", w1, w2);
    dep(d1, sizeof d1, "r/web:1.4", 2, 1, 3, 3, 3, 3, NULL);
    add("GET", "/apis/apps/v1/namespaces/default/deployments/web", 200, d0);
    add("PATCH", "/apis/apps/v1/namespaces/default/deployments/web", 200, d1);
    add("WATCH",
        "/apis/apps/v1/namespaces/default/deployments?watch=1&fieldSelector=metadata.name%3Dweb&"
        "resourceVersion=100&timeoutSeconds=",
        200, lines);
    CHECK_EQ(kube_deploy(&k, "default", "web", "1.4", NULL, &actor, &r), 0);
    CHECK_EQ(r.ok, 1);
    CHECK_STR(r.image, "r/web:1.4");
    CHECK(strncmp(r.text,
                  "deployed default/web 1.3 \xe2\x86\x92 1.4 (r/web:1.4), now revision 4: 3/3 "
                  "replicas updated and available in ",
                  97) == 0);
    CHECK(strstr(last_hdrs, "Authorization: Bearer tok-1|") != NULL);
    CHECK_EQ(r.revision, 4);
    fake_teardown();
}

TEST(deploy_patch_body)
{
    struct kube_cfg k;
    struct kube_result r;
    char d0[4096], d1[4096];
    fake_setup(&k);
    dep(d0, sizeof d0, "r/web:1.3", 1, 1, 3, 3, 3, 3, NULL);
    dep(d1, sizeof d1, "r/web:1.4", 2, 2, 3, 3, 3, 3, NULL); /* already done */
    add("GET", "/deployments/web", 200, d0);
    add("PATCH", "/deployments/web", 200, d1);
    CHECK_EQ(kube_deploy(&k, "default", "web", "1.4", NULL, &actor, &r), 0);
    CHECK_STR(last_body,
              "{\"metadata\":{\"annotations\":{\"kubernetes.io/change-cause\":\"deploy-api: "
              "tester (U0TESTER) set web=r/web:1.4 from #deploys (C0DEPLOY)\"}},\"spec\":{"
              "\"template\":{\"spec\":{\"containers\":[{\"name\":\"web\",\"image\":\"r/web:1.4\"}"
              "]}}}}");
    CHECK(strstr(last_hdrs, "Content-Type: application/strategic-merge-patch+json|") != NULL);
    fake_teardown();
}

TEST(deploy_already_running)
{
    struct kube_cfg k;
    struct kube_result r;
    char d0[4096];
    fake_setup(&k);
    add("GET", "/deployments/web", 200, dep(d0, sizeof d0, "r/web:1.4", 1, 1, 3, 3, 3, 3, NULL));
    CHECK_EQ(kube_deploy(&k, "default", "web", "1.4", NULL, &actor, &r), 0);
    CHECK_EQ(r.ok, 1);
    CHECK_STR(r.text, "default/web is already running 1.4 (r/web:1.4, revision 4)");
    fake_teardown();
}

TEST(deploy_errors)
{
    struct kube_cfg k;
    struct kube_result r;
    char d0[4096];
    const char *forbidden = "{\"kind\":\"Status\",\"status\":\"Failure\",\"message\":"
                            "\"deployments.apps \\\"web\\\" is forbidden: User \\\"x\\\" cannot "
                            "patch\",\"reason\":\"Forbidden\",\"code\":403}";
    fake_setup(&k);
    add("GET", "/deployments/web", 404, "{\"kind\":\"Status\",\"code\":404}");
    CHECK_EQ(kube_deploy(&k, "default", "web", "1.4", NULL, &actor, &r), -1);
    CHECK_EQ(r.ok, 0);
    CHECK_STR(r.text, "deployment default/web not found");
    CHECK_STR(r.error, "deployment default/web not found");
    fake_teardown();

    fake_setup(&k);
    add("GET", "/deployments/web", 200, dep(d0, sizeof d0, "r/web:1.3", 1, 1, 3, 3, 3, 3, NULL));
    add("PATCH", "/deployments/web", 403, forbidden);
    CHECK_EQ(kube_deploy(&k, "default", "web", "1.4", NULL, &actor, &r), -1);
    CHECK_STR(r.text, "cannot update deployment default/web: deployments.apps \"web\" is "
                      "forbidden: User \"x\" cannot patch (HTTP 403)");
    fake_teardown();

    fake_setup(&k);
    add("GET", "/deployments/web", -1, NULL);
    CHECK_EQ(kube_deploy(&k, "default", "web", "1.4", NULL, &actor, &r), -1);
    CHECK_STR(r.text, "cannot connect to the Kubernetes API at 10.0.0.1:443: connection refused");
    CHECK_STR(r.error, r.text);
    fake_teardown();

    /* a GET's 5xx is retried KUBE_API_RETRIES times, 0.5 s, 1 s, 2 s apart */
    fake_setup(&k);
    for (int i = 0; i <= KUBE_API_RETRIES; i++)
        add("GET", "/deployments/web", 500, "<html>oops</html>");
    CHECK_EQ(kube_deploy(&k, "default", "web", "1.4", NULL, &actor, &r), -1);
    CHECK_STR(r.text, "cannot read deployment default/web: the API server answered HTTP 500 "
                      "(HTTP 500)");
    CHECK_EQ(slept_ms, 3500);
    fake_teardown();

    /* one 503, one broken answer, then the deployment: the deploy goes on */
    fake_setup(&k);
    add("GET", "/deployments/web", 503, "");
    add("GET", "/deployments/web", -2, NULL);
    add("GET", "/deployments/web", 200, dep(d0, sizeof d0, "r/web:1.4", 1, 1, 3, 3, 3, 3, NULL));
    CHECK_EQ(kube_deploy(&k, "default", "web", "1.4", NULL, &actor, &r), 0);
    CHECK(strstr(r.text, "already running") != NULL);
    CHECK_EQ(slept_ms, 1500);
    fake_teardown();

    /* a refused connection is not retried */
    fake_setup(&k);
    add("GET", "/deployments/web", -1, NULL);
    CHECK_EQ(kube_deploy(&k, "default", "web", "1.4", NULL, &actor, &r), -1);
    CHECK_EQ(slept_ms, 0);
    fake_teardown();

    /* 429 on PATCH: Retry-After honoured (capped), then retried */
    fake_setup(&k);
    fake_retry_after = 600;
    add("GET", "/deployments/web", 200, dep(d0, sizeof d0, "r/web:1.3", 1, 1, 3, 3, 3, 3, NULL));
    add("PATCH", "/deployments/web", 429, "");
    add("PATCH", "/deployments/web", 500, "");
    CHECK_EQ(kube_deploy(&k, "default", "web", "1.4", NULL, &actor, &r), -1);
    CHECK_EQ(slept_ms, KUBE_RETRY_AFTER_MAX * 1000); /* a PATCH's 500 is not retried */
    CHECK(strstr(r.text, "(HTTP 500)") != NULL);
    fake_retry_after = -1;
    fake_teardown();

    /* garbage instead of a Deployment: asked again, then named */
    fake_setup(&k);
    for (int i = 0; i <= KUBE_API_RETRIES; i++) add("GET", "/deployments/web", 200, "\x01<html>{{");
    CHECK_EQ(kube_deploy(&k, "default", "web", "1.4", NULL, &actor, &r), -1);
    CHECK_STR(r.text, "the API server sent a malformed answer for deployment default/web");
    fake_teardown();

    /* missing container: ambiguous names listed; no PATCH sent */
    fake_setup(&k);
    add("GET", "/deployments/api", 200, dep(d0, sizeof d0, "r/web:1.3", 1, 1, 3, 3, 3, 3, NULL));
    CHECK_EQ(kube_deploy(&k, "default", "api", "1.4", NULL, &actor, &r), -1);
    CHECK_STR(r.text, "deployment api has 2 containers and none is named api: web, envoy. Choose "
                      "one with -c: /deploy default/api 1.4 -c web");
    fake_teardown();

    /* bad inputs never reach the network */
    fake_setup(&k);
    CHECK_EQ(kube_deploy(&k, "Default", "web", "1.4", NULL, &actor, &r), -1);
    CHECK_STR(r.error, "invalid namespace");
    CHECK_EQ(kube_deploy(&k, "default", "web/x", "1.4", NULL, &actor, &r), -1);
    CHECK_EQ(kube_deploy(&k, "default", "web", "r/x:1", NULL, &actor, &r), -1);
    fake_teardown();

    /* a repository outside IMAGE_BASE: refused after the GET, no PATCH */
    fake_setup(&k);
    k.image_base = "other.example,r/team";
    add("GET", "/deployments/web", 200, dep(d0, sizeof d0, "r/web:1.3", 1, 1, 3, 3, 3, 3, NULL));
    CHECK_EQ(kube_deploy(&k, "default", "web", "1.4", NULL, &actor, &r), -1);
    CHECK_STR(r.text, "the image repository r/web of container web is not under IMAGE_BASE "
                      "(other.example,r/team): deploy-api only deploys new versions of the "
                      "repositories it allows");
    fake_teardown();

    /* token file missing for https */
    fake_setup(&k);
    k.token_file = "/nonexistent/token";
    CHECK_EQ(kube_deploy(&k, "default", "web", "1.4", NULL, &actor, &r), -1);
    CHECK_STR(r.error, "cannot read token file /nonexistent/token: No such file or directory");
    /* ... but fine for http:// (kubectl proxy): no Authorization header */
    k.api.https = 0;
    add("GET", "/deployments/web", 200, dep(d0, sizeof d0, "r/web:1.4", 1, 1, 3, 3, 3, 3, NULL));
    CHECK_EQ(kube_deploy(&k, "default", "web", "1.4", NULL, &actor, &r), 0);
    CHECK(strstr(last_hdrs, "Authorization") == NULL);
    fake_teardown();
}

TEST(deploy_token_rotation_and_conflict)
{
    struct kube_cfg k;
    struct kube_result r;
    char d0[4096], d1[4096];
    fake_setup(&k);
    dep(d0, sizeof d0, "r/web:1.3", 1, 1, 3, 3, 3, 3, NULL);
    dep(d1, sizeof d1, "r/web:1.4", 2, 2, 3, 3, 3, 3, NULL);
    add("GET", "/deployments/web", 401, "{\"kind\":\"Status\",\"code\":401}");
    add("GET", "/deployments/web", 200, d0);
    add("PATCH", "/deployments/web", 409, "{\"kind\":\"Status\",\"code\":409}");
    add("GET", "/deployments/web", 200, d0);
    add("PATCH", "/deployments/web", 409, "{\"kind\":\"Status\",\"code\":409}");
    add("GET", "/deployments/web", 200, d0);
    add("PATCH", "/deployments/web", 200, d1);
    /* the kubelet rewrites the token between the first GET and the retry */
    FILE *f = fopen(token_path, "w");
    CHECK(f != NULL);
    fputs("tok-2", f);
    fclose(f);
    CHECK_EQ(kube_deploy(&k, "default", "web", "1.4", NULL, &actor, &r), 0);
    CHECK(strstr(last_hdrs, "Authorization: Bearer tok-2|") != NULL);
    fake_teardown();

    /* 409 four times: give up after three retries with the Status */
    fake_setup(&k);
    for (int i = 0; i < 4; i++) {
        add("GET", "/deployments/web", 200, d0);
        add("PATCH", "/deployments/web", 409,
            "{\"kind\":\"Status\",\"message\":\"the object has been modified\",\"code\":409}");
    }
    CHECK_EQ(kube_deploy(&k, "default", "web", "1.4", NULL, &actor, &r), -1);
    CHECK_STR(r.text, "cannot update deployment default/web: the object has been modified "
                      "(HTTP 409)");
    fake_teardown();

    /* 401 twice: reported */
    fake_setup(&k);
    add("GET", "/deployments/web", 401, "{\"kind\":\"Status\",\"message\":\"Unauthorized\"}");
    add("GET", "/deployments/web", 401, "{\"kind\":\"Status\",\"message\":\"Unauthorized\"}");
    CHECK_EQ(kube_deploy(&k, "default", "web", "1.4", NULL, &actor, &r), -1);
    CHECK_STR(r.text, "cannot read deployment default/web: Unauthorized (HTTP 401)");
    fake_teardown();
}

/* A deployment deleted while its rollout is followed ends as a failure. */
TEST(deploy_deleted_while_followed)
{
    struct kube_cfg k;
    struct kube_result r;
    char d0[4096], d1[4096];
    fake_setup(&k);
    dep(d0, sizeof d0, "r/web:1.3", 1, 1, 3, 3, 3, 3, NULL);
    dep(d1, sizeof d1, "r/web:1.4", 2, 1, 3, 3, 3, 3, NULL);
    add("GET", "/deployments/web", 200, d0);
    add("PATCH", "/deployments/web", 200, d1);
    add("WATCH", "watch=1", 403, "");
    add("GET", "/deployments/web", 404,
        "{\"kind\":\"Status\",\"message\":\"deployments.apps \\\"web\\\" not found\"}");
    CHECK_EQ(kube_deploy(&k, "default", "web", "1.4", NULL, &actor, &r), -1);
    CHECK_EQ(r.ok, 0);
    CHECK_STR(r.error, "deployment default/web not found");
    CHECK(strstr(r.text, "failed (revision 4): deployment default/web not found") != NULL);
    CHECK_EQ(script_bad, 0);
    CHECK_EQ(pos, nscript);
    fake_teardown();
}

TEST(deploy_watch_expired_then_poll)
{
    struct kube_cfg k;
    struct kube_result r;
    char d0[4096], d1[4096], d2[4096], d3[4096];
    fake_setup(&k);
    dep(d0, sizeof d0, "r/web:1.3", 1, 1, 3, 3, 3, 3, NULL);
    dep(d1, sizeof d1, "r/web:1.4", 2, 1, 3, 3, 3, 3, NULL);
    dep(d2, sizeof d2, "r/web:1.4", 2, 2, 3, 4, 2, 2, NULL);
    dep(d3, sizeof d3, "r/web:1.4", 2, 2, 3, 3, 3, 3, NULL);
    add("GET", "/deployments/web", 200, d0);
    add("PATCH", "/deployments/web", 200, d1);
    add("WATCH", "watch=1", 200,
        "{\"type\":\"ERROR\",\"object\":{\"kind\":\"Status\",\"code\":410,\"reason\":"
        "\"Expired\"}}\n");
    add("GET", "/deployments/web", 200, d2);
    add("WATCH", "watch=1", 403, "");
    add("GET", "/deployments/web", 200, d2);
    add("GET", "/deployments/web", -1, NULL);
    add("GET", "/deployments/web", 200, d3);
    CHECK_EQ(kube_deploy(&k, "default", "web", "1.4", NULL, &actor, &r), 0);
    CHECK_EQ(r.ok, 1);
    CHECK_EQ(slept_ms, 3 * KUBE_POLL_MS);
    fake_teardown();
}

TEST(deploy_timeout_and_failure)
{
    struct kube_cfg k;
    struct kube_result r;
    char d0[4096], d1[4096], d2[4096], w[4200];
    fake_setup(&k);
    k.rollout_timeout_s = 5;
    dep(d0, sizeof d0, "r/web:1.3", 1, 1, 3, 3, 3, 3, NULL);
    dep(d1, sizeof d1, "r/web:1.4", 2, 2, 3, 4, 1, 1, NULL);
    add("GET", "/deployments/web", 200, d0);
    add("PATCH", "/deployments/web", 200, d1);
    add("WATCH", "watch=1", -1, NULL);
    add("GET", "/deployments/web", 200, d1); /* t+2 s */
    add("GET", "/deployments/web", 200, d1); /* t+4 s, then 1 s of sleep reaches the deadline */
    add("GET", "/deployments/web", 200, d1); /* one last look at the deadline */
    CHECK_EQ(kube_deploy(&k, "default", "web", "1.4", NULL, &actor, &r), -1);
    CHECK_EQ(r.ok, 0);
    CHECK_STR(r.error, "still rolling out after 5 s");
    CHECK_STR(r.text,
              "deploy of default/web 1.3 \xe2\x86\x92 1.4 (r/web:1.4) (revision 4) is still "
              "rolling out after 5 s (Waiting for deployment \"web\" rollout to finish: 1 out of "
              "3 new replicas have been updated...)");
    CHECK_EQ(r.outcome, KUBE_PENDING);
    fake_teardown();

    /* the watch hangs until the deadline; the last look finds it done */
    fake_setup(&k);
    k.rollout_timeout_s = 1;
    dep(d2, sizeof d2, "r/web:1.4", 2, 2, 3, 3, 3, 3, NULL);
    add("GET", "/deployments/web", 200, d0);
    add("PATCH", "/deployments/web", 200, d1);
    /* bookmarks only, 100 ms each on the fake clock, past the deadline */
    static char marks[2048];
    marks[0] = 0;
    for (int i = 0; i < 12; i++)
        snprintf(marks + strlen(marks), sizeof marks - strlen(marks),
                 "{\"type\":\"BOOKMARK\",\"object\":{\"metadata\":{\"resourceVersion\":"
                 "\"%d\"}}}\n",
                 200 + i);
    add("WATCH", "watch=1", 200, marks);
    add("GET", "/deployments/web", 200, d2); /* the last look */
    CHECK_EQ(kube_deploy(&k, "default", "web", "1.4", NULL, &actor, &r), 0);
    CHECK_EQ(r.ok, 1);
    CHECK(strstr(r.text, "deployed default/web 1.3 \xe2\x86\x92 1.4 (r/web:1.4), now revision 4: "
                         "3/3 replicas") != NULL);
    fake_teardown();

    fake_setup(&k);
    dep(d2, sizeof d2, "r/web:1.4", 2, 2, 3, 4, 1, 1, "ProgressDeadlineExceeded");
    snprintf(w, sizeof w, "{\"type\":\"MODIFIED\",\"object\":%s}\n", d2);
    add("GET", "/deployments/web", 200, d0);
    add("PATCH", "/deployments/web", 200, d1);
    add("WATCH", "watch=1", 200, w);
    CHECK_EQ(kube_deploy(&k, "default", "web", "1.4", NULL, &actor, &r), -1);
    CHECK_STR(r.error, "deployment \"web\" exceeded its progress deadline");
    CHECK_STR(r.text, "deploy of default/web 1.3 \xe2\x86\x92 1.4 (r/web:1.4) failed (revision 4): "
                      "deployment \"web\" exceeded its progress deadline");
    CHECK_EQ(r.outcome, KUBE_FAILED);
    fake_teardown();
}

/* Insert text right after the first occurrence of at in d. */
static void insert_after(char *d, size_t cap, const char *at, const char *text)
{
    char *p = strstr(d, at);
    size_t n = strlen(text);
    if (!p || strlen(d) + n >= cap) return;
    p += strlen(at);
    memmove(p + n, p, strlen(p) + 1);
    memcpy(p, text, n);
}

#define PIN "r/web:1.4@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

/* Admission pinned the image to a digest: one PATCH, the pinned image reported. */
TEST(deploy_admission_pinned)
{
    struct kube_cfg k;
    struct kube_result r;
    char d0[4096], d1[4096];
    fake_setup(&k);
    add("GET", "/deployments/web", 200, dep(d0, sizeof d0, "r/web:1.3", 1, 1, 3, 3, 3, 3, NULL));
    add("PATCH", "/deployments/web", 200, dep(d1, sizeof d1, PIN, 2, 2, 3, 3, 3, 3, NULL));
    CHECK_EQ(kube_deploy(&k, "default", "web", "1.4", NULL, &actor, &r), 0);
    CHECK_STR(r.image, PIN);
    CHECK(strstr(r.text, "1.4 (r/web:1.4); admission changed it to " PIN ", now revision 4: ") !=
          NULL);
    CHECK(strstr(r.text, "1.3 \xe2\x86\x92 1.4") != NULL);
    fake_teardown(); /* exactly the scripted requests: one PATCH */

    /* an answer that is not a Deployment: read again, never patched again */
    fake_setup(&k);
    add("GET", "/deployments/web", 200, dep(d0, sizeof d0, "r/web:1.3", 1, 1, 3, 3, 3, 3, NULL));
    add("PATCH", "/deployments/web", 200, "<html>proxy</html>");
    add("GET", "/deployments/web", 200, dep(d1, sizeof d1, PIN, 2, 2, 3, 3, 3, 3, NULL));
    CHECK_EQ(kube_deploy(&k, "default", "web", "1.4", NULL, &actor, &r), 0);
    CHECK_STR(r.image, PIN);
    fake_teardown();

    /* the generation did not move (admission made it what already runs) */
    fake_setup(&k);
    add("GET", "/deployments/web", 200, dep(d0, sizeof d0, PIN, 1, 1, 3, 3, 3, 3, NULL));
    add("PATCH", "/deployments/web", 200, dep(d1, sizeof d1, PIN, 1, 1, 3, 3, 3, 3, NULL));
    CHECK_EQ(kube_deploy(&k, "default", "web", "1.4", NULL, &actor, &r), 0);
    CHECK_STR(r.image, PIN);
    CHECK_STR(r.text, "default/web is already running 1.4 (" PIN ", revision 4)");
    fake_teardown();
}

/* A later change replaces the template before the rollout completes. */
TEST(deploy_replaced)
{
    struct kube_cfg k;
    struct kube_result r;
    char d0[4096], d1[4096], d2[4096], w[4200];
    fake_setup(&k);
    add("GET", "/deployments/web", 200, dep(d0, sizeof d0, "r/web:1.3", 1, 1, 3, 3, 3, 3, NULL));
    add("PATCH", "/deployments/web", 200, dep(d1, sizeof d1, "r/web:1.4", 2, 1, 3, 3, 3, 3, NULL));
    snprintf(w, sizeof w, "{\"type\":\"MODIFIED\",\"object\":%s}\n",
             dep(d2, sizeof d2, "r/web:1.3", 3, 3, 3, 3, 3, 3, NULL));
    add("WATCH", "watch=1", 200, w);
    CHECK_EQ(kube_deploy(&k, "default", "web", "1.4", NULL, &actor, &r), -1);
    CHECK_EQ(r.ok, 0);
    CHECK_EQ(r.outcome, KUBE_REPLACED);
    CHECK_STR(r.text,
              "deploy of default/web 1.3 \xe2\x86\x92 1.4 (r/web:1.4) was replaced by a later "
              "change "
              "before its rollout completed: the template now runs r/web:1.3");
    CHECK_STR(r.error, "replaced by r/web:1.3");
    fake_teardown();

    /* a later generation with the same image (scaled) is followed on */
    fake_setup(&k);
    add("GET", "/deployments/web", 200, dep(d0, sizeof d0, "r/web:1.3", 1, 1, 3, 3, 3, 3, NULL));
    add("PATCH", "/deployments/web", 200, dep(d1, sizeof d1, "r/web:1.4", 2, 1, 3, 3, 3, 3, NULL));
    snprintf(w, sizeof w, "{\"type\":\"MODIFIED\",\"object\":%s}\n",
             dep(d2, sizeof d2, "r/web:1.4", 3, 3, 3, 3, 3, 3, NULL));
    add("WATCH", "watch=1", 200, w);
    CHECK_EQ(kube_deploy(&k, "default", "web", "1.4", NULL, &actor, &r), 0);
    CHECK_EQ(r.outcome, KUBE_DONE);
    fake_teardown();
}

/* Image already set: that revision's real state; paused: said so. */
TEST(deploy_already_set_and_paused)
{
    struct kube_cfg k;
    struct kube_result r;
    char d0[4096], d1[4096];
    fake_setup(&k);
    add("GET", "/deployments/web", 200,
        dep(d0, sizeof d0, "r/web:1.4", 1, 1, 3, 4, 1, 1, "ProgressDeadlineExceeded"));
    CHECK_EQ(kube_deploy(&k, "default", "web", "1.4", NULL, &actor, &r), -1);
    CHECK_EQ(r.outcome, KUBE_FAILED);
    CHECK_STR(r.text, "default/web already has 1.4 (revision 4), but its rollout failed: "
                      "deployment \"web\" exceeded its progress deadline");
    fake_teardown(); /* no PATCH */

    fake_setup(&k);
    dep(d0, sizeof d0, "r/web:1.3", 1, 1, 3, 3, 3, 3, NULL);
    insert_after(d0, sizeof d0, "\"spec\":{", "\"paused\":true,");
    dep(d1, sizeof d1, "r/web:1.4", 2, 1, 3, 3, 3, 3, NULL);
    insert_after(d1, sizeof d1, "\"spec\":{", "\"paused\":true,");
    add("GET", "/deployments/web", 200, d0);
    add("PATCH", "/deployments/web", 200, d1);
    CHECK_EQ(kube_deploy(&k, "default", "web", "1.4", NULL, &actor, &r), -1);
    CHECK_EQ(r.outcome, KUBE_PENDING);
    CHECK(
        strstr(r.text,
               "default/web is paused: default/web 1.3 \xe2\x86\x92 1.4 (r/web:1.4) is recorded") ==
        r.text);
    fake_teardown();
}

/* A deployment "web" whose n init containers all run r/web:1.3. */
static char *inits_dep(char *buf, size_t cap, int n, long gen)
{
    struct sb b;
    sb_init(&b, buf, cap);
    sb_add(&b,
           "{\"kind\":\"Deployment\",\"metadata\":{\"name\":\"web\",\"generation\":%ld,"
           "\"annotations\":{\"deployment.kubernetes.io/revision\":\"4\"}},\"spec\":{"
           "\"template\":{\"spec\":{\"initContainers\":[",
           gen);
    for (int i = 0; i < n; i++)
        sb_add(&b, "%s{\"name\":\"init-%d-%s\",\"image\":\"r/web:%s\"}", i ? "," : "", i,
               "padded-to-a-long-container-name-of-sixty-three-bytes-xx", gen > 1 ? "1.4" : "1.3");
    sb_add(&b,
           "],\"containers\":[{\"name\":\"web\",\"image\":\"r/web:%s\"}]}}},"
           "\"status\":{\"observedGeneration\":%ld,\"replicas\":1,\"updatedReplicas\":1,"
           "\"availableReplicas\":1}}",
           gen > 1 ? "1.4" : "1.3", gen);
    return buf;
}

/* KUBE_INIT_MAX init containers of the same repository move in one PATCH;
 * one more is refused before any PATCH. */
TEST(deploy_init_containers_at_the_limit)
{
    struct kube_cfg k;
    struct kube_result r;
    static char d0[32768], d1[32768];
    fake_setup(&k);
    add("GET", "/deployments/web", 200, inits_dep(d0, sizeof d0, KUBE_INIT_MAX, 1));
    add("PATCH", "/deployments/web", 200, inits_dep(d1, sizeof d1, KUBE_INIT_MAX, 2));
    CHECK_EQ(kube_deploy(&k, "default", "web", "1.4", NULL, &actor, &r), 0);
    CHECK(strstr(last_body, "\"name\":\"init-15-") != NULL);
    CHECK(strstr(r.text, "with init container init-0-") != NULL);
    fake_teardown();

    fake_setup(&k);
    add("GET", "/deployments/web", 200, inits_dep(d0, sizeof d0, KUBE_INIT_MAX + 1, 1));
    CHECK_EQ(kube_deploy(&k, "default", "web", "1.4", NULL, &actor, &r), -1);
    CHECK_STR(r.text, "default/web: more than 16 init containers run r/web, or one's name is too "
                      "long; set the image with kubectl");
    fake_teardown(); /* no PATCH */
}

static int announced_n;
static char announced_text[512];

static void count_announce(void *ctx, const char *text)
{
    (void)ctx;
    announced_n++;
    snprintf(announced_text, sizeof announced_text, "%s", text);
}

static const struct kube_ui announce_ui = {0, NULL, NULL, 0, count_announce, NULL};

/* The public "is deploying" comes once, after the API took the change;
 * a refusal (GET or PATCH) or an image already running stays private. */
TEST(deploy_announce)
{
    struct kube_cfg k;
    struct kube_result r;
    char d0[4096], d1[4096];
    fake_setup(&k);
    k.ui = &announce_ui;
    announced_n = 0;
    add("GET", "/deployments/web", 200, dep(d0, sizeof d0, "r/web:1.3", 1, 1, 3, 3, 3, 3, NULL));
    add("PATCH", "/deployments/web", 409, "");
    add("GET", "/deployments/web", 200, d0);
    add("PATCH", "/deployments/web", 200, dep(d1, sizeof d1, "r/web:1.4", 2, 2, 3, 3, 3, 3, NULL));
    add("PATCH", "/deployments/web", 200, d1); /* the live-at record (a ui is given) */
    CHECK_EQ(kube_deploy(&k, "default", "web", "1.4", NULL, &actor, &r), 0);
    CHECK_EQ(announced_n, 1);
    CHECK_EQ(r.announced, 1);
    CHECK_STR(announced_text, "is deploying default/web 1.3 \xe2\x86\x92 1.4 (r/web:1.4)");
    fake_teardown();

    fake_setup(&k);
    k.ui = &announce_ui;
    announced_n = 0;
    add("GET", "/deployments/web", 200, dep(d0, sizeof d0, "r/web:1.3", 1, 1, 3, 3, 3, 3, NULL));
    add("PATCH", "/deployments/web", 403, "{\"kind\":\"Status\",\"message\":\"no\"}");
    CHECK_EQ(kube_deploy(&k, "default", "web", "1.4", NULL, &actor, &r), -1);
    CHECK_EQ(announced_n, 0);
    CHECK_EQ(r.announced, 0);
    fake_teardown();

    fake_setup(&k);
    k.ui = &announce_ui;
    announced_n = 0;
    add("GET", "/deployments/web", 200, dep(d0, sizeof d0, "r/web:1.4", 1, 1, 3, 3, 3, 3, NULL));
    CHECK_EQ(kube_deploy(&k, "default", "web", "1.4", NULL, &actor, &r), 0);
    CHECK_EQ(announced_n, 0);
    fake_teardown();
}

/* ROLLOUT_TIMEOUT unset: progressDeadlineSeconds + margin, capped. */
TEST(rollout_timeout_derived)
{
    struct kube_cfg k;
    struct kdeploy d;
    memset(&k, 0, sizeof k);
    memset(&d, 0, sizeof d);
    d.progress_deadline_s = -1;
    CHECK_EQ(rollout_timeout_for(&k, &d), ROLLOUT_DEADLINE_DEFAULT + ROLLOUT_MARGIN_S);
    d.progress_deadline_s = 3;
    CHECK_EQ(rollout_timeout_for(&k, &d), 3 + ROLLOUT_MARGIN_S);
    d.progress_deadline_s = ROLLOUT_TIMEOUT_CAP - ROLLOUT_MARGIN_S;
    CHECK_EQ(rollout_timeout_for(&k, &d), ROLLOUT_TIMEOUT_CAP);
    d.progress_deadline_s = ROLLOUT_TIMEOUT_CAP - ROLLOUT_MARGIN_S + 1;
    CHECK_EQ(rollout_timeout_for(&k, &d), ROLLOUT_TIMEOUT_CAP);
    d.progress_deadline_s = 1LL << 40;
    CHECK_EQ(rollout_timeout_for(&k, &d), ROLLOUT_TIMEOUT_CAP);
    CHECK_EQ(rollout_timeout_for(&k, NULL), ROLLOUT_DEADLINE_DEFAULT + ROLLOUT_MARGIN_S);
    k.rollout_timeout_s = 5;
    CHECK_EQ(rollout_timeout_for(&k, &d), 5);
}

TEST(status_and_history_flows)
{
    struct kube_cfg k;
    struct kube_result r;
    char d0[4096];
    fake_setup(&k);
    dep(d0, sizeof d0, "r/web:4", 1, 1, 1, 1, 1, 1, NULL);
    add("GET", "/deployments/web", 200, d0);
    CHECK_EQ(kube_status(&k, "default", "web", &r), 0);
    CHECK_EQ(r.ok, 1);
    CHECK_STR(r.image, "r/web:4");
    CHECK(strstr(r.text, "images: web=r/web:4, envoy=envoy:1.2") != NULL);
    fake_teardown();

    fake_setup(&k);
    add("GET", "/deployments/web", 200, d0);
    add("GET", "/apis/apps/v1/namespaces/default/replicasets?labelSelector=app%3Dweb", 200,
        RS_LIST);
    CHECK_EQ(kube_history(&k, "default", "web", 0, &r), 0);
    CHECK(strncmp(r.text, "*default/web* revisions, newest first:\n4 (current)", 50) == 0);
    fake_teardown();
}

TEST(rollback_flow)
{
    struct kube_cfg k;
    struct kube_result r;
    char d0[4096], d1[4096];
    struct json_doc d;
    struct json_tok t[512];
    fake_setup(&k);
    dep(d0, sizeof d0, "r/web:4", 1, 1, 1, 1, 1, 1, NULL);
    dep(d1, sizeof d1, "r/web:3", 2, 2, 1, 1, 1, 1, NULL);
    only_web(d1); /* the PATCH answer carries revision 3's template */
    add("GET", "/deployments/web", 200, d0);
    add("GET", "/replicasets?labelSelector=app%3Dweb", 200, RS_LIST);
    add("PATCH", "/deployments/web", 200, d1);
    CHECK_EQ(kube_rollback(&k, "default", "web", 0, &actor, &r), 0);
    CHECK(strstr(last_hdrs, "Content-Type: application/json-patch+json|") != NULL);
    CHECK(json_parse(&d, last_body, strlen(last_body), t, 512) > 0);
    int tmpl = json_get(&d, json_first(&d, 0), "value");
    CHECK(json_eq(
        &d,
        json_get(&d, json_first(&d, json_path(&d, tmpl, "spec", "containers", JP_END)), "image"),
        "r/web:3"));
    int ann = json_get(&d, json_next(&d, json_first(&d, 0)), "value");
    CHECK(json_eq(&d, json_get(&d, ann, KDOC_CAUSE_KEY),
                  "deploy-api: tester (U0TESTER) rolled back web to revision 3 from #deploys "
                  "(C0DEPLOY)"));
    CHECK(json_eq(&d, json_get(&d, ann, KDOC_REV_KEY), "4"));
    CHECK_EQ(r.ok, 1);
    CHECK_STR(r.image, "r/web:3");
    static const char want[] =
        "rolled back default/web to revision 3 (r/web:3), now revision 4: 1/1 "
        "replicas updated and available in ";
    CHECK(strncmp(r.text, want, sizeof want - 1) == 0);
    fake_teardown();

    /* to the current template: skipped, no PATCH */
    fake_setup(&k);
    const char *at3 =
        "{\"kind\":\"Deployment\",\"metadata\":{\"name\":\"web\",\"namespace\":\"default\","
        "\"uid\":\"uid-web\",\"annotations\":{\"deployment.kubernetes.io/revision\":\"5\"}},"
        "\"spec\":{\"selector\":{\"matchLabels\":{\"app\":\"web\"}},\"template\":{\"spec\":{"
        "\"containers\":[{\"image\":\"r/web:3\",\"name\":\"web\"}]},\"metadata\":{\"labels\":"
        "{\"app\":\"web\"}}}}}";
    add("GET", "/deployments/web", 200, at3); /* same template as revision 3, keys reordered */
    add("GET", "/replicasets", 200, RS_LIST);
    CHECK_EQ(kube_rollback(&k, "default", "web", 3, &actor, &r), 0);
    CHECK_STR(r.text, "default/web is already at revision 3: skipped rollback (current template "
                      "already matches revision 3)");
    fake_teardown();

    fake_setup(&k);
    add("GET", "/deployments/web", 200, d0);
    add("GET", "/replicasets", 200, RS_LIST);
    CHECK_EQ(kube_rollback(&k, "default", "web", 7, &actor, &r), -1);
    CHECK_STR(r.text, "revision 7 not found; available: 4, 3, 1");
    fake_teardown();

    fake_setup(&k);
    char paused[4200];
    snprintf(paused, sizeof paused, "%s", d0);
    char *sp = strstr(paused, "\"spec\":{");
    memmove(sp + 8 + 14, sp + 8, strlen(sp + 8) + 1);
    memcpy(sp + 8, "\"paused\":true,", 14);
    add("GET", "/deployments/web", 200, paused);
    CHECK_EQ(kube_rollback(&k, "default", "web", 0, &actor, &r), -1);
    CHECK(strncmp(r.text, "you cannot rollback a paused deployment", 39) == 0);
    fake_teardown();
}

/* ---- issue 9: diagnosis, live time, progress, paged lists (kube_ui set) ---- */

static int prog_calls, prog_due;
static char prog_msg[512];

static void record_progress(void *arg, const struct kube_progress *p)
{
    (void)arg;
    prog_calls++;
    prog_due += p->due;
    snprintf(prog_msg, sizeof prog_msg, "%s", p->msg);
}

static const char NEW_RS_PAGE[] =
    "{\"kind\":\"ReplicaSetList\",\"metadata\":{\"continue\":\"\"},\"items\":[{\"metadata\":{"
    "\"name\":\"web-h4\",\"uid\":\"rs4\",\"labels\":{\"app\":\"web\",\"pod-template-hash\":\"h4\"},"
    "\"annotations\":{\"deployment.kubernetes.io/revision\":\"4\"},\"ownerReferences\":[{\"uid\":"
    "\"uid-web\",\"controller\":true}]}}]}";
static const char OLD_RS_PAGE[] =
    "{\"kind\":\"ReplicaSetList\",\"metadata\":{\"continue\":\"next page\"},\"items\":[{"
    "\"metadata\":{\"name\":\"web-h3\",\"uid\":\"rs3\",\"labels\":{\"pod-template-hash\":\"h3\"},"
    "\"annotations\":{\"deployment.kubernetes.io/revision\":\"3\"},\"ownerReferences\":[{\"uid\":"
    "\"uid-web\",\"controller\":true}]}}]}";
static const char CRASH_PODS[] =
    "{\"kind\":\"PodList\",\"metadata\":{},\"items\":[{\"metadata\":{\"ownerReferences\":[{"
    "\"uid\":\"rs4\",\"controller\":true}]},\"status\":{\"containerStatuses\":[{\"state\":{"
    "\"waiting\":{\"reason\":\"CrashLoopBackOff\"}},\"lastState\":{\"terminated\":{\"exitCode\":1,"
    "\"message\":\"panic: DATABASE_URL unset\"}}}]}},{\"metadata\":{\"ownerReferences\":[{\"uid\":"
    "\"rs4\",\"controller\":true}]},\"status\":{\"phase\":\"Running\",\"conditions\":[{\"type\":"
    "\"Ready\",\"status\":\"True\"}]}}]}";

/* Script a deploy of r/web:1.4 over r/web:1.3 whose watch brings d2 (done,
 * or failed with reason): GET, PATCH, WATCH. */
static void script_deploy(char *d2, char *w, const char *reason)
{
    static char d0[4096], d1[4096];
    dep(d0, sizeof d0, "r/web:1.3", 1, 1, 3, 3, 3, 3, NULL);
    dep(d1, sizeof d1, "r/web:1.4", 2, 2, 3, 4, 1, 1, NULL);
    if (reason)
        dep(d2, 4096, "r/web:1.4", 2, 2, 3, 4, 1, 1, reason);
    else
        dep(d2, 4096, "r/web:1.4", 2, 2, 3, 3, 3, 3, NULL);
    snprintf(w, 8192, "{\"type\":\"MODIFIED\",\"object\":%s}\n", d2);
    add("GET", "/deployments/web", 200, d0);
    add("PATCH", "/deployments/web", 200, d1);
    add("WATCH", "watch=1", 200, w);
}

TEST(deploy_failure_says_why)
{
    struct kube_cfg k;
    struct kube_result r;
    char d2[4096], w[8192];
    struct kube_ui ui = {0, record_progress, NULL, 0, NULL, NULL};
    fake_setup(&k);
    k.ui = &ui;
    prog_calls = prog_due = 0;
    script_deploy(d2, w, "ProgressDeadlineExceeded");
    /* the diagnosis: the deployment, its ReplicaSets in pages, the new one's pods */
    add("GET", "/deployments/web", 200, d2);
    add("GET", "/replicasets?labelSelector=app%3Dweb&limit=25", 200, OLD_RS_PAGE);
    add("GET", "/replicasets?labelSelector=app%3Dweb&limit=25&continue=next%20page", 200,
        NEW_RS_PAGE);
    add("GET",
        "/api/v1/namespaces/default/"
        "pods?labelSelector=app%3Dweb%2Cpod-template-hash%3Dh4&limit=100",
        200, CRASH_PODS);
    CHECK_EQ(kube_deploy(&k, "default", "web", "1.4", NULL, &actor, &r), -1);
    CHECK_STR(r.text, "deploy of default/web 1.3 \xe2\x86\x92 1.4 (r/web:1.4) failed (revision 4): "
                      "deployment \"web\" exceeded "
                      "its progress deadline\n1 of 2 new pods: CrashLoopBackOff, exit 1: panic: "
                      "DATABASE_URL unset\nNext: `/deploy rollback default/web`");
    CHECK_STR(r.error, "deployment \"web\" exceeded its progress deadline");
    /* the start was told once (kubectl's line), the failure is not progress */
    CHECK_EQ(prog_calls, 1);
    CHECK_EQ(prog_due, 0);
    CHECK(strstr(prog_msg, "1 out of 3 new replicas have been updated") != NULL);
    fake_teardown();

    /* the pods cannot be listed (no RBAC): said, and the next step still given; plain text */
    fake_setup(&k);
    ui.plain = 1;
    k.ui = &ui;
    script_deploy(d2, w, "ProgressDeadlineExceeded");
    add("GET", "/deployments/web", 200, d2);
    add("GET", "/replicasets?", 200, NEW_RS_PAGE);
    add("GET", "/pods?", 403,
        "{\"kind\":\"Status\",\"message\":\"pods is forbidden: cannot list\",\"code\":403}");
    CHECK_EQ(kube_deploy(&k, "default", "web", "1.4", NULL, &actor, &r), -1);
    CHECK(strstr(r.text, "\n(the new pods could not be read: cannot list pods: pods is "
                         "forbidden: cannot list (HTTP 403))\nNext: deploy-api rollback "
                         "default/web") != NULL);
    fake_teardown();
}

TEST(deploy_success_records_live_time)
{
    struct kube_cfg k;
    struct kube_result r;
    char d2[4096], w[8192];
    struct kube_ui ui = {0, NULL, NULL, 0, NULL, NULL};
    fake_setup(&k);
    k.ui = &ui;
    script_deploy(d2, w, NULL);
    add("PATCH", "/deployments/web", 200, d2);
    CHECK_EQ(kube_deploy(&k, "default", "web", "1.4", NULL, &actor, &r), 0);
    /* only while generation 2 is still the one that went live */
    const char *want =
        "[{\"op\":\"test\",\"path\":\"/metadata/generation\",\"value\":2},{\"op\":"
        "\"add\",\"path\":\"/metadata/annotations/deploy-api~1live-at\",\"value\":\"20";
    CHECK(strncmp(last_body, want, strlen(want)) == 0);
    CHECK_EQ(strlen(last_body), strlen(want) + 21); /* "YY-MM-DDTHH:MM:SSZ\"}]" */
    CHECK(strstr(last_hdrs, "Content-Type: application/json-patch+json") != NULL);
    fake_teardown();

    /* a refused record (a later change: the test op fails) changes nothing */
    fake_setup(&k);
    k.ui = &ui;
    script_deploy(d2, w, NULL);
    add("PATCH", "/deployments/web", 422, "{\"kind\":\"Status\",\"code\":422}");
    CHECK_EQ(kube_deploy(&k, "default", "web", "1.4", NULL, &actor, &r), 0);
    CHECK_EQ(r.ok, 1);
    fake_teardown();
}

/* PROGRESS_AFTER: the watch is cut at the due time, the call comes once
 * with due=1 though nothing changed, then the rollout is followed on. */
TEST(progress_due_once)
{
    struct kube_cfg k;
    struct kube_result r;
    char d0[4096], d1[4096], d2[4096], w[8192];
    static char marks[8192];
    struct kube_ui ui = {1, record_progress, NULL, 5, NULL, NULL};
    fake_setup(&k);
    k.ui = &ui;
    prog_calls = prog_due = 0;
    dep(d0, sizeof d0, "r/web:1.3", 1, 1, 3, 3, 3, 3, NULL);
    dep(d1, sizeof d1, "r/web:1.4", 2, 2, 3, 4, 1, 1, NULL);
    dep(d2, sizeof d2, "r/web:1.4", 2, 2, 3, 3, 3, 3, NULL);
    marks[0] = 0;
    for (int i = 0; i < 60; i++) /* 100 ms each on the fake clock: 6 s */
        snprintf(marks + strlen(marks), sizeof marks - strlen(marks),
                 "{\"type\":\"BOOKMARK\",\"object\":{\"metadata\":{\"resourceVersion\":"
                 "\"%d\"}}}\n",
                 300 + i);
    snprintf(w, sizeof w, "{\"type\":\"MODIFIED\",\"object\":%s}\n", d2);
    add("GET", "/deployments/web", 200, d0);
    add("PATCH", "/deployments/web", 200, d1);
    add("WATCH", "&timeoutSeconds=5", 200, marks); /* cut at the due time, not the deadline */
    add("GET", "/deployments/web", 200, d1);       /* re-read: the due call */
    add("WATCH", "&timeoutSeconds=55", 200, w);
    add("PATCH", "/deployments/web", 200, d2); /* the live-at record */
    CHECK_EQ(kube_deploy(&k, "default", "web", "1.4", NULL, &actor, &r), 0);
    CHECK_EQ(prog_calls, 2); /* the first line, then the due call with the same line */
    CHECK_EQ(prog_due, 1);
    fake_teardown();
}

TEST(history_in_pages)
{
    struct kube_cfg k;
    struct kube_result r;
    char d0[4096];
    fake_setup(&k);
    dep(d0, sizeof d0, "r/web:4", 1, 1, 1, 1, 1, 1, NULL);
    add("GET", "/deployments/web", 200, d0);
    add("GET", "/replicasets?labelSelector=app%3Dweb&limit=25", 200, OLD_RS_PAGE);
    add("GET", "&continue=next%20page", 200, NEW_RS_PAGE);
    CHECK_EQ(kube_history(&k, "default", "web", 0, &r), 0);
    CHECK_EQ(r.mrkdwn, 1);
    CHECK_STR(r.text, "*default/web* revisions, newest first:\n4 (current)  -  (no containers)  "
                      "&lt;none&gt;\n3  -  (no containers)  &lt;none&gt;");
    fake_teardown();
    /* newest 1; a page that cannot be read fails the whole history */
    fake_setup(&k);
    add("GET", "/deployments/web", 200, d0);
    add("GET", "/replicasets?", 200, OLD_RS_PAGE);
    add("GET", "&continue=", 410,
        "{\"kind\":\"Status\",\"message\":\"The provided continue parameter is too old\"}");
    CHECK_EQ(kube_history(&k, "default", "web", 1, &r), -1);
    CHECK_STR(r.error, "cannot list ReplicaSets: The provided continue parameter is too old (HTTP "
                       "410)");
    fake_teardown();
    fake_setup(&k);
    CHECK_EQ(kube_history(&k, "default", "web", KUBE_HISTORY_MAX + 1, &r), -1);
    CHECK_STR(r.error, "history shows 1 to 20 revisions");
    fake_teardown();
}

static int count_page(void *arg, const char *body, size_t len, char *cont, size_t ccap)
{
    (*(int *)arg)++;
    struct json_doc d;
    int items = krs_list_page(&d, body, len, cont, ccap);
    if (items < 0) return -1;
    kdoc_json_free(&d);
    return 0;
}

/* max_pages pages are read; one more is refused. */
TEST(list_pages_limit)
{
    struct kube_cfg k;
    struct kube_result r;
    struct kapi_job j;
    const char *more = "{\"metadata\":{\"continue\":\"c\"},\"items\":[]}";
    const char *last = "{\"metadata\":{},\"items\":[]}";
    int n = 0;
    fake_setup(&k);
    kapi_init(&j, &k, &r);
    add("GET", "/x?limit=7", 200, more);
    add("GET", "/x?limit=7&continue=c", 200, last);
    CHECK_EQ(kapi_list_pages(&j, "/x", 7, 2, count_page, &n, "list", &r), 0);
    CHECK_EQ(n, 2);
    fake_teardown();
    fake_setup(&k);
    kapi_init(&j, &k, &r);
    n = 0;
    add("GET", "/x?a=b&limit=7", 200, more);
    add("GET", "/x?a=b&limit=7&continue=c", 200, more);
    CHECK_EQ(kapi_list_pages(&j, "/x?a=b", 7, 2, count_page, &n, "list", &r), -1);
    CHECK_STR(r.error, "list: more than 2 pages of 7");
    fake_teardown();
    /* a malformed page */
    fake_setup(&k);
    kapi_init(&j, &k, &r);
    add("GET", "/x?limit=7", 200, "{\"items\":");
    CHECK_EQ(kapi_list_pages(&j, "/x", 7, 2, count_page, &n, "list", &r), -1);
    CHECK_STR(r.error, "list: the API server sent a malformed page");
    fake_teardown();
}

int main(void)
{
    RUN(rollout_table);
    RUN(rollout_missing_fields);
    RUN(rollout_counts);
    RUN(rollout_bad_input);
    RUN(deploy_parse);
    RUN(resource_version);
    RUN(container_choice);
    RUN(names);
    RUN(image_ref);
    RUN(api_path);
    RUN(selector);
    RUN(change_cause);
    RUN(set_image_patch);
    RUN(rollback_patch);
    RUN(template_matches);
    RUN(history);
    RUN(rollback_target);
    RUN(rollback_target_pages);
    RUN(status_and_events);
    RUN(deploy_watch_success);
    RUN(deploy_patch_body);
    RUN(deploy_already_running);
    RUN(deploy_errors);
    RUN(deploy_token_rotation_and_conflict);
    RUN(deploy_deleted_while_followed);
    RUN(deploy_watch_expired_then_poll);
    RUN(deploy_timeout_and_failure);
    RUN(deploy_admission_pinned);
    RUN(deploy_replaced);
    RUN(deploy_already_set_and_paused);
    RUN(rollout_timeout_derived);
    RUN(deploy_announce);
    RUN(deploy_init_containers_at_the_limit);
    RUN(status_and_history_flows);
    RUN(rollback_flow);
    RUN(deploy_failure_says_why);
    RUN(deploy_success_records_live_time);
    RUN(progress_due_once);
    RUN(history_in_pages);
    RUN(list_pages_limit);
    return t_done();
}
