/* PEM → trust anchors, and live TLS/HTTP against python3 stand-ins
 * (test/unit/helpers/tls_fixture.py) with a throwaway CA made by openssl. */
#include "t.h"

#include "httpc.h"
#include "limits.h"
#include "tls.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>

/* Made once with openssl; only public parts. */
static const char rsa_ca[] = "-----BEGIN CERTIFICATE-----\n"
                             "MIIDGzCCAgOgAwIBAgIUAa758fdNxp8Uus1fqi4lAjXiW7EwDQYJKoZIhvcNAQEL\n"
                             "BQAwHTEbMBkGA1UEAwwSZGVwbG95LWFwaSB0ZXN0IENBMB4XDTI2MTEyNjIxMjI1\n"
                             "MVoXDTI2MTEyODIxMjI1MVowHTEbMBkGA1UEAwwSZGVwbG95LWFwaSB0ZXN0IENB\n"
                             "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAxjCo/IYCS7AyeiMp3Gok\n"
                             "VrQ/z0qC4lplcy10kGsUAx13+fEvIGUDgiK7aF7ZnuYP5dJjxbE8MdK3lBo/VO3j\n"
                             "vSyhph8r8xkg3YvYufekVW5SEjv9/QuulYqdpTI0K2klnKlUqWcCoVsDgzv+48CC\n"
                             "OuNzkd9MatM/6l9Gur3PEa4CSf8meKshSfynIEKQksJ2PDQfl7Nrh9fiaFGieBER\n"
                             "zlqs3HYF7jaLvGItrZkLbZ4WZz/C3BiPNiksfU4UM4LO4Hgug8OYrU9uKZQiubBB\n"
                             "aXxqSpi2EzBGQIdV1E3ZjJKJwQEbeq+cSavAdaUj2B89EReMESJLh7W+cqG26XO3\n"
                             "owIDAQABo1MwUTAdBgNVHQ4EFgQUt/YEk//xio+eKpEawgEwjxS29kYwHwYDVR0j\n"
                             "BBgwFoAUt/YEk//xio+eKpEawgEwjxS29kYwDwYDVR0TAQH/BAUwAwEB/zANBgkq\n"
                             "hkiG9w0BAQsFAAOCAQEAPgwqZ4EElCRv97YJK6AW3xL+q1b9Ci8buFx+/qIgz3K+\n"
                             "4JI7HaVIginjOc4vfd7NMngQ3PEZhc8BnSFA3rTNYiDHj8aaOLEl68fmCLRL1US7\n"
                             "LvAqbAlj5CDJ4YEteNj9YfbOWxGskoORPvYKUvEpilZaTt/rNx9dYzhJXJW2YPVl\n"
                             "xDrNtDVMHe443fwce/7OCt01k2INdXZoFq5hYszZ+Ca1f7CwyOf1ZO5y9SK/5ZNX\n"
                             "yjuIv+1WX+zjzil6gSojzds78v0HfgeD6x68lgl5GiwE7UkSmigseZCoAG73qtiN\n"
                             "OOjW7QBhEc6LsOK9QRBMzsyZLrGF6FzH/IryMz/tQA==\n"
                             "-----END CERTIFICATE-----\n";
static const char ec_ca[] = "-----BEGIN CERTIFICATE-----\n"
                            "MIIBhDCCASugAwIBAgIUC/pVFBK6I2aNlgCbaUBZ4oyhJEwwCgYIKoZIzj0EAwIw\n"
                            "GDEWMBQGA1UEAwwNc29tZSBvdGhlciBDQTAeFw0yNjExMjYyMTIyNTFaFw0yNjEx\n"
                            "MjgyMTIyNTFaMBgxFjAUBgNVBAMMDXNvbWUgb3RoZXIgQ0EwWTATBgcqhkjOPQIB\n"
                            "BggqhkjOPQMBBwNCAATnVIPN8z9b4Zh1MEvkf/sbKw0u+pUVyTh5b9GDGAEo7E+h\n"
                            "gv2mA7cEAdFTN0mb+D1HT+uUTA8P9TdWD0yavYwQo1MwUTAdBgNVHQ4EFgQU69v0\n"
                            "Q3XeaJ7X9q/oFvhU6+E5Q1EwHwYDVR0jBBgwFoAU69v0Q3XeaJ7X9q/oFvhU6+E5\n"
                            "Q1EwDwYDVR0TAQH/BAUwAwEB/zAKBggqhkjOPQQDAgNHADBEAiBZ6Dv1mIyg+uW8\n"
                            "0Q6ws50pKplhLMNXFg6Zb0Qub2GE0wIgX/mCcrGFeigyjE8AdZWbIoxmNsyycodZ\n"
                            "DvwFzs78JUU=\n"
                            "-----END CERTIFICATE-----\n";
