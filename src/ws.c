/* WebSocket framing and handshake (RFC 6455), client side. */
#include "ws.h"

#include <stdio.h>
#include <string.h>

#include <bearssl.h>

#include "str.h"

static const char *const error_text[WS_E_N] = {
    [WS_E_NONE] = "no error",
    [WS_E_RSV] = "reserved bits set",
    [WS_E_OPCODE] = "reserved opcode",
    [WS_E_MASKED] = "masked server frame",
    [WS_E_LENGTH] = "bad length encoding",
    [WS_E_CONTROL_LEN] = "control frame over 125 bytes",
    [WS_E_CONTROL_FRAG] = "fragmented control frame",
    [WS_E_TOO_BIG] = "message too big",
    [WS_E_CONTINUATION] = "continuation without a message",
    [WS_E_INTERLEAVED] = "new message inside a fragmented one",
    [WS_E_CLOSE_PAYLOAD] = "bad close frame",
};

const char *ws_error_str(enum ws_error e)
{
    return e >= 0 && e < WS_E_N ? error_text[e] : "?";
}

int ws_error_close_code(enum ws_error e)
{
    return e == WS_E_TOO_BIG ? 1009 : 1002;
}

static int is_control(unsigned op)
{
    return (op & 0x8) != 0;
}

long ws_frame_parse(const unsigned char *buf, size_t n, size_t max_payload, struct ws_frame *f,
                    enum ws_error *e)
{
    *e = WS_E_NONE;
    if (n < 2) return 0;
    unsigned b0 = buf[0], b1 = buf[1], op = b0 & 0x0F;
    if (b0 & 0x70) return *e = WS_E_RSV, -1;
    if (op != WS_OP_CONT && op != WS_OP_TEXT && op != WS_OP_BINARY && op != WS_OP_CLOSE &&
        op != WS_OP_PING && op != WS_OP_PONG)
        return *e = WS_E_OPCODE, -1;
    if (b1 & 0x80) return *e = WS_E_MASKED, -1;
    int fin = (b0 & 0x80) != 0;
    unsigned long long len = b1 & 0x7F;
    size_t hl = 2;
    if (is_control(op)) {
        if (!fin) return *e = WS_E_CONTROL_FRAG, -1;
        if (len > 125) return *e = WS_E_CONTROL_LEN, -1;
    }
    if (len == 126) {
        if (n < 4) return 0;
        len = (unsigned long long)buf[2] << 8 | buf[3];
        if (len < 126) return *e = WS_E_LENGTH, -1;
        hl = 4;
    } else if (len == 127) {
        if (n < 10) return 0;
        if (buf[2] & 0x80) return *e = WS_E_LENGTH, -1;
        len = 0;
        for (int i = 2; i < 10; i++) len = len << 8 | buf[i];
        if (len < 65536) return *e = WS_E_LENGTH, -1;
        hl = 10;
    }
    if (len > max_payload) return *e = WS_E_TOO_BIG, -1;
    if (n - hl < len) return 0;
    f->fin = fin;
    f->opcode = (enum ws_opcode)op;
    f->payload = buf + hl;
    f->len = (size_t)len;
    return (long)(hl + len);
}

void ws_msg_init(struct ws_msg *m, unsigned char *buf, size_t cap)
{
    memset(m, 0, sizeof *m);
    m->buf = buf;
    m->cap = cap;
}

/* A close frame's payload: no code (1005), or a code that may be sent on
 * the wire (RFC 6455 7.4: 1000-1003, 1007-1014, 3000-4999) and a reason. */
static int close_parse(const struct ws_frame *f, struct ws_read_result *r)
{
    r->data = f->payload;
    r->len = 0;
    if (f->len == 0) {
        r->close_code = 1005;
        return 0;
    }
    if (f->len == 1) return -1;
    int c = f->payload[0] << 8 | f->payload[1];
    int ok = (c >= 1000 && c <= 1003) || (c >= 1007 && c <= 1014) || (c >= 3000 && c <= 4999);
    if (!ok) return -1;
    r->close_code = c;
    r->data = f->payload + 2;
    r->len = f->len - 2;
    return 0;
}

