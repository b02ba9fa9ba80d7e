#include "t.h"

#include "chunked.h"

static long dechunk(const char *in, size_t n, size_t step, char *out, size_t *consumed, int *done)
{
    struct chunked c;
    chunked_init(&c);
    size_t o = 0, i = 0;
    while (i < n && !chunked_done(&c)) {
        size_t k = n - i < step ? n - i : step;
        char *g = t_guard(in + i, k);
        size_t used;
        long d = chunked_decode(&c, g, k, &used);
        if (d < 0) {
            t_unguard(g, k);
            return -1;
        }
        memcpy(out + o, g, (size_t)d);
        o += (size_t)d;
        i += used;
        t_unguard(g, k);
        if (used < k && !chunked_done(&c)) return -2; /* must consume all unless done */
    }
    *consumed = i;
    *done = chunked_done(&c);
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
    static char in[CHUNKED_MAX_TRAILERS + 64];
    char out[8];
    size_t used;
    int done;
    /* size line: 4096 bytes ok (with CR), 4097 not */
    size_t n = 0;
    in[n++] = '1';
    in[n++] = ';';
    while (n < CHUNKED_MAX_LINE - 1) in[n++] = 'e';
    in[n++] = '\r';
    in[n++] = '\n';
    CHECK_EQ(dechunk(in, n, 64, out, &used, &done), 0);
    in[n - 2] = 'e';
    in[n - 1] = '\r';
    in[n++] = '\n';
    CHECK_EQ(dechunk(in, n, 64, out, &used, &done), -1);
    /* trailers: CHUNKED_MAX_TRAILERS bytes ok, one more not */
    n = 0;
    memcpy(in, "0\r\n", 3);
    n = 3;
    size_t t0 = n;
    in[n++] = 'X';
    in[n++] = ':';
    while (n - t0 < CHUNKED_MAX_TRAILERS - 1) in[n++] = 'v';
    in[n++] = '\r'; /* counted: total CHUNKED_MAX_TRAILERS */
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

int main(void)
{
    RUN(chunked_ok);
    RUN(chunked_truncated);
    RUN(chunked_bad);
    RUN(chunked_bounds);
    return t_done();
}
