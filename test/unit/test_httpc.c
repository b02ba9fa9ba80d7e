#include "t.h"

#include "../../src/httpc.c"

static char err[256];

TEST(url_ok)
{
    struct url u;
    CHECK_EQ(url_parse("https://10.96.0.1:6443/apis/apps/v1?watch=1&x=%3D", &u, err, sizeof err),
             0);
    CHECK_EQ(u.https, 1);
    CHECK_STR(u.host, "10.96.0.1");
    CHECK_STR(u.port, "6443");
    CHECK_STR(u.path, "/apis/apps/v1?watch=1&x=%3D");
    CHECK_EQ(url_parse("http://localhost", &u, err, sizeof err), 0);
    CHECK_EQ(u.https, 0);
    CHECK_STR(u.port, "80");
    CHECK_STR(u.path, "/");
    CHECK_EQ(url_parse("HTTPS://hooks.slack.com?a=b", &u, err, sizeof err), 0);
    CHECK_STR(u.port, "443");
    CHECK_STR(u.path, "/?a=b");
    CHECK_EQ(url_parse("https://[::1]:8443/x", &u, err, sizeof err), 0);
    CHECK_STR(u.host, "::1");
    CHECK_STR(u.port, "8443");
    CHECK_EQ(url_parse("http://[fd00::1]", &u, err, sizeof err), 0);
    CHECK_STR(u.host, "fd00::1");
    CHECK_STR(u.port, "80");
    CHECK_EQ(url_parse("http://a:65535/", &u, err, sizeof err), 0);
    CHECK_STR(u.port, "65535");
    CHECK_EQ(url_parse("http://a:00080/", &u, err, sizeof err), 0);
    CHECK_STR(u.port, "80");
}

TEST(url_bad)
{
    static const char *bad[] = {
        "ftp://a/",
        "https:/a",
        "a/b",
        "https://",
        "https:///x",
        "https://user@a/",
        "https://a:b@c/",
        "https://a/#frag",
        "https://a/ b",
        "https://a/\tb",
        "https://a/\x01",
        "https://a/\x7f",
        "https://a/\xc3\xa9",
        "https://a:0/",
        "https://a:65536/",
        "https://a:/",
        "https://a:123456/",
        "https://a:8x/",
        "https://[::1/",
        "https://[::1]x/",
        "https://[zz]/",
        "https://a b/",
        "https://a%2e/",
        "https://[]/",
        "http://a..b\\/",
        "",
    };
    struct url u;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err[0] = 0;
        if (url_parse(bad[i], &u, err, sizeof err) != -1 || err[0] == 0) {
            printf("  accepted: %s\n", bad[i]);
            CHECK(0);
        }
    }
}

TEST(url_bounds)
{
    struct url u;
    char s[2400];
    /* host of 255 bytes fits, 256 does not */
    strcpy(s, "http://");
    memset(s + 7, 'a', 255);
    s[262] = 0;
    CHECK_EQ(url_parse(s, &u, err, sizeof err), 0);
    CHECK_EQ(strlen(u.host), 255);
    memset(s + 7, 'a', 256);
    s[263] = 0;
    CHECK_EQ(url_parse(s, &u, err, sizeof err), -1);
    /* path of 2047 bytes fits, 2048 does not */
    strcpy(s, "http://a");
    s[8] = '/';
    memset(s + 9, 'p', 2046);
    s[9 + 2046] = 0;
    CHECK_EQ(url_parse(s, &u, err, sizeof err), 0);
    CHECK_EQ(strlen(u.path), 2047);
    s[9 + 2046] = 'p';
    s[9 + 2047] = 0;
    CHECK_EQ(url_parse(s, &u, err, sizeof err), -1);
    /* "?q" becomes "/?q": 2046 bytes of query fit */
    strcpy(s, "http://a?");
    memset(s + 9, 'q', 2045);
    s[9 + 2045] = 0;
    CHECK_EQ(url_parse(s, &u, err, sizeof err), 0);
    CHECK_EQ(strlen(u.path), 2047);
    s[9 + 2045] = 'q';
    s[9 + 2046] = 0;
    CHECK_EQ(url_parse(s, &u, err, sizeof err), -1);
}

