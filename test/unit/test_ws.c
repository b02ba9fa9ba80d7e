#include "t.h"

#include "../../src/ws.c"

static unsigned char mbuf[WS_MAX_MESSAGE];

/* Parse buf[0..n) from a copy that ends right before an unmapped page. */
static long parse_guarded(const unsigned char *buf, size_t n, size_t max, struct ws_frame *f,
                          enum ws_error *e)
{
    unsigned char *g = t_guard(buf, n);
    long r = ws_frame_parse(g, n, max, f, e);
    if (r > 0) f->payload = buf + (f->payload - g); /* the copy goes away */
    t_unguard(g, n);
    return r;
}

/* Every strict prefix of a valid frame asks for more; the whole parses. */
static int prefixes_partial(const unsigned char *buf, size_t n, size_t max)
{
    struct ws_frame f;
    enum ws_error e;
    for (size_t i = 0; i < n; i++)
        if (parse_guarded(buf, i, max, &f, &e) != 0) return 0;
    return parse_guarded(buf, n, max, &f, &e) == (long)n;
}

/* A server frame (unmasked) with the given first byte and payload length. */
static size_t server_frame(unsigned char *out, unsigned b0, size_t len, int form)
{
    size_t hl;
    out[0] = (unsigned char)b0;
    if (form == 7) {
        out[1] = (unsigned char)len;
        hl = 2;
    } else if (form == 16) {
        out[1] = 126;
        out[2] = (unsigned char)(len >> 8);
        out[3] = (unsigned char)len;
        hl = 4;
    } else {
        out[1] = 127;
        for (int i = 0; i < 8; i++)
            out[2 + i] = (unsigned char)((unsigned long long)len >> (56 - 8 * i));
        hl = 10;
    }
    memset(out + hl, 'x', len);
    return hl + len;
}

TEST(rfc_examples)
{
    struct ws_frame f;
    enum ws_error e;
    static const unsigned char hello[] = {0x81, 0x05, 'H', 'e', 'l', 'l', 'o'};
    CHECK_EQ(parse_guarded(hello, sizeof hello, 1000, &f, &e), 7);
    CHECK_EQ(f.fin, 1);
    CHECK_EQ(f.opcode, WS_OP_TEXT);
    CHECK_EQ(f.len, 5);
    CHECK(memcmp(f.payload, "Hello", 5) == 0);
    CHECK(prefixes_partial(hello, sizeof hello, 1000));
    /* The RFC's masked "Hello" is a client frame: a server must not send it. */
    static const unsigned char masked[] = {0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d,
                                           0x7f, 0x9f, 0x4d, 0x51, 0x58};
    CHECK_EQ(parse_guarded(masked, sizeof masked, 1000, &f, &e), -1);
    CHECK_EQ(e, WS_E_MASKED);
    static const unsigned char ping[] = {0x89, 0x05, 'H', 'e', 'l', 'l', 'o'};
    CHECK_EQ(parse_guarded(ping, sizeof ping, 1000, &f, &e), 7);
    CHECK_EQ(f.opcode, WS_OP_PING);
    static const unsigned char b256[4] = {0x82, 0x7E, 0x01, 0x00};
    CHECK_EQ(parse_guarded(b256, 4, 1000, &f, &e), 0); /* header only: partial */
}

TEST(writer_matches_rfc)
{
    static const unsigned char mask[4] = {0x37, 0xfa, 0x21, 0x3d};
    static const unsigned char want[] = {0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d,
                                         0x7f, 0x9f, 0x4d, 0x51, 0x58};
    unsigned char out[64];
    CHECK_EQ(ws_frame_write(out, sizeof out, WS_OP_TEXT, "Hello", 5, mask), 11);
    CHECK(memcmp(out, want, 11) == 0);
    CHECK_EQ(ws_frame_write(out, 10, WS_OP_TEXT, "Hello", 5, mask), -1); /* one short */
    CHECK_EQ(ws_frame_write(out, 11, WS_OP_TEXT, "Hello", 5, mask), 11);
}

