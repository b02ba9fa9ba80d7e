/* -o json answers: every documented field, null where unknown, refusal of
 * non-Deployments, a buffer exactly large enough and one byte short. */
#include "kjson.h"
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

TEST(history_fields)
{
    long n = kjson_history(deploy, strlen(deploy), rslist, strlen(rslist), out, sizeof out);
    struct yaml_node *r = NULL;
    char err[200];
    CHECK(n > 0 && yaml_parse(out, (size_t)n, &r, err, sizeof err) == 0);
    CHECK_STR(at(r, "currentRevision", NULL), "3");
    const struct yaml_node *v = yaml_get(r, "revisions");
    CHECK(v && v->len == 2); /* the RS owned by another deployment is left out */
    CHECK_STR(yaml_str(yaml_get(v->kids, "revision")), "3");
    CHECK_STR(yaml_str(yaml_get(v->kids, "current")), "true");
    CHECK_STR(yaml_str(yaml_get(v->kids, "changeCause")), "deploy-api: alice deployed");
    CHECK_STR(yaml_str(yaml_get(v->kids, "images")->kids), "reg/web:1.4");
    CHECK_STR(yaml_str(yaml_get(v->kids->next, "created")), "2026-11-01T10:00:00Z");
    CHECK(yaml_get(v->kids->next, "changeCause")->null);
    yaml_free(r);
    CHECK_EQ(kjson_history(deploy, strlen(deploy), "[", 1, out, sizeof out), -1);
    CHECK_EQ(kjson_history(deploy, strlen(deploy), rslist, strlen(rslist), out, 64), -1);
    /* every prefix of the list: refused or a valid object, never a crash */
    for (size_t i = 0; i < strlen(rslist); i++) {
        char *g = t_guard(rslist, i);
        kjson_history(deploy, strlen(deploy), g, i, out, sizeof out);
        t_unguard(g, i);
    }
}

int main(void)
{
    RUN(status_fields);
    RUN(history_fields);
    return t_done();
}