static const char leaf[] = "-----BEGIN CERTIFICATE-----\n"
                           "MIICoDCCAYigAwIBAgIUWZM+QcRFAxPKRERQxFO/wK0gO9IwDQYJKoZIhvcNAQEL\n"
                           "BQAwHTEbMBkGA1UEAwwSZGVwbG95LWFwaSB0ZXN0IENBMB4XDTI2MTEyNjIxMjI1\n"
                           "MVoXDTI2MTEyODIxMjI1MVowITEfMB0GA1UEAwwWa3ViZXJuZXRlcy5kZWZhdWx0\n"
                           "LnN2YzBZMBMGByqGSM49AgEGCCqGSM49AwEHA0IABETEDQ8FoiATGigKpkokD3fj\n"
                           "/8w2SaiOWWq2S++9l3pAx6hxdBbPlPgvMMgd4TpAU3RxnQyElYr7V6XbXIJCCimj\n"
                           "gZ4wgZswLAYDVR0RBCUwI4IWa3ViZXJuZXRlcy5kZWZhdWx0LnN2Y4IJbG9jYWxo\n"
                           "b3N0MAkGA1UdEwQCMAAwCwYDVR0PBAQDAgeAMBMGA1UdJQQMMAoGCCsGAQUFBwMB\n"
                           "MB0GA1UdDgQWBBQw94tHmNWKS6+Ov/90ESd7pBkaOzAfBgNVHSMEGDAWgBS39gST\n"
                           "//GKj54qkRrCATCPFLb2RjANBgkqhkiG9w0BAQsFAAOCAQEAMVvZtanSShq9JDe9\n"
                           "+876A+Xi6BsyxHwKv3lMcOHx9AqTzPsJL3a5Vpi+6PyPFZx1xJoenEfE8SKrMk4k\n"
                           "7RVgJEFazU0q4I5JvWTuD3eY+tcbYmKtwPnJDP1o3f7apxEogHcQ4QptHplAAKaa\n"
                           "hTuCOa90O+VD2bsPl1SEVi/oUqEUezJFqMgJosheX5MDcKswXP5eSDqjtjvhZ8Wk\n"
                           "mnKtg08Cb7HEHMSq/eCeBqxJqrm4LH/4bbCGpaH2kx59DoA0TgnUoRIGUH+pelBw\n"
                           "K4pjeh0aqkL3m2Xsn5o4tleY5h2G0qZgdwAkYKVHO7kl6mZ4YOlEhiO3B4KsgIro\n"
                           "CsztHA==\n"
                           "-----END CERTIFICATE-----\n";

static char err[512];

TEST(pem_one_rsa_ca)
{
    struct tls_anchors a = {0};
    CHECK_EQ(tls_anchors_add_pem(&a, rsa_ca, strlen(rsa_ca), err, sizeof err), 1);
    CHECK_EQ(a.n, 1);
    CHECK(a.v[0].flags & BR_X509_TA_CA);
    CHECK_EQ(a.v[0].pkey.key_type, BR_KEYTYPE_RSA);
    CHECK_EQ(a.v[0].pkey.key.rsa.nlen, 256);
    CHECK(a.v[0].dn.len > 10);
    tls_anchors_free(&a);
    CHECK_EQ(a.n, 0);
    CHECK(a.v == NULL);
}

TEST(pem_bundle)
{
    char buf[8192];
    struct tls_anchors a = {0};
    /* Text between objects and non-certificate objects are skipped; the
     * last END line may lack its newline. */
    snprintf(buf, sizeof buf,
             "# Debian bundle style comment\n%s\n-----BEGIN FOO-----\nAAAA\n-----END "
             "FOO-----\r\n%s%s",
             rsa_ca, ec_ca, leaf);
    buf[strlen(buf) - 1] = 0;
    CHECK_EQ(tls_anchors_add_pem(&a, buf, strlen(buf), err, sizeof err), 3);
    CHECK_EQ(a.n, 3);
    if (a.n == 3) {
        CHECK(a.v[1].flags & BR_X509_TA_CA);
        CHECK_EQ(a.v[1].pkey.key_type, BR_KEYTYPE_EC);
        CHECK_EQ(a.v[1].pkey.key.ec.curve, BR_EC_secp256r1);
        CHECK_EQ(a.v[1].pkey.key.ec.qlen, 65);
        CHECK_EQ(a.v[2].flags & BR_X509_TA_CA, 0); /* a leaf: CA:FALSE */
    }
    /* Appends: adding again doubles. */
    CHECK_EQ(tls_anchors_add_pem(&a, buf, strlen(buf), err, sizeof err), 3);
    CHECK_EQ(a.n, 6);
    tls_anchors_free(&a);
    CHECK_EQ(tls_anchors_add_pem(&a, "no pem here\n", 12, err, sizeof err), 0);
    CHECK_EQ(tls_anchors_add_pem(&a, "", 0, err, sizeof err), 0);
    tls_anchors_free(&a);
}

