#include "str.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int slice_eq(struct slice a, const char *s)
{
    size_t n = strlen(s);
    return a.n == n && memcmp(a.p, s, n) == 0;
}

static int lower(int c)
{
    return (c >= 'A' && c <= 'Z') ? c + 32 : c;
}

int slice_eq_nocase(struct slice a, const char *s)
{
    size_t n = strlen(s);
    if (a.n != n) return 0;
    for (size_t i = 0; i < n; i++)
        if (lower((unsigned char)a.p[i]) != lower((unsigned char)s[i])) return 0;
    return 1;
}

int str_ct_eq(const void *a, const void *b, size_t n)
{
    const volatile unsigned char *x = a, *y = b;
    unsigned char d = 0;
    for (size_t i = 0; i < n; i++) d |= x[i] ^ y[i];
    return d == 0;
}

int slice_copy(char *dst, size_t cap, struct slice a)
{
    if (cap == 0) return -1;
    if (a.n >= cap) {
        dst[0] = 0;
        return -1;
    }
    memcpy(dst, a.p, a.n);
    dst[a.n] = 0;
    return 0;
}

int str_copy(char *dst, size_t cap, const char *s)
{
    size_t n = strlen(s);
    if (cap == 0) return -1;
    if (n >= cap) {
        memcpy(dst, s, cap - 1);
        dst[cap - 1] = 0;
        return -1;
    }
    memcpy(dst, s, n + 1);
    return 0;
}

int slice_to_ulong(struct slice a, unsigned long max, unsigned long *out)
{
    unsigned long v = 0;
    if (a.n == 0 || a.n > 20) return -1;
    for (size_t i = 0; i < a.n; i++) {
        unsigned d = (unsigned char)a.p[i] - '0';
        if (d > 9) return -1;
        if (d > max || v > (max - d) / 10) return -1;
        v = v * 10 + d;
    }
    *out = v;
    return 0;
}

int slice_list_has(struct slice v, const char *token)
{
    size_t i = 0;
    while (i < v.n) {
        while (i < v.n && (v.p[i] == ' ' || v.p[i] == '\t' || v.p[i] == ',')) i++;
        size_t s = i;
        while (i < v.n && v.p[i] != ',') i++;
        size_t e = i;
        while (e > s && (v.p[e - 1] == ' ' || v.p[e - 1] == '\t')) e--;
        if (e > s && slice_eq_nocase((struct slice){v.p + s, e - s}, token)) return 1;
    }
    return 0;
}

int str_fail(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return -1;
}

/* Length of the valid UTF-8 sequence at s (1..4) and its code point, or 0. */
static size_t utf8_next(const unsigned char *s, unsigned long *cp)
{
    static const unsigned long min[5] = {0, 0, 0x80, 0x800, 0x10000};
    size_t n = s[0] < 0x80                   ? 1
               : s[0] >= 0xc2 && s[0] < 0xe0 ? 2
               : s[0] >= 0xe0 && s[0] < 0xf0 ? 3
               : s[0] >= 0xf0 && s[0] < 0xf5 ? 4
                                             : 0;
    if (n == 0) return 0;
    unsigned long c = n == 1 ? s[0] : s[0] & (0x7fu >> n);
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xc0) != 0x80) return 0;
        c = (c << 6) | (s[i] & 0x3f);
    }
    if (c < min[n] || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff)) return 0;
    *cp = c;
    return n;
}

static int hidden(unsigned long c)
{
    return c < 0x20 || (c >= 0x7f && c <= 0x9f) || c == 0x61c || c == 0x200e || c == 0x200f ||
           (c >= 0x202a && c <= 0x202e) || (c >= 0x2066 && c <= 0x2069);
}

size_t str_clean_name(char *dst, size_t cap, const char *src)
{
    size_t o = 0;
    const unsigned char *s = (const unsigned char *)(src ? src : "");
    while (*s) {
        unsigned long c;
        size_t n = utf8_next(s, &c);
        if (n == 0) { /* not UTF-8: drop the byte */
            s++;
            continue;
        }
        if (!hidden(c)) {
            if (o + n >= cap) break;
            memcpy(dst + o, s, n);
            o += n;
        }
        s += n;
    }
    dst[o] = 0;
    return o;
}
