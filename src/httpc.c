/* HTTP/1.1 client: URL and NO_PROXY rules, response head and chunked
 * parsers, connections with deadlines, CONNECT tunnels. */
#include "httpc.h"

#include "limits.h"
#include "loop.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static int lower(int c)
{
    return (c >= 'A' && c <= 'Z') ? c + 32 : c;
}

static int is_digit(int c)
{
    return c >= '0' && c <= '9';
}

static int is_alnum(int c)
{
    return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int is_hex(int c)
{
    return is_digit(c) || (lower(c) >= 'a' && lower(c) <= 'f');
}

static int eq_nocase(const char *a, size_t an, const char *b)
{
    size_t bn = strlen(b);
    if (an != bn) return 0;
    for (size_t i = 0; i < an; i++)
        if (lower((unsigned char)a[i]) != lower((unsigned char)b[i])) return 0;
    return 1;
}

/* ---- URL ---- */

static int parse_port(const char *p, size_t n, char out[8])
{
    unsigned long v = 0;
    if (n == 0 || n > 5) return -1;
    for (size_t i = 0; i < n; i++) {
        if (!is_digit((unsigned char)p[i])) return -1;
        v = v * 10 + (unsigned long)(p[i] - '0');
    }
    if (v == 0 || v > 65535) return -1;
    snprintf(out, 8, "%lu", v);
    return 0;
}

int url_parse(const char *s, struct url *u, char *err, size_t errlen)
{
    const char *p;
    memset(u, 0, sizeof *u);
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
    const char *host = p, *port = NULL;
    size_t hlen, plen = 0;
    if (alen > 0 && p[0] == '[') {
        const char *rb = memchr(p, ']', alen);
        if (!rb) {
            snprintf(err, errlen, "URL has an unclosed [");
            return -1;
        }
        host = p + 1;
        hlen = (size_t)(rb - host);
        for (size_t i = 0; i < hlen; i++)
            if (!is_hex((unsigned char)host[i]) && host[i] != ':' && host[i] != '.') {
                snprintf(err, errlen, "URL has a bad IPv6 address");
                return -1;
            }
        if (hlen < 2 || !memchr(host, ':', hlen)) {
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
            port = after + 1;
            plen = rest - 1;
        }
    } else {
        const char *colon = memchr(p, ':', alen);
        hlen = colon ? (size_t)(colon - p) : alen;
        if (colon) {
            port = colon + 1;
            plen = alen - hlen - 1;
        }
        for (size_t i = 0; i < hlen; i++)
            if (!is_alnum((unsigned char)host[i]) && host[i] != '-' && host[i] != '.' &&
                host[i] != '_') {
                snprintf(err, errlen, "URL host has a bad character");
                return -1;
            }
    }
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
            if (!is_digit((unsigned char)slash[1 + i])) return 0;
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

int httpc_no_proxy_match(const char *host, const char *no_proxy)
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

/* ---- Chunked decoder ---- */

enum {
    CH_SIZE,
    CH_EXT,
    CH_SIZE_LF,
    CH_DATA,
    CH_DATA_CR,
    CH_DATA_LF,
    CH_TRAILER_BOL,
    CH_TRAILER,
    CH_TRAILER_LF,
    CH_FINAL_LF,
    CH_DONE,
    CH_ERR
};

void httpc_chunked_init(struct httpc_chunked *c)
{
    memset(c, 0, sizeof *c);
}

int httpc_chunked_done(const struct httpc_chunked *c)
{
    return c->state == CH_DONE;
}

long httpc_chunked_decode(struct httpc_chunked *c, char *buf, size_t n, size_t *used)
{
    size_t i = 0, o = 0;
    *used = 0;
    while (i < n && c->state != CH_DONE) {
        unsigned char ch = (unsigned char)buf[i];
        switch (c->state) {
        case CH_SIZE:
            if (is_hex(ch)) {
                if (c->digits >= 15) /* > 2^60: nobody sends that */
                    goto bad;
                unsigned v = is_digit(ch) ? (unsigned)(ch - '0') : (unsigned)(lower(ch) - 'a' + 10);
                c->left = c->left * 16 + v;
                c->digits++;
            } else if (c->digits == 0) {
                goto bad;
            } else if (ch == '\r') {
                c->state = CH_SIZE_LF;
            } else if (ch == ';' || ch == ' ' || ch == '\t') {
                c->state = CH_EXT;
            } else {
                goto bad;
            }
            if (++c->line > HTTPC_MAX_CHUNK_LINE) goto bad;
            i++;
            break;
        case CH_EXT:
            if (ch == '\r')
                c->state = CH_SIZE_LF;
            else if ((ch < 0x20 && ch != '\t') || ch == 0x7f)
                goto bad;
            if (++c->line > HTTPC_MAX_CHUNK_LINE) goto bad;
            i++;
            break;
        case CH_SIZE_LF:
            if (ch != '\n') goto bad;
            i++;
            c->line = 0;
            c->digits = 0;
            c->state = c->left ? CH_DATA : CH_TRAILER_BOL;
            break;
        case CH_DATA: {
            size_t m = n - i;
            if ((unsigned long long)m > c->left) m = (size_t)c->left;
            memmove(buf + o, buf + i, m);
            o += m;
            i += m;
            c->left -= m;
            if (c->left == 0) c->state = CH_DATA_CR;
            break;
        }
        case CH_DATA_CR:
            if (ch != '\r') goto bad;
            i++;
            c->state = CH_DATA_LF;
            break;
        case CH_DATA_LF:
            if (ch != '\n') goto bad;
            i++;
            c->state = CH_SIZE;
            break;
        case CH_TRAILER_BOL:
            i++;
            if (ch == '\r') {
                c->state = CH_FINAL_LF;
                break;
            }
            if (ch < 0x20 || ch == 0x7f || ch == ' ' || ch == ':') goto bad;
            c->state = CH_TRAILER;
            if (++c->line > HTTPC_MAX_TRAILERS) goto bad;
            break;
        case CH_TRAILER:
            i++;
            if (ch == '\r')
                c->state = CH_TRAILER_LF;
            else if ((ch < 0x20 && ch != '\t') || ch == 0x7f)
                goto bad;
            if (++c->line > HTTPC_MAX_TRAILERS) goto bad;
            break;
        case CH_TRAILER_LF:
            if (ch != '\n') goto bad;
            i++;
            c->state = CH_TRAILER_BOL;
            break;
        case CH_FINAL_LF:
            if (ch != '\n') goto bad;
            i++;
            c->state = CH_DONE;
            break;
        default:
            goto bad;
        }
    }
    *used = i;
    return (long)o;
bad:
    c->state = CH_ERR;
    return -1;
}

/* ---- Response head ---- */

static int is_tchar(int c)
{
    return is_alnum(c) || (c && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

/* Trim spaces and tabs around s[0..n). */
static void trim(const char **s, size_t *n)
{
    while (*n > 0 && (**s == ' ' || **s == '\t')) {
        (*s)++;
        (*n)--;
    }
    while (*n > 0 && ((*s)[*n - 1] == ' ' || (*s)[*n - 1] == '\t')) (*n)--;
}

static int header(struct httpc_head *h, const char *name, size_t nn, const char *v, size_t vn,
                  int *seen_te)
{
    if (eq_nocase(name, nn, "content-length")) {
        long long x = 0;
        if (vn == 0 || vn > 15) return -1;
        for (size_t i = 0; i < vn; i++) {
            if (!is_digit((unsigned char)v[i])) return -1;
            x = x * 10 + (v[i] - '0');
        }
        if (h->content_length >= 0 && h->content_length != x) return -1;
        h->content_length = x;
    } else if (eq_nocase(name, nn, "transfer-encoding")) {
        if (*seen_te || !eq_nocase(v, vn, "chunked")) return -1;
        *seen_te = 1;
        h->chunked = 1;
    } else if (eq_nocase(name, nn, "retry-after")) {
        long x = 0;
        int ok = vn > 0 && vn <= 9;
        for (size_t i = 0; ok && i < vn; i++) {
            if (!is_digit((unsigned char)v[i]))
                ok = 0;
            else
                x = x * 10 + (v[i] - '0');
        }
        h->retry_after = ok ? x : -1;
    } else if (eq_nocase(name, nn, "content-type")) {
        size_t k = vn < sizeof h->content_type - 1 ? vn : sizeof h->content_type - 1;
        memcpy(h->content_type, v, k);
        h->content_type[k] = 0;
    }
    return 0;
}

long httpc_parse_head(const char *buf, size_t n, struct httpc_head *h)
{
    size_t i = 0, lim = n < HTTPC_MAX_HEAD ? n : HTTPC_MAX_HEAD;
    int line = 0, seen_te = 0;
    memset(h, 0, sizeof *h);
    h->content_length = -1;
    h->retry_after = -1;
    for (;;) {
        /* Find the end of this line. */
        size_t s = i;
        while (i < lim && buf[i] != '\n') i++;
        if (i >= lim) return n >= HTTPC_MAX_HEAD ? -1 : 0;
        if (i == s || buf[i - 1] != '\r') return -1; /* bare LF */
        const char *l = buf + s;
        size_t ln = i - s - 1;
        i++;
        for (size_t k = 0; k < ln; k++) {
            unsigned char c = (unsigned char)l[k];
            if ((c < 0x20 && c != '\t') || c == 0x7f) return -1;
        }
        if (line++ == 0) {
            /* HTTP/1.x SP 3DIGIT [SP reason] */
            if (ln < 12 || memcmp(l, "HTTP/1.", 7) != 0 || (l[7] != '0' && l[7] != '1') ||
                l[8] != ' ' || !is_digit((unsigned char)l[9]) || !is_digit((unsigned char)l[10]) ||
                !is_digit((unsigned char)l[11]) || (ln > 12 && l[12] != ' '))
                return -1;
            h->status = (l[9] - '0') * 100 + (l[10] - '0') * 10 + (l[11] - '0');
            if (h->status < 100 || h->status > 599) return -1;
            continue;
        }
        if (ln == 0) break;
        if (l[0] == ' ' || l[0] == '\t') return -1; /* obsolete line folding */
        const char *colon = memchr(l, ':', ln);
        if (!colon || colon == l) return -1;
        size_t nn = (size_t)(colon - l);
        for (size_t k = 0; k < nn; k++)
            if (!is_tchar((unsigned char)l[k])) return -1;
        const char *v = colon + 1;
        size_t vn = ln - nn - 1;
        trim(&v, &vn);
        if (header(h, l, nn, v, vn, &seen_te) < 0) return -1;
    }
    if (h->chunked && h->content_length >= 0) return -1;
    return (long)i;
}

/* ---- Connections ---- */

static enum httpc_err last_err; /* httpc_last_error */

int httpc_err_broken(enum httpc_err e)
{
    return e == HTTPC_RESET || e == HTTPC_TRUNCATED || e == HTTPC_PROTOCOL;
}

void httpc_explain(enum httpc_err e, const char *service, const struct url *u, const char *detail,
                   char *out, size_t cap)
{
    char at[300];
    snprintf(at, sizeof at, strchr(u->host, ':') ? "%s at [%s]:%s" : "%s at %s:%s", service,
             u->host, u->port);
    const char *pre = "request to ", *post = " failed";
    switch (e) {
    case HTTPC_RESOLVE:
    case HTTPC_CONNECT:
    case HTTPC_TIMEOUT:
        pre = "cannot connect to ", post = "";
        break;
    case HTTPC_TLS:
        pre = "TLS handshake with ";
        break;
    case HTTPC_PROXY:
        pre = "the HTTPS proxy did not open the way to ", post = "";
        break;
    case HTTPC_RESET:
    case HTTPC_TRUNCATED:
    case HTTPC_PROTOCOL:
        pre = "", post = " broke off its answer";
        break;
    case HTTPC_TOO_BIG:
        pre = "", post = " sent too large an answer";
        break;
    case HTTPC_UNSUPPORTED:
        pre = "", post = " sent an answer deploy-api does not handle";
        break;
    default:
        break;
    }
    snprintf(out, cap, "%s%s%s: %s", pre, at, post, detail && *detail ? detail : "unknown error");
}

enum httpc_err httpc_last_error(void)
{
    return last_err;
}

/* Record e as the failure and return -1. */
static int failed(enum httpc_err e)
{
    last_err = e;
    return -1;
}

static void sock_err(int e, char *err, size_t errlen)
{
    if (e == ECONNREFUSED) {
        last_err = HTTPC_CONNECT;
        snprintf(err, errlen, "connection refused");
    } else if (e == ECONNRESET || e == EPIPE) {
        last_err = HTTPC_RESET;
        snprintf(err, errlen, "connection reset");
    } else if (e == ETIMEDOUT) {
        last_err = HTTPC_TIMEOUT;
        snprintf(err, errlen, "connection timed out");
    } else if (e == ENETUNREACH || e == EHOSTUNREACH) {
        last_err = HTTPC_CONNECT;
        snprintf(err, errlen, "no route to host");
    } else {
        last_err = HTTPC_IO;
        snprintf(err, errlen, "%s", strerror(e));
    }
}

/* tls_wait_fd, recording a timeout (or a poll error) as the failure. */
static int wait_fd(int fd, short ev, long long deadline, int timeout_s, char *err, size_t errlen)
{
    if (tls_wait_fd(fd, ev, deadline, timeout_s, err, errlen) == 0) return 0;
    return failed(loop_clock_ms() >= deadline ? HTTPC_TIMEOUT : HTTPC_IO);
}

/* A tls_* call failed: the peer broke the connection off, or TLS failed. */
static int tls_failed(const struct tls_conn *c)
{
    return failed(c->broken ? HTTPC_RESET : HTTPC_TLS);
}

/* Connected non-blocking socket to host:port, or -1. Every address is tried
 * within one deadline. */
static int dial(const char *host, const char *port, int timeout_s, char *err, size_t errlen)
{
    struct addrinfo hints, *res = NULL;
    long long deadline = tls_deadline(timeout_s);
    int last = 0, fd = -1;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV;
    int g = getaddrinfo(host, port, &hints, &res);
    if (g != 0) {
        snprintf(err, errlen, "cannot resolve %s: %s", host, gai_strerror(g));
        return failed(HTTPC_RESOLVE);
    }
    for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
        if (fd < 0) {
            last = errno;
            continue;
        }
        if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0) break;
        if (errno == EINPROGRESS) {
            if (wait_fd(fd, POLLOUT, deadline, timeout_s, err, errlen) < 0) {
                close(fd);
                fd = -1;
                last = -1; /* timed out: err is set, no time left for others */
                break;
            }
            int e = 0;
            socklen_t el = sizeof e;
            if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &el) == 0 && e == 0) break;
            last = e ? e : errno;
        } else {
            last = errno;
        }
        close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    if (fd < 0) {
        if (last != -1) sock_err(last ? last : ECONNREFUSED, err, errlen);
        return -1;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return fd;
}

struct httpc_stream {
    int fd;
    struct tls_conn *tls;
    int timeout_s;
    struct httpc_head head;
    int mode; /* BODY_* */
    int ended;
    unsigned long long left;
    struct httpc_chunked ch;
    size_t pos, len; /* raw bytes in[pos..len) not consumed yet */
    char in[HTTPC_MAX_HEAD];
    char *lbuf; /* httpc_read_line: decoded body bytes lbuf[lpos..llen) */
    size_t lcap, lpos, llen;
};

enum { BODY_NONE, BODY_LENGTH, BODY_CHUNKED, BODY_CLOSE };

/* Raw read from the connection: >0, 0 at EOF (bare_eof tells a TLS peer
 * that did not send close_notify), -1 with err. */
static long conn_read(struct httpc_stream *s, void *buf, size_t n, int *bare_eof, char *err,
                      size_t errlen)
{
    *bare_eof = 0;
    if (s->tls) {
        long r = tls_read(s->tls, buf, n, s->timeout_s, err, errlen);
        if (r < 0 && s->tls->bare_eof) {
            *bare_eof = 1;
            return 0;
        }
        return r < 0 ? tls_failed(s->tls) : r;
    }
    long long deadline = tls_deadline(s->timeout_s);
    for (;;) {
        ssize_t r = recv(s->fd, buf, n, 0);
        if (r >= 0) return (long)r;
        if (errno == EINTR) continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK) {
            sock_err(errno, err, errlen);
            return -1;
        }
        if (wait_fd(s->fd, POLLIN, deadline, s->timeout_s, err, errlen) < 0) return -1;
    }
}

static int conn_write(struct httpc_stream *s, const void *buf, size_t n, char *err, size_t errlen)
{
    if (s->tls)
        return tls_write_all(s->tls, buf, n, s->timeout_s, err, errlen) < 0 ? tls_failed(s->tls)
                                                                            : 0;
    long long deadline = tls_deadline(s->timeout_s);
    const char *p = buf;
    while (n > 0) {
        ssize_t w = send(s->fd, p, n, MSG_NOSIGNAL);
        if (w > 0) {
            p += w;
            n -= (size_t)w;
            continue;
        }
        if (w < 0 && errno == EINTR) continue;
        if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            if (wait_fd(s->fd, POLLOUT, deadline, s->timeout_s, err, errlen) < 0) return -1;
            continue;
        }
        sock_err(w < 0 ? errno : EPIPE, err, errlen);
        return -1;
    }
    return 0;
}

