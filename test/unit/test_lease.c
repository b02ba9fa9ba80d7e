/* lease.c's pure pieces: the Lease name, MicroTime both ways, the Lease
 * JSON both ways (malformed and truncated input, limits), the expiry
 * verdict and the user's text. */
#include "lease.h"

#include <fcntl.h>
#include <sys/stat.h>

#include "config.h"
#include "t.h"

/* A DNS-1123 subdomain: labels of [a-z0-9-] starting and ending alnum. */
static int subdomain_ok(const char *s)
{
    size_t n = strlen(s), lab = 0;
    if (n == 0 || n > 253) return 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        int alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
        if (c == '.') {
            if (lab == 0 || s[i - 1] == '-') return 0;
            lab = 0;
            continue;
        }
        if (!alnum && c != '-') return 0;
        if (lab == 0 && !alnum) return 0;
        lab++;
    }
    return s[n - 1] != '-' && s[n - 1] != '.';
}

TEST(name_short_and_unambiguous)
{
    char a[LEASE_NAME_MAX + 1], b[LEASE_NAME_MAX + 1];
    CHECK_EQ(lease_name("default", "myservice", a, sizeof a), 0);
    CHECK_STR(a, "deploy-api.default.myservice");
    /* "a-b"/"c" and "a"/"b-c" are different targets: different Leases */
    lease_name("a-b", "c", a, sizeof a);
    lease_name("a", "b-c", b, sizeof b);
    CHECK(strcmp(a, b) != 0);
    CHECK(subdomain_ok(a) && subdomain_ok(b));
    CHECK_EQ(lease_name("default", "x", a, LEASE_NAME_MAX), -1);
}

TEST(name_at_and_past_the_limit)
{
    char ns[64], name[254], out[LEASE_NAME_MAX + 1], other[LEASE_NAME_MAX + 1];
    /* "deploy-api." (11) + ns + "." + name = 63: kept as is */
    memset(ns, 'n', 20), ns[20] = 0;
    memset(name, 'm', 31), name[31] = 0;
    CHECK_EQ(lease_name(ns, name, out, sizeof out), 0);
    CHECK_EQ(strlen(out), 63);
    CHECK(strncmp(out, "deploy-api.nnnn", 15) == 0 && out[62] == 'm');
    /* one more: hashed, still 63, still valid, still distinct */
    memset(name, 'm', 32), name[32] = 0;
    CHECK_EQ(lease_name(ns, name, out, sizeof out), 0);
    CHECK_EQ(strlen(out), 63);
    CHECK(subdomain_ok(out));
    CHECK(out[63 - 17] == '-');
    name[31] = 'q';
    lease_name(ns, name, other, sizeof other);
    CHECK(strcmp(out, other) != 0);
    /* the longest namespace and deployment name; a cut landing on '.' or '-' */
    memset(ns, 'z', 63), ns[63] = 0;
    memset(name, 'a', 253), name[253] = 0;
    CHECK_EQ(lease_name(ns, name, out, sizeof out), 0);
    CHECK(strlen(out) <= 63 && subdomain_ok(out));
    memset(ns, 'z', 34), ns[34] = 0; /* the '.' after ns sits right at the cut */
    CHECK_EQ(lease_name(ns, name, out, sizeof out), 0);
    CHECK(strlen(out) <= 63 && subdomain_ok(out));
    memcpy(ns, "z-------------------------------z", 34);
    CHECK_EQ(lease_name(ns, "a.b-c.d", out, sizeof out), 0);
    CHECK(subdomain_ok(out));
}

static long long tparse(const char *s)
{
    long long ms = -12345;
    size_t n = strlen(s);
    char *g = t_guard(s, n);
    int r = lease_time_parse(g, n, &ms);
    t_unguard(g, n);
    return r < 0 ? -1 : ms;
}

