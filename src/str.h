/* Byte slices and the small string helpers every module uses. */
#ifndef STR_H
#define STR_H

#include <stddef.h>

/* A view into a caller-owned buffer; never NUL-terminated by contract. */
struct slice {
    const char *p;
    size_t n;
};

#define SLICE_LIT(s) ((struct slice){(s), sizeof(s) - 1})

/* 1 when a equals the NUL-terminated s, byte for byte. */
int slice_eq(struct slice a, const char *s);
/* 1 when a equals s ignoring ASCII case. */
int slice_eq_nocase(struct slice a, const char *s);
/* Compare n bytes in time that depends only on n; 1 when equal. */
int str_ct_eq(const void *a, const void *b, size_t n);
/* Copy a into dst (cap bytes, NUL-terminated); -1 and dst="" when it does not fit. */
int slice_copy(char *dst, size_t cap, struct slice a);
/* Copy s into dst (cap bytes, NUL-terminated); -1 and truncated when it does not fit. */
int str_copy(char *dst, size_t cap, const char *s);
/* Parse a decimal unsigned integer that fits in *out (<= max); -1 on anything else. */
int slice_to_ulong(struct slice a, unsigned long max, unsigned long *out);
/* 1 when the comma-separated list v (HTTP header style) holds token,
 * ignoring ASCII case and the spaces around items. */
int slice_list_has(struct slice v, const char *token);
/* Format a message into err[errlen] and return -1: "return str_fail(err,
 * errlen, "...", ...)" is how an error with its reason leaves a function. */
__attribute__((format(printf, 3, 4))) int str_fail(char *err, size_t errlen, const char *fmt, ...);

/* A display name (Slack user or channel name) made safe to render: C0 and
 * C1 controls, DEL, and the bidirectional controls (U+061C, U+200E, U+200F,
 * U+202A..U+202E, U+2066..U+2069) removed, as are bytes that are not valid
 * UTF-8. Copied into dst (cap > 0 bytes, NUL-terminated, cut at a character
 * boundary); src NULL gives "". Returns the length written. */
size_t str_clean_name(char *dst, size_t cap, const char *src);

#endif