/* Read a response head into in[]; on success in[pos..len) holds what
 * followed it. Returns the head length consumed, -1 with err. */
static int read_head(struct httpc_stream *s, const char *who, char *err, size_t errlen)
{
    for (;;) {
        long h = httpc_parse_head(s->in + s->pos, s->len - s->pos, &s->head);
        if (h > 0) {
            s->pos += (size_t)h;
            return 0;
        }
        if (h < 0) {
            snprintf(err, errlen, "%smalformed response head", who);
            return failed(HTTPC_PROTOCOL);
        }
        if (s->pos > 0) {
            memmove(s->in, s->in + s->pos, s->len - s->pos);
            s->len -= s->pos;
            s->pos = 0;
        }
        int bare;
        long r = conn_read(s, s->in + s->len, sizeof s->in - s->len, &bare, err, errlen);
        if (r < 0) return -1;
        if (r == 0) {
            snprintf(err, errlen, "%s%s", who,
                     s->len ? "connection closed inside the response head"
                            : "connection closed without a response");
            return failed(HTTPC_RESET);
        }
        s->len += (size_t)r;
    }
}

static void hostport(const struct url *u, int always_port, char *out, size_t cap)
{
    int v6 = strchr(u->host, ':') != NULL;
    int dflt = strcmp(u->port, u->https ? "443" : "80") == 0;
    if (dflt && !always_port)
        snprintf(out, cap, v6 ? "[%s]" : "%s", u->host);
    else
        snprintf(out, cap, v6 ? "[%s]:%s" : "%s:%s", u->host, u->port);
}

