/* The chunked transfer coding (RFC 9112 7.1) of an HTTP/1.1 response body,
 * decoded incrementally in the caller's buffer: no allocation, safe on
 * untrusted bytes, bounded size lines and trailers. */
#ifndef CHUNKED_H
#define CHUNKED_H

#include <stddef.h>

#define CHUNKED_MAX_LINE 4096     /* chunk-size line with extensions */
#define CHUNKED_MAX_TRAILERS 8192 /* all trailer lines together */

/* Incremental chunked-body decoder; zero it (or chunked_init) to start. */
struct chunked {
    int state;
    unsigned long long left; /* data bytes left in the current chunk */
    size_t line;             /* bytes of the current size line, or of all trailers */
    int digits;
};

void chunked_init(struct chunked *c);
/* Decode buf[0..n) in place: the data bytes are moved to the front of buf and
 * their count returned; -1 on malformed input. *used is how many input bytes
 * were consumed: all of them, unless the body ended (chunked_done) and
 * bytes follow it. */
long chunked_decode(struct chunked *c, char *buf, size_t n, size_t *used);
/* 1 once the last chunk and the trailers have been consumed. */
int chunked_done(const struct chunked *c);

#endif
