#include "t.h"

#include "../../src/json.c"

static const char deployment[] =
    "{\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\",\"metadata\":{\"name\":\"myservice\","
    "\"namespace\":\"default\",\"uid\":\"5f0c9a1e-1111-4c2e-9d7e-0123456789ab\","
    "\"resourceVersion\":\"123456\",\"generation\":4,\"creationTimestamp\":\"2024-05-01T10:00:"
    "00Z\","
    "\"labels\":{\"app\":\"myservice\"},\"annotations\":{\"deployment.kubernetes.io/"
    "revision\":\"3\","
    "\"kubernetes.io/change-cause\":\"deploy-api: U123 (alice) set image "
    "registry.example/myservice:1.3 in #C42 \\\"ops\\\"\"}},"
    "\"spec\":{\"replicas\":3,\"selector\":{\"matchLabels\":{\"app\":\"myservice\"}},"
    "\"template\":{\"metadata\":{\"labels\":{\"app\":\"myservice\"}},\"spec\":{"
    "\"initContainers\":[{\"name\":\"migrate\",\"image\":\"registry.example/migrate:7\"}],"
    "\"containers\":[{\"name\":\"myservice\",\"image\":\"registry.example/myservice:1.3\","
    "\"ports\":[{\"containerPort\":8080,\"protocol\":\"TCP\"}],\"resources\":{}},"
    "{\"name\":\"envoy\",\"image\":\"envoyproxy/envoy:v1.29.1\",\"args\":[\"-c\",\"/etc/"
    "envoy.yaml\"]}]}},"
    "\"strategy\":{\"type\":\"RollingUpdate\",\"rollingUpdate\":{\"maxUnavailable\":\"25%\","
    "\"maxSurge\":\"25%\"}},\"progressDeadlineSeconds\":600},"
    "\"status\":{\"observedGeneration\":4,\"replicas\":3,\"updatedReplicas\":3,\"readyReplicas\":3,"
    "\"availableReplicas\":3,\"conditions\":[{\"type\":\"Available\",\"status\":\"True\","
    "\"lastUpdateTime\":\"2024-05-01T10:01:00Z\",\"reason\":\"MinimumReplicasAvailable\","
    "\"message\":\"Deployment has minimum availability.\"},{\"type\":\"Progressing\","
    "\"status\":\"True\",\"reason\":\"NewReplicaSetAvailable\",\"message\":\"ReplicaSet "
    "\\\"myservice-6d8f7c9b5\\\" has successfully progressed.\"}]}}\n";

static const char rslist[] =
    "{\"kind\":\"ReplicaSetList\",\"apiVersion\":\"apps/v1\",\"metadata\":{\"resourceVersion\":"
    "\"999\"},\"items\":[{\"metadata\":{\"name\":\"myservice-6d8f7c9b5\",\"annotations\":{"
    "\"deployment.kubernetes.io/revision\":\"3\"},\"ownerReferences\":[{\"apiVersion\":\"apps/v1\","
    "\"kind\":\"Deployment\",\"name\":\"myservice\",\"uid\":\"5f0c9a1e\",\"controller\":true}]},"
    "\"spec\":{\"replicas\":3},\"status\":{\"replicas\":3}},"
    "{\"metadata\":{\"name\":\"myservice-5c7b8d9f4\",\"annotations\":{"
    "\"deployment.kubernetes.io/revision\":\"2\",\"kubernetes.io/change-cause\":\"bob "
    "\\u00e9\\ud83d\\ude80\"}},\"spec\":{\"replicas\":0},\"status\":{\"replicas\":0}}]}";

static const char status404[] = "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},"
                                "\"status\":\"Failure\",\"message\":\"deployments.apps \\\"x\\\" "
                                "not found\",\"reason\":\"NotFound\",\"details\":{\"name\":\"x\","
                                "\"group\":\"apps\",\"kind\":\"deployments\"},\"code\":404}";

static struct json_tok toks[2048];

static int parse(struct json_doc *d, const char *s)
{
    return json_parse(d, s, strlen(s), toks, 2048);
}

