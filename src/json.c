/* JSON writer and strict, bounded, non-recursive reader (RFC 8259). */
#include "json.h"

#include <stdint.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* Length of the well-formed UTF-8 sequence at s[0..n), 0 when it is not one
 * (overlong forms, surrogates and code points past U+10FFFF are refused). */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
    unsigned c = s[0];
    if (c < 0x80) return 1;
    if (c >= 0xC2 && c <= 0xDF) return (n >= 2 && (s[1] & 0xC0) == 0x80) ? 2 : 0;
    if (c >= 0xE0 && c <= 0xEF) {
        if (n < 3 || (s[1] & 0xC0) != 0x80 || (s[2] & 0xC0) != 0x80) return 0;
        if (c == 0xE0 && s[1] < 0xA0) return 0;  /* overlong */
        if (c == 0xED && s[1] >= 0xA0) return 0; /* UTF-16 surrogate */
        return 3;
    }
    if (c >= 0xF0 && c <= 0xF4) {
        if (n < 4 || (s[1] & 0xC0) != 0x80 || (s[2] & 0xC0) != 0x80 || (s[3] & 0xC0) != 0x80)
            return 0;
        if (c == 0xF0 && s[1] < 0x90) return 0;  /* overlong */
        if (c == 0xF4 && s[1] >= 0x90) return 0; /* past U+10FFFF */
        return 4;
    }
    return 0;
}

/* ---- Writer ----
 * first[d] bit 0: the container at depth d has no member yet; bit 1: it is an
 * object. Depth 0 is the top level, which takes exactly one value. */

#define JW_EMPTY 1
#define JW_OBJ 2

void jw_init(struct jw *w, char *buf, size_t cap)
{
    w->buf = buf;
    w->cap = cap;
    w->len = 0;
    w->err = (buf == NULL || cap == 0);
    w->depth = 0;
    w->first[0] = JW_EMPTY;
    w->after_key = 0;
    if (!w->err) buf[0] = 0;
}

static void put(struct jw *w, const char *s, size_t n)
{
    if (w->err) return;
    if (n >= w->cap - w->len) { /* keep one byte for the NUL */
        w->err = 1;
        return;
    }
    memcpy(w->buf + w->len, s, n);
    w->len += n;
}

static void putc1(struct jw *w, char c)
{
    put(w, &c, 1);
}

/* Separator before a value; flags misuse (a value where a key belongs, a
 * second top-level value). */
static void before_value(struct jw *w)
{
    if (w->err) return;
    unsigned char *f = &w->first[w->depth];
    if (w->after_key) {
        w->after_key = 0;
        return;
    }
    if (*f & JW_OBJ) {
        w->err = 1;
        return;
    }
    if (w->depth == 0) {
        if (!(*f & JW_EMPTY)) w->err = 1;
        *f &= (unsigned char)~JW_EMPTY;
        return;
    }
    if (!(*f & JW_EMPTY)) putc1(w, ',');
    *f &= (unsigned char)~JW_EMPTY;
}

static void container_open(struct jw *w, char c, unsigned char kind)
{
    before_value(w);
    if (w->err) return;
    if (w->depth + 1 >= JW_MAX_DEPTH) {
        w->err = 1;
        return;
    }
    putc1(w, c);
    w->depth++;
    w->first[w->depth] = (unsigned char)(JW_EMPTY | kind);
}

static void container_close(struct jw *w, char c, unsigned char kind)
{
    if (w->err) return;
    if (w->depth == 0 || w->after_key || (w->first[w->depth] & JW_OBJ) != kind) {
        w->err = 1;
        return;
    }
    putc1(w, c);
    w->depth--;
}

void jw_obj_begin(struct jw *w)
{
    container_open(w, '{', JW_OBJ);
}

void jw_obj_end(struct jw *w)
{
    container_close(w, '}', JW_OBJ);
}

void jw_arr_begin(struct jw *w)
{
    container_open(w, '[', 0);
}

void jw_arr_end(struct jw *w)
{
    container_close(w, ']', 0);
}

