/* Kubeconfig: which file, merging, contexts, every field, every refusal,
 * limits; exec plugins (real scripts in a temp dir) and ExecCredential
 * answers. */
#include "t.h"

#include "execcred.h"
#include "kubeconfig.h"

#include <sys/stat.h>
#include <time.h>

static char dir[64], err[512];

static void put(const char *name, const char *text, int mode)
{
    char p[256];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    FILE *f = fopen(p, "w");
    fputs(text, f);
    fclose(f);
    chmod(p, (mode_t)mode);
}

static const char *at(const char *name)
{
    static char p[4][256];
    static int i;
    i = (i + 1) % 4;
    snprintf(p[i], sizeof p[i], "%s/%s", dir, name);
    return p[i];
}

/* "-----BEGIN CERTIFICATE-----\nQUJD\n-----END CERTIFICATE-----\n" in base64 */
#define CA_B64 "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tClFVSkQKLS0tLS1FTkQgQ0VSVElGSUNBVEUtLS0tLQo="

static const char kubeadm[] = "apiVersion: v1\n"
                              "clusters:\n"
                              "- cluster:\n"
                              "    certificate-authority-data: " CA_B64 "\n"
                              "    server: https://192.168.1.10:6443\n"
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
                              "    client-certificate-data: Q0VSVA==\n"
                              "    client-key-data: S0VZ\n";

static int load(const char *flag, const char *env, const char *context, struct kubeconfig *k)
{
    struct kubeconfig_where w = {flag, context, env, NULL, 0};
    err[0] = 0;
    return (int)kubeconfig_load(&w, k, err, sizeof err);
}

TEST(kubeadm_client_cert_data)
{
    struct kubeconfig k;
    put("admin.conf", kubeadm, 0600);
    CHECK_EQ(load(at("admin.conf"), NULL, NULL, &k), KUBECONFIG_LOADED);
    CHECK_STR(k.server, "https://192.168.1.10:6443");
    CHECK_STR(k.context, "kubernetes-admin@kubernetes");
    CHECK(k.ca_pem && strstr(k.ca_pem, "BEGIN CERTIFICATE"));
    CHECK(k.cert_pem && k.cert_len == 4 && memcmp(k.cert_pem, "CERT", 4) == 0);
    CHECK(k.key_pem && k.key_len == 3 && memcmp(k.key_pem, "KEY", 3) == 0);
    CHECK(k.token == NULL && !k.has_exec && k.ns[0] == 0);
    kubeconfig_free(&k);
    CHECK(k.ca_pem == NULL && k.server[0] == 0);
}

TEST(files_relative_to_the_kubeconfig)
{
    struct kubeconfig k;
    mkdir(at("sub"), 0700);
    put("sub/ca.crt", "CA-PEM", 0600);
    put("sub/client.crt", "CERT-PEM", 0600);
    put("client.key", "KEY-PEM", 0600);
    put("sub/k3s.yaml",
        "apiVersion: v1\n"
        "clusters:\n"
        "- cluster:\n"
        "    certificate-authority: ca.crt\n"
        "    server: https://127.0.0.1:6443\n"
        "    tls-server-name: kubernetes\n"
        "    proxy-url: http://proxy.local:3128\n"
        "  name: default\n"
        "contexts:\n"
        "- context:\n"
        "    cluster: default\n"
        "    namespace: team-a\n"
        "    user: default\n"
        "  name: default\n"
        "current-context: default\n"
        "users:\n"
        "- name: default\n"
        "  user:\n"
        "    client-certificate: client.crt\n"
        "    client-key: ../client.key\n",
        0600);
    CHECK_EQ(load(at("sub/k3s.yaml"), NULL, NULL, &k), KUBECONFIG_LOADED);
    CHECK_STR(k.ca_pem, "CA-PEM");
    CHECK_STR(k.cert_pem, "CERT-PEM");
    CHECK_STR(k.key_pem, "KEY-PEM");
    CHECK_STR(k.ns, "team-a");
    CHECK_STR(k.server_name, "kubernetes");
    CHECK_STR(k.proxy_url, "http://proxy.local:3128");
    kubeconfig_free(&k);
}