static int valid_token(const char *m)
{
    if (!m || !*m) return 0;
    for (; *m; m++)
        if (!is_tchar((unsigned char)*m)) return 0;
    return 1;
}

static int proxy_url(const char *proxy, struct url *pu, char *err, size_t errlen)
{
    char tmp[600];
    char e2[128];
    if (!strstr(proxy, "://")) {
        snprintf(tmp, sizeof tmp, "http://%s", proxy);
        proxy = tmp;
    }
    if (url_parse(proxy, pu, e2, sizeof e2) < 0) {
        snprintf(err, errlen, "HTTPS_PROXY: %s", e2);
        return -1;
    }
    if (pu->https) {
        snprintf(err, errlen, "HTTPS_PROXY: only http:// proxies are supported");
        return -1;
    }
    return 0;
}

static void stream_free(struct httpc_stream *s)
{
    if (!s) return;
    if (s->tls) {
        tls_close(s->tls);
        free(s->tls);
    }
    if (s->fd >= 0) close(s->fd);
    free(s->lbuf);
    free(s);
}

static struct httpc_stream *stream_new(const struct httpc_opts *o, char *err, size_t errlen)
{
    struct httpc_stream *s = calloc(1, sizeof *s);
    last_err = HTTPC_OK;
    if (!s) {
        snprintf(err, errlen, "out of memory");
        failed(HTTPC_IO);
        return NULL;
    }
    s->fd = -1;
    s->timeout_s = o->timeout_s > 0 ? o->timeout_s : IO_TIMEOUT;
    return s;
}