TEST(deployment_fields)
{
    struct json_doc d;
    char buf[256];
    CHECK(parse(&d, deployment) > 0);
    int ann = json_path(&d, 0, "metadata", "annotations", NULL);
    CHECK(ann > 0);
    CHECK_EQ(json_str(&d, json_get(&d, ann, "deployment.kubernetes.io/revision"), buf, sizeof buf),
             1);
    CHECK_STR(buf, "3");
    CHECK(json_str(&d, json_get(&d, ann, "kubernetes.io/change-cause"), buf, sizeof buf) > 0);
    CHECK_STR(buf, "deploy-api: U123 (alice) set image registry.example/myservice:1.3 in #C42 "
                   "\"ops\"");
    CHECK_EQ(json_int_or(&d, json_path(&d, 0, "metadata", "generation", NULL), -1), 4);
    CHECK_EQ(json_int_or(&d, json_path(&d, 0, "spec", "replicas", NULL), -1), 3);
    CHECK_EQ(json_int_or(&d, json_path(&d, 0, "spec", "nope", NULL), -7), -7);
    int cs = json_path(&d, 0, "spec", "template", "spec", "containers", NULL);
    CHECK(cs > 0 && d.toks[cs].type == JSON_ARRAY);
    CHECK_EQ(d.toks[cs].size, 2);
    int c = json_first(&d, cs);
    CHECK(json_eq(&d, json_get(&d, c, "name"), "myservice"));
    c = json_next(&d, c);
    CHECK(c > 0);
    CHECK(json_eq(&d, json_get(&d, c, "name"), "envoy"));
    CHECK(json_eq(&d, json_get(&d, c, "image"), "envoyproxy/envoy:v1.29.1"));
    CHECK_EQ(json_next(&d, c), -1);
    int ic = json_path(&d, 0, "spec", "template", "spec", "initContainers", NULL);
    CHECK_EQ(d.toks[ic].size, 1);
    CHECK(json_eq(&d, json_get(&d, json_first(&d, ic), "name"), "migrate"));
    int conds = json_path(&d, 0, "status", "conditions", NULL);
    int n = 0, found = 0;
    for (int k = json_first(&d, conds); k >= 0 && n < 10; k = json_next(&d, k), n++)
        if (json_eq(&d, json_get(&d, k, "type"), "Progressing"))
            found = json_eq(&d, json_get(&d, k, "reason"), "NewReplicaSetAvailable");
    CHECK_EQ(n, 2);
    CHECK(found);
    /* Iterate keys of metadata.labels: one key. */
    int labels = json_path(&d, 0, "metadata", "labels", NULL);
    int key = json_first(&d, labels);
    CHECK(json_eq(&d, key, "app"));
    CHECK_EQ(json_next(&d, key), -1);
    /* Keys of the root: apiVersion, kind, metadata, spec, status. */
    n = 0;
    for (int k = json_first(&d, 0); k >= 0 && n < 10; k = json_next(&d, k)) n++;
    CHECK_EQ(n, 5);
    CHECK_EQ(d.toks[0].skip, d.ntoks);
    CHECK_EQ(json_get(&d, cs, "x"), -1); /* not an object */
}

TEST(replicaset_list)
{
    struct json_doc d;
    char buf[64];
    CHECK(parse(&d, rslist) > 0);
    int items = json_get(&d, 0, "items");
    int it = json_first(&d, items);
    int owner = json_first(&d, json_path(&d, it, "metadata", "ownerReferences", NULL));
    CHECK(owner > 0);
    CHECK(json_eq(&d, json_get(&d, owner, "kind"), "Deployment"));
    CHECK_EQ(d.toks[json_get(&d, owner, "controller")].type, JSON_TRUE);
    it = json_next(&d, it);
    CHECK(it > 0);
    int cc = json_path(&d, it, "metadata", "annotations", "kubernetes.io/change-cause", NULL);
    CHECK_EQ(json_str(&d, cc, buf, sizeof buf), 10);
    CHECK_STR(buf, "bob \xc3\xa9\xf0\x9f\x9a\x80");
    CHECK(json_eq(&d, cc, "bob \xc3\xa9\xf0\x9f\x9a\x80"));
    CHECK(!json_eq(&d, cc, "bob \xc3\xa9"));
    CHECK(!json_eq(&d, cc, "bob \xc3\xa9\xf0\x9f\x9a\x80!"));
    CHECK_EQ(json_str(&d, cc, buf, 10), -1); /* needs 11 with the NUL */
    CHECK_STR(buf, "");
    CHECK_EQ(json_str(&d, cc, buf, 11), 10);
    CHECK_EQ(json_next(&d, it), -1);
}

