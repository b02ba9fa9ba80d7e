/* config_load from the environment (set and unset inside each test), in
 * CONFIG_SERVE and CONFIG_CLI modes: defaults, every variable's bounds and
 * malformed values, the secret never in err nor in config_describe output;
 * config_parse_addr forms; the namespace and team lists. */
#include "t.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <netinet/in.h>

#include "config.h"
#include "json.h"

#define SECRET "S3cr3t-8f742231b10e8888abcd99yy"
#define TOKEN "LegacyTok-xyzzy-0123"
#define PROXY_PW "pr0xyPassw0rd"

static const char *vars[] = {
    "LISTEN_ADDR",
    "MAX_CONNS",
    "HEADER_TIMEOUT",
    "KEEPALIVE_TIMEOUT",
    "SHUTDOWN_GRACE",
    "MAX_JOBS",
    "ROLLOUT_TIMEOUT",
    "JOB_TIMEOUT",
    "PROGRESS_AFTER",
    "SLACK_SIGNING_SECRET",
    "SLACK_SIGNING_SECRET_FILE",
    "SLACK_VERIFICATION_TOKEN",
    "SLACK_TEAM_ID",
    "SLACK_CA_FILE",
    "RESPONSE_URL_HOSTS",
    "IMAGE_BASE",
    "ECR_BASE",
    "DEPLOY_NAMESPACE",
    "DEPLOY_NAMESPACES",
    "DEPLOY_POLICY_FILE",
    "KUBE_API_URL",
    "KUBERNETES_SERVICE_HOST",
    "KUBERNETES_SERVICE_PORT",
    "KUBE_TOKEN_FILE",
    "KUBE_CA_FILE",
    "KUBE_TLS_SERVER_NAME",
    "HTTPS_PROXY",
    "TRUSTED_PROXIES",
    "https_proxy",
    "NO_PROXY",
    "no_proxy",
    "SLACK_APP_TOKEN",
    "SLACK_APP_TOKEN_FILE",
    "SLACK_API_URL",
    "SOCKET_MODE_CONNECTIONS",
};

static struct config C;
static char err[256];

/* Every variable unset, then the minimum that serves. */
static void base(void)
{
    for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++) unsetenv(vars[i]);
    setenv("SLACK_SIGNING_SECRET", SECRET, 1);
    setenv("IMAGE_BASE", "123456789.dkr.ecr.us-east-1.amazonaws.com", 1);
    setenv("KUBE_API_URL", "https://10.0.0.1:443", 1);
}

/* config_load into C; the strings a previous load allocated are freed first
 * (config has no free function; the last ones stay reachable from C). */
static int load(enum config_mode mode)
{
    free(C.signing_secret);
    free(C.verification_token);
    free(C.app_token);
    C.signing_secret = C.verification_token = C.app_token = NULL;
    memset(err, 0, sizeof err);
    int rc = config_load(&C, mode, err, sizeof err);
    if (strstr(err, SECRET) || strstr(err, TOKEN) || strstr(err, PROXY_PW)) {
        printf("    secret in err: %s\n", err);
        rc = -99;
    }
    return rc;
}

/* 1 when err starts with "var:" (the line names the variable first). */
static int names(const char *var)
{
    size_t n = strlen(var);
    return strncmp(err, var, n) == 0 && err[n] == ':';
}

/* With var set to value (on top of base()), loading fails naming var. */
static int refused(enum config_mode mode, const char *var, const char *value)
{
    base();
    setenv(var, value, 1);
    int rc = load(mode);
    if (rc != -1 || !names(var)) {
        printf("    %s=\"%s\": rc %d, err \"%s\"\n", var, value, rc, err);
        return 0;
    }
    return 1;
}

static int accepted(enum config_mode mode, const char *var, const char *value)
{
    base();
    setenv(var, value, 1);
    int rc = load(mode);
    if (rc != 0) printf("    %s=\"%s\": rc %d, err \"%s\"\n", var, value, rc, err);
    return rc == 0;
}

static int port_of(const struct sockaddr_storage *ss)
{
    if (ss->ss_family == AF_INET) return ntohs(((const struct sockaddr_in *)ss)->sin_port);
    return ntohs(((const struct sockaddr_in6 *)ss)->sin6_port);
}

TEST(defaults_serve)
{
    base();
    CHECK_EQ(load(CONFIG_SERVE), 0);
    CHECK_STR(C.listen_addr, "0.0.0.0:5000");
    CHECK_EQ(C.listen.ss_family, AF_INET);
    CHECK_EQ(C.listen_len, sizeof(struct sockaddr_in));
    CHECK_EQ(port_of(&C.listen), 5000);
    CHECK_EQ(((struct sockaddr_in *)&C.listen)->sin_addr.s_addr, htonl(INADDR_ANY));
    CHECK_EQ(C.max_conns, CONN_MAX_DEFAULT);
    CHECK_EQ(C.header_timeout, HEADER_TIMEOUT_DEFAULT);
    CHECK_EQ(C.keepalive_timeout, KEEPALIVE_TIMEOUT_DEFAULT);
    CHECK_EQ(C.shutdown_grace, SHUTDOWN_GRACE_DEFAULT);
    CHECK_EQ(C.max_jobs, MAX_JOBS_DEFAULT);
    CHECK_EQ(C.rollout_timeout, 0); /* derived from the deployment */
    CHECK_EQ(C.job_timeout, ROLLOUT_TIMEOUT_MAX + JOB_DEADLINE_SLACK);
    CHECK_EQ(C.signing_secret_len, strlen(SECRET));
    CHECK(C.signing_secret && strcmp(C.signing_secret, SECRET) == 0);
    CHECK(C.verification_token == NULL);
    CHECK_EQ(C.nteam_ids, 0);
    CHECK_STR(C.slack_ca_file, "/etc/ssl/certs/ca-certificates.crt");
    CHECK_STR(C.response_url_hosts, "hooks.slack.com");
    CHECK_STR(C.image_base, "123456789.dkr.ecr.us-east-1.amazonaws.com");
    CHECK_STR(C.default_ns, "default");
    CHECK_EQ(C.nnamespaces, 1);
    CHECK_STR(C.namespaces[0], "default");
    CHECK_STR(C.policy_file, "");
    CHECK_STR(C.kube_api_url, "https://10.0.0.1:443");
    CHECK_STR(C.kube_token_file, "/var/run/secrets/kubernetes.io/serviceaccount/token");
    CHECK_STR(C.kube_ca_file, "/var/run/secrets/kubernetes.io/serviceaccount/ca.crt");
    CHECK_STR(C.kube_server_name, "");
    CHECK_STR(C.https_proxy, "");
    CHECK_STR(C.no_proxy, "");
}

