/* The response head parser. */
#include "httphead.h"

#include "ascii.h"
#include "limits.h"
#include "str.h"

#include <stdlib.h>
#include <string.h>

/* Trim spaces and tabs around s[0..n). */
static void trim(const char **s, size_t *n)
{
    while (*n > 0 && (**s == ' ' || **s == '\t')) {
        (*s)++;
        (*n)--;
    }
    while (*n > 0 && ((*s)[*n - 1] == ' ' || (*s)[*n - 1] == '\t')) (*n)--;
}

static int header(struct httphead *h, const char *name, size_t nn, const char *v, size_t vn,
                  int *seen_te)
{
    if (slice_eq_nocase((struct slice){name, nn}, "content-length")) {
        long long x = 0;
        if (vn == 0 || vn > 15) return -1;
        for (size_t i = 0; i < vn; i++) {
            if (!ascii_digit((unsigned char)v[i])) return -1;
            x = x * 10 + (v[i] - '0');
        }
        if (h->content_length >= 0 && h->content_length != x) return -1;
        h->content_length = x;
    } else if (slice_eq_nocase((struct slice){name, nn}, "transfer-encoding")) {
        if (*seen_te || !slice_eq_nocase((struct slice){v, vn}, "chunked")) return -1;
        *seen_te = 1;
        h->chunked = 1;
    } else if (slice_eq_nocase((struct slice){name, nn}, "retry-after")) {
        long x = 0;
        int ok = vn > 0 && vn <= 9;
        for (size_t i = 0; ok && i < vn; i++) {
            if (!ascii_digit((unsigned char)v[i]))
                ok = 0;
            else
                x = x * 10 + (v[i] - '0');
        }
        h->retry_after = ok ? x : -1;
    } else if (slice_eq_nocase((struct slice){name, nn}, "content-type")) {
        size_t k = vn < sizeof h->content_type - 1 ? vn : sizeof h->content_type - 1;
        memcpy(h->content_type, v, k);
        h->content_type[k] = 0;
    }
    return 0;
}

long httphead_parse(const char *buf, size_t n, struct httphead *h)
{
    size_t i = 0, lim = n < HTTPC_MAX_HEAD ? n : HTTPC_MAX_HEAD;
    int line = 0, seen_te = 0;
    memset(h, 0, sizeof *h);
    h->content_length = -1;
    h->retry_after = -1;
    for (;;) {
        /* Find the end of this line. */
        size_t s = i;
        while (i < lim && buf[i] != '\n') i++;
        if (i >= lim) return n >= HTTPC_MAX_HEAD ? -1 : 0;
        if (i == s || buf[i - 1] != '\r') return -1; /* bare LF */
        const char *l = buf + s;
        size_t ln = i - s - 1;
        i++;
        for (size_t k = 0; k < ln; k++) {
            unsigned char c = (unsigned char)l[k];
            if ((c < 0x20 && c != '\t') || c == 0x7f) return -1;
        }
        if (line++ == 0) {
            /* HTTP/1.x SP 3DIGIT [SP reason] */
            if (ln < 12 || memcmp(l, "HTTP/1.", 7) != 0 || (l[7] != '0' && l[7] != '1') ||
                l[8] != ' ' || !ascii_digit((unsigned char)l[9]) ||
                !ascii_digit((unsigned char)l[10]) || !ascii_digit((unsigned char)l[11]) ||
                (ln > 12 && l[12] != ' '))
                return -1;
            h->status = (l[9] - '0') * 100 + (l[10] - '0') * 10 + (l[11] - '0');
            if (h->status < 100 || h->status > 599) return -1;
            continue;
        }
        if (ln == 0) break;
        if (l[0] == ' ' || l[0] == '\t') return -1; /* obsolete line folding */
        const char *colon = memchr(l, ':', ln);
        if (!colon || colon == l) return -1;
        size_t nn = (size_t)(colon - l);
        for (size_t k = 0; k < nn; k++)
            if (!ascii_tchar((unsigned char)l[k])) return -1;
        const char *v = colon + 1;
        size_t vn = ln - nn - 1;
        trim(&v, &vn);
        if (header(h, l, nn, v, vn, &seen_te) < 0) return -1;
    }
    if (h->chunked && h->content_length >= 0) return -1;
    return (long)i;
}
