/* Socket Mode, parent side: supervise the socket child, serve its records. */
#include "socksup.h"

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "audit.h"
#include "str.h"

#define CHILD_STABLE_MS 60000 /* a child that ran this long starts its backoff afresh */

int socksup_seen(struct socksup *s, const char *id)
{
    if (!s->seen) {
        s->seen = calloc(SOCKET_SEEN_IDS, sizeof *s->seen);
        if (!s->seen) return 0; /* cannot remember: run it (the lock still holds) */
    }
    for (unsigned i = 0; i < SOCKET_SEEN_IDS; i++)
        if (s->seen[i][0] && strcmp(s->seen[i], id) == 0) return 1;
    str_copy(s->seen[s->seen_next], sizeof s->seen[0], id);
    s->seen_next = (s->seen_next + 1) % SOCKET_SEEN_IDS;
    return 0;
}

static void on_envelope(struct socksup *s, const struct sockmsg_envelope *e)
{
    static struct sockmsg m;
    memset(&m.u.ack, 0, offsetof(struct sockmsg_ack, payload));
    m.kind = SOCKMSG_ACK;
    m.u.ack.conn = e->conn;
    m.u.ack.received_ms = e->received_ms;
    memcpy(m.u.ack.envelope_id, e->envelope_id, sizeof m.u.ack.envelope_id);
    s->envelope(s->arg, e, &m.u.ack);
    if (sockmsg_send(s->chan, &m) < 0)
        log_line("error", "socket mode: the ack could not be handed to the socket child",
                 "envelope_id", e->envelope_id, NULL);
}

static void on_state(struct socksup *s, const struct sockmsg_state *st)
{
    s->open = st->open;
    s->ready = st->ready;
    s->reconnects += st->reconnects;
    s->acks_late += st->acks_late;
    s->open_failures += st->open_failures;
    for (int i = 0; i < SOCK_ENV_N; i++) s->envelopes[i] += st->envelopes[i];
}

/* The child is gone (its channel closed): restart it after a backoff. */
static void child_lost(struct socksup *s, long long now)
{
    loop_del(s->loop, s->chan);
    close(s->chan);
    s->chan = -1;
    s->open = s->ready = 0;
    if (s->pid > 0) kill(s->pid, SIGKILL); /* exiting anyway; reaped by jobs_reap */
    if (now - s->started_ms >= CHILD_STABLE_MS) s->failures = 0;
    long long wait = 500LL << (s->failures < 7 ? s->failures : 7);
    s->failures++;
    s->restart_at_ms = now + wait;
    char ms[24];
    snprintf(ms, sizeof ms, "%lld", wait);
    log_line("error", "socket mode: the socket child stopped; restarting it", "restart_in_ms", ms,
             NULL);
}

static void on_chan(void *arg, int fd, short revents)
{
    struct socksup *s = arg;
    static struct sockmsg m;
    /* Bounded per pass so the loop keeps serving everything else. */
    for (int n = 0; n < 64; n++) {
        int kind = sockmsg_recv(fd, &m);
        if (kind == 0) return;
        if (kind == -1) {
            child_lost(s, loop_clock_ms());
            return;
        }
        if (kind == SOCKMSG_ENVELOPE)
            on_envelope(s, &m.u.env);
        else if (kind == SOCKMSG_STATE)
            on_state(s, &m.u.state);
        else if (kind == SOCKMSG_LOG)
            log_line(m.u.log.level[0] ? m.u.log.level : "info", m.u.log.msg, NULL);
    }
}