/* TCP to u's host, through the proxy when it applies (CONNECT for https).
 * Nothing of the request sent yet. */
static struct httpc_stream *stream_tunnel(const struct httpc_opts *o, const struct url *u,
                                          int via_proxy, char *err, size_t errlen)
{
    struct httpc_stream *s = stream_new(o, err, errlen);
    struct url pu;
    if (!s) return NULL;
    if (via_proxy && proxy_url(o->proxy, &pu, err, errlen) < 0) {
        failed(HTTPC_BAD_REQUEST);
        goto fail;
    }
    s->fd = via_proxy ? dial(pu.host, pu.port, s->timeout_s, err, errlen)
                      : dial(u->host, u->port, s->timeout_s, err, errlen);
    if (s->fd < 0) {
        if (via_proxy) {
            char e2[512];
            snprintf(e2, sizeof e2, "proxy %.255s:%.7s: %.200s", pu.host, pu.port, err);
            snprintf(err, errlen, "%s", e2);
        }
        goto fail;
    }
    if (via_proxy && u->https) {
        char cp[300], creq[700];
        hostport(u, 1, cp, sizeof cp);
        int n =
            snprintf(creq, sizeof creq,
                     "CONNECT %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: deploy-api\r\n\r\n", cp, cp);
        if (conn_write(s, creq, (size_t)n, err, errlen) < 0 ||
            read_head(s, "proxy: ", err, errlen) < 0)
            goto fail;
        if (s->head.status < 200 || s->head.status > 299) {
            snprintf(err, errlen, "proxy refused CONNECT %s: HTTP %d", cp, s->head.status);
            failed(HTTPC_PROXY);
            goto fail;
        }
        if (s->pos != s->len) {
            snprintf(err, errlen, "proxy sent data after its CONNECT answer");
            failed(HTTPC_PROXY);
            goto fail;
        }
        s->pos = s->len = 0;
    }
    return s;
fail:
    stream_free(s);
    return NULL;
}