TEST(pem_malformed)
{
    struct tls_anchors a = {0};
    char buf[4096];
    CHECK_EQ(tls_anchors_add_pem(&a, ec_ca, strlen(ec_ca), err, sizeof err), 1);
    /* garbage DER */
    const char *g = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";
    err[0] = 0;
    CHECK_EQ(tls_anchors_add_pem(&a, g, strlen(g), err, sizeof err), -1);
    CHECK(strstr(err, "bad certificate") != NULL);
    /* bad base64 in the middle of a good certificate, after a good one:
     * nothing of this call is kept */
    snprintf(buf, sizeof buf, "%s%s", rsa_ca, ec_ca);
    char *p = strstr(buf + strlen(rsa_ca), "\n") + 5;
    *p = '*';
    CHECK_EQ(tls_anchors_add_pem(&a, buf, strlen(buf), err, sizeof err), -1);
    CHECK_EQ(a.n, 1);
    /* no END line */
    snprintf(buf, sizeof buf, "%s", ec_ca);
    *strstr(buf, "-----END") = 0;
    err[0] = 0;
    CHECK_EQ(tls_anchors_add_pem(&a, buf, strlen(buf), err, sizeof err), -1);
    CHECK(err[0] != 0);
    /* a truncated certificate body */
    snprintf(buf, sizeof buf, "-----BEGIN CERTIFICATE-----\n%.64s\n-----END CERTIFICATE-----\n",
             strchr(ec_ca, '\n') + 1);
    CHECK_EQ(tls_anchors_add_pem(&a, buf, strlen(buf), err, sizeof err), -1);
    CHECK_EQ(a.n, 1);
    tls_anchors_free(&a);
}

TEST(pem_every_prefix)
{
    char buf[4096];
    snprintf(buf, sizeof buf, "%s%s", rsa_ca, ec_ca);
    size_t n = strlen(buf);
    int bad = 0;
    for (size_t k = 0; k <= n; k++) {
        struct tls_anchors a = {0};
        char *gp = t_guard(buf, k);
        int r = tls_anchors_add_pem(&a, gp, k, err, sizeof err);
        t_unguard(gp, k);
        /* A prefix holds whole certificates, or fails; never more. */
        if (r < -1 || r > 2 || (r >= 0 && (size_t)r != a.n)) bad++;
        if (k == n && r != 2) bad++;
        tls_anchors_free(&a);
    }
    CHECK_EQ(bad, 0);
}

TEST(pem_anchor_limit)
{
    size_t one = strlen(ec_ca);
    char *big = malloc(one * (TLS_MAX_ANCHORS + 1) + 1);
    for (int i = 0; i <= TLS_MAX_ANCHORS; i++) memcpy(big + one * (size_t)i, ec_ca, one);
    struct tls_anchors a = {0};
    CHECK_EQ(tls_anchors_add_pem(&a, big, one * TLS_MAX_ANCHORS, err, sizeof err), TLS_MAX_ANCHORS);
    err[0] = 0;
    CHECK_EQ(tls_anchors_add_pem(&a, ec_ca, one, err, sizeof err), -1);
    CHECK(strstr(err, "more than") != NULL);
    CHECK_EQ(a.n, TLS_MAX_ANCHORS);
    tls_anchors_free(&a);
    CHECK_EQ(tls_anchors_add_pem(&a, big, one * (TLS_MAX_ANCHORS + 1), err, sizeof err), -1);
    CHECK_EQ(a.n, 0);
    tls_anchors_free(&a);
    free(big);
}

TEST(pem_load_file)
{
    char path[] = "/tmp/test_tls_pem.XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    CHECK_EQ(write(fd, rsa_ca, strlen(rsa_ca)), (long)strlen(rsa_ca));
    CHECK_EQ(write(fd, leaf, strlen(leaf)), (long)strlen(leaf));
    close(fd);
    struct tls_anchors a = {0};
    CHECK_EQ(tls_anchors_load(&a, path, err, sizeof err), 2);
    tls_anchors_free(&a);
    fd = open(path, O_WRONLY | O_TRUNC);
    CHECK_EQ(write(fd, "hello\n", 6), 6);
    close(fd);
    err[0] = 0;
    CHECK_EQ(tls_anchors_load(&a, path, err, sizeof err), -1);
    CHECK(strstr(err, "no certificate") != NULL);
    unlink(path);
    err[0] = 0;
    CHECK_EQ(tls_anchors_load(&a, path, err, sizeof err), -1);
    CHECK(strstr(err, path) != NULL);
    CHECK_EQ(tls_anchors_load(&a, "/tmp", err, sizeof err), -1);
    CHECK_EQ(a.n, 0);
}

