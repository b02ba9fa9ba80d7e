/* Socket Mode client (child process): connections, envelopes, acks. */
#include "socket.h"

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "jobs.h"
#include "json.h"
#include "loop.h"
#include "str.h"
#include "ws.h"

/* ---- Pure pieces ---- */

enum sock_env_type socket_env_type(const char *type)
{
    for (int i = 0; i < SOCK_ENV_OTHER; i++)
        if (strcmp(type, sockmsg_env_type_str(i)) == 0) return (enum sock_env_type)i;
    return SOCK_ENV_OTHER;
}

/* A payload string field into dst: "" when absent, too_long when it is
 * not a string or does not fit. */
static void field(const struct json_doc *d, int obj, const char *key, char *dst, size_t cap,
                  int *too_long)
{
    dst[0] = 0;
    int t = json_get(d, obj, key);
    if (t < 0) return;
    if (json_str(d, t, dst, cap) < 0) {
        dst[0] = 0;
        *too_long = 1;
    }
}

static void slash_fields(const struct json_doc *d, int p, struct sockmsg_envelope *e)
{
    int *tl = &e->too_long;
    field(d, p, "team_id", e->team_id, sizeof e->team_id, tl);
    field(d, p, "user_id", e->user_id, sizeof e->user_id, tl);
    field(d, p, "user_name", e->user_name, sizeof e->user_name, tl);
    field(d, p, "channel_id", e->channel_id, sizeof e->channel_id, tl);
    field(d, p, "channel_name", e->channel_name, sizeof e->channel_name, tl);
    field(d, p, "command", e->command, sizeof e->command, tl);
    field(d, p, "text", e->text, sizeof e->text, tl);
    field(d, p, "response_url", e->response_url, sizeof e->response_url, tl);
}

#define SOCKET_MAX_TOKENS 8192 /* JSON tokens of one message (an events_api body) */

int socket_parse(const char *text, size_t n, struct socket_msg *m, struct sockmsg_envelope *e)
{
    static struct json_tok toks[SOCKET_MAX_TOKENS];
    struct json_doc d;
    char type[32];
    memset(m, 0, sizeof *m);
    memset(e, 0, sizeof *e);
    if (json_parse(&d, text, n, toks, SOCKET_MAX_TOKENS) < 0 || toks[0].type != JSON_OBJECT)
        return -1;
    if (json_str(&d, json_get(&d, 0, "type"), type, sizeof type) < 0) return -1;
    m->type = socket_env_type(type);
    int id = json_get(&d, 0, "envelope_id");
    if (id >= 0 && json_str(&d, id, m->envelope_id, sizeof m->envelope_id) < 0) return -1;
    if (json_str(&d, json_get(&d, 0, "reason"), m->reason, sizeof m->reason) < 0) m->reason[0] = 0;
    if (m->type != SOCK_ENV_SLASH_COMMANDS) return 0;
    memcpy(e->envelope_id, m->envelope_id, sizeof e->envelope_id);
    long long ra = json_int_or(&d, json_get(&d, 0, "retry_attempt"), 0);
    e->retry_attempt = ra < 0 ? 0 : ra > 1000 ? 1000 : (int)ra;
    int p = json_get(&d, 0, "payload");
    if (p < 0 || toks[p].type != JSON_OBJECT) {
        e->too_long = 1; /* nothing to run: refused as malformed */
        return 0;
    }
    slash_fields(&d, p, e);
    return 0;
}

long socket_ack_json(char *out, size_t cap, const char *id, const char *payload, size_t len)
{
    struct jw w;
    jw_init(&w, out, cap);
    jw_obj_begin(&w);
    jw_kstr(&w, "envelope_id", id);
    if (len) {
        jw_key(&w, "payload");
        jw_raw(&w, payload, len);
    }
    jw_obj_end(&w);
    return jw_finish(&w);
}

long long socket_backoff_ms(int failures, unsigned r)
{
    long long d = 500;
    for (int i = 0; i < failures && d < SOCKET_BACKOFF_MAX_MS; i++) d *= 2;
    if (d > SOCKET_BACKOFF_MAX_MS) d = SOCKET_BACKOFF_MAX_MS;
    return d / 2 + (long long)((double)(d / 2) * ((r & 0xFFFF) / 65536.0));
}

/* ---- The child ---- */

/* C_OPENING: an opener process calls apps.connections.open and connects
 * (DNS, TCP, proxy CONNECT) while this process keeps serving the other
 * sockets; it hands back the URL and the connected socket. */