/* TLS on s for an https u; frees s on failure. */
static struct httpc_stream *stream_tls(struct httpc_stream *s, const struct httpc_opts *o,
                                       const struct url *u, char *err, size_t errlen)
{
    if (!s || !u->https) return s;
    s->tls = malloc(sizeof *s->tls);
    if (!s->tls) {
        snprintf(err, errlen, "out of memory");
        failed(HTTPC_IO);
        goto fail;
    }
    const char *name = o->server_name && *o->server_name ? o->server_name : u->host;
    if (tls_open_cert(s->tls, s->fd, o->anchors, o->client_cert, name, s->timeout_s, err, errlen) <
        0) {
        tls_failed(s->tls);
        free(s->tls);
        s->tls = NULL;
        goto fail;
    }
    return s;
fail:
    stream_free(s);
    return NULL;
}

/* A connection to u's host: the tunnel, then TLS for https. */
static struct httpc_stream *stream_connect(const struct httpc_opts *o, const struct url *u,
                                           int via_proxy, char *err, size_t errlen)
{
    return stream_tls(stream_tunnel(o, u, via_proxy, err, errlen), o, u, err, errlen);
}

static int uses_proxy(const struct httpc_opts *o, const struct url *u)
{
    return o->proxy && *o->proxy && !httpc_no_proxy_match(u->host, o->no_proxy);
}

