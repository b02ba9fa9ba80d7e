/* http_parse, http_header, http_response, picohttpparser-style: every prefix
 * of every valid request, byte-at-a-time resumption with one `scanned`,
 * every limit at its bound and one past it, malformed request lines and
 * headers, pipelining. Every input sits right before an unmapped page. */
#include "t.h"

#include "http.h"

static struct http_request R;

/* One guarded arena, made by t_guard once: every input is copied so that
 * its last byte sits right before the inaccessible page, so any read past
 * the end faults. R's slices point into the arena until the next parse. */
#define ARENA (4 * HTTP_MAX_HEAD)
static char *A;
static char *G; /* the current input inside A */
static size_t GN;

static char *place(const char *s, size_t n)
{
    if (n > ARENA) abort();
    char *p = A + ARENA - n;
    if (n) memmove(p, s, n);
    return p;
}

/* Parse s[0..n) at once, scanned starting at 0. */
static long parse_n(const char *s, size_t n)
{
    G = place(s, n);
    GN = n;
    size_t scanned = 0;
    return http_parse(G, n, &scanned, &R);
}

static long parse(const char *s)
{
    return parse_n(s, strlen(s));
}

/* parse() of a string literal (NUL bytes included), naming it on failure. */
#define CHECK_PARSE(lit, want)                                                                     \
    do {                                                                                           \
        long got_ = parse_n(lit, sizeof(lit) - 1);                                                 \
        if (got_ != (long)(want)) {                                                                \
            if (!t_failed_now)                                                                     \
                printf("FAIL %s:%d: parse(%s) = %ld, want %ld\n", __FILE__, __LINE__, #lit, got_,  \
                       (long)(want));                                                              \
            t_failed_now = 1;                                                                      \
        }                                                                                          \
    } while (0)

/* A complete head literal parses to its whole length. */
#define CHECK_PARSE_HEAD(lit) CHECK_PARSE(lit, sizeof(lit) - 1)

static int in_buf(struct slice s)
{
    return s.p >= G && s.p + s.n <= G + GN;
}

/* slice_eq that tolerates the {NULL, 0} query slice (see
 * empty_query_points_into_buffer): memcmp(NULL, .., 0) aborts under UBSan. */
static int sl_is(struct slice s, const char *v)
{
    return s.n == 0 ? *v == 0 : slice_eq(s, v);
}

/* 1 when header name's value is exactly v. */
static int hdr_is(const char *name, const char *v)
{
    const struct slice *s = http_header(&R, name);
    return s && slice_eq(*s, v);
}

/* Feed s one byte more at a time, each prefix in its own guarded copy, with
 * one scanned variable; every prefix shorter than the head must give 0.
 * Returns what the first non-zero call returned (or 0), and checks that the
 * result equals parsing the whole of s at once with a fresh scanned. */
static long incremental(const char *s, size_t n)
{
    size_t scanned = 0, last = 0;
    long rc = 0;
    size_t k;
    struct http_request r;
    for (k = 0; k <= n; k++) {
        rc = http_parse(place(s, k), k, &scanned, &r);
        if (rc != 0) break;
        CHECK(scanned >= last && scanned <= k); /* never goes back, never past the data */
        last = scanned;
    }
    long whole = parse_n(s, n);
    CHECK_EQ(rc, whole);
    if (rc > 0) {
        CHECK_EQ(k, (size_t)rc); /* complete exactly when the blank line arrived */
        CHECK_EQ(r.head_len, R.head_len);
        CHECK_EQ(r.nh, R.nh);
        CHECK_EQ(r.method, R.method);
        CHECK_EQ(r.content_length, R.content_length);
        CHECK_EQ(r.keep_alive, R.keep_alive);
        CHECK_EQ(r.target.n, R.target.n);
    }
    return rc;
}

/* Every prefix of s[0..n) shorter than head, parsed with a fresh scanned. */
static void every_prefix_needs_more(const char *s, size_t head)
{
    for (size_t k = 0; k < head; k++) {
        size_t scanned = 0;
        struct http_request r;
        long rc = http_parse(place(s, k), k, &scanned, &r);
        if (rc != 0) {
            printf("    prefix %zu of %zu returned %ld\n", k, head, rc);
            CHECK_EQ(rc, 0);
            return;
        }
    }
}

static const char slack_body[] =
    "token=gIkuvaNzQIHg97ATvDxqgjtO&team_id=T0001&team_domain=example&channel_id=C2147483705&"
    "channel_name=test&user_id=U2147483697&user_name=Steve&command=%2Fdeploy&text=auth+1.4&"
    "response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2F1234%2F5678&trigger_id=13345224609."
    "738474920.8088930838d88f008e0";

/* One valid request and what it must parse to. */
struct valid {
    const char *req;
    size_t body; /* bytes after the head */
    enum http_method method;
    const char *path, *query;
    int minor, keep_alive, expect_continue;
    size_t nh, content_length;
};

static char slack_req[2048];

static void build_slack_req(void)
{
    snprintf(slack_req, sizeof slack_req,
             "POST /deploy HTTP/1.1\r\n"
             "Host: deploy.example.com\r\n"
             "User-Agent: Slackbot 1.0 (+https://api.slack.com/robots)\r\n"
             "Accept-Encoding: gzip,deflate\r\n"
             "Accept: application/json,*/*\r\n"
             "X-Slack-Signature: "
             "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503\r\n"
             "X-Slack-Request-Timestamp: 1531420618\r\n"
             "Content-Type: application/x-www-form-urlencoded\r\n"
             "Content-Length: %zu\r\n"
             "\r\n"
             "%s",
             sizeof slack_body - 1, slack_body);
}

