/* BearSSL client driven by poll() with deadlines; PEM → trust anchors. */
#include "tls.h"

#include "limits.h"
#include "loop.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define TLS_MAX_CERT 65536          /* DER bytes of one certificate (real ones: < 8 KiB). */
#define TLS_MAX_PEM_FILE (16 << 20) /* a CA bundle file (Debian's: ~220 KiB). */
#define TLS_MAX_CHAIN 8             /* certificates in a client chain (real ones: 1-3). */

/* ---- Trust anchors ---- */

struct dbuf {
    unsigned char *p;
    size_t len, cap, max;
    int over;
};

static void dbuf_append(void *ctx, const void *data, size_t len)
{
    struct dbuf *b = ctx;
    if (b->over) return;
    if (len > b->max - b->len) {
        b->over = 1;
        return;
    }
    if (b->len + len > b->cap) {
        size_t nc = b->cap ? b->cap * 2 : 1024;
        while (nc < b->len + len) nc *= 2;
        unsigned char *np = realloc(b->p, nc);
        if (!np) {
            b->over = 1;
            return;
        }
        b->p = np;
        b->cap = nc;
    }
    memcpy(b->p + b->len, data, len);
    b->len += len;
}

static void discard(void *ctx, const void *data, size_t len)
{
    (void)ctx;
    (void)data;
    (void)len;
}

static void *dup_bytes(const void *p, size_t n)
{
    void *q = malloc(n ? n : 1);
    if (q && n) memcpy(q, p, n);
    return q;
}

static void ta_free(br_x509_trust_anchor *ta)
{
    free(ta->dn.data);
    if (ta->pkey.key_type == BR_KEYTYPE_RSA) {
        free(ta->pkey.key.rsa.n);
        free(ta->pkey.key.rsa.e);
    } else if (ta->pkey.key_type == BR_KEYTYPE_EC) {
        free(ta->pkey.key.ec.q);
    }
    memset(ta, 0, sizeof *ta);
}

/* One DER certificate → an anchor with its own copies of DN and key. */
static int der_to_anchor(const unsigned char *der, size_t len, br_x509_trust_anchor *ta, char *err,
                         size_t errlen)
{
    br_x509_decoder_context dc;
    struct dbuf dn = {NULL, 0, 0, TLS_MAX_CERT, 0};
    br_x509_decoder_init(&dc, dbuf_append, &dn);
    br_x509_decoder_push(&dc, der, len);
    const br_x509_pkey *pk = br_x509_decoder_get_pkey(&dc);
    memset(ta, 0, sizeof *ta);
    if (pk == NULL || dn.over) {
        int e = br_x509_decoder_last_error(&dc);
        snprintf(err, errlen, "bad certificate in PEM (X.509 error %d)", e);
        free(dn.p);
        return -1;
    }
    ta->dn.data = dn.p ? dn.p : malloc(1);
    ta->dn.len = dn.len;
    ta->flags = br_x509_decoder_isCA(&dc) ? BR_X509_TA_CA : 0;
    ta->pkey.key_type = pk->key_type;
    if (pk->key_type == BR_KEYTYPE_RSA) {
        ta->pkey.key.rsa.n = dup_bytes(pk->key.rsa.n, pk->key.rsa.nlen);
        ta->pkey.key.rsa.nlen = pk->key.rsa.nlen;
        ta->pkey.key.rsa.e = dup_bytes(pk->key.rsa.e, pk->key.rsa.elen);
        ta->pkey.key.rsa.elen = pk->key.rsa.elen;
        if (!ta->dn.data || !ta->pkey.key.rsa.n || !ta->pkey.key.rsa.e) goto nomem;
    } else if (pk->key_type == BR_KEYTYPE_EC) {
        ta->pkey.key.ec.curve = pk->key.ec.curve;
        ta->pkey.key.ec.q = dup_bytes(pk->key.ec.q, pk->key.ec.qlen);
        ta->pkey.key.ec.qlen = pk->key.ec.qlen;
        if (!ta->dn.data || !ta->pkey.key.ec.q) goto nomem;
    } else {
        snprintf(err, errlen, "certificate in PEM has an unsupported key type");
        ta_free(ta);
        return -1;
    }
    return 0;
nomem:
    snprintf(err, errlen, "out of memory");
    ta_free(ta);
    return -1;
}

