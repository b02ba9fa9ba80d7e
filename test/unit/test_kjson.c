/* -o json answers: every documented field, null where unknown, refusal of
 * non-Deployments, a buffer exactly large enough and one byte short. */
#include "kjson.h"

#include <stdlib.h>
#include <string.h>

#include "t.h"
#include "yaml.h"

static const char deploy[] =
    "{\"kind\":\"Deployment\",\"metadata\":{\"name\":\"web\",\"namespace\":\"prod\","
    "\"uid\":\"u-1\",\"generation\":4,\"annotations\":{\"deployment.kubernetes.io/revision\":"
    "\"3\"}},\"spec\":{\"replicas\":3,\"template\":{\"spec\":{\"containers\":[{\"name\":\"web\","
    "\"image\":\"reg/web:1.4\"},{\"name\":\"envoy\",\"image\":\"envoy:v1\"}],\"initContainers\":"
    "[{\"name\":\"migrate\",\"image\":\"reg/web:1.4\"}]}}},\"status\":{\"observedGeneration\":4,"
    "\"replicas\":3,\"updatedReplicas\":3,\"readyReplicas\":3,\"availableReplicas\":3}}";

static const char rslist[] =
    "{\"kind\":\"ReplicaSetList\",\"items\":["
    "{\"metadata\":{\"name\":\"web-a\",\"creationTimestamp\":\"2026-11-01T10:00:00Z\","
    "\"annotations\":{\"deployment.kubernetes.io/revision\":\"2\"},\"ownerReferences\":"
    "[{\"uid\":\"u-1\",\"controller\":true}]},\"spec\":{\"template\":{\"spec\":{\"containers\":"
    "[{\"name\":\"web\",\"image\":\"reg/web:1.3\"}]}}}},"
    "{\"metadata\":{\"name\":\"web-b\",\"creationTimestamp\":\"2026-11-02T10:00:00Z\","
    "\"annotations\":{\"deployment.kubernetes.io/revision\":\"3\",\"kubernetes.io/change-cause\":"
    "\"deploy-api: alice deployed\"},\"ownerReferences\":[{\"uid\":\"u-1\",\"controller\":true}]},"
    "\"spec\":{\"template\":{\"spec\":{\"containers\":[{\"name\":\"web\",\"image\":"
    "\"reg/web:1.4\"}]}}}},"
    "{\"metadata\":{\"name\":\"other\",\"annotations\":{\"deployment.kubernetes.io/revision\":"
    "\"9\"},\"ownerReferences\":[{\"uid\":\"u-2\",\"controller\":true}]}}]}";

static char out[8192];

static const char *at(const struct yaml_node *n, const char *k1, const char *k2)
{
    n = yaml_get(n, k1);
    return yaml_str(k2 ? yaml_get(n, k2) : n);
}

TEST(status_fields)
{
    long n = kjson_status(deploy, strlen(deploy), out, sizeof out);
    struct yaml_node *r = NULL;
    char err[200];
    CHECK(n > 0 && yaml_parse(out, (size_t)n, &r, err, sizeof err) == 0);
    CHECK_STR(at(r, "namespace", NULL), "prod");
    CHECK_STR(at(r, "name", NULL), "web");
    CHECK_STR(at(r, "revision", NULL), "3");
    CHECK_STR(at(r, "generation", NULL), "4");
    CHECK_STR(at(r, "observedGeneration", NULL), "4");
    CHECK_STR(at(r, "paused", NULL), "false");
    CHECK_STR(at(r, "replicas", "desired"), "3");
    CHECK_STR(at(r, "replicas", "available"), "3");
    CHECK_STR(at(r, "rollout", "state"), "complete");
    const struct yaml_node *cs = yaml_get(r, "containers");
    CHECK(cs && cs->len == 2);
    CHECK_STR(yaml_str(yaml_get(cs->kids->next, "image")), "envoy:v1");
    CHECK_STR(yaml_str(yaml_get(yaml_get(r, "initContainers")->kids, "name")), "migrate");
    yaml_free(r);
    /* exactly enough room, then one byte less */
    char *g = malloc((size_t)n + 1);
    CHECK_EQ(kjson_status(deploy, strlen(deploy), g, (size_t)n + 1), n);
    CHECK_EQ(kjson_status(deploy, strlen(deploy), g, (size_t)n), -1);
    free(g);
    CHECK_EQ(kjson_status("{\"kind\":\"Service\"}", 18, out, sizeof out), -1);
    CHECK_EQ(kjson_status("{", 1, out, sizeof out), -1);
}

/* A second page: a ReplicaSet without the revision annotation (kubectl:
 * revision 0) with two containers, and revision 2 again (counted once). */
static const char page2[] =
    "{\"metadata\":{},\"items\":[{\"metadata\":{\"name\":\"web-0\",\"ownerReferences\":[{\"uid\":"
    "\"u-1\",\"controller\":true}]},\"spec\":{\"template\":{\"spec\":{\"containers\":[{\"name\":"
    "\"web\",\"image\":\"reg/web:1.0\"},{\"name\":\"envoy\",\"image\":\"envoy:v0\"}]}}}},"
    "{\"metadata\":{\"name\":\"web-a2\",\"annotations\":{\"deployment.kubernetes.io/revision\":"
    "\"2\"},\"ownerReferences\":[{\"uid\":\"u-1\",\"controller\":true}]}}]}";

