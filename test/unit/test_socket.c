#include "t.h"

#include <limits.h>
#include <sys/socket.h>

#include "../../src/socket.c"
#include "../../src/socksup.c"

static struct socket_msg M;
static struct sockmsg_envelope E;

static int parse(const char *s)
{
    size_t n = strlen(s);
    char *g = t_guard(s, n);
    int r = socket_parse(g, n, &M, &E);
    t_unguard(g, n);
    return r;
}

TEST(parse_slash_command)
{
    CHECK_EQ(parse("{\"envelope_id\":\"57d6a792-4d35-4d0b-b6aa-3361493e1caf\","
                   "\"type\":\"slash_commands\",\"accepts_response_payload\":true,"
                   "\"retry_attempt\":2,\"retry_reason\":\"timeout\",\"payload\":{"
                   "\"token\":\"x\",\"team_id\":\"T0TEAM\",\"user_id\":\"U0USER\","
                   "\"user_name\":\"alice\",\"channel_id\":\"C0CHAN\",\"channel_name\":"
                   "\"deploys\",\"command\":\"/deploy\",\"text\":\"myservice 1.4\","
                   "\"response_url\":\"https://hooks.slack.com/commands/T/1/x\"}}"),
             0);
    CHECK_EQ(M.type, SOCK_ENV_SLASH_COMMANDS);
    CHECK_STR(M.envelope_id, "57d6a792-4d35-4d0b-b6aa-3361493e1caf");
    CHECK_STR(E.envelope_id, M.envelope_id);
    CHECK_EQ(E.retry_attempt, 2);
    CHECK_EQ(E.too_long, 0);
    CHECK_STR(E.team_id, "T0TEAM");
    CHECK_STR(E.user_id, "U0USER");
    CHECK_STR(E.user_name, "alice");
    CHECK_STR(E.channel_id, "C0CHAN");
    CHECK_STR(E.channel_name, "deploys");
    CHECK_STR(E.command, "/deploy");
    CHECK_STR(E.text, "myservice 1.4");
    CHECK_STR(E.response_url, "https://hooks.slack.com/commands/T/1/x");
}

TEST(parse_other_types)
{
    CHECK_EQ(parse("{\"type\":\"hello\",\"num_connections\":1}"), 0);
    CHECK_EQ(M.type, SOCK_ENV_HELLO);
    CHECK_STR(M.envelope_id, "");
    CHECK_EQ(parse("{\"type\":\"disconnect\",\"reason\":\"refresh_requested\"}"), 0);
    CHECK_EQ(M.type, SOCK_ENV_DISCONNECT);
    CHECK_STR(M.reason, "refresh_requested");
    CHECK_EQ(parse("{\"type\":\"events_api\",\"envelope_id\":\"e1\",\"payload\":{}}"), 0);
    CHECK_EQ(M.type, SOCK_ENV_EVENTS_API);
    CHECK_STR(M.envelope_id, "e1");
    CHECK_EQ(parse("{\"type\":\"interactive\",\"envelope_id\":\"e2\"}"), 0);
    CHECK_EQ(M.type, SOCK_ENV_INTERACTIVE);
    CHECK_EQ(parse("{\"type\":\"something_new\"}"), 0);
    CHECK_EQ(M.type, SOCK_ENV_OTHER);
}

TEST(parse_refusals)
{
    static const char *bad[] = {
        "",
        "[]",
        "{}",
        "{\"type\":1}",
        "{\"type\":\"slash_commands\",\"envelope_id\":5}",
        "{\"type\":\"hello\"",
        "{\"type\":\"hello\"} x",
        "not json",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) CHECK_EQ(parse(bad[i]), -1);
}