static struct valid valids[] = {
    {slack_req, sizeof slack_body - 1, M_POST, "/deploy", "", 1, 1, 0, 8, sizeof slack_body - 1},
    {"GET /healthz HTTP/1.1\r\nHost: a\r\n\r\n", 0, M_GET, "/healthz", "", 1, 1, 0, 1, 0},
    {"GET /healthz HTTP/1.0\r\n\r\n", 0, M_GET, "/healthz", "", 0, 0, 0, 0, 0},
    {"HEAD /readyz?x=1&y=%20 HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n", 0, M_HEAD,
     "/readyz", "x=1&y=%20", 1, 0, 0, 2, 0},
    {"POST /deploy HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\nabc", 3,
     M_POST, "/deploy", "", 1, 1, 1, 3, 3},
    {"GET /metrics HTTP/1.1\nHost: a\nAccept: text/plain\n\n", 0, M_GET, "/metrics", "", 1, 1, 0, 2,
     0},
    {"\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n", 0, M_GET, "/", "", 1, 1, 0, 1, 0},
    {"\n\nGET /? HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n", 0, M_GET, "/", "", 0, 1, 0, 1, 0},
    {"DELETE /a/b/c HTTP/1.2\r\nHost: a\r\nX-Empty:\r\nX-Pad: \t v a l \t \r\n\r\n", 0, M_DELETE,
     "/a/b/c", "", 1, 1, 0, 3, 0},
    {"OPTIONS /x HTTP/1.1\r\nhost: a\r\ncontent-length: 2\r\n\r\nhi", 2, M_OPTIONS, "/x", "", 1, 1,
     0, 2, 2},
    {"PUT / HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\n", 0, M_PUT, "/", "", 1, 1, 0, 2, 0},
    {"PATCH /p HTTP/1.1\r\nHost: a\r\nContent-Length:1\r\n\r\nx", 1, M_PATCH, "/p", "", 1, 1, 0, 2,
     1},
};

TEST(valid_requests)
{
    for (size_t i = 0; i < sizeof valids / sizeof valids[0]; i++) {
        const struct valid *v = &valids[i];
        size_t n = strlen(v->req), head = n - v->body;
        every_prefix_needs_more(v->req, head);
        CHECK_EQ(incremental(v->req, n), (long)head);
        /* With the body present, or only part of it, the head parses the same. */
        for (size_t k = head; k <= n; k++) {
            long rc = parse_n(v->req, k);
            CHECK_EQ(rc, (long)head);
        }
        long rc = parse_n(v->req, n);
        if (rc != (long)head) printf("    request %zu: %ld\n", i, rc);
        CHECK_EQ(rc, (long)head);
        CHECK_EQ(R.head_len, head);
        CHECK_EQ(R.method, v->method);
        CHECK(slice_eq(R.path, v->path));
        CHECK(sl_is(R.query, v->query));
        CHECK_EQ(R.minor, v->minor);
        CHECK_EQ(R.keep_alive, v->keep_alive);
        CHECK_EQ(R.expect_continue, v->expect_continue);
        CHECK_EQ(R.nh, v->nh);
        CHECK_EQ(R.content_length, v->content_length);
        CHECK_EQ(R.has_length, v->content_length > 0 || http_header(&R, "content-length"));
        /* Every slice points into the request. */
        CHECK(in_buf(R.method_name) && in_buf(R.target) && in_buf(R.path));
        CHECK(R.query.n == 0 || in_buf(R.query));
        for (size_t h = 0; h < R.nh; h++) CHECK(in_buf(R.h[h].name) && in_buf(R.h[h].value));
        /* target = path ["?" query] */
        CHECK(R.target.p == R.path.p);
        CHECK(R.target.n == R.path.n ||
              (R.target.n == R.path.n + 1 + R.query.n && R.path.p[R.path.n] == '?'));
        if (t_failed_now) {
            printf("    in request %zu\n", i);
            return;
        }
    }
}

TEST(slack_request_fields)
{
    build_slack_req();
    size_t n = strlen(slack_req);
    CHECK_EQ(parse(slack_req), (long)(n - (sizeof slack_body - 1)));
    CHECK(slice_eq(R.method_name, "POST"));
    CHECK(slice_eq(R.target, "/deploy"));
    CHECK(hdr_is("host", "deploy.example.com"));
    CHECK(hdr_is("X-SLACK-SIGNATURE",
                 "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503"));
    CHECK(hdr_is("x-slack-request-timestamp", "1531420618"));
    CHECK(hdr_is("User-Agent", "Slackbot 1.0 (+https://api.slack.com/robots)"));
    CHECK(hdr_is("Content-Type", "application/x-www-form-urlencoded"));
    CHECK(slice_eq(R.h[0].name, "Host"));
    CHECK(slice_eq(R.h[7].name, "Content-Length"));
    CHECK(http_header(&R, "x-slack-signature-") == NULL);
    CHECK(http_header(&R, "") == NULL);
    CHECK(memcmp(slack_req + R.head_len, slack_body, sizeof slack_body - 1) == 0);
}