static void put_string(struct jw *w, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *p = (const unsigned char *)s;
    putc1(w, '"');
    size_t i = 0;
    while (i < n && !w->err) {
        unsigned c = p[i];
        if (c == '"' || c == '\\') {
            char e[2] = {'\\', (char)c};
            put(w, e, 2);
            i++;
        } else if (c < 0x20 || c == 0x7f) {
            char e[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
            switch (c) {
            case '\n':
                put(w, "\\n", 2);
                break;
            case '\r':
                put(w, "\\r", 2);
                break;
            case '\t':
                put(w, "\\t", 2);
                break;
            case '\b':
                put(w, "\\b", 2);
                break;
            case '\f':
                put(w, "\\f", 2);
                break;
            default:
                put(w, e, 6);
            }
            i++;
        } else if (c < 0x80) {
            size_t j = i;
            while (j < n && p[j] >= 0x20 && p[j] < 0x7f && p[j] != '"' && p[j] != '\\') j++;
            put(w, s + i, j - i);
            i = j;
        } else {
            size_t k = utf8_seq(p + i, n - i);
            if (k == 0) {
                put(w, "\xEF\xBF\xBD", 3); /* U+FFFD for one bad byte */
                i++;
            } else {
                put(w, s + i, k);
                i += k;
            }
        }
    }
    putc1(w, '"');
}

void jw_key(struct jw *w, const char *key)
{
    if (w->err) return;
    unsigned char *f = &w->first[w->depth];
    if (!(*f & JW_OBJ) || w->after_key || key == NULL) {
        w->err = 1;
        return;
    }
    if (!(*f & JW_EMPTY)) putc1(w, ',');
    *f &= (unsigned char)~JW_EMPTY;
    put_string(w, key, strlen(key));
    putc1(w, ':');
    w->after_key = 1;
}

void jw_strn(struct jw *w, const char *s, size_t n)
{
    before_value(w);
    if (w->err) return;
    if (s == NULL) {
        put(w, "null", 4);
        return;
    }
    put_string(w, s, n);
}

void jw_str(struct jw *w, const char *s)
{
    jw_strn(w, s, s ? strlen(s) : 0);
}

void jw_int(struct jw *w, long long v)
{
    char b[24];
    int n = snprintf(b, sizeof b, "%lld", v);
    before_value(w);
    put(w, b, (size_t)n);
}

void jw_bool(struct jw *w, int v)
{
    before_value(w);
    if (v)
        put(w, "true", 4);
    else
        put(w, "false", 5);
}

void jw_null(struct jw *w)
{
    before_value(w);
    put(w, "null", 4);
}

void jw_raw(struct jw *w, const char *json, size_t n)
{
    before_value(w);
    if (n == 0 || json == NULL) {
        w->err = 1;
        return;
    }
    put(w, json, n);
}

void jw_kstr(struct jw *w, const char *key, const char *s)
{
    jw_key(w, key);
    jw_str(w, s);
}

void jw_kint(struct jw *w, const char *key, long long v)
{
    jw_key(w, key);
    jw_int(w, v);
}

long jw_finish(struct jw *w)
{
    if (w->err || w->depth != 0 || w->after_key || (w->first[0] & JW_EMPTY)) {
        if (w->buf && w->cap) w->buf[w->len < w->cap ? w->len : w->cap - 1] = 0;
        return -1;
    }
    w->buf[w->len] = 0;
    return (long)w->len;
}

/* ---- Reader ----
 * Keys carry size 1 (their value), which tells them apart from string values
 * for json_next. */

#define JSON_MAX_NEST (JW_MAX_DEPTH * 2)

static int is_ws(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

static long hex4(const char *s, size_t n)
{
    if (n < 4) return -1;
    long v = 0;
    for (int i = 0; i < 4; i++) {
        int h = hexval(s[i]);
        if (h < 0) return -1;
        v = v * 16 + h;
    }
    return v;
}

/* Scan a string starting after its opening quote; returns the index of the
 * closing quote, or -1 when malformed or unterminated. */
static long scan_string(const char *s, size_t len, size_t i)
{
    while (i < len) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"') return (long)i;
        if (c < 0x20) return -1;
        if (c == '\\') {
            if (i + 1 >= len) return -1;
            char e = s[i + 1];
            if (e == 'u') {
                long u = hex4(s + i + 2, len - i - 2);
                if (u < 0 || (u >= 0xDC00 && u <= 0xDFFF)) return -1;
                i += 6;
                if (u >= 0xD800 && u <= 0xDBFF) {
                    if (i + 1 >= len || s[i] != '\\' || s[i + 1] != 'u') return -1;
                    long lo = hex4(s + i + 2, len - i - 2);
                    if (lo < 0xDC00 || lo > 0xDFFF) return -1;
                    i += 6;
                }
            } else if (e == '"' || e == '\\' || e == '/' || e == 'b' || e == 'f' || e == 'n' ||
                       e == 'r' || e == 't') {
                i += 2;
            } else {
                return -1;
            }
        } else if (c < 0x80) {
            i++;
        } else {
            size_t k = utf8_seq((const unsigned char *)s + i, len - i);
            if (k == 0) return -1;
            i += k;
        }
    }
    return -1;
}

static int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* Scan a number; returns the index just past it, or -1. */
static long scan_number(const char *s, size_t len, size_t i)
{
    if (i < len && s[i] == '-') i++;
    if (i >= len) return -1;
    if (s[i] == '0') {
        i++;
    } else if (s[i] >= '1' && s[i] <= '9') {
        while (i < len && is_digit(s[i])) i++;
    } else {
        return -1;
    }
    if (i < len && s[i] == '.') {
        i++;
        if (i >= len || !is_digit(s[i])) return -1;
        while (i < len && is_digit(s[i])) i++;
    }
    if (i < len && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < len && (s[i] == '+' || s[i] == '-')) i++;
        if (i >= len || !is_digit(s[i])) return -1;
        while (i < len && is_digit(s[i])) i++;
    }
    return (long)i;
}