/* Every field at its bound fits; one byte more marks the envelope too_long. */
TEST(field_limits)
{
    static char doc[4096], id[SOCKET_ENVELOPE_ID_MAX + 2], text[CMD_MAX_TEXT + 2];
    memset(id, 'e', SOCKET_ENVELOPE_ID_MAX);
    id[SOCKET_ENVELOPE_ID_MAX] = 0;
    memset(text, 't', CMD_MAX_TEXT);
    text[CMD_MAX_TEXT] = 0;
    snprintf(doc, sizeof doc,
             "{\"type\":\"slash_commands\",\"envelope_id\":\"%s\",\"payload\":{\"text\":\"%s\"}}",
             id, text);
    CHECK_EQ(parse(doc), 0);
    CHECK_EQ(E.too_long, 0);
    CHECK_EQ(strlen(E.text), CMD_MAX_TEXT);
    CHECK_EQ(strlen(E.envelope_id), SOCKET_ENVELOPE_ID_MAX);
    text[CMD_MAX_TEXT] = 't';
    text[CMD_MAX_TEXT + 1] = 0;
    snprintf(doc, sizeof doc,
             "{\"type\":\"slash_commands\",\"envelope_id\":\"%s\",\"payload\":{\"text\":\"%s\"}}",
             id, text);
    CHECK_EQ(parse(doc), 0);
    CHECK_EQ(E.too_long, 1);
    CHECK_STR(E.text, "");
    id[SOCKET_ENVELOPE_ID_MAX] = 'e';
    id[SOCKET_ENVELOPE_ID_MAX + 1] = 0;
    snprintf(doc, sizeof doc, "{\"type\":\"slash_commands\",\"envelope_id\":\"%s\"}", id);
    CHECK_EQ(parse(doc), -1);
    /* No payload object: nothing to run. */
    CHECK_EQ(parse("{\"type\":\"slash_commands\",\"envelope_id\":\"e\",\"payload\":[]}"), 0);
    CHECK_EQ(E.too_long, 1);
    /* A non-string field counts as malformed too. */
    CHECK_EQ(parse("{\"type\":\"slash_commands\",\"envelope_id\":\"e\",\"payload\":{\"user_id\":"
                   "7}}"),
             0);
    CHECK_EQ(E.too_long, 1);
}

TEST(ack_json)
{
    char out[256];
    const char *p = "{\"response_type\":\"ephemeral\",\"text\":\"hi\"}";
    long n = socket_ack_json(out, sizeof out, "e\"1", p, strlen(p));
    CHECK_STR(out, "{\"envelope_id\":\"e\\\"1\",\"payload\":{\"response_type\":\"ephemeral\","
                   "\"text\":\"hi\"}}");
    CHECK_EQ(n, (long)strlen(out));
    CHECK_EQ(socket_ack_json(out, sizeof out, "e1", NULL, 0), 20);
    CHECK_STR(out, "{\"envelope_id\":\"e1\"}");
    CHECK_EQ(socket_ack_json(out, 20, "e1", NULL, 0), -1);
    CHECK_EQ(socket_ack_json(out, 21, "e1", NULL, 0), 20);
}

TEST(backoff_bounds)
{
    CHECK_EQ(socket_backoff_ms(0, 0), 250);
    CHECK_EQ(socket_backoff_ms(0, 0xFFFF), 250 + 249);
    CHECK_EQ(socket_backoff_ms(1, 0), 500);
    CHECK_EQ(socket_backoff_ms(3, 0), 2000);
    for (int f = 0; f < 100; f += 7) {
        long long lo = socket_backoff_ms(f, 0), hi = socket_backoff_ms(f, 0xFFFFFFFFu);
        CHECK(lo >= 250 && hi < SOCKET_BACKOFF_MAX_MS && lo <= hi);
    }
    CHECK_EQ(socket_backoff_ms(1000, 0), SOCKET_BACKOFF_MAX_MS / 2);
}

TEST(seen_ids_ring)
{
    static struct socksup s;
    char id[32];
    CHECK_EQ(socksup_seen(&s, "a"), 0);
    CHECK_EQ(socksup_seen(&s, "a"), 1);
    /* Remembered until SOCKET_SEEN_IDS newer ids pushed it out. */
    for (int i = 0; i < SOCKET_SEEN_IDS - 1; i++) {
        snprintf(id, sizeof id, "x%d", i);
        CHECK_EQ(socksup_seen(&s, id), 0);
    }
    CHECK_EQ(socksup_seen(&s, "a"), 1);
    CHECK_EQ(socksup_seen(&s, "one more"), 0);
    CHECK_EQ(socksup_seen(&s, "a"), 0);
    free(s.seen);
}

