#include "sb.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void sb_init(struct sb *b, char *p, size_t cap)
{
    b->p = p;
    b->cap = cap;
    b->len = 0;
    b->full = cap == 0;
    if (cap) p[0] = 0;
}

void sb_add(struct sb *b, const char *fmt, ...)
{
    va_list ap;
    int n;
    if (b->full) return;
    va_start(ap, fmt);
    n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
    va_end(ap);
    if (n >= 0 && (size_t)n < b->cap - b->len) {
        b->len += (size_t)n;
        return;
    }
    b->full = 1;
    if (b->cap < 4) {
        b->p[0] = 0;
        b->len = 0;
        return;
    }
    size_t keep = b->cap - 4;
    while (keep > 0 && ((unsigned char)b->p[keep] & 0xC0) == 0x80) keep--;
    memcpy(b->p + keep, "...", 4);
    b->len = keep + 3;
}

void sb_clean_copy(char *out, size_t cap, const char *s)
{
    size_t n = 0;
    if (cap == 0) return;
    for (; s && *s && n + 1 < cap; s++, n++) {
        unsigned char c = (unsigned char)*s;
        out[n] = (c < 0x20 || c == 0x7f) ? ' ' : (char)c;
    }
    if (s && ((unsigned char)*s & 0xC0) == 0x80) { /* cut inside a character: drop its head */
        while (n > 0 && ((unsigned char)out[n - 1] & 0xC0) == 0x80) n--;
        if (n > 0 && (unsigned char)out[n - 1] >= 0xC0) n--;
    }
    out[n] = 0;
}

static int unreserved(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '.' || c == '_' || c == '~';
}

void sb_urlenc(struct sb *b, const char *s)
{
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (unreserved(c))
            sb_add(b, "%c", c);
        else
            sb_add(b, "%%%02X", c);
    }
}