TEST(strerror_texts)
{
    tls_strerror(BR_ERR_X509_NOT_TRUSTED, "x", err, sizeof err);
    CHECK_STR(err, "certificate not trusted (unknown CA)");
    tls_strerror(BR_ERR_X509_BAD_SERVER_NAME, "kubernetes.default.svc", err, sizeof err);
    CHECK_STR(err, "name mismatch: wanted kubernetes.default.svc");
    tls_strerror(BR_ERR_X509_EXPIRED, "x", err, sizeof err);
    CHECK_STR(err, "certificate expired or not yet valid");
    tls_strerror(BR_ERR_X509_NOT_CA, "x", err, sizeof err);
    CHECK_STR(err, "TLS error 58 (BR_ERR_X509_NOT_CA)");
    tls_strerror(BR_ERR_RECV_FATAL_ALERT + 40, "x", err, sizeof err);
    CHECK_STR(err, "TLS error 296 (BR_ERR_RECV_FATAL_ALERT: server sent alert 40)");
    tls_strerror(999, "x", err, sizeof err);
    CHECK(strstr(err, "TLS error 999") != NULL);
}

/* ---- Live tests against tls_fixture.py ---- */

static pid_t fx_pid = -1;
static int fx_in = -1;
static char fx_dir[] = "/tmp/test_tls.XXXXXX";
static struct tls_anchors fx_ca;
static int p_ok, p_expired, p_other, p_hang, p_plain, p_proxy, p_refused, p_clientauth, p_codesign;

static int fx_out = -1;

/* Start the helper early (making keys takes a while); fixture_wait reads its
 * ports. */
static int fixture_spawn(void)
{
    char helper[512];
    const char *f = __FILE__;
    const char *slash = strrchr(f, '/');
    snprintf(helper, sizeof helper, "%.*shelpers/tls_fixture.py", slash ? (int)(slash - f + 1) : 0,
             f);
    if (!mkdtemp(fx_dir)) return -1;
    int out[2], in[2];
    if (pipe(out) < 0 || pipe(in) < 0) return -1;
    fx_pid = fork();
    if (fx_pid == 0) {
        dup2(in[0], 0);
        dup2(out[1], 1);
        close(in[1]);
        close(out[0]);
        execlp("python3", "python3", helper, fx_dir, (char *)NULL);
        _exit(127);
    }
    close(in[0]);
    close(out[1]);
    fx_in = in[1];
    fx_out = out[0];
    return fx_pid > 0 ? 0 : -1;
}

static int fixture_wait(void)
{
    char buf[1024];
    size_t len = 0;
    time_t end = time(NULL) + 30;
    if (fx_out < 0) return -1;
    while (!memmem(buf, len, "ready\n", 6)) {
        struct pollfd p = {fx_out, POLLIN, 0};
        if (time(NULL) > end || len >= sizeof buf - 1 || poll(&p, 1, 1000) < 0) return -1;
        if (p.revents) {
            ssize_t k = read(fx_out, buf + len, sizeof buf - 1 - len);
            if (k <= 0) return -1;
            len += (size_t)k;
        }
    }
    buf[len] = 0;
    close(fx_out);
    fx_out = -1;
    struct {
        const char *name;
        int *port;
    } m[] = {{"ok ", &p_ok},           {"expired ", &p_expired},       {"other ", &p_other},
             {"hang ", &p_hang},       {"plain ", &p_plain},           {"proxy ", &p_proxy},
             {"refused ", &p_refused}, {"clientauth ", &p_clientauth}, {"codesign ", &p_codesign}};
    for (size_t i = 0; i < sizeof m / sizeof m[0]; i++) {
        char *l = strstr(buf, m[i].name);
        if (!l) return -1;
        *m[i].port = atoi(l + strlen(m[i].name));
    }
    char ca[600];
    snprintf(ca, sizeof ca, "%s/ca.pem", fx_dir);
    return tls_anchors_load(&fx_ca, ca, err, sizeof err) == 1 ? 0 : -1;
}

static void fixture_stop(void)
{
    if (fx_in >= 0) close(fx_in);
    if (fx_pid > 0) {
        kill(fx_pid, SIGTERM);
        waitpid(fx_pid, NULL, 0);
    }
    tls_anchors_free(&fx_ca);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", fx_dir);
    if (strncmp(fx_dir, "/tmp/test_tls.", 14) == 0 && system(cmd) != 0)
        printf("  could not remove %s\n", fx_dir);
}

static struct httpc_resp resp;

static void fixture_append(void *ctx, const void *data, size_t len)
{
    struct {
        unsigned char *p;
        size_t n, cap;
    } *o = ctx;
    if (len > o->cap - o->n) len = o->cap - o->n;
    memcpy(o->p + o->n, data, len);
    o->n += len;
}

/* One request; returns httpc_do's result, the response in resp, err. */
static int get(const char *method, const char *scheme, int port, const char *path,
               const char *server_name, const char *proxy, const char *no_proxy, int timeout_s,
               size_t max_body)
{
    char s[512];
    struct url u;
    snprintf(s, sizeof s, "%s://127.0.0.1:%d%s", scheme, port, path);
    if (url_parse(s, &u, err, sizeof err) < 0) return -2;
    struct httpc_opts o = {&fx_ca, server_name, proxy, no_proxy, timeout_s, NULL};
    httpc_resp_free(&resp);
    err[0] = 0;
    return httpc_do(&o, method, &u, NULL, NULL, 0, max_body, &resp, err, sizeof err);
}