TEST(sockmsg_records)
{
    int sv[2];
    CHECK_EQ(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv), 0);
    static struct sockmsg m, r;
    memset(&m, 'A', sizeof m); /* strings without their NUL: the reader ends them */
    m.kind = SOCKMSG_ENVELOPE;
    CHECK_EQ(sockmsg_send(sv[0], &m), 0);
    CHECK_EQ(sockmsg_recv(sv[1], &r), SOCKMSG_ENVELOPE);
    CHECK_EQ(strlen(r.u.env.envelope_id), SOCKET_ENVELOPE_ID_MAX);
    CHECK_EQ(strlen(r.u.env.text), CMD_MAX_TEXT);
    CHECK_EQ(strlen(r.u.env.response_url), RESPONSE_URL_MAX);
    CHECK_EQ(sockmsg_recv(sv[1], &r), 0); /* nothing queued */
    m.kind = SOCKMSG_ACK;
    m.u.ack.len = SOCKMSG_ACK_MAX;
    CHECK_EQ(sockmsg_send(sv[0], &m), 0);
    CHECK_EQ(sockmsg_recv(sv[1], &r), SOCKMSG_ACK);
    m.u.ack.len = SOCKMSG_ACK_MAX + 1;
    CHECK_EQ(sockmsg_send(sv[0], &m), 0);
    CHECK_EQ(sockmsg_recv(sv[1], &r), -2);
    /* Wrong sizes and kinds are dropped, not read. */
    int kind = SOCKMSG_STATE;
    CHECK_EQ(send(sv[0], &kind, sizeof kind, 0), (long)sizeof kind);
    CHECK_EQ(sockmsg_recv(sv[1], &r), -2);
    CHECK_EQ(send(sv[0], &kind, 2, 0), 2);
    CHECK_EQ(sockmsg_recv(sv[1], &r), -2);
    m.kind = 99;
    CHECK_EQ(sockmsg_send(sv[0], &m), -1);
    CHECK_EQ(send(sv[0], &m, sizeof m, 0), (long)sizeof m);
    CHECK_EQ(sockmsg_recv(sv[1], &r), -2);
    close(sv[0]);
    CHECK_EQ(sockmsg_recv(sv[1], &r), -1); /* the peer is gone */
    close(sv[1]);
}

/* ---- The child's connection logic over a socketpair (no TLS, no network):
 * the test plays Slack on `peer` and the parent on `parent`. ---- */

static int peer = -1, parent = -1;
static struct socket_cfg cfg1 = {.app_token = "xapp-test",
                                 .api_url = "https://slack.test/api",
                                 .connections = 1,
                                 .http = {.timeout_s = 2}};

static struct conn *fake_conn(void)
{
    int sv[2], ch[2];
    static char e[128];
    if (peer >= 0) close(peer);
    if (parent >= 0) close(parent);
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0 || socketpair(AF_UNIX, SOCK_SEQPACKET, 0, ch))
        abort();
    peer = sv[1];
    parent = ch[1];
    memset(&K, 0, sizeof K);
    K.cfg = &cfg1;
    K.chan = ch[0];
    K.next_try_ms = LLONG_MAX; /* never fork an opener here */
    struct conn *c = &K.c[0];
    struct url u;
    memset(&u, 0, sizeof u);
    strcpy(u.host, "slack.test");
    strcpy(u.port, "80");
    strcpy(u.path, "/");
    c->state = C_WAIT_HELLO;
    c->id = 7;
    c->s = httpc_attach(&cfg1.http, &u, sv[0], e, sizeof e);
    c->in = malloc(WS_MAX_MESSAGE + WS_MAX_HEADER);
    c->msg = malloc(WS_MAX_MESSAGE);
    if (!c->s || !c->in || !c->msg) abort();
    ws_msg_init(&c->asm_, c->msg, WS_MAX_MESSAGE);
    c->opened_ms = c->last_rx_ms = loop_clock_ms();
    return c;
}

/* Slack sends an unmasked frame. */
static void slack_sends(unsigned b0, const char *payload, size_t n)
{
    unsigned char f[300];
    f[0] = (unsigned char)b0;
    f[1] = (unsigned char)n;
    memcpy(f + 2, payload, n);
    if (n > 125 || send(peer, f, n + 2, 0) != (ssize_t)(n + 2)) abort();
}