int httpc_dial(const struct httpc_opts *o, const struct url *u, char *err, size_t errlen)
{
    struct httpc_stream *s = stream_tunnel(o, u, uses_proxy(o, u), err, errlen);
    if (!s) return -1;
    int fd = s->fd;
    s->fd = -1;
    stream_free(s);
    return fd;
}

struct httpc_stream *httpc_attach(const struct httpc_opts *o, const struct url *u, int fd,
                                  char *err, size_t errlen)
{
    struct httpc_stream *s = stream_new(o, err, errlen);
    if (!s) {
        close(fd);
        return NULL;
    }
    s->fd = fd;
    return stream_tls(s, o, u, err, errlen);
}

long httpc_raw_read(struct httpc_stream *s, void *buf, size_t n, int timeout_s, char *err,
                    size_t errlen)
{
    if (s->pos < s->len) { /* bytes read past a response head */
        size_t k = s->len - s->pos < n ? s->len - s->pos : n;
        memcpy(buf, s->in + s->pos, k);
        s->pos += k;
        return (long)k;
    }
    int bare;
    if (timeout_s > 0) s->timeout_s = timeout_s;
    return conn_read(s, buf, n, &bare, err, errlen);
}

int httpc_raw_write(struct httpc_stream *s, const void *buf, size_t n, char *err, size_t errlen)
{
    return conn_write(s, buf, n, err, errlen);
}

int httpc_raw_fd(const struct httpc_stream *s)
{
    return s->fd;
}

int httpc_raw_pending(const struct httpc_stream *s)
{
    if (s->pos < s->len) return 1;
    return s->tls && (br_ssl_engine_current_state(&s->tls->sc.eng) & BR_SSL_RECVAPP) != 0;
}