static int spawn(struct socksup *s, char *err, unsigned long errlen)
{
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
        snprintf(err, errlen, "socketpair failed");
        return -1;
    }
    pid_t pid = fork();
    if (pid < 0) {
        close(sv[0]);
        close(sv[1]);
        snprintf(err, errlen, "fork failed");
        return -1;
    }
    if (pid == 0) {
        close(sv[0]);
        s->child(s->arg, sv[1]);
        _exit(70); /* child must not return */
    }
    close(sv[1]);
    fcntl(sv[0], F_SETFL, O_NONBLOCK);
    s->pid = pid;
    s->jobs->sidecar = pid;
    s->chan = sv[0];
    s->started_ms = loop_clock_ms();
    loop_add(s->loop, s->chan, POLLIN, on_chan, s);
    char p[16];
    snprintf(p, sizeof p, "%d", (int)pid);
    log_line("info", "socket mode: socket child started", "pid", p, NULL);
    return 0;
}

int socksup_start(struct socksup *s, struct loop *l, struct jobs *j, socksup_child_fn child,
                  socksup_envelope_fn envelope, void *arg, char *err, unsigned long errlen)
{
    s->loop = l;
    s->jobs = j;
    s->child = child;
    s->envelope = envelope;
    s->arg = arg;
    s->chan = -1;
    return spawn(s, err, errlen);
}

void socksup_tick(struct socksup *s, long long now_ms)
{
    if (!s->child) return;
    if (s->pid > 0 && s->jobs->sidecar != s->pid) { /* reaped */
        s->pid = 0;
        if (s->chan >= 0) child_lost(s, now_ms); /* died before its channel said so */
    }
    if (s->pid || s->chan >= 0 || now_ms < s->restart_at_ms) return;
    char err[64];
    s->restarts++;
    if (spawn(s, err, sizeof err) < 0) {
        s->restart_at_ms = now_ms + 5000;
        log_line("error", "socket mode: cannot restart the socket child", "error", err, NULL);
    }
}

void socksup_stop(struct socksup *s)
{
    if (!s->child) return;
    s->child = NULL; /* no restart */
    if (s->chan >= 0) {
        loop_del(s->loop, s->chan);
        close(s->chan);
        s->chan = -1;
    }
    if (s->pid > 0) kill(s->pid, SIGTERM);
    s->open = s->ready = 0;
}

long socksup_metrics(const struct socksup *s, char *buf, unsigned long cap)
{
    unsigned long n = 0;
    int k = snprintf(buf, cap,
                     "# HELP deploy_api_socket_connections Socket Mode WebSockets open (ready: "
                     "hello received).\n# TYPE deploy_api_socket_connections gauge\n"
                     "deploy_api_socket_connections{state=\"open\"} %d\n"
                     "deploy_api_socket_connections{state=\"ready\"} %d\n"
                     "# TYPE deploy_api_socket_reconnects_total counter\n"
                     "deploy_api_socket_reconnects_total %llu\n"
                     "# TYPE deploy_api_socket_open_failures_total counter\n"
                     "deploy_api_socket_open_failures_total %llu\n"
                     "# HELP deploy_api_socket_acks_late_total Acks sent after Slack's 3 s.\n"
                     "# TYPE deploy_api_socket_acks_late_total counter\n"
                     "deploy_api_socket_acks_late_total %llu\n"
                     "# TYPE deploy_api_socket_retries_acked_total counter\n"
                     "deploy_api_socket_retries_acked_total %llu\n"
                     "# TYPE deploy_api_socket_child_restarts_total counter\n"
                     "deploy_api_socket_child_restarts_total %llu\n"
                     "# TYPE deploy_api_socket_envelopes_total counter\n",
                     s->open, s->ready, s->reconnects, s->open_failures, s->acks_late,
                     s->retries_acked, s->restarts);
    if (k < 0 || (unsigned long)k >= cap) return -1;
    n = (unsigned long)k;
    for (int t = 0; t < SOCK_ENV_N; t++) {
        k = snprintf(buf + n, cap - n, "deploy_api_socket_envelopes_total{type=\"%s\"} %llu\n",
                     sockmsg_env_type_str(t), s->envelopes[t]);
        if (k < 0 || (unsigned long)k >= cap - n) return -1;
        n += (unsigned long)k;
    }
    return (long)n;
}