#define KDS "kubernetes.default.svc"

static int fixture_ok;

TEST(live_fixture)
{
    fixture_ok = fixture_wait() == 0;
    if (!fixture_ok) printf("  fixture: %s (needs python3 and openssl)\n", err);
    CHECK(fixture_ok);
}

TEST(live_success)
{
    CHECK_EQ(get("GET", "https", p_ok, "/cl", KDS, NULL, NULL, 3, 1000), 0);
    CHECK_EQ(resp.status, 200);
    CHECK_EQ(resp.len, 5);
    CHECK_STR(resp.body, "hello");
    CHECK_STR(resp.content_type, "text/plain");
    CHECK_EQ(resp.retry_after, -1);
    /* Name from the URL when server_name is NULL. */
    char s[128];
    struct url u;
    snprintf(s, sizeof s, "https://localhost:%d/cl", p_ok);
    CHECK_EQ(url_parse(s, &u, err, sizeof err), 0);
    struct httpc_opts o = {&fx_ca, NULL, NULL, NULL, 3, NULL};
    httpc_resp_free(&resp);
    CHECK_EQ(httpc_do(&o, "GET", &u, NULL, NULL, 0, 100, &resp, err, sizeof err), 0);
    CHECK_STR(resp.body, "hello");
}

TEST(live_verify_failures)
{
    CHECK_EQ(get("GET", "https", p_other, "/cl", KDS, NULL, NULL, 3, 1000), -1);
    CHECK_STR(err, "certificate not trusted (unknown CA)");
    CHECK_EQ(get("GET", "https", p_ok, "/cl", "wrong.example", NULL, NULL, 3, 1000), -1);
    CHECK_STR(err, "name mismatch: wanted wrong.example");
    /* An IP is never matched: no name given means the IP is checked. */
    CHECK_EQ(get("GET", "https", p_ok, "/cl", NULL, NULL, NULL, 3, 1000), -1);
    CHECK_STR(err, "name mismatch: wanted 127.0.0.1");
    CHECK_EQ(get("GET", "https", p_expired, "/cl", KDS, NULL, NULL, 3, 1000), -1);
    CHECK_STR(err, "certificate expired or not yet valid");
    /* No anchors: refused, no way around it. */
    struct tls_anchors none = {0};
    struct url u;
    char s[128];
    snprintf(s, sizeof s, "https://127.0.0.1:%d/cl", p_ok);
    url_parse(s, &u, err, sizeof err);
    struct httpc_opts o = {&none, KDS, NULL, NULL, 3, NULL};
    CHECK_EQ(httpc_do(&o, "GET", &u, NULL, NULL, 0, 100, &resp, err, sizeof err), -1);
    CHECK_STR(err, "no trust anchors");
}

/* Issue 12 item 7: the right name, the right CA, the wrong purpose. */
TEST(live_eku_refused)
{
    CHECK_EQ(get("GET", "https", p_clientauth, "/cl", KDS, NULL, NULL, 3, 1000), -1);
    CHECK_STR(err, "certificate not issued for TLS servers (Extended Key Usage lacks serverAuth)");
    CHECK_EQ(get("GET", "https", p_codesign, "/cl", KDS, NULL, NULL, 3, 1000), -1);
    CHECK_STR(err, "certificate not issued for TLS servers (Extended Key Usage lacks serverAuth)");
    /* serverAuth (the ok server) still passes: see live_success. */
    CHECK_EQ(get("GET", "https", p_ok, "/cl", KDS, NULL, NULL, 3, 1000), 0);
}

/* The DER of the first certificate in the fixture's PEM file name.pem. */
static size_t fixture_der(const char *name, unsigned char *der, size_t cap)
{
    char path[600], *pem = NULL;
    snprintf(path, sizeof path, "%s/%s.pem", fx_dir, name);
    FILE *f = fopen(path, "r");
    size_t n = 0, len = 0;
    if (!f) return 0;
    pem = malloc(65536);
    if (pem) len = fread(pem, 1, 65535, f);
    fclose(f);
    br_pem_decoder_context pc;
    br_pem_decoder_init(&pc);
    struct {
        unsigned char *p;
        size_t n, cap;
    } out = {der, 0, cap};
    for (size_t off = 0; pem && off < len;) {
        off += br_pem_decoder_push(&pc, pem + off, len - off);
        int ev = br_pem_decoder_event(&pc);
        if (ev == BR_PEM_BEGIN_OBJ) br_pem_decoder_setdest(&pc, fixture_append, &out);
        if (ev == BR_PEM_END_OBJ) {
            n = out.n;
            break;
        }
    }
    free(pem);
    return n;
}