enum conn_state { C_FREE, C_OPENING, C_WAIT_HELLO, C_READY };

struct conn {
    enum conn_state state;
    unsigned id;
    int draining;  /* a disconnect came: a replacement is opened, then this closes */
    pid_t opener;  /* C_OPENING */
    int opener_fd; /* C_OPENING: its end of the result channel */
    struct httpc_stream *s;
    long long opened_ms, last_rx_ms, drain_until_ms;
    int ping_out;
    size_t inlen;
    unsigned char *in;  /* WS_MAX_MESSAGE + WS_MAX_HEADER: one whole frame */
    unsigned char *msg; /* reassembly of fragmented messages */
    struct ws_msg asm_;
};

#define NCONNS (SOCKET_CONNS_MAX * 2) /* room for replacements while others drain */

static struct {
    const struct socket_cfg *cfg;
    int chan;
    struct conn c[NCONNS];
    unsigned next_id;
    int failures;
    long long next_try_ms;
    struct sockmsg_state st, sent; /* counters since the last STATE; gauges last sent */
    int dirty;
} K;

__attribute__((format(printf, 2, 3))) static void klog(const char *level, const char *fmt, ...)
{
    static struct sockmsg m;
    m.kind = SOCKMSG_LOG;
    str_copy(m.u.log.level, sizeof m.u.log.level, level);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(m.u.log.msg, sizeof m.u.log.msg, fmt, ap);
    va_end(ap);
    sockmsg_send(K.chan, &m);
}

static unsigned rnd32(void)
{
    unsigned r = 0;
    if (getrandom(&r, sizeof r, 0) != (ssize_t)sizeof r)
        r = (unsigned)loop_clock_ms() * 2654435761u;
    return r;
}

/* RFC 6455 5.3: a fresh unpredictable mask for every client frame. */
static void new_mask(unsigned char mask[4])
{
    unsigned m = rnd32();
    memcpy(mask, &m, 4);
}

static int send_frame(struct conn *c, enum ws_opcode op, const void *p, size_t n)
{
    static unsigned char out[SOCKMSG_ACK_MAX + 512];
    unsigned char mask[4];
    new_mask(mask);
    long len = ws_frame_write(out, sizeof out, op, p, n, mask);
    char err[256];
    if (len < 0) return -1;
    if (httpc_raw_write(c->s, out, (size_t)len, err, sizeof err) < 0) {
        klog("warn", "socket mode: connection %u: write: %s", c->id, err);
        return -1;
    }
    return 0;
}

static void conn_free(struct conn *c, int reconnect)
{
    if (c->state == C_FREE) return;
    if (reconnect) K.st.reconnects++;
    if (c->state == C_OPENING) {
        kill(c->opener, SIGKILL);
        waitpid(c->opener, NULL, 0);
        close(c->opener_fd);
    }
    if (c->s) httpc_close(c->s);
    free(c->in);
    free(c->msg);
    memset(c, 0, sizeof *c);
    K.dirty = 1;
}

/* Close with a close frame (best effort), then free. */
static void conn_close(struct conn *c, int code, const char *why, int reconnect)
{
    if (!c->s) {
        conn_free(c, reconnect);
        return;
    }
    unsigned char out[WS_MAX_HEADER + 125];
    unsigned char mask[4];
    new_mask(mask);
    long n = ws_close_write(out, sizeof out, code, why, mask);
    char err[128];
    if (n > 0) (void)httpc_raw_write(c->s, out, (size_t)n, err, sizeof err);
    conn_free(c, reconnect);
}

