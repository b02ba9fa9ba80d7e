/* The Extended Key Usage check of a server certificate, and the X.509 class
 * that adds it to BearSSL's minimal validator. */
#include "eku.h"

#include <string.h>

/* One DER element at *p (before end): its tag, contents and their length;
 * *p moves past it. -1 when truncated or not a short definite length. */
static int der_next(const unsigned char **p, const unsigned char *end, unsigned *tag,
                    const unsigned char **val, size_t *len)
{
    const unsigned char *q = *p;
    if (end - q < 2) return -1;
    *tag = q[0];
    size_t n = q[1], k = n & 0x7f;
    q += 2;
    if (n & 0x80) {
        if (k == 0 || k > 3 || (size_t)(end - q) < k) return -1;
        for (n = 0; k; k--) n = (n << 8) | *q++;
    }
    if ((size_t)(end - q) < n) return -1;
    *val = q;
    *len = n;
    *p = q + n;
    return 0;
}

/* KeyPurposeId list (a SEQUENCE OF OID in the extension's OCTET STRING). */
static int purposes_allow_server(const unsigned char *p, const unsigned char *end)
{
    static const unsigned char server_auth[] = {0x2b, 6, 1, 5, 5, 7, 3, 1}; /* 1.3.6.1.5.5.7.3.1 */
    static const unsigned char any_eku[] = {0x55, 0x1d, 0x25, 0};           /* 2.5.29.37.0 */
    unsigned tag;
    const unsigned char *v;
    size_t n;
    if (der_next(&p, end, &tag, &v, &n) < 0 || tag != 0x30 || v + n != end) return -1;
    for (p = v; p < end;) {
        if (der_next(&p, end, &tag, &v, &n) < 0 || tag != 0x06) return -1;
        if ((n == sizeof server_auth && memcmp(v, server_auth, n) == 0) ||
            (n == sizeof any_eku && memcmp(v, any_eku, n) == 0))
            return 1;
    }
    return 0;
}

/* Extensions ([3] EXPLICIT SEQUENCE OF Extension): the EKU one, if any. */
static int extensions_allow_server(const unsigned char *p, const unsigned char *end)
{
    static const unsigned char eku_oid[] = {0x55, 0x1d, 0x25}; /* 2.5.29.37 */
    unsigned tag;
    const unsigned char *v, *e, *eend;
    size_t n;
    if (der_next(&p, end, &tag, &v, &n) < 0 || tag != 0x30) return -1;
    for (p = v, end = v + n; p < end;) {
        if (der_next(&p, end, &tag, &e, &n) < 0 || tag != 0x30) return -1;
        eend = e + n;
        if (der_next(&e, eend, &tag, &v, &n) < 0 || tag != 0x06) return -1;
        if (n != sizeof eku_oid || memcmp(v, eku_oid, n) != 0) continue;
        if (der_next(&e, eend, &tag, &v, &n) < 0) return -1;
        if (tag == 0x01 && der_next(&e, eend, &tag, &v, &n) < 0) return -1; /* critical */
        if (tag != 0x04) return -1;
        return purposes_allow_server(v, v + n);
    }
    return 1;
}

int eku_server_ok(const unsigned char *der, size_t len)
{
    if (!der) return -1;
    const unsigned char *p = der, *end = der + len, *v;
    unsigned tag;
    size_t n;
    if (der_next(&p, end, &tag, &v, &n) < 0 || tag != 0x30) return -1; /* Certificate */
    p = v;
    end = v + n;
    if (der_next(&p, end, &tag, &v, &n) < 0 || tag != 0x30) return -1; /* TBSCertificate */
    for (p = v, end = v + n; p < end;) {
        if (der_next(&p, end, &tag, &v, &n) < 0) return -1;
        if (tag == 0xa3) return extensions_allow_server(v, v + n);
    }
    return 1; /* no extensions */
}

/* The wrapper class: every call goes to the minimal validator; the server's
 * certificate (the first of the chain) is also kept for end_chain. */
static void eku_start_chain(const br_x509_class **ctx, const char *server_name)
{
    struct eku_x509 *x = (struct eku_x509 *)(void *)ctx;
    x->depth = 0;
    x->len = 0;
    x->too_big = 0;
    (*x->inner)->start_chain(x->inner, server_name);
}

static void eku_start_cert(const br_x509_class **ctx, uint32_t length)
{
    struct eku_x509 *x = (struct eku_x509 *)(void *)ctx;
    if (x->depth == 0 && length > sizeof x->ee) x->too_big = 1;
    (*x->inner)->start_cert(x->inner, length);
}

static void eku_append(const br_x509_class **ctx, const unsigned char *buf, size_t len)
{
    struct eku_x509 *x = (struct eku_x509 *)(void *)ctx;
    if (x->depth == 0 && !x->too_big) {
        if (len > sizeof x->ee - x->len)
            x->too_big = 1;
        else
            memcpy(x->ee + x->len, buf, len), x->len += len;
    }
    (*x->inner)->append(x->inner, buf, len);
}

static void eku_end_cert(const br_x509_class **ctx)
{
    struct eku_x509 *x = (struct eku_x509 *)(void *)ctx;
    x->depth++;
    (*x->inner)->end_cert(x->inner);
}

static unsigned eku_end_chain(const br_x509_class **ctx)
{
    struct eku_x509 *x = (struct eku_x509 *)(void *)ctx;
    unsigned r = (*x->inner)->end_chain(x->inner);
    if (r != 0) return r;
    if (x->too_big || eku_server_ok(x->ee, x->len) != 1) return EKU_ERR_NOT_SERVER;
    return 0;
}

static const br_x509_pkey *eku_get_pkey(const br_x509_class *const *ctx, unsigned *usages)
{
    const struct eku_x509 *x = (const struct eku_x509 *)(const void *)ctx;
    return (*x->inner)->get_pkey(x->inner, usages);
}

static const br_x509_class eku_vtable = {
    sizeof(struct eku_x509), eku_start_chain, eku_start_cert, eku_append, eku_end_cert,
    eku_end_chain,           eku_get_pkey,
};

const br_x509_class **eku_wrap(struct eku_x509 *x, br_x509_minimal_context *xc)
{
    x->vtable = &eku_vtable;
    x->inner = &xc->vtable;
    return &x->vtable;
}
