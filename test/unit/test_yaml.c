/* The YAML/JSON reader: kubeconfig shapes, scalars, refusals with their
 * line, limits at and past each bound, every prefix of real documents. */
#include "t.h"
#include "yaml.h"

static char err[256];

static struct yaml_node *parse(const char *s)
{
    struct yaml_node *r = NULL;
    size_t n = strlen(s);
    char *g = t_guard(s, n);
    err[0] = 0;
    if (yaml_parse(g, n, &r, err, sizeof err) < 0) r = NULL;
    t_unguard(g, n);
    return r;
}

/* -1 with err when s is refused. */
static int refused(const char *s)
{
    struct yaml_node *r = NULL;
    size_t n = strlen(s);
    char *g = t_guard(s, n);
    int rc = yaml_parse(g, n, &r, err, sizeof err);
    t_unguard(g, n);
    yaml_free(r);
    return rc < 0;
}

static const struct yaml_node *path(const struct yaml_node *n, const char *k1, int idx,
                                    const char *k2)
{
    n = yaml_get(n, k1);
    if (idx >= 0) {
        if (!n || n->kind != YAML_SEQ) return NULL;
        n = n->kids;
        for (int i = 0; n && i < idx; i++) n = n->next;
    }
    return k2 ? yaml_get(n, k2) : n;
}

static const char kubeadm[] = "apiVersion: v1\n"
                              "clusters:\n"
                              "- cluster:\n"
                              "    certificate-authority-data: LS0tLS1CRUdJTiBDRVJU\n"
                              "    server: https://10.0.0.1:6443\n"
                              "  name: kubernetes\n"
                              "contexts:\n"
                              "- context:\n"
                              "    cluster: kubernetes\n"
                              "    user: kubernetes-admin\n"
                              "  name: kubernetes-admin@kubernetes\n"
                              "current-context: kubernetes-admin@kubernetes\n"
                              "kind: Config\n"
                              "preferences: {}\n"
                              "users:\n"
                              "- name: kubernetes-admin\n"
                              "  user:\n"
                              "    client-certificate-data: LS0tQ0VSVA==\n"
                              "    client-key-data: LS0tS0VZ\n";

TEST(kubeadm_shape)
{
    struct yaml_node *r = parse(kubeadm);
    CHECK(r != NULL);
    CHECK_EQ(r->kind, YAML_MAP);
    CHECK_STR(yaml_str(yaml_get(r, "current-context")), "kubernetes-admin@kubernetes");
    const struct yaml_node *cl = path(r, "clusters", 0, "cluster");
    CHECK_STR(yaml_str(yaml_get(cl, "server")), "https://10.0.0.1:6443");
    CHECK_STR(yaml_str(path(r, "clusters", 0, "name")), "kubernetes");
    CHECK_STR(yaml_str(yaml_get(path(r, "users", 0, "user"), "client-key-data")), "LS0tS0VZ");
    const struct yaml_node *pref = yaml_get(r, "preferences");
    CHECK(pref && pref->kind == YAML_MAP && pref->len == 0);
    CHECK_EQ(yaml_get(r, "users")->line, 16); /* where the value starts */
    yaml_free(r);
}

TEST(indented_sequences_and_nesting)
{
    struct yaml_node *r = parse("users:\n"
                                "  - name: a\n"
                                "    user:\n"
                                "      exec:\n"
                                "        args:\n"
                                "          - eks\n"
                                "          - get-token\n"
                                "        env:\n"
                                "        - name: AWS_PROFILE\n"
                                "          value: prod\n"
                                "  - name: b\n"
                                "    user: {token: abc}\n");
    CHECK(r != NULL);
    const struct yaml_node *ex = yaml_get(path(r, "users", 0, "user"), "exec");
    const struct yaml_node *args = yaml_get(ex, "args");
    CHECK(args && args->kind == YAML_SEQ && args->len == 2);
    CHECK_STR(yaml_str(args->kids->next), "get-token");
    CHECK_STR(yaml_str(yaml_get(yaml_get(ex, "env")->kids, "value")), "prod");
    CHECK_STR(yaml_str(yaml_get(path(r, "users", 1, "user"), "token")), "abc");
    yaml_free(r);
}