/* apps.connections.open: the one-time wss:// URL as an https:// url. */
static int open_url(struct url *wss, char *err, size_t errlen)
{
    char api[600], auth[600];
    struct url u;
    snprintf(api, sizeof api, "%s/apps.connections.open", K.cfg->api_url);
    if (url_parse(api, &u, err, errlen) < 0) return -1;
    snprintf(auth, sizeof auth, "Authorization: Bearer %s", K.cfg->app_token);
    const char *hdr[] = {auth, "Content-Type: application/x-www-form-urlencoded", NULL};
    struct httpc_resp r;
    if (httpc_do(&K.cfg->http, "POST", &u, hdr, "", 0, 65536, &r, err, errlen) < 0) return -1;
    explicit_bzero(auth, sizeof auth);
    struct json_tok toks[64];
    struct json_doc d;
    char got[2300] = "", url[2400], serr[64] = "";
    int ok = r.status == 200 && json_parse(&d, r.body, r.len, toks, 64) > 0 &&
             toks[0].type == JSON_OBJECT && json_get(&d, 0, "ok") >= 0 &&
             toks[json_get(&d, 0, "ok")].type == JSON_TRUE &&
             json_str(&d, json_get(&d, 0, "url"), got, sizeof got) > 6;
    if (!ok) {
        if (r.status == 200 && json_parse(&d, r.body, r.len, toks, 64) > 0)
            json_str(&d, json_get(&d, 0, "error"), serr, sizeof serr);
        snprintf(err, errlen, "apps.connections.open: HTTP %d %s", r.status,
                 serr[0] ? serr : "without a URL");
        httpc_resp_free(&r);
        return -1;
    }
    httpc_resp_free(&r);
    if (strncmp(got, "wss://", 6) != 0) {
        snprintf(err, errlen, "apps.connections.open: not a wss:// URL");
        return -1;
    }
    /* wss:// is https:// for the connection: TLS, port 443 by default. */
    snprintf(url, sizeof url, "https://%s", got + 6);
    return url_parse(url, wss, err, errlen);
}

/* The opening handshake on c->s; frames already read stay in c->in. */
static int handshake(struct conn *c, const struct url *u, char *err, size_t errlen)
{
    unsigned char nonce[16];
    char key[WS_KEY_LEN + 1], host[300], req[3000];
    for (int i = 0; i < 4; i++) {
        unsigned r = rnd32();
        memcpy(nonce + 4 * i, &r, 4);
    }
    ws_key(nonce, key);
    int v6 = strchr(u->host, ':') != NULL;
    if (strcmp(u->port, "443") == 0)
        snprintf(host, sizeof host, v6 ? "[%s]" : "%s", u->host);
    else
        snprintf(host, sizeof host, v6 ? "[%s]:%s" : "%s:%s", u->host, u->port);
    long n = ws_request(req, sizeof req, host, u->path, key);
    if (n < 0) return snprintf(err, errlen, "bad WebSocket URL"), -1;
    if (httpc_raw_write(c->s, req, (size_t)n, err, errlen) < 0) return -1;
    for (;;) {
        int status;
        enum ws_hs why;
        long h = ws_response_check((const char *)c->in, c->inlen, key, &status, &why);
        if (h > 0) {
            memmove(c->in, c->in + h, c->inlen - (size_t)h);
            c->inlen -= (size_t)h;
            return 0;
        }
        if (h < 0) {
            snprintf(err, errlen, "WebSocket handshake: %s (HTTP %d)", ws_hs_str(why), status);
            return -1;
        }
        long r =
            httpc_raw_read(c->s, c->in + c->inlen, WS_MAX_HANDSHAKE - c->inlen, 0, err, errlen);
        if (r <= 0) {
            if (r == 0) snprintf(err, errlen, "WebSocket handshake: connection closed");
            return -1;
        }
        c->inlen += (size_t)r;
    }
}

/* What an opener hands back, with the connected socket (SCM_RIGHTS). */
struct opened {
    int ok;
    struct url u; /* the wss:// URL as https:// */
    char err[256];
};

/* In the opener: the one-time URL and a connected socket, then exit. */
static void opener_run(int fd)
{
    static struct opened r;
    int sock = -1;
    K.chan = -1; /* never writes to the parent */
    if (open_url(&r.u, r.err, sizeof r.err) == 0 &&
        (sock = httpc_dial(&K.cfg->http, &r.u, r.err, sizeof r.err)) >= 0)
        r.ok = 1;
    char cbuf[CMSG_SPACE(sizeof(int))];
    struct iovec iov = {&r, sizeof r};
    struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
    if (sock >= 0) {
        memset(cbuf, 0, sizeof cbuf);
        mh.msg_control = cbuf;
        mh.msg_controllen = sizeof cbuf;
        struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
        cm->cmsg_level = SOL_SOCKET;
        cm->cmsg_type = SCM_RIGHTS;
        cm->cmsg_len = CMSG_LEN(sizeof(int));
        memcpy(CMSG_DATA(cm), &sock, sizeof sock);
    }
    _exit(sendmsg(fd, &mh, MSG_NOSIGNAL) == (ssize_t)sizeof r ? 0 : 1);
}