TEST(header_values_trimmed)
{
    CHECK_PARSE("GET / HTTP/1.1\r\nHost:   a.b  \r\nX-A:\t\tv 1\t \r\nX-E:\r\nX-S:    \r\n"
                "X-Obs: caf\xc3\xa9\r\nX-Dup: one\r\nx-dup: two\r\n\r\n",
                sizeof("GET / HTTP/1.1\r\nHost:   a.b  \r\nX-A:\t\tv 1\t \r\nX-E:\r\nX-S:    \r\n"
                       "X-Obs: caf\xc3\xa9\r\nX-Dup: one\r\nx-dup: two\r\n\r\n") -
                    1);
    CHECK(hdr_is("host", "a.b"));
    CHECK(hdr_is("x-a", "v 1")); /* inner whitespace kept */
    CHECK(hdr_is("x-e", ""));
    CHECK(hdr_is("x-s", ""));
    CHECK(hdr_is("x-obs", "caf\xc3\xa9")); /* obs-text is allowed in values */
    CHECK(hdr_is("X-Dup", "one"));         /* the first of duplicates */
    CHECK_EQ(R.nh, 7);
    CHECK(slice_eq(R.h[6].name, "x-dup") && slice_eq(R.h[6].value, "two"));
    for (size_t h = 0; h < R.nh; h++) CHECK(in_buf(R.h[h].value));
}

/* The resume offset is honoured: bytes already searched are not searched again. */
TEST(scanned_skips_searched_bytes)
{
    const char s[] = "GET / HTTP/1.0\r\n\r\nXXXXXXXXXXXX";
    char *g = place(s, sizeof s - 1);
    struct http_request r;
    size_t scanned = sizeof s - 1; /* claims the blank line was already searched for */
    CHECK_EQ(http_parse(g, sizeof s - 1, &scanned, &r), 0);
    scanned = 0;
    CHECK_EQ(http_parse(g, sizeof s - 1, &scanned, &r), 18);
    /* A blank line split across calls at every point is found. */
    const char *tails[] = {"\r\n\r\n", "\n\n", "\n\r\n", "\r\n\n"};
    for (size_t i = 0; i < 4; i++) {
        char req[64];
        int n = snprintf(req, sizeof req, "GET / HTTP/1.0%s", tails[i]);
        CHECK_EQ(incremental(req, (size_t)n), n);
    }
}

TEST(request_line_malformed)
{
    CHECK_PARSE("GET\r\n\r\n", -400);
    CHECK_PARSE("GET /\r\n\r\n", -400);
    CHECK_PARSE("GET / \r\n\r\n", -400);
    CHECK_PARSE("GET  HTTP/1.1\r\n\r\n", -400);
    CHECK_PARSE(" GET / HTTP/1.1\r\nHost: a\r\n\r\n", -400);
    CHECK_PARSE("/ HTTP/1.1\r\nHost: a\r\n\r\n", -400);
    CHECK_PARSE("GET  / HTTP/1.1\r\nHost: a\r\n\r\n", -400);
    CHECK_PARSE("GET /  HTTP/1.1\r\nHost: a\r\n\r\n", -400);
    CHECK_PARSE("GET / HTTP/1.1 \r\nHost: a\r\n\r\n", -400);
    CHECK_PARSE("GET\t/ HTTP/1.1\r\nHost: a\r\n\r\n", -400);
    CHECK_PARSE("GET /\tHTTP/1.1\r\nHost: a\r\n\r\n", -400);
    CHECK_PARSE("GET / http/1.1\r\nHost: a\r\n\r\n", -400);
    CHECK_PARSE("GET / Http/1.1\r\nHost: a\r\n\r\n", -400);
    CHECK_PARSE("GET / HTTP/1\r\nHost: a\r\n\r\n", -400);
    CHECK_PARSE("GET / HTTP/1.\r\nHost: a\r\n\r\n", -400);
    CHECK_PARSE("GET / HTTP/1.a\r\nHost: a\r\n\r\n", -400);
    CHECK_PARSE("GET / HTTP/11.1\r\nHost: a\r\n\r\n", -400);
    CHECK_PARSE("GET / HTTP/1.10\r\nHost: a\r\n\r\n", -400);
    CHECK_PARSE("GET / HTTP/1,1\r\nHost: a\r\n\r\n", -400);
    CHECK_PARSE("GET / HTTP/\r\nHost: a\r\n\r\n", -400);
    CHECK_PARSE("GET / \r\nHost: a\r\n\r\n", -400);
    CHECK_PARSE("G(T / HTTP/1.1\r\nHost: a\r\n\r\n", -400);
    CHECK_PARSE("GET / HTTP/1.1\r\r\nHost: a\r\n\r\n", -400); /* bare CR */
    CHECK_PARSE("GET /\r HTTP/1.1\r\nHost: a\r\n\r\n", -400); /* bare CR in the target */
    CHECK_PARSE("GET / HTTP/1.1\rHost: a\r\n\r\n", -400);     /* CR as a line end */
    CHECK_PARSE("\rGET / HTTP/1.1\r\nHost: a\r\n\r\n", -400); /* bare CR before the line */
    CHECK_PARSE("\r\n\rGET / HTTP/1.1\r\nHost: a\r\n\r\n", -400);
    /* Versions. */
    CHECK_PARSE("GET / HTTP/2.0\r\nHost: a\r\n\r\n", -505);
    CHECK_PARSE("GET / HTTP/3.0\r\nHost: a\r\n\r\n", -505);
    CHECK_PARSE("GET / HTTP/0.9\r\n\r\n", -505);
    CHECK_PARSE_HEAD("GET / HTTP/1.2\r\nHost: a\r\n\r\n");
    CHECK_EQ(R.minor, 1);
    CHECK_EQ(R.keep_alive, 1);
    CHECK_PARSE("GET / HTTP/1.9\r\n\r\n", -400); /* answered as 1.1: Host required */
    /* Methods are case-sensitive; unknown ones are 501. */
    CHECK_PARSE("FOO / HTTP/1.1\r\nHost: a\r\n\r\n", -501);
    CHECK_PARSE("get / HTTP/1.1\r\nHost: a\r\n\r\n", -501);
    CHECK_PARSE("GETS / HTTP/1.1\r\nHost: a\r\n\r\n", -501);
    CHECK_PARSE("GE / HTTP/1.1\r\nHost: a\r\n\r\n", -501);
    CHECK_PARSE_HEAD("TRACE / HTTP/1.1\r\nHost: a\r\n\r\n");
    CHECK_EQ(R.method, M_OTHER);
    CHECK(slice_eq(R.method_name, "TRACE"));
    /* Only origin-form targets. */
    CHECK_PARSE("GET http://a/ HTTP/1.1\r\nHost: a\r\n\r\n", -400);
    CHECK_PARSE("OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n", -400);
    CHECK_PARSE("CONNECT a:443 HTTP/1.1\r\nHost: a:443\r\n\r\n", -400);
    CHECK_PARSE("GET ?a HTTP/1.1\r\nHost: a\r\n\r\n", -400);
    /* Control bytes, DEL and non-ASCII in the target. */
    CHECK_PARSE("GET /a\x01z HTTP/1.1\r\nHost: a\r\n\r\n", -400);
    CHECK_PARSE("GET /a\x7fz HTTP/1.1\r\nHost: a\r\n\r\n", -400);
    CHECK_PARSE("GET /a\x80z HTTP/1.1\r\nHost: a\r\n\r\n", -400);
    CHECK_PARSE("GET /a\xffz HTTP/1.1\r\nHost: a\r\n\r\n", -400);
    CHECK_PARSE("GET /a\0z HTTP/1.1\r\nHost: a\r\n\r\n", -400);
    CHECK_PARSE("GET\0/ HTTP/1.1\r\nHost: a\r\n\r\n", -400);
    CHECK_PARSE("GET / HTTP/1.1\0\r\nHost: a\r\n\r\n", -400);
}