/* The writer's three length forms, each at its edges, unmask to the input. */
TEST(writer_length_forms)
{
    static unsigned char out[70000], in[66000];
    static const unsigned char mask[4] = {1, 2, 3, 4};
    static const size_t lens[] = {0, 125, 126, 65535, 65536};
    static const size_t hls[] = {2, 2, 4, 4, 10};
    for (size_t i = 0; i < 66000; i++) in[i] = (unsigned char)(i * 7);
    for (int k = 0; k < 5; k++) {
        long n = ws_frame_write(out, sizeof out, WS_OP_BINARY, in, lens[k], mask);
        CHECK_EQ(n, (long)(hls[k] + 4 + lens[k]));
        CHECK_EQ(out[1] & 0x80, 0x80);
        int ok = 1;
        for (size_t j = 0; j < lens[k]; j++)
            if ((out[hls[k] + 4 + j] ^ mask[j & 3]) != in[j]) ok = 0;
        CHECK(ok);
    }
    unsigned char c[200];
    CHECK_EQ(ws_frame_write(c, sizeof c, WS_OP_PING, in, 125, mask), 131);
    CHECK_EQ(ws_frame_write(c, sizeof c, WS_OP_PING, in, 126, mask), -1);
}

TEST(length_forms_and_minimal_encoding)
{
    static unsigned char buf[WS_MAX_MESSAGE + 16];
    struct ws_frame f;
    enum ws_error e;
    size_t n = server_frame(buf, 0x82, 125, 7);
    CHECK_EQ(parse_guarded(buf, n, WS_MAX_MESSAGE, &f, &e), (long)n);
    n = server_frame(buf, 0x82, 126, 16);
    CHECK_EQ(parse_guarded(buf, n, WS_MAX_MESSAGE, &f, &e), (long)n);
    CHECK_EQ(f.len, 126);
    n = server_frame(buf, 0x82, 65535, 16);
    CHECK_EQ(parse_guarded(buf, n, WS_MAX_MESSAGE, &f, &e), (long)n);
    n = server_frame(buf, 0x82, 65536, 64);
    CHECK_EQ(parse_guarded(buf, n, WS_MAX_MESSAGE, &f, &e), (long)n);
    CHECK_EQ(f.len, 65536);
    /* Non-minimal: 125 in the 16-bit form, 65535 in the 64-bit form. */
    n = server_frame(buf, 0x82, 125, 16);
    CHECK_EQ(parse_guarded(buf, n, WS_MAX_MESSAGE, &f, &e), -1);
    CHECK_EQ(e, WS_E_LENGTH);
    n = server_frame(buf, 0x82, 65535, 64);
    CHECK_EQ(parse_guarded(buf, n, WS_MAX_MESSAGE, &f, &e), -1);
    CHECK_EQ(e, WS_E_LENGTH);
    /* The 64-bit length's most significant bit must be 0. */
    static const unsigned char msb[10] = {0x82, 127, 0x80, 0, 0, 0, 0, 0, 0, 1};
    CHECK_EQ(parse_guarded(msb, 10, WS_MAX_MESSAGE, &f, &e), -1);
    CHECK_EQ(e, WS_E_LENGTH);
}

TEST(max_payload_limit)
{
    static unsigned char buf[WS_MAX_MESSAGE + 16];
    struct ws_frame f;
    enum ws_error e;
    size_t n = server_frame(buf, 0x81, WS_MAX_MESSAGE, 64);
    CHECK_EQ(parse_guarded(buf, n, WS_MAX_MESSAGE, &f, &e), (long)n);
    n = server_frame(buf, 0x81, WS_MAX_MESSAGE + 1, 64);
    /* Refused from the header alone: no need to buffer the payload. */
    CHECK_EQ(parse_guarded(buf, 10, WS_MAX_MESSAGE, &f, &e), -1);
    CHECK_EQ(e, WS_E_TOO_BIG);
    CHECK_EQ(ws_error_close_code(e), 1009);
    n = server_frame(buf, 0x81, 100, 7);
    CHECK_EQ(parse_guarded(buf, n, 100, &f, &e), (long)n);
    CHECK_EQ(parse_guarded(buf, n, 99, &f, &e), -1);
}