TEST(eku_parse)
{
    static unsigned char der[8192];
    size_t n;
    CHECK((n = fixture_der("srv", der, sizeof der)) > 0);
    CHECK_EQ(eku_server_ok(der, n), 1); /* serverAuth */
    CHECK((n = fixture_der("cli", der, sizeof der)) > 0);
    CHECK_EQ(eku_server_ok(der, n), 0); /* clientAuth only */
    /* Every truncation of it is unreadable or refused, never allowed; read
     * from right before an unmapped page. */
    for (size_t k = 0; k < n; k++) {
        unsigned char *g = t_guard(der, k);
        int r = eku_server_ok(g, k);
        t_unguard(g, k);
        if (r == 1) printf("    prefix %zu allowed\n", k);
        CHECK(r != 1);
    }
    CHECK((n = fixture_der("code", der, sizeof der)) > 0);
    CHECK_EQ(eku_server_ok(der, n), 0); /* codeSigning only */
    CHECK((n = fixture_der("exp", der, sizeof der)) > 0);
    CHECK_EQ(eku_server_ok(der, n), 1); /* no EKU at all */
    CHECK((n = fixture_der("ca", der, sizeof der)) > 0);
    CHECK_EQ(eku_server_ok(der, n), 1);
    CHECK_EQ(eku_server_ok(NULL, 0), -1);
    CHECK_EQ(eku_server_ok((const unsigned char *)"\x30\x84\xff\xff\xff\xff", 6), -1);
    CHECK_EQ(eku_server_ok((const unsigned char *)"\x31\x00", 2), -1);
}

TEST(live_socket_errors)
{
    CHECK_EQ(get("GET", "https", p_refused, "/cl", KDS, NULL, NULL, 3, 1000), -1);
    CHECK_STR(err, "connection refused");
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    CHECK_EQ(get("GET", "https", p_hang, "/cl", KDS, NULL, NULL, 1, 1000), -1);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    CHECK_STR(err, "timed out after 1 s");
    double dt = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    CHECK(dt > 0.9 && dt < 3);
    CHECK_EQ(get("GET", "http", p_hang, "/cl", NULL, NULL, NULL, 1, 1000), -1);
    CHECK_STR(err, "timed out after 1 s");
}

TEST(live_bodies)
{
    CHECK_EQ(get("GET", "https", p_ok, "/chunked", KDS, NULL, NULL, 3, 1000), 0);
    CHECK_STR(resp.body, "Wikipedia in\r\n\r\nchunks.");
    CHECK_EQ(get("GET", "http", p_plain, "/chunked", NULL, NULL, NULL, 3, 1000), 0);
    CHECK_STR(resp.body, "Wikipedia in\r\n\r\nchunks.");
    CHECK_EQ(get("GET", "https", p_ok, "/close", KDS, NULL, NULL, 3, 1000), 0);
    CHECK_STR(resp.body, "until close");
    CHECK_EQ(get("GET", "https", p_ok, "/bare-close", KDS, NULL, NULL, 3, 1000), -1);
    CHECK_STR(err, "truncated response");
    CHECK_EQ(get("GET", "http", p_plain, "/bare-close", NULL, NULL, NULL, 3, 1000), 0);
    CHECK_STR(resp.body, "until close");
    CHECK_EQ(get("GET", "https", p_ok, "/short", KDS, NULL, NULL, 3, 1000), -1);
    CHECK_STR(err, "truncated response");
    CHECK_EQ(get("GET", "http", p_plain, "/short", KDS, NULL, NULL, 3, 1000), -1);
    CHECK_STR(err, "truncated response");
    CHECK_EQ(get("GET", "https", p_ok, "/big", KDS, NULL, NULL, 3, 65536), 0);
    CHECK_EQ(resp.len, 65536);
    CHECK_EQ(get("GET", "https", p_ok, "/big", KDS, NULL, NULL, 3, 65535), -1);
    CHECK_STR(err, "response too large");
    CHECK_EQ(get("GET", "https", p_ok, "/chunked", KDS, NULL, NULL, 3, 22), -1);
    CHECK_STR(err, "response too large");
    CHECK_EQ(get("GET", "https", p_ok, "/chunked", KDS, NULL, NULL, 3, 23), 0);
    CHECK_EQ(get("GET", "https", p_ok, "/status404", KDS, NULL, NULL, 3, 1000), 0);
    CHECK_EQ(resp.status, 404);
    CHECK(strstr(resp.body, "\"reason\":\"NotFound\"") != NULL);
    CHECK_EQ(get("GET", "https", p_ok, "/retry", KDS, NULL, NULL, 3, 1000), 0);
    CHECK_EQ(resp.status, 429);
    CHECK_EQ(resp.retry_after, 7);
    CHECK_STR(resp.body, "slow");
    CHECK_EQ(get("HEAD", "https", p_ok, "/cl", KDS, NULL, NULL, 3, 1000), 0);
    CHECK_EQ(resp.len, 0);
}