TEST(values_read)
{
    base();
    setenv("SLACK_VERIFICATION_TOKEN", TOKEN, 1);
    setenv("SLACK_CA_FILE", "/ca/slack.pem", 1);
    setenv("RESPONSE_URL_HOSTS", "127.0.0.1:8443,hooks.slack.com", 1);
    setenv("DEPLOY_POLICY_FILE", "/etc/deploy/policy", 1);
    setenv("KUBE_TOKEN_FILE", "/t", 1);
    setenv("KUBE_CA_FILE", "/c", 1);
    setenv("KUBE_TLS_SERVER_NAME", "kubernetes.default.svc", 1);
    setenv("NO_PROXY", "10.0.0.0/8,.svc", 1);
    setenv("MAX_JOBS", "3", 1);
    CHECK_EQ(load(CONFIG_SERVE), 0);
    CHECK(C.verification_token && strcmp(C.verification_token, TOKEN) == 0);
    CHECK_STR(C.slack_ca_file, "/ca/slack.pem");
    CHECK_STR(C.response_url_hosts, "127.0.0.1:8443,hooks.slack.com");
    CHECK_STR(C.policy_file, "/etc/deploy/policy");
    CHECK_STR(C.kube_token_file, "/t");
    CHECK_STR(C.kube_ca_file, "/c");
    CHECK_STR(C.kube_server_name, "kubernetes.default.svc");
    CHECK_STR(C.no_proxy, "10.0.0.0/8,.svc");
    CHECK_EQ(C.max_jobs, 3);
    /* An empty variable counts as unset. */
    base();
    setenv("MAX_JOBS", "", 1);
    setenv("DEPLOY_NAMESPACE", "", 1);
    CHECK_EQ(load(CONFIG_SERVE), 0);
    CHECK_EQ(C.max_jobs, MAX_JOBS_DEFAULT);
    CHECK_STR(C.default_ns, "default");
    /* Lowercase proxy names are read too. */
    base();
    setenv("https_proxy", "http://proxy:3128", 1);
    setenv("no_proxy", "localhost", 1);
    CHECK_EQ(load(CONFIG_SERVE), 0);
    CHECK_STR(C.https_proxy, "http://proxy:3128");
    CHECK_STR(C.no_proxy, "localhost");
}

TEST(required_to_serve)
{
    base();
    unsetenv("SLACK_SIGNING_SECRET");
    CHECK_EQ(load(CONFIG_SERVE), -1);
    CHECK(names("SLACK_SIGNING_SECRET"));
    base();
    unsetenv("IMAGE_BASE"); /* optional: any repository the container already runs */
    CHECK_EQ(load(CONFIG_SERVE), 0);
    CHECK_STR(C.image_base, "");
    base();
    unsetenv("KUBE_API_URL"); /* and not in a cluster: the kubeconfig decides (kubesrc) */
    CHECK_EQ(load(CONFIG_SERVE), 0);
    CHECK_STR(C.kube_api_url, "");
    /* The CLI needs only the API server. */
    base();
    unsetenv("SLACK_SIGNING_SECRET");
    unsetenv("IMAGE_BASE");
    CHECK_EQ(load(CONFIG_CLI), 0);
    CHECK_EQ(C.signing_secret_len, 0);
    CHECK_STR(C.image_base, "");
    unsetenv("KUBE_API_URL");
    CHECK_EQ(load(CONFIG_CLI), 0);
    CHECK_STR(C.kube_api_url, "");
}

TEST(secret_length)
{
    CHECK(refused(CONFIG_SERVE, "SLACK_SIGNING_SECRET", "0123456789abcde")); /* 15 */
    CHECK(strstr(err, "0123456789abcde") == NULL);
    CHECK(accepted(CONFIG_SERVE, "SLACK_SIGNING_SECRET", "0123456789abcdef")); /* 16 */
    CHECK_EQ(C.signing_secret_len, 16);
    CHECK(accepted(CONFIG_CLI, "SLACK_SIGNING_SECRET", "short"));
}

