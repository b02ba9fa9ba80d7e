/* TRUSTED_PROXIES: which peers may say who the client is, and the client
 * address they report in X-Forwarded-For. Pure functions over strings; the
 * list is parsed on each use (at most CONFIG_MAX_LIST short entries). */
#ifndef PROXIES_H
#define PROXIES_H

#include <stddef.h>

/* 1 when s[0..n) is an IPv4 or IPv6 address, optionally with a prefix
 * length ("10.0.0.0/8", "fd00::/8", "192.0.2.7"); 0 otherwise. */
int proxies_cidr_ok(const char *s, size_t n);

/* 1 when the address text addr is inside one of the comma list trusted. */
int proxies_trusted(const char *trusted, const char *addr);

/* The client behind trusted proxies. When peer is trusted and xff[0..n)
 * (the X-Forwarded-For value) is a list of addresses, out gets the last
 * entry that is not trusted (the leftmost one when all are) and 1 is
 * returned; otherwise 0 (peer not trusted, no header, a malformed entry:
 * the header is ignored) and out is "". */
int proxies_client(const char *trusted, const char *peer, const char *xff, size_t n, char *out,
                   size_t cap);

#endif
