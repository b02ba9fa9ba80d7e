/* Slack response_url delivery: the allow-list check, then a POST with
 * bounded retries and backoff. */
#include "respond.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "limits.h"

/* ---- hooks: tests replace these ---- */

typedef int (*respond_do_fn)(const struct httpc_opts *, const char *, const struct url *,
                             const char *const *, const char *, size_t, size_t, struct httpc_resp *,
                             char *, size_t);

static void sleep_s(unsigned s)
{
    struct timespec ts = {(time_t)s, 0};
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR) {
    }
}

static respond_do_fn respond_do = httpc_do;
static void (*respond_free)(struct httpc_resp *) = httpc_resp_free;
static void (*respond_sleep)(unsigned) = sleep_s;

/* ---- allow-list ---- */

struct hostport {
    char host[256]; /* as written, brackets kept for IPv6 literals */
    unsigned port;  /* 443 when absent */
};

static int host_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '.';
}

static int hex_char(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* Parse "host[:port]" or "[v6]:port" in s[0..n). 0, or -1 with err. */
static int parse_hostport(const char *s, size_t n, struct hostport *hp, char *err, size_t errlen)
{
    size_t i = 0;
    if (n == 0) {
        snprintf(err, errlen, "no host");
        return -1;
    }
    if (s[0] == '[') {
        for (i = 1; i < n && s[i] != ']'; i++)
            if (!hex_char(s[i]) && s[i] != ':' && s[i] != '.') break;
        if (i >= n || s[i] != ']' || i == 1) {
            snprintf(err, errlen, "malformed IPv6 host");
            return -1;
        }
        i++;
    } else {
        for (; i < n && s[i] != ':'; i++) {
            if (!host_char(s[i])) {
                snprintf(err, errlen,
                         "host has characters other than ASCII letters, digits, "
                         "'-' and '.'");
                return -1;
            }
        }
        if (i == 0 || s[0] == '.' || s[i - 1] == '.') {
            snprintf(err, errlen, "host is empty or starts or ends with a dot");
            return -1;
        }
    }
    if (i >= sizeof hp->host) {
        snprintf(err, errlen, "host too long");
        return -1;
    }
    memcpy(hp->host, s, i);
    hp->host[i] = 0;
    hp->port = 443;
    if (i == n) return 0;
    if (s[i] != ':' || i + 1 == n || n - i - 1 > 5) {
        snprintf(err, errlen, "malformed port");
        return -1;
    }
    unsigned p = 0;
    for (size_t k = i + 1; k < n; k++) {
        if (s[k] < '0' || s[k] > '9') {
            snprintf(err, errlen, "malformed port");
            return -1;
        }
        p = p * 10 + (unsigned)(s[k] - '0');
    }
    if (p == 0 || p > 65535) {
        snprintf(err, errlen, "port out of range");
        return -1;
    }
    hp->port = p;
    return 0;
}

int respond_host_ok(const char *s, size_t n, char *err, size_t errlen)
{
    struct hostport hp;
    return parse_hostport(s, n, &hp, err, errlen) == 0;
}

/* url_parse's host may drop IPv6 brackets; compare without them. */
static int same_host(const char *a, const char *b)
{
    size_t na = strlen(a), nb = strlen(b);
    if (na >= 2 && a[0] == '[') a++, na -= 2;
    if (nb >= 2 && b[0] == '[') b++, nb -= 2;
    return na == nb && strncasecmp(a, b, na) == 0;
}

/* 1 when have is one of the comma list allowed ("host[:port]" entries,
 * blanks around them ignored, hosts compared without case). */
static int host_listed(const char *allowed, const struct hostport *have)
{
    struct hostport want;
    char e[256];
    for (const char *p = allowed ? allowed : ""; *p;) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        const char *s = p;
        size_t sl = len;
        while (sl && (*s == ' ' || *s == '\t')) s++, sl--;
        while (sl && (s[sl - 1] == ' ' || s[sl - 1] == '\t')) sl--;
        if (sl && parse_hostport(s, sl, &want, e, sizeof e) == 0 &&
            strcasecmp(want.host, have->host) == 0 && want.port == have->port)
            return 1;
        p += len;
        if (*p == ',') p++;
    }
    return 0;
}