TEST(no_proxy)
{
    CHECK(httpc_no_proxy_match("example.com", "example.com"));
    CHECK(httpc_no_proxy_match("api.example.com", "example.com"));
    CHECK(httpc_no_proxy_match("API.Example.COM", "example.com"));
    CHECK(!httpc_no_proxy_match("badexample.com", "example.com"));
    CHECK(httpc_no_proxy_match("api.example.com", ".example.com"));
    CHECK(httpc_no_proxy_match("example.com", ".example.com"));
    CHECK(!httpc_no_proxy_match("example.org", ".example.com"));
    CHECK(httpc_no_proxy_match("anything", "*"));
    CHECK(httpc_no_proxy_match("anything", "a.b, *"));
    CHECK(httpc_no_proxy_match("kubernetes.default.svc", "localhost,.svc,.cluster.local"));
    CHECK(httpc_no_proxy_match("hooks.slack.com", " foo , hooks.slack.com:443 "));
    CHECK(httpc_no_proxy_match("hooks.slack.com:443", "hooks.slack.com"));
    CHECK(httpc_no_proxy_match("hooks.slack.com.", "hooks.slack.com"));
    CHECK(!httpc_no_proxy_match("hooks.slack.com", "slack.co"));
    CHECK(!httpc_no_proxy_match("hooks.slack.com", ""));
    CHECK(!httpc_no_proxy_match("hooks.slack.com", NULL));
    CHECK(!httpc_no_proxy_match("hooks.slack.com", ",,,"));
    CHECK(!httpc_no_proxy_match("hooks.slack.com", "."));
    /* IPs and CIDR */
    CHECK(httpc_no_proxy_match("10.96.0.1", "10.96.0.1"));
    CHECK(httpc_no_proxy_match("10.96.0.1", "10.96.0.1:443"));
    CHECK(!httpc_no_proxy_match("10.96.0.10", "10.96.0.1"));
    CHECK(httpc_no_proxy_match("10.96.0.10", "10.96.0.0/12"));
    CHECK(httpc_no_proxy_match("10.111.255.255", "10.96.0.0/12"));
    CHECK(!httpc_no_proxy_match("10.112.0.0", "10.96.0.0/12"));
    CHECK(httpc_no_proxy_match("1.2.3.4", "0.0.0.0/0"));
    CHECK(!httpc_no_proxy_match("1.2.3.4", "1.2.3.4/33"));
    CHECK(!httpc_no_proxy_match("1.2.3.4", "1.2.3.4/"));
    CHECK(!httpc_no_proxy_match("example.com", "10.0.0.0/8"));
    CHECK(!httpc_no_proxy_match("10.0.0.1", "10.com"));
    CHECK(httpc_no_proxy_match("::1", "::1"));
    CHECK(httpc_no_proxy_match("::1", "[::1]"));
    CHECK(httpc_no_proxy_match("[::1]", "[::1]:8080"));
    CHECK(httpc_no_proxy_match("fd00::5", "fd00::/8"));
    CHECK(!httpc_no_proxy_match("fe00::5", "fd00::/8"));
    CHECK(!httpc_no_proxy_match("::2", "::1"));
    CHECK(!httpc_no_proxy_match("::1", "127.0.0.1"));
}

/* Decode whole input in pieces of step bytes; returns decoded length or -1. */
static long dechunk(const char *in, size_t n, size_t step, char *out, size_t *consumed, int *done)
{
    struct httpc_chunked c;
    httpc_chunked_init(&c);
    size_t o = 0, i = 0;
    while (i < n && !httpc_chunked_done(&c)) {
        size_t k = n - i < step ? n - i : step;
        char *g = t_guard(in + i, k);
        size_t used;
        long d = httpc_chunked_decode(&c, g, k, &used);
        if (d < 0) {
            t_unguard(g, k);
            return -1;
        }
        memcpy(out + o, g, (size_t)d);
        o += (size_t)d;
        i += used;
        t_unguard(g, k);
        if (used < k && !httpc_chunked_done(&c)) return -2; /* must consume all unless done */
    }
    *consumed = i;
    *done = httpc_chunked_done(&c);
    return (long)o;
}