TEST(headers_malformed)
{
    CHECK_PARSE("GET / HTTP/1.1\r\nHost : a\r\n\r\n", -400);      /* space before colon */
    CHECK_PARSE("GET / HTTP/1.1\r\nHost\t: a\r\n\r\n", -400);     /* tab before colon */
    CHECK_PARSE("GET / HTTP/1.1\r\nHost: a\r\n b\r\n\r\n", -400); /* obs-fold */
    CHECK_PARSE("GET / HTTP/1.1\r\nHost: a\r\n\tb\r\n\r\n", -400);
    CHECK_PARSE("GET / HTTP/1.1\r\n Host: a\r\n\r\n", -400);
    CHECK_PARSE("GET / HTTP/1.1\r\nHost: a\r\nX: b\rc\r\n\r\n", -400); /* bare CR in a value */
    CHECK_PARSE("GET / HTTP/1.1\r\nHost: a\r\nX: b\r\r\n\r\n", -400);
    CHECK_PARSE("GET / HTTP/1.1\r\nHost: a\r\nX\r: b\r\n\r\n", -400);
    CHECK_PARSE("GET / HTTP/1.1\r\nHost: a\r\n: b\r\n\r\n", -400);   /* empty name */
    CHECK_PARSE("GET / HTTP/1.1\r\nHost: a\r\nX-A b\r\n\r\n", -400); /* no colon */
    CHECK_PARSE("GET / HTTP/1.1\r\nHost: a\r\nX-A\r\n\r\n", -400);
    CHECK_PARSE("GET / HTTP/1.1\r\nHost: a\r\nX(A): b\r\n\r\n", -400); /* not a token */
    CHECK_PARSE("GET / HTTP/1.1\r\nHost: a\r\nX@A: b\r\n\r\n", -400);
    CHECK_PARSE("GET / HTTP/1.1\r\nHost: a\r\nX\xc3\xa9: b\r\n\r\n", -400);
    CHECK_PARSE("GET / HTTP/1.1\r\nHost: a\r\nX: b\0c\r\n\r\n", -400);  /* NUL in a value */
    CHECK_PARSE("GET / HTTP/1.1\r\nHost: a\r\nX: b\x7f\r\n\r\n", -400); /* DEL */
    CHECK_PARSE("GET / HTTP/1.1\r\nHost: a\r\nX: b\x01\r\n\r\n", -400);
    CHECK_PARSE("GET / HTTP/1.1\r\nHost: a\r\nX: \x1b[31m\r\n\r\n", -400);
    CHECK_PARSE_HEAD("GET / HTTP/1.1\r\nHost: a\r\nX-A: b\r\nX-B: c\r\n\r\n");
    CHECK_PARSE_HEAD("GET / HTTP/1.1\r\nHost: a\r\n!#$%&'*+-.^_`|~09azAZ: c\r\n\r\n");
    CHECK(hdr_is("!#$%&'*+-.^_`|~09azaz", "c"));
}