int respond_url_allowed(const char *url, const char *allowed_hosts, char *err, size_t errlen)
{
    struct hostport have;
    struct url u;
    char e[256];
    size_t n, a;
    if (!url || !*url) {
        snprintf(err, errlen, "no response_url");
        return 0;
    }
    n = strlen(url);
    if (n > RESPONSE_URL_MAX) {
        snprintf(err, errlen, "response_url longer than %d bytes", RESPONSE_URL_MAX);
        return 0;
    }
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)url[i];
        if (c <= 0x20 || c >= 0x7f || c == '\\') {
            snprintf(err, errlen, "response_url has a space, control, non-ASCII or '\\' byte");
            return 0;
        }
    }
    if (strncmp(url, "https://", 8) != 0) {
        snprintf(err, errlen, "response_url is not https://");
        return 0;
    }
    for (a = 8; a < n && url[a] != '/' && url[a] != '?' && url[a] != '#'; a++) {
        if (url[a] == '@') {
            snprintf(err, errlen, "response_url carries userinfo ('@')");
            return 0;
        }
    }
    if (parse_hostport(url + 8, a - 8, &have, e, sizeof e) < 0) {
        snprintf(err, errlen, "response_url: %s", e);
        return 0;
    }
    /* The client must connect to exactly what we checked. */
    if (url_parse(url, &u, e, sizeof e) < 0) {
        snprintf(err, errlen, "response_url does not parse: %s", e);
        return 0;
    }
    unsigned up = u.port[0] ? (unsigned)strtoul(u.port, NULL, 10) : 443;
    if (!u.https || !same_host(u.host, have.host) || up != have.port) {
        snprintf(err, errlen, "response_url parses ambiguously");
        return 0;
    }
    if (host_listed(allowed_hosts, &have)) return 1;
    if (have.port == 443)
        snprintf(err, errlen, "response_url host %s is not in RESPONSE_URL_HOSTS", have.host);
    else
        snprintf(err, errlen, "response_url host %s:%u is not in RESPONSE_URL_HOSTS", have.host,
                 have.port);
    return 0;
}

/* ---- delivery ---- */

static int posts_made; /* POSTs sent by this process (see respond_posts_left) */

int respond_posts_left(void)
{
    return posts_made >= RESPONSE_URL_POSTS ? 0 : RESPONSE_URL_POSTS - posts_made;
}

/* A short printable excerpt of a response body for the error text. */
static void excerpt(char *out, size_t cap, const char *body, size_t len)
{
    size_t n = 0;
    if (cap == 0) return;
    for (size_t i = 0; body && i < len && n + 1 < cap && n < 80; i++) {
        unsigned char c = (unsigned char)body[i];
        out[n++] = (c < 0x20 || c >= 0x7f) ? ' ' : (char)c;
    }
    out[n] = 0;
}

int respond_post(const struct httpc_opts *o, const char *url, const char *allowed_hosts,
                 const char *json, size_t n, int max_attempts, char *err, size_t errlen)
{
    static const char *const hdrs[] = {"Content-Type: application/json", NULL};
    struct httpc_opts oo = *o;
    struct url u;
    char e[256];
    unsigned backoff = 1;
    if (!respond_url_allowed(url, allowed_hosts, e, sizeof e)) {
        snprintf(err, errlen, "refused: %s", e);
        return -1;
    }
    if (url_parse(url, &u, e, sizeof e) < 0) { /* cannot happen after the check */
        snprintf(err, errlen, "refused: %s", e);
        return -1;
    }
    if (!oo.server_name || !*oo.server_name) oo.server_name = u.host;
    if (respond_posts_left() == 0) {
        snprintf(err, errlen, "response_url: Slack's %d posts are used up", RESPONSE_URL_POSTS);
        return -1;
    }
    if (max_attempts < 1) max_attempts = 1;
    if (max_attempts > respond_posts_left()) max_attempts = respond_posts_left();
    for (int a = 1; a <= max_attempts; a++) {
        struct httpc_resp r;
        unsigned wait = backoff;
        memset(&r, 0, sizeof r);
        e[0] = 0;
        posts_made++;
        if (respond_do(&oo, "POST", &u, hdrs, json, n, RESPOND_MAX_BODY, &r, e, sizeof e) < 0) {
            snprintf(err, errlen, "response_url %s: %s", u.host, e);
        } else {
            int st = r.status;
            char ex[96];
            if (st >= 200 && st < 300) {
                respond_free(&r);
                return 0;
            }
            excerpt(ex, sizeof ex, r.body, r.len);
            snprintf(err, errlen, "response_url %s answered HTTP %d%s%s", u.host, st,
                     ex[0] ? ": " : "", ex);
            if ((st == 429 || st >= 500) && r.retry_after > 0)
                wait = r.retry_after > RESPOND_RETRY_AFTER_MAX ? RESPOND_RETRY_AFTER_MAX
                                                               : (unsigned)r.retry_after;
            respond_free(&r);
            if (st != 429 && st < 500) return -1; /* the request itself is wrong: no retry */
        }
        if (a < max_attempts) {
            respond_sleep(wait);
            backoff = backoff * 2 > RESPOND_BACKOFF_MAX ? RESPOND_BACKOFF_MAX : backoff * 2;
        }
    }
    return -1;
}