/* The history JSON of the pages p[0..n) with want lines; -1 when a page is refused. */
static long history_json(const char *const *p, int n, int want, long current, size_t cap)
{
    struct krs_history *h = malloc(sizeof *h);
    char cont[16];
    long len = -1;
    krs_history_init(h, "u-1", want);
    int i = 0;
    while (i < n && krs_history_page(h, p[i], strlen(p[i]), cont, sizeof cont) == 0) i++;
    if (i == n) len = kjson_history("prod", "web", current, h, out, cap);
    krs_history_free(h);
    free(h);
    return len;
}

TEST(history_fields)
{
    const char *one[] = {rslist}, *two[] = {rslist, page2};
    long n = history_json(one, 1, 10, 3, sizeof out);
    struct yaml_node *r = NULL;
    char err[200];
    CHECK(n > 0 && yaml_parse(out, (size_t)n, &r, err, sizeof err) == 0);
    CHECK_STR(at(r, "currentRevision", NULL), "3");
    CHECK_STR(at(r, "revisionCount", NULL), "2");
    CHECK_STR(at(r, "namespace", NULL), "prod");
    const struct yaml_node *v = yaml_get(r, "revisions");
    CHECK(v && v->len == 2); /* the RS owned by another deployment is left out */
    CHECK_STR(yaml_str(yaml_get(v->kids, "revision")), "3");
    CHECK_STR(yaml_str(yaml_get(v->kids, "current")), "true");
    CHECK_STR(yaml_str(yaml_get(v->kids, "changeCause")), "deploy-api: alice deployed");
    CHECK_STR(yaml_str(yaml_get(v->kids, "images")->kids), "reg/web:1.4");
    CHECK_STR(yaml_str(yaml_get(v->kids->next, "created")), "2026-11-01T10:00:00Z");
    CHECK_STR(yaml_str(yaml_get(v->kids->next, "current")), "false");
    CHECK(yaml_get(v->kids->next, "changeCause")->null);
    yaml_free(r);
    /* two pages, kubectl's counting: revision 0, 2 once; the newest 2 of 3 */
    n = history_json(two, 2, 2, -1, sizeof out);
    CHECK(n > 0 && yaml_parse(out, (size_t)n, &r, err, sizeof err) == 0);
    CHECK_STR(at(r, "revisionCount", NULL), "3");
    CHECK_STR(at(r, "currentRevision", NULL), "3"); /* unknown: the newest */
    v = yaml_get(r, "revisions");
    CHECK(v && v->len == 2);
    CHECK_STR(yaml_str(yaml_get(v->kids->next, "revision")), "2");
    yaml_free(r);
    n = history_json(two, 2, 3, 3, sizeof out);
    CHECK(n > 0 && yaml_parse(out, (size_t)n, &r, err, sizeof err) == 0);
    v = yaml_get(r, "revisions");
    CHECK(v && v->len == 3);
    const struct yaml_node *r0 = v->kids->next->next, *im = yaml_get(r0, "images");
    CHECK_STR(yaml_str(yaml_get(r0, "revision")), "0");
    CHECK_STR(yaml_str(yaml_get(r0, "created")), "");
    CHECK(im && im->len == 2);
    CHECK_STR(yaml_str(im->kids), "reg/web:1.0");
    CHECK_STR(yaml_str(im->kids->next), "envoy:v0");
    yaml_free(r);
    /* no ReplicaSets: no current revision */
    const char *none[] = {"{\"items\":[]}"};
    n = history_json(none, 1, 10, -1, sizeof out);
    CHECK_STR(out, "{\"namespace\":\"prod\",\"name\":\"web\",\"currentRevision\":null,"
                   "\"revisionCount\":0,\"revisions\":[]}");
    CHECK_EQ(n, (long)strlen(out));
    /* exactly large enough, one byte short */
    CHECK_EQ(history_json(none, 1, 10, -1, (size_t)n + 1), n);
    CHECK_EQ(history_json(none, 1, 10, -1, (size_t)n), -1);
    const char *bad[] = {"["};
    CHECK_EQ(history_json(bad, 1, 10, 3, sizeof out), -1);
    CHECK_EQ(history_json(one, 1, 10, 3, 64), -1);
    /* every prefix of the list: refused or a valid object, never a crash */
    for (size_t i = 0; i < strlen(rslist); i++) {
        char *g = t_guard(rslist, i);
        struct krs_history *h = malloc(sizeof *h);
        char cont[16];
        krs_history_init(h, "u-1", 10);
        if (krs_history_page(h, g, i, cont, sizeof cont) == 0)
            CHECK(kjson_history("prod", "web", 3, h, out, sizeof out) > 0);
        krs_history_free(h);
        free(h);
        t_unguard(g, i);
    }
}

int main(void)
{
    RUN(status_fields);
    RUN(history_fields);
    return t_done();
}
