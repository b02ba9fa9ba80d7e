/* TLS 1.2 client over BearSSL with full X.509 validation (there is no way
 * to skip it, and eku.h adds the Extended Key Usage check); trust anchors
 * and client certificates come from PEM through tlscert.h. For forked children: every
 * call takes a deadline and fills err with a reason a person can act on. */
#ifndef TLS_H
#define TLS_H

#include <stddef.h>

#include <bearssl.h> /* -isystem: its headers are not -Wundef clean */

#include "eku.h"
#include "limits.h"
#include "tlscert.h"

/* One client connection. Large (about 53 KiB): allocate it. */
struct tls_conn {
    br_ssl_client_context sc;
    br_x509_minimal_context xc;
    struct eku_x509 eku;
    unsigned char iobuf[BR_SSL_BUFSIZE_BIDI];
    int fd;
    int bare_eof; /* set when the peer closed TCP without close_notify */
    int broken;   /* set with err when the peer reset or closed the connection */
    char server_name[256];
};

/* Handshake on connected socket fd (set non-blocking here) with SNI, verifying
 * the chain against a and the certificate's DNS names against server_name.
 * The whole handshake gets timeout_s seconds. 0 ok, -1 with err filled. The
 * caller keeps owning fd: close it after tls_close, or after a failure. */
int tls_open(struct tls_conn *c, int fd, const struct tls_anchors *a, const char *server_name,
             int timeout_s, char *err, size_t errlen);
/* tls_open presenting cert (NULL: none) when the server asks for a client
 * certificate. cert must outlive the connection. */
int tls_open_cert(struct tls_conn *c, int fd, const struct tls_anchors *a,
                  const struct tls_client_cert *cert, const char *server_name, int timeout_s,
                  char *err, size_t errlen);
/* Read up to n application bytes, waiting at most timeout_s. Returns >0 bytes,
 * 0 when the peer closed with close_notify, -1 on error, timeout, or a bare
 * TCP close without close_notify (a truncation attack looks like that). */
long tls_read(struct tls_conn *c, void *buf, size_t n, int timeout_s, char *err, size_t errlen);
/* Write all n bytes and flush them to the socket within timeout_s; 0 or -1. */
int tls_write_all(struct tls_conn *c, const void *buf, size_t n, int timeout_s, char *err,
                  size_t errlen);
/* Send close_notify if the socket takes it right now (never waits). Does not
 * close fd. */
void tls_close(struct tls_conn *c);

/* The text for a BearSSL error code (as used in tls_* err strings). */
void tls_strerror(int code, const char *server_name, char *err, size_t errlen);

/* Deadlines for blocking I/O in children (httpc uses them too). */
/* now + timeout_s seconds (at least 1 s). */
long long tls_deadline(int timeout_s);
/* Wait for ev on fd until deadline: 0 when ready (or in error: the next I/O
 * call tells), -1 with err "timed out after <timeout_s> s" or a poll error. */
int tls_wait_fd(int fd, short ev, long long deadline, int timeout_s, char *err, size_t errlen);

#endif
