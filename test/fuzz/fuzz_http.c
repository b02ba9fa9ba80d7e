/* HTTP request parser: the input parsed at once, and again in two pieces
 * split where the first byte says (the first piece in its own exact-size
 * copy, so ASan sees a read past it), with one `scanned` across both calls;
 * the results must agree and every slice must lie inside the input. Small
 * inputs are also fed one byte at a time. Then a pipelined second request,
 * http_header, and http_response with the parsed target as body. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct http_request whole, piece;

static int inside(struct slice s, const char *buf, size_t len)
{

    return s.p >= buf && s.n <= len && s.p - buf <= (ptrdiff_t)(len - s.n);
}

/* Invariants of a successful parse of buf[0..len) that returned h. */
static void check_ok(const struct http_request *r, long h, const char *buf, size_t len)
{
    if (h <= 0 || (size_t)h > len || (size_t)h > HTTP_MAX_HEAD || r->head_len != (size_t)h)
        __builtin_trap();
    /* The head ends with an empty line. */
    if (buf[h - 1] != '\n' || !(buf[h - 2] == '\n' || (buf[h - 2] == '\r' && buf[h - 3] == '\n')))
        __builtin_trap();
    if (r->nh > HTTP_MAX_HEADERS || r->content_length > HTTP_MAX_BODY) __builtin_trap();
    if (r->minor != 0 && r->minor != 1) __builtin_trap();
    if ((r->keep_alive | r->expect_continue | r->has_length) & ~1) __builtin_trap();
    if (!r->has_length && r->content_length) __builtin_trap();
    if (r->method == M_POST && !r->has_length) __builtin_trap();
    if (!inside(r->method_name, buf, (size_t)h) || !inside(r->target, buf, (size_t)h) ||
        !inside(r->path, buf, (size_t)h) || !inside(r->query, buf, (size_t)h))
        __builtin_trap();
    if (r->target.n == 0 || r->target.p[0] != '/' || r->path.p != r->target.p) __builtin_trap();
    for (size_t i = 0; i < r->nh; i++) {
        const struct http_header *f = &r->h[i];
        if (!inside(f->name, buf, (size_t)h) || !inside(f->value, buf, (size_t)h) || f->name.n == 0)
            __builtin_trap();
        if (f->value.n && (f->value.p[0] == ' ' || f->value.p[f->value.n - 1] == ' '))
            __builtin_trap(); /* trimmed */
        if (memchr(f->value.p, '\r', f->value.n) || memchr(f->value.p, '\n', f->value.n))
            __builtin_trap();
        if (http_header(r, "") != NULL) __builtin_trap();
    }
    if (r->minor == 1 && http_header(r, "host") == NULL) __builtin_trap();
    if (http_header(r, "transfer-encoding") != NULL) __builtin_trap();
}

static void same(const struct http_request *a, const struct http_request *b)
{
    if (a->head_len != b->head_len || a->nh != b->nh || a->method != b->method ||
        a->minor != b->minor || a->content_length != b->content_length ||
        a->has_length != b->has_length || a->keep_alive != b->keep_alive ||
        a->expect_continue != b->expect_continue || a->target.n != b->target.n ||
        a->query.n != b->query.n)
        __builtin_trap();
    for (size_t i = 0; i < a->nh; i++)
        if (a->h[i].name.n != b->h[i].name.n || a->h[i].value.n != b->h[i].value.n)
            __builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *buf = (const char *)data;
    size_t scanned = 0;
    long h = http_parse(buf, size, &scanned, &whole);
    if (h > 0) check_ok(&whole, h, buf, size);
    if (scanned > size) __builtin_trap();

    /* Two pieces with one scanned. */
    size_t split = size ? (size_t)data[0] * (size + 1) / 256 : 0;
    char *first = malloc(split ? split : 1);
    if (split) memcpy(first, buf, split);
    scanned = 0;
    long a = http_parse(first, split, &scanned, &piece);
    free(first);
    if (scanned > split) __builtin_trap();
    if (a != 0) {
        /* A complete head or a definite error in a prefix is the same for the whole. */
        if (a != h) __builtin_trap();
        if (a > 0) same(&piece, &whole);
    } else {
        long b = http_parse(buf, size, &scanned, &piece);
        if (b != h) __builtin_trap();
        if (b > 0) {
            check_ok(&piece, b, buf, size);
            same(&piece, &whole);
        }
    }

    /* Byte at a time, for small inputs. */
    if (size <= 256) {
        scanned = 0;
        long c = 0;
        size_t k;
        for (k = 0; k <= size && c == 0; k++) c = http_parse(buf, k, &scanned, &piece);
        if (c != h) __builtin_trap();
        if (c > 0 && k - 1 != (size_t)c) __builtin_trap(); /* complete when the blank line came */
    }

    if (h > 0) {
        (void)http_header(&whole, "content-type");
        (void)http_header(&whole, "X-Slack-Signature");
        if (whole.nh) {
            char name[64];
            size_t n = whole.h[whole.nh - 1].name.n;
            if (n < sizeof name) {
                memcpy(name, whole.h[whole.nh - 1].name.p, n);
                name[n] = 0;
                const struct slice *v = http_header(&whole, name);
                if (!v || v->p < buf || v->p > buf + size) __builtin_trap();
            }
        }
        char out[1024];
        size_t cap = (size_t)data[size - 1] * 4 + 1;
        long n = http_response(out, cap, S_OK, whole.keep_alive, "text/plain", NULL, whole.target.p,
                               whole.target.n, whole.method == M_HEAD);
        if (n != -1 && (n <= 0 || (size_t)n >= cap + 1)) __builtin_trap();

        /* A pipelined next request after the body. */
        size_t next = (size_t)h + whole.content_length;
        if (next <= size) {
            scanned = 0;
            long h2 = http_parse(buf + next, size - next, &scanned, &piece);
            if (h2 > 0) check_ok(&piece, h2, buf + next, size - next);
        }
    }
    return 0;
}