TEST(every_prefix_every_form)
{
    static unsigned char buf[70000];
    static const size_t lens[] = {0, 1, 125, 126, 300, 65535};
    for (int k = 0; k < 6; k++) {
        size_t n = server_frame(buf, 0x81, lens[k], lens[k] < 126 ? 7 : 16);
        CHECK(prefixes_partial(buf, n, WS_MAX_MESSAGE));
    }
    size_t n = server_frame(buf, 0x82, 65536, 64);
    struct ws_frame f;
    enum ws_error e;
    for (size_t i = 0; i < n; i += 997) CHECK_EQ(parse_guarded(buf, i, WS_MAX_MESSAGE, &f, &e), 0);
    CHECK_EQ(parse_guarded(buf, n - 1, WS_MAX_MESSAGE, &f, &e), 0);
    CHECK_EQ(parse_guarded(buf, n, WS_MAX_MESSAGE, &f, &e), (long)n);
}

TEST(header_errors)
{
    struct ws_frame f;
    enum ws_error e;
    unsigned char b[2] = {0, 0};
    for (unsigned op = 0; op < 16; op++) {
        b[0] = (unsigned char)(0x80 | op);
        long r = parse_guarded(b, 2, 100, &f, &e);
        int valid = op <= 2 || (op >= 8 && op <= 10);
        CHECK_EQ(r, valid ? 2 : -1);
        if (!valid) CHECK_EQ(e, WS_E_OPCODE);
    }
    for (unsigned rsv = 1; rsv < 8; rsv++) {
        b[0] = (unsigned char)(0x81 | rsv << 4);
        CHECK_EQ(parse_guarded(b, 2, 100, &f, &e), -1);
        CHECK_EQ(e, WS_E_RSV);
        CHECK_EQ(ws_error_close_code(e), 1002);
    }
    b[0] = 0x09; /* ping without FIN */
    CHECK_EQ(parse_guarded(b, 2, 100, &f, &e), -1);
    CHECK_EQ(e, WS_E_CONTROL_FRAG);
    unsigned char c[130];
    size_t n = server_frame(c, 0x89, 125, 7);
    CHECK_EQ(parse_guarded(c, n, 1000, &f, &e), (long)n);
    n = server_frame(c, 0x89, 126, 16);
    CHECK_EQ(parse_guarded(c, 2, 1000, &f, &e), -1); /* known from two bytes */
    CHECK_EQ(e, WS_E_CONTROL_LEN);
    CHECK_EQ(parse_guarded(c, 0, 1000, &f, &e), 0);
    CHECK_EQ(parse_guarded(c, 1, 1000, &f, &e), 0);
}

TEST(fragmented_reassembly)
{
    struct ws_msg m;
    struct ws_read_result r;
    enum ws_error e;
    ws_msg_init(&m, mbuf, 10);
    static const unsigned char in[] = {0x01, 0x03, 'H', 'e', 'l', /* text, not FIN */
                                       0x89, 0x01, 'p',           /* ping between */
                                       0x00, 0x00,                /* empty continuation */
                                       0x80, 0x02, 'l', 'o'};     /* FIN continuation */
    size_t off = 0;
    CHECK_EQ(ws_read(&m, in + off, sizeof in - off, &r, &e), 5);
    CHECK_EQ(r.ev, WS_EV_NONE);
    off += 5;
    CHECK_EQ(ws_read(&m, in + off, sizeof in - off, &r, &e), 3);
    CHECK_EQ(r.ev, WS_EV_PING);
    CHECK_EQ(r.len, 1);
    off += 3;
    CHECK_EQ(ws_read(&m, in + off, sizeof in - off, &r, &e), 2);
    CHECK_EQ(r.ev, WS_EV_NONE);
    off += 2;
    CHECK_EQ(ws_read(&m, in + off, sizeof in - off, &r, &e), 4);
    CHECK_EQ(r.ev, WS_EV_MESSAGE);
    CHECK_EQ(r.opcode, WS_OP_TEXT);
    CHECK_EQ(r.len, 5);
    CHECK(memcmp(r.data, "Hello", 5) == 0);
    CHECK_EQ(m.active, 0);
}