TEST(content_length)
{
    CHECK_PARSE_HEAD("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\n");
    CHECK_EQ(R.content_length, 5);
    CHECK_EQ(R.has_length, 1);
    CHECK_PARSE_HEAD("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n");
    CHECK_EQ(R.content_length, 0);
    CHECK_EQ(R.has_length, 1);
    CHECK_PARSE_HEAD("POST / HTTP/1.1\r\nHost: a\r\nContent-Length:   007  \r\n\r\n");
    CHECK_EQ(R.content_length, 7);
    CHECK_PARSE_HEAD("GET / HTTP/1.1\r\nHost: a\r\n\r\n");
    CHECK_EQ(R.has_length, 0);
    CHECK_EQ(R.content_length, 0);
    CHECK_PARSE("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: abc\r\n\r\n", -400);
    CHECK_PARSE("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n", -400);
    CHECK_PARSE("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: +1\r\n\r\n", -400);
    CHECK_PARSE("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1 2\r\n\r\n", -400);
    CHECK_PARSE("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0x10\r\n\r\n", -400);
    CHECK_PARSE("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5,5\r\n\r\n", -400);
    CHECK_PARSE("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5.0\r\n\r\n", -400);
    CHECK_PARSE("POST / HTTP/1.1\r\nHost: a\r\nContent-Length:\r\n\r\n", -400);
    CHECK_PARSE("POST / HTTP/1.1\r\nHost: a\r\nContent-Length:  \r\n\r\n", -400);
    /* Duplicates: the same value is one length; different values are a smuggling attempt. */
    CHECK_PARSE_HEAD(
        "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\ncontent-length: 5\r\n\r\n");
    CHECK_EQ(R.content_length, 5);
    CHECK_PARSE_HEAD(
        "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 05\r\n\r\n");
    CHECK_EQ(R.content_length, 5);
    CHECK_PARSE("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n",
                -400);
    CHECK_PARSE("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 0\r\n\r\n",
                -400);
    CHECK_PARSE("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\nContent-Length: 5\r\n\r\n",
                -400);
    /* Transfer-Encoding: refused, alone (411) or with a length (400). */
    CHECK_PARSE("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n", -411);
    CHECK_PARSE("GET / HTTP/1.1\r\nHost: a\r\ntransfer-encoding: gzip, chunked\r\n\r\n", -411);
    CHECK_PARSE("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n"
                "Content-Length: 5\r\n\r\n",
                -400);
    CHECK_PARSE("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n"
                "Transfer-Encoding: chunked\r\n\r\n",
                -400);
    CHECK_PARSE("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", -411);
    /* POST needs a length; other methods may go without. */
    CHECK_PARSE("POST /deploy HTTP/1.1\r\nHost: a\r\n\r\n", -411);
    CHECK_PARSE("POST /deploy HTTP/1.0\r\n\r\n", -411);
    CHECK_PARSE_HEAD("PUT / HTTP/1.1\r\nHost: a\r\n\r\n");
}

TEST(host)
{
    CHECK_PARSE("GET / HTTP/1.1\r\n\r\n", -400);
    CHECK_PARSE("GET / HTTP/1.1\r\nX-Host: a\r\n\r\n", -400);
    CHECK_PARSE_HEAD("GET / HTTP/1.0\r\n\r\n");
    CHECK_PARSE_HEAD("GET / HTTP/1.1\r\nHOST: a\r\n\r\n");
    CHECK_PARSE_HEAD("GET / HTTP/1.1\r\nHost:\r\n\r\n"); /* empty is allowed (RFC 9112 3.2) */
    CHECK_PARSE("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", -400);
    CHECK_PARSE("GET / HTTP/1.1\r\nHost: a\r\nhost: a\r\n\r\n", -400);
    CHECK_PARSE("GET / HTTP/1.0\r\nHost: a\r\nHost: a\r\n\r\n", -400);
}

TEST(expect)
{
    CHECK_PARSE_HEAD(
        "POST / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 1\r\n\r\n");
    CHECK_EQ(R.expect_continue, 1);
    CHECK_PARSE_HEAD(
        "POST / HTTP/1.1\r\nHost: a\r\nexpect:  100-Continue \r\nContent-Length: 1\r\n\r\n");
    CHECK_EQ(R.expect_continue, 1);
    /* HTTP/1.0 clients do not wait for 100 (RFC 9110 10.1.1). */
    CHECK_PARSE_HEAD("POST / HTTP/1.0\r\nExpect: 100-continue\r\nContent-Length: 1\r\n\r\n");
    CHECK_EQ(R.expect_continue, 0);
    CHECK_PARSE_HEAD("GET / HTTP/1.1\r\nHost: a\r\n\r\n");
    CHECK_EQ(R.expect_continue, 0);
    CHECK_PARSE("POST / HTTP/1.1\r\nHost: a\r\nExpect: 200-ok\r\nContent-Length: 1\r\n\r\n", -417);
    CHECK_PARSE("POST / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue, x\r\n\r\n", -417);
    CHECK_PARSE("POST / HTTP/1.1\r\nHost: a\r\nExpect:\r\nContent-Length: 1\r\n\r\n", -417);
    CHECK_PARSE("POST / HTTP/1.1\r\nHost: a\r\nExpect: 100-continuex\r\n\r\n", -417);
}

/* keep_alive after the version default and the Connection tokens. */
static int ka(const char *req)
{
    long rc = parse(req);
    if (rc <= 0) return (int)rc;
    return R.keep_alive;
}