static int add_anchor(struct tls_anchors *a, const struct dbuf *der, char *err, size_t errlen)
{
    br_x509_trust_anchor ta;
    if (a->n >= TLS_MAX_ANCHORS) {
        snprintf(err, errlen, "more than %d certificates", TLS_MAX_ANCHORS);
        return -1;
    }
    if (der_to_anchor(der->p, der->len, &ta, err, errlen) < 0) return -1;
    br_x509_trust_anchor *nv = realloc(a->v, (a->n + 1) * sizeof *nv);
    if (!nv) {
        ta_free(&ta);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    a->v = nv;
    a->v[a->n++] = ta;
    return 0;
}

/* Call fn for each PEM object in pem[0..len) whose name wanted() accepts,
 * with its DER bytes (at most TLS_MAX_CERT). 0, or -1 with err. */
typedef int (*pem_obj_fn)(void *ctx, const char *name, const struct dbuf *der, char *err,
                          size_t errlen);
static int pem_walk(const char *pem, size_t len, int (*wanted)(const char *name), pem_obj_fn fn,
                    void *ctx, char *err, size_t errlen)
{
    br_pem_decoder_context pc;
    struct dbuf der = {NULL, 0, 0, TLS_MAX_CERT, 0};
    size_t off = 0;
    int inobj = 0, want = 0, tail = 0;
    char name[128] = "";

    br_pem_decoder_init(&pc);
    /* A final "\n" terminates a last line that lacks one (the decoder only
     * sees an END line once its newline arrives). */
    while (off < len || !tail) {
        const char *p = off < len ? pem + off : "\n";
        size_t k = br_pem_decoder_push(&pc, p, off < len ? len - off : 1);
        if (off < len)
            off += k;
        else if (k == 1)
            tail = 1;
        switch (br_pem_decoder_event(&pc)) {
        case BR_PEM_BEGIN_OBJ:
            snprintf(name, sizeof name, "%s", br_pem_decoder_name(&pc));
            want = wanted(name);
            inobj = 1;
            der.len = 0;
            der.over = 0;
            br_pem_decoder_setdest(&pc, want ? dbuf_append : discard, &der);
            break;
        case BR_PEM_END_OBJ:
            if (want) {
                if (der.over) {
                    snprintf(err, errlen, "%s in PEM larger than %d bytes", name, TLS_MAX_CERT);
                    goto fail;
                }
                if (fn(ctx, name, &der, err, errlen) < 0) goto fail;
            }
            inobj = 0;
            want = 0;
            break;
        case BR_PEM_ERROR:
            snprintf(err, errlen, "malformed PEM");
            goto fail;
        default:
            if (k == 0) { /* no progress without an event: cannot happen */
                snprintf(err, errlen, "malformed PEM");
                goto fail;
            }
        }
    }
    if (inobj) {
        snprintf(err, errlen, "truncated PEM (no END line)");
        goto fail;
    }
    free(der.p);
    return 0;
fail:
    free(der.p);
    return -1;
}

static int is_cert_name(const char *name)
{
    return strcmp(name, "CERTIFICATE") == 0 || strcmp(name, "X509 CERTIFICATE") == 0 ||
           strcmp(name, "TRUSTED CERTIFICATE") == 0;
}

static int anchor_obj(void *ctx, const char *name, const struct dbuf *der, char *err, size_t errlen)
{
    (void)name;
    return add_anchor(ctx, der, err, errlen);
}

int tls_anchors_add_pem(struct tls_anchors *a, const char *pem, size_t len, char *err,
                        size_t errlen)
{
    size_t n0 = a->n;
    if (pem_walk(pem, len, is_cert_name, anchor_obj, a, err, errlen) < 0) {
        while (a->n > n0) ta_free(&a->v[--a->n]);
        return -1;
    }
    return (int)(a->n - n0);
}

int tls_anchors_load(struct tls_anchors *a, const char *path, char *err, size_t errlen)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    char *buf = NULL;
    size_t len = 0;
    int r = -1;
    if (fd < 0) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > TLS_MAX_PEM_FILE) {
        snprintf(err, errlen, "%s: not a regular file of at most %d bytes", path, TLS_MAX_PEM_FILE);
        goto out;
    }
    buf = malloc((size_t)st.st_size + 1);
    if (!buf) {
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    while (len < (size_t)st.st_size) {
        ssize_t k = read(fd, buf + len, (size_t)st.st_size - len);
        if (k < 0 && errno == EINTR) continue;
        if (k < 0) {
            snprintf(err, errlen, "%s: %s", path, strerror(errno));
            goto out;
        }
        if (k == 0) break;
        len += (size_t)k;
    }
    char e2[200];
    r = tls_anchors_add_pem(a, buf, len, e2, sizeof e2);
    if (r < 0)
        snprintf(err, errlen, "%s: %s", path, e2);
    else if (r == 0) {
        snprintf(err, errlen, "%s: no certificate", path);
        r = -1;
    }
out:
    free(buf);
    close(fd);
    return r;
}