TEST(status_object)
{
    struct json_doc d;
    char buf[128];
    CHECK(parse(&d, status404) > 0);
    CHECK(json_eq(&d, json_get(&d, 0, "kind"), "Status"));
    CHECK(json_eq(&d, json_get(&d, 0, "status"), "Failure"));
    CHECK(json_eq(&d, json_get(&d, 0, "reason"), "NotFound"));
    CHECK(json_str(&d, json_get(&d, 0, "message"), buf, sizeof buf) > 0);
    CHECK_STR(buf, "deployments.apps \"x\" not found");
    long long code = 0;
    CHECK_EQ(json_int(&d, json_get(&d, 0, "code"), &code), 0);
    CHECK_EQ(code, 404);
    CHECK_EQ(json_int(&d, json_get(&d, 0, "message"), &code), -1);
    CHECK_EQ(d.toks[json_get(&d, 0, "metadata")].size, 0);
    CHECK_EQ(json_first(&d, json_get(&d, 0, "metadata")), -1);
}

/* Every proper prefix of a valid document is malformed, placed right before
 * an unmapped page. */
static int prefixes_fail(const char *doc)
{
    size_t n = strlen(doc);
    int bad = 0;
    for (size_t i = 0; i < n; i++) {
        /* "…}\n": the prefix without the final newline is still complete. */
        if (i == n - 1 && doc[n - 1] == '\n') continue;
        char *g = t_guard(doc, i);
        struct json_doc d;
        if (json_parse(&d, g, i, toks, 2048) != -1) bad++;
        t_unguard(g, i);
    }
    char *g = t_guard(doc, n);
    struct json_doc d;
    if (json_parse(&d, g, n, toks, 2048) <= 0) bad++;
    t_unguard(g, n);
    return bad;
}

TEST(truncated_prefixes)
{
    CHECK_EQ(prefixes_fail(deployment), 0);
    CHECK_EQ(prefixes_fail(rslist), 0);
    CHECK_EQ(prefixes_fail(status404), 0);
    CHECK_EQ(prefixes_fail("[1,-2.5e+3,true,false,null,\"\\ud83d\\ude80\"]"), 0);
}

static int parses(const char *s)
{
    struct json_doc d;
    size_t n = strlen(s);
    char *g = t_guard(s, n);
    int r = json_parse(&d, g, n, toks, 2048);
    t_unguard(g, n);
    return r;
}

TEST(malformed)
{
    static const char *bad[] = {
        "",
        " ",
        "{",
        "}",
        "[",
        "]",
        "{]",
        "[}",
        "{\"a\"}",
        "{\"a\":}",
        "{\"a\" 1}",
        "{a:1}",
        "{\"a\":1,}",
        "[1,]",
        "[,1]",
        "[1 2]",
        "{\"a\":1 \"b\":2}",
        "01",
        "-",
        "1.",
        ".5",
        "1e",
        "1e+",
        "+1",
        "0x10",
        "tru",
        "truex",
        "nul",
        "NULL",
        "True",
        "\"abc",
        "\"a\\x\"",
        "\"\\u12\"",
        "\"\\u12G4\"",
        "\"\\ud800\"",
        "\"\\udc00\"",
        "\"\\ud800\\u0041\"",
        "\"\\ud800x\"",
        "\"a\tb\"",
        "\"a\nb\"",
        "\"\x01\"",
        "\"\xff\"",
        "\"\xc0\xaf\"",
        "\"\xed\xa0\x80\"",
        "\"\xf4\x90\x80\x80\"",
        "\"\xe2\x82\"",
        "1 2",
        "{} {}",
        "[]x",
        "'a'",

        "\xef\xbb\xbf{}",
        "{\"a\":1}}",
        "[\"a\":1]",
        "\v1",
        "Infinity",
        "NaN",
        "-01",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (parses(bad[i]) != -1) {
            printf("  accepted: %s\n", bad[i]);
            CHECK(0);
        }
    }
    /* Embedded NUL inside a document is not whitespace. */
    struct json_doc d;
    CHECK_EQ(json_parse(&d, "[1]\0", 4, toks, 10), -1);
    CHECK_EQ(d.ntoks, 0);
}