TEST(connection)
{
    CHECK_EQ(ka("GET / HTTP/1.1\r\nHost: a\r\n\r\n"), 1);
    CHECK_EQ(ka("GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"), 0);
    CHECK_EQ(ka("GET / HTTP/1.1\r\nHost: a\r\nconnection: CLOSE\r\n\r\n"), 0);
    CHECK_EQ(ka("GET / HTTP/1.1\r\nHost: a\r\nConnection: Upgrade, Close\r\n\r\n"), 0);
    CHECK_EQ(ka("GET / HTTP/1.1\r\nHost: a\r\nConnection: ,, close ,,\r\n\r\n"), 0);
    CHECK_EQ(ka("GET / HTTP/1.1\r\nHost: a\r\nConnection:\tclose\t\r\n\r\n"), 0);
    CHECK_EQ(ka("GET / HTTP/1.1\r\nHost: a\r\nConnection: x\r\nConnection: close\r\n\r\n"), 0);
    CHECK_EQ(ka("GET / HTTP/1.1\r\nHost: a\r\nConnection: closed\r\n\r\n"), 1);
    CHECK_EQ(ka("GET / HTTP/1.1\r\nHost: a\r\nConnection: close-ish, x-close\r\n\r\n"), 1);
    CHECK_EQ(ka("GET / HTTP/1.1\r\nHost: a\r\nConnection: keep-alive\r\n\r\n"), 1);
    CHECK_EQ(ka("GET / HTTP/1.1\r\nHost: a\r\nX-Connection: close\r\n\r\n"), 1);
    /* HTTP/1.0: off unless asked for, and close wins. */
    CHECK_EQ(ka("GET / HTTP/1.0\r\n\r\n"), 0);
    CHECK_EQ(ka("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"), 1);
    CHECK_EQ(ka("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n"), 1);
    CHECK_EQ(ka("GET / HTTP/1.0\r\nConnection: TE, KEEP-ALIVE\r\n\r\n"), 1);
    CHECK_EQ(ka("GET / HTTP/1.0\r\nConnection: keep-alive, close\r\n\r\n"), 0);
    CHECK_EQ(ka("GET / HTTP/1.0\r\nConnection: keep-alive\r\nConnection: close\r\n\r\n"), 0);
    CHECK_EQ(ka("GET / HTTP/1.0\r\nConnection: keep-alives\r\n\r\n"), 0);
    CHECK_EQ(ka("GET / HTTP/1.0\r\nKeep-Alive: timeout=5\r\n\r\n"), 0);
}

TEST(line_endings)
{
    CHECK_PARSE_HEAD("GET / HTTP/1.1\nHost: a\n\n");
    CHECK(hdr_is("host", "a"));
    CHECK_PARSE_HEAD("GET / HTTP/1.1\r\nHost: a\n\r\n");
    CHECK_PARSE_HEAD("GET / HTTP/1.1\nHost: a\r\n\n");
    CHECK_PARSE_HEAD("\r\n\r\n\n\nGET / HTTP/1.1\r\nHost: a\r\n\r\n"); /* leading empty lines */
    CHECK_EQ(R.head_len, 33); /* the leading empty lines included */
    CHECK(slice_eq(R.method_name, "GET"));
    /* Leading empty lines alone, or a CR waiting for its LF: need more. */
    CHECK_PARSE("\r\n\r\n", 0);
    CHECK_PARSE("\r\n\r", 0);
    CHECK_PARSE("\n", 0);
    CHECK_PARSE("", 0);
}

/* "GET / HTTP/1.1\r\nHost: a\r\n" + "X-Pad: ..." + "\r\n\r\n", exactly n bytes. */
static char *head_of(size_t n)
{
    static const char pre[] = "GET / HTTP/1.1\r\nHost: a\r\nX-Pad: ";
    char *b = malloc(n + 1);
    size_t fixed = sizeof pre - 1 + 4;
    memcpy(b, pre, sizeof pre - 1);
    memset(b + sizeof pre - 1, 'p', n - fixed);
    memcpy(b + n - 4, "\r\n\r\n", 5);
    return b;
}

TEST(limit_head_size)
{
    char *ok = head_of(HTTP_MAX_HEAD);
    CHECK_EQ(strlen(ok), HTTP_MAX_HEAD);
    CHECK_EQ(incremental(ok, HTTP_MAX_HEAD), HTTP_MAX_HEAD);
    CHECK_EQ(parse(ok), HTTP_MAX_HEAD);
    CHECK_EQ(parse_n(ok, HTTP_MAX_HEAD - 1), 0);
    char *over = head_of(HTTP_MAX_HEAD + 1);
    CHECK_EQ(incremental(over, HTTP_MAX_HEAD + 1), -431);
    CHECK_EQ(parse(over), -431);
    CHECK_EQ(parse_n(over, HTTP_MAX_HEAD), -431); /* incomplete at the bound: can never fit */
    CHECK_EQ(parse_n(over, HTTP_MAX_HEAD - 1), 0);
    free(over);
    /* The bound head followed by a body: the body does not count. */
    char *withbody = malloc(HTTP_MAX_HEAD + 100);
    memcpy(withbody, ok, HTTP_MAX_HEAD);
    memset(withbody + HTTP_MAX_HEAD, 'b', 100);
    CHECK_EQ(parse_n(withbody, HTTP_MAX_HEAD + 100), HTTP_MAX_HEAD);
    free(withbody);
    /* Leading empty lines count toward the head (head_len includes them). */
    char *lead = malloc(HTTP_MAX_HEAD + 2);
    memcpy(lead, "\r\n", 2);
    memcpy(lead + 2, ok, HTTP_MAX_HEAD);
    CHECK_EQ(parse_n(lead, HTTP_MAX_HEAD + 2), -431);
    CHECK_EQ(parse_n(lead, HTTP_MAX_HEAD), -431);
    free(lead);
    free(ok);
    /* Nothing but newlines, past the bound. */
    char nl[HTTP_MAX_HEAD + 2];
    memset(nl, '\n', sizeof nl);
    CHECK_EQ(parse_n(nl, HTTP_MAX_HEAD), -431);
    CHECK_EQ(parse_n(nl, HTTP_MAX_HEAD + 1), -431);
    CHECK_EQ(parse_n(nl, HTTP_MAX_HEAD + 2), -431);
}