void tls_anchors_free(struct tls_anchors *a)
{
    for (size_t i = 0; i < a->n; i++) ta_free(&a->v[i]);
    free(a->v);
    a->v = NULL;
    a->n = 0;
}

/* ---- Client certificates ---- */

static int is_key_name(const char *name)
{
    return strcmp(name, "RSA PRIVATE KEY") == 0 || strcmp(name, "EC PRIVATE KEY") == 0 ||
           strcmp(name, "PRIVATE KEY") == 0 || strcmp(name, "ENCRYPTED PRIVATE KEY") == 0;
}

static int chain_obj(void *ctx, const char *name, const struct dbuf *der, char *err, size_t errlen)
{
    struct tls_client_cert *c = ctx;
    (void)name;
    if (c->n >= TLS_MAX_CHAIN) {
        snprintf(err, errlen, "more than %d certificates in the client chain", TLS_MAX_CHAIN);
        return -1;
    }
    br_x509_certificate *nv = realloc(c->chain, (c->n + 1) * sizeof *nv);
    if (nv) c->chain = nv;
    unsigned char *d = nv ? dup_bytes(der->p, der->len) : NULL;
    if (!d) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    c->chain[c->n].data = d;
    c->chain[c->n++].data_len = der->len;
    return 0;
}

static int key_obj(void *ctx, const char *name, const struct dbuf *der, char *err, size_t errlen)
{
    struct tls_client_cert *c = ctx;
    if (strcmp(name, "ENCRYPTED PRIVATE KEY") == 0) {
        snprintf(err, errlen, "the private key is encrypted: decrypt it first (openssl pkey)");
        return -1;
    }
    if (c->key_type) {
        snprintf(err, errlen, "more than one private key");
        return -1;
    }
    br_skey_decoder_init(&c->key);
    br_skey_decoder_push(&c->key, der->p, der->len);
    int e = br_skey_decoder_last_error(&c->key);
    c->key_type = br_skey_decoder_key_type(&c->key);
    if (e != 0 || (c->key_type != BR_KEYTYPE_RSA && c->key_type != BR_KEYTYPE_EC)) {
        snprintf(err, errlen, "private key not understood (%s, decoder error %d)", name, e);
        c->key_type = 0;
        return -1;
    }
    return 0;
}

/* 1 when the key belongs to the leaf certificate (its public half matches). */
static int key_matches_leaf(const struct tls_client_cert *c, char *err, size_t errlen)
{
    br_x509_decoder_context dc;
    br_x509_decoder_init(&dc, discard, NULL);
    br_x509_decoder_push(&dc, c->chain[0].data, c->chain[0].data_len);
    const br_x509_pkey *pk = br_x509_decoder_get_pkey(&dc);
    if (!pk) {
        snprintf(err, errlen, "bad client certificate (X.509 error %d)",
                 br_x509_decoder_last_error(&dc));
        return 0;
    }
    int ok = 0;
    if (pk->key_type == BR_KEYTYPE_RSA && c->key_type == BR_KEYTYPE_RSA) {
        const br_rsa_private_key *sk = br_skey_decoder_get_rsa(&c->key);
        unsigned char n[512]; /* 4096 bits, the largest key BearSSL decodes */
        size_t nl = br_rsa_compute_modulus_get_default()(NULL, sk);
        const unsigned char *cn = pk->key.rsa.n;
        size_t cl = pk->key.rsa.nlen;
        while (cl > 0 && *cn == 0) cn++, cl--;
        ok = nl > 0 && nl <= sizeof n && br_rsa_compute_modulus_get_default()(n, sk) == nl &&
             nl == cl && memcmp(n, cn, nl) == 0;
    } else if (pk->key_type == BR_KEYTYPE_EC && c->key_type == BR_KEYTYPE_EC) {
        const br_ec_private_key *sk = br_skey_decoder_get_ec(&c->key);
        unsigned char q[BR_EC_KBUF_PUB_MAX_SIZE];
        br_ec_public_key pub;
        size_t ql = br_ec_compute_pub(&br_ec_prime_i31, &pub, q, sk);
        ok = ql > 0 && pk->key.ec.curve == sk->curve && ql == pk->key.ec.qlen &&
             memcmp(q, pk->key.ec.q, ql) == 0;
    }
    if (!ok) snprintf(err, errlen, "the client key does not belong to the client certificate");
    return ok;
}