TEST(time_parse_and_format)
{
    char t[40];
    CHECK_EQ(tparse("1970-01-01T00:00:00Z"), 0);
    CHECK_EQ(tparse("2026-11-30T09:40:12Z"), 1796031612000LL);
    CHECK_EQ(tparse("2026-11-30T09:40:12.123456Z"), 1796031612123LL);
    CHECK_EQ(tparse("2026-11-30T09:40:12.1Z"), 1796031612100LL);
    CHECK_EQ(tparse("2026-11-30T09:40:12.123456789Z"), 1796031612123LL);
    CHECK_EQ(tparse("2024-02-29T23:59:59Z"), 1709251199000LL);
    CHECK_EQ(tparse("2000-01-01T01:00:00+02:00"), 946681200000LL);
    CHECK_EQ(tparse("1999-12-31T22:00:00-01:00"), 946681200000LL);
    CHECK_EQ(lease_time_fmt(1796031612123LL, t, sizeof t), 0);
    CHECK_STR(t, "2026-11-30T09:40:12.123000Z");
    CHECK_EQ(tparse(t), 1796031612123LL);
    CHECK_EQ(lease_time_fmt(0, t, sizeof t), 0);
    CHECK_STR(t, "1970-01-01T00:00:00.000000Z");
    /* the output at its size and one byte short */
    CHECK_EQ(lease_time_fmt(1796031612123LL, t, 28), 0);
    CHECK_EQ(lease_time_fmt(1796031612123LL, t, 27), -1);
    CHECK_EQ(lease_time_fmt(-1, t, sizeof t), -1);
}

TEST(time_malformed_and_truncated)
{
    static const char *const bad[] = {
        "",
        "2026-11-30T09:40:12",
        "2026-11-30 09:40:12Z",
        "2026-13-30T09:40:12Z",
        "2026-11-00T09:40:12Z",
        "2026-11-30T24:40:12Z",
        "2026-11-30T09:60:12Z",
        "2026-11-30T09:40:12.Z",
        "2026-11-30T09:40:12.1234567890Z",
        "2026-11-30T09:40:12ZZ",
        "2026-11-30T09:40:12+0100",
        "2026-11-30T09:40:12+01:0x",
        "2026-11-30T09:40:12+25:00",
        "+026-11-30T09:40:12Z",
        "2026-11-3xT09:40:12Z",
        "2026-11-30T09:40:12.12a456Z",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        if (tparse(bad[i]) != -1) printf("  accepted: %s\n", bad[i]);
        CHECK_EQ(tparse(bad[i]), -1);
    }
    /* every strict prefix of a good one is malformed; nothing read past it */
    const char *good = "2026-11-30T09:40:12.123456+01:00";
    char buf[64];
    for (size_t k = 0; k < strlen(good); k++) {
        memcpy(buf, good, k);
        buf[k] = 0;
        CHECK_EQ(tparse(buf), -1);
    }
    CHECK(tparse(good) > 0);
}

static struct lease_rec sample(void)
{
    struct lease_rec r;
    memset(&r, 0, sizeof r);
    strcpy(r.holder, "deploy-api-7c9f-x2");
    strcpy(r.user, "alice \"quoted\"");
    strcpy(r.verb, "rollback");
    strcpy(r.target, "default/myservice");
    r.duration_s = 60;
    r.acquire_ms = 1796031612123LL;
    r.renew_ms = 1796031632000LL;
    r.transitions = 3;
    return r;
}

TEST(json_roundtrip)
{
    char js[2048];
    struct lease_rec r = sample(), got;
    long n = lease_json(js, sizeof js, "ops", "deploy-api.default.myservice", &r);
    CHECK(n > 0);
    CHECK(strstr(js, "\"resourceVersion\"") == NULL); /* a create carries none */
    CHECK(strstr(js, "\"apiVersion\":\"coordination.k8s.io/v1\",\"kind\":\"Lease\"") != NULL);
    CHECK(strstr(js, "\"namespace\":\"ops\"") != NULL);
    CHECK_EQ(lease_parse(js, (size_t)n, &got), 0);
    CHECK_STR(got.holder, r.holder);
    CHECK_STR(got.user, r.user);
    CHECK_STR(got.verb, r.verb);
    CHECK_STR(got.target, r.target);
    CHECK_EQ(got.duration_s, 60);
    CHECK_EQ(got.acquire_ms, r.acquire_ms);
    CHECK_EQ(got.renew_ms, r.renew_ms);
    CHECK_EQ(got.transitions, 3);
    CHECK_STR(got.rv, "");
    /* an update carries the resourceVersion it read */
    strcpy(r.rv, "48213");
    n = lease_json(js, sizeof js, "ops", "x", &r);
    CHECK(strstr(js, "\"resourceVersion\":\"48213\"") != NULL);
    CHECK_EQ(lease_parse(js, (size_t)n, &got), 0);
    CHECK_STR(got.rv, "48213");
    /* the output buffer at its size and one byte short */
    CHECK_EQ(lease_json(js, (size_t)n + 1, "ops", "x", &r), n);
    CHECK_EQ(lease_json(js, (size_t)n, "ops", "x", &r), -1);
}