struct httpc_stream *httpc_open(const struct httpc_opts *o, const char *method, const struct url *u,
                                const char *const *headers, const char *body, size_t body_len,
                                int *status, char *err, size_t errlen)
{
    char hp[300], target[2400];
    char *req = NULL;
    int via_proxy = uses_proxy(o, u);
    if (!valid_token(method)) {
        snprintf(err, errlen, "bad HTTP method");
        return failed(HTTPC_BAD_REQUEST), NULL;
    }
    struct httpc_stream *s = stream_connect(o, u, via_proxy, err, errlen);
    if (!s) return NULL;
    hostport(u, 0, hp, sizeof hp);
    if (via_proxy && !u->https)
        snprintf(target, sizeof target, "http://%s%s", hp, u->path);
    else
        snprintf(target, sizeof target, "%s", u->path);

    /* The request head. */
    size_t cap = strlen(method) + strlen(target) + strlen(hp) + 200, len = 0;
    for (const char *const *h = headers; h && *h; h++) cap += strlen(*h) + 2;
    req = malloc(cap);
    if (!req) {
        snprintf(err, errlen, "out of memory");
        goto nomem;
    }
    len = (size_t)snprintf(req, cap,
                           "%s %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: deploy-api\r\n"
                           "Connection: close\r\n",
                           method, target, hp);
    if (body) len += (size_t)snprintf(req + len, cap - len, "Content-Length: %zu\r\n", body_len);
    for (const char *const *h = headers; h && *h; h++) {
        const char *c = strchr(*h, ':');
        if (!c || c == *h || strpbrk(*h, "\r\n")) {
            snprintf(err, errlen, "bad request header");
            goto bad_request;
        }
        len += (size_t)snprintf(req + len, cap - len, "%s\r\n", *h);
    }
    len += (size_t)snprintf(req + len, cap - len, "\r\n");
    if (conn_write(s, req, len, err, errlen) < 0) goto fail;
    if (body && body_len && conn_write(s, body, body_len, err, errlen) < 0) goto fail;
    free(req);
    req = NULL;

    /* The response head; 1xx interim answers are skipped. */
    for (int i = 0;; i++) {
        if (read_head(s, "", err, errlen) < 0) goto fail;
        if (s->head.status >= 200) break;
        if (s->head.status == 101 || i >= 8) {
            snprintf(err, errlen, "unexpected HTTP %d", s->head.status);
            failed(HTTPC_UNSUPPORTED);
            goto fail;
        }
    }
    if (strcmp(method, "HEAD") == 0 || s->head.status == 204 || s->head.status == 304) {
        s->mode = BODY_NONE;
        s->ended = 1;
    } else if (s->head.chunked) {
        s->mode = BODY_CHUNKED;
        httpc_chunked_init(&s->ch);
    } else if (s->head.content_length >= 0) {
        s->mode = BODY_LENGTH;
        s->left = (unsigned long long)s->head.content_length;
        s->ended = s->left == 0;
    } else {
        s->mode = BODY_CLOSE;
    }
    *status = s->head.status;
    return s;
bad_request:
    failed(HTTPC_BAD_REQUEST);
    goto fail;
nomem:
    failed(HTTPC_IO);
fail:
    free(req);
    stream_free(s);
    return NULL;
}

/* Up to cap decoded body bytes into out: >0, 0 at the end, -1 with err. */
static long body_read(struct httpc_stream *s, char *out, size_t cap, char *err, size_t errlen)
{
    int bare;
    for (;;) {
        if (s->ended || cap == 0) return 0;
        if (s->pos == s->len) {
            long r = conn_read(s, s->in, sizeof s->in, &bare, err, errlen);
            if (r < 0) return -1;
            if (r == 0) {
                if (s->mode == BODY_CLOSE && !bare) {
                    s->ended = 1;
                    return 0;
                }
                snprintf(err, errlen, "truncated response");
                return failed(HTTPC_TRUNCATED);
            }
            s->pos = 0;
            s->len = (size_t)r;
        }
        size_t avail = s->len - s->pos;
        if (s->mode == BODY_CHUNKED) {
            size_t used, n = avail < cap ? avail : cap;
            long d = httpc_chunked_decode(&s->ch, s->in + s->pos, n, &used);
            if (d < 0) {
                snprintf(err, errlen, "malformed chunked response");
                return failed(HTTPC_PROTOCOL);
            }
            memcpy(out, s->in + s->pos, (size_t)d);
            s->pos += used;
            if (httpc_chunked_done(&s->ch)) {
                s->ended = 1;
                s->pos = s->len; /* anything after the body is ignored */
            }
            if (d > 0) return d;
            continue;
        }
        size_t n = avail < cap ? avail : cap;
        if (s->mode == BODY_LENGTH && n > s->left) n = (size_t)s->left;
        memcpy(out, s->in + s->pos, n);
        s->pos += n;
        if (s->mode == BODY_LENGTH) {
            s->left -= n;
            if (s->left == 0) {
                s->ended = 1;
                s->pos = s->len;
            }
        }
        return (long)n;
    }
}