static void slack_text(const char *json)
{
    size_t n = strlen(json), h = n < 126 ? 2 : 4; /* the minimal length form */
    unsigned char f[2048];
    f[0] = 0x81;
    f[1] = n < 126 ? (unsigned char)n : 126;
    f[2] = (unsigned char)(n >> 8);
    f[3] = (unsigned char)n;
    memcpy(f + h, json, n);
    if (send(peer, f, n + h, 0) != (ssize_t)(n + h)) abort();
}

/* The next frame the client sent: masked (or -1), its opcode, the unmasked
 * payload NUL-terminated in out. */
static int client_frame(char *out, size_t cap)
{
    unsigned char h[4], mask[4];
    if (recv(peer, h, 2, MSG_DONTWAIT) != 2 || !(h[1] & 0x80)) return -1;
    size_t n = h[1] & 0x7F;
    if (n == 126) {
        if (recv(peer, h + 2, 2, 0) != 2) return -1;
        n = (size_t)h[2] << 8 | h[3];
    }
    if (n >= cap || recv(peer, mask, 4, 0) != 4 || (n && recv(peer, out, n, 0) != (ssize_t)n))
        return -1;
    for (size_t i = 0; i < n; i++) out[i] = (char)(out[i] ^ mask[i & 3]);
    out[n] = 0;
    return h[0] & 0x0F;
}

/* The next record for the parent of the given kind (log lines skipped). */
static int parent_gets(int kind, struct sockmsg *m)
{
    int k;
    while ((k = sockmsg_recv(parent, m)) > 0)
        if (k == kind) return 1;
    return 0;
}

TEST(child_hello_ping_envelope_ack)
{
    static char out[8192];
    static struct sockmsg m;
    struct conn *c = fake_conn();
    long long now = loop_clock_ms();
    slack_text("{\"type\":\"hello\",\"num_connections\":1}");
    conn_read(c, now);
    CHECK_EQ(c->state, C_READY);
    CHECK_EQ(K.st.envelopes[SOCK_ENV_HELLO], 1);
    slack_sends(0x89, "abc", 3); /* ping → pong with the same data */
    conn_read(c, now);
    CHECK_EQ(client_frame(out, sizeof out), WS_OP_PONG);
    CHECK_STR(out, "abc");
    slack_text("{\"envelope_id\":\"e1\",\"type\":\"slash_commands\",\"payload\":{"
               "\"team_id\":\"T1\",\"user_id\":\"U1\",\"channel_id\":\"C1\",\"text\":"
               "\"status web\",\"response_url\":\"https://hooks.slack.com/x\"}}");
    conn_read(c, now);
    CHECK(parent_gets(SOCKMSG_ENVELOPE, &m));
    CHECK_STR(m.u.env.envelope_id, "e1");
    CHECK_EQ(m.u.env.conn, 7);
    CHECK_STR(m.u.env.text, "status web");
    CHECK_EQ(client_frame(out, sizeof out), -1); /* no ack before the parent's */
    /* The parent's ack goes out on the socket it came from. */
    struct sockmsg_ack a;
    memset(&a, 0, sizeof a);
    a.conn = 7;
    a.received_ms = loop_clock_ms();
    strcpy(a.envelope_id, "e1");
    strcpy(a.payload, "{\"text\":\"ok\"}");
    a.len = (unsigned)strlen(a.payload);
    on_ack(&a);
    CHECK_EQ(client_frame(out, sizeof out), WS_OP_TEXT);
    CHECK_STR(out, "{\"envelope_id\":\"e1\",\"payload\":{\"text\":\"ok\"}}");
    CHECK_EQ(K.st.acks_late, 0);
    /* Past Slack's 3 s: still sent, counted late; an unknown conn id falls
     * back to an open socket. */
    a.conn = 99;
    a.received_ms = loop_clock_ms() - SOCKET_ACK_BUDGET_MS - 1;
    on_ack(&a);
    CHECK_EQ(client_frame(out, sizeof out), WS_OP_TEXT);
    CHECK_EQ(K.st.acks_late, 1);
    /* Another type with an envelope id: acked at once, without a payload. */
    slack_text("{\"envelope_id\":\"ev9\",\"type\":\"events_api\",\"payload\":{}}");
    conn_read(c, now);
    CHECK_EQ(client_frame(out, sizeof out), WS_OP_TEXT);
    CHECK_STR(out, "{\"envelope_id\":\"ev9\"}");
    CHECK(!parent_gets(SOCKMSG_ENVELOPE, &m));
    conn_free(c, 0);
}

