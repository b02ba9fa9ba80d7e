/* k8sname: DNS-1123 namespace and deployment names, tags and digests, each
 * at its length limit and one past it. */
#include "t.h"

#include <string.h>

#include "k8sname.h"
#include "limits.h"

#define HEX64 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

TEST(name_checks)
{
    CHECK_EQ(k8sname_ns_ok("default", 7), 1);
    CHECK_EQ(k8sname_ns_ok("a", 1), 1);
    CHECK_EQ(k8sname_ns_ok("a-b", 3), 1);
    CHECK_EQ(k8sname_ns_ok("a.b", 3), 0);
    CHECK_EQ(k8sname_ns_ok("", 0), 0);
    CHECK_EQ(k8sname_ns_ok("-a", 2), 0);
    CHECK_EQ(k8sname_ns_ok("a-", 2), 0);
    CHECK_EQ(k8sname_ns_ok("A", 1), 0);
    CHECK_EQ(k8sname_name_ok("a.b-c.d", 7), 1);
    CHECK_EQ(k8sname_name_ok("a.b.", 4), 0);
    CHECK_EQ(k8sname_name_ok(".a", 2), 0);
    CHECK_EQ(k8sname_name_ok("a..b", 4), 0);
    CHECK_EQ(k8sname_name_ok("", 0), 0);
    CHECK_EQ(k8sname_version_ok("1.4", 3), 1);
    CHECK_EQ(k8sname_version_ok("sha256:" HEX64, 71), 1);
    CHECK_EQ(k8sname_version_ok("@sha256:" HEX64, 72), 0);
    CHECK_EQ(k8sname_version_ok("a:b", 3), 0);
    CHECK_EQ(k8sname_version_ok("", 0), 0);
    CHECK_EQ(k8sname_version_ok(".1", 2), 0);
    CHECK_EQ(k8sname_version_ok("-1", 2), 0);
    CHECK_EQ(k8sname_tag_ok("V_1-a.B", 7), 1);
}

TEST(name_limits)
{
    char b[400];
    memset(b, 'a', sizeof b);
    CHECK_EQ(k8sname_ns_ok(b, K8S_NS_MAX), 1);
    CHECK_EQ(k8sname_ns_ok(b, K8S_NS_MAX + 1), 0);
    /* a subdomain's labels may each be long; only the total is bounded */
    CHECK_EQ(k8sname_name_ok(b, K8S_NAME_MAX), 1);
    CHECK_EQ(k8sname_name_ok(b, K8S_NAME_MAX + 1), 0);
    b[100] = '.';
    CHECK_EQ(k8sname_name_ok(b, K8S_NAME_MAX), 1);
    memset(b, '7', sizeof b);
    CHECK_EQ(k8sname_tag_ok(b, VERSION_MAX), 1);
    CHECK_EQ(k8sname_tag_ok(b, VERSION_MAX + 1), 0);
}

TEST(digest_rules)
{
    CHECK_EQ(k8sname_digest_ok("sha256:" HEX64, 71), 1);
    CHECK_EQ(k8sname_digest_ok("sha256:" HEX64, 70), 0);     /* truncated */
    CHECK_EQ(k8sname_digest_ok("sha256:" HEX64 "0", 72), 0); /* one past */
    CHECK_EQ(k8sname_digest_ok("sha256:"
                               "A123456789abcdef0123456789abcdef"
                               "0123456789abcdef0123456789abcdef",
                               71),
             0); /* uppercase */
    CHECK_EQ(k8sname_digest_ok("sha512:" HEX64, 71), 0);
    CHECK_EQ(k8sname_tag_ok("sha256:" HEX64, 71), 0);
}

int main(void)
{
    RUN(name_checks);
    RUN(name_limits);
    RUN(digest_rules);
    return t_done();
}
