/* HTTP/1.1 client over TCP or TLS, for forked children: blocking with
 * deadlines, may allocate. Optional HTTPS_PROXY (CONNECT) and NO_PROXY
 * (url_no_proxy_match). The pure parsers it uses live beside it: url.h,
 * httphead.h (response head), chunked.h (chunked body). */
#ifndef HTTPC_H
#define HTTPC_H

#include <stddef.h>

#include "tls.h"
#include "url.h"

struct httpc_opts {
    const struct tls_anchors *anchors;
    const char *server_name; /* name verified in the certificate; NULL -> URL host */
    const char *proxy;       /* HTTPS_PROXY value (http://host:port) or NULL */
    const char *no_proxy;    /* NO_PROXY or NULL */
    int timeout_s;           /* connect, handshake, and each read or write */
    const struct tls_client_cert *client_cert; /* shown when the server asks; NULL: none */
};

/* Why an httpc call failed; callers branch on it, the err text beside it is
 * for people. */
enum httpc_err {
    HTTPC_OK = 0,
    HTTPC_BAD_REQUEST, /* method, header or HTTPS_PROXY refused before anything was sent */
    HTTPC_RESOLVE,     /* the host name does not resolve */
    HTTPC_CONNECT,     /* connection refused, no route */
    HTTPC_TIMEOUT,     /* connect, or a wait for the socket, timed out */
    HTTPC_TLS,         /* TLS handshake, certificate, alert or TLS-level I/O failure */
    HTTPC_PROXY,       /* the proxy refused CONNECT or sent data after its answer */
    HTTPC_RESET,       /* the peer reset or closed the connection before the answer ended */
    HTTPC_TRUNCATED,   /* the body ended before its length or last chunk */
    HTTPC_PROTOCOL,    /* a malformed response head or chunked body */
    HTTPC_UNSUPPORTED, /* an answer httpc does not handle (101, endless 1xx) */
    HTTPC_TOO_BIG,     /* a body past max_body, a line past its buffer */
    HTTPC_IO,          /* another socket or system error (poll, out of memory) */
};

/* 1 when e means the answer broke off after the request went out (RESET,
 * TRUNCATED, PROTOCOL): the failures worth another GET. */
int httpc_err_broken(enum httpc_err e);

/* A failure worded by what failed, the one place that chooses the words:
 * "cannot connect to SERVICE at HOST:PORT: DETAIL" (resolve, connect,
 * timeout), "TLS handshake with SERVICE at HOST:PORT failed: DETAIL" (the
 * server was reached; DETAIL says why: certificate not trusted, name
 * mismatch, alert), "the proxy ... ", "SERVICE at HOST:PORT broke off its
 * answer: DETAIL", ... service is a noun phrase ("the Kubernetes API"),
 * detail the err text of the failed call. An IPv6 host is bracketed. */
void httpc_explain(enum httpc_err e, const char *service, const struct url *u, const char *detail,
                   char *out, size_t cap);

/* The failure of the last httpc_open, httpc_read_line or httpc_do call of
 * this process (HTTPC_OK after a success), like BearSSL's last_error. */
enum httpc_err httpc_last_error(void);

struct httpc_resp {
    enum httpc_err error; /* httpc_do: HTTPC_OK, or why it returned -1 */
    int status;
    char *body; /* malloc'd, NUL-terminated (not counted in len) */
    size_t len;
    long retry_after; /* seconds, -1 if absent or not delta-seconds */
    char content_type[128];
};

/* One request, whole response. headers: NULL-terminated "Name: value" lines
 * (Host, Content-Length when body, Connection: close and User-Agent are
 * added). Returns 0 whenever a response was read, whatever its status; -1 on
 * transport errors, a body past max_body (HTTPC_TOO_BIG) or cut short
 * (HTTPC_TRUNCATED), with r->error set and err filled. */
int httpc_do(const struct httpc_opts *o, const char *method, const struct url *u,
             const char *const *headers, const char *body, size_t body_len, size_t max_body,
             struct httpc_resp *r, char *err, size_t errlen);
void httpc_resp_free(struct httpc_resp *r);

struct httpc_stream;

/* Send the request and read the response head; the body is then read with
 * httpc_read_line. NULL with err filled (and httpc_last_error) on transport
 * errors. */
struct httpc_stream *httpc_open(const struct httpc_opts *o, const char *method, const struct url *u,
                                const char *const *headers, const char *body, size_t body_len,
                                int *status, char *err, size_t errlen);
/* Next '\n'-terminated line of the (de-chunked) body without the newline (and
 * without a trailing '\r'), NUL-terminated; empty lines are skipped, a last
 * line without '\n' is returned too. timeout_s > 0 replaces the stream's
 * timeout for this and later reads. Returns
 * its length (> 0), 0 at the end of the body, -1 on error, on a timeout
 * ("timed out after N s"), or on a line that does not fit in cap
 * (HTTPC_TOO_BIG); httpc_last_error tells which. */
long httpc_read_line(struct httpc_stream *s, char *buf, size_t cap, int timeout_s, char *err,
                     size_t errlen);
void httpc_close(struct httpc_stream *s);

/* For protocols that take over the connection (the WebSocket in
 * src/socket.c), in two steps that may run in different processes:
 * httpc_dial resolves and connects to u's host, through HTTPS_PROXY
 * (CONNECT) unless NO_PROXY excludes it, and returns the socket (-1 with
 * err and httpc_last_error); httpc_attach takes that socket over (closing
 * it on failure) and, for https, runs the TLS handshake verified as
 * httpc_do verifies. NULL with err filled on failure; free with
 * httpc_close. Nothing of a request is sent. */
int httpc_dial(const struct httpc_opts *o, const struct url *u, char *err, size_t errlen);
struct httpc_stream *httpc_attach(const struct httpc_opts *o, const struct url *u, int fd,
                                  char *err, size_t errlen);
/* Raw bytes on a stream from httpc_attach. Read: > 0 bytes, 0 when the
 * peer closed, -1 with err (a timeout after timeout_s > 0, else the
 * stream's timeout). Write: all n bytes or -1. */
long httpc_raw_read(struct httpc_stream *s, void *buf, size_t n, int timeout_s, char *err,
                    size_t errlen);
int httpc_raw_write(struct httpc_stream *s, const void *buf, size_t n, char *err, size_t errlen);
/* The socket, to poll for POLLIN; and 1 when bytes are readable without
 * waiting on it (already decrypted by TLS): poll would not show those. */
int httpc_raw_fd(const struct httpc_stream *s);
int httpc_raw_pending(const struct httpc_stream *s);

#endif
