/* PEM → trust anchors, and client certificate chains with their key. */
#include "tlscert.h"

#include "limits.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
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