int tls_client_cert_load(struct tls_client_cert *c, const char *cert_pem, size_t cert_len,
                         const char *key_pem, size_t key_len, char *err, size_t errlen)
{
    char e[200];
    memset(c, 0, sizeof *c);
    if (pem_walk(cert_pem, cert_len, is_cert_name, chain_obj, c, e, sizeof e) < 0) {
        snprintf(err, errlen, "client certificate: %s", e);
        goto fail;
    }
    if (c->n == 0) {
        snprintf(err, errlen, "client certificate: no CERTIFICATE in the PEM");
        goto fail;
    }
    if (pem_walk(key_pem, key_len, is_key_name, key_obj, c, e, sizeof e) < 0) {
        snprintf(err, errlen, "client key: %s", e);
        goto fail;
    }
    if (!c->key_type) {
        snprintf(err, errlen, "client key: no RSA, EC or PKCS#8 PRIVATE KEY in the PEM");
        goto fail;
    }
    if (!key_matches_leaf(c, err, errlen)) goto fail;
    return 0;
fail:
    tls_client_cert_free(c);
    return -1;
}

void tls_client_cert_free(struct tls_client_cert *c)
{
    for (size_t i = 0; i < c->n; i++) free(c->chain[i].data);
    free(c->chain);
    memset(c, 0, sizeof *c); /* wipes the key too */
}

/* Offer cert when the server asks (CertificateRequest): signatures with
 * the key only (no static ECDH), as every API server accepts. */
static void client_cert_use(struct tls_conn *c, const struct tls_client_cert *cert)
{
    if (cert->key_type == BR_KEYTYPE_RSA)
        br_ssl_client_set_single_rsa(&c->sc, cert->chain, cert->n,
                                     br_skey_decoder_get_rsa(&cert->key),
                                     br_rsa_pkcs1_sign_get_default());
    else
        br_ssl_client_set_single_ec(&c->sc, cert->chain, cert->n,
                                    br_skey_decoder_get_ec(&cert->key), BR_KEYTYPE_SIGN, 0,
                                    &br_ec_prime_i31, &br_ecdsa_i31_sign_asn1);
}

/* ---- Errors ---- */

