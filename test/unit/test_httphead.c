#include "t.h"

#include "httphead.h"
#include "limits.h"

static long head(const char *s, struct httphead *h)
{
    size_t n = strlen(s);
    char *g = t_guard(s, n);
    long r = httphead_parse(g, n, h);
    t_unguard(g, n);
    return r;
}

TEST(head_ok)
{
    struct httphead h;
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
    struct httphead h;
    const char *full = "HTTP/1.1 404 Not Found\r\nContent-Length: 10\r\n\r\n";
    size_t n = strlen(full);
    for (size_t k = 0; k < n; k++) {
        char *g = t_guard(full, k);
        long r = httphead_parse(g, k, &h);
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
    struct httphead h;
    /* A head of exactly HTTPC_MAX_HEAD bytes parses; one more byte does not. */
    const char *pre = "HTTP/1.1 200 OK\r\nX: ";
    size_t n = strlen(pre);
    memcpy(buf, pre, n);
    while (n < HTTPC_MAX_HEAD - 4) buf[n++] = 'v';
    memcpy(buf + n, "\r\n\r\n", 4);
    n += 4;
    CHECK_EQ(httphead_parse(buf, n, &h), HTTPC_MAX_HEAD);
    memcpy(buf + n - 4, "v\r\n\r\n", 5);
    n += 1;
    CHECK_EQ(httphead_parse(buf, n, &h), -1);
    /* Incomplete but at the limit: -1, not "need more". */
    memset(buf + strlen(pre), 'v', HTTPC_MAX_HEAD - strlen(pre));
    CHECK_EQ(httphead_parse(buf, HTTPC_MAX_HEAD, &h), -1);
    CHECK_EQ(httphead_parse(buf, HTTPC_MAX_HEAD - 1, &h), 0);
}

int main(void)
{
    RUN(head_ok);
    RUN(head_incomplete_and_bad);
    RUN(head_bounds);
    return t_done();
}