long httpc_read_line(struct httpc_stream *s, char *buf, size_t cap, int timeout_s, char *err,
                     size_t errlen)
{
    last_err = HTTPC_OK;
    if (cap == 0) {
        snprintf(err, errlen, "no room for a line");
        return failed(HTTPC_TOO_BIG);
    }
    buf[0] = 0;
    if (timeout_s > 0) s->timeout_s = timeout_s;
    if (s->lcap < cap + 1) {
        char *nb = realloc(s->lbuf, cap + 1);
        if (!nb) {
            snprintf(err, errlen, "out of memory");
            return failed(HTTPC_IO);
        }
        s->lbuf = nb;
        s->lcap = cap + 1;
    }
    for (;;) {
        char *start = s->lbuf + s->lpos;
        size_t have = s->llen - s->lpos;
        char *nl = memchr(start, '\n', have);
        size_t ln = nl ? (size_t)(nl - start) : have;
        if (nl || (s->ended && have > 0)) {
            size_t adv = nl ? ln + 1 : ln;
            if (ln > 0 && start[ln - 1] == '\r') ln--;
            if (ln >= cap) {
                snprintf(err, errlen, "line longer than %zu bytes", cap - 1);
                return failed(HTTPC_TOO_BIG);
            }
            memcpy(buf, start, ln);
            buf[ln] = 0;
            s->lpos += adv;
            if (ln == 0) continue;
            return (long)ln;
        }
        if (s->ended) return 0;
        if (have >= cap) {
            snprintf(err, errlen, "line longer than %zu bytes", cap - 1);
            return failed(HTTPC_TOO_BIG);
        }
        memmove(s->lbuf, start, have);
        s->lpos = 0;
        s->llen = have;
        long r = body_read(s, s->lbuf + s->llen, s->lcap - s->llen, err, errlen);
        if (r < 0) return -1;
        s->llen += (size_t)r;
    }
}

void httpc_close(struct httpc_stream *s)
{
    stream_free(s);
}

int httpc_do(const struct httpc_opts *o, const char *method, const struct url *u,
             const char *const *headers, const char *body, size_t body_len, size_t max_body,
             struct httpc_resp *r, char *err, size_t errlen)
{
    int status;
    memset(r, 0, sizeof *r);
    r->retry_after = -1;
    struct httpc_stream *s =
        httpc_open(o, method, u, headers, body, body_len, &status, err, errlen);
    if (!s) {
        r->error = last_err;
        return -1;
    }
    if (s->head.content_length >= 0 && (unsigned long long)s->head.content_length > max_body &&
        s->mode == BODY_LENGTH) {
        snprintf(err, errlen, "response too large");
        goto too_big;
    }
    size_t cap = 4096;
    r->body = malloc(cap + 1);
    if (!r->body) {
        snprintf(err, errlen, "out of memory");
        goto nomem;
    }
    for (;;) {
        if (r->len == cap) {
            if (cap > max_body) {
                snprintf(err, errlen, "response too large");
                goto too_big;
            }
            size_t nc = cap * 2;
            char *nb = realloc(r->body, nc + 1);
            if (!nb) {
                snprintf(err, errlen, "out of memory");
                goto nomem;
            }
            r->body = nb;
            cap = nc;
        }
        long k = body_read(s, r->body + r->len, cap - r->len, err, errlen);
        if (k < 0) goto fail;
        if (k == 0) break;
        r->len += (size_t)k;
        if (r->len > max_body) {
            snprintf(err, errlen, "response too large");
            goto too_big;
        }
    }
    r->body[r->len] = 0;
    r->status = status;
    r->retry_after = s->head.retry_after;
    memcpy(r->content_type, s->head.content_type, sizeof r->content_type);
    httpc_close(s);
    return 0;
too_big:
    failed(HTTPC_TOO_BIG);
    goto fail;
nomem:
    failed(HTTPC_IO);
fail:
    r->error = last_err;
    httpc_close(s);
    httpc_resp_free(r);
    return -1;
}

void httpc_resp_free(struct httpc_resp *r)
{
    free(r->body);
    r->body = NULL;
    r->len = 0;
}
