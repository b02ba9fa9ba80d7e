#include "proxies.h"

#include <arpa/inet.h>
#include <string.h>

#include "str.h"

/* An address (no prefix) into 16 bytes, IPv4 as IPv4-mapped IPv6 so one
 * comparison serves both. 0 or -1. */
static int parse_ip(const char *s, size_t n, unsigned char ip[16], int *v4)
{
    char buf[64];
    if (n == 0 || n >= sizeof buf) return -1;
    memcpy(buf, s, n);
    buf[n] = 0;
    memset(ip, 0, 16);
    if (inet_pton(AF_INET, buf, ip + 12) == 1) {
        ip[10] = ip[11] = 0xff;
        *v4 = 1;
        return 0;
    }
    *v4 = 0;
    return inet_pton(AF_INET6, buf, ip) == 1 ? 0 : -1;
}

/* "addr[/len]" into an address and a prefix length over 128 bits. */
static int parse_cidr(const char *s, size_t n, unsigned char ip[16], unsigned *bits)
{
    const char *slash = memchr(s, '/', n);
    size_t an = slash ? (size_t)(slash - s) : n;
    int v4;
    unsigned long len;
    if (parse_ip(s, an, ip, &v4) < 0) return -1;
    *bits = 128;
    if (!slash) return 0;
    if (slice_to_ulong((struct slice){slash + 1, n - an - 1}, v4 ? 32 : 128, &len) < 0) return -1;
    *bits = (unsigned)len + (v4 ? 96 : 0);
    return 0;
}

int proxies_cidr_ok(const char *s, size_t n)
{
    unsigned char ip[16];
    unsigned bits;
    return s && parse_cidr(s, n, ip, &bits) == 0;
}

static int in_prefix(const unsigned char a[16], const unsigned char net[16], unsigned bits)
{
    size_t whole = bits / 8;
    if (memcmp(a, net, whole) != 0) return 0;
    if (bits % 8 == 0) return 1;
    unsigned char mask = (unsigned char)(0xff << (8 - bits % 8));
    return (a[whole] & mask) == (net[whole] & mask);
}

/* Trim blanks around s[0..*n). */
static const char *trim(const char *s, size_t *n)
{
    while (*n && (*s == ' ' || *s == '\t')) s++, (*n)--;
    while (*n && (s[*n - 1] == ' ' || s[*n - 1] == '\t')) (*n)--;
    return s;
}

static int trusted_ip(const char *trusted, const unsigned char ip[16])
{
    for (const char *p = trusted; p && *p;) {
        const char *comma = strchr(p, ',');
        size_t n = comma ? (size_t)(comma - p) : strlen(p);
        const char *e = trim(p, &n);
        unsigned char net[16];
        unsigned bits;
        if (n && parse_cidr(e, n, net, &bits) == 0 && in_prefix(ip, net, bits)) return 1;
        p = comma ? comma + 1 : NULL;
    }
    return 0;
}

int proxies_trusted(const char *trusted, const char *addr)
{
    unsigned char ip[16];
    int v4;
    return addr && parse_ip(addr, strlen(addr), ip, &v4) == 0 && trusted_ip(trusted, ip);
}

int proxies_client(const char *trusted, const char *peer, const char *xff, size_t n, char *out,
                   size_t cap)
{
    if (cap) out[0] = 0;
    if (!trusted || !*trusted || !xff || !proxies_trusted(trusted, peer)) return 0;
    /* From the right: each hop appended the address it saw. */
    size_t end = n;
    for (;;) {
        size_t start = end;
        while (start > 0 && xff[start - 1] != ',') start--;
        size_t len = end - start;
        const char *e = trim(xff + start, &len);
        unsigned char ip[16];
        int v4;
        if (parse_ip(e, len, ip, &v4) < 0) break; /* malformed: the header says nothing */
        if (!trusted_ip(trusted, ip) || start == 0)
            return slice_copy(out, cap, (struct slice){e, len}) == 0;
        end = start - 1;
    }
    if (cap) out[0] = 0;
    return 0;
}
