/* The local channel between the Socket Mode child (src/socket.c) and the
 * parent (src/socksup.c): one typed record per SOCK_SEQPACKET message over
 * a socketpair made at fork. Both sides are the same binary, so the record
 * is sent as its bytes; the reader still checks the kind and the length,
 * and every string is NUL-terminated inside its array before use
 * (sockmsg_check). The parent trusts the content as it trusts a verified
 * request: only the app token could have opened the socket it came from. */
#ifndef SOCKMSG_H
#define SOCKMSG_H

#include <stddef.h>

#include "limits.h"

#define SOCKMSG_ACK_MAX 8192 /* an ack's payload JSON: a 2 KiB message, escaped */
#define SOCKMSG_LOG_MAX 256  /* a log line's text from the child */

enum sockmsg_kind {
    SOCKMSG_ENVELOPE = 1, /* child → parent: a slash command to run */
    SOCKMSG_ACK,          /* parent → child: the ack payload for an envelope */
    SOCKMSG_STATE,        /* child → parent: connections and counters */
    SOCKMSG_LOG,          /* child → parent: a line for the log (the parent writes stdout) */
};

/* Envelope types, for metrics. */
enum sock_env_type {
    SOCK_ENV_SLASH_COMMANDS,
    SOCK_ENV_EVENTS_API,
    SOCK_ENV_INTERACTIVE,
    SOCK_ENV_HELLO,
    SOCK_ENV_DISCONNECT,
    SOCK_ENV_OTHER,
    SOCK_ENV_N
};

/* The type's name as Slack writes it ("slash_commands"; "other"). */
const char *sockmsg_env_type_str(int t);

/* A slash_commands envelope: its id, retry_attempt, and the payload fields
 * the HTTP form would carry. too_long: some field did not fit its array
 * (it is then ""): the parent refuses the command as malformed. */
struct sockmsg_envelope {
    unsigned conn; /* the child's connection id, echoed in the ack */
    long long received_ms;
    int retry_attempt;
    int too_long;
    char envelope_id[SOCKET_ENVELOPE_ID_MAX + 1];
    char team_id[SLACK_ID_MAX + 1], user_id[SLACK_ID_MAX + 1], channel_id[SLACK_ID_MAX + 1];
    char user_name[SLACK_NAME_MAX + 1], channel_name[SLACK_NAME_MAX + 1];
    char command[64];
    char text[CMD_MAX_TEXT + 1];
    char response_url[RESPONSE_URL_MAX + 1];
};

/* The parent's answer: the message the HTTP mode would have replied
 * (JSON object), or len 0 for an ack without payload. */
struct sockmsg_ack {
    unsigned conn;
    long long received_ms;
    char envelope_id[SOCKET_ENVELOPE_ID_MAX + 1];
    unsigned len;
    char payload[SOCKMSG_ACK_MAX];
};

/* Connection gauges now, and counters since the previous STATE record
 * (the parent adds them up across child restarts). */
struct sockmsg_state {
    int open;  /* WebSockets open */
    int ready; /* of those, how many received hello */
    unsigned reconnects, acks_late, open_failures;
    unsigned envelopes[SOCK_ENV_N];
};

struct sockmsg_log {
    char level[8];
    char msg[SOCKMSG_LOG_MAX];
};

struct sockmsg {
    int kind; /* enum sockmsg_kind */
    union {
        struct sockmsg_envelope env;
        struct sockmsg_ack ack;
        struct sockmsg_state state;
        struct sockmsg_log log;
    } u;
};

/* Send m (its kind's size) on the seqpacket fd without waiting: 0, or -1
 * when the peer is gone or its queue is full (the record is dropped). */
int sockmsg_send(int fd, const struct sockmsg *m);
/* Receive one record without waiting. Returns its kind; 0 when none is
 * queued; -1 when the peer closed or on an error; -2 for a record of an
 * unknown kind or the wrong size (dropped). Every string member of the
 * record is NUL-terminated within its array on return. */
int sockmsg_recv(int fd, struct sockmsg *m);

#endif
