#include "http.h"

#include <stdio.h>
#include <string.h>

const char *http_reason(enum status s)
{
    switch (s) {
    case S_CONTINUE:
        return "Continue";
    case S_OK:
        return "OK";
    case S_BAD_REQUEST:
        return "Bad Request";
    case S_UNAUTHORIZED:
        return "Unauthorized";
    case S_FORBIDDEN:
        return "Forbidden";
    case S_NOT_FOUND:
        return "Not Found";
    case S_METHOD_NOT_ALLOWED:
        return "Method Not Allowed";
    case S_REQUEST_TIMEOUT:
        return "Request Timeout";
    case S_LENGTH_REQUIRED:
        return "Length Required";
    case S_PAYLOAD_TOO_LARGE:
        return "Payload Too Large";
    case S_EXPECTATION_FAILED:
        return "Expectation Failed";
    case S_HEADER_TOO_LARGE:
        return "Request Header Fields Too Large";
    case S_INTERNAL_ERROR:
        return "Internal Server Error";
    case S_NOT_IMPLEMENTED:
        return "Not Implemented";
    case S_UNAVAILABLE:
        return "Service Unavailable";
    case S_VERSION_NOT_SUPPORTED:
        return "HTTP Version Not Supported";
    }
    return "Unknown";
}

/* RFC 9110 tchar. */
static int is_tchar(unsigned char c)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return 1;
    return c != 0 && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

/* Visible ASCII for the request target (no spaces, no controls, no DEL). */
static int is_target_char(unsigned char c)
{
    return c > 0x20 && c < 0x7f;
}

/* Field value bytes: HTAB, SP, VCHAR, obs-text. */
static int is_value_char(unsigned char c)
{
    return c == '\t' || (c >= 0x20 && c != 0x7f);
}

static const struct {
    const char *name;
    enum http_method m;
} methods[] = {
    {"GET", M_GET},         {"HEAD", M_HEAD},     {"POST", M_POST},
    {"PUT", M_PUT},         {"DELETE", M_DELETE}, {"PATCH", M_PATCH},
    {"OPTIONS", M_OPTIONS}, {"CONNECT", M_OTHER}, {"TRACE", M_OTHER},
};

/* Find the end of the head: the byte after an empty line. Lines may end in
 * CRLF or a bare LF. The search starts a few bytes before `from`, where the
 * last search stopped. Returns the head length or 0 when not found yet. */
static size_t find_head_end(const char *buf, size_t len, size_t from)
{
    size_t i = from > 3 ? from - 3 : 0;
    for (; i < len; i++) {
        if (buf[i] != '\n') continue;
        if (i + 1 < len && buf[i + 1] == '\n') return i + 2;
        if (i + 2 < len && buf[i + 1] == '\r' && buf[i + 2] == '\n') return i + 3;
    }
    return 0;
}

/* One line of buf starting at *pos and ending before end: CRLF or LF.
 * A CR anywhere else in the line is an error (returns -1). */
static int next_line(const char *buf, size_t end, size_t *pos, struct slice *line)
{
    size_t s = *pos, i = s;
    while (i < end && buf[i] != '\n') i++;
    if (i >= end) return -1;
    size_t e = i;
    if (e > s && buf[e - 1] == '\r') e--;
    if (memchr(buf + s, '\r', e - s)) return -1;
    line->p = buf + s;
    line->n = e - s;
    *pos = i + 1;
    return 0;
}

static int parse_request_line(struct slice l, struct http_request *r)
{
    size_t i = 0;
    while (i < l.n && is_tchar((unsigned char)l.p[i])) i++;
    if (i == 0 || i >= l.n || l.p[i] != ' ') return -S_BAD_REQUEST;
    r->method_name = (struct slice){l.p, i};
    r->method = M_OTHER;
    int known = 0;
    for (size_t k = 0; k < sizeof methods / sizeof methods[0]; k++)
        if (slice_eq(r->method_name, methods[k].name)) {
            r->method = methods[k].m;
            known = 1;
        }

    size_t t = ++i;
    while (i < l.n && is_target_char((unsigned char)l.p[i])) i++;
    if (i == t || i >= l.n || l.p[i] != ' ') return -S_BAD_REQUEST;
    r->target = (struct slice){l.p + t, i - t};
    if (r->target.p[0] != '/') return -S_BAD_REQUEST; /* only origin-form: no proxies, no "*" */
    const char *q = memchr(r->target.p, '?', r->target.n);
    if (q) {
        r->path = (struct slice){r->target.p, (size_t)(q - r->target.p)};
        r->query = (struct slice){q + 1, r->target.n - r->path.n - 1};
    } else {
        r->path = r->target;
        r->query = (struct slice){r->target.p + r->target.n, 0};
    }

    struct slice v = {l.p + i + 1, l.n - i - 1};
    if (v.n != 8 || memcmp(v.p, "HTTP/", 5) != 0 || v.p[6] != '.' || v.p[5] < '0' || v.p[5] > '9' ||
        v.p[7] < '0' || v.p[7] > '9')
        return -S_BAD_REQUEST;
    if (v.p[5] != '1') return -S_VERSION_NOT_SUPPORTED;
    r->minor = v.p[7] - '0';
    if (r->minor > 1) r->minor = 1; /* HTTP/1.2+ are answered as 1.1 (RFC 9110 2.5) */
    if (!known) return -S_NOT_IMPLEMENTED;
    return 0;
}

