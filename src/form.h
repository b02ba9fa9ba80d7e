/* application/x-www-form-urlencoded decoding of a Slack slash-command body. */
#ifndef FORM_H
#define FORM_H

#include <stddef.h>

#include "limits.h"

/* A decoded form. Keys and values are NUL-terminated strings inside buf;
 * decoding never grows the text, so HTTP_MAX_BODY + 2 always holds it. */
struct form {
    struct {
        const char *key;
        const char *value;
        size_t vlen; /* strlen(value) */
    } f[FORM_MAX_FIELDS];
    size_t n;
    char buf[HTTP_MAX_BODY + 2];
};

/* Decode body[0..n) into f: '+' is a space, %XX (either hex case) a byte.
 * Returns 0, or -1 with *why a short static reason: body over HTTP_MAX_BODY,
 * a bad or truncated escape, %00, an empty key, more than FORM_MAX_FIELDS
 * fields, a decoded key or value over FORM_MAX_VALUE, or a key seen twice
 * (Slack never sends one twice, so a duplicate is not from Slack). Empty
 * pairs ("a=1&&b=2") are skipped; a key without '=' has the value "". */
int form_parse(struct form *f, const char *body, size_t n, const char **why);

/* The value of key, or NULL when the form has no such field. */
const char *form_get(const struct form *f, const char *key);

#endif