static const struct {
    int code;
    const char *name;
} br_errs[] = {
    {BR_ERR_BAD_PARAM, "BR_ERR_BAD_PARAM"},
    {BR_ERR_BAD_STATE, "BR_ERR_BAD_STATE"},
    {BR_ERR_UNSUPPORTED_VERSION, "BR_ERR_UNSUPPORTED_VERSION"},
    {BR_ERR_BAD_VERSION, "BR_ERR_BAD_VERSION"},
    {BR_ERR_BAD_LENGTH, "BR_ERR_BAD_LENGTH"},
    {BR_ERR_TOO_LARGE, "BR_ERR_TOO_LARGE"},
    {BR_ERR_BAD_MAC, "BR_ERR_BAD_MAC"},
    {BR_ERR_NO_RANDOM, "BR_ERR_NO_RANDOM"},
    {BR_ERR_UNKNOWN_TYPE, "BR_ERR_UNKNOWN_TYPE"},
    {BR_ERR_UNEXPECTED, "BR_ERR_UNEXPECTED"},
    {BR_ERR_BAD_CCS, "BR_ERR_BAD_CCS"},
    {BR_ERR_BAD_ALERT, "BR_ERR_BAD_ALERT"},
    {BR_ERR_BAD_HANDSHAKE, "BR_ERR_BAD_HANDSHAKE"},
    {BR_ERR_OVERSIZED_ID, "BR_ERR_OVERSIZED_ID"},
    {BR_ERR_BAD_CIPHER_SUITE, "BR_ERR_BAD_CIPHER_SUITE"},
    {BR_ERR_BAD_COMPRESSION, "BR_ERR_BAD_COMPRESSION"},
    {BR_ERR_BAD_FRAGLEN, "BR_ERR_BAD_FRAGLEN"},
    {BR_ERR_BAD_SECRENEG, "BR_ERR_BAD_SECRENEG"},
    {BR_ERR_EXTRA_EXTENSION, "BR_ERR_EXTRA_EXTENSION"},
    {BR_ERR_BAD_SNI, "BR_ERR_BAD_SNI"},
    {BR_ERR_BAD_HELLO_DONE, "BR_ERR_BAD_HELLO_DONE"},
    {BR_ERR_LIMIT_EXCEEDED, "BR_ERR_LIMIT_EXCEEDED"},
    {BR_ERR_BAD_FINISHED, "BR_ERR_BAD_FINISHED"},
    {BR_ERR_RESUME_MISMATCH, "BR_ERR_RESUME_MISMATCH"},
    {BR_ERR_INVALID_ALGORITHM, "BR_ERR_INVALID_ALGORITHM"},
    {BR_ERR_BAD_SIGNATURE, "BR_ERR_BAD_SIGNATURE"},
    {BR_ERR_WRONG_KEY_USAGE, "BR_ERR_WRONG_KEY_USAGE"},
    {BR_ERR_NO_CLIENT_AUTH, "BR_ERR_NO_CLIENT_AUTH"},
    {BR_ERR_IO, "BR_ERR_IO"},
    {BR_ERR_X509_INVALID_VALUE, "BR_ERR_X509_INVALID_VALUE"},
    {BR_ERR_X509_TRUNCATED, "BR_ERR_X509_TRUNCATED"},
    {BR_ERR_X509_EMPTY_CHAIN, "BR_ERR_X509_EMPTY_CHAIN"},
    {BR_ERR_X509_INNER_TRUNC, "BR_ERR_X509_INNER_TRUNC"},
    {BR_ERR_X509_BAD_TAG_CLASS, "BR_ERR_X509_BAD_TAG_CLASS"},
    {BR_ERR_X509_BAD_TAG_VALUE, "BR_ERR_X509_BAD_TAG_VALUE"},
    {BR_ERR_X509_INDEFINITE_LENGTH, "BR_ERR_X509_INDEFINITE_LENGTH"},
    {BR_ERR_X509_EXTRA_ELEMENT, "BR_ERR_X509_EXTRA_ELEMENT"},
    {BR_ERR_X509_UNEXPECTED, "BR_ERR_X509_UNEXPECTED"},
    {BR_ERR_X509_NOT_CONSTRUCTED, "BR_ERR_X509_NOT_CONSTRUCTED"},
    {BR_ERR_X509_NOT_PRIMITIVE, "BR_ERR_X509_NOT_PRIMITIVE"},
    {BR_ERR_X509_PARTIAL_BYTE, "BR_ERR_X509_PARTIAL_BYTE"},
    {BR_ERR_X509_BAD_BOOLEAN, "BR_ERR_X509_BAD_BOOLEAN"},
    {BR_ERR_X509_OVERFLOW, "BR_ERR_X509_OVERFLOW"},
    {BR_ERR_X509_BAD_DN, "BR_ERR_X509_BAD_DN"},
    {BR_ERR_X509_BAD_TIME, "BR_ERR_X509_BAD_TIME"},
    {BR_ERR_X509_UNSUPPORTED, "BR_ERR_X509_UNSUPPORTED"},
    {BR_ERR_X509_LIMIT_EXCEEDED, "BR_ERR_X509_LIMIT_EXCEEDED"},
    {BR_ERR_X509_WRONG_KEY_TYPE, "BR_ERR_X509_WRONG_KEY_TYPE"},
    {BR_ERR_X509_BAD_SIGNATURE, "BR_ERR_X509_BAD_SIGNATURE"},
    {BR_ERR_X509_TIME_UNKNOWN, "BR_ERR_X509_TIME_UNKNOWN"},
    {BR_ERR_X509_DN_MISMATCH, "BR_ERR_X509_DN_MISMATCH"},
    {BR_ERR_X509_CRITICAL_EXTENSION, "BR_ERR_X509_CRITICAL_EXTENSION"},
    {BR_ERR_X509_NOT_CA, "BR_ERR_X509_NOT_CA"},
    {BR_ERR_X509_FORBIDDEN_KEY_USAGE, "BR_ERR_X509_FORBIDDEN_KEY_USAGE"},
    {BR_ERR_X509_WEAK_PUBLIC_KEY, "BR_ERR_X509_WEAK_PUBLIC_KEY"},
};

void tls_strerror(int code, const char *server_name, char *err, size_t errlen)
{
    if (code == TLS_ERR_EKU_NOT_SERVER) {
        snprintf(err, errlen,
                 "certificate not issued for TLS servers (Extended Key Usage lacks serverAuth)");
    } else if (code == BR_ERR_X509_NOT_TRUSTED) {
        snprintf(err, errlen, "certificate not trusted (unknown CA)");
    } else if (code == BR_ERR_X509_BAD_SERVER_NAME) {
        snprintf(err, errlen, "name mismatch: wanted %s", server_name ? server_name : "?");
    } else if (code == BR_ERR_X509_EXPIRED) {
        snprintf(err, errlen, "certificate expired or not yet valid");
    } else if (code >= BR_ERR_SEND_FATAL_ALERT) {
        snprintf(err, errlen, "TLS error %d (BR_ERR_SEND_FATAL_ALERT: sent alert %d)", code,
                 code - BR_ERR_SEND_FATAL_ALERT);
    } else if (code >= BR_ERR_RECV_FATAL_ALERT) {
        snprintf(err, errlen, "TLS error %d (BR_ERR_RECV_FATAL_ALERT: server sent alert %d)", code,
                 code - BR_ERR_RECV_FATAL_ALERT);
    } else {
        const char *name = "unknown";
        for (size_t i = 0; i < sizeof br_errs / sizeof br_errs[0]; i++)
            if (br_errs[i].code == code) name = br_errs[i].name;
        snprintf(err, errlen, "TLS error %d (%s)", code, name);
    }
}

