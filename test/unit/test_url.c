#include "t.h"

#include "url.h"

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
    CHECK(url_no_proxy_match("example.com", "example.com"));
    CHECK(url_no_proxy_match("api.example.com", "example.com"));
    CHECK(url_no_proxy_match("API.Example.COM", "example.com"));
    CHECK(!url_no_proxy_match("badexample.com", "example.com"));
    CHECK(url_no_proxy_match("api.example.com", ".example.com"));
    CHECK(url_no_proxy_match("example.com", ".example.com"));
    CHECK(!url_no_proxy_match("example.org", ".example.com"));
    CHECK(url_no_proxy_match("anything", "*"));
    CHECK(url_no_proxy_match("anything", "a.b, *"));
    CHECK(url_no_proxy_match("kubernetes.default.svc", "localhost,.svc,.cluster.local"));
    CHECK(url_no_proxy_match("hooks.slack.com", " foo , hooks.slack.com:443 "));
    CHECK(url_no_proxy_match("hooks.slack.com:443", "hooks.slack.com"));
    CHECK(url_no_proxy_match("hooks.slack.com.", "hooks.slack.com"));
    CHECK(!url_no_proxy_match("hooks.slack.com", "slack.co"));
    CHECK(!url_no_proxy_match("hooks.slack.com", ""));
    CHECK(!url_no_proxy_match("hooks.slack.com", NULL));
    CHECK(!url_no_proxy_match("hooks.slack.com", ",,,"));
    CHECK(!url_no_proxy_match("hooks.slack.com", "."));
    /* IPs and CIDR */
    CHECK(url_no_proxy_match("10.96.0.1", "10.96.0.1"));
    CHECK(url_no_proxy_match("10.96.0.1", "10.96.0.1:443"));
    CHECK(!url_no_proxy_match("10.96.0.10", "10.96.0.1"));
    CHECK(url_no_proxy_match("10.96.0.10", "10.96.0.0/12"));
    CHECK(url_no_proxy_match("10.111.255.255", "10.96.0.0/12"));
    CHECK(!url_no_proxy_match("10.112.0.0", "10.96.0.0/12"));
    CHECK(url_no_proxy_match("1.2.3.4", "0.0.0.0/0"));
    CHECK(!url_no_proxy_match("1.2.3.4", "1.2.3.4/33"));
    CHECK(!url_no_proxy_match("1.2.3.4", "1.2.3.4/"));
    CHECK(!url_no_proxy_match("example.com", "10.0.0.0/8"));
    CHECK(!url_no_proxy_match("10.0.0.1", "10.com"));
    CHECK(url_no_proxy_match("::1", "::1"));
    CHECK(url_no_proxy_match("::1", "[::1]"));
    CHECK(url_no_proxy_match("[::1]", "[::1]:8080"));
    CHECK(url_no_proxy_match("fd00::5", "fd00::/8"));
    CHECK(!url_no_proxy_match("fe00::5", "fd00::/8"));
    CHECK(!url_no_proxy_match("::2", "::1"));
    CHECK(!url_no_proxy_match("::1", "127.0.0.1"));
}

/* Decode whole input in pieces of step bytes; returns decoded length or -1. */

int main(void)
{
    RUN(url_ok);
    RUN(url_bad);
    RUN(url_bounds);
    RUN(no_proxy);
    return t_done();
}