TEST(live_request_head)
{
    char s[128];
    struct url u;
    snprintf(s, sizeof s, "https://127.0.0.1:%d/echo?watch=1", p_ok);
    CHECK_EQ(url_parse(s, &u, err, sizeof err), 0);
    struct httpc_opts o = {&fx_ca, KDS, NULL, NULL, 3, NULL};
    const char *h[] = {"Authorization: Bearer tok", "Content-Type: application/json", NULL};
    httpc_resp_free(&resp);
    CHECK_EQ(httpc_do(&o, "PATCH", &u, h, "{\"a\":1}", 7, 4096, &resp, err, sizeof err), 0);
    CHECK(resp.body && strncmp(resp.body, "PATCH /echo?watch=1 HTTP/1.1\r\n", 30) == 0);
    snprintf(s, sizeof s, "\r\nHost: 127.0.0.1:%d\r\n", p_ok);
    CHECK(resp.body && strstr(resp.body, s));
    CHECK(resp.body && strstr(resp.body, "\r\nContent-Length: 7\r\n"));
    CHECK(resp.body && strstr(resp.body, "\r\nConnection: close\r\n"));
    CHECK(resp.body && strstr(resp.body, "\r\nUser-Agent: deploy-api\r\n"));
    CHECK(resp.body && strstr(resp.body, "\r\nAuthorization: Bearer tok\r\n"));
    CHECK(resp.body && strstr(resp.body, "\r\n\r\n{\"a\":1}"));
    const char *bad[] = {"X-Evil: a\r\nInjected: b", NULL};
    httpc_resp_free(&resp);
    CHECK_EQ(httpc_do(&o, "GET", &u, bad, NULL, 0, 4096, &resp, err, sizeof err), -1);
    CHECK_STR(err, "bad request header");
    CHECK_EQ(httpc_do(&o, "GE T", &u, NULL, NULL, 0, 4096, &resp, err, sizeof err), -1);
}

TEST(live_watch_lines)
{
    char s[128], line[4096];
    struct url u;
    int status = 0;
    snprintf(s, sizeof s, "https://127.0.0.1:%d/watch", p_ok);
    url_parse(s, &u, err, sizeof err);
    struct httpc_opts o = {&fx_ca, KDS, NULL, NULL, 3, NULL};
    struct httpc_stream *st = httpc_open(&o, "GET", &u, NULL, NULL, 0, &status, err, sizeof err);
    CHECK(st != NULL);
    if (!st) return;
    CHECK_EQ(status, 200);
    CHECK_EQ(httpc_read_line(st, line, sizeof line, 2, err, sizeof err), 47);
    CHECK_STR(line, "{\"type\":\"ADDED\",\"object\":{\"kind\":\"Deployment\"}}");
    CHECK_EQ(httpc_read_line(st, line, sizeof line, 2, err, sizeof err), 3057);
    CHECK(strncmp(line, "{\"type\":\"MODIFIED\"", 18) == 0);
    CHECK_EQ(httpc_read_line(st, line, sizeof line, 2, err, sizeof err), 20);
    CHECK_STR(line, "tail-without-newline");
    CHECK_EQ(httpc_read_line(st, line, sizeof line, 2, err, sizeof err), 0);
    CHECK_EQ(httpc_read_line(st, line, sizeof line, 2, err, sizeof err), 0);
    httpc_close(st);

    /* A line that does not fit. */
    st = httpc_open(&o, "GET", &u, NULL, NULL, 0, &status, err, sizeof err);
    CHECK(st != NULL);
    if (!st) return;
    CHECK_EQ(httpc_read_line(st, line, 48, 2, err, sizeof err), 47); /* exactly fits */
    CHECK_EQ(httpc_read_line(st, line, 3057, 2, err, sizeof err), -1);
    CHECK(strstr(err, "line longer") != NULL);
    httpc_close(st);

    /* A stalled watch: the first event, then a timeout. */
    snprintf(s, sizeof s, "https://127.0.0.1:%d/stall", p_ok);
    url_parse(s, &u, err, sizeof err);
    st = httpc_open(&o, "GET", &u, NULL, NULL, 0, &status, err, sizeof err);
    CHECK(st != NULL);
    if (!st) return;
    CHECK_EQ(httpc_read_line(st, line, sizeof line, 1, err, sizeof err), 16);
    CHECK_EQ(httpc_read_line(st, line, sizeof line, 1, err, sizeof err), -1);
    CHECK_STR(err, "timed out after 1 s");
    httpc_close(st);
}

