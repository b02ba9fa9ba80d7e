#include "k8sname.h"

#include <string.h>

#include "limits.h"

static int is_lower_alnum(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

static int is_lower_hex(unsigned char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

static int is_tag_char(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '.' || c == '-';
}

/* One DNS-1123 label of any length: [a-z0-9]([a-z0-9-]*[a-z0-9])? */
static int dns_label(const char *s, size_t n)
{
    if (n == 0 || !is_lower_alnum((unsigned char)s[0]) || !is_lower_alnum((unsigned char)s[n - 1]))
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!is_lower_alnum((unsigned char)s[i]) && s[i] != '-') return 0;
    return 1;
}

int k8sname_ns_ok(const char *s, size_t n)
{
    return n <= K8S_NS_MAX && dns_label(s, n);
}

int k8sname_name_ok(const char *s, size_t n)
{
    if (n == 0 || n > K8S_NAME_MAX) return 0;
    size_t start = 0;
    for (size_t i = 0; i <= n; i++) {
        if (i == n || s[i] == '.') {
            if (!dns_label(s + start, i - start)) return 0;
            start = i + 1;
        }
    }
    return 1;
}

int k8sname_digest_ok(const char *s, size_t n)
{
    if (n != 7 + 64 || memcmp(s, "sha256:", 7) != 0) return 0;
    for (size_t i = 7; i < n; i++)
        if (!is_lower_hex((unsigned char)s[i])) return 0;
    return 1;
}

int k8sname_tag_ok(const char *s, size_t n)
{
    if (n == 0 || n > VERSION_MAX || s[0] == '.' || s[0] == '-') return 0;
    for (size_t i = 0; i < n; i++)
        if (!is_tag_char((unsigned char)s[i])) return 0;
    return 1;
}

int k8sname_version_ok(const char *s, size_t n)
{
    return k8sname_tag_ok(s, n) || k8sname_digest_ok(s, n);
}