TEST(valid_scalars)
{
    CHECK_EQ(parses("0"), 1);
    CHECK_EQ(parses(" -0.0e-0 "), 1);
    CHECK_EQ(parses("\"\""), 1);
    CHECK_EQ(parses("null"), 1);
    CHECK_EQ(parses("[]"), 1);
    CHECK_EQ(parses("{}"), 1);
    CHECK_EQ(parses("\t[ 1 , {\"a\" : [ ] } ]\r\n"), 5);
    CHECK_EQ(parses("\"\\\"\\\\\\/\\b\\f\\n\\r\\t\\u0000\""), 1);
    CHECK_EQ(parses("\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x9a\x80\""), 1);
}

TEST(token_cap)
{
    struct json_doc d;
    struct json_tok t[4];
    CHECK_EQ(json_parse(&d, "[1,2,3]", 7, t, 4), 4);
    CHECK_EQ(json_parse(&d, "[1,2,3,4]", 9, t, 4), -1);
    CHECK_EQ(json_parse(&d, "{\"a\":1,\"b\":2}", 13, t, 4), -1);
    CHECK_EQ(json_parse(&d, "{\"a\":1}", 7, t, 4), 3);
    CHECK_EQ(json_parse(&d, "1", 1, t, 0), -1);
}

TEST(depth_limit)
{
    char buf[1024];
    int max = JW_MAX_DEPTH * 2;
    for (int n = max; n <= max + 1; n++) {
        int k = 0;
        for (int i = 0; i < n; i++) buf[k++] = '[';
        for (int i = 0; i < n; i++) buf[k++] = ']';
        struct json_doc d;
        int r = json_parse(&d, buf, (size_t)k, toks, 2048);
        if (n == max)
            CHECK_EQ(r, max);
        else
            CHECK_EQ(r, -1);
    }
    /* Deep objects too. */
    int k = 0;
    for (int i = 0; i < max + 1; i++) {
        memcpy(buf + k, "{\"a\":", 5);
        k += 5;
    }
    buf[k++] = '1';
    for (int i = 0; i < max + 1; i++) buf[k++] = '}';
    struct json_doc d;
    CHECK_EQ(json_parse(&d, buf, (size_t)k, toks, 2048), -1);
    CHECK_EQ(json_parse(&d, buf + 5, (size_t)k - 6, toks, 2048), max * 2 + 1);
}

TEST(tree_links)
{
    struct json_doc d;
    const char *s = "{\"a\":[1,{\"b\":2}],\"c\":\"x\"}";
    int n = parse(&d, s);
    CHECK_EQ(n, 9);
    CHECK_EQ(d.toks[0].skip, 9);
    CHECK_EQ(d.toks[0].size, 2);
    CHECK_EQ(d.toks[1].parent, 0);
    CHECK_EQ(d.toks[2].parent, 0);
    CHECK_EQ(d.toks[2].skip, 7);
    CHECK_EQ(d.toks[2].size, 2);
    CHECK_EQ(d.toks[3].parent, 2);
    CHECK_EQ(d.toks[4].parent, 2);
    CHECK_EQ(d.toks[6].parent, 4);
    CHECK_EQ(json_next(&d, 3), 4);
    CHECK_EQ(json_next(&d, 4), -1);
    CHECK_EQ(json_next(&d, 1), 7);
    CHECK_EQ(json_next(&d, 7), -1);
    CHECK_EQ(json_next(&d, 0), -1);
    CHECK_EQ(d.toks[8].start, 22u);
    CHECK_EQ(d.toks[8].end, 23u);
    CHECK_EQ(d.toks[2].start, 5u);
    CHECK_EQ(d.toks[2].end, 16u);
    CHECK_EQ(json_get(&d, 0, "c"), 8);
    CHECK_EQ(json_get(&d, 0, "x"), -1);
    CHECK_EQ(json_get(&d, 99, "c"), -1);
    CHECK_EQ(json_get(&d, -1, "c"), -1);
    CHECK_EQ(json_first(&d, 3), -1);
    CHECK_EQ(json_path(&d, 0, "a", "b", NULL), -1);
    CHECK_EQ(json_path(&d, 0, NULL), 0);
    char b[8];
    CHECK_EQ(json_str(&d, 2, b, sizeof b), -1);
    CHECK_EQ(json_int_or(&d, -1, 5), 5);
}