/* ---- Extended Key Usage ---- */

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

int tls_eku_server_ok(const unsigned char *der, size_t len)
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
    struct tls_eku_x509 *x = (struct tls_eku_x509 *)(void *)ctx;
    x->depth = 0;
    x->len = 0;
    x->too_big = 0;
    (*x->inner)->start_chain(x->inner, server_name);
}

static void eku_start_cert(const br_x509_class **ctx, uint32_t length)
{
    struct tls_eku_x509 *x = (struct tls_eku_x509 *)(void *)ctx;
    if (x->depth == 0 && length > sizeof x->ee) x->too_big = 1;
    (*x->inner)->start_cert(x->inner, length);
}

static void eku_append(const br_x509_class **ctx, const unsigned char *buf, size_t len)
{
    struct tls_eku_x509 *x = (struct tls_eku_x509 *)(void *)ctx;
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
    struct tls_eku_x509 *x = (struct tls_eku_x509 *)(void *)ctx;
    x->depth++;
    (*x->inner)->end_cert(x->inner);
}

static unsigned eku_end_chain(const br_x509_class **ctx)
{
    struct tls_eku_x509 *x = (struct tls_eku_x509 *)(void *)ctx;
    unsigned r = (*x->inner)->end_chain(x->inner);
    if (r != 0) return r;
    if (x->too_big || tls_eku_server_ok(x->ee, x->len) != 1) return TLS_ERR_EKU_NOT_SERVER;
    return 0;
}

static const br_x509_pkey *eku_get_pkey(const br_x509_class *const *ctx, unsigned *usages)
{
    const struct tls_eku_x509 *x = (const struct tls_eku_x509 *)(const void *)ctx;
    return (*x->inner)->get_pkey(x->inner, usages);
}

static const br_x509_class eku_vtable = {
    sizeof(struct tls_eku_x509),
    eku_start_chain,
    eku_start_cert,
    eku_append,
    eku_end_cert,
    eku_end_chain,
    eku_get_pkey,
};

/* Put the EKU check in front of the minimal validator xc. */
static const br_x509_class **eku_wrap(struct tls_eku_x509 *x, br_x509_minimal_context *xc)
{
    x->vtable = &eku_vtable;
    x->inner = &xc->vtable;
    return &x->vtable;
}

/* ---- Engine driver ---- */

long long tls_deadline(int timeout_s)
{
    return loop_clock_ms() + (long long)(timeout_s > 0 ? timeout_s : 1) * 1000;
}

int tls_wait_fd(int fd, short ev, long long deadline, int timeout_s, char *err, size_t errlen)
{
    for (;;) {
        long long left = deadline - loop_clock_ms();
        if (left <= 0) {
            snprintf(err, errlen, "timed out after %d s", timeout_s);
            return -1;
        }
        struct pollfd p = {fd, ev, 0};
        int r = poll(&p, 1, left > 60000 ? 60000 : (int)left);
        if (r < 0 && errno != EINTR) {
            snprintf(err, errlen, "poll: %s", strerror(errno));
            return -1;
        }
        if (r > 0) return 0; /* readiness or an error condition: the next I/O call tells */
    }
}

static void sock_error(struct tls_conn *c, int e, char *err, size_t errlen)
{
    c->broken = e == ECONNRESET || e == EPIPE;
    if (c->broken)
        snprintf(err, errlen, "connection reset");
    else if (e == ECONNREFUSED)
        snprintf(err, errlen, "connection refused");
    else
        snprintf(err, errlen, "socket: %s", strerror(e));
}

/* Run the engine: send pending records first, then return 1 once the state
 * has a bit of want (want 0: once nothing is left to send). Returns 0 when
 * the engine closed cleanly, -1 with err on failure or deadline. */
