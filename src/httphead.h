/* The head of an HTTP/1.1 response (status line and header fields), parsed
 * from caller-owned bytes into a caller-owned struct: no allocation, safe on
 * untrusted bytes, bounded by HTTPC_MAX_HEAD (limits.h). */
#ifndef HTTPHEAD_H
#define HTTPHEAD_H

#include <stddef.h>

/* A parsed response head. */
struct httphead {
    int status;
    int chunked;              /* Transfer-Encoding: chunked */
    long long content_length; /* -1 when absent */
    long retry_after;         /* seconds, -1 when absent or an HTTP-date */
    char content_type[128];   /* "" when absent; cut to fit */
};

/* Parse a response head at buf[0..n): "HTTP/1.x NNN reason" CRLF, header
 * lines, empty line. Returns the head's length when complete, 0 when more
 * bytes are needed (n < HTTPC_MAX_HEAD), -1 when malformed or larger than
 * HTTPC_MAX_HEAD. Refuses conflicting Content-Length, Content-Length with
 * Transfer-Encoding, any transfer coding but chunked, obsolete line folding. */
long httphead_parse(const char *buf, size_t n, struct httphead *h);

#endif