TEST(ints)
{
    struct json_doc d;
    long long v = 0;
    CHECK_EQ(parse(&d, "[9223372036854775807,-9223372036854775808,9223372036854775808,1.0,1e3,"
                       "-0,-9223372036854775809]"),
             8);
    CHECK_EQ(json_int(&d, 1, &v), 0);
    CHECK_EQ(v, INT64_MAX);
    CHECK_EQ(json_int(&d, 2, &v), 0);
    CHECK_EQ(v, INT64_MIN);
    CHECK_EQ(json_int(&d, 3, &v), -1);
    CHECK_EQ(json_int(&d, 4, &v), -1);
    CHECK_EQ(json_int(&d, 5, &v), -1);
    CHECK_EQ(json_int(&d, 6, &v), 0);
    CHECK_EQ(v, 0);
    CHECK_EQ(json_int(&d, 7, &v), -1);
}

TEST(str_escapes)
{
    struct json_doc d;
    char b[64];
    CHECK_EQ(parse(&d, "\"a\\\"b\\\\c\\/d\\n\\u0041\\u00e9\\u20ac\""), 1);
    CHECK_EQ(json_str(&d, 0, b, sizeof b), 14);
    CHECK_STR(b, "a\"b\\c/d\nA\xc3\xa9\xe2\x82\xac");
    CHECK(json_eq(&d, 0, "a\"b\\c/d\nA\xc3\xa9\xe2\x82\xac"));
    CHECK_EQ(parse(&d, "\"\\uD834\\uDD1E\""), 1);
    CHECK_EQ(json_str(&d, 0, b, sizeof b), 4);
    CHECK_STR(b, "\xf0\x9d\x84\x9e");
    CHECK_EQ(parse(&d, "\"\\u0000\""), 1);
    CHECK_EQ(json_str(&d, 0, b, sizeof b), 1); /* length says 1, the string ends early */
    CHECK(!json_eq(&d, 0, ""));
    CHECK_EQ(json_str(&d, 0, b, 0), -1);
}

static long wr(void (*fn)(struct jw *), char *buf, size_t cap)
{
    struct jw w;
    jw_init(&w, buf, cap);
    fn(&w);
    return jw_finish(&w);
}

static void w_patch(struct jw *w)
{
    jw_obj_begin(w);
    jw_key(w, "metadata");
    jw_obj_begin(w);
    jw_key(w, "annotations");
    jw_obj_begin(w);
    jw_kstr(w, "kubernetes.io/change-cause", "alice \"ops\"\n\\\x01\x7f");
    jw_obj_end(w);
    jw_obj_end(w);
    jw_key(w, "list");
    jw_arr_begin(w);
    jw_int(w, -5);
    jw_bool(w, 1);
    jw_bool(w, 0);
    jw_null(w);
    jw_str(w, "\xc3\xa9\xff\xc0\xaf\xed\xa0\x80x\xf0\x9f\x9a\x80");
    jw_raw(w, "{\"r\":1}", 7);
    jw_arr_begin(w);
    jw_arr_end(w);
    jw_arr_end(w);
    jw_kint(w, "n", INT64_MIN);
    jw_obj_end(w);
}

static const char patch_json[] =
    "{\"metadata\":{\"annotations\":{\"kubernetes.io/change-cause\":\"alice "
    "\\\"ops\\\"\\n\\\\\\u0001\\u007f\"}},\"list\":[-5,true,false,null,\"\xc3\xa9\xef\xbf\xbd\xef"
    "\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbdx\xf0\x9f\x9a\x80\",{\"r\":1},[]],"
    "\"n\":-9223372036854775808}";

