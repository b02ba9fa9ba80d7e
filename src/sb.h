/* Text builder over a caller-owned fixed buffer, for the messages the kube
 * client writes (Slack text, errors, request paths). Never allocates. */
#ifndef SB_H
#define SB_H

#include <stddef.h>

struct sb {
    char *p;
    size_t cap, len;
    int full; /* set once an append did not fit */
};

/* Start an empty text in p[0..cap); cap 0 makes a builder that is full. */
void sb_init(struct sb *b, char *p, size_t cap);
/* Append; on overflow the text ends with "..." at a UTF-8 boundary and
 * later appends are ignored (b->full). */
__attribute__((format(printf, 2, 3))) void sb_add(struct sb *b, const char *fmt, ...);
/* Append s percent-encoded (all but RFC 3986 unreserved bytes). */
void sb_urlenc(struct sb *b, const char *s);

/* Copy s (NULL allowed: "") into out replacing control characters by
 * spaces, cut at a UTF-8 boundary to fit cap. */
void sb_clean_copy(char *out, size_t cap, const char *s);

#endif