TEST(child_disconnect_close_and_errors)
{
    static char out[512];
    struct conn *c = fake_conn();
    long long now = loop_clock_ms();
    slack_text("{\"type\":\"disconnect\",\"reason\":\"refresh_requested\"}");
    conn_read(c, now);
    CHECK_EQ(c->draining, 1);
    CHECK_EQ(c->state, C_WAIT_HELLO); /* still served until its replacement is ready */
    /* A close frame from Slack is answered with the same code. */
    slack_sends(0x88,
                "\x03\xe9"
                "bye",
                5);
    conn_read(c, now);
    CHECK_EQ(client_frame(out, sizeof out), WS_OP_CLOSE);
    CHECK_EQ((unsigned char)out[0] << 8 | (unsigned char)out[1], 1001);
    CHECK_EQ(c->state, C_FREE);
    CHECK_EQ(K.st.reconnects, 1);
    /* A masked server frame: close 1002 and drop. */
    c = fake_conn();
    static const unsigned char masked[] = {0x81, 0x81, 1, 2, 3, 4, 'x' ^ 1};
    CHECK_EQ(send(peer, masked, sizeof masked, 0), (long)sizeof masked);
    conn_read(c, now);
    CHECK_EQ(client_frame(out, sizeof out), WS_OP_CLOSE);
    CHECK_EQ((unsigned char)out[0] << 8 | (unsigned char)out[1], 1002);
    CHECK_EQ(c->state, C_FREE);
    /* The peer going away without a close frame. */
    c = fake_conn();
    close(peer);
    peer = -1;
    conn_read(c, now);
    CHECK_EQ(c->state, C_FREE);
    CHECK_EQ(K.st.reconnects, 1);
}

TEST(child_silent_socket_pinged_then_replaced)
{
    static char out[512];
    struct conn *c = fake_conn();
    c->state = C_READY;
    long long now = loop_clock_ms();
    c->last_rx_ms = now - SOCKET_PING_MS + 1; /* not yet */
    maintain(now);
    CHECK_EQ(client_frame(out, sizeof out), -1);
    c->last_rx_ms = now - SOCKET_PING_MS;
    maintain(now);
    CHECK_EQ(client_frame(out, sizeof out), WS_OP_PING);
    CHECK_EQ(c->ping_out, 1);
    maintain(now); /* one ping per silence */
    CHECK_EQ(client_frame(out, sizeof out), -1);
    c->last_rx_ms = now - SOCKET_IDLE_MS;
    maintain(now);
    CHECK_EQ(client_frame(out, sizeof out), WS_OP_CLOSE);
    CHECK_EQ(c->state, C_FREE);
    CHECK_EQ(K.st.reconnects, 1);
    /* A draining socket is kept while no replacement is ready, and closed
     * once enough others are. */
    c = fake_conn();
    c->draining = 1;
    c->drain_until_ms = now + 100000;
    maintain(now);
    CHECK_EQ(c->state, C_WAIT_HELLO);
    CHECK_EQ(client_frame(out, sizeof out), -1);
    struct conn *c2 = &K.c[1];
    *c2 = *c; /* a second, ready view of a socket: counts as ready */
    c2->draining = 0;
    c2->state = C_READY;
    c2->id = 8;
    maintain(now);
    CHECK_EQ(c->state, C_FREE);
    CHECK_EQ(client_frame(out, sizeof out), WS_OP_CLOSE);
    memset(c2, 0, sizeof *c2); /* shared the freed stream: forget it */
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN); /* a closed peer is a test failure, not a crash */
    RUN(parse_slash_command);
    RUN(parse_other_types);
    RUN(parse_refusals);
    RUN(field_limits);
    RUN(ack_json);
    RUN(backoff_bounds);
    RUN(seen_ids_ring);
    RUN(sockmsg_records);
    RUN(child_hello_ping_envelope_ack);
    RUN(child_disconnect_close_and_errors);
    RUN(child_silent_socket_pinged_then_replaced);
    return t_done();
}