static int add_tok(struct json_doc *d, int cap, enum json_type t, size_t start, size_t end,
                   int parent)
{
    if (d->ntoks >= cap) return -1;
    struct json_tok *k = &d->toks[d->ntoks];
    k->type = t;
    k->start = (unsigned)start;
    k->end = (unsigned)end;
    k->parent = parent;
    k->skip = d->ntoks + 1;
    k->size = 0;
    return d->ntoks++;
}

int json_parse(struct json_doc *d, const char *src, size_t len, struct json_tok *toks, int cap)
{
    int stack[JSON_MAX_NEST];
    int sp = 0;
    size_t i = 0;
    /* want: 0 a value, 1 a key or '}' (after '{'), 2 a value or ']' (after
     * '['), 3 a key (after ','), 4 ',' or the end of the container. */
    int want = 0;

    d->src = src;
    d->len = len;
    d->toks = toks;
    d->ntoks = 0;
    if (src == NULL || toks == NULL || cap <= 0 || len >= UINT32_MAX) goto fail;

    for (;;) {
        while (i < len && is_ws(src[i])) i++;
        if (want == 4) {
            if (sp == 0) break;
            int c = stack[sp - 1];
            if (i >= len) goto fail;
            if (src[i] == ',') {
                i++;
                want = toks[c].type == JSON_OBJECT ? 3 : 0;
                continue;
            }
            if (src[i] != (toks[c].type == JSON_OBJECT ? '}' : ']')) goto fail;
            i++;
            toks[c].end = (unsigned)i;
            toks[c].skip = d->ntoks;
            sp--;
            continue;
        }
        if (i >= len) goto fail;
        int parent = sp ? stack[sp - 1] : -1;
        if (want == 1 || want == 3) {
            if (want == 1 && src[i] == '}') {
                want = 2; /* reuse the close path below */
                goto close;
            }
            if (src[i] != '"') goto fail;
            long e = scan_string(src, len, i + 1);
            if (e < 0) goto fail;
            int k = add_tok(d, cap, JSON_STRING, i + 1, (size_t)e, parent);
            if (k < 0) goto fail;
            toks[k].size = 1;
            toks[parent].size++;
            i = (size_t)e + 1;
            while (i < len && is_ws(src[i])) i++;
            if (i >= len || src[i] != ':') goto fail;
            i++;
            want = 0;
            continue;
        }
        if (want == 2 && src[i] == ']') {
        close:
            toks[parent].end = (unsigned)(i + 1);
            toks[parent].skip = d->ntoks;
            sp--;
            i++;
            want = 4;
            continue;
        }
        /* A value. */
        if (parent >= 0 && toks[parent].type == JSON_ARRAY) toks[parent].size++;
        char c = src[i];
        if (c == '{' || c == '[') {
            if (sp >= JSON_MAX_NEST) goto fail;
            int k = add_tok(d, cap, c == '{' ? JSON_OBJECT : JSON_ARRAY, i, i + 1, parent);
            if (k < 0) goto fail;
            stack[sp++] = k;
            i++;
            want = c == '{' ? 1 : 2;
            continue;
        }
        enum json_type t;
        size_t start = i, end;
        if (c == '"') {
            long e = scan_string(src, len, i + 1);
            if (e < 0) goto fail;
            t = JSON_STRING;
            start = i + 1;
            end = (size_t)e;
            i = end + 1;
        } else if (c == '-' || is_digit(c)) {
            long e = scan_number(src, len, i);
            if (e < 0) goto fail;
            t = JSON_NUMBER;
            end = (size_t)e;
            i = end;
        } else if (len - i >= 4 && memcmp(src + i, "true", 4) == 0) {
            t = JSON_TRUE;
            end = i + 4;
            i = end;
        } else if (len - i >= 5 && memcmp(src + i, "false", 5) == 0) {
            t = JSON_FALSE;
            end = i + 5;
            i = end;
        } else if (len - i >= 4 && memcmp(src + i, "null", 4) == 0) {
            t = JSON_NULL;
            end = i + 4;
            i = end;
        } else {
            goto fail;
        }
        if (add_tok(d, cap, t, start, end, parent) < 0) goto fail;
        want = 4;
    }
    if (i != len) goto fail;
    return d->ntoks;
fail:
    d->ntoks = 0;
    return -1;
}