/* A text/binary/continuation frame into the message being assembled. */
static int data_frame(struct ws_msg *m, const struct ws_frame *f, struct ws_read_result *r,
                      enum ws_error *e)
{
    if (f->opcode == WS_OP_CONT) {
        if (!m->active) return *e = WS_E_CONTINUATION, -1;
    } else {
        if (m->active) return *e = WS_E_INTERLEAVED, -1;
        if (f->fin) { /* the common case: a whole message in one frame */
            if (f->len > m->cap) return *e = WS_E_TOO_BIG, -1;
            r->ev = WS_EV_MESSAGE;
            r->opcode = f->opcode;
            r->data = f->payload;
            r->len = f->len;
            return 0;
        }
        m->active = 1;
        m->opcode = f->opcode;
        m->len = 0;
    }
    if (f->len > m->cap - m->len) {
        m->active = 0;
        return *e = WS_E_TOO_BIG, -1;
    }
    if (f->len) memcpy(m->buf + m->len, f->payload, f->len);
    m->len += f->len;
    if (!f->fin) return 0;
    m->active = 0;
    r->ev = WS_EV_MESSAGE;
    r->opcode = m->opcode;
    r->data = m->buf;
    r->len = m->len;
    return 0;
}

long ws_read(struct ws_msg *m, const unsigned char *buf, size_t n, struct ws_read_result *r,
             enum ws_error *e)
{
    struct ws_frame f;
    memset(r, 0, sizeof *r);
    /* A data frame never needs to be larger than the message bound; control
     * frames have their own (125). */
    size_t max = n && is_control(buf[0] & 0x0Fu) ? 125 : m->cap;
    long used = ws_frame_parse(buf, n, max, &f, e);
    if (used <= 0) return used;
    switch (f.opcode) {
    case WS_OP_PING:
    case WS_OP_PONG:
        r->ev = f.opcode == WS_OP_PING ? WS_EV_PING : WS_EV_PONG;
        r->opcode = f.opcode;
        r->data = f.payload;
        r->len = f.len;
        return used;
    case WS_OP_CLOSE:
        if (close_parse(&f, r) < 0) return *e = WS_E_CLOSE_PAYLOAD, -1;
        r->ev = WS_EV_CLOSE;
        r->opcode = f.opcode;
        return used;
    default:
        if (data_frame(m, &f, r, e) < 0) return -1;
        return used;
    }
}

long ws_frame_write(unsigned char *out, size_t cap, enum ws_opcode op, const void *payload,
                    size_t len, const unsigned char mask[4])
{
    if (is_control((unsigned)op) && len > 125) return -1;
    size_t hl = len < 126 ? 2 : len < 65536 ? 4 : 10;
    if (cap < hl + 4 || cap - hl - 4 < len) return -1;
    out[0] = (unsigned char)(0x80 | (unsigned)op);
    if (len < 126) {
        out[1] = (unsigned char)(0x80 | len);
    } else if (len < 65536) {
        out[1] = 0x80 | 126;
        out[2] = (unsigned char)(len >> 8);
        out[3] = (unsigned char)len;
    } else {
        out[1] = 0x80 | 127;
        for (int i = 0; i < 8; i++)
            out[2 + i] = (unsigned char)((unsigned long long)len >> (56 - 8 * i));
    }
    memcpy(out + hl, mask, 4);
    const unsigned char *p = payload;
    for (size_t i = 0; i < len; i++) out[hl + 4 + i] = p[i] ^ mask[i & 3];
    return (long)(hl + 4 + len);
}

long ws_close_write(unsigned char *out, size_t cap, int code, const char *reason,
                    const unsigned char mask[4])
{
    unsigned char pl[125];
    size_t rl = reason ? strlen(reason) : 0;
    if (rl > sizeof pl - 2) rl = sizeof pl - 2;
    pl[0] = (unsigned char)(code >> 8);
    pl[1] = (unsigned char)code;
    if (rl) memcpy(pl + 2, reason, rl);
    return ws_frame_write(out, cap, WS_OP_CLOSE, pl, rl + 2, mask);
}

/* ---- Handshake ---- */

void ws_base64(const unsigned char *in, size_t n, char *out)
{
    static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t o = 0;
    for (size_t i = 0; i < n; i += 3) {
        unsigned long v = (unsigned long)in[i] << 16;
        if (i + 1 < n) v |= (unsigned long)in[i + 1] << 8;
        if (i + 2 < n) v |= in[i + 2];
        out[o++] = tab[v >> 18 & 63];
        out[o++] = tab[v >> 12 & 63];
        out[o++] = i + 1 < n ? tab[v >> 6 & 63] : '=';
        out[o++] = i + 2 < n ? tab[v & 63] : '=';
    }
    out[o] = 0;
}

void ws_key(const unsigned char nonce[16], char key[WS_KEY_LEN + 1])
{
    ws_base64(nonce, 16, key);
}

void ws_accept(const char *key, char out[WS_ACCEPT_LEN + 1])
{
    static const char guid[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
    br_sha1_context h;
    unsigned char d[br_sha1_SIZE];
    br_sha1_init(&h);
    br_sha1_update(&h, key, strlen(key));
    br_sha1_update(&h, guid, sizeof guid - 1);
    br_sha1_out(&h, d);
    ws_base64(d, sizeof d, out);
}

static int printable(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s <= 0x20 || (unsigned char)*s >= 0x7F) return 0;
    return 1;
}

