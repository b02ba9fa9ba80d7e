/* HTTP/1.1 client: connections with deadlines, CONNECT tunnels, TLS,
 * requests and streamed responses. */
#include "httpc.h"

#include "ascii.h"
#include "chunked.h"
#include "httphead.h"
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
    struct httphead head;
    int mode; /* BODY_* */
    int ended;
    unsigned long long left;
    struct chunked ch;
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
        long h = httphead_parse(s->in + s->pos, s->len - s->pos, &s->head);
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
        if (!ascii_tchar((unsigned char)*m)) return 0;
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
    return o->proxy && *o->proxy && !url_no_proxy_match(u->host, o->no_proxy);
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

/* The response head; 1xx interim answers are skipped (at most 8), 101 is
 * refused. 0, or -1 with err and the failure recorded. */
static int read_final_head(struct httpc_stream *s, char *err, size_t errlen)
{
    for (int i = 0;; i++) {
        if (read_head(s, "", err, errlen) < 0) return -1;
        if (s->head.status >= 200) return 0;
        if (s->head.status == 101 || i >= 8) {
            snprintf(err, errlen, "unexpected HTTP %d", s->head.status);
            return failed(HTTPC_UNSUPPORTED);
        }
    }
}

/* How the body of the answer to method is delimited, from its head. */
static void body_start(struct httpc_stream *s, const char *method)
{
    if (strcmp(method, "HEAD") == 0 || s->head.status == 204 || s->head.status == 304) {
        s->mode = BODY_NONE;
        s->ended = 1;
    } else if (s->head.chunked) {
        s->mode = BODY_CHUNKED;
        chunked_init(&s->ch);
    } else if (s->head.content_length >= 0) {
        s->mode = BODY_LENGTH;
        s->left = (unsigned long long)s->head.content_length;
        s->ended = s->left == 0;
    } else {
        s->mode = BODY_CLOSE;
    }
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

    if (read_final_head(s, err, errlen) < 0) goto fail;
    body_start(s, method);
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
            long d = chunked_decode(&s->ch, s->in + s->pos, n, &used);
            if (d < 0) {
                snprintf(err, errlen, "malformed chunked response");
                return failed(HTTPC_PROTOCOL);
            }
            memcpy(out, s->in + s->pos, (size_t)d);
            s->pos += used;
            if (chunked_done(&s->ch)) {
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