/* The opener's answer: the socket (or -1 with r->err). */
static int opener_result(int fd, struct opened *r)
{
    char cbuf[CMSG_SPACE(sizeof(int))];
    struct iovec iov = {r, sizeof *r};
    struct msghdr mh = {
        .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof cbuf};
    int sock = -1;
    ssize_t n = recvmsg(fd, &mh, MSG_CMSG_CLOEXEC);
    struct cmsghdr *cm = n > 0 ? CMSG_FIRSTHDR(&mh) : NULL;
    if (cm && cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS)
        memcpy(&sock, CMSG_DATA(cm), sizeof sock);
    if (n != (ssize_t)sizeof *r || !r->ok || sock < 0) {
        if (sock >= 0) close(sock);
        if (n != (ssize_t)sizeof *r) snprintf(r->err, sizeof r->err, "the opener died");
        r->err[sizeof r->err - 1] = 0;
        return -1;
    }
    return sock;
}

static void open_failed(struct conn *c, const char *err)
{
    conn_free(c, 0);
    K.failures++;
    K.st.open_failures++;
    long long wait = socket_backoff_ms(K.failures, rnd32());
    K.next_try_ms = loop_clock_ms() + wait;
    klog("warn", "socket mode: cannot open a connection: %s (retry in %lld ms)", err, wait);
}

/* Start opening a connection in slot c: fork the opener. */
static void conn_start(struct conn *c, long long now)
{
    int sv[2];
    memset(c, 0, sizeof *c);
    c->id = ++K.next_id;
    c->opened_ms = now;
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
        open_failed(c, "socketpair failed");
        return;
    }
    pid_t pid = fork();
    if (pid == 0) opener_run(jobs_isolate_fd(sv[1]));
    close(sv[1]);
    if (pid < 0) {
        close(sv[0]);
        open_failed(c, "fork failed");
        return;
    }
    c->state = C_OPENING;
    c->opener = pid;
    c->opener_fd = sv[0];
    K.dirty = 1;
}

static int conn_frames(struct conn *c, long long now);

/* The opener answered: TLS and the WebSocket handshake on its socket
 * (blocking, bounded by the I/O timeout; the host already accepted TCP). */
static void conn_opened(struct conn *c, long long now)
{
    static struct opened r;
    memset(&r, 0, sizeof r);
    int fd = opener_result(c->opener_fd, &r);
    close(c->opener_fd);
    waitpid(c->opener, NULL, 0); /* it exits once it has sent */
    c->state = C_WAIT_HELLO;
    if (fd < 0) {
        open_failed(c, r.err);
        return;
    }
    char err[512];
    c->in = malloc(WS_MAX_MESSAGE + WS_MAX_HEADER);
    c->msg = malloc(WS_MAX_MESSAGE);
    c->s = httpc_attach(&K.cfg->http, &r.u, fd, err, sizeof err);
    if (!c->in || !c->msg || !c->s || handshake(c, &r.u, err, sizeof err) < 0) {
        if (!c->in || !c->msg) snprintf(err, sizeof err, "out of memory");
        open_failed(c, err);
        return;
    }
    c->opened_ms = c->last_rx_ms = now;
    ws_msg_init(&c->asm_, c->msg, WS_MAX_MESSAGE);
    K.dirty = 1;
    if (c->inlen) conn_frames(c, now); /* hello came with the 101 */
}

/* An envelope for the parent. */
static void to_parent(struct conn *c, const struct sockmsg_envelope *e, long long now)
{
    static struct sockmsg m;
    m.kind = SOCKMSG_ENVELOPE;
    m.u.env = *e;
    m.u.env.conn = c->id;
    m.u.env.received_ms = now;
    if (sockmsg_send(K.chan, &m) < 0)
        klog("error", "socket mode: envelope %s not handed to the parent", e->envelope_id);
}

