/* Extended Key Usage of server certificates: a pure check over DER bytes
 * (safe on untrusted input, no allocation) and the BearSSL X.509 class
 * that applies it after x509_minimal has validated the chain. */
#ifndef EKU_H
#define EKU_H

#include <stddef.h>

#include <bearssl.h> /* -isystem: its headers are not -Wundef clean */

#include "limits.h"

/* The X.509 class the engine uses: br_x509_minimal (chain, names, dates)
 * wrapped to also refuse a server certificate whose Extended Key Usage is
 * present and lists neither serverAuth nor anyExtendedKeyUsage (what
 * OpenSSL and Go refuse; x509_minimal does not look at EKU). */
struct eku_x509 {
    const br_x509_class *vtable;
    const br_x509_class **inner; /* the minimal validator */
    unsigned depth;              /* certificates ended; 0 while the server's own is read */
    size_t len;                  /* bytes of the server's certificate in ee */
    int too_big;                 /* it did not fit in ee: refused */
    unsigned char ee[TLS_EE_CERT_MAX];
};

/* Error code (beside BearSSL's) for a certificate refused for its EKU. */
#define EKU_ERR_NOT_SERVER 200

/* Put the EKU check in front of the minimal validator xc (already set up):
 * returns the class to give br_ssl_engine_set_x509. x and xc must outlive
 * the engine's use of it; a refused chain ends with EKU_ERR_NOT_SERVER. */
const br_x509_class **eku_wrap(struct eku_x509 *x, br_x509_minimal_context *xc);

/* Extended Key Usage of one DER certificate: 1 when it has none or it
 * allows TLS servers (serverAuth or anyExtendedKeyUsage), 0 when it is
 * present without either, -1 when the DER cannot be read that far. */
int eku_server_ok(const unsigned char *der, size_t len);

#endif
