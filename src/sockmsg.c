/* The typed records between the Socket Mode child and the parent. */
#include "sockmsg.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>

const char *sockmsg_env_type_str(int t)
{
    static const char *const names[SOCK_ENV_N] = {
        [SOCK_ENV_SLASH_COMMANDS] = "slash_commands", [SOCK_ENV_EVENTS_API] = "events_api",
        [SOCK_ENV_INTERACTIVE] = "interactive",       [SOCK_ENV_HELLO] = "hello",
        [SOCK_ENV_DISCONNECT] = "disconnect",         [SOCK_ENV_OTHER] = "other",
    };
    return t >= 0 && t < SOCK_ENV_N ? names[t] : "other";
}

static size_t size_of(int kind)
{
    size_t h = offsetof(struct sockmsg, u);
    switch (kind) {
    case SOCKMSG_ENVELOPE:
        return h + sizeof(struct sockmsg_envelope);
    case SOCKMSG_ACK:
        return h + sizeof(struct sockmsg_ack);
    case SOCKMSG_STATE:
        return h + sizeof(struct sockmsg_state);
    case SOCKMSG_LOG:
        return h + sizeof(struct sockmsg_log);
    default:
        return 0;
    }
}

int sockmsg_send(int fd, const struct sockmsg *m)
{
    size_t n = size_of(m->kind);
    if (!n) return -1;
    ssize_t w;
    do w = send(fd, m, n, MSG_DONTWAIT | MSG_NOSIGNAL);
    while (w < 0 && errno == EINTR);
    return w == (ssize_t)n ? 0 : -1;
}

#define TERM(a) ((a)[sizeof(a) - 1] = 0)

int sockmsg_recv(int fd, struct sockmsg *m)
{
    ssize_t r;
    do r = recv(fd, m, sizeof *m, MSG_DONTWAIT | MSG_TRUNC);
    while (r < 0 && errno == EINTR);
    if (r < 0) return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -1;
    if (r == 0) return -1;
    if ((size_t)r < sizeof m->kind || (size_t)r != size_of(m->kind)) return -2;
    switch (m->kind) {
    case SOCKMSG_ENVELOPE: {
        struct sockmsg_envelope *e = &m->u.env;
        TERM(e->envelope_id), TERM(e->team_id), TERM(e->user_id), TERM(e->channel_id);
        TERM(e->user_name), TERM(e->channel_name), TERM(e->command), TERM(e->text);
        TERM(e->response_url);
        break;
    }
    case SOCKMSG_ACK:
        TERM(m->u.ack.envelope_id);
        if (m->u.ack.len > sizeof m->u.ack.payload) return -2;
        break;
    case SOCKMSG_LOG:
        TERM(m->u.log.level), TERM(m->u.log.msg);
        break;
    }
    return m->kind;
}