TEST(merged_list_first_wins)
{
    struct kubeconfig k;
    char env[600];
    put("a.yaml",
        "current-context: a-ctx\n"
        "clusters:\n"
        "- name: shared\n"
        "  cluster: {server: 'https://first:1'}\n"
        "contexts:\n"
        "- name: a-ctx\n"
        "  context: {cluster: shared, user: b-user}\n"
        "users: []\n",
        0600);
    put("b.yaml",
        "current-context: b-ctx\n"
        "clusters:\n"
        "- name: shared\n"
        "  cluster: {server: 'https://second:2'}\n"
        "- name: other\n"
        "  cluster: {server: 'https://other:3'}\n"
        "contexts:\n"
        "- name: b-ctx\n"
        "  context: {cluster: other, user: b-user, namespace: bns}\n"
        "- name: a-ctx\n"
        "  context: {cluster: other}\n"
        "users:\n"
        "- name: b-user\n"
        "  user:\n"
        "    token: tok-b\n"
        "    tokenFile: /ignored\n",
        0600);
    snprintf(env, sizeof env, "%s::%s:%s:%s", at("missing.yaml"), at("a.yaml"), at("b.yaml"),
             at("a.yaml"));
    CHECK_EQ(load(NULL, env, NULL, &k), KUBECONFIG_LOADED);
    CHECK_STR(k.context, "a-ctx");
    CHECK_STR(k.server, "https://first:1"); /* a.yaml's cluster "shared" wins */
    CHECK_STR(k.token, "tok-b");            /* the user only b.yaml names */
    CHECK(k.token_file[0] == 0);            /* token wins over tokenFile */
    CHECK(strstr(k.files, "a.yaml:") && strstr(k.files, "b.yaml"));
    kubeconfig_free(&k);
    /* --context switches clusters */
    CHECK_EQ(load(NULL, env, "b-ctx", &k), KUBECONFIG_LOADED);
    CHECK_STR(k.server, "https://other:3");
    CHECK_STR(k.ns, "bns");
    kubeconfig_free(&k);
    CHECK_EQ(load(NULL, env, "nope", &k), KUBECONFIG_ERROR);
    CHECK(strstr(err, "context \"nope\" not found") != NULL);
}

TEST(which_source)
{
    struct kubeconfig k;
    struct kubeconfig_where w = {NULL, NULL, NULL, dir, 1};
    /* in a pod, without KUBECONFIG: the service account */
    CHECK_EQ(kubeconfig_load(&w, &k, err, sizeof err), KUBECONFIG_IN_CLUSTER);
    /* KUBECONFIG naming no existing file: never ~/.kube/config */
    w.env = at("gone.yaml");
    w.in_cluster = 0;
    CHECK_EQ(kubeconfig_load(&w, &k, err, sizeof err), KUBECONFIG_ERROR);
    CHECK(strstr(err, "KUBECONFIG names no existing file") != NULL);
    w.in_cluster = 1;
    /* KUBECONFIG wins over in-cluster */
    w.env = at("admin.conf");
    CHECK_EQ(kubeconfig_load(&w, &k, err, sizeof err), KUBECONFIG_LOADED);
    kubeconfig_free(&k);
    /* outside a cluster: ~/.kube/config */
    w.env = NULL;
    w.in_cluster = 0;
    CHECK_EQ(kubeconfig_load(&w, &k, err, sizeof err), KUBECONFIG_ERROR);
    CHECK(strstr(err, "no Kubernetes API configured") && strstr(err, "admin.conf"));
    mkdir(at(".kube"), 0700);
    put(".kube/config", kubeadm, 0600);
    CHECK_EQ(kubeconfig_load(&w, &k, err, sizeof err), KUBECONFIG_LOADED);
    CHECK_STR(k.server, "https://192.168.1.10:6443");
    kubeconfig_free(&k);
    /* a --kubeconfig that does not exist is an error, never a fallback */
    w.flag = at("nonexistent");
    CHECK_EQ(kubeconfig_load(&w, &k, err, sizeof err), KUBECONFIG_ERROR);
    CHECK(strstr(err, "--kubeconfig") && strstr(err, "No such file"));
}

struct bad {
    const char *cluster, *user, *msg;
};

