/* JSON: a bounded writer into a caller's buffer, and a small reader that
 * tokenizes a document into a caller-given token array (no allocation). */
#ifndef JSON_H
#define JSON_H

#include <stddef.h>

#define JW_MAX_DEPTH 32

/* Writer. Errors are sticky: after an overflow or misuse every call is a
 * no-op and jw_finish returns -1. */
struct jw {
    char *buf;
    size_t cap, len;
    int err;
    int depth;
    unsigned char first[JW_MAX_DEPTH]; /* 1 while the container at depth has no member yet */
    unsigned char after_key;           /* 1 right after jw_key */
};

void jw_init(struct jw *w, char *buf, size_t cap);
void jw_obj_begin(struct jw *w);
void jw_obj_end(struct jw *w);
void jw_arr_begin(struct jw *w);
void jw_arr_end(struct jw *w);
void jw_key(struct jw *w, const char *key);
/* A string value; s may hold any bytes: quotes, backslashes and control
 * characters are escaped, invalid UTF-8 is replaced by U+FFFD. */
void jw_str(struct jw *w, const char *s);
void jw_strn(struct jw *w, const char *s, size_t n);
void jw_int(struct jw *w, long long v);
void jw_bool(struct jw *w, int v);
void jw_null(struct jw *w);
/* Raw already-valid JSON (e.g. a nested document). */
void jw_raw(struct jw *w, const char *json, size_t n);
/* Shorthands: key then value. */
void jw_kstr(struct jw *w, const char *key, const char *s);
void jw_kint(struct jw *w, const char *key, long long v);
/* NUL-terminates; returns the length, or -1 on overflow/unbalanced nesting. */
long jw_finish(struct jw *w);

/* Reader. */
enum json_type {
    JSON_OBJECT = 1,
    JSON_ARRAY,
    JSON_STRING,
    JSON_NUMBER,
    JSON_TRUE,
    JSON_FALSE,
    JSON_NULL
};

struct json_tok {
    enum json_type type;
    unsigned start, end; /* byte span in the source; strings exclude the quotes */
    int parent; /* index of the enclosing container (or of the key's object), -1 for root */
    int skip;   /* index of the first token after this token's whole subtree */
    int size;   /* object: number of members; array: number of elements */
};

struct json_doc {
    const char *src;
    size_t len;
    struct json_tok *toks;
    int ntoks;
};

/* Tokenize src[0..len) (one complete value, whitespace around allowed).
 * Object members are stored as key token (JSON_STRING) then value subtree.
 * Returns the token count, or -1 on malformed input, more than cap tokens,
 * nesting deeper than JW_MAX_DEPTH*2, or trailing garbage. */
int json_parse(struct json_doc *d, const char *src, size_t len, struct json_tok *toks, int cap);
/* Value token for key in object tok, or -1 (also when tok is not an object). */
int json_get(const struct json_doc *d, int obj, const char *key);
/* Follow keys from tok: json_path(d, 0, "metadata", "annotations", NULL). -1 if any is missing. */
int json_path(const struct json_doc *d, int tok, ...);
/* First element of an array (or first key of an object), or -1. */
int json_first(const struct json_doc *d, int tok);
/* Next sibling in the same array (for object keys: the next key), or -1. */
int json_next(const struct json_doc *d, int tok);
/* 1 when tok is a string equal (after unescaping) to s. */
int json_eq(const struct json_doc *d, int tok, const char *s);
/* Unescape string tok into out (cap bytes, NUL-terminated). Returns its
 * length, or -1 when tok is not a string, is invalid, or does not fit. */
long json_str(const struct json_doc *d, int tok, char *out, size_t cap);
/* Integer value of a number token (no fraction/exponent); 0 ok, -1 otherwise. */
int json_int(const struct json_doc *d, int tok, long long *out);
/* Same, returning def when tok is -1 or not an integer. */
long long json_int_or(const struct json_doc *d, int tok, long long def);

#endif