/* minikube's cluster extensions: commas and colons inside plain values. */
TEST(minikube_extensions)
{
    struct yaml_node *r = parse("clusters:\n"
                                "- cluster:\n"
                                "    certificate-authority: /home/u/.minikube/ca.crt\n"
                                "    extensions:\n"
                                "    - extension:\n"
                                "        last-update: Mon, 30 Nov 2026 10:00:00 UTC\n"
                                "        provider: minikube.sigs.k8s.io\n"
                                "        version: v1.32.0\n"
                                "      name: cluster_info\n"
                                "    server:\thttps://192.168.49.2:8443\n"
                                "  name: minikube\n");
    const struct yaml_node *c = path(r, "clusters", 0, "cluster");
    CHECK_STR(yaml_str(yaml_get(c, "server")), "https://192.168.49.2:8443");
    const struct yaml_node *ext = yaml_get(yaml_get(c, "extensions")->kids, "extension");
    CHECK_STR(yaml_str(yaml_get(ext, "last-update")), "Mon, 30 Nov 2026 10:00:00 UTC");
    CHECK_STR(yaml_str(path(r, "clusters", 0, "name")), "minikube");
    yaml_free(r);
}

TEST(scalars)
{
    struct yaml_node *r = parse("a: 'it''s # not a comment'\n"
                                "b: \"tab\\there \\u00e9 \\x41\\\" \\\\\"\n"
                                "c: plain value   # a comment\n"
                                "d:\n"
                                "e: ~\n"
                                "f: null\n"
                                "g: \"\"\n"
                                "h: x#y\n"
                                "i: -1\n"
                                "j: a:b\n"
                                "\"k k\": 1\n"
                                "l: \"two\n"
                                "  lines\n"
                                "\n"
                                "  and\"\n"
                                "m: plain\n"
                                "  continued\n");
    CHECK(r != NULL);
    if (!r) {
        printf("  %s\n", err);
        return;
    }
    CHECK_STR(yaml_str(yaml_get(r, "a")), "it's # not a comment");
    CHECK_STR(yaml_str(yaml_get(r, "b")), "tab\there \xc3\xa9 A\" \\");
    CHECK_STR(yaml_str(yaml_get(r, "c")), "plain value");
    CHECK(yaml_get(r, "d")->null && yaml_str(yaml_get(r, "d")) == NULL);
    CHECK(yaml_get(r, "e")->null && yaml_get(r, "f")->null);
    CHECK(!yaml_get(r, "g")->null);
    CHECK_STR(yaml_str(yaml_get(r, "g")), "");
    CHECK_STR(yaml_str(yaml_get(r, "h")), "x#y");
    CHECK_STR(yaml_str(yaml_get(r, "i")), "-1");
    CHECK_STR(yaml_str(yaml_get(r, "j")), "a:b");
    CHECK_STR(yaml_str(yaml_get(r, "k k")), "1");
    CHECK_STR(yaml_str(yaml_get(r, "l")), "two lines\nand");
    CHECK_STR(yaml_str(yaml_get(r, "m")), "plain continued");
    yaml_free(r);
}

TEST(literal_blocks)
{
    struct yaml_node *r = parse("a: |\n"
                                "  -----BEGIN CERTIFICATE-----\n"
                                "  MIIB\n"
                                "\n"
                                "    indented\n"
                                "b: |-\n"
                                "   x\n"
                                "c: |+\n"
                                "  y\n"
                                "\n"
                                "d: |\n"
                                "e: |2\n"
                                "    z\n"
                                "list:\n"
                                "- |\n"
                                "  item\n"
                                "- last\n");
    CHECK(r != NULL);
    CHECK_STR(yaml_str(yaml_get(r, "a")), "-----BEGIN CERTIFICATE-----\nMIIB\n\n  indented\n");
    CHECK_STR(yaml_str(yaml_get(r, "b")), "x");
    CHECK_STR(yaml_str(yaml_get(r, "c")), "y\n\n");
    CHECK_STR(yaml_str(yaml_get(r, "d")), "");
    CHECK_STR(yaml_str(yaml_get(r, "e")), "  z\n");
    CHECK_STR(yaml_str(yaml_get(r, "list")->kids), "item\n");
    CHECK_STR(yaml_str(yaml_get(r, "list")->kids->next), "last");
    yaml_free(r);
}