static int parse_str(const char *s, struct lease_rec *r)
{
    size_t n = strlen(s);
    char *g = t_guard(s, n);
    int rc = lease_parse(g, n, r);
    t_unguard(g, n);
    return rc;
}

/* What the API server sends: managedFields, uid, a list item without kind. */
static const char API_LEASE[] =
    "{\"kind\":\"Lease\",\"apiVersion\":\"coordination.k8s.io/v1\",\"metadata\":{\"name\":"
    "\"deploy-api.default.api\",\"namespace\":\"ops\",\"uid\":\"5b3c\",\"resourceVersion\":"
    "\"991\",\"creationTimestamp\":\"2026-11-30T09:40:12Z\",\"annotations\":{\"deploy-api/"
    "user\":\"bob\",\"deploy-api/verb\":\"deploy\",\"deploy-api/target\":\"default/api\"},"
    "\"managedFields\":[{\"manager\":\"deploy-api\",\"operation\":\"Update\",\"apiVersion\":"
    "\"coordination.k8s.io/v1\",\"time\":\"2026-11-30T09:40:12Z\",\"fieldsType\":\"FieldsV1\","
    "\"fieldsV1\":{\"f:spec\":{\"f:holderIdentity\":{}}}}]},\"spec\":{\"holderIdentity\":\"pod-"
    "b\",\"leaseDurationSeconds\":60,\"acquireTime\":\"2026-11-30T09:40:12.000000Z\","
    "\"renewTime\":\"2026-11-30T09:40:32.500000Z\",\"leaseTransitions\":2}}";

TEST(parse_api_lease_and_every_prefix)
{
    struct lease_rec r;
    CHECK_EQ(parse_str(API_LEASE, &r), 0);
    CHECK_STR(r.rv, "991");
    CHECK_STR(r.holder, "pod-b");
    CHECK_STR(r.user, "bob");
    CHECK_EQ(r.renew_ms, 1796031632500LL);
    CHECK_EQ(r.transitions, 2);
    char buf[sizeof API_LEASE];
    for (size_t k = 0; k + 1 < sizeof API_LEASE; k++) {
        memcpy(buf, API_LEASE, k);
        buf[k] = 0;
        if (parse_str(buf, &r) != -1) {
            printf("  prefix %zu accepted\n", k);
            CHECK(0);
            break;
        }
        CHECK(r.holder[0] == 0 && r.rv[0] == 0); /* nothing half-read */
    }
}

TEST(parse_lenient_where_harmless)
{
    struct lease_rec r;
    /* a list item (no kind), a released Lease (null holder, no times) */
    CHECK_EQ(parse_str("{\"metadata\":{\"resourceVersion\":\"7\"},\"spec\":{\"holderIdentity\":"
                       "null}}",
                       &r),
             0);
    CHECK_STR(r.holder, "");
    CHECK_EQ(r.renew_ms, 0);
    CHECK_EQ(parse_str("{\"kind\":\"Lease\"}", &r), 0);
    /* someone else's odd annotations only leave the message shorter */
    CHECK_EQ(parse_str("{\"metadata\":{\"annotations\":{\"deploy-api/user\":42}},\"spec\":{"
                       "\"holderIdentity\":\"p\"}}",
                       &r),
             0);
    CHECK_STR(r.user, "");
    CHECK_STR(r.holder, "p");
}

TEST(parse_malformed)
{
    static const char *const bad[] = {
        "",
        "[]",
        "\"Lease\"",
        "{\"kind\":\"Deployment\",\"spec\":{}}",
        "{\"kind\":\"Lease\",\"spec\":[]}",
        "{\"spec\":{\"holderIdentity\":7}}",
        "{\"spec\":{\"leaseDurationSeconds\":\"60\"}}",
        "{\"spec\":{\"leaseDurationSeconds\":1.5}}",
        "{\"spec\":{\"renewTime\":\"yesterday\"}}",
        "{\"spec\":{\"acquireTime\":12}}",
        "{\"metadata\":{\"resourceVersion\":5}}",
        "{\"spec\":{\"holderIdentity\":\"p\"}} trailing",
        "{\"spec\":{\"holderIdentity\":\"p\\ud800\"",
    };
    struct lease_rec r;
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        if (parse_str(bad[i], &r) != -1) printf("  accepted: %s\n", bad[i]);
        CHECK_EQ(parse_str(bad[i], &r), -1);
    }
}