TEST(chunked_ok)
{
    static const char in[] = "4\r\nWiki\r\n5;name=\"v\"\r\npedia\r\nE\r\n in\r\n\r\nchunks.\r\n"
                             "0\r\nX-Trailer: 1\r\n\r\nNEXT";
    size_t n = sizeof in - 1;
    for (size_t step = 1; step <= n; step++) {
        char out[128];
        size_t used;
        int done;
        long d = dechunk(in, n, step, out, &used, &done);
        CHECK_EQ(d, 23);
        CHECK(d == 23 && memcmp(out, "Wikipedia in\r\n\r\nchunks.", 23) == 0);
        CHECK_EQ(done, 1);
        CHECK_EQ(used, n - 4);
    }
    char out[64];
    size_t used;
    int done;
    CHECK_EQ(dechunk("0\r\n\r\n", 5, 5, out, &used, &done), 0);
    CHECK_EQ(done, 1);
    CHECK_EQ(dechunk("a \r\n0123456789\r\n0\r\n\r\n", 22, 3, out, &used, &done), 10);
    CHECK_EQ(dechunk("000A\r\n0123456789\r\n0\r\n\r\n", 24, 3, out, &used, &done), 10);
    CHECK_EQ(done, 1);
}

TEST(chunked_truncated)
{
    static const char in[] = "4\r\nWiki\r\n0\r\n\r\n";
    size_t n = sizeof in - 1;
    for (size_t k = 0; k < n; k++) {
        char out[64];
        size_t used;
        int done = 0;
        long d = dechunk(in, k, 1, out, &used, &done);
        CHECK(d >= 0);
        CHECK_EQ(done, 0);
    }
}

TEST(chunked_bad)
{
    static const char *bad[] = {
        "\r\n",
        "x\r\n",
        "-1\r\n",
        "4\nWiki\r\n",
        "4\r\nWikiX\r\n",
        "4\r\nWiki\n0\r\n",
        "4\r\rWiki",
        "0\r\n\n",
        "0\r\nA: b\n",
        "0\r\n: b\r\n",
        "0\r\n b\r\n",
        "4;\x01\r\n",
        "1000000000000000\r\n",
        "4\r\nWiki\r\r",
        "0x4\r\n",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char out[64];
        size_t used;
        int done;
        if (dechunk(bad[i], strlen(bad[i]), 64, out, &used, &done) != -1) {
            printf("  accepted: %s\n", bad[i]);
            CHECK(0);
        }
    }
    /* 15 hex digits is the most accepted. */
    char out[8];
    size_t used;
    int done;
    CHECK_EQ(dechunk("000000000000001\r\nx", 18, 64, out, &used, &done), 1);
}

TEST(chunked_bounds)
{
    static char in[HTTPC_MAX_TRAILERS + 64];
    char out[8];
    size_t used;
    int done;
    /* size line: 4096 bytes ok (with CR), 4097 not */
    size_t n = 0;
    in[n++] = '1';
    in[n++] = ';';
    while (n < HTTPC_MAX_CHUNK_LINE - 1) in[n++] = 'e';
    in[n++] = '\r';
    in[n++] = '\n';
    CHECK_EQ(dechunk(in, n, 64, out, &used, &done), 0);
    in[n - 2] = 'e';
    in[n - 1] = '\r';
    in[n++] = '\n';
    CHECK_EQ(dechunk(in, n, 64, out, &used, &done), -1);
    /* trailers: HTTPC_MAX_TRAILERS bytes ok, one more not */
    n = 0;
    memcpy(in, "0\r\n", 3);
    n = 3;
    size_t t0 = n;
    in[n++] = 'X';
    in[n++] = ':';
    while (n - t0 < HTTPC_MAX_TRAILERS - 1) in[n++] = 'v';
    in[n++] = '\r'; /* counted: total HTTPC_MAX_TRAILERS */
    in[n++] = '\n';
    in[n++] = '\r';
    in[n++] = '\n';
    CHECK_EQ(dechunk(in, n, 100, out, &used, &done), 0);
    CHECK_EQ(done, 1);
    n -= 4;
    in[n++] = 'v';
    in[n++] = '\r';
    in[n++] = '\n';
    in[n++] = '\r';
    in[n++] = '\n';
    CHECK_EQ(dechunk(in, n, 100, out, &used, &done), -1);
}

static long head(const char *s, struct httpc_head *h)
{
    size_t n = strlen(s);
    char *g = t_guard(s, n);
    long r = httpc_parse_head(g, n, h);
    t_unguard(g, n);
    return r;
}