static int run_until(struct tls_conn *c, unsigned want, long long deadline, int timeout_s,
                     int handshake, char *err, size_t errlen)
{
    br_ssl_engine_context *e = &c->sc.eng;
    for (;;) {
        unsigned st = br_ssl_engine_current_state(e);
        if (st & BR_SSL_CLOSED) {
            int code = br_ssl_engine_last_error(e);
            if (code == BR_ERR_OK) {
                c->broken = handshake || !(want & BR_SSL_RECVAPP);
                if (handshake)
                    snprintf(err, errlen, "connection closed during TLS handshake");
                else if (!(want & BR_SSL_RECVAPP))
                    snprintf(err, errlen, "TLS connection closed");
                return handshake || !(want & BR_SSL_RECVAPP) ? -1 : 0;
            }
            tls_strerror(code, c->server_name, err, errlen);
            return -1;
        }
        if (st & BR_SSL_SENDREC) {
            size_t len;
            unsigned char *buf = br_ssl_engine_sendrec_buf(e, &len);
            ssize_t w = send(c->fd, buf, len, MSG_NOSIGNAL);
            if (w > 0) {
                br_ssl_engine_sendrec_ack(e, (size_t)w);
                continue;
            }
            if (w < 0 && errno == EINTR) continue;
            if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
                if (tls_wait_fd(c->fd, POLLOUT, deadline, timeout_s, err, errlen) < 0) return -1;
                continue;
            }
            if (!handshake && (want & BR_SSL_RECVAPP)) {
                /* The peer may have closed right after its close_notify:
                 * drop our reply and let the read side tell what happened. */
                br_ssl_engine_sendrec_ack(e, len);
                continue;
            }
            sock_error(c, w < 0 ? errno : EPIPE, err, errlen);
            return -1;
        }
        if (want == 0 || (st & want)) return 1;
        if (st & BR_SSL_RECVREC) {
            size_t len;
            unsigned char *buf = br_ssl_engine_recvrec_buf(e, &len);
            ssize_t r = recv(c->fd, buf, len, 0);
            if (r > 0) {
                br_ssl_engine_recvrec_ack(e, (size_t)r);
                continue;
            }
            if (r < 0 && errno == EINTR) continue;
            if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
                if (tls_wait_fd(c->fd, POLLIN, deadline, timeout_s, err, errlen) < 0) return -1;
                continue;
            }
            if (r == 0) c->bare_eof = c->broken = 1;
            if (r == 0)
                snprintf(err, errlen,
                         handshake ? "connection closed during TLS handshake"
                                   : "connection closed without TLS close_notify");
            else
                sock_error(c, errno, err, errlen);
            return -1;
        }
        snprintf(err, errlen, "TLS engine stalled (state %u)", st);
        return -1;
    }
}

static const uint16_t suites[] = {
    BR_TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
    BR_TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
    BR_TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
    BR_TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
};

/* What br_ssl_client_init_full does, restricted to what we negotiate:
 * TLS 1.2, ECDHE with ECDSA or RSA signatures, AES-GCM. Naming only these
 * keeps CBC, CCM, 3DES, RSA key exchange and the TLS 1.0 PRF out of the
 * static binary (about a quarter of BearSSL's code). Every API server (Go)
 * and Slack offer ECDHE with AES-GCM, so ChaCha20-Poly1305 is left out too
 * (6 KiB). One generic implementation serves the NIST curves P-256, P-384
 * and P-521 for key exchange and ECDSA: the P-256 and Curve25519 special
 * cases are faster but cost 11 KiB, and a job makes a handful of
 * handshakes. */
static void tls_client_init(struct tls_conn *c, const struct tls_anchors *a)
{
    static const br_hash_class *const hashes[] = {
        &br_sha1_vtable, &br_sha224_vtable, &br_sha256_vtable, &br_sha384_vtable, &br_sha512_vtable,
    };
    br_ssl_client_context *cc = &c->sc;
    br_x509_minimal_context *xc = &c->xc;
    br_ssl_client_zero(cc);
    br_ssl_engine_set_versions(&cc->eng, BR_TLS12, BR_TLS12);
    br_x509_minimal_init(xc, &br_sha256_vtable, a->v, a->n);
    br_ssl_engine_set_suites(&cc->eng, suites, sizeof suites / sizeof suites[0]);
    br_ssl_engine_set_default_rsavrfy(&cc->eng);
    br_ssl_engine_set_ec(&cc->eng, &br_ec_prime_i31);
    br_ssl_engine_set_ecdsa(&cc->eng, &br_ecdsa_i31_vrfy_asn1);
    br_x509_minimal_set_rsa(xc, br_ssl_engine_get_rsavrfy(&cc->eng));
    br_x509_minimal_set_ecdsa(xc, br_ssl_engine_get_ec(&cc->eng),
                              br_ssl_engine_get_ecdsa(&cc->eng));
    /* Certificate chains may still be signed with SHA-1 or SHA-224. */
    for (int id = br_sha1_ID; id <= br_sha512_ID; id++) {
        br_ssl_engine_set_hash(&cc->eng, id, hashes[id - br_sha1_ID]);
        br_x509_minimal_set_hash(xc, id, hashes[id - br_sha1_ID]);
    }
    br_ssl_engine_set_x509(&cc->eng, eku_wrap(&c->eku, xc));
    br_ssl_engine_set_prf_sha256(&cc->eng, &br_tls12_sha256_prf);
    br_ssl_engine_set_prf_sha384(&cc->eng, &br_tls12_sha384_prf);
    br_ssl_engine_set_default_aes_gcm(&cc->eng);
}

