/* PEM → BearSSL trust anchors, and a client certificate chain with its
 * private key, for tls.h. Everything loaded is owned by the struct it was
 * loaded into and freed with its _free function; nothing is kept from the
 * caller's PEM text. Errors fill err with a reason, never key bytes. */
#ifndef TLSCERT_H
#define TLSCERT_H

#include <stddef.h>

#include <bearssl.h> /* -isystem: its headers are not -Wundef clean */

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

#endif