TEST(writer)
{
    char buf[512];
    long n = wr(w_patch, buf, sizeof buf);
    CHECK_EQ(n, (long)strlen(patch_json));
    CHECK_STR(buf, patch_json);
    /* Output parses back and round-trips the string. */
    struct json_doc d;
    CHECK(json_parse(&d, buf, (size_t)n, toks, 2048) > 0);
    char s[64];
    CHECK(json_str(&d,
                   json_path(&d, 0, "metadata", "annotations", "kubernetes.io/change-cause", NULL),
                   s, sizeof s) > 0);
    CHECK_STR(s, "alice \"ops\"\n\\\x01\x7f");
}

TEST(writer_bounds)
{
    char buf[512];
    size_t need = strlen(patch_json) + 1;
    CHECK_EQ(wr(w_patch, buf, need), (long)need - 1);
    for (size_t cap = 1; cap < need; cap++) {
        char *g = malloc(cap);
        if (wr(w_patch, g, cap) != -1) CHECK(0);
        CHECK(memchr(g, 0, cap) != NULL); /* always NUL-terminated */
        free(g);
    }
}

static void w_unbalanced(struct jw *w)
{
    jw_obj_begin(w);
}
static void w_key_in_array(struct jw *w)
{
    jw_arr_begin(w);
    jw_key(w, "a");
    jw_arr_end(w);
}
static void w_value_without_key(struct jw *w)
{
    jw_obj_begin(w);
    jw_int(w, 1);
    jw_obj_end(w);
}
static void w_dangling_key(struct jw *w)
{
    jw_obj_begin(w);
    jw_key(w, "a");
    jw_obj_end(w);
}
static void w_mismatch(struct jw *w)
{
    jw_obj_begin(w);
    jw_arr_end(w);
}
static void w_two_roots(struct jw *w)
{
    jw_int(w, 1);
    jw_int(w, 2);
}
static void w_empty(struct jw *w)
{
    (void)w;
}
static void w_extra_end(struct jw *w)
{
    jw_arr_begin(w);
    jw_arr_end(w);
    jw_arr_end(w);
}
static void w_deep_ok(struct jw *w)
{
    for (int i = 0; i < JW_MAX_DEPTH - 1; i++) jw_arr_begin(w);
    for (int i = 0; i < JW_MAX_DEPTH - 1; i++) jw_arr_end(w);
}
static void w_too_deep(struct jw *w)
{
    for (int i = 0; i < JW_MAX_DEPTH; i++) jw_arr_begin(w);
    for (int i = 0; i < JW_MAX_DEPTH; i++) jw_arr_end(w);
}

TEST(writer_misuse)
{
    char buf[256];
    CHECK_EQ(wr(w_unbalanced, buf, sizeof buf), -1);
    CHECK_EQ(wr(w_key_in_array, buf, sizeof buf), -1);
    CHECK_EQ(wr(w_value_without_key, buf, sizeof buf), -1);
    CHECK_EQ(wr(w_dangling_key, buf, sizeof buf), -1);
    CHECK_EQ(wr(w_mismatch, buf, sizeof buf), -1);
    CHECK_EQ(wr(w_two_roots, buf, sizeof buf), -1);
    CHECK_EQ(wr(w_empty, buf, sizeof buf), -1);
    CHECK_EQ(wr(w_extra_end, buf, sizeof buf), -1);
    CHECK_EQ(wr(w_deep_ok, buf, sizeof buf), (JW_MAX_DEPTH - 1) * 2);
    CHECK_EQ(wr(w_too_deep, buf, sizeof buf), -1);
}

static void w_strn(struct jw *w)
{
    jw_strn(w, "a\0b", 3);
}

TEST(writer_strn_nul)
{
    char buf[32];
    CHECK_EQ(wr(w_strn, buf, sizeof buf), 10);
    CHECK_STR(buf, "\"a\\u0000b\"");
}

int main(void)
{
    RUN(deployment_fields);
    RUN(replicaset_list);
    RUN(status_object);
    RUN(truncated_prefixes);
    RUN(malformed);
    RUN(valid_scalars);
    RUN(token_cap);
    RUN(depth_limit);
    RUN(tree_links);
    RUN(ints);
    RUN(str_escapes);
    RUN(writer);
    RUN(writer_bounds);
    RUN(writer_misuse);
    RUN(writer_strn_nul);
    return t_done();
}