static void on_text(struct conn *c, const char *text, size_t n, long long now)
{
    static struct sockmsg_envelope e;
    struct socket_msg m;
    if (socket_parse(text, n, &m, &e) < 0) {
        klog("warn", "socket mode: connection %u: a message that is not an envelope", c->id);
        return;
    }
    K.st.envelopes[m.type]++;
    K.dirty = 1;
    switch (m.type) {
    case SOCK_ENV_HELLO:
        if (c->state == C_WAIT_HELLO) {
            c->state = C_READY;
            K.failures = 0;
        }
        return;
    case SOCK_ENV_DISCONNECT:
        klog("info", "socket mode: connection %u: disconnect (%s): opening a replacement", c->id,
             m.reason[0] ? m.reason : "no reason");
        if (!c->draining) c->drain_until_ms = now + IO_TIMEOUT * 1000LL;
        c->draining = 1;
        return;
    case SOCK_ENV_SLASH_COMMANDS:
        if (m.envelope_id[0]) to_parent(c, &e, now);
        return;
    default: /* not ours to handle: acknowledged so Slack does not retry it */
        if (m.envelope_id[0]) {
            char ack[SOCKET_ENVELOPE_ID_MAX * 6 + 32];
            long k = socket_ack_json(ack, sizeof ack, m.envelope_id, NULL, 0);
            if (k > 0) send_frame(c, WS_OP_TEXT, ack, (size_t)k);
        }
        return;
    }
}

/* Act on one frame's result; -1 when the connection is gone. */
static int on_frame(struct conn *c, const struct ws_read_result *r, long long now)
{
    switch (r->ev) {
    case WS_EV_MESSAGE:
        if (r->opcode == WS_OP_TEXT) on_text(c, (const char *)r->data, r->len, now);
        return 0;
    case WS_EV_PING:
        return send_frame(c, WS_OP_PONG, r->data, r->len);
    case WS_EV_CLOSE:
        klog("info", "socket mode: connection %u: closed by Slack (code %d)", c->id, r->close_code);
        conn_close(c, r->close_code == 1005 ? 1000 : r->close_code, "", 1);
        return -1;
    default:
        return 0;
    }
}

/* Act on every whole frame in c->in; -1 when the connection is gone. */
static int conn_frames(struct conn *c, long long now)
{
    size_t off = 0;
    for (;;) {
        struct ws_read_result res;
        enum ws_error e;
        long used = ws_read(&c->asm_, c->in + off, c->inlen - off, &res, &e);
        if (used == 0) break;
        if (used < 0) {
            klog("warn", "socket mode: connection %u: %s", c->id, ws_error_str(e));
            conn_close(c, ws_error_close_code(e), ws_error_str(e), 1);
            return -1;
        }
        off += (size_t)used;
        if (on_frame(c, &res, now) < 0) return -1;
    }
    memmove(c->in, c->in + off, c->inlen - off);
    c->inlen -= off;
    return 0;
}

/* Read what is there and act on every whole frame. */
static void conn_read(struct conn *c, long long now)
{
    do {
        char err[256];
        size_t cap = WS_MAX_MESSAGE + WS_MAX_HEADER;
        long r = httpc_raw_read(c->s, c->in + c->inlen, cap - c->inlen, 2, err, sizeof err);
        if (r <= 0) {
            klog("warn", "socket mode: connection %u: %s", c->id,
                 r == 0 ? "closed without a close frame" : err);
            conn_free(c, 1);
            return;
        }
        c->inlen += (size_t)r;
        c->last_rx_ms = now;
        c->ping_out = 0;
        if (conn_frames(c, now) < 0) return;
    } while (c->state != C_FREE && httpc_raw_pending(c->s));
}

static struct conn *conn_by_id(unsigned id)
{
    struct conn *any = NULL;
    for (int i = 0; i < NCONNS; i++) {
        struct conn *c = &K.c[i];
        if (!c->s) continue; /* free or opening */
        if (c->id == id) return c;
        if (c->state == C_READY && (!any || any->draining)) any = c;
    }
    return any; /* the socket it came on is gone: any open one will do */
}

static void on_ack(const struct sockmsg_ack *a)
{
    static char out[SOCKMSG_ACK_MAX + SOCKET_ENVELOPE_ID_MAX * 6 + 64];
    struct conn *c = conn_by_id(a->conn);
    long n = socket_ack_json(out, sizeof out, a->envelope_id, a->payload, a->len);
    if (n < 0) n = socket_ack_json(out, sizeof out, a->envelope_id, NULL, 0);
    if (!c || n < 0 || send_frame(c, WS_OP_TEXT, out, (size_t)n) < 0) {
        klog("error", "socket mode: envelope %s: the ack could not be sent", a->envelope_id);
        return;
    }
    if (loop_clock_ms() - a->received_ms > SOCKET_ACK_BUDGET_MS) {
        K.st.acks_late++;
        K.dirty = 1;
    }
}

