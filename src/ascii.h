/* ASCII character classes for the protocol parsers: locale-free (the C
 * library's ctype.h follows the locale). c is a byte value (0..255). */
#ifndef ASCII_H
#define ASCII_H

#include <string.h>

static inline int ascii_lower(int c)
{
    return (c >= 'A' && c <= 'Z') ? c + 32 : c;
}

static inline int ascii_digit(int c)
{
    return c >= '0' && c <= '9';
}

static inline int ascii_alnum(int c)
{
    return ascii_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static inline int ascii_hex(int c)
{
    return ascii_digit(c) || (ascii_lower(c) >= 'a' && ascii_lower(c) <= 'f');
}

/* A token character of HTTP field names and methods (RFC 9110 5.6.2). */
static inline int ascii_tchar(int c)
{
    return ascii_alnum(c) || (c && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

#endif
