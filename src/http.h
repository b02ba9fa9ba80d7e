/* Server-side HTTP/1.1: an incremental request-head parser over a caller's
 * buffer (slices point into it, nothing is copied or allocated), and the
 * response head writer. */
#ifndef HTTP_H
#define HTTP_H

#include <stddef.h>

#include "limits.h"
#include "str.h"

enum status {
    S_CONTINUE = 100,
    S_OK = 200,
    S_BAD_REQUEST = 400,
    S_UNAUTHORIZED = 401,
    S_FORBIDDEN = 403,
    S_NOT_FOUND = 404,
    S_METHOD_NOT_ALLOWED = 405,
    S_REQUEST_TIMEOUT = 408,
    S_LENGTH_REQUIRED = 411,
    S_PAYLOAD_TOO_LARGE = 413,
    S_EXPECTATION_FAILED = 417,
    S_HEADER_TOO_LARGE = 431,
    S_INTERNAL_ERROR = 500,
    S_NOT_IMPLEMENTED = 501,
    S_UNAVAILABLE = 503,
    S_VERSION_NOT_SUPPORTED = 505,
};

/* The reason phrase for s ("OK", "Not Found", ...). */
const char *http_reason(enum status s);

enum http_method { M_OTHER, M_GET, M_HEAD, M_POST, M_PUT, M_DELETE, M_PATCH, M_OPTIONS };

struct http_header {
    struct slice name, value; /* value without surrounding whitespace */
};

struct http_request {
    enum http_method method;
    struct slice method_name;
    struct slice target; /* as sent: path plus "?query" */
    struct slice path;
    struct slice query;
    int minor; /* HTTP/1.<minor>: 0 or 1 */
    struct http_header h[HTTP_MAX_HEADERS];
    size_t nh;
    size_t head_len;       /* bytes of the head, blank line included */
    size_t content_length; /* 0 when absent */
    int has_length;
    int keep_alive;      /* after the connection tokens and the version default */
    int expect_continue; /* "Expect: 100-continue" */
};

/* Parse the head of one request at buf[0..len).
 * Returns the head length (> 0) and fills *r when the head is complete;
 * 0 when more input is needed; or -status (e.g. -400, -431) when the input
 * can never become a valid request. *scanned carries how far the search
 * for the blank line got across calls (start it at 0 for each request), so
 * a head that arrives one byte at a time is scanned once, not n² times.
 * Leading empty lines are skipped (RFC 9112 2.2). Only origin-form targets. */
long http_parse(const char *buf, size_t len, size_t *scanned, struct http_request *r);

/* The value of the first header named name (case-insensitive), or NULL. */
const struct slice *http_header(const struct http_request *r, const char *name);

/* Write a whole response (status line, Date-less fixed headers, body) into
 * out; extra_headers are complete "Name: value\r\n" lines or NULL.
 * keep_alive: 0 adds "Connection: close", 2 "Connection: keep-alive" (what
 * an HTTP/1.0 client needs to hear), 1 nothing (the HTTP/1.1 default).
 * Returns its length, or -1 when it does not fit in cap. */
long http_response(char *out, size_t cap, enum status s, int keep_alive, const char *content_type,
                   const char *extra_headers, const char *body, size_t body_len, int head_only);

#endif