TEST(parse_holder_and_rv_limits)
{
    char js[1024], h[LEASE_HOLDER_MAX + 2], rv[LEASE_RV_MAX + 2];
    struct lease_rec r;
    memset(h, 'h', LEASE_HOLDER_MAX), h[LEASE_HOLDER_MAX] = 0;
    snprintf(js, sizeof js, "{\"spec\":{\"holderIdentity\":\"%s\"}}", h);
    CHECK_EQ(parse_str(js, &r), 0);
    CHECK_EQ(strlen(r.holder), LEASE_HOLDER_MAX);
    strcat(h, "h");
    snprintf(js, sizeof js, "{\"spec\":{\"holderIdentity\":\"%s\"}}", h);
    CHECK_EQ(parse_str(js, &r), -1);
    memset(rv, '9', LEASE_RV_MAX), rv[LEASE_RV_MAX] = 0;
    snprintf(js, sizeof js, "{\"metadata\":{\"resourceVersion\":\"%s\"}}", rv);
    CHECK_EQ(parse_str(js, &r), 0);
    strcat(rv, "9");
    snprintf(js, sizeof js, "{\"metadata\":{\"resourceVersion\":\"%s\"}}", rv);
    CHECK_EQ(parse_str(js, &r), -1);
}

TEST(state_verdicts)
{
    struct lease_rec r = sample();
    long long t = r.renew_ms;
    CHECK_EQ(lease_state(&r, "me", t + 59999, 60), LEASE_HELD);
    CHECK_EQ(lease_state(&r, "me", t + 60000, 60), LEASE_EXPIRED);
    CHECK_EQ(lease_state(&r, r.holder, t, 60), LEASE_MINE);
    r.renew_ms = 0; /* no renewal yet: the acquire time counts */
    CHECK_EQ(lease_state(&r, "me", r.acquire_ms + 59999, 60), LEASE_HELD);
    CHECK_EQ(lease_state(&r, "me", r.acquire_ms + 60000, 60), LEASE_EXPIRED);
    r.acquire_ms = 0; /* nobody ever renews it */
    CHECK_EQ(lease_state(&r, "me", t, 60), LEASE_EXPIRED);
    r = sample();
    r.duration_s = 0; /* absent: ours counts */
    CHECK_EQ(lease_state(&r, "me", t + 9999, 10), LEASE_HELD);
    CHECK_EQ(lease_state(&r, "me", t + 10000, 10), LEASE_EXPIRED);
    r.duration_s = 0x7fffffffffffffffLL; /* capped: no overflow, held */
    CHECK_EQ(lease_state(&r, "me", t + 1000, 10), LEASE_HELD);
    r.holder[0] = 0;
    CHECK_EQ(lease_state(&r, "me", t, 60), LEASE_FREE);
}

TEST(busy_text)
{
    char out[512];
    struct lease_rec r = sample();
    lease_busy_text(&r, "default/myservice", out, sizeof out);
    CHECK_STR(out, "default/myservice is already being deployed by @alice \"quoted\" (rollback, "
                   "pod deploy-api-7c9f-x2) since 2026-11-30 09:40:12 UTC; try again when it is "
                   "done.");
    strcpy(r.verb, "deploy");
    r.user[0] = 0;
    r.acquire_ms = r.renew_ms = 0;
    lease_busy_text(&r, "a/b", out, sizeof out);
    CHECK_STR(out, "a/b is already being deployed by pod deploy-api-7c9f-x2; try again when it "
                   "is done.");
    /* a small buffer: cut, terminated, no overflow (ASan) */
    char small[24];
    lease_busy_text(&r, "a/b", small, sizeof small);
    CHECK(strlen(small) < sizeof small);
}

/* The lock's settings through config_load (CLI mode: no Slack secret). */
static struct config C;
static char cerr[256];