TEST(live_proxy)
{
    char s[256], proxy[64], refused[64];
    struct url u;
    snprintf(proxy, sizeof proxy, "http://127.0.0.1:%d", p_proxy);
    snprintf(refused, sizeof refused, "http://127.0.0.1:%d", p_refused);
    /* Only the proxy can reach this name: it maps every host to 127.0.0.1.
     * TLS inside the tunnel verifies the real name. */
    snprintf(s, sizeof s, "https://" KDS ":%d/echo", p_ok);
    CHECK_EQ(url_parse(s, &u, err, sizeof err), 0);
    struct httpc_opts o = {&fx_ca, NULL, proxy, "localhost,.cluster.local", 3, NULL};
    httpc_resp_free(&resp);
    CHECK_EQ(httpc_do(&o, "GET", &u, NULL, NULL, 0, 4096, &resp, err, sizeof err), 0);
    snprintf(s, sizeof s, "\r\nHost: " KDS ":%d\r\n", p_ok);
    CHECK(resp.body && strstr(resp.body, s));
    CHECK(resp.body && strncmp(resp.body, "GET /echo HTTP/1.1", 18) == 0);
    /* Proxy given without a scheme. */
    o.proxy = proxy + 7;
    httpc_resp_free(&resp);
    CHECK_EQ(httpc_do(&o, "GET", &u, NULL, NULL, 0, 4096, &resp, err, sizeof err), 0);
    /* Through the tunnel to the wrong CA: still refused. */
    snprintf(s, sizeof s, "https://" KDS ":%d/echo", p_other);
    url_parse(s, &u, err, sizeof err);
    httpc_resp_free(&resp);
    CHECK_EQ(httpc_do(&o, "GET", &u, NULL, NULL, 0, 4096, &resp, err, sizeof err), -1);
    CHECK_STR(err, "certificate not trusted (unknown CA)");
    /* The proxy says no. */
    CHECK_EQ(url_parse("https://" KDS ":1/", &u, err, sizeof err), 0);
    CHECK_EQ(httpc_do(&o, "GET", &u, NULL, NULL, 0, 4096, &resp, err, sizeof err), -1);
    CHECK_STR(err, "proxy refused CONNECT " KDS ":1: HTTP 403");
    /* Plain http through the proxy: absolute form. */
    CHECK_EQ(url_parse("http://example.invalid:8080/x?y=1", &u, err, sizeof err), 0);
    httpc_resp_free(&resp);
    CHECK_EQ(httpc_do(&o, "GET", &u, NULL, NULL, 0, 4096, &resp, err, sizeof err), 0);
    CHECK_STR(resp.body, "proxied GET http://example.invalid:8080/x?y=1 HTTP/1.1");
    /* NO_PROXY skips a dead proxy. */
    CHECK_EQ(get("GET", "https", p_ok, "/cl", KDS, refused, "example.com, 127.0.0.0/8", 3, 100), 0);
    CHECK_STR(resp.body, "hello");
    /* Without it the dead proxy is the error. */
    CHECK_EQ(get("GET", "https", p_ok, "/cl", KDS, refused, "example.com", 3, 100), -1);
    snprintf(s, sizeof s, "proxy 127.0.0.1:%d: connection refused", p_refused);
    CHECK_STR(err, s);
    /* An https:// proxy is refused. */
    CHECK_EQ(get("GET", "https", p_ok, "/cl", KDS, "https://127.0.0.1:1", NULL, 3, 100), -1);
    CHECK_STR(err, "HTTPS_PROXY: only http:// proxies are supported");
}

TEST(live_tls_api)
{
    /* tls_* directly on a socket the caller made. */
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {0};
    sa.sin_family = AF_INET;
    sa.sin_port = htons((unsigned short)p_ok);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    CHECK_EQ(connect(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    struct tls_conn *c = malloc(sizeof *c);
    CHECK_EQ(tls_open(c, fd, &fx_ca, KDS, 3, err, sizeof err), 0);
    const char req[] = "GET /cl HTTP/1.1\r\nHost: x\r\n\r\n";
    CHECK_EQ(tls_write_all(c, req, sizeof req - 1, 3, err, sizeof err), 0);
    char buf[512];
    size_t len = 0;
    long k;
    while ((k = tls_read(c, buf + len, sizeof buf - 1 - len, 3, err, sizeof err)) > 0)
        len += (size_t)k;
    buf[len] = 0;
    CHECK_EQ(k, -1); /* python closes without close_notify */
    CHECK_STR(err, "connection closed without TLS close_notify");
    CHECK(strstr(buf, "\r\n\r\nhello") != NULL);
    tls_close(c);
    close(fd);
    free(c);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    fixture_spawn();
    RUN(pem_one_rsa_ca);
    RUN(pem_bundle);
    RUN(pem_malformed);
    RUN(pem_every_prefix);
    RUN(pem_anchor_limit);
    RUN(pem_load_file);
    RUN(strerror_texts);
    RUN(live_fixture);
    if (fixture_ok) {
        RUN(live_success);
        RUN(live_verify_failures);
        RUN(live_eku_refused);
        RUN(eku_parse);
        RUN(live_socket_errors);
        RUN(live_bodies);
        RUN(live_request_head);
        RUN(live_watch_lines);
        RUN(live_proxy);
        RUN(live_tls_api);
    }
    fixture_stop();
    httpc_resp_free(&resp);
    return t_done();
}
