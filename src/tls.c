/* BearSSL client driven by poll() with deadlines. */
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
#include <time.h>
#include <unistd.h>

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
    if (code == EKU_ERR_NOT_SERVER) {
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