static int valid_tok(const struct json_doc *d, int tok)
{
    return d && tok >= 0 && tok < d->ntoks;
}

/* Unescaping cursor over a string token: yields one code point at a time as
 * UTF-8 bytes. The parser already checked escapes and surrogate pairs. */
struct ustr {
    const char *s;
    size_t i, end;
};

/* Next piece of the unescaped string into b (up to 4 bytes); returns its
 * length, 0 at the end, -1 on an invalid escape. */
static int ustr_next(struct ustr *u, char b[4])
{
    if (u->i >= u->end) return 0;
    char c = u->s[u->i];
    if (c != '\\') {
        b[0] = c;
        u->i++;
        return 1;
    }
    if (u->i + 1 >= u->end) return -1;
    char e = u->s[u->i + 1];
    u->i += 2;
    switch (e) {
    case '"':
        b[0] = '"';
        return 1;
    case '\\':
        b[0] = '\\';
        return 1;
    case '/':
        b[0] = '/';
        return 1;
    case 'b':
        b[0] = '\b';
        return 1;
    case 'f':
        b[0] = '\f';
        return 1;
    case 'n':
        b[0] = '\n';
        return 1;
    case 'r':
        b[0] = '\r';
        return 1;
    case 't':
        b[0] = '\t';
        return 1;
    case 'u':
        break;
    default:
        return -1;
    }
    long cp = hex4(u->s + u->i, u->end - u->i);
    if (cp < 0 || (cp >= 0xDC00 && cp <= 0xDFFF)) return -1;
    u->i += 4;
    if (cp >= 0xD800 && cp <= 0xDBFF) {
        if (u->i + 6 > u->end || u->s[u->i] != '\\' || u->s[u->i + 1] != 'u') return -1;
        long lo = hex4(u->s + u->i + 2, u->end - u->i - 2);
        if (lo < 0xDC00 || lo > 0xDFFF) return -1;
        u->i += 6;
        cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
    }
    if (cp < 0x80) {
        b[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        b[0] = (char)(0xC0 | (cp >> 6));
        b[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        b[0] = (char)(0xE0 | (cp >> 12));
        b[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        b[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    b[0] = (char)(0xF0 | (cp >> 18));
    b[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    b[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    b[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

static int ustr_open(const struct json_doc *d, int tok, struct ustr *u)
{
    if (!valid_tok(d, tok) || d->toks[tok].type != JSON_STRING) return -1;
    u->s = d->src;
    u->i = d->toks[tok].start;
    u->end = d->toks[tok].end;
    return 0;
}

long json_str(const struct json_doc *d, int tok, char *out, size_t cap)
{
    struct ustr u;
    size_t n = 0;
    char b[4];
    int k;
    if (cap == 0 || out == NULL) return -1;
    out[0] = 0;
    if (ustr_open(d, tok, &u) < 0) return -1;
    while ((k = ustr_next(&u, b)) > 0) {
        if ((size_t)k >= cap - n) {
            out[0] = 0;
            return -1;
        }
        memcpy(out + n, b, (size_t)k);
        n += (size_t)k;
    }
    if (k < 0) {
        out[0] = 0;
        return -1;
    }
    out[n] = 0;
    return (long)n;
}

int json_eq(const struct json_doc *d, int tok, const char *s)
{
    struct ustr u;
    char b[4];
    int k;
    size_t n = 0, sl;
    if (s == NULL || ustr_open(d, tok, &u) < 0) return 0;
    sl = strlen(s);
    while ((k = ustr_next(&u, b)) > 0) {
        if ((size_t)k > sl - n || memcmp(s + n, b, (size_t)k) != 0) return 0;
        n += (size_t)k;
    }
    return k == 0 && n == sl;
}

int json_get(const struct json_doc *d, int obj, const char *key)
{
    if (!valid_tok(d, obj) || d->toks[obj].type != JSON_OBJECT) return -1;
    int k = obj + 1;
    for (int m = 0; m < d->toks[obj].size && k + 1 < d->ntoks; m++) {
        if (json_eq(d, k, key)) return k + 1;
        k = d->toks[k + 1].skip;
    }
    return -1;
}

int json_path(const struct json_doc *d, int tok, ...)
{
    va_list ap;
    const char *key;
    va_start(ap, tok);
    while (tok >= 0 && (key = va_arg(ap, const char *)) != NULL) tok = json_get(d, tok, key);
    va_end(ap);
    return tok;
}

int json_first(const struct json_doc *d, int tok)
{
    if (!valid_tok(d, tok)) return -1;
    const struct json_tok *t = &d->toks[tok];
    if ((t->type != JSON_OBJECT && t->type != JSON_ARRAY) || t->size == 0) return -1;
    return tok + 1;
}

int json_next(const struct json_doc *d, int tok)
{
    if (!valid_tok(d, tok)) return -1;
    const struct json_tok *t = &d->toks[tok];
    int parent = t->parent;
    int next;
    if (parent < 0) return -1;
    if (t->type == JSON_STRING && t->size == 1 && d->toks[parent].type == JSON_OBJECT) {
        if (tok + 1 >= d->ntoks) return -1;
        next = d->toks[tok + 1].skip; /* past the member's value */
    } else {
        next = t->skip;
    }
    if (next >= d->ntoks || d->toks[next].parent != parent) return -1;
    return next;
}

int json_int(const struct json_doc *d, int tok, long long *out)
{
    if (!valid_tok(d, tok) || d->toks[tok].type != JSON_NUMBER) return -1;
    const char *s = d->src + d->toks[tok].start;
    size_t n = d->toks[tok].end - d->toks[tok].start, i = 0;
    int neg = 0;
    unsigned long long v = 0, lim;
    if (n > 0 && s[0] == '-') {
        neg = 1;
        i = 1;
    }
    if (i >= n) return -1;
    lim = neg ? (unsigned long long)INT64_MAX + 1 : (unsigned long long)INT64_MAX;
    for (; i < n; i++) {
        if (!is_digit(s[i])) return -1;
        unsigned dg = (unsigned)(s[i] - '0');
        if (v > (lim - dg) / 10) return -1;
        v = v * 10 + dg;
    }
    if (neg)
        *out = v == (unsigned long long)INT64_MAX + 1 ? INT64_MIN : -(long long)v;
    else
        *out = (long long)v;
    return 0;
}

long long json_int_or(const struct json_doc *d, int tok, long long def)
{
    long long v;
    if (tok < 0 || json_int(d, tok, &v) < 0) return def;
    return v;
}
