#include "form.h"

#include <string.h>

static int hexval(unsigned char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Decode s[0..n) to out, NUL-terminated; returns the decoded length or -1. */
static long decode(const char *s, size_t n, char *out, const char **why)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '+') {
            c = ' ';
        } else if (c == '%') {
            if (n - i < 3) {
                *why = "truncated %-escape";
                return -1;
            }
            int h = hexval((unsigned char)s[i + 1]), l = hexval((unsigned char)s[i + 2]);
            if (h < 0 || l < 0) {
                *why = "bad %-escape";
                return -1;
            }
            c = (unsigned char)(h << 4 | l);
            if (c == 0) {
                *why = "NUL byte in form";
                return -1;
            }
            i += 2;
        } else if (c == 0) {
            *why = "NUL byte in form";
            return -1;
        }
        if (o == FORM_MAX_VALUE) {
            *why = "form field too long";
            return -1;
        }
        out[o++] = (char)c;
    }
    out[o] = 0;
    return (long)o;
}

int form_parse(struct form *f, const char *body, size_t n, const char **why)
{
    const char *dummy;
    if (!why) why = &dummy;
    f->n = 0;
    if (n > HTTP_MAX_BODY) {
        *why = "form body too large";
        return -1;
    }
    /* A pair of k bytes decodes to at most k - 1 bytes plus two NULs (or k
     * bytes plus one NUL when it has no '='; its empty value then shares the
     * key's NUL), and pairs are separated by '&': the output never exceeds
     * n + 1 bytes. */
    size_t o = 0, i = 0;
    while (i < n) {
        const char *pair = body + i;
        const char *amp = memchr(pair, '&', n - i);
        size_t plen = amp ? (size_t)(amp - pair) : n - i;
        i += plen + 1;
        if (plen == 0) continue;
        const char *eq = memchr(pair, '=', plen);
        size_t klen = eq ? (size_t)(eq - pair) : plen;
        if (klen == 0) {
            *why = "empty field name";
            goto fail;
        }
        if (f->n == FORM_MAX_FIELDS) {
            *why = "too many form fields";
            goto fail;
        }
        char *key = f->buf + o;
        long kn = decode(pair, klen, key, why);
        if (kn < 0) goto fail;
        o += (size_t)kn + 1;
        const char *value = key + kn; /* "" unless there is an '=' */
        long vn = 0;
        if (eq) {
            char *v = f->buf + o;
            vn = decode(eq + 1, plen - klen - 1, v, why);
            if (vn < 0) goto fail;
            o += (size_t)vn + 1;
            value = v;
        }
        for (size_t k = 0; k < f->n; k++) {
            if (strcmp(f->f[k].key, key) == 0) {
                *why = "duplicate field";
                goto fail;
            }
        }
        f->f[f->n].key = key;
        f->f[f->n].value = value;
        f->f[f->n].vlen = (size_t)vn;
        f->n++;
    }
    return 0;
fail:
    f->n = 0; /* never hand out a half-decoded form */
    return -1;
}

const char *form_get(const struct form *f, const char *key)
{
    for (size_t k = 0; k < f->n; k++)
        if (strcmp(f->f[k].key, key) == 0) return f->f[k].value;
    return NULL;
}