static int load(const char *lns, const char *pod, const char *dur, const char *token_file)
{
    setenv("KUBE_API_URL", "https://127.0.0.1:6443", 1);
    setenv("KUBE_TOKEN_FILE", token_file ? token_file : "/nonexistent/dir/token", 1);
    lns ? setenv("LEASE_NAMESPACE", lns, 1) : unsetenv("LEASE_NAMESPACE");
    pod ? setenv("POD_NAME", pod, 1) : unsetenv("POD_NAME");
    dur ? setenv("LEASE_DURATION", dur, 1) : unsetenv("LEASE_DURATION");
    cerr[0] = 0;
    return config_load(&C, CONFIG_CLI, cerr, sizeof cerr);
}

TEST(config_lease_settings)
{
    CHECK_EQ(load("ops-tools", "deploy-api-7c9f-x2", NULL, NULL), 0);
    CHECK_STR(C.lease_namespace, "ops-tools");
    CHECK_STR(C.pod_name, "deploy-api-7c9f-x2");
    CHECK_EQ(C.lease_duration, LEASE_DURATION_DEFAULT);
    /* outside a cluster (no namespace file): no Leases; POD_NAME: the hostname */
    CHECK_EQ(load(NULL, NULL, NULL, NULL), 0);
    CHECK_STR(C.lease_namespace, "");
    char host[65] = "";
    gethostname(host, sizeof host - 1);
    CHECK_STR(C.pod_name, host);
    /* LEASE_DURATION at its limits and past them */
    CHECK_EQ(load("ops", "p", "3", NULL), 0);
    CHECK_EQ(C.lease_duration, 3);
    CHECK_EQ(load("ops", "p", "3600", NULL), 0);
    CHECK_EQ(load("ops", "p", "2", NULL), -1);
    CHECK(strstr(cerr, "LEASE_DURATION") != NULL);
    CHECK_EQ(load("ops", "p", "3601", NULL), -1);
    /* a namespace name, a holder identity without blanks */
    CHECK_EQ(load("Ops_Tools", "p", NULL, NULL), -1);
    CHECK(strstr(cerr, "LEASE_NAMESPACE") != NULL);
    CHECK_EQ(load("ops", "pod a", NULL, NULL), -1);
    CHECK(strstr(cerr, "POD_NAME") != NULL);
    CHECK_EQ(load("ops", "pod\x01", NULL, NULL), -1);
    char pod[260];
    memset(pod, 'p', 253), pod[253] = 0;
    CHECK_EQ(load("ops", pod, NULL, NULL), 0);
    strcat(pod, "p");
    CHECK_EQ(load("ops", pod, NULL, NULL), -1);
}

TEST(config_lease_namespace_from_the_service_account)
{
    char dir[] = "/tmp/test-lease-sa-XXXXXX", tok[64], nsf[64];
    CHECK(mkdtemp(dir) != NULL);
    snprintf(tok, sizeof tok, "%s/token", dir);
    snprintf(nsf, sizeof nsf, "%s/namespace", dir);
    FILE *f = fopen(nsf, "w");
    fputs("team-sa\n", f);
    fclose(f);
    CHECK_EQ(load(NULL, "p", NULL, tok), 0);
    CHECK_STR(C.lease_namespace, "team-sa");
    CHECK_EQ(load("explicit", "p", NULL, tok), 0); /* the variable wins */
    CHECK_STR(C.lease_namespace, "explicit");
    f = fopen(nsf, "w");
    fputs("Not A Namespace", f);
    fclose(f);
    CHECK_EQ(load(NULL, "p", NULL, tok), -1);
    CHECK(strstr(cerr, "LEASE_NAMESPACE") != NULL);
    unlink(nsf);
    rmdir(dir);
}

int main(void)
{
    RUN(name_short_and_unambiguous);
    RUN(name_at_and_past_the_limit);
    RUN(time_parse_and_format);
    RUN(time_malformed_and_truncated);
    RUN(json_roundtrip);
    RUN(parse_api_lease_and_every_prefix);
    RUN(parse_lenient_where_harmless);
    RUN(parse_malformed);
    RUN(parse_holder_and_rv_limits);
    RUN(state_verdicts);
    RUN(busy_text);
    RUN(config_lease_settings);
    RUN(config_lease_namespace_from_the_service_account);
    return t_done();
}
