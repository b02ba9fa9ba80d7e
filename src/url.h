/* http:// and https:// URLs, and the NO_PROXY rules that match their
 * hosts: pure functions over caller-owned strings and buffers (nothing is
 * kept past the call, nothing allocated, no I/O); safe on untrusted bytes. */
#ifndef URL_H
#define URL_H

#include <stddef.h>

/* An http:// or https:// URL. path includes the query, "/" when empty; an
 * IPv6 literal host is stored without its brackets. */
struct url {
    int https;
    char host[256];
    char port[8];
    char path[2048];
};

/* Parse s; default ports 80/443. Refuses other schemes, userinfo, fragments,
 * spaces, control and non-ASCII bytes, empty hosts, bad ports. 0 or -1. */
int url_parse(const char *s, struct url *u, char *err, size_t errlen);

/* 1 when host is excluded from proxying by no_proxy: a comma (or space)
 * separated list of "example.com" (the domain and its subdomains),
 * ".example.com" (the same), "*", IP addresses and CIDR blocks
 * ("10.0.0.0/8", "fd00::/8"); case-insensitive; ports are ignored. */
int url_no_proxy_match(const char *host, const char *no_proxy);

#endif