TEST(integers)
{
    static const struct {
        const char *var;
        long lo, hi;
    } ints[] = {
        {"MAX_CONNS", 4, 65536},
        {"HEADER_TIMEOUT", 1, 3600},
        {"KEEPALIVE_TIMEOUT", 1, 3600},
        {"SHUTDOWN_GRACE", 0, 3600},
        {"MAX_JOBS", 1, MAX_JOBS_LIMIT},
        {"ROLLOUT_TIMEOUT", 0, ROLLOUT_TIMEOUT_MAX},
        {"JOB_TIMEOUT", 0, JOB_TIMEOUT_MAX},
        {"PROGRESS_AFTER", 0, PROGRESS_AFTER_MAX}, /* issue 9 */
    };
    for (size_t i = 0; i < sizeof ints / sizeof ints[0]; i++) {
        const char *v = ints[i].var;
        char b[32];
        snprintf(b, sizeof b, "%ld", ints[i].lo);
        CHECK(accepted(CONFIG_SERVE, v, b));
        snprintf(b, sizeof b, "%ld", ints[i].hi);
        CHECK(accepted(CONFIG_SERVE, v, b));
        if (ints[i].lo > 0) {
            snprintf(b, sizeof b, "%ld", ints[i].lo - 1);
            CHECK(refused(CONFIG_SERVE, v, b));
        }
        snprintf(b, sizeof b, "%ld", ints[i].hi + 1);
        CHECK(refused(CONFIG_SERVE, v, b));
        CHECK(refused(CONFIG_SERVE, v, "-1"));
        CHECK(refused(CONFIG_SERVE, v, "abc"));
        CHECK(refused(CONFIG_SERVE, v, "12x"));
        CHECK(refused(CONFIG_SERVE, v, " 5"));
        CHECK(refused(CONFIG_SERVE, v, "5 "));
        CHECK(refused(CONFIG_SERVE, v, "+5"));
        CHECK(refused(CONFIG_SERVE, v, "1e3"));
        CHECK(refused(CONFIG_SERVE, v, "99999999999999999999999"));
        CHECK(refused(CONFIG_SERVE, v, "4294967301")); /* 2^32 + 5: no truncation to int */
    }
    CHECK(accepted(CONFIG_SERVE, "MAX_JOBS", "256"));
    CHECK_EQ(C.max_jobs, 256);
    CHECK(accepted(CONFIG_SERVE, "PROGRESS_AFTER", "7"));
    CHECK_EQ(C.progress_after, 7);
    base(); /* unset: 30 s */
    CHECK_EQ(load(CONFIG_SERVE), 0);
    CHECK_EQ(C.progress_after, 30);
    CHECK(accepted(CONFIG_SERVE, "SHUTDOWN_GRACE", "0"));
    CHECK_EQ(C.shutdown_grace, 0);
}

