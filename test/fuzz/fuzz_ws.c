/* The WebSocket reader on arbitrary bytes: frames are read one after another
 * through ws_read (reassembly with a small bound), and the same bytes go to
 * the handshake check. No crash, no over-read; every result stays inside its
 * buffer and its bound; a consumed frame re-parses to the same length. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ws.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_MSG_CAP 300 /* small, so the reassembly bound is reached */

static unsigned char msgbuf[FUZZ_MSG_CAP];

static void inside(const unsigned char *p, size_t n, const unsigned char *lo, size_t lon)
{
    if (n && (p < lo || p + n > lo + lon)) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* Exact-size heap copy: ASan catches any read past the end. */
    unsigned char *buf = malloc(size ? size : 1);
    if (!buf) return 0;
    if (size) memcpy(buf, data, size);
    struct ws_msg m;
    ws_msg_init(&m, msgbuf, sizeof msgbuf);
    size_t off = 0;
    while (off < size) {
        struct ws_read_result r;
        enum ws_error e = WS_E_NONE;
        long used = ws_read(&m, buf + off, size - off, &r, &e);
        if (used < 0) {
            if (e == WS_E_NONE || e >= WS_E_N) abort();
            int c = ws_error_close_code(e);
            if (c != 1002 && c != 1009) abort();
            break;
        }
        if (used == 0) break;
        if ((size_t)used > size - off) abort();
        struct ws_frame f;
        enum ws_error e2;
        if (ws_frame_parse(buf + off, size - off, 1u << 20, &f, &e2) != used) abort();
        if (r.ev == WS_EV_MESSAGE) {
            if (r.len > FUZZ_MSG_CAP) abort();
            if (r.data != msgbuf) inside(r.data, r.len, buf + off, (size_t)used);
            if (r.opcode != WS_OP_TEXT && r.opcode != WS_OP_BINARY) abort();
        } else if (r.ev == WS_EV_PING || r.ev == WS_EV_PONG || r.ev == WS_EV_CLOSE) {
            if (r.len > 125) abort();
            inside(r.data, r.len, buf + off, (size_t)used);
            if (r.ev == WS_EV_CLOSE && (r.close_code < 1000 || r.close_code > 4999)) abort();
        }
        off += (size_t)used;
    }
    int status;
    enum ws_hs why;
    long h = ws_response_check((const char *)buf, size, "dGhlIHNhbXBsZSBub25jZQ==", &status, &why);
    if (h > 0 && ((size_t)h > size || h > WS_MAX_HANDSHAKE || why != WS_HS_OK || status != 101))
        abort();
    if (h < 0 && why == WS_HS_OK) abort();
    free(buf);
    return 0;
}
