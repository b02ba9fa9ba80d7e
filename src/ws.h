/* WebSocket (RFC 6455) client side as pure functions over caller buffers:
 * the frame reader (server frames), message reassembly, the masked frame
 * writer, and the opening handshake (request and 101 check). No I/O, no
 * allocation: src/socket.c drives them over a TLS stream. */
#ifndef WS_H
#define WS_H

#include <stddef.h>

#include "limits.h"

enum ws_opcode {
    WS_OP_CONT = 0x0,
    WS_OP_TEXT = 0x1,
    WS_OP_BINARY = 0x2,
    WS_OP_CLOSE = 0x8,
    WS_OP_PING = 0x9,
    WS_OP_PONG = 0xA,
};

/* Why input was refused; ws_error_close_code maps each to the close code
 * a client sends before dropping the connection. */
enum ws_error {
    WS_E_NONE,
    WS_E_RSV,           /* RSV1-3 set: no extension was negotiated */
    WS_E_OPCODE,        /* a reserved opcode (3-7, 0xB-0xF) */
    WS_E_MASKED,        /* a server frame with the MASK bit (RFC 6455 5.1) */
    WS_E_LENGTH,        /* a non-minimal length encoding or the 64-bit MSB set */
    WS_E_CONTROL_LEN,   /* a control frame payload over 125 bytes */
    WS_E_CONTROL_FRAG,  /* a control frame without FIN */
    WS_E_TOO_BIG,       /* a frame or a reassembled message over max */
    WS_E_CONTINUATION,  /* a continuation with no message started */
    WS_E_INTERLEAVED,   /* a new text/binary frame inside a fragmented message */
    WS_E_CLOSE_PAYLOAD, /* a close payload of 1 byte or a code not allowed on the wire */
    WS_E_N
};

/* A short text for logs ("masked server frame"). */
const char *ws_error_str(enum ws_error e);
/* 1002 (protocol error) or 1009 (message too big). */
int ws_error_close_code(enum ws_error e);

/* One frame as it sits in the caller's buffer. */
struct ws_frame {
    int fin;
    enum ws_opcode opcode;
    const unsigned char *payload; /* points into the parsed buffer */
    size_t len;
};

/* Parse the frame at buf[0..n). Returns the bytes it spans (header +
 * payload, > 0) with f filled; 0 when buf holds only part of it (a header
 * announcing more than max_payload is refused at once, so a partial frame
 * never needs more than max_payload + WS_MAX_HEADER bytes); -1 with *e set
 * when the frame is malformed. Checks RSV, opcode, mask (server frames are
 * never masked), minimal length encoding, control frames <= 125 bytes and
 * unfragmented. */
long ws_frame_parse(const unsigned char *buf, size_t n, size_t max_payload, struct ws_frame *f,
                    enum ws_error *e);

#define WS_MAX_HEADER 14 /* 2 + 8 (64-bit length) + 4 (mask) */

/* Reassembly of fragmented text/binary messages into a caller's buffer of
 * cap bytes (the message bound). Zero it (or ws_msg_init) to start. */
struct ws_msg {
    unsigned char *buf;
    size_t cap, len;
    enum ws_opcode opcode; /* of the message being assembled */
    int active;            /* 1 between a non-FIN first frame and the FIN continuation */
};

void ws_msg_init(struct ws_msg *m, unsigned char *buf, size_t cap);

/* What ws_read found. */
enum ws_event {
    WS_EV_NONE,    /* a fragment was absorbed: nothing to act on yet */
    WS_EV_MESSAGE, /* a whole text/binary message: data/len/opcode */
    WS_EV_PING,    /* answer with a pong carrying data/len */
    WS_EV_PONG,
    WS_EV_CLOSE, /* close_code (1005 when the frame had no code), data/len = reason */
};

struct ws_read_result {
    enum ws_event ev;
    enum ws_opcode opcode;
    const unsigned char *data; /* into buf (or into the ws_msg buffer for a
                                  reassembled message): valid until the next call */
    size_t len;
    int close_code;
};

/* Parse one frame at buf[0..n) and fold it into m. Returns bytes consumed
 * (> 0) with r filled, 0 when more bytes are needed, -1 with *e on a
 * protocol violation (the connection must be closed with
 * ws_error_close_code(*e)). Control frames may arrive between fragments.
 * A whole unfragmented message points into buf; a fragmented one is copied
 * into m (at most m->cap bytes in total). */
long ws_read(struct ws_msg *m, const unsigned char *buf, size_t n, struct ws_read_result *r,
             enum ws_error *e);

/* Write one final (FIN) client frame: opcode, payload len bytes, masked
 * with mask[4] (RFC 6455: every client frame is masked; take the mask from
 * a strong random source). Returns the frame length, or -1 when it does not
 * fit in cap or a control frame's payload is over 125 bytes. */
long ws_frame_write(unsigned char *out, size_t cap, enum ws_opcode op, const void *payload,
                    size_t len, const unsigned char mask[4]);

/* A close frame payload: code (big-endian) then reason (cut to fit 125). */
long ws_close_write(unsigned char *out, size_t cap, int code, const char *reason,
                    const unsigned char mask[4]);

/* ---- Opening handshake ---- */

#define WS_KEY_LEN 24    /* base64 of 16 random bytes */
#define WS_ACCEPT_LEN 28 /* base64 of a SHA-1 */

/* base64 of in[0..n) into out (4 * ceil(n / 3) + 1 bytes, NUL-terminated). */
void ws_base64(const unsigned char *in, size_t n, char *out);
/* The Sec-WebSocket-Key for 16 random bytes. */
void ws_key(const unsigned char nonce[16], char key[WS_KEY_LEN + 1]);
/* The Sec-WebSocket-Accept a server must answer for key:
 * base64(SHA-1(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11")). */
void ws_accept(const char *key, char out[WS_ACCEPT_LEN + 1]);

/* The GET request that opens a WebSocket at path on host (host[:port] as it
 * goes into the Host header). Returns its length, or -1 when it does not
 * fit in cap or path/host hold bytes that cannot go into a request line. */
long ws_request(char *out, size_t cap, const char *host, const char *path, const char *key);

enum ws_hs {
    WS_HS_OK,
    WS_HS_MALFORMED, /* not an HTTP/1.1 response head */
    WS_HS_STATUS,    /* a status other than 101 (*status says which) */
    WS_HS_UPGRADE,   /* Upgrade is not "websocket" or Connection lacks "upgrade" */
    WS_HS_ACCEPT,    /* Sec-WebSocket-Accept missing or wrong */
    WS_HS_EXTENSION, /* an extension or subprotocol we did not ask for */
};

/* Check a server's answer at buf[0..n) to a request sent with key. Returns
 * the head's length (> 0) when complete and valid (bytes after it are
 * already frames); 0 when more is needed (n < WS_MAX_HANDSHAKE); -1 with *why
 * (and *status, 0 when unreadable) when it is refused or past
 * WS_MAX_HANDSHAKE bytes. */
long ws_response_check(const char *buf, size_t n, const char *key, int *status, enum ws_hs *why);

/* A short text for logs ("no 101 Switching Protocols"). */
const char *ws_hs_str(enum ws_hs h);

#endif