TEST(head_ok)
{
    struct httpc_head h;
    const char *r1 = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                     "Content-Length: 42\r\nX-Empty:\r\n\r\n{\"body\"";
    CHECK_EQ(head(r1, &h), (long)strlen(r1) - 7);
    CHECK_EQ(h.status, 200);
    CHECK_EQ(h.content_length, 42);
    CHECK_EQ(h.chunked, 0);
    CHECK_EQ(h.retry_after, -1);
    CHECK_STR(h.content_type, "application/json");
    const char *r2 = "HTTP/1.0 429 Too Many Requests\r\nretry-after:  30 \r\n"
                     "TRANSFER-ENCODING: Chunked\r\n\r\n";
    CHECK_EQ(head(r2, &h), (long)strlen(r2));
    CHECK_EQ(h.status, 429);
    CHECK_EQ(h.retry_after, 30);
    CHECK_EQ(h.chunked, 1);
    CHECK_EQ(h.content_length, -1);
    CHECK(head("HTTP/1.1 204\r\n\r\n", &h) > 0);
    CHECK_EQ(h.status, 204);
    CHECK(head("HTTP/1.1 503 \r\nRetry-After: Wed, 21 Oct 2015 07:28:00 GMT\r\n\r\n", &h) > 0);
    CHECK_EQ(h.retry_after, -1);
    CHECK(head("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\n", &h) > 0);
    CHECK_EQ(h.content_length, 5);
    /* Content-Type is cut to fit */
    char big[400];
    snprintf(big, sizeof big, "HTTP/1.1 200 OK\r\nContent-Type: %0200d\r\n\r\n", 7);
    CHECK(head(big, &h) > 0);
    CHECK_EQ(strlen(h.content_type), sizeof h.content_type - 1);
}

TEST(head_incomplete_and_bad)
{
    struct httpc_head h;
    const char *full = "HTTP/1.1 404 Not Found\r\nContent-Length: 10\r\n\r\n";
    size_t n = strlen(full);
    for (size_t k = 0; k < n; k++) {
        char *g = t_guard(full, k);
        long r = httpc_parse_head(g, k, &h);
        t_unguard(g, k);
        if (r != 0) {
            printf("  prefix %zu gave %ld\n", k, r);
            CHECK(0);
        }
    }
    static const char *bad[] = {
        "HTTP/2 200 OK\r\n\r\n",
        "HTTP/1.1 200 OK\n\n",
        "HTTP/1.1 200 OK\r\nA: b\n\r\n",
        "HTTP/1.1 20 OK\r\n\r\n",
        "HTTP/1.1 2000 OK\r\n\r\n",
        "HTTP/1.1 099 X\r\n\r\n",
        "HTTP/1.1 600 X\r\n\r\n",
        "HTTP/1.1 200OK\r\n\r\n",
        "http/1.1 200 OK\r\n\r\n",
        "HTTP/1.1 200 OK\r\nNo colon\r\n\r\n",
        "HTTP/1.1 200 OK\r\n: v\r\n\r\n",
        "HTTP/1.1 200 OK\r\nBad Name: v\r\n\r\n",
        "HTTP/1.1 200 OK\r\nA: b\r\n folded\r\n\r\n",
        "HTTP/1.1 200 OK\r\nA: b\x01\r\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Length: 1 2\r\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Length: \r\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Length: 9999999999999999\r\n\r\n",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n",
        "\r\n\r\n",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (head(bad[i], &h) != -1) {
            printf("  accepted: %s\n", bad[i]);
            CHECK(0);
        }
    }
}

TEST(head_bounds)
{
    static char buf[HTTPC_MAX_HEAD + 16];
    struct httpc_head h;
    /* A head of exactly HTTPC_MAX_HEAD bytes parses; one more byte does not. */
    const char *pre = "HTTP/1.1 200 OK\r\nX: ";
    size_t n = strlen(pre);
    memcpy(buf, pre, n);
    while (n < HTTPC_MAX_HEAD - 4) buf[n++] = 'v';
    memcpy(buf + n, "\r\n\r\n", 4);
    n += 4;
    CHECK_EQ(httpc_parse_head(buf, n, &h), HTTPC_MAX_HEAD);
    memcpy(buf + n - 4, "v\r\n\r\n", 5);
    n += 1;
    CHECK_EQ(httpc_parse_head(buf, n, &h), -1);
    /* Incomplete but at the limit: -1, not "need more". */
    memset(buf + strlen(pre), 'v', HTTPC_MAX_HEAD - strlen(pre));
    CHECK_EQ(httpc_parse_head(buf, HTTPC_MAX_HEAD, &h), -1);
    CHECK_EQ(httpc_parse_head(buf, HTTPC_MAX_HEAD - 1, &h), 0);
}

