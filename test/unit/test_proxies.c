/* TRUSTED_PROXIES: CIDR syntax and bounds (IPv4 /0../32, IPv6 /0../128),
 * membership at prefix edges, and the client taken from X-Forwarded-For:
 * last untrusted hop, header ignored from untrusted peers or when malformed,
 * output bounded. */
#include "t.h"

#include "proxies.h"

static int ok(const char *s)
{
    return proxies_cidr_ok(s, strlen(s));
}

TEST(cidr_syntax)
{
    CHECK(ok("10.0.0.0/8"));
    CHECK(ok("192.0.2.7"));
    CHECK(ok("0.0.0.0/0"));
    CHECK(ok("10.1.2.3/32"));
    CHECK(!ok("10.1.2.3/33"));
    CHECK(ok("fd00::/8"));
    CHECK(ok("::1/128"));
    CHECK(!ok("::1/129"));
    CHECK(!ok("10.0.0.0/"));
    CHECK(!ok("10.0.0.0/-1"));
    CHECK(!ok("10.0.0.0/+8"));
    CHECK(!ok("10.0.0/8"));
    CHECK(!ok("10.0.0.256"));
    CHECK(!ok(""));
    CHECK(!ok("/8"));
    CHECK(!ok("ingress.example"));
    CHECK(!ok("10.0.0.0/8 "));
    CHECK(!proxies_cidr_ok(NULL, 0));
    /* Only n bytes are read. */
    CHECK(proxies_cidr_ok("10.0.0.0/8xxxx", 10));
}

TEST(membership)
{
    const char *t = "10.0.0.0/8, 192.168.1.128/25,fd00::/8";
    CHECK(proxies_trusted(t, "10.255.255.255"));
    CHECK(!proxies_trusted(t, "11.0.0.0"));
    CHECK(proxies_trusted(t, "192.168.1.128"));
    CHECK(proxies_trusted(t, "192.168.1.255"));
    CHECK(!proxies_trusted(t, "192.168.1.127"));
    CHECK(proxies_trusted(t, "fd12::1"));
    CHECK(!proxies_trusted(t, "fe80::1"));
    CHECK(!proxies_trusted(t, "::ffff:11.0.0.1"));
    CHECK(proxies_trusted(t, "::ffff:10.0.0.1")); /* the mapped form is the same address */
    CHECK(!proxies_trusted(t, "not-an-ip"));
    CHECK(!proxies_trusted(t, NULL));
    CHECK(!proxies_trusted("", "10.0.0.1"));
    CHECK(proxies_trusted("0.0.0.0/0", "203.0.113.1"));
    CHECK(!proxies_trusted("0.0.0.0/0", "2001:db8::1"));
}

static const char *client(const char *trusted, const char *peer, const char *xff)
{
    static char out[64];
    if (!proxies_client(trusted, peer, xff, xff ? strlen(xff) : 0, out, sizeof out)) return NULL;
    return out;
}

TEST(client_from_xff)
{
    const char *t = "127.0.0.0/8,10.0.0.0/8";
    CHECK_STR(client(t, "127.0.0.1", "203.0.113.9"), "203.0.113.9");
    /* The last untrusted hop: a client can prepend anything it likes. */
    CHECK_STR(client(t, "127.0.0.1", "1.2.3.4, 203.0.113.9, 10.1.2.3"), "203.0.113.9");
    CHECK_STR(client(t, "127.0.0.1", "1.2.3.4,203.0.113.9"), "203.0.113.9");
    CHECK_STR(client(t, "127.0.0.1", " 2001:db8::5 "), "2001:db8::5");
    /* Every hop trusted: the leftmost. */
    CHECK_STR(client(t, "127.0.0.1", "10.0.0.5, 10.0.0.6"), "10.0.0.5");
    /* An untrusted peer's header is ignored. */
    CHECK(client(t, "192.0.2.1", "203.0.113.9") == NULL);
    CHECK(client("", "127.0.0.1", "203.0.113.9") == NULL);
    CHECK(client(NULL, "127.0.0.1", "203.0.113.9") == NULL);
    CHECK(client(t, "127.0.0.1", NULL) == NULL);
    /* Malformed: the header says nothing. */
    CHECK(client(t, "127.0.0.1", "") == NULL);
    CHECK(client(t, "127.0.0.1", "203.0.113.9, unknown") == NULL);
    CHECK(client(t, "127.0.0.1", "203.0.113.9,") == NULL);
    CHECK(client(t, "127.0.0.1", "203.0.113.9:4711") == NULL);
    /* A malformed hop left of the last untrusted one does not matter. */
    CHECK_STR(client(t, "127.0.0.1", "garbage, 203.0.113.9"), "203.0.113.9");
    /* out is bounded. */
    char small[8];
    CHECK_EQ(proxies_client(t, "127.0.0.1", "203.0.113.9", 11, small, sizeof small), 0);
    CHECK_STR(small, "");
}

int main(void)
{
    RUN(cidr_syntax);
    RUN(membership);
    RUN(client_from_xff);
    return t_done();
}
