/* The Socket Mode client: runs in a supervised child (src/socksup.c forks
 * it), never in the parent. It keeps SOCKET_MODE_CONNECTIONS WebSockets to
 * Slack (apps.connections.open over HTTPS, then RFC 6455 over TLS, through
 * HTTPS_PROXY when configured), hands every slash_commands envelope to the
 * parent as a sockmsg record, and sends the ack the parent returns. */
#ifndef SOCKET_H
#define SOCKET_H

#include <stddef.h>

#include "httpc.h"
#include "sockmsg.h"

struct socket_cfg {
    const char *app_token;  /* xapp-…: never logged, never sent to the parent */
    const char *api_url;    /* SLACK_API_URL, e.g. https://slack.com/api */
    int connections;        /* 1..SOCKET_CONNS_MAX */
    struct httpc_opts http; /* trust anchors (SLACK_CA_FILE), proxy, timeout */
};

/* Run the client on the seqpacket channel chan until the parent closes it.
 * A connection is opened by a short-lived opener process (fork): it calls
 * apps.connections.open and connects (DNS, TCP, proxy CONNECT), then hands
 * back the URL and the socket (SCM_RIGHTS), so a stalled Slack API never
 * holds up the sockets that serve. The TLS and WebSocket handshakes run
 * here (blocking, at most IO_TIMEOUT s each, against a host that already
 * accepted the connection). Connections that fail are retried with
 * jittered exponential backoff; a `disconnect` message opens a replacement
 * before the old socket is closed; pings are answered; a socket silent for
 * SOCKET_IDLE_MS is replaced. Returns the exit status for the child. */
int socket_run(const struct socket_cfg *cfg, int chan);

/* ---- Pure pieces (tests) ---- */

/* The metrics type of an envelope "type" value. */
enum sock_env_type socket_env_type(const char *type);

/* What a Socket Mode message is about. */
struct socket_msg {
    enum sock_env_type type;
    char envelope_id[SOCKET_ENVELOPE_ID_MAX + 1]; /* "" when it has none */
    char reason[32];                              /* disconnect: its reason */
};

/* Parse one text message: its type, envelope id and, for slash_commands,
 * the payload fields into e (too_long set when one does not fit). 0, or -1
 * when it is not a JSON object with a string "type", or its envelope_id is
 * not a string of at most SOCKET_ENVELOPE_ID_MAX bytes. */
int socket_parse(const char *text, size_t n, struct socket_msg *m, struct sockmsg_envelope *e);

/* {"envelope_id":id,"payload":payload} (no payload member when len is 0)
 * into out; its length, or -1 when it does not fit. payload is a JSON
 * object, written as is. */
long socket_ack_json(char *out, size_t cap, const char *id, const char *payload, size_t len);

/* Backoff before the attempt after `failures` consecutive failures:
 * min(SOCKET_BACKOFF_MAX_MS, 500 ms * 2^failures) scaled by a jitter factor
 * in [0.5, 1.0) from r (any 32-bit value). */
long long socket_backoff_ms(int failures, unsigned r);

#endif