int tls_open(struct tls_conn *c, int fd, const struct tls_anchors *a, const char *server_name,
             int timeout_s, char *err, size_t errlen)
{
    return tls_open_cert(c, fd, a, NULL, server_name, timeout_s, err, errlen);
}

int tls_open_cert(struct tls_conn *c, int fd, const struct tls_anchors *a,
                  const struct tls_client_cert *cert, const char *server_name, int timeout_s,
                  char *err, size_t errlen)
{
    unsigned char seed[32];
    size_t got = 0;
    long long deadline = tls_deadline(timeout_s);

    c->fd = fd;
    c->bare_eof = 0;
    c->broken = 0;
    if (!server_name || !*server_name || strlen(server_name) >= sizeof c->server_name) {
        snprintf(err, errlen, "TLS needs a server name to verify");
        return -1;
    }
    if (!a || a->n == 0) {
        snprintf(err, errlen, "no trust anchors");
        return -1;
    }
    memcpy(c->server_name, server_name, strlen(server_name) + 1);
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0) {
        snprintf(err, errlen, "fcntl: %s", strerror(errno));
        return -1;
    }
    while (got < sizeof seed) {
        ssize_t k = getrandom(seed + got, sizeof seed - got, 0);
        if (k < 0 && errno == EINTR) continue;
        if (k <= 0) {
            snprintf(err, errlen, "getrandom: %s", strerror(errno));
            return -1;
        }
        got += (size_t)k;
    }
    tls_client_init(c, a);
    if (cert) client_cert_use(c, cert);
    br_ssl_engine_set_buffer(&c->sc.eng, c->iobuf, sizeof c->iobuf, 1);
    br_ssl_engine_inject_entropy(&c->sc.eng, seed, sizeof seed);
    memset(seed, 0, sizeof seed);
    if (!br_ssl_client_reset(&c->sc, c->server_name, 0)) {
        tls_strerror(br_ssl_engine_last_error(&c->sc.eng), c->server_name, err, errlen);
        return -1;
    }
    if (run_until(c, BR_SSL_SENDAPP, deadline, timeout_s, 1, err, errlen) < 0) return -1;
    return 0;
}

long tls_read(struct tls_conn *c, void *buf, size_t n, int timeout_s, char *err, size_t errlen)
{
    br_ssl_engine_context *e = &c->sc.eng;
    int r = run_until(c, BR_SSL_RECVAPP, tls_deadline(timeout_s), timeout_s, 0, err, errlen);
    if (r <= 0) return r;
    size_t len;
    unsigned char *p = br_ssl_engine_recvapp_buf(e, &len);
    if (len > n) len = n;
    memcpy(buf, p, len);
    br_ssl_engine_recvapp_ack(e, len);
    return (long)len;
}

int tls_write_all(struct tls_conn *c, const void *buf, size_t n, int timeout_s, char *err,
                  size_t errlen)
{
    br_ssl_engine_context *e = &c->sc.eng;
    long long deadline = tls_deadline(timeout_s);
    const unsigned char *p = buf;
    while (n > 0) {
        if (run_until(c, BR_SSL_SENDAPP, deadline, timeout_s, 0, err, errlen) < 0) return -1;
        size_t len;
        unsigned char *dst = br_ssl_engine_sendapp_buf(e, &len);
        if (len > n) len = n;
        memcpy(dst, p, len);
        br_ssl_engine_sendapp_ack(e, len);
        p += len;
        n -= len;
    }
    br_ssl_engine_flush(e, 0);
    return run_until(c, 0, deadline, timeout_s, 0, err, errlen) < 0 ? -1 : 0;
}

void tls_close(struct tls_conn *c)
{
    br_ssl_engine_context *e = &c->sc.eng;
    if (br_ssl_engine_current_state(e) & BR_SSL_CLOSED) return;
    br_ssl_engine_close(e);
    /* Best effort, never waits: whatever the socket takes right now. */
    for (int i = 0; i < 4 && (br_ssl_engine_current_state(e) & BR_SSL_SENDREC); i++) {
        size_t len;
        unsigned char *buf = br_ssl_engine_sendrec_buf(e, &len);
        ssize_t w = send(c->fd, buf, len, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (w <= 0) break;
        br_ssl_engine_sendrec_ack(e, (size_t)w);
    }
}