/* Counters since the last record, gauges now. */
static void send_state(void)
{
    static struct sockmsg m;
    int open = 0, ready = 0;
    for (int i = 0; i < NCONNS; i++) {
        open += K.c[i].s != NULL;
        ready += K.c[i].state == C_READY;
    }
    K.st.open = open;
    K.st.ready = ready;
    m.kind = SOCKMSG_STATE;
    m.u.state = K.st;
    if (sockmsg_send(K.chan, &m) == 0) {
        memset(&K.st, 0, sizeof K.st);
        K.dirty = 0;
    }
}

/* Open what is missing, retire drained and silent sockets. */
static void maintain(long long now)
{
    int serving = 0, ready = 0;
    for (int i = 0; i < NCONNS; i++) {
        struct conn *c = &K.c[i];
        if (c->state == C_FREE) continue;
        if (c->state == C_OPENING) {
            serving++;
            if (now - c->opened_ms > 2 * IO_TIMEOUT * 1000LL) open_failed(c, "opening timed out");
            continue;
        }
        if (c->state == C_WAIT_HELLO && now - c->opened_ms > IO_TIMEOUT * 1000LL) {
            klog("warn", "socket mode: connection %u: no hello", c->id);
            conn_close(c, 1000, "no hello", 0);
            K.failures++;
            K.next_try_ms = now + socket_backoff_ms(K.failures, rnd32());
            continue;
        }
        if (now - c->last_rx_ms >= SOCKET_IDLE_MS) {
            klog("warn", "socket mode: connection %u: silent too long: replacing it", c->id);
            conn_close(c, 1000, "idle", 1);
            continue;
        }
        if (now - c->last_rx_ms >= SOCKET_PING_MS && !c->ping_out)
            c->ping_out = send_frame(c, WS_OP_PING, "deploy-api", 10) == 0;
        if (!c->draining) serving++;
        if (!c->draining && c->state == C_READY) ready++;
    }
    for (int i = 0; i < NCONNS; i++) {
        struct conn *c = &K.c[i];
        if (c->state != C_FREE && c->draining &&
            (ready >= K.cfg->connections || now >= c->drain_until_ms))
            conn_close(c, 1000, "replaced", 1);
    }
    for (int i = 0; i < NCONNS && serving < K.cfg->connections && now >= K.next_try_ms; i++)
        if (K.c[i].state == C_FREE) {
            conn_start(&K.c[i], now);
            serving++;
        }
}

/* One poll over the channel and every socket. */
static int poll_once(long long now)
{
    struct pollfd p[NCONNS + 1];
    struct conn *who[NCONNS + 1];
    int n = 0, wait = 1000;
    p[n] = (struct pollfd){K.chan, POLLIN, 0};
    who[n++] = NULL;
    for (int i = 0; i < NCONNS; i++) {
        struct conn *c = &K.c[i];
        if (c->state == C_FREE) continue;
        if (c->s && httpc_raw_pending(c->s)) wait = 0;
        p[n] = (struct pollfd){c->s ? httpc_raw_fd(c->s) : c->opener_fd, POLLIN, 0};
        who[n++] = c;
    }
    if (K.next_try_ms > now && K.next_try_ms - now < wait) wait = (int)(K.next_try_ms - now);
    if (poll(p, (nfds_t)n, wait) < 0 && errno != EINTR) return -1;
    now = loop_clock_ms();
    for (int i = 1; i < n; i++) {
        struct conn *c = who[i];
        if (c->state == C_OPENING && p[i].revents)
            conn_opened(c, now);
        else if (c->s && (p[i].revents || httpc_raw_pending(c->s)))
            conn_read(c, now);
    }
    if (p[0].revents & (POLLHUP | POLLERR | POLLNVAL) && !(p[0].revents & POLLIN)) return -1;
    static struct sockmsg m;
    for (int k = 0; k < 64; k++) {
        int kind = sockmsg_recv(K.chan, &m);
        if (kind == 0) break;
        if (kind == -1) return -1; /* the parent is gone */
        if (kind == SOCKMSG_ACK) on_ack(&m.u.ack);
    }
    return 0;
}

int socket_run(const struct socket_cfg *cfg, int chan)
{
    memset(&K, 0, sizeof K);
    K.cfg = cfg;
    K.chan = chan;
    K.dirty = 1;
    for (;;) {
        long long now = loop_clock_ms();
        maintain(now);
        if (K.dirty) send_state();
        if (poll_once(now) < 0) break;
        if (K.dirty) send_state();
    }
    for (int i = 0; i < NCONNS; i++) conn_close(&K.c[i], 1001, "going away", 0);
    return 0;
}
