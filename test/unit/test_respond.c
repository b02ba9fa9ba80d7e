/* Unit tests of src/respond.c: the response_url allow-list (the SSRF door)
 * and the retry schedule, over a fake transport and an injected sleep. */
#include "../../src/respond.c"

#include <stdlib.h>
#include <string.h>

#include "t.h"

TEST(allowed_table)
{
    char err[256], url[RESPONSE_URL_MAX + 2];
    const char *hosts = "hooks.slack.com, 127.0.0.1:8443,Example.ORG:443,[::1]:9443";
    struct {
        const char *url;
        int ok;
    } t[] = {
        {"https://hooks.slack.com/commands/T1/1/abc", 1},
        {"https://HOOKS.Slack.COM/commands/x", 1},
        {"https://hooks.slack.com:443/commands/x", 1},
        {"https://hooks.slack.com", 1},
        {"https://hooks.slack.com?x=1", 1},
        {"https://127.0.0.1:8443/r", 1},
        {"https://example.org/r", 1},
        {"https://[::1]:9443/r", 1},
        {"http://hooks.slack.com/commands/x", 0},
        {"HTTPS://hooks.slack.com/commands/x", 0},
        {"ftp://hooks.slack.com/", 0},
        {"hooks.slack.com/commands", 0},
        {"https://hooks.slack.com:8443/commands/x", 0},
        {"https://hooks.slack.com:0/", 0},
        {"https://hooks.slack.com:/", 0},
        {"https://hooks.slack.com:99999/", 0},
        {"https://127.0.0.1/r", 0},
        {"https://127.0.0.1:8444/r", 0},
        {"https://hooks.slack.com@evil.example/", 0},
        {"https://user:pw@hooks.slack.com/", 0},
        {"https://evil.example/hooks.slack.com", 0},
        {"https://hooks.slack.com.evil.example/", 0},
        {"https://evilhooks.slack.com/", 0},
        {"https://hooks.slack.com./commands", 0},
        {"https://.hooks.slack.com/", 0},
        {"https://hooks.sl\xc3\xa4"
         "ck.com/",
         0},
        {"https://xn--hooks-slack.com/", 0},
        {"https://hooks.slack.com\\@evil.example/", 0},
        {"https://hooks.slack.com /x", 0},
        {"https://hooks.slack.com\r\n/x", 0},
        {"https://hooks.slack.com#@evil.example", 0},
        {"https:///commands", 0},
        {"https://[::1]/r", 0},
        {"https://[::2]:9443/r", 0},
        {"https://[zz]:9443/r", 0},
        {"", 0},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        err[0] = 0;
        int r = respond_url_allowed(t[i].url, hosts, err, sizeof err);
        if (r != t[i].ok) printf("  row %zu: %s -> %d (%s)\n", i, t[i].url, r, err);
        CHECK_EQ(r, t[i].ok);
        if (!t[i].ok) CHECK(err[0] != 0);
    }
    CHECK_EQ(respond_url_allowed(NULL, hosts, err, sizeof err), 0);
    CHECK_EQ(respond_url_allowed("https://hooks.slack.com/x", NULL, err, sizeof err), 0);
    CHECK_EQ(respond_url_allowed("https://hooks.slack.com/x", "", err, sizeof err), 0);
    CHECK_STR(err, "response_url host hooks.slack.com is not in RESPONSE_URL_HOSTS");
    /* an entry with a port allows only that port */
    CHECK_EQ(
        respond_url_allowed("https://hooks.slack.com/x", "hooks.slack.com:8443", err, sizeof err),
        0);
    /* a malformed entry allows nothing, the next one still counts */
    CHECK_EQ(respond_url_allowed("https://a.example/x", "a.example:,b", err, sizeof err), 0);
    CHECK_EQ(respond_url_allowed("https://b.example/x", "a.example:, b.example", err, sizeof err),
             1);
    CHECK_EQ(respond_url_allowed("https://hooks.slack.com@evil.example/", hosts, err, sizeof err),
             0);
    CHECK_STR(err, "response_url carries userinfo ('@')");
    /* length bound: RESPONSE_URL_MAX bytes pass, one more does not */
    strcpy(url, "https://hooks.slack.com/");
    size_t n = strlen(url);
    memset(url + n, 'a', RESPONSE_URL_MAX - n);
    url[RESPONSE_URL_MAX] = 0;
    CHECK_EQ(respond_url_allowed(url, hosts, err, sizeof err), 1);
    url[RESPONSE_URL_MAX] = 'a';
    url[RESPONSE_URL_MAX + 1] = 0;
    CHECK_EQ(respond_url_allowed(url, hosts, err, sizeof err), 0);
}