static int parse_header(struct slice l, struct http_header *h)
{
    size_t i = 0;
    while (i < l.n && is_tchar((unsigned char)l.p[i])) i++;
    if (i == 0 || i >= l.n || l.p[i] != ':')
        return -1; /* also whitespace before ':' and obs-fold (RFC 9112 5.1, 5.2) */
    h->name = (struct slice){l.p, i};
    size_t s = i + 1, e = l.n;
    while (s < e && (l.p[s] == ' ' || l.p[s] == '\t')) s++;
    while (e > s && (l.p[e - 1] == ' ' || l.p[e - 1] == '\t')) e--;
    for (size_t k = s; k < e; k++)
        if (!is_value_char((unsigned char)l.p[k])) return -1;
    h->value = (struct slice){l.p + s, e - s};
    return 0;
}

long http_parse(const char *buf, size_t len, size_t *scanned, struct http_request *r)
{
    size_t start = 0;
    /* Skip empty lines before the request line. */
    while (start < len && (buf[start] == '\r' || buf[start] == '\n')) {
        if (buf[start] == '\r' && (start + 1 >= len || buf[start + 1] != '\n')) {
            if (start + 1 >= len) return len >= HTTP_MAX_HEAD ? -S_HEADER_TOO_LARGE : 0;
            return -S_BAD_REQUEST;
        }
        start += buf[start] == '\r' ? 2 : 1;
    }
    if (start > HTTP_MAX_HEAD) return -S_HEADER_TOO_LARGE;
    if (*scanned < start) *scanned = start;
    size_t end = find_head_end(buf + start, len - start, *scanned - start);
    if (end == 0) {
        *scanned = len;
        return len >= HTTP_MAX_HEAD ? -S_HEADER_TOO_LARGE : 0;
    }
    end += start;
    if (end > HTTP_MAX_HEAD) return -S_HEADER_TOO_LARGE;

    memset(r, 0, sizeof *r);
    size_t pos = start;
    struct slice line;
    if (next_line(buf, end, &pos, &line) < 0) return -S_BAD_REQUEST;
    int st = parse_request_line(line, r);
    if (st < 0) return st;

    int host = 0, te = 0, conn_close = 0, conn_keep = 0;
    for (;;) {
        if (next_line(buf, end, &pos, &line) < 0) return -S_BAD_REQUEST;
        if (line.n == 0) break;
        if (r->nh == HTTP_MAX_HEADERS) return -S_HEADER_TOO_LARGE;
        struct http_header *h = &r->h[r->nh++];
        if (parse_header(line, h) < 0) return -S_BAD_REQUEST;
        if (slice_eq_nocase(h->name, "content-length")) {
            unsigned long n;
            for (size_t k = 0; k < h->value.n; k++)
                if (h->value.p[k] < '0' || h->value.p[k] > '9') return -S_BAD_REQUEST;
            if (h->value.n == 0) return -S_BAD_REQUEST;
            if (slice_to_ulong(h->value, 1UL << 40, &n) < 0)
                n = HTTP_MAX_BODY + 1; /* all digits, just huge: too large, not malformed */
            if (r->has_length && n != r->content_length) return -S_BAD_REQUEST;
            r->content_length = n;
            r->has_length = 1;
        } else if (slice_eq_nocase(h->name, "transfer-encoding")) {
            te = 1;
        } else if (slice_eq_nocase(h->name, "host")) {
            if (host++) return -S_BAD_REQUEST;
        } else if (slice_eq_nocase(h->name, "connection")) {
            conn_close |= slice_list_has(h->value, "close");
            conn_keep |= slice_list_has(h->value, "keep-alive");
        } else if (slice_eq_nocase(h->name, "expect")) {
            if (!slice_eq_nocase(h->value, "100-continue")) return -S_EXPECTATION_FAILED;
            r->expect_continue = r->minor >= 1;
        }
    }
    if (r->minor >= 1 && !host) return -S_BAD_REQUEST;
    /* A request body in Transfer-Encoding is refused: with Content-Length too
     * it is a smuggling attempt; alone, we ask for a length. */
    if (te) return r->has_length ? -S_BAD_REQUEST : -S_LENGTH_REQUIRED;
    if (r->method == M_POST && !r->has_length) return -S_LENGTH_REQUIRED;
    if (r->content_length > HTTP_MAX_BODY) return -S_PAYLOAD_TOO_LARGE;
    r->keep_alive = r->minor >= 1 ? !conn_close : (conn_keep && !conn_close);
    r->head_len = end;
    return (long)end;
}

const struct slice *http_header(const struct http_request *r, const char *name)
{
    for (size_t i = 0; i < r->nh; i++)
        if (slice_eq_nocase(r->h[i].name, name)) return &r->h[i].value;
    return NULL;
}

long http_response(char *out, size_t cap, enum status s, int keep_alive, const char *content_type,
                   const char *extra_headers, const char *body, size_t body_len, int head_only)
{
    char head[1024];
    int n = snprintf(head, sizeof head,
                     "HTTP/1.1 %d %s\r\n"
                     "Server: deploy-api\r\n"
                     "Content-Length: %zu\r\n"
                     "%s%s%s"
                     "%s"
                     "%s"
                     "\r\n",
                     (int)s, http_reason(s), body_len, content_type ? "Content-Type: " : "",
                     content_type ? content_type : "", content_type ? "\r\n" : "",
                     keep_alive == 2 ? "Connection: keep-alive\r\n"
                     : keep_alive    ? ""
                                     : "Connection: close\r\n",
                     extra_headers ? extra_headers : "");
    if (n < 0 || (size_t)n >= sizeof head) return -1;
    size_t total = (size_t)n + (head_only ? 0 : body_len);
    if (total > cap) return -1;
    memcpy(out, head, (size_t)n);
    if (!head_only && body_len) memcpy(out + n, body, body_len);
    return (long)total;
}