TEST(json_documents)
{
    struct yaml_node *r = parse("{\"apiVersion\":\"v1\",\"clusters\":[{\"name\":\"c\",\"cluster\":"
                                "{\"server\":\"https://h:1\"}}],\n  \"n\": 12, \"t\": true,"
                                " \"z\": null, \"e\": [], \"s\": \"a\\/b\\n\"}\n");
    CHECK(r != NULL);
    CHECK_STR(yaml_str(path(path(r, "clusters", 0, "cluster"), "server", -1, NULL)), "https://h:1");
    CHECK_STR(yaml_str(yaml_get(r, "n")), "12");
    CHECK(yaml_get(r, "z")->null);
    CHECK_EQ(yaml_get(r, "e")->len, 0);
    CHECK_STR(yaml_str(yaml_get(r, "s")), "a/b\n");
    yaml_free(r);
    r = parse("[1, [2, {a: b}], 'x',]");
    CHECK(r && r->kind == YAML_SEQ && r->len == 3);
    yaml_free(r);
}

TEST(documents_markers_empty)
{
    struct yaml_node *r = parse("");
    CHECK(r == NULL && err[0] == 0);
    r = parse("# only a comment\n\n");
    CHECK(r == NULL && err[0] == 0);
    r = parse("---\na: 1\n...\n");
    CHECK(r && yaml_str(yaml_get(r, "a")));
    yaml_free(r);
    r = parse("\xef\xbb\xbf"
              "a: 1\r\nb: 2\r\n");
    CHECK_STR(yaml_str(yaml_get(r, "b")), "2");
    yaml_free(r);
}

struct bad {
    const char *doc, *msg;
};