/* ---- error codes, against a plain-HTTP server in a child ---- */

#include <signal.h>
#include <sys/wait.h>

/* Canned answers by request path; "reset" aborts with an RST. */
static const char *const answers[][2] = {
    {"/ok", "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"},
    {"/closed", ""},
    {"/short", "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc"},
    {"/badhead", "HTTP/1.1 2x0 OK\r\n\r\n"},
    {"/badchunk", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"},
    {"/big", "HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\nhello world"},
    {"/switch", "HTTP/1.1 101 Switching Protocols\r\n\r\n"},
    {"/reset", NULL},
};

static void serve_one(int c)
{
    char req[2048];
    size_t n = 0;
    while (n < sizeof req - 1 && !memmem(req, n, "\r\n\r\n", 4)) {
        ssize_t r = read(c, req + n, sizeof req - 1 - n);
        if (r <= 0) return;
        n += (size_t)r;
    }
    req[n] = 0;
    for (size_t i = 0; i < sizeof answers / sizeof answers[0]; i++) {
        size_t pl = strlen(answers[i][0]);
        if (strncmp(req + 4, answers[i][0], pl) != 0 || req[4 + pl] != ' ') continue;
        if (!answers[i][1]) {
            struct linger lg = {1, 0};
            setsockopt(c, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
        } else if (write(c, answers[i][1], strlen(answers[i][1])) < 0) {
            return;
        }
        return;
    }
}

static pid_t server_pid;

/* A listening 127.0.0.1 port served by a child (bounded: 64 connections). */
static int server_start(char port[8])
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(0x7f000001)};
    socklen_t al = sizeof a;
    int l = socket(AF_INET, SOCK_STREAM, 0);
    if (l < 0 || bind(l, (struct sockaddr *)&a, sizeof a) < 0 || listen(l, 8) < 0 ||
        getsockname(l, (struct sockaddr *)&a, &al) < 0)
        return -1;
    snprintf(port, 8, "%u", ntohs(a.sin_port));
    server_pid = fork();
    if (server_pid == 0) {
        for (int i = 0; i < 64; i++) {
            int c = accept(l, NULL, NULL);
            if (c < 0) break;
            serve_one(c);
            close(c);
        }
        _exit(0);
    }
    close(l);
    return server_pid > 0 ? 0 : -1;
}

/* A 127.0.0.1 port nothing listens on. */
static void closed_port(char port[8])
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(0x7f000001)};
    socklen_t al = sizeof a;
    int l = socket(AF_INET, SOCK_STREAM, 0);
    bind(l, (struct sockaddr *)&a, sizeof a);
    getsockname(l, (struct sockaddr *)&a, &al);
    snprintf(port, 8, "%u", ntohs(a.sin_port));
    close(l);
}

static enum httpc_err fetch(const char *port, const char *path, size_t max)
{
    struct httpc_opts o = {.timeout_s = 5};
    struct url u = {0};
    struct httpc_resp r;
    snprintf(u.host, sizeof u.host, "127.0.0.1");
    snprintf(u.port, sizeof u.port, "%s", port);
    snprintf(u.path, sizeof u.path, "%s", path);
    err[0] = 0;
    int rc = httpc_do(&o, "GET", &u, NULL, NULL, 0, max, &r, err, sizeof err);
    enum httpc_err e = r.error;
    if (rc == 0) httpc_resp_free(&r);
    if ((rc == 0) != (e == HTTPC_OK) || e != httpc_last_error()) return (enum httpc_err) - 1;
    return e;
}