/* Empty lines alone filling the bound, with a CR waiting for its LF: no
 * request can follow within the bound, so the answer is 431, not "more". */
TEST(blank_lines_past_bound_are_431)
{
    static char nl[HTTP_MAX_HEAD];
    memset(nl, '\n', sizeof nl);
    nl[HTTP_MAX_HEAD - 1] = '\r';
    CHECK_EQ(parse_n(nl, HTTP_MAX_HEAD), -431);
}

/* A request with n header fields: Host and n-1 more. */
static long with_headers(size_t n)
{
    char buf[4096];
    size_t len = (size_t)snprintf(buf, sizeof buf, "GET / HTTP/1.1\r\nHost: a\r\n");
    for (size_t i = 1; i < n; i++)
        len += (size_t)snprintf(buf + len, sizeof buf - len, "X-%zu: v\r\n", i);
    len += (size_t)snprintf(buf + len, sizeof buf - len, "\r\n");
    every_prefix_needs_more(buf, len);
    return parse_n(buf, len);
}

TEST(limit_header_count)
{
    CHECK(with_headers(HTTP_MAX_HEADERS) > 0);
    CHECK_EQ(R.nh, HTTP_MAX_HEADERS);
    CHECK(hdr_is("x-47", "v"));
    CHECK_EQ(with_headers(HTTP_MAX_HEADERS + 1), -431);
    CHECK_EQ(with_headers(HTTP_MAX_HEADERS + 20), -431);
}

static long with_length(const char *cl)
{
    char buf[256];
    int n = snprintf(buf, sizeof buf,
                     "POST /deploy HTTP/1.1\r\nHost: a\r\nContent-Length: %s\r\n\r\n", cl);
    return parse_n(buf, (size_t)n);
}

TEST(limit_body)
{
    CHECK(with_length("16384") > 0);
    CHECK_EQ(R.content_length, HTTP_MAX_BODY);
    CHECK_EQ(with_length("16385"), -413);
    CHECK_EQ(with_length("1000000"), -413);
    CHECK_EQ(with_length("1099511627776"), -413); /* 2^40 */
}

/* A length past the body bound is "too large" however many digits it has. */
TEST(huge_content_length_is_413)
{
    CHECK_EQ(with_length("1099511627777"), -413);
    CHECK_EQ(with_length("18446744073709551616"), -413);
    CHECK_EQ(with_length("999999999999999999999999999999"), -413);
}

TEST(pipelining)
{
    const char two[] = "GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /b?q HTTP/1.1\r\nHost: y\r\n\r\n";
    size_t n = sizeof two - 1;
    CHECK_EQ(parse_n(two, n), 28);
    CHECK(slice_eq(R.path, "/a"));
    CHECK(hdr_is("host", "x"));
    CHECK_EQ(parse_n(two + 28, n - 28), (long)(n - 28));
    CHECK(slice_eq(R.path, "/b"));
    CHECK(sl_is(R.query, "q"));
    CHECK(hdr_is("host", "y"));

    /* A POST with its body, then a GET; a stray CRLF after a body is skipped. */
    const char post[] = "POST /deploy HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello"
                        "\r\nGET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    n = sizeof post - 1;
    long h = parse_n(post, n);
    CHECK_EQ(h, strstr(post, "\r\n\r\n") + 4 - post);
    CHECK_EQ(R.content_length, 5);
    size_t next = (size_t)h + R.content_length;
    CHECK(memcmp(post + h, "hello", 5) == 0);
    CHECK_EQ(incremental(post + next, n - next), (long)(n - next));
    CHECK(slice_eq(R.path, "/healthz"));
    CHECK_EQ(R.keep_alive, 0);

    /* The first request parses whatever follows it, even a malformed second one. */
    const char bad2[] = "GET /a HTTP/1.1\r\nHost: x\r\n\r\nBAD\r\n\r\n";
    CHECK_EQ(parse_n(bad2, sizeof bad2 - 1), 28);
    CHECK_EQ(parse_n(bad2 + 28, sizeof bad2 - 1 - 28), -400);
    /* A partial second request needs more. */
    CHECK_EQ(parse_n(two + 28, 10), 0);
}

/* query is an empty slice when there is no '?': it must still point into
 * the buffer (a NULL pointer passed to memcpy/memcmp, even with length 0,
 * is undefined behaviour that UBSan aborts on). */
TEST(empty_query_points_into_buffer)
{
    CHECK_PARSE_HEAD("GET /healthz HTTP/1.1\r\nHost: a\r\n\r\n");
    CHECK_EQ(R.query.n, 0);
    CHECK(R.query.p != NULL);
    CHECK(R.query.p == NULL || in_buf(R.query));
    CHECK_PARSE_HEAD("GET /healthz? HTTP/1.1\r\nHost: a\r\n\r\n");
    CHECK_EQ(R.query.n, 0);
    CHECK(in_buf(R.query));
}

