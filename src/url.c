/* URLs and NO_PROXY rules. */
#include "url.h"

#include "ascii.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

/* ---- URL ---- */

static int parse_port(const char *p, size_t n, char out[8])
{
    unsigned long v = 0;
    if (n == 0 || n > 5) return -1;
    for (size_t i = 0; i < n; i++) {
        if (!ascii_digit((unsigned char)p[i])) return -1;
        v = v * 10 + (unsigned long)(p[i] - '0');
    }
    if (v == 0 || v > 65535) return -1;
    snprintf(out, 8, "%lu", v);
    return 0;
}

/* Refuse spaces, control and non-ASCII bytes, and fragments. */
static int url_bytes_ok(const char *s, char *err, size_t errlen)
{
    for (const char *q = s; *q; q++) {
        unsigned char c = (unsigned char)*q;
        if (c <= 0x20 || c >= 0x7f) {
            snprintf(err, errlen, "URL has a space, control or non-ASCII byte");
            return -1;
        }
        if (c == '#') {
            snprintf(err, errlen, "URL has a fragment");
            return -1;
        }
    }
    return 0;
}

/* Split the authority p[0..alen) (no user info) into host and port (NULL
 * when absent); an IPv6 literal's host is without its brackets. */
static int url_authority(const char *p, size_t alen, const char **host, size_t *hlen,
                         const char **port, size_t *plen, char *err, size_t errlen)
{
    *host = p;
    *port = NULL;
    *plen = 0;
    if (alen > 0 && p[0] == '[') {
        const char *rb = memchr(p, ']', alen);
        if (!rb) {
            snprintf(err, errlen, "URL has an unclosed [");
            return -1;
        }
        *host = p + 1;
        *hlen = (size_t)(rb - *host);
        for (size_t i = 0; i < *hlen; i++)
            if (!ascii_hex((unsigned char)(*host)[i]) && (*host)[i] != ':' && (*host)[i] != '.') {
                snprintf(err, errlen, "URL has a bad IPv6 address");
                return -1;
            }
        if (*hlen < 2 || !memchr(*host, ':', *hlen)) {
            snprintf(err, errlen, "URL has a bad IPv6 address");
            return -1;
        }
        const char *after = rb + 1;
        size_t rest = alen - (size_t)(after - p);
        if (rest > 0) {
            if (after[0] != ':') {
                snprintf(err, errlen, "URL has junk after ]");
                return -1;
            }
            *port = after + 1;
            *plen = rest - 1;
        }
    } else {
        const char *colon = memchr(p, ':', alen);
        *hlen = colon ? (size_t)(colon - p) : alen;
        if (colon) {
            *port = colon + 1;
            *plen = alen - *hlen - 1;
        }
        for (size_t i = 0; i < *hlen; i++)
            if (!ascii_alnum((unsigned char)(*host)[i]) && (*host)[i] != '-' && (*host)[i] != '.' &&
                (*host)[i] != '_') {
                snprintf(err, errlen, "URL host has a bad character");
                return -1;
            }
    }
    return 0;
}

int url_parse(const char *s, struct url *u, char *err, size_t errlen)
{
    const char *p;
    memset(u, 0, sizeof *u);
    if (url_bytes_ok(s, err, errlen) < 0) return -1;
    if (strncasecmp(s, "https://", 8) == 0) {
        u->https = 1;
        p = s + 8;
    } else if (strncasecmp(s, "http://", 7) == 0) {
        p = s + 7;
    } else {
        snprintf(err, errlen, "URL must start with http:// or https://");
        return -1;
    }
    size_t alen = strcspn(p, "/?");
    const char *path = p + alen;
    if (memchr(p, '@', alen)) {
        snprintf(err, errlen, "URL must not carry user info");
        return -1;
    }
    const char *host, *port;
    size_t hlen = 0, plen;
    if (url_authority(p, alen, &host, &hlen, &port, &plen, err, errlen) < 0) return -1;
    if (hlen == 0 || hlen >= sizeof u->host) {
        snprintf(err, errlen, hlen ? "URL host too long" : "URL has no host");
        return -1;
    }
    memcpy(u->host, host, hlen);
    if (port) {
        if (parse_port(port, plen, u->port) < 0) {
            snprintf(err, errlen, "URL has a bad port");
            return -1;
        }
    } else {
        strcpy(u->port, u->https ? "443" : "80");
    }
    size_t pl = strlen(path);
    if (pl + (path[0] == '/' ? 0 : 1) >= sizeof u->path) {
        snprintf(err, errlen, "URL path too long");
        return -1;
    }
    if (path[0] == '/') {
        memcpy(u->path, path, pl + 1);
    } else { /* "" or "?query" */
        u->path[0] = '/';
        memcpy(u->path + 1, path, pl + 1);
    }
    return 0;
}