/* ---- fake transport ---- */

struct answer {
    int status; /* -1: transport error */
    long retry_after;
    const char *body;
};

static struct answer answers[16];
static int nanswers, calls;
static unsigned sleeps[16];
static int nsleeps;
static char seen_body[256], seen_server[256], seen_ctype[64];

static int fake_do(const struct httpc_opts *o, const char *method, const struct url *u,
                   const char *const *h, const char *body, size_t blen, size_t max,
                   struct httpc_resp *r, char *err, size_t errlen)
{
    const struct answer *a = calls < nanswers ? &answers[calls] : NULL;
    calls++;
    snprintf(seen_body, sizeof seen_body, "%.*s", (int)blen, body);
    snprintf(seen_server, sizeof seen_server, "%s", o->server_name ? o->server_name : "");
    snprintf(seen_ctype, sizeof seen_ctype, "%s", h[0] ? h[0] : "");
    if (strcmp(method, "POST") != 0 || !a || a->status < 0) {
        snprintf(err, errlen, "connection refused");
        return -1;
    }
    r->status = a->status;
    r->retry_after = a->retry_after;
    r->body = strdup(a->body ? a->body : "");
    r->len = strlen(r->body);
    return 0;
}

static void fake_free(struct httpc_resp *r)
{
    free(r->body);
    r->body = NULL;
}

static void fake_sleep(unsigned s)
{
    if (nsleeps < 16) sleeps[nsleeps] = s;
    nsleeps++;
}

static void setup(void)
{
    respond_do = fake_do;
    respond_free = fake_free;
    respond_sleep = fake_sleep;
    nanswers = calls = nsleeps = 0;
    seen_body[0] = seen_server[0] = 0;
    posts_made = 0; /* each test plays a fresh job child */
}

static void answer(int status, long retry_after, const char *body)
{
    answers[nanswers++] = (struct answer){status, retry_after, body};
}

static const char *URL = "https://hooks.slack.com/commands/T1/2/x";

TEST(post_first_try)
{
    struct httpc_opts o = {0};
    char err[256];
    setup();
    answer(200, -1, "ok");
    CHECK_EQ(respond_post(&o, URL, "hooks.slack.com", "{\"text\":\"hi\"}", 13, 5, err, sizeof err),
             0);
    CHECK_EQ(calls, 1);
    CHECK_EQ(nsleeps, 0);
    CHECK_STR(seen_body, "{\"text\":\"hi\"}");
    CHECK_STR(seen_server, "hooks.slack.com");
    CHECK_STR(seen_ctype, "Content-Type: application/json");
}

TEST(post_backoff_schedule)
{
    struct httpc_opts o = {0};
    char err[256];
    setup();
    answer(-1, -1, NULL);
    answer(500, -1, "oops");
    answer(503, -1, "");
    answer(502, -1, "");
    answer(200, -1, "ok");
    CHECK_EQ(respond_post(&o, URL, "hooks.slack.com", "{}", 2, 5, err, sizeof err), 0);
    CHECK_EQ(calls, 5);
    CHECK_EQ(nsleeps, 4);
    CHECK_EQ(sleeps[0], 1);
    CHECK_EQ(sleeps[1], 2);
    CHECK_EQ(sleeps[2], 4);
    CHECK_EQ(sleeps[3], 8);
}

TEST(post_gives_up)
{
    struct httpc_opts o = {0};
    char err[256];
    setup();
    for (int i = 0; i < 8; i++) answer(500, -1, "internal\nerror");
    CHECK_EQ(respond_post(&o, URL, "hooks.slack.com", "{}", 2, 5, err, sizeof err), -1);
    CHECK_EQ(calls, 5);
    CHECK_EQ(nsleeps, 4); /* no sleep after the last attempt */
    CHECK_STR(err, "response_url hooks.slack.com answered HTTP 500: internal error");
    /* max_attempts is clamped to RESPONSE_URL_POSTS ... */
    setup();
    for (int i = 0; i < 8; i++) answer(-1, -1, NULL);
    CHECK_EQ(respond_post(&o, URL, "hooks.slack.com", "{}", 2, 99, err, sizeof err), -1);
    CHECK_EQ(calls, RESPONSE_URL_POSTS);
    CHECK_STR(err, "response_url hooks.slack.com: connection refused");
    /* ... and to at least one */
    setup();
    answer(-1, -1, NULL);
    CHECK_EQ(respond_post(&o, URL, "hooks.slack.com", "{}", 2, 0, err, sizeof err), -1);
    CHECK_EQ(calls, 1);
    CHECK_EQ(nsleeps, 0);
}

