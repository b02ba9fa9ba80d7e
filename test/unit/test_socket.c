#include "t.h"

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

int main(void)
{
    RUN(parse_slash_command);
    RUN(parse_other_types);
    RUN(parse_refusals);
    RUN(field_limits);
    RUN(ack_json);
    RUN(backoff_bounds);
    RUN(seen_ids_ring);
    RUN(sockmsg_records);
    return t_done();
}