/* ---- NO_PROXY ---- */

/* host[0..n) as an address: family and bytes, or 0. */
static int parse_ip(const char *s, size_t n, unsigned char out[16])
{
    char b[64];
    if (n == 0 || n >= sizeof b) return 0;
    if (s[0] == '[' && s[n - 1] == ']') {
        s++;
        n -= 2;
    }
    memcpy(b, s, n);
    b[n] = 0;
    if (inet_pton(AF_INET, b, out) == 1) return AF_INET;
    if (inet_pton(AF_INET6, b, out) == 1) return AF_INET6;
    return 0;
}

/* Drop a ":port" suffix (not from a bare IPv6 address). */
static size_t strip_port(const char *s, size_t n)
{
    if (n > 0 && s[0] == '[') {
        const char *rb = memchr(s, ']', n);
        return rb ? (size_t)(rb - s) + 1 : n;
    }
    const char *c = memchr(s, ':', n);
    if (c && !memchr(c + 1, ':', n - (size_t)(c - s) - 1)) return (size_t)(c - s);
    return n;
}

static int entry_match(const char *host, size_t hn, int hfam, const unsigned char *hip,
                       const char *e, size_t en)
{
    if (en == 1 && e[0] == '*') return 1;
    const char *slash = memchr(e, '/', en);
    if (slash) { /* CIDR */
        unsigned char net[16];
        int fam = parse_ip(e, (size_t)(slash - e), net);
        unsigned long bits = 0;
        size_t bn = en - (size_t)(slash - e) - 1;
        if (!fam || fam != hfam || bn == 0 || bn > 3) return 0;
        for (size_t i = 0; i < bn; i++) {
            if (!ascii_digit((unsigned char)slash[1 + i])) return 0;
            bits = bits * 10 + (unsigned long)(slash[1 + i] - '0');
        }
        if (bits > (fam == AF_INET ? 32u : 128u)) return 0;
        for (unsigned long i = 0; i < bits; i++) {
            unsigned char m = (unsigned char)(0x80 >> (i % 8));
            if ((net[i / 8] & m) != (hip[i / 8] & m)) return 0;
        }
        return 1;
    }
    en = strip_port(e, en);
    unsigned char eip[16];
    int efam = parse_ip(e, en, eip);
    if (efam || hfam) return efam == hfam && memcmp(eip, hip, efam == AF_INET ? 4 : 16) == 0;
    if (en > 0 && e[0] == '.') {
        e++;
        en--;
    }
    if (en == 0) return 0;
    if (hn == en) return strncasecmp(host, e, en) == 0;
    return hn > en && host[hn - en - 1] == '.' && strncasecmp(host + hn - en, e, en) == 0;
}

int url_no_proxy_match(const char *host, const char *no_proxy)
{
    if (!host || !no_proxy) return 0;
    size_t hn = strip_port(host, strlen(host));
    if (hn > 0 && host[hn - 1] == '.') /* "example.com." */
        hn--;
    unsigned char hip[16] = {0};
    int hfam = parse_ip(host, hn, hip);
    if (hfam && host[0] == '[') {
        host++;
        hn -= 2;
    }
    const char *p = no_proxy;
    while (*p) {
        while (*p == ',' || *p == ' ' || *p == '\t') p++;
        size_t en = strcspn(p, ", \t");
        if (en > 0 && entry_match(host, hn, hfam, hip, p, en)) return 1;
        p += en;
    }
    return 0;
}