TEST(listen_addr_forms)
{
    CHECK(accepted(CONFIG_SERVE, "LISTEN_ADDR", "0.0.0.0:5000"));
    CHECK_EQ(C.listen.ss_family, AF_INET);
    CHECK_EQ(port_of(&C.listen), 5000);
    CHECK(accepted(CONFIG_SERVE, "LISTEN_ADDR", "[::]:5000"));
    CHECK_EQ(C.listen.ss_family, AF_INET6);
    CHECK_EQ(C.listen_len, sizeof(struct sockaddr_in6));
    CHECK_EQ(port_of(&C.listen), 5000);
    CHECK(memcmp(&((struct sockaddr_in6 *)&C.listen)->sin6_addr, &in6addr_any, 16) == 0);
    CHECK(accepted(CONFIG_SERVE, "LISTEN_ADDR", "127.0.0.1:0"));
    CHECK_EQ(C.listen.ss_family, AF_INET);
    CHECK_EQ(port_of(&C.listen), 0);
    CHECK_EQ(((struct sockaddr_in *)&C.listen)->sin_addr.s_addr, htonl(INADDR_LOOPBACK));
    CHECK(accepted(CONFIG_SERVE, "LISTEN_ADDR", ":5000"));
    CHECK_EQ(C.listen.ss_family, AF_INET);
    CHECK_EQ(((struct sockaddr_in *)&C.listen)->sin_addr.s_addr, htonl(INADDR_ANY));
    CHECK_EQ(port_of(&C.listen), 5000);
    CHECK(accepted(CONFIG_SERVE, "LISTEN_ADDR", "[::1]:65535"));
    CHECK_EQ(C.listen.ss_family, AF_INET6);
    CHECK_EQ(port_of(&C.listen), 65535);
    const char *bad[] = {
        "localhost:5000",
        "example.com:80",
        "127.0.0.1:65536",
        "127.0.0.1:99999",
        "127.0.0.1",
        "127.0.0.1:",
        "127.0.0.1:-1",
        "127.0.0.1:+80",
        "127.0.0.1:80 ",
        "127.0.0.1:0x50",
        "256.0.0.1:80",
        "1.2.3.4.5:80",
        "[::1]5000",
        "[::1]",
        "[::1:80",
        "[fe80::1%eth0]:80",
        "[::1]:",
        "[:::]:80",
        ":",
        "5000",
        "[zz]:80",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        CHECK(refused(CONFIG_SERVE, "LISTEN_ADDR", bad[i]));
    /* A value longer than the field. */
    char longv[300];
    memset(longv, '1', sizeof longv - 1);
    longv[sizeof longv - 1] = 0;
    CHECK(refused(CONFIG_SERVE, "LISTEN_ADDR", longv));
}

TEST(parse_addr_direct)
{
    struct sockaddr_storage ss;
    socklen_t len = 0;
    CHECK_EQ(config_parse_addr("10.1.2.3:8080", &ss, &len), 0);
    CHECK_EQ(ss.ss_family, AF_INET);
    CHECK_EQ(len, sizeof(struct sockaddr_in));
    CHECK_EQ(port_of(&ss), 8080);
    CHECK_EQ(((struct sockaddr_in *)&ss)->sin_addr.s_addr, htonl(0x0a010203));
    CHECK_EQ(config_parse_addr("[2001:db8::5]:443", &ss, &len), 0);
    CHECK_EQ(ss.ss_family, AF_INET6);
    CHECK_EQ(len, sizeof(struct sockaddr_in6));
    unsigned char want[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 5};
    CHECK(memcmp(&((struct sockaddr_in6 *)&ss)->sin6_addr, want, 16) == 0);
    CHECK_EQ(config_parse_addr("localhost:80", &ss, &len), -1);
    CHECK_EQ(config_parse_addr("", &ss, &len), -1);
    /* A host longer than the parser's buffer. */
    char longhost[200];
    memset(longhost, '1', sizeof longhost);
    memcpy(longhost + sizeof longhost - 4, ":80", 4);
    CHECK_EQ(config_parse_addr(longhost, &ss, &len), -1);
    longhost[0] = '[';
    memcpy(longhost + sizeof longhost - 5, "]:80", 5);
    CHECK_EQ(config_parse_addr(longhost, &ss, &len), -1);
}

/* "::1:5000" is ambiguous (address ::1:5000, or ::1 port 5000?): an IPv6
 * address must be bracketed, as the contract and the error message say. */
TEST(listen_addr_unbracketed_ipv6_refused)
{
    struct sockaddr_storage ss;
    socklen_t len;
    CHECK_EQ(config_parse_addr("::1:5000", &ss, &len), -1);
    CHECK_EQ(config_parse_addr("fe80::1:5000", &ss, &len), -1);
    CHECK(refused(CONFIG_SERVE, "LISTEN_ADDR", "::1:5000"));
}

/* Write content to a fresh temporary file; returns its path (static). */
static const char *tmpfile_with(const char *content, size_t n)
{
    static char path[64];
    snprintf(path, sizeof path, "/tmp/test_config.XXXXXX");
    int fd = mkstemp(path);
    if (fd < 0 || write(fd, content, n) != (ssize_t)n) abort();
    close(fd);
    return path;
}

TEST(secret_file)
{
    const char *p = tmpfile_with(SECRET "\n", sizeof SECRET);
    base();
    unsetenv("SLACK_SIGNING_SECRET");
    setenv("SLACK_SIGNING_SECRET_FILE", p, 1);
    CHECK_EQ(load(CONFIG_SERVE), 0);
    CHECK_EQ(C.signing_secret_len, strlen(SECRET));
    CHECK(C.signing_secret && strcmp(C.signing_secret, SECRET) == 0);
    unlink(p);
    /* CRLF stripped; inner bytes kept. */
    p = tmpfile_with("abc def 0123456789\r\n", 20);
    setenv("SLACK_SIGNING_SECRET_FILE", p, 1);
    CHECK_EQ(load(CONFIG_SERVE), 0);
    CHECK(C.signing_secret && strcmp(C.signing_secret, "abc def 0123456789") == 0);
    CHECK_EQ(C.signing_secret_len, 18);
    unlink(p);
    /* 1024 bytes is the bound; 1025 is refused. */
    char big[1025];
    memset(big, 'k', sizeof big);
    p = tmpfile_with(big, 1024);
    setenv("SLACK_SIGNING_SECRET_FILE", p, 1);
    CHECK_EQ(load(CONFIG_SERVE), 0);
    CHECK_EQ(C.signing_secret_len, 1024);
    unlink(p);
    p = tmpfile_with(big, 1025);
    setenv("SLACK_SIGNING_SECRET_FILE", p, 1);
    CHECK_EQ(load(CONFIG_SERVE), -1);
    CHECK(names("SLACK_SIGNING_SECRET_FILE"));
    CHECK(strstr(err, "kkkkkkkk") == NULL);
    unlink(p);
    /* Missing file. */
    setenv("SLACK_SIGNING_SECRET_FILE", "/nonexistent/secret", 1);
    CHECK_EQ(load(CONFIG_SERVE), -1);
    CHECK(names("SLACK_SIGNING_SECRET_FILE"));
    /* An empty (or newline-only) file holds no secret. */
    p = tmpfile_with("\n", 1);
    setenv("SLACK_SIGNING_SECRET_FILE", p, 1);
    CHECK_EQ(load(CONFIG_SERVE), -1);
    CHECK(strncmp(err, "SLACK_SIGNING_SECRET", 20) == 0);
    unlink(p);
    /* Both variables: refused, whichever would win. */
    p = tmpfile_with(SECRET, sizeof SECRET - 1);
    base();
    setenv("SLACK_SIGNING_SECRET_FILE", p, 1);
    CHECK_EQ(load(CONFIG_SERVE), -1);
    CHECK(names("SLACK_SIGNING_SECRET"));
    CHECK(strstr(err, "SLACK_SIGNING_SECRET_FILE") != NULL);
    CHECK_EQ(load(CONFIG_CLI), -1);
    unlink(p);
}

TEST(image_base)
{
    base();
    unsetenv("IMAGE_BASE");
    setenv("ECR_BASE", "1234.dkr.ecr.eu-west-1.amazonaws.com/team", 1);
    CHECK_EQ(load(CONFIG_SERVE), 0);
    CHECK_STR(C.image_base, "1234.dkr.ecr.eu-west-1.amazonaws.com/team");
    setenv("IMAGE_BASE", "registry.example.com//", 1); /* IMAGE_BASE wins; trailing '/' dropped */
    CHECK_EQ(load(CONFIG_SERVE), 0);
    CHECK_STR(C.image_base, "registry.example.com");
    CHECK(refused(CONFIG_SERVE, "IMAGE_BASE", "a b"));
    CHECK(refused(CONFIG_SERVE, "IMAGE_BASE", "reg/x@sha256"));
    CHECK(refused(CONFIG_SERVE, "IMAGE_BASE", "reg\"x"));
    CHECK(refused(CONFIG_SERVE, "IMAGE_BASE", "reg\\x"));
    CHECK(refused(CONFIG_SERVE, "IMAGE_BASE", "reg\tx"));
    CHECK(refused(CONFIG_SERVE, "IMAGE_BASE", "reg\x01x"));
    char longv[600];
    memset(longv, 'r', sizeof longv - 1);
    longv[sizeof longv - 1] = 0;
    CHECK(refused(CONFIG_SERVE, "IMAGE_BASE", longv));
    CHECK(accepted(CONFIG_SERVE, "IMAGE_BASE", "localhost:5000/team"));
    /* A comma list of prefixes, normalized; never a URL. */
    CHECK(accepted(CONFIG_SERVE, "IMAGE_BASE", " reg.example/a/ , ghcr.io/org,"));
    CHECK_STR(C.image_base, "reg.example/a,ghcr.io/org");
    CHECK(refused(CONFIG_SERVE, "IMAGE_BASE", "https://reg.example/team"));
    CHECK(refused(CONFIG_SERVE, "IMAGE_BASE", "reg.example,http://x"));
    CHECK(refused(CONFIG_SERVE, "IMAGE_BASE", "reg.example//team"));
    CHECK(refused(CONFIG_SERVE, "IMAGE_BASE", "/team"));
}

/* A malformed ECR_BASE is reported under the name the operator set. */
TEST(ecr_base_error_names_ecr_base)
{
    base();
    unsetenv("IMAGE_BASE");
    setenv("ECR_BASE", "bad base", 1);
    CHECK_EQ(load(CONFIG_SERVE), -1);
    CHECK(strstr(err, "ECR_BASE") != NULL);
}

TEST(namespaces)
{
    base();
    setenv("DEPLOY_NAMESPACE", "prod", 1);
    CHECK_EQ(load(CONFIG_SERVE), 0);
    CHECK_STR(C.default_ns, "prod");
    CHECK_EQ(C.nnamespaces, 1); /* DEPLOY_NAMESPACES defaults to DEPLOY_NAMESPACE */
    CHECK_STR(C.namespaces[0], "prod");
    CHECK(config_namespace_allowed(&C, "prod"));
    CHECK(!config_namespace_allowed(&C, "default"));
    CHECK(!config_namespace_allowed(&C, "pro"));
    CHECK(!config_namespace_allowed(&C, ""));

    setenv("DEPLOY_NAMESPACES", " staging, prod ,,dev-1,", 1);
    CHECK_EQ(load(CONFIG_SERVE), 0);
    CHECK_EQ(C.nnamespaces, 3);
    CHECK_STR(C.namespaces[0], "staging");
    CHECK_STR(C.namespaces[1], "prod");
    CHECK_STR(C.namespaces[2], "dev-1");
    CHECK(config_namespace_allowed(&C, "dev-1"));
    CHECK(!config_namespace_allowed(&C, "Prod"));
    CHECK(!config_namespace_allowed(&C, " prod"));

    CHECK(refused(CONFIG_SERVE, "DEPLOY_NAMESPACES", "prod,Staging"));
    CHECK(refused(CONFIG_SERVE, "DEPLOY_NAMESPACES", "-a"));
    CHECK(refused(CONFIG_SERVE, "DEPLOY_NAMESPACES", "a-"));
    CHECK(refused(CONFIG_SERVE, "DEPLOY_NAMESPACES", "a_b"));
    CHECK(refused(CONFIG_SERVE, "DEPLOY_NAMESPACES", "a.b"));
    CHECK(refused(CONFIG_SERVE, "DEPLOY_NAMESPACES", ", ,"));
    CHECK(refused(CONFIG_SERVE, "DEPLOY_NAMESPACE", "Prod"));
    CHECK(refused(CONFIG_SERVE, "DEPLOY_NAMESPACE", "a b"));
    CHECK(refused(CONFIG_SERVE, "DEPLOY_NAMESPACE", "-"));

    /* A label of 63 characters is the bound; 64 is refused. */
    char l[80];
    memset(l, 'n', 63);
    l[63] = 0;
    base();
    setenv("DEPLOY_NAMESPACE", l, 1);
    CHECK_EQ(load(CONFIG_SERVE), 0);
    CHECK(config_namespace_allowed(&C, l));
    l[63] = 'n';
    l[64] = 0;
    CHECK(refused(CONFIG_SERVE, "DEPLOY_NAMESPACES", l));
    CHECK(refused(CONFIG_SERVE, "DEPLOY_NAMESPACE", l));

    /* CONFIG_MAX_LIST entries, and one more. */
    char list[CONFIG_MAX_LIST * 8 + 16];
    size_t n = 0;
    for (int i = 0; i < CONFIG_MAX_LIST; i++)
        n += (size_t)snprintf(list + n, sizeof list - n, "%sns%d", i ? "," : "", i);
    base();
    setenv("DEPLOY_NAMESPACE", "ns0", 1);
    setenv("DEPLOY_NAMESPACES", list, 1);
    CHECK_EQ(load(CONFIG_SERVE), 0);
    CHECK_EQ(C.nnamespaces, CONFIG_MAX_LIST);
    CHECK(config_namespace_allowed(&C, "ns31"));
    snprintf(list + n, sizeof list - n, ",extra");
    setenv("DEPLOY_NAMESPACES", list, 1);
    CHECK_EQ(load(CONFIG_SERVE), -1);
    CHECK(names("DEPLOY_NAMESPACES"));

    /* DEPLOY_NAMESPACE must be one of DEPLOY_NAMESPACES. */
    base();
    setenv("DEPLOY_NAMESPACE", "default", 1);
    setenv("DEPLOY_NAMESPACES", "staging,prod", 1);
    CHECK_EQ(load(CONFIG_SERVE), -1);
    CHECK(names("DEPLOY_NAMESPACES"));
}

TEST(team_ids)
{
    base();
    CHECK_EQ(load(CONFIG_SERVE), 0);
    CHECK(config_team_allowed(&C, "T0001")); /* unset: every workspace */
    CHECK(config_team_allowed(&C, NULL));
    CHECK(accepted(CONFIG_SERVE, "SLACK_TEAM_ID", "T0001, E12AB"));
    CHECK_EQ(C.nteam_ids, 2);
    CHECK(config_team_allowed(&C, "T0001"));
    CHECK(config_team_allowed(&C, "E12AB"));
    CHECK(!config_team_allowed(&C, "T0002"));
    CHECK(!config_team_allowed(&C, "t0001"));
    CHECK(!config_team_allowed(&C, ""));
    CHECK(!config_team_allowed(&C, NULL));
    CHECK(refused(CONFIG_SERVE, "SLACK_TEAM_ID", "t0001"));
    CHECK(refused(CONFIG_SERVE, "SLACK_TEAM_ID", "X0001"));
    CHECK(refused(CONFIG_SERVE, "SLACK_TEAM_ID", "T"));
    CHECK(refused(CONFIG_SERVE, "SLACK_TEAM_ID", "T00-1"));
    CHECK(refused(CONFIG_SERVE, "SLACK_TEAM_ID", "T0001,T 2"));
    char id[40];
    id[0] = 'T';
    memset(id + 1, '1', SLACK_ID_MAX - 1);
    id[SLACK_ID_MAX] = 0;
    CHECK(accepted(CONFIG_SERVE, "SLACK_TEAM_ID", id)); /* SLACK_ID_MAX characters */
    id[SLACK_ID_MAX] = '1';
    id[SLACK_ID_MAX + 1] = 0;
    CHECK(refused(CONFIG_SERVE, "SLACK_TEAM_ID", id));
}

TEST(kube_api_url)
{
    base();
    unsetenv("KUBE_API_URL");
    setenv("KUBERNETES_SERVICE_HOST", "10.96.0.1", 1);
    setenv("KUBERNETES_SERVICE_PORT", "6443", 1);
    CHECK_EQ(load(CONFIG_SERVE), 0);
    CHECK_STR(C.kube_api_url, "https://10.96.0.1:6443");
    unsetenv("KUBERNETES_SERVICE_PORT");
    CHECK_EQ(load(CONFIG_CLI), 0);
    CHECK_STR(C.kube_api_url, "https://10.96.0.1:443");
    setenv("KUBERNETES_SERVICE_HOST", "fd00:10:96::1", 1);
    setenv("KUBERNETES_SERVICE_PORT", "443", 1);
    CHECK_EQ(load(CONFIG_SERVE), 0);
    CHECK_STR(C.kube_api_url, "https://[fd00:10:96::1]:443");
    setenv("KUBE_API_URL", "http://127.0.0.1:8001", 1); /* wins; kubectl proxy */
    CHECK_EQ(load(CONFIG_SERVE), 0);
    CHECK_STR(C.kube_api_url, "http://127.0.0.1:8001");
    CHECK(refused(CONFIG_SERVE, "KUBE_API_URL", "ftp://x"));
    CHECK(refused(CONFIG_SERVE, "KUBE_API_URL", "10.0.0.1:443"));
    CHECK(refused(CONFIG_SERVE, "KUBE_API_URL", "HTTPS//x"));
    char longv[600] = "https://";
    memset(longv + 8, 'h', sizeof longv - 9);
    longv[sizeof longv - 1] = 0;
    CHECK(refused(CONFIG_SERVE, "KUBE_API_URL", longv));
}

/* A non-numeric KUBERNETES_SERVICE_PORT must not make a URL like "https://h:abc". */
TEST(kube_service_port_checked)
{
    /* refused() starts from base(), which sets KUBE_API_URL: do it by hand. */
    const char *bad[] = {"https", "70000", "0"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        base();
        unsetenv("KUBE_API_URL");
        setenv("KUBERNETES_SERVICE_HOST", "10.96.0.1", 1);
        setenv("KUBERNETES_SERVICE_PORT", bad[i], 1);
        CHECK_EQ(load(CONFIG_SERVE), -1);
        CHECK(names("KUBERNETES_SERVICE_PORT"));
    }
    base();
    unsetenv("KUBE_API_URL");
    setenv("KUBERNETES_SERVICE_HOST", "10.96.0.1", 1);
    setenv("KUBERNETES_SERVICE_PORT", "6443", 1);
    CHECK_EQ(load(CONFIG_SERVE), 0);
    CHECK_STR(C.kube_api_url, "https://10.96.0.1:6443");
}

TEST(https_proxy)
{
    CHECK(accepted(CONFIG_SERVE, "HTTPS_PROXY", "http://proxy.internal:3128"));
    CHECK_STR(C.https_proxy, "http://proxy.internal:3128");
    CHECK(refused(CONFIG_SERVE, "HTTPS_PROXY", "https://proxy:3128"));
    CHECK(refused(CONFIG_SERVE, "HTTPS_PROXY", "proxy:3128"));
    CHECK(refused(CONFIG_SERVE, "HTTPS_PROXY", "socks5://proxy:1080"));
    CHECK(refused(CONFIG_SERVE, "HTTPS_PROXY", "https://user:" PROXY_PW "@proxy:3128"));
    /* Credentials would be accepted here and then fail every job: refused. */
    CHECK(refused(CONFIG_SERVE, "HTTPS_PROXY", "http://user:" PROXY_PW "@proxy:3128"));
    CHECK(refused(CONFIG_SERVE, "HTTPS_PROXY", "http://proxy:99999"));
    CHECK(refused(CONFIG_SERVE, "HTTPS_PROXY", "http://pro xy:3128"));
    base();
    setenv("https_proxy", "ftp://x", 1);
    CHECK_EQ(load(CONFIG_SERVE), -1);
    CHECK(strstr(err, "PROXY") != NULL);
}

/* Every error path with the secrets set: none of them in err (load() checks),
 * and config_describe shows only "set". */
TEST(secrets_never_shown)
{
    base();
    setenv("SLACK_VERIFICATION_TOKEN", TOKEN, 1);
    CHECK_EQ(load(CONFIG_SERVE), 0);
    char out[4096];
    struct jw w;
    jw_init(&w, out, sizeof out);
    jw_obj_begin(&w);
    config_describe(&C, &w);
    jw_obj_end(&w);
    long n = jw_finish(&w);
    CHECK(n > 0);
    CHECK(strstr(out, SECRET) == NULL);
    CHECK(strstr(out, TOKEN) == NULL);
    CHECK(strstr(out, PROXY_PW) == NULL);
    /* It is one valid JSON object with the effective values. */
    struct json_tok toks[128];
    struct json_doc d;
    CHECK(json_parse(&d, out, (size_t)n, toks, 128) > 0);
    CHECK(json_eq(&d, json_get(&d, 0, "slack_signing_secret"), "set"));
    CHECK(json_eq(&d, json_get(&d, 0, "slack_verification_token"), "set"));
    CHECK(json_eq(&d, json_get(&d, 0, "listen_addr"), "0.0.0.0:5000"));
    CHECK(json_eq(&d, json_get(&d, 0, "deploy_namespace"), "default"));
    /* One member per setting of the table. */
    for (size_t i = 0; i < config_nsettings; i++) {
        char key[64];
        size_t k = 0;
        for (; config_settings[i].name[k]; k++) key[k] = (char)tolower(config_settings[i].name[k]);
        key[k] = 0;
        CHECK(json_get(&d, 0, key) > 0);
    }
    CHECK_EQ(json_int_or(&d, json_get(&d, 0, "max_jobs"), -1), MAX_JOBS_DEFAULT);
    /* Unset secrets say so. */
    base();
    unsetenv("SLACK_SIGNING_SECRET");
    CHECK_EQ(load(CONFIG_CLI), 0);
    jw_init(&w, out, sizeof out);
    jw_obj_begin(&w);
    config_describe(&C, &w);
    jw_obj_end(&w);
    n = jw_finish(&w);
    CHECK(n > 0 && json_parse(&d, out, (size_t)n, toks, 128) > 0);
    CHECK(json_eq(&d, json_get(&d, 0, "slack_signing_secret"), "unset"));
    CHECK(json_eq(&d, json_get(&d, 0, "https_proxy"), ""));

    /* Error paths with the secrets in the environment. */
    static const char *const bad[][2] = {
        {"LISTEN_ADDR", "x"},      {"MAX_JOBS", "0"},
        {"SLACK_TEAM_ID", "bad"},  {"IMAGE_BASE", "a b"},
        {"DEPLOY_NAMESPACE", "A"}, {"DEPLOY_NAMESPACES", "A"},
        {"KUBE_API_URL", "ftp:"},  {"HTTPS_PROXY", "x" PROXY_PW},
        {"ROLLOUT_TIMEOUT", "x"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        base();
        setenv("SLACK_VERIFICATION_TOKEN", TOKEN, 1);
        setenv(bad[i][0], bad[i][1], 1);
        int rc = load(CONFIG_SERVE);
        if (rc != -1) printf("    %s=%s: rc %d\n", bad[i][0], bad[i][1], rc);
        CHECK_EQ(rc, -1); /* -99 when a secret leaked into err */
    }
    /* A refused signing secret is not echoed either. */
    base();
    setenv("SLACK_SIGNING_SECRET", "short-secret", 1);
    CHECK_EQ(load(CONFIG_SERVE), -1);
    CHECK(names("SLACK_SIGNING_SECRET"));
    CHECK(strstr(err, "short-") == NULL);
}

/* err is bounded by errlen: a tiny buffer right before an unmapped page. */
TEST(err_bounded)
{
    free(C.signing_secret);
    free(C.verification_token);
    base();
    setenv("LISTEN_ADDR", "bogus", 1);
    char *e = t_guard("zzzzzzzz", 8);
    CHECK_EQ(config_load(&C, CONFIG_SERVE, e, 8), -1);
    CHECK_EQ(strlen(e), 7);
    CHECK(strncmp(e, "LISTEN_", 7) == 0);
    t_unguard(e, 8);
    free(C.signing_secret);
    free(C.verification_token);
    free(C.app_token);
    C.signing_secret = C.verification_token = C.app_token = NULL;
}

/* Issue 12 item 9: each of these started a server that could never work. */
TEST(item9_unusable_settings_refused)
{
    CHECK(refused(CONFIG_SERVE, "KUBE_API_URL", "http://bad host:99999"));
    CHECK(refused(CONFIG_SERVE, "KUBE_API_URL", "https://h:99999"));
    CHECK(refused(CONFIG_SERVE, "RESPONSE_URL_HOSTS", "http://hooks.slack.com/"));
    CHECK(refused(CONFIG_SERVE, "RESPONSE_URL_HOSTS", "hooks.slack.com,hooks.slack.com/x"));
    CHECK(refused(CONFIG_SERVE, "RESPONSE_URL_HOSTS", " , "));
    CHECK(accepted(CONFIG_SERVE, "RESPONSE_URL_HOSTS", "hooks.slack.com, 127.0.0.1:8443,[::1]:9"));
    CHECK(refused(CONFIG_SERVE, "IMAGE_BASE", "https://123456789.dkr.ecr.us-east-1.amazonaws.com"));
    CHECK(refused(CONFIG_SERVE, "HTTPS_PROXY", "http://u:" PROXY_PW "@proxy:3128"));
    CHECK(accepted(CONFIG_SERVE, "TRUSTED_PROXIES", "10.0.0.0/8, fd00::/8,192.0.2.7"));
    CHECK_STR(C.trusted_proxies, "10.0.0.0/8, fd00::/8,192.0.2.7");
    CHECK(refused(CONFIG_SERVE, "TRUSTED_PROXIES", "10.0.0.0/33"));
    CHECK(refused(CONFIG_SERVE, "TRUSTED_PROXIES", "ingress-nginx"));
    /* ROLLOUT_TIMEOUT past 28 minutes leaves no time to post within the
     * 30 minutes a response_url lives. */
    CHECK(accepted(CONFIG_SERVE, "ROLLOUT_TIMEOUT", "1680"));
    CHECK(refused(CONFIG_SERVE, "ROLLOUT_TIMEOUT", "1681"));
    CHECK(refused(CONFIG_SERVE, "ROLLOUT_TIMEOUT", "1800"));
    /* JOB_TIMEOUT not longer than the rollout timeout. */
    base();
    setenv("ROLLOUT_TIMEOUT", "300", 1);
    setenv("JOB_TIMEOUT", "300", 1);
    CHECK_EQ(load(CONFIG_SERVE), -1);
    CHECK(names("JOB_TIMEOUT"));
    setenv("JOB_TIMEOUT", "301", 1);
    CHECK_EQ(load(CONFIG_SERVE), 0);
    CHECK_EQ(C.job_timeout, 301);
    unsetenv("JOB_TIMEOUT");
    CHECK_EQ(load(CONFIG_SERVE), 0);
    CHECK_EQ(C.job_timeout, 300 + JOB_DEADLINE_SLACK);
    CHECK_EQ(C.rollout_timeout, 300);
}

/* Read README.md's configuration table rows (from the repository root or
 * from test/unit); the number of rows, -1 when the file is not found. */
static int readme_rows(char rows[][512], int max)
{
    FILE *f = fopen("README.md", "r");
    if (!f) f = fopen("../../README.md", "r");
    if (!f) return -1;
    char line[1024];
    int n = 0, in = 0;
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = 0;
        if (strcmp(line, "| variable | default | meaning |") == 0) {
            in = 1;
            continue;
        }
        if (!in || strncmp(line, "|---", 4) == 0) continue;
        if (line[0] != '|') break;
        if (n < max) snprintf(rows[n], 512, "%s", line);
        n++;
    }
    fclose(f);
    return n;
}

/* README's configuration table is the settings table, row for row: a
 * setting added to one and not the other fails here (the expected rows are
 * printed, ready to paste). */
TEST(readme_table_is_the_settings_table)
{
    static char rows[64][512];
    int n = readme_rows(rows, 64);
    CHECK(n > 0);
    int same = n == (int)config_nsettings;
    for (size_t i = 0; same && i < config_nsettings; i++) {
        char want[512];
        CHECK(config_doc_row(&config_settings[i], want, sizeof want) > 0);
        same = strcmp(want, rows[i]) == 0;
    }
    if (!same) {
        printf("    README.md's configuration table should read:\n");
        for (size_t i = 0; i < config_nsettings; i++) {
            char want[512];
            config_doc_row(&config_settings[i], want, sizeof want);
            printf("%s\n", want);
        }
    }
    CHECK(same);
}

/* Socket Mode: the app token turns it on and makes the signing secret
 * optional; SOCKET_MODE_CONNECTIONS at its bounds and past them. */
TEST(socket_mode_settings)
{
    base();
    CHECK_EQ(load(CONFIG_SERVE), 0);
    CHECK(C.app_token == NULL);
    CHECK_STR(C.slack_api_url, "https://slack.com/api");
    CHECK_EQ(C.socket_connections, 2);
    unsetenv("SLACK_SIGNING_SECRET");
    setenv("SLACK_APP_TOKEN", "xapp-1-A0-1-abc", 1);
    setenv("SLACK_API_URL", "https://slack.test:8443/api//", 1);
    CHECK_EQ(load(CONFIG_SERVE), 0);
    CHECK_STR(C.app_token, "xapp-1-A0-1-abc");
    CHECK_EQ(C.signing_secret_len, 0);
    CHECK_STR(C.slack_api_url, "https://slack.test:8443/api");
    setenv("SLACK_APP_TOKEN", "xoxb-not-an-app-token", 1);
    CHECK_EQ(load(CONFIG_SERVE), -1);
    CHECK(names("SLACK_APP_TOKEN"));
    CHECK(strstr(err, "xoxb") == NULL);
    setenv("SLACK_APP_TOKEN", "xapp-1 with space", 1);
    CHECK_EQ(load(CONFIG_SERVE), -1);
    unsetenv("SLACK_APP_TOKEN");
    CHECK_EQ(load(CONFIG_SERVE), -1); /* neither secret nor token */
    CHECK(names("SLACK_SIGNING_SECRET"));
    CHECK(refused(CONFIG_SERVE, "SLACK_API_URL", "http://slack.com/api"));
    CHECK(accepted(CONFIG_SERVE, "SOCKET_MODE_CONNECTIONS", "1"));
    CHECK(accepted(CONFIG_SERVE, "SOCKET_MODE_CONNECTIONS", "8"));
    CHECK_EQ(C.socket_connections, SOCKET_CONNS_MAX);
    CHECK(refused(CONFIG_SERVE, "SOCKET_MODE_CONNECTIONS", "9"));
    CHECK(refused(CONFIG_SERVE, "SOCKET_MODE_CONNECTIONS", "0"));
    base();
}

int main(void)
{
    RUN(defaults_serve);
    RUN(values_read);
    RUN(required_to_serve);
    RUN(secret_length);
    RUN(integers);
    RUN(listen_addr_forms);
    RUN(parse_addr_direct);
    RUN(listen_addr_unbracketed_ipv6_refused);
    RUN(secret_file);
    RUN(image_base);
    RUN(ecr_base_error_names_ecr_base);
    RUN(namespaces);
    RUN(team_ids);
    RUN(kube_api_url);
    RUN(kube_service_port_checked);
    RUN(https_proxy);
    RUN(secrets_never_shown);
    RUN(err_bounded);
    RUN(item9_unusable_settings_refused);
    RUN(readme_table_is_the_settings_table);
    RUN(socket_mode_settings);
    return t_done();
}