/* Reassembled messages are bounded by the buffer: at cap and one past. */
TEST(reassembly_limit)
{
    struct ws_msg m;
    struct ws_read_result r;
    enum ws_error e;
    unsigned char a[] = {0x02, 0x05, 1, 2, 3, 4, 5};
    unsigned char b[] = {0x80, 0x05, 6, 7, 8, 9, 10};
    unsigned char c[] = {0x80, 0x06, 6, 7, 8, 9, 10, 11};
    ws_msg_init(&m, mbuf, 10);
    CHECK_EQ(ws_read(&m, a, sizeof a, &r, &e), 7);
    CHECK_EQ(ws_read(&m, b, sizeof b, &r, &e), 7);
    CHECK_EQ(r.ev, WS_EV_MESSAGE);
    CHECK_EQ(r.len, 10);
    CHECK_EQ(r.opcode, WS_OP_BINARY);
    ws_msg_init(&m, mbuf, 10);
    CHECK_EQ(ws_read(&m, a, sizeof a, &r, &e), 7);
    CHECK_EQ(ws_read(&m, c, sizeof c, &r, &e), -1);
    CHECK_EQ(e, WS_E_TOO_BIG);
    /* An unfragmented message over the bound is refused by its header. */
    unsigned char big[] = {0x81, 11};
    ws_msg_init(&m, mbuf, 10);
    CHECK_EQ(ws_read(&m, big, sizeof big, &r, &e), -1);
    CHECK_EQ(e, WS_E_TOO_BIG);
}

TEST(fragment_order_errors)
{
    struct ws_msg m;
    struct ws_read_result r;
    enum ws_error e;
    unsigned char cont[] = {0x80, 0x01, 'x'};
    unsigned char start[] = {0x01, 0x01, 'x'};
    unsigned char text[] = {0x81, 0x01, 'x'};
    ws_msg_init(&m, mbuf, 100);
    CHECK_EQ(ws_read(&m, cont, sizeof cont, &r, &e), -1);
    CHECK_EQ(e, WS_E_CONTINUATION);
    ws_msg_init(&m, mbuf, 100);
    CHECK_EQ(ws_read(&m, start, sizeof start, &r, &e), 3);
    CHECK_EQ(ws_read(&m, text, sizeof text, &r, &e), -1);
    CHECK_EQ(e, WS_E_INTERLEAVED);
    ws_msg_init(&m, mbuf, 100);
    CHECK_EQ(ws_read(&m, start, sizeof start, &r, &e), 3);
    CHECK_EQ(ws_read(&m, start, sizeof start, &r, &e), -1);
    CHECK_EQ(e, WS_E_INTERLEAVED);
}

static int close_code_of(const unsigned char *pl, size_t n, enum ws_error *e)
{
    unsigned char f[140];
    struct ws_msg m;
    struct ws_read_result r;
    f[0] = 0x88;
    f[1] = (unsigned char)n;
    memcpy(f + 2, pl, n);
    ws_msg_init(&m, mbuf, 100);
    long used = ws_read(&m, f, n + 2, &r, e);
    if (used < 0) return -1;
    if (used != (long)n + 2 || r.ev != WS_EV_CLOSE) return -2;
    return r.close_code;
}

TEST(close_frames)
{
    enum ws_error e;
    unsigned char p[125];
    CHECK_EQ(close_code_of(p, 0, &e), 1005);
    CHECK_EQ(close_code_of((const unsigned char *)"\x03", 1, &e), -1);
    CHECK_EQ(e, WS_E_CLOSE_PAYLOAD);
    static const int ok[] = {1000, 1001, 1002, 1003, 1007, 1011, 1014, 3000, 4999};
    static const int bad[] = {0, 999, 1004, 1005, 1006, 1015, 2999, 5000, 65535};
    for (int i = 0; i < 9; i++) {
        p[0] = (unsigned char)(ok[i] >> 8);
        p[1] = (unsigned char)ok[i];
        CHECK_EQ(close_code_of(p, 2, &e), ok[i]);
        p[0] = (unsigned char)(bad[i] >> 8);
        p[1] = (unsigned char)bad[i];
        CHECK_EQ(close_code_of(p, 2, &e), -1);
    }
    /* A reason at the 125-byte bound. */
    p[0] = 0x03;
    p[1] = 0xE8;
    memset(p + 2, 'r', 123);
    struct ws_msg m;
    struct ws_read_result r;
    unsigned char f[127] = {0x88, 125};
    memcpy(f + 2, p, 125);
    ws_msg_init(&m, mbuf, 100);
    CHECK_EQ(ws_read(&m, f, sizeof f, &r, &e), 127);
    CHECK_EQ(r.close_code, 1000);
    CHECK_EQ(r.len, 123);
    /* The writer's close frame, unmasked, reads back. */
    static const unsigned char mask[4] = {9, 8, 7, 6};
    unsigned char w[200];
    char reason[200];
    memset(reason, 'z', sizeof reason - 1);
    reason[sizeof reason - 1] = 0;
    long n = ws_close_write(w, sizeof w, 1001, reason, mask);
    CHECK_EQ(n, 2 + 4 + 125);
    CHECK_EQ(w[2 + 4] ^ mask[0], 0x03);
    CHECK_EQ(w[2 + 5] ^ mask[1], 0xE9);
}