TEST(post_retry_after)
{
    struct httpc_opts o = {0};
    char err[256];
    setup();
    answer(429, 7, "rate_limited");
    answer(429, 3600, "rate_limited");
    answer(429, -1, "rate_limited");
    answer(204, -1, "");
    CHECK_EQ(respond_post(&o, URL, "hooks.slack.com", "{}", 2, 5, err, sizeof err), 0);
    CHECK_EQ(nsleeps, 3);
    CHECK_EQ(sleeps[0], 7);
    CHECK_EQ(sleeps[1], RESPOND_RETRY_AFTER_MAX);
    CHECK_EQ(sleeps[2], 4); /* no header: the backoff, which kept doubling */
}

TEST(post_no_retry_on_4xx)
{
    struct httpc_opts o = {0};
    char err[256];
    setup();
    answer(404, -1, "expired_url");
    answer(200, -1, "ok");
    CHECK_EQ(respond_post(&o, URL, "hooks.slack.com", "{}", 2, 5, err, sizeof err), -1);
    CHECK_EQ(calls, 1);
    CHECK_EQ(nsleeps, 0);
    CHECK_STR(err, "response_url hooks.slack.com answered HTTP 404: expired_url");
}

TEST(post_refused_without_connection)
{
    struct httpc_opts o = {0};
    char err[256];
    setup();
    answer(200, -1, "ok");
    CHECK_EQ(
        respond_post(&o, "https://evil.example/x", "hooks.slack.com", "{}", 2, 5, err, sizeof err),
        -1);
    CHECK_EQ(calls, 0);
    CHECK_STR(err, "refused: response_url host evil.example is not in RESPONSE_URL_HOSTS");
    CHECK_EQ(respond_post(&o, "http://hooks.slack.com/x", "hooks.slack.com", "{}", 2, 5, err,
                          sizeof err),
             -1);
    CHECK_EQ(calls, 0);
    /* a caller-given server name is kept */
    o.server_name = "other.name";
    CHECK_EQ(respond_post(&o, URL, "hooks.slack.com", "{}", 2, 5, err, sizeof err), 0);
    CHECK_STR(seen_server, "other.name");
}

/* issue 9: every post a job makes counts against Slack's 5 uses of one
 * response_url, retries included; past 5 nothing more is sent. */
TEST(post_count_is_one_budget)
{
    struct httpc_opts o = {0};
    char err[256];
    setup();
    CHECK_EQ(respond_posts_left(), RESPONSE_URL_POSTS);
    answer(200, -1, "ok"); /* an in_channel "is deploying" post */
    answer(200, -1, "ok"); /* the progress post */
    CHECK_EQ(respond_post(&o, URL, "hooks.slack.com", "{}", 2, 1, err, sizeof err), 0);
    CHECK_EQ(respond_post(&o, URL, "hooks.slack.com", "{}", 2, 1, err, sizeof err), 0);
    CHECK_EQ(respond_posts_left(), RESPONSE_URL_POSTS - 2);
    /* the final post may retry, but only within what is left: at the limit */
    for (int i = 0; i < 8; i++) answer(500, -1, "down");
    CHECK_EQ(respond_post(&o, URL, "hooks.slack.com", "{}", 2, 5, err, sizeof err), -1);
    CHECK_EQ(calls, RESPONSE_URL_POSTS);
    CHECK_EQ(respond_posts_left(), 0);
    /* one past it: refused without a connection */
    CHECK_EQ(respond_post(&o, URL, "hooks.slack.com", "{}", 2, 5, err, sizeof err), -1);
    CHECK_EQ(calls, RESPONSE_URL_POSTS);
    CHECK_STR(err, "response_url: Slack's 5 posts are used up");
    /* a refused URL costs nothing */
    setup();
    CHECK_EQ(
        respond_post(&o, "https://evil.example/x", "hooks.slack.com", "{}", 2, 5, err, sizeof err),
        -1);
    CHECK_EQ(respond_posts_left(), RESPONSE_URL_POSTS);
}

int main(void)
{
    RUN(allowed_table);
    RUN(post_first_try);
    RUN(post_backoff_schedule);
    RUN(post_gives_up);
    RUN(post_retry_after);
    RUN(post_no_retry_on_4xx);
    RUN(post_refused_without_connection);
    RUN(post_count_is_one_budget);
    return t_done();
}