static void doc_with(char *out, size_t cap, const char *cluster, const char *user)
{
    snprintf(out, cap,
             "current-context: c\n"
             "contexts:\n- name: c\n  context: {cluster: k, user: u}\n"
             "clusters:\n- name: k\n  cluster:\n%s"
             "users:\n- name: u\n  user:\n%s",
             cluster, user);
}

TEST(refusals_say_what_to_do)
{
    static const struct bad bad[] = {
        {"    server: https://h\n    insecure-skip-tls-verify: true\n", "    token: t\n",
         "insecure-skip-tls-verify is refused: give the cluster's CA"},
        {"    server: https://h\n", "    auth-provider:\n      name: gcp\n", "use an exec plugin"},
        {"    server: https://h\n", "    username: admin\n    password: x\n",
         "basic auth (username/password) is refused"},
        {"    server: https://h\n", "    password: x\n", "basic auth"},
        {"    server: https://h\n", "    as: root\n", "impersonation"},
        {"    server: https://h\n", "    token: t\n    exec:\n      command: x\n",
         "both a token and an exec plugin"},
        {"    server: https://h\n    certificate-authority: /x\n    certificate-authority-data: "
         "QQ==\n",
         "    token: t\n", "both set"},
        {"    server: https://h\n", "    client-certificate-data: QQ==\n",
         "client certificate without its key"},
        {"    server: https://h\n", "    client-key-data: QQ==\n", "client key without its"},
        {"    server: https://h\n    certificate-authority-data: '%%%'\n", "    token: t\n",
         "is not base64"},
        {"    insecure-skip-tls-verify: false\n", "    token: t\n", "has no server"},
        {"    server: ftp://h\n", "    token: t\n", "must be an https:// URL"},
        {"    server: https://h\n    proxy-url: socks5://p:1080\n", "    token: t\n",
         "only http:// CONNECT proxies"},
        {"    server: https://h\n    certificate-authority: nofile.crt\n", "    token: t\n",
         "certificate-authority:"},
        {"    server: https://h\n",
         "    exec:\n      apiVersion: client.authentication.k8s.io/v1alpha1\n      command: x\n",
         "want client.authentication.k8s.io/v1 or v1beta1"},
        {"    server: https://h\n",
         "    exec:\n      apiVersion: client.authentication.k8s.io/v1\n      command: x\n",
         "interactiveMode must be set"},
        {"    server: https://h\n",
         "    exec:\n      apiVersion: client.authentication.k8s.io/v1\n      command: x\n"
         "      interactiveMode: Always\n",
         "needs a terminal"},
        {"    server: https://h\n",
         "    exec:\n      apiVersion: client.authentication.k8s.io/v1beta1\n", "has no command"},
        {"    server: https://h\n",
         "    exec:\n      apiVersion: client.authentication.k8s.io/v1beta1\n      command: x\n"
         "      env:\n      - {name: 'A=B', value: c}\n",
         "without '='"},
        {"    server: [https://h]\n", "    token: t\n", "server must be a string"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char doc[2048];
        struct kubeconfig k;
        doc_with(doc, sizeof doc, bad[i].cluster, bad[i].user);
        put("bad.yaml", doc, 0600);
        int r = load(at("bad.yaml"), NULL, NULL, &k);
        if (r != KUBECONFIG_ERROR || !strstr(err, bad[i].msg) || !strstr(err, "bad.yaml")) {
            printf("  case %zu: rc %d: %s\n", i, r, err);
            CHECK(0);
        }
        if (r == KUBECONFIG_LOADED) kubeconfig_free(&k);
    }
    /* not a kubeconfig, malformed YAML (the line is named), no current-context */
    struct kubeconfig k;
    put("bad.yaml", "- a\n- b\n", 0600);
    CHECK_EQ(load(at("bad.yaml"), NULL, NULL, &k), KUBECONFIG_ERROR);
    CHECK(strstr(err, "not a kubeconfig") != NULL);
    put("bad.yaml", "clusters:\n- name: a\n  cluster: &x {}\n", 0600);
    CHECK_EQ(load(at("bad.yaml"), NULL, NULL, &k), KUBECONFIG_ERROR);
    CHECK(strstr(err, "bad.yaml: line 3: anchors") != NULL);
    put("bad.yaml", "clusters: []\n", 0600);
    CHECK_EQ(load(at("bad.yaml"), NULL, NULL, &k), KUBECONFIG_ERROR);
    CHECK(strstr(err, "no current-context: pass --context") != NULL);
}

TEST(exec_fields)
{
    struct kubeconfig k;
    char doc[2048];
    doc_with(doc, sizeof doc, "    server: https://h\n",
             "    exec:\n"
             "      apiVersion: client.authentication.k8s.io/v1beta1\n"
             "      command: ./bin/plugin\n"
             "      args: [\"get-token\", \"--cluster\", \"prod\"]\n"
             "      env:\n"
             "      - name: AWS_PROFILE\n"
             "        value: prod\n"
             "      installHint: |\n"
             "        install it\n"
             "        from the vendor\n");
    put("exec.yaml", doc, 0600);
    CHECK_EQ(load(at("exec.yaml"), NULL, NULL, &k), KUBECONFIG_LOADED);
    CHECK(k.has_exec);
    CHECK_STR(k.exec.command, at("./bin/plugin"));
    CHECK_STR(k.exec.argv[0], k.exec.command);
    CHECK_STR(k.exec.argv[3], "prod");
    CHECK(k.exec.argv[4] == NULL);
    CHECK_STR(k.exec.env[0], "AWS_PROFILE=prod");
    CHECK_STR(k.exec.install_hint, "install it\nfrom the vendor\n");
    kubeconfig_free(&k);
    /* a bare command stays a PATH name */
    doc_with(doc, sizeof doc, "    server: https://h\n",
             "    exec:\n      apiVersion: client.authentication.k8s.io/v1\n"
             "      command: aws\n      interactiveMode: Never\n");
    put("exec.yaml", doc, 0600);
    CHECK_EQ(load(at("exec.yaml"), NULL, NULL, &k), KUBECONFIG_LOADED);
    CHECK_STR(k.exec.command, "aws");
    kubeconfig_free(&k);
}

/* As `aws eks update-kubeconfig` and `gcloud container clusters
 * get-credentials` write them (names with colons, env: null, long hints). */
TEST(eks_and_gke_shapes)
{
    struct kubeconfig k;
    put("eks.yaml",
        "apiVersion: v1\n"
        "clusters:\n"
        "- cluster:\n"
        "    certificate-authority-data: " CA_B64 "\n"
        "    server: https://ABCD.gr7.us-east-1.eks.amazonaws.com\n"
        "  name: arn:aws:eks:us-east-1:123456789012:cluster/prod\n"
        "contexts:\n"
        "- context:\n"
        "    cluster: arn:aws:eks:us-east-1:123456789012:cluster/prod\n"
        "    user: arn:aws:eks:us-east-1:123456789012:cluster/prod\n"
        "  name: arn:aws:eks:us-east-1:123456789012:cluster/prod\n"
        "current-context: arn:aws:eks:us-east-1:123456789012:cluster/prod\n"
        "kind: Config\n"
        "preferences: {}\n"
        "users:\n"
        "- name: arn:aws:eks:us-east-1:123456789012:cluster/prod\n"
        "  user:\n"
        "    exec:\n"
        "      apiVersion: client.authentication.k8s.io/v1beta1\n"
        "      args:\n"
        "      - --region\n"
        "      - us-east-1\n"
        "      - eks\n"
        "      - get-token\n"
        "      - --cluster-name\n"
        "      - prod\n"
        "      command: aws\n"
        "      env: null\n"
        "      interactiveMode: IfAvailable\n"
        "      provideClusterInfo: false\n",
        0600);
    CHECK_EQ(load(at("eks.yaml"), NULL, NULL, &k), KUBECONFIG_LOADED);
    CHECK_STR(k.exec.command, "aws");
    CHECK_STR(k.exec.argv[6], "prod");
    CHECK(k.exec.env[0] == NULL);
    kubeconfig_free(&k);
    put("gke.yaml",
        "apiVersion: v1\n"
        "clusters:\n"
        "- cluster:\n"
        "    certificate-authority-data: " CA_B64 "\n"
        "    server: https://34.118.1.2\n"
        "  name: gke_proj_europe-west1_prod\n"
        "contexts:\n"
        "- context:\n"
        "    cluster: gke_proj_europe-west1_prod\n"
        "    user: gke_proj_europe-west1_prod\n"
        "  name: gke_proj_europe-west1_prod\n"
        "current-context: gke_proj_europe-west1_prod\n"
        "kind: Config\n"
        "preferences: {}\n"
        "users:\n"
        "- name: gke_proj_europe-west1_prod\n"
        "  user:\n"
        "    exec:\n"
        "      apiVersion: client.authentication.k8s.io/v1beta1\n"
        "      command: gke-gcloud-auth-plugin\n"
        "      installHint: Install gke-gcloud-auth-plugin for use with kubectl by following\n"
        "        "
        "https://cloud.google.com/kubernetes-engine/docs/how-to/"
        "cluster-access-for-kubectl#install_plugin\n"
        "      provideClusterInfo: true\n",
        0600);
    CHECK_EQ(load(at("gke.yaml"), NULL, NULL, &k), KUBECONFIG_LOADED);
    if (err[0]) printf("  %s\n", err);
    CHECK(k.exec.install_hint && strstr(k.exec.install_hint, "following https://cloud.google"));
    kubeconfig_free(&k);
}

TEST(exec_args_limit)
{
    struct kubeconfig k;
    static char doc[8192], user[6000];
    for (int extra = 0; extra < 2; extra++) {
        char *q = user;
        q += sprintf(q, "    exec:\n      apiVersion: client.authentication.k8s.io/v1beta1\n"
                        "      command: x\n      args:\n");
        for (int i = 0; i < KUBECONFIG_MAX_ARGS + extra; i++) q += sprintf(q, "      - a%d\n", i);
        doc_with(doc, sizeof doc, "    server: https://h\n", user);
        put("args.yaml", doc, 0600);
        int r = load(at("args.yaml"), NULL, NULL, &k);
        CHECK_EQ(r, extra ? KUBECONFIG_ERROR : KUBECONFIG_LOADED);
        if (r == KUBECONFIG_LOADED) {
            CHECK(k.exec.argv[KUBECONFIG_MAX_ARGS] != NULL);
            kubeconfig_free(&k);
        } else {
            CHECK(strstr(err, "more than 64 exec args") != NULL);
        }
    }
}

TEST(file_count_limit)
{
    char env[KUBECONFIG_MAX_FILES * 80 + 100] = "", name[32];
    struct kubeconfig k;
    for (int i = 0; i <= KUBECONFIG_MAX_FILES; i++) {
        snprintf(name, sizeof name, "f%d.yaml", i);
        put(name, i == 0 ? kubeadm : "{}\n", 0600);
        if (i == KUBECONFIG_MAX_FILES) {
            CHECK_EQ(load(NULL, env, NULL, &k), KUBECONFIG_LOADED);
            kubeconfig_free(&k);
        }
        strcat(env, i ? ":" : "");
        strcat(env, at(name));
    }
    CHECK_EQ(load(NULL, env, NULL, &k), KUBECONFIG_ERROR);
    CHECK(strstr(err, "more than 16 files") != NULL);
}

TEST(base64)
{
    size_t n;
    char *p = kubeconfig_b64decode("aGVs\nbG8=", 9, &n);
    CHECK(p && n == 5 && strcmp(p, "hello") == 0);
    free(p);
    p = kubeconfig_b64decode("aGVsbG8", 7, &n); /* unpadded */
    CHECK(p && n == 5);
    free(p);
    CHECK(kubeconfig_b64decode("aGVsbG8=x", 9, &n) == NULL);
    CHECK(kubeconfig_b64decode("a", 1, &n) == NULL);
    CHECK(kubeconfig_b64decode("aGVsbG9=", 8, &n) == NULL); /* stray low bits */
    CHECK(kubeconfig_b64decode("a-b_", 4, &n) == NULL);
    p = kubeconfig_b64decode("", 0, &n);
    CHECK(p && n == 0);
    free(p);
}

/* ---- ExecCredential ---- */

TEST(time_parse)
{
    CHECK_EQ(execcred_time("1970-01-01T00:00:00Z"), 0);
    CHECK_EQ(execcred_time("2026-11-30T10:00:00Z"), 1796032800LL);
    CHECK_EQ(execcred_time("2026-11-30T10:00:00.123456Z"), 1796032800LL);
    CHECK_EQ(execcred_time("2026-11-30T11:30:00+01:30"), 1796032800LL);
    CHECK_EQ(execcred_time("2026-11-30T08:00:00-02:00"), 1796032800LL);
    static const char *bad[] = {"",
                                "2026-11-30",
                                "2026-11-30T10:00:00",
                                "2026-13-30T10:00:00Z",
                                "2026-11-30T24:00:00Z",
                                "2026-11-30 10:00:00Z",
                                "2026-11-30T10:00:00.Z",
                                "2026-11-30T10:00:00Zx",
                                "2026-11-30T10:00:00+0100"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) CHECK_EQ(execcred_time(bad[i]), -1);
}

#define V1 "client.authentication.k8s.io/v1"

static int answer(const char *json, struct execcred *c)
{
    err[0] = 0;
    return execcred_parse(json, strlen(json), V1, 1796032800LL, c, err, sizeof err);
}

TEST(answers)
{
    struct execcred c;
    CHECK_EQ(answer("{\"apiVersion\":\"" V1 "\",\"kind\":\"ExecCredential\",\"status\":"
                    "{\"token\":\"abc\",\"expirationTimestamp\":\"2026-11-30T10:00:01Z\"}}",
                    &c),
             0);
    CHECK_STR(c.token, "abc");
    CHECK_EQ(c.expires, 1796032801LL);
    execcred_free(&c);
    CHECK_EQ(answer("{\"apiVersion\":\"" V1 "\",\"kind\":\"ExecCredential\",\"status\":"
                    "{\"clientCertificateData\":\"C\\n\",\"clientKeyData\":\"K\\n\"}}",
                    &c),
             0);
    CHECK(c.token == NULL && strcmp(c.cert_pem, "C\n") == 0 && c.key_len == 2);
    execcred_free(&c);
    static const struct {
        const char *json, *msg;
    } bad[] = {
        {"{\"apiVersion\":\"" V1 "\",\"kind\":\"ExecCredential\",\"status\":{\"token\":\"a\","
         "\"expirationTimestamp\":\"2026-11-30T10:00:00Z\"}}",
         "expired credential"},
        {"{\"apiVersion\":\"" V1 "\",\"kind\":\"ExecCredential\",\"status\":{\"token\":\"a\","
         "\"expirationTimestamp\":\"soon\"}}",
         "not RFC 3339"},
        {"{\"apiVersion\":\"" V1
         "beta1\",\"kind\":\"ExecCredential\",\"status\":{\"token\":\"a\"}}",
         "answered apiVersion"},
        {"{\"apiVersion\":\"" V1 "\",\"kind\":\"Other\"}", "not an ExecCredential"},
        {"{\"apiVersion\":\"" V1 "\",\"kind\":\"ExecCredential\",\"status\":{}}", "neither"},
        {"{\"apiVersion\":\"" V1 "\",\"kind\":\"ExecCredential\",\"status\":"
         "{\"clientKeyData\":\"K\"}}",
         "without the other"},
        {"{\"apiVersion\": ", "not JSON"},
        {"", "not an ExecCredential"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (answer(bad[i].json, &c) != -1 || !strstr(err, bad[i].msg)) {
            printf("  case %zu: %s\n", i, err);
            CHECK(0);
        }
        CHECK(c.token == NULL && c.cert_pem == NULL);
    }
}

static struct kubeconfig_exec e;

static void plugin(const char *script, const char *hint)
{
    static char arg[] = "arg-one", env[] = "PLUGIN_TOKEN=from-env";
    memset(&e, 0, sizeof e);
    snprintf(e.command, sizeof e.command, "%s", script);
    e.argv[0] = e.command;
    e.argv[1] = arg;
    e.env[0] = env;
    snprintf(e.api_version, sizeof e.api_version, "%s", V1);
    e.install_hint = (char *)hint;
}

TEST(plugins_run)
{
    struct execcred c;
    put("tok.sh",
        "#!/bin/sh\n"
        "[ \"$1\" = arg-one ] || exit 3\n"
        "[ -z \"$SLACK_SIGNING_SECRET\" ] || exit 5\n"
        "case \"$KUBERNETES_EXEC_INFO\" in *'\"interactive\":false'*) ;; *) exit 4;; esac\n"
        "printf '{\"apiVersion\":\"%s\",\"kind\":\"ExecCredential\",\"status\":{\"token\":\"%s\"}}'"
        " client.authentication.k8s.io/v1 \"$PLUGIN_TOKEN\"\n",
        0700);
    plugin(at("tok.sh"), NULL);
    setenv("SLACK_SIGNING_SECRET", "never-for-plugins", 1);
    CHECK_EQ(execcred_run(&e, 10, &c, err, sizeof err), 0);
    unsetenv("SLACK_SIGNING_SECRET");
    CHECK_STR(c.token, "from-env");
    execcred_free(&c);

    put("fail.sh", "#!/bin/sh\nexit 2\n", 0700);
    plugin(at("fail.sh"), NULL);
    CHECK_EQ(execcred_run(&e, 10, &c, err, sizeof err), -1);
    CHECK(strstr(err, "failed (exit status 2)") != NULL);

    plugin("no-such-plugin-x", "install it with:\n  apt-get install x");
    CHECK_EQ(execcred_run(&e, 10, &c, err, sizeof err), -1);
    CHECK(strstr(err, "executable no-such-plugin-x not found (install it with:   apt-get") != NULL);
    CHECK(strchr(err, '\n') == NULL);

    put("noexec.sh", "#!/bin/sh\n", 0600);
    plugin(at("noexec.sh"), NULL);
    CHECK_EQ(execcred_run(&e, 10, &c, err, sizeof err), -1);
    CHECK(strstr(err, "cannot run it: Permission denied") != NULL);

    put("slow.sh", "#!/bin/sh\nexec sleep 30\n", 0700);
    plugin(at("slow.sh"), NULL);
    CHECK_EQ(execcred_run(&e, 1, &c, err, sizeof err), -1);
    CHECK(strstr(err, "did not answer within 1 s") != NULL);

    put("big.sh", "#!/bin/sh\nexec head -c 1048577 /dev/zero\n", 0700);
    plugin(at("big.sh"), NULL);
    CHECK_EQ(execcred_run(&e, 10, &c, err, sizeof err), -1);
    CHECK(strstr(err, "more than 1048576 bytes") != NULL);

    put("garbage.sh", "#!/bin/sh\necho not json at all: [\n", 0700);
    plugin(at("garbage.sh"), NULL);
    CHECK_EQ(execcred_run(&e, 10, &c, err, sizeof err), -1);
    CHECK(strstr(err, "not JSON") != NULL);
}

TEST(fill_replaces_credentials)
{
    struct kubeconfig k;
    char doc[2048];
    doc_with(doc, sizeof doc, "    server: https://h\n",
             "    exec:\n      apiVersion: client.authentication.k8s.io/v1\n"
             "      command: ./tok.sh\n      args: [arg-one]\n      interactiveMode: Never\n"
             "      env: [{name: PLUGIN_TOKEN, value: t2}]\n");
    put("fill.yaml", doc, 0600);
    CHECK_EQ(load(at("fill.yaml"), NULL, NULL, &k), KUBECONFIG_LOADED);
    CHECK(k.token == NULL);
    CHECK_EQ(execcred_fill(&k, err, sizeof err), 0);
    CHECK_STR(k.token, "t2");
    kubeconfig_free(&k);
}

int main(void)
{
    snprintf(dir, sizeof dir, "/tmp/test_kubeconfig.%d", (int)getpid());
    if (mkdir(dir, 0700) < 0) return 1;
    RUN(kubeadm_client_cert_data);
    RUN(files_relative_to_the_kubeconfig);
    RUN(merged_list_first_wins);
    RUN(which_source);
    RUN(refusals_say_what_to_do);
    RUN(exec_fields);
    RUN(eks_and_gke_shapes);
    RUN(exec_args_limit);
    RUN(file_count_limit);
    RUN(base64);
    RUN(time_parse);
    RUN(answers);
    RUN(plugins_run);
    RUN(fill_replaces_credentials);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (strncmp(dir, "/tmp/test_kubeconfig.", 21) == 0 && system(cmd) != 0) return 1;
    return t_done();
}