TEST(handshake_accept_vector)
{
    char out[WS_ACCEPT_LEN + 1], key[WS_KEY_LEN + 1];
    ws_accept("dGhlIHNhbXBsZSBub25jZQ==", out);
    CHECK_STR(out, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
    ws_key((const unsigned char *)"the sample nonce", key);
    CHECK_STR(key, "dGhlIHNhbXBsZSBub25jZQ==");
    char b[8];
    ws_base64((const unsigned char *)"f", 1, b);
    CHECK_STR(b, "Zg==");
    ws_base64((const unsigned char *)"fo", 2, b);
    CHECK_STR(b, "Zm8=");
    ws_base64((const unsigned char *)"foo", 3, b);
    CHECK_STR(b, "Zm9v");
}

TEST(handshake_request)
{
    char out[512];
    long n = ws_request(out, sizeof out, "wss.example:8443", "/link/?ticket=abc&app_id=A1",
                        "dGhlIHNhbXBsZSBub25jZQ==");
    CHECK(n > 0);
    CHECK(strstr(out, "GET /link/?ticket=abc&app_id=A1 HTTP/1.1\r\n") == out);
    CHECK(strstr(out, "\r\nHost: wss.example:8443\r\n"));
    CHECK(strstr(out, "\r\nUpgrade: websocket\r\n"));
    CHECK(strstr(out, "\r\nConnection: Upgrade\r\n"));
    CHECK(strstr(out, "\r\nSec-WebSocket-Version: 13\r\n"));
    CHECK(strstr(out, "\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"));
    CHECK_EQ(memcmp(out + n - 4, "\r\n\r\n", 4), 0);
    char exact[512];
    CHECK_EQ(ws_request(exact, (size_t)n + 1, "wss.example:8443", "/link/?ticket=abc&app_id=A1",
                        "dGhlIHNhbXBsZSBub25jZQ=="),
             n);
    CHECK_EQ(ws_request(exact, (size_t)n, "wss.example:8443", "/link/?ticket=abc&app_id=A1",
                        "dGhlIHNhbXBsZSBub25jZQ=="),
             -1);
    CHECK_EQ(ws_request(out, sizeof out, "h", "/a b", "k"), -1);
    CHECK_EQ(ws_request(out, sizeof out, "h", "/a\r\nX: y", "k"), -1);
    CHECK_EQ(ws_request(out, sizeof out, "h\r\n", "/", "k"), -1);
    CHECK_EQ(ws_request(out, sizeof out, "h", "x", "k"), -1);
    CHECK_EQ(ws_request(out, 20, "h", "/", "k"), -1);
}

static const char *KEY = "dGhlIHNhbXBsZSBub25jZQ==";

static long check_resp(const char *s, int *status, enum ws_hs *why)
{
    size_t n = strlen(s);
    char *g = t_guard(s, n);
    long r = ws_response_check(g, n, KEY, status, why);
    t_unguard(g, n);
    return r;
}

TEST(handshake_response)
{
    int st;
    enum ws_hs why;
    const char *ok = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: WebSocket\r\n"
                     "Connection: keep-alive, Upgrade\r\n"
                     "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n";
    CHECK_EQ(check_resp(ok, &st, &why), (long)strlen(ok));
    CHECK_EQ(st, 101);
    CHECK_EQ(why, WS_HS_OK);
    /* Every prefix: more needed. */
    for (size_t i = 0; i < strlen(ok); i++) {
        char *g = t_guard(ok, i);
        CHECK_EQ(ws_response_check(g, i, KEY, &st, &why), 0);
        t_unguard(g, i);
    }
    /* Frames after the head are not part of it. */
    char both[400];
    snprintf(both, sizeof both, "%s\x81\x02hi", ok);
    CHECK_EQ(check_resp(both, &st, &why), (long)strlen(ok));
}

TEST(handshake_refusals)
{
    int st;
    enum ws_hs why;
    CHECK_EQ(check_resp("HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\n\r\n", &st, &why), -1);
    CHECK_EQ(why, WS_HS_STATUS);
    CHECK_EQ(st, 401);
    CHECK_EQ(check_resp("HTTP/1.1 101 X\r\nConnection: Upgrade\r\n"
                        "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n",
                        &st, &why),
             -1);
    CHECK_EQ(why, WS_HS_UPGRADE);
    CHECK_EQ(check_resp("HTTP/1.1 101 X\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                        "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo\r\n\r\n",
                        &st, &why),
             -1);
    CHECK_EQ(why, WS_HS_ACCEPT);
    CHECK_EQ(check_resp("HTTP/1.1 101 X\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n", &st,
                        &why),
             -1);
    CHECK_EQ(why, WS_HS_ACCEPT);
    CHECK_EQ(check_resp("HTTP/1.1 101 X\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                        "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"
                        "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n",
                        &st, &why),
             -1);
    CHECK_EQ(why, WS_HS_ACCEPT);
    CHECK_EQ(check_resp("HTTP/1.1 101 X\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                        "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"
                        "Sec-WebSocket-Extensions: permessage-deflate\r\n\r\n",
                        &st, &why),
             -1);
    CHECK_EQ(why, WS_HS_EXTENSION);
    static const char *malformed[] = {
        "HTTP/1.0 101 X\r\n\r\n",        "HTTP/1.1 10 X\r\n\r\n",
        "HTTP/1.1 101X\r\n\r\n",         "HTTP/1.1 101 X\r\nNoColon\r\n\r\n",
        "HTTP/1.1 101 X\r\n: v\r\n\r\n", "HTTP/1.1 101 X\r\nA\rB: v\r\n\r\n",
        "HTTP/1.1 101 X\nU: v\r\n\r\n",  "garbage\r\n\r\n",
    };
    for (size_t i = 0; i < sizeof malformed / sizeof *malformed; i++) {
        CHECK_EQ(check_resp(malformed[i], &st, &why), -1);
        CHECK_EQ(why, WS_HS_MALFORMED);
    }
}

TEST(handshake_size_limit)
{
    static char big[WS_MAX_HANDSHAKE + 64];
    int st;
    enum ws_hs why;
    const char *head = "HTTP/1.1 101 X\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                       "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\nX-Pad: ";
    /* Exactly WS_MAX_HANDSHAKE bytes with the blank line: accepted. */
    size_t hl = strlen(head);
    memcpy(big, head, hl);
    memset(big + hl, 'a', WS_MAX_HANDSHAKE - hl - 4);
    memcpy(big + WS_MAX_HANDSHAKE - 4, "\r\n\r\n", 4);
    CHECK_EQ(ws_response_check(big, WS_MAX_HANDSHAKE, KEY, &st, &why), WS_MAX_HANDSHAKE);
    /* One byte more: refused, even when the end arrives. */
    memset(big + hl, 'a', WS_MAX_HANDSHAKE - hl - 3);
    memcpy(big + WS_MAX_HANDSHAKE - 3, "\r\n\r\n", 4);
    CHECK_EQ(ws_response_check(big, WS_MAX_HANDSHAKE + 1, KEY, &st, &why), -1);
    CHECK_EQ(ws_response_check(big, WS_MAX_HANDSHAKE - 1, KEY, &st, &why), 0);
}

int main(void)
{
    RUN(rfc_examples);
    RUN(writer_matches_rfc);
    RUN(writer_length_forms);
    RUN(length_forms_and_minimal_encoding);
    RUN(max_payload_limit);
    RUN(every_prefix_every_form);
    RUN(header_errors);
    RUN(fragmented_reassembly);
    RUN(reassembly_limit);
    RUN(fragment_order_errors);
    RUN(close_frames);
    RUN(handshake_accept_vector);
    RUN(handshake_request);
    RUN(handshake_response);
    RUN(handshake_refusals);
    RUN(handshake_size_limit);
    return t_done();
}
