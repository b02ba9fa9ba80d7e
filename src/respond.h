/* Delivery of a job's result to Slack's response_url: an allow-list check
 * that runs before any connection (the URL comes from the request: an SSRF
 * door otherwise), then a POST with bounded retries. */
#ifndef RESPOND_H
#define RESPOND_H

#include <stddef.h>

#include "httpc.h"

/* 1 when url is https://host[:port]/... with no userinfo, an ASCII host and
 * host[:port] in the comma list allowed_hosts (host case-insensitive; an
 * entry without a port allows port 443 only); 0 otherwise with err saying
 * why. Makes no connection. */
int respond_url_allowed(const char *url, const char *allowed_hosts, char *err, size_t errlen);

/* 1 when s[0..n) is one allow-list entry, host[:port] or [v6]:port (how
 * RESPONSE_URL_HOSTS is checked at startup); 0 with err saying why. */
int respond_host_ok(const char *s, size_t n, char *err, size_t errlen);

/* Posts this process may still make: RESPONSE_URL_POSTS less every POST
 * respond_post has sent (each attempt counts, also one that failed: Slack
 * may have counted it). A job child posts to one response_url only, so
 * this is the one count of Slack's 5 uses for every post a job makes. */
int respond_posts_left(void);

/* POST json[0..n) as application/json to url, after respond_url_allowed
 * (refused: no connection at all). Retries transport errors, 5xx and 429
 * with backoff 1 s, 2 s, 4 s... (capped at RESPOND_BACKOFF_MAX), or a 429's
 * Retry-After capped at RESPOND_RETRY_AFTER_MAX; at most max_attempts posts
 * (clamped to 1..respond_posts_left(); none left: -1 without a post).
 * 0 when a 2xx arrived; -1 with err = the last reason. */
int respond_post(const struct httpc_opts *o, const char *url, const char *allowed_hosts,
                 const char *json, size_t n, int max_attempts, char *err, size_t errlen);

#endif