TEST(reason)
{
    CHECK_STR(http_reason(S_OK), "OK");
    CHECK_STR(http_reason(S_CONTINUE), "Continue");
    CHECK_STR(http_reason(S_NOT_FOUND), "Not Found");
    CHECK_STR(http_reason(S_HEADER_TOO_LARGE), "Request Header Fields Too Large");
    CHECK_STR(http_reason(S_PAYLOAD_TOO_LARGE), "Payload Too Large");
    CHECK_STR(http_reason(S_VERSION_NOT_SUPPORTED), "HTTP Version Not Supported");
    CHECK_STR(http_reason((enum status)299), "Unknown");
}

TEST(response_bytes)
{
    char out[512];
    long n = http_response(out, sizeof out, S_OK, 1, "text/plain", NULL, "hello", 5, 0);
    const char want[] = "HTTP/1.1 200 OK\r\nServer: deploy-api\r\nContent-Length: 5\r\n"
                        "Content-Type: text/plain\r\n\r\nhello";
    CHECK_EQ(n, sizeof want - 1);
    CHECK(n > 0 && memcmp(out, want, sizeof want - 1) == 0);

    n = http_response(out, sizeof out, S_NOT_FOUND, 0, NULL, "Retry-After: 1\r\n", "x\n", 2, 0);
    const char want2[] = "HTTP/1.1 404 Not Found\r\nServer: deploy-api\r\nContent-Length: 2\r\n"
                         "Connection: close\r\nRetry-After: 1\r\n\r\nx\n";
    CHECK_EQ(n, sizeof want2 - 1);
    CHECK(n > 0 && memcmp(out, want2, sizeof want2 - 1) == 0);

    /* head_only: the length of the body that would be sent, no body bytes. */
    memset(out, 'Z', sizeof out);
    n = http_response(out, sizeof out, S_OK, 1, "text/plain", NULL, "hello", 5, 1);
    CHECK_EQ(n, sizeof want - 1 - 5);
    CHECK(n > 0 && memcmp(out, want, (size_t)n) == 0);
    CHECK_EQ(out[n + 1], 'Z');

    n = http_response(out, sizeof out, S_OK, 1, NULL, NULL, NULL, 0, 0);
    CHECK_STR(n > 0 ? (out[n] = 0, out) : "",
              "HTTP/1.1 200 OK\r\nServer: deploy-api\r\nContent-Length: 0\r\n\r\n");
}

TEST(response_capacity)
{
    const char want[] = "HTTP/1.1 200 OK\r\nServer: deploy-api\r\nContent-Length: 5\r\n"
                        "Content-Type: text/plain\r\n\r\nhello";
    size_t total = sizeof want - 1;
    /* Exactly the size, into a guarded buffer: no byte written past it. */
    char *g = t_guard(want, total);
    memset(g, 0, total);
    CHECK_EQ(http_response(g, total, S_OK, 1, "text/plain", NULL, "hello", 5, 0), (long)total);
    CHECK(memcmp(g, want, total) == 0);
    CHECK_EQ(http_response(g, total - 1, S_OK, 1, "text/plain", NULL, "hello", 5, 0), -1);
    CHECK_EQ(http_response(g, total - 5, S_OK, 1, "text/plain", NULL, "hello", 5, 0), -1);
    CHECK_EQ(http_response(g, 10, S_OK, 1, "text/plain", NULL, "hello", 5, 0), -1);
    CHECK_EQ(http_response(g, 0, S_OK, 1, "text/plain", NULL, "hello", 5, 0), -1);
    t_unguard(g, total);
    /* A body far larger than the buffer. */
    static char big[HTTP_MAX_RESPONSE + 1];
    char out[HTTP_MAX_RESPONSE];
    CHECK_EQ(http_response(out, sizeof out, S_OK, 1, NULL, NULL, big, sizeof big, 0), -1);
    CHECK(http_response(out, sizeof out, S_OK, 1, NULL, NULL, big, sizeof big, 1) > 0);
}

/* A response with no body that exactly fills cap fits (as one with a body does). */
TEST(response_exact_fit_without_body)
{
    const char want[] = "HTTP/1.1 200 OK\r\nServer: deploy-api\r\nContent-Length: 0\r\n\r\n";
    size_t total = sizeof want - 1;
    char *g = t_guard(want, total);
    CHECK_EQ(http_response(g, total, S_OK, 1, NULL, NULL, NULL, 0, 0), (long)total);
    CHECK(memcmp(g, want, total) == 0);
    t_unguard(g, total);
}

int main(void)
{
    static char zero[ARENA];
    A = t_guard(zero, ARENA);
    build_slack_req();
    RUN(valid_requests);
    RUN(slack_request_fields);
    RUN(header_values_trimmed);
    RUN(scanned_skips_searched_bytes);
    RUN(request_line_malformed);
    RUN(headers_malformed);
    RUN(content_length);
    RUN(host);
    RUN(expect);
    RUN(connection);
    RUN(line_endings);
    RUN(limit_head_size);
    RUN(blank_lines_past_bound_are_431);
    RUN(limit_header_count);
    RUN(limit_body);
    RUN(huge_content_length_is_413);
    RUN(pipelining);
    RUN(empty_query_points_into_buffer);
    RUN(reason);
    RUN(response_bytes);
    RUN(response_capacity);
    RUN(response_exact_fit_without_body);
    t_unguard(A, ARENA);
    return t_done();
}