TEST(refusals_name_the_line)
{
    static const struct bad bad[] = {
        {"a: 1\nb: &x 2\n", "line 2: anchors"},
        {"a: *x\n", "line 1: anchors"},
        {"a: !!str 1\n", "line 1: anchors"},
        {"a: >\n  x\n", "line 1: folded"},
        {"? a\n: b\n", "line 1: complex"},
        {"%YAML 1.2\n---\na: 1\n", "line 1: directives"},
        {"a: 1\n---\nb: 2\n", "line 2: more than one document"},
        {"a: 1\na: 2\n", "line 2: duplicate key"},
        {"a:\n\tb: 1\n", "line 2: tab in indentation"},
        {"a: b: c\n", "line 1: a mapping value"},
        {"a: 1\n  b: 2\n", "line 2: a mapping value"},
        {"a:\n  b: 1\n   c: 2\n", "line 3: a mapping value"},
        {"a: \"open\n", "line 1: unterminated"},
        {"a: [1, 2\n", "line 1: unterminated flow"},
        {"a: {b 1}\n", "expected ':'"},
        {"a: [1, 2]]\n", "line 1: unexpected text"},
        {"a: \"\\q\"\n", "line 1: unknown escape"},
        {"a: \"\\ud800\"\n", "Unicode"},
        {"a: \"x\" y\n", "line 1: unexpected text"},
        {"a: 1\n\x01", "line 2: control character"},
        {"a: |x\n", "line 1: unexpected text after '|'"},
        {"a:\n  - 1\n - 2\n", "line 3: unexpected indentation"},
        {"  a: 1\n", "column 0"},
        {"a: 1\r", "carriage return"},
        {"a: [1, ]x\n", "unexpected text after the value"},
        {"{a: 1, a: 2}", "duplicate key"},
        {"a: [,]", "expected a value"},
        {"a: @x\n", "may not start"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int r = refused(bad[i].doc);
        CHECK(r);
        if (!r || !strstr(err, bad[i].msg)) {
            printf("  case %zu: %s\n", i, err);
            CHECK(0);
        }
    }
}

static char *repeat(const char *head, const char *unit, int n, const char *tail)
{
    size_t hl = strlen(head), ul = strlen(unit), tl = strlen(tail);
    char *s = malloc(hl + ul * (size_t)n + tl + 1), *q = s;
    memcpy(q, head, hl);
    q += hl;
    for (int i = 0; i < n; i++, q += ul) memcpy(q, unit, ul);
    memcpy(q, tail, tl + 1);
    return s;
}

TEST(depth_limit)
{
    char *open = repeat("", "[", YAML_MAX_DEPTH, "");
    char *full = repeat(open, "]", YAML_MAX_DEPTH, "");
    struct yaml_node *r = parse(full);
    CHECK(r != NULL);
    yaml_free(r);
    char *over = repeat("[", "", 0, full);
    char *over2 = repeat(over, "]", 1, "");
    CHECK(refused(over2) && strstr(err, "nested deeper"));
    free(open);
    free(full);
    free(over);
    free(over2);

    /* block nesting: YAML_MAX_DEPTH mappings deep, then one more */
    char buf[4096], *q = buf;
    for (int i = 0; i < YAML_MAX_DEPTH; i++) q += sprintf(q, "%*sk:\n", i, "");
    sprintf(q, "%*sv: 1\n", YAML_MAX_DEPTH, "");
    CHECK(refused(buf) && strstr(err, "nested deeper"));
    q = buf;
    for (int i = 0; i < YAML_MAX_DEPTH - 1; i++) q += sprintf(q, "%*sk:\n", i, "");
    sprintf(q, "%*sv: 1\n", YAML_MAX_DEPTH - 1, "");
    r = parse(buf);
    CHECK(r != NULL);
    yaml_free(r);
}

TEST(entry_and_node_limits)
{
    char *s = malloc(YAML_MAX_MAP_ENTRIES * 16 + 64), *q = s;
    for (int i = 0; i < YAML_MAX_MAP_ENTRIES; i++) q += sprintf(q, "k%d: v\n", i);
    struct yaml_node *r = parse(s);
    CHECK(r && r->len == YAML_MAX_MAP_ENTRIES);
    yaml_free(r);
    sprintf(q, "over: v\n");
    CHECK(refused(s) && strstr(err, "keys in one mapping"));
    free(s);

    /* YAML_MAX_NODES nodes: a sequence (1) of that many less one scalars */
    char *seq = repeat("[", "1,", YAML_MAX_NODES - 1, "]");
    r = parse(seq);
    CHECK(r && r->len == YAML_MAX_NODES - 1);
    yaml_free(r);
    free(seq);
    seq = repeat("[", "1,", YAML_MAX_NODES, "]");
    CHECK(refused(seq) && strstr(err, "nodes"));
    free(seq);
}

TEST(input_size_limit)
{
    size_t n = YAML_MAX_INPUT + 1;
    char *s = malloc(n);
    memset(s, '#', n);
    struct yaml_node *r = NULL;
    CHECK(yaml_parse(s, n, &r, err, sizeof err) < 0 && strstr(err, "larger than"));
    memset(s, ' ', n);
    s[0] = '#';
    s[n - 2] = '\n';
    CHECK(yaml_parse(s, n - 1, &r, err, sizeof err) == 0 && r == NULL);
    free(s);
}

/* Every prefix parses or is refused, never crashes or over-reads. */
TEST(every_prefix)
{
    static const char *docs[] = {kubeadm,
                                 "a: \"x\\u00e9\n  y\"\nb: |-\n  lit\n  more\nc: [1, {d: 'e'}]\n",
                                 "{\"a\": [\"b\", {\"c\": \"\\U0001F600\"}]}"};
    for (size_t d = 0; d < sizeof docs / sizeof docs[0]; d++) {
        size_t n = strlen(docs[d]);
        for (size_t i = 0; i <= n; i++) {
            char *g = t_guard(docs[d], i);
            struct yaml_node *r = NULL;
            if (yaml_parse(g, i, &r, err, sizeof err) < 0) CHECK(r == NULL && err[0]);
            yaml_free(r);
            t_unguard(g, i);
        }
    }
}

int main(void)
{
    RUN(kubeadm_shape);
    RUN(indented_sequences_and_nesting);
    RUN(minikube_extensions);
    RUN(scalars);
    RUN(literal_blocks);
    RUN(json_documents);
    RUN(documents_markers_empty);
    RUN(refusals_name_the_line);
    RUN(depth_limit);
    RUN(entry_and_node_limits);
    RUN(input_size_limit);
    RUN(every_prefix);
    return t_done();
}
