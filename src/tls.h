/* TLS 1.2 client over BearSSL with full X.509 validation (there is no way
 * to skip it), and trust anchors loaded from PEM. For forked children: every
 * call takes a deadline and fills err with a reason a person can act on. */
#ifndef TLS_H
#define TLS_H

#include <stddef.h>

#include <bearssl.h> /* -isystem: its headers are not -Wundef clean */

#include "limits.h"

/* Trust anchors: v[0..n) with their DN and key bytes owned (malloc'd). */
struct tls_anchors {
    br_x509_trust_anchor *v;
    size_t n;
};

/* Append every CERTIFICATE in the PEM text pem[0..len) (other PEM objects are
 * skipped). Returns how many were added; -1 with err filled on malformed PEM
 * or certificate, or past TLS_MAX_ANCHORS in total (nothing is added then). */
int tls_anchors_add_pem(struct tls_anchors *a, const char *pem, size_t len, char *err,
                        size_t errlen);
/* tls_anchors_add_pem on a file's contents; -1 when it is unreadable, larger
 * than 16 MiB, malformed, or holds no certificate. */
int tls_anchors_load(struct tls_anchors *a, const char *path, char *err, size_t errlen);
/* Free every anchor; a is empty afterwards. */
void tls_anchors_free(struct tls_anchors *a);

/* TLS client authentication: a certificate chain (leaf first) and the
 * leaf's private key, RSA or EC. The key lives inside the struct (BearSSL's
 * key points into it): never copy one, pass its address. */
struct tls_client_cert {
    br_x509_certificate *chain; /* DER copies, malloc'd */
    size_t n;
    int key_type; /* BR_KEYTYPE_RSA or BR_KEYTYPE_EC */
    br_skey_decoder_context key;
};

/* Load the CERTIFICATE objects of cert_pem (the chain, leaf first) and the
 * one private key in key_pem: "RSA PRIVATE KEY" (PKCS#1), "EC PRIVATE KEY"
 * (SEC1) or "PRIVATE KEY" (PKCS#8); "EC PARAMETERS" is skipped. Checks that
 * the key belongs to the leaf certificate. 0, or -1 with err saying what is
 * wrong (never key bytes); c is empty then. Free with tls_client_cert_free. */
int tls_client_cert_load(struct tls_client_cert *c, const char *cert_pem, size_t cert_len,
                         const char *key_pem, size_t key_len, char *err, size_t errlen);
/* Free the chain and wipe the key. */
void tls_client_cert_free(struct tls_client_cert *c);

/* One client connection. Large (about 37 KiB): allocate it. */
/* The X.509 class the engine uses: br_x509_minimal (chain, names, dates)
 * wrapped to also refuse a server certificate whose Extended Key Usage is
 * present and lists neither serverAuth nor anyExtendedKeyUsage (what
 * OpenSSL and Go refuse; x509_minimal does not look at EKU). */
struct tls_eku_x509 {
    const br_x509_class *vtable;
    const br_x509_class **inner; /* the minimal validator */
    unsigned depth;              /* certificates ended; 0 while the server's own is read */
    size_t len;                  /* bytes of the server's certificate in ee */
    int too_big;                 /* it did not fit in ee: refused */
    unsigned char ee[TLS_EE_CERT_MAX];
};

/* Error code (beside BearSSL's) for a certificate refused for its EKU. */
#define TLS_ERR_EKU_NOT_SERVER 200

/* Extended Key Usage of one DER certificate: 1 when it has none or it
 * allows TLS servers (serverAuth or anyExtendedKeyUsage), 0 when it is
 * present without either, -1 when the DER cannot be read that far. */
int tls_eku_server_ok(const unsigned char *der, size_t len);

/* One client connection. Large (about 53 KiB): allocate it. */
struct tls_conn {
    br_ssl_client_context sc;
    br_x509_minimal_context xc;
    struct tls_eku_x509 eku;
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