long ws_request(char *out, size_t cap, const char *host, const char *path, const char *key)
{
    if (!*host || !printable(host) || path[0] != '/' || !printable(path) || !printable(key))
        return -1;
    int n = snprintf(out, cap,
                     "GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: deploy-api\r\n"
                     "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                     "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n",
                     path, host, key);
    return n < 0 || (size_t)n >= cap ? -1 : n;
}

static const char *const hs_text[] = {
    [WS_HS_OK] = "ok",
    [WS_HS_MALFORMED] = "malformed handshake response",
    [WS_HS_STATUS] = "no 101 Switching Protocols",
    [WS_HS_UPGRADE] = "no upgrade to websocket",
    [WS_HS_ACCEPT] = "wrong Sec-WebSocket-Accept",
    [WS_HS_EXTENSION] = "an extension or subprotocol was not asked for",
};

const char *ws_hs_str(enum ws_hs h)
{
    return h >= WS_HS_OK && h <= WS_HS_EXTENSION ? hs_text[h] : "?";
}

/* The status line "HTTP/1.1 NNN reason": its code, or -1. */
static int status_line(struct slice l)
{
    if (l.n < 12 || memcmp(l.p, "HTTP/1.1 ", 9) != 0) return -1;
    for (int i = 9; i < 12; i++)
        if (l.p[i] < '0' || l.p[i] > '9') return -1;
    if (l.n > 12 && l.p[12] != ' ') return -1;
    return (l.p[9] - '0') * 100 + (l.p[10] - '0') * 10 + (l.p[11] - '0');
}

struct hs_seen {
    int upgrade, connection, accept, extra;
};

/* One "Name: value" line. -1 when malformed. */
static int hs_header(struct slice l, const char *want_accept, struct hs_seen *h)
{
    const char *c = memchr(l.p, ':', l.n);
    if (!c || c == l.p) return -1;
    struct slice name = {l.p, (size_t)(c - l.p)}, v = {c + 1, l.n - name.n - 1};
    for (size_t i = 0; i < name.n; i++)
        if (name.p[i] <= ' ' || name.p[i] >= 0x7F) return -1;
    while (v.n && (v.p[0] == ' ' || v.p[0] == '\t')) v.p++, v.n--;
    while (v.n && (v.p[v.n - 1] == ' ' || v.p[v.n - 1] == '\t')) v.n--;
    if (slice_eq_nocase(name, "upgrade"))
        h->upgrade |= slice_eq_nocase(v, "websocket");
    else if (slice_eq_nocase(name, "connection"))
        h->connection |= slice_list_has(v, "upgrade");
    else if (slice_eq_nocase(name, "sec-websocket-accept"))
        h->accept = h->accept == 0 && slice_eq(v, want_accept) ? 1 : -1;
    else if (slice_eq_nocase(name, "sec-websocket-extensions") ||
             slice_eq_nocase(name, "sec-websocket-protocol"))
        h->extra = 1;
    return 0;
}

long ws_response_check(const char *buf, size_t n, const char *key, int *status, enum ws_hs *why)
{
    *status = 0;
    *why = WS_HS_MALFORMED;
    size_t lim = n < WS_MAX_HANDSHAKE ? n : WS_MAX_HANDSHAKE;
    const char *end = NULL;
    for (size_t i = 0; i + 4 <= lim; i++)
        if (memcmp(buf + i, "\r\n\r\n", 4) == 0) {
            end = buf + i;
            break;
        }
    if (!end) return n < WS_MAX_HANDSHAKE ? 0 : -1;
    char want[WS_ACCEPT_LEN + 1];
    ws_accept(key, want);
    struct hs_seen h = {0, 0, 0, 0};
    const char *p = buf;
    for (int first = 1; p < end + 2; first = 0) {
        const char *nl = memchr(p, '\n', (size_t)(end + 2 - p));
        if (!nl || nl == p || nl[-1] != '\r') return -1;
        struct slice l = {p, (size_t)(nl - 1 - p)};
        if (memchr(l.p, '\r', l.n) || memchr(l.p, 0, l.n)) return -1;
        if (first) {
            *status = status_line(l);
            if (*status < 0) return *status = 0, -1;
        } else if (hs_header(l, want, &h) < 0) {
            return -1;
        }
        p = nl + 1;
    }
    if (*status != 101) return *why = WS_HS_STATUS, -1;
    if (!h.upgrade || !h.connection) return *why = WS_HS_UPGRADE, -1;
    if (h.accept != 1) return *why = WS_HS_ACCEPT, -1;
    if (h.extra) return *why = WS_HS_EXTENSION, -1;
    *why = WS_HS_OK;
    return (long)(end + 4 - buf);
}