TEST(error_codes)
{
    char port[8], dead[8];
    if (server_start(port) < 0) {
        CHECK(0);
        return;
    }
    closed_port(dead);
    CHECK_EQ(fetch(port, "/ok", 100), HTTPC_OK);
    CHECK_EQ(fetch(port, "/closed", 100), HTTPC_RESET);
    CHECK_STR(err, "connection closed without a response");
    CHECK_EQ(fetch(port, "/short", 100), HTTPC_TRUNCATED);
    CHECK_EQ(fetch(port, "/badhead", 100), HTTPC_PROTOCOL);
    CHECK_EQ(fetch(port, "/badchunk", 100), HTTPC_PROTOCOL);
    CHECK_EQ(fetch(port, "/big", 11), HTTPC_OK);      /* at the limit */
    CHECK_EQ(fetch(port, "/big", 10), HTTPC_TOO_BIG); /* one past it */
    CHECK_EQ(fetch(port, "/switch", 100), HTTPC_UNSUPPORTED);
    enum httpc_err e = fetch(port, "/reset", 100);
    CHECK(e == HTTPC_RESET);
    CHECK_EQ(fetch(dead, "/ok", 100), HTTPC_CONNECT);
    CHECK_STR(err, "connection refused");
    kill(server_pid, SIGTERM);
    waitpid(server_pid, NULL, 0);
}

TEST(error_broken)
{
    CHECK_EQ(httpc_err_broken(HTTPC_RESET), 1);
    CHECK_EQ(httpc_err_broken(HTTPC_TRUNCATED), 1);
    CHECK_EQ(httpc_err_broken(HTTPC_PROTOCOL), 1);
    CHECK_EQ(httpc_err_broken(HTTPC_OK), 0);
    CHECK_EQ(httpc_err_broken(HTTPC_CONNECT), 0);
    CHECK_EQ(httpc_err_broken(HTTPC_TIMEOUT), 0);
    CHECK_EQ(httpc_err_broken(HTTPC_TLS), 0);
    CHECK_EQ(httpc_err_broken(HTTPC_TOO_BIG), 0);
    CHECK_EQ(httpc_err_broken(HTTPC_UNSUPPORTED), 0);
    CHECK_EQ(httpc_err_broken(HTTPC_BAD_REQUEST), 0);
}

/* Each failure kind has its own words; host:port always, IPv6 bracketed. */
TEST(explain)
{
    struct url u;
    char e[64], out[400];
    CHECK_EQ(url_parse("https://127.0.0.1:6443/", &u, e, sizeof e), 0);
    httpc_explain(HTTPC_TLS, "the Kubernetes API", &u, "certificate not trusted (unknown CA)", out,
                  sizeof out);
    CHECK_STR(out, "TLS handshake with the Kubernetes API at 127.0.0.1:6443 failed: certificate "
                   "not trusted (unknown CA)");
    httpc_explain(HTTPC_CONNECT, "the Kubernetes API", &u, "connection refused", out, sizeof out);
    CHECK_STR(out, "cannot connect to the Kubernetes API at 127.0.0.1:6443: connection refused");
    httpc_explain(HTTPC_RESET, "X", &u, "connection reset", out, sizeof out);
    CHECK_STR(out, "X at 127.0.0.1:6443 broke off its answer: connection reset");
    CHECK_EQ(url_parse("https://[::1]/", &u, e, sizeof e), 0);
    httpc_explain(HTTPC_TIMEOUT, "X", &u, "", out, sizeof out);
    CHECK_STR(out, "cannot connect to X at [::1]:443: unknown error");
    /* every code has words, distinct from the others' */
    char seen[HTTPC_IO + 1][200];
    for (int c = HTTPC_BAD_REQUEST; c <= HTTPC_IO; c++) {
        httpc_explain((enum httpc_err)c, "X", &u, "d", seen[c], sizeof seen[c]);
        CHECK(strstr(seen[c], "X at [::1]:443") != NULL);
    }
    CHECK(strcmp(seen[HTTPC_TLS], seen[HTTPC_CONNECT]) != 0);
    CHECK(strcmp(seen[HTTPC_TLS], seen[HTTPC_RESET]) != 0);
    CHECK(strcmp(seen[HTTPC_CONNECT], seen[HTTPC_RESET]) != 0);
    /* cut to fit, always terminated */
    httpc_explain(HTTPC_TLS, "X", &u, "d", out, 10);
    CHECK_EQ(strlen(out), 9);
}

int main(void)
{
    RUN(explain);
    RUN(url_ok);
    RUN(url_bad);
    RUN(url_bounds);
    RUN(no_proxy);
    RUN(chunked_ok);
    RUN(chunked_truncated);
    RUN(chunked_bad);
    RUN(chunked_bounds);
    RUN(head_ok);
    RUN(head_incomplete_and_bad);
    RUN(head_bounds);
    RUN(error_broken);
    RUN(error_codes);
    return t_done();
}
