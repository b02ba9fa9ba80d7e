#include "server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

static void conn_io(void *arg, int fd, short revents);
static int conn_write(struct server *s, struct conn *c);
static void resume_accept(struct server *s);

int server_init(struct server *s, const struct config *cfg, struct loop *l, server_route_fn route,
                void *app, char *err, size_t errlen)
{
    memset(s, 0, sizeof *s);
    s->cfg = cfg;
    s->loop = l;
    s->route = route;
    s->app = app;
    s->nconns = cfg->max_conns;
    /* One slot per allowed connection, allocated once: small metadata that
     * the sweeps read, and buffers in an anonymous mapping apart from it, so
     * a buffer page becomes resident only when a client fills it. */
    s->conns = calloc((size_t)s->nconns, sizeof *s->conns);
    s->slab_size = (size_t)s->nconns * (CONN_IN_SIZE + CONN_OUT_SIZE);
    s->slab = mmap(NULL, s->slab_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (!s->conns || s->slab == MAP_FAILED) {
        snprintf(err, errlen, "cannot allocate %d connection slots", s->nconns);
        return -1;
    }
    for (int i = 0; i < s->nconns; i++) {
        s->conns[i].in = s->slab + (size_t)i * (CONN_IN_SIZE + CONN_OUT_SIZE);
        s->conns[i].out = s->conns[i].in + CONN_IN_SIZE;
    }
    int fd = socket(cfg->listen.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        snprintf(err, errlen, "LISTEN_ADDR: socket: %s", strerror(errno));
        return -1;
    }
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (cfg->listen.ss_family == AF_INET6) {
        int zero = 0; /* [::] also takes IPv4, like most servers */
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof zero);
    }
    if (bind(fd, (const struct sockaddr *)&cfg->listen, cfg->listen_len) < 0 ||
        listen(fd, 511) < 0) {
        snprintf(err, errlen, "LISTEN_ADDR: cannot listen on %s: %s", cfg->listen_addr,
                 strerror(errno));
        close(fd);
        return -1;
    }
    s->listen_fd = fd;
    return 0;
}

static void conn_close(struct server *s, struct conn *c)
{
    loop_del(s->loop, c->fd);
    close(c->fd);
    c->state = C_FREE;
    c->fd = -1;
    s->nopen--;
    resume_accept(s); /* a descriptor is free again */
    /* Give the slot's buffer pages back: after a burst of connections the
     * parent returns to its idle size instead of keeping them resident. */
    madvise(c->in, CONN_IN_SIZE + CONN_OUT_SIZE, MADV_DONTNEED);
}

/* The connection to give up when the table is full: the least recently
 * active one that holds no part of a request, else the one that has been
 * slowest to send its request (it began earliest and is still incomplete:
 * Slack's requests arrive whole in milliseconds). Connections being
 * answered are kept. *idle says which kind it was. */
static struct conn *victim(struct server *s, int *idle)
{
    struct conn *quiet = NULL, *slow = NULL;
    /* O(max_conns), only when the table is full. */
    for (int i = 0; i < s->nconns; i++) {
        struct conn *c = &s->conns[i];
        if (c->state != C_RECV) continue;
        if (c->in_len == 0 && (!quiet || c->last_seq < quiet->last_seq)) quiet = c;
        if (c->in_len > 0 && (!slow || c->req_seq < slow->req_seq)) slow = c;
    }
    *idle = quiet != NULL;
    return quiet ? quiet : slow;
}

static struct conn *free_slot(struct server *s)
{
    for (int i = 0; i < s->nconns; i++)
        if (s->conns[i].state == C_FREE) return &s->conns[i];
    return NULL;
}

static void set_events(struct server *s, struct conn *c)
{
    short ev = 0;
    if (c->out_off < c->out_len) ev |= POLLOUT;
    if (c->state == C_RECV) ev |= POLLIN;
    loop_set(s->loop, c->fd, ev);
}

/* Out of descriptors (EMFILE/ENFILE): the pending connection stays in the
 * backlog and the listener stays readable, so polling it would spin. Stop
 * watching it until a connection closes or ACCEPT_PAUSE_MS pass. */
static void pause_accept(struct server *s)
{
    s->stats.accept_no_fd++;
    s->accept_paused_until = s->loop->now_ms + ACCEPT_PAUSE_MS;
    loop_set(s->loop, s->listen_fd, 0);
}

static void resume_accept(struct server *s)
{
    if (!s->accept_paused_until || s->listen_fd < 0) return;
    s->accept_paused_until = 0;
    loop_set(s->loop, s->listen_fd, POLLIN);
}

static void server_accept(void *arg, int fd, short revents)
{
    struct server *s = arg;
    long long now = s->loop->now_ms;
    /* Bounded per pass so a connection flood cannot starve the others. */
    for (int n = 0; n < 64; n++) {
        struct sockaddr_storage ss;
        socklen_t sl = sizeof ss;
        int cfd = accept4(fd, (struct sockaddr *)&ss, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (cfd < 0 && (errno == EMFILE || errno == ENFILE)) pause_accept(s);
        if (cfd < 0) return; /* EAGAIN or ECONNABORTED: try next pass */
        struct conn *c = s->nopen < s->nconns ? free_slot(s) : NULL;
        int idle;
        if (!c && (c = victim(s, &idle))) {
            conn_close(s, c);
            if (idle)
                s->stats.shed++;
            else
                s->stats.shed_slow++;
        }
        if (!c || cfd >= s->loop->max_fds) {
            static const char full[] = "HTTP/1.1 503 Service Unavailable\r\nContent-Length: "
                                       "0\r\nConnection: close\r\n\r\n";
            (void)!write(cfd, full, sizeof full - 1);
            close(cfd);
            s->stats.refused_full++;
            continue;
        }
        int one = 1;
        setsockopt(cfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        c->state = C_RECV;
        c->srv = s;
        c->fd = cfd;
        c->close_after = c->continue_sent = c->served = 0;
        c->in_len = c->scanned = c->out_len = c->out_off = 0;
        c->last_seq = ++s->seq;
        c->deadline_ms = now + (long long)s->cfg->header_timeout * 1000;
        c->peer[0] = 0;
        if (ss.ss_family == AF_INET)
            inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr, c->peer, sizeof c->peer);
        else if (ss.ss_family == AF_INET6)
            inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&ss)->sin6_addr, c->peer, sizeof c->peer);
        s->nopen++;
        s->stats.accepted++;
        loop_add(s->loop, cfd, POLLIN, conn_io, c);
    }
}

void server_reply(struct server *s, struct conn *c, enum status st, const char *content_type,
                  const char *extra_headers, const char *body, size_t len)
{
    int keep = !c->close_after && !s->draining;
    int keep_hdr = keep ? (c->http10 ? 2 : 1) : 0;
    /* Anything queued before (a 100 Continue) has been sent or is kept. */
    size_t base = c->out_off < c->out_len ? c->out_len : 0;
    if (base == 0) c->out_off = 0;
    long n = http_response(c->out + base, CONN_OUT_SIZE - base, st, keep_hdr, content_type,
                           extra_headers, body, len, c->head);
    if (n < 0) {
        st = S_INTERNAL_ERROR;
        keep = 0;
        n = http_response(c->out + base, CONN_OUT_SIZE - base, st, 0, NULL, NULL, NULL, 0, c->head);
    }
    c->out_len = base + (size_t)n;
    c->close_after = !keep;
    c->state = C_SEND;
    c->deadline_ms = s->loop->now_ms + WRITE_TIMEOUT * 1000LL;
    s->stats.requests++;
    if (st / 100 >= 1 && st / 100 <= 5) s->stats.by_status[st / 100]++;
}

/* Try to complete a request from the buffered bytes; answers it if so.
 * Returns 1 when a response was queued, 0 when more input is needed. */
static int try_request(struct server *s, struct conn *c)
{
    struct http_request r;
    long h = http_parse(c->in, c->in_len, &c->scanned, &r);
    if (h == 0) return 0;
    if (h < 0) {
        c->close_after = 1; /* the stream cannot be trusted after a bad head */
        c->head = c->in_len >= 5 && memcmp(c->in, "HEAD ", 5) == 0;
        const char *msg = http_reason((enum status) - h);
        char body[128];
        int n = snprintf(body, sizeof body, "%s\n", msg);
        server_reply(s, c, (enum status) - h, "text/plain; charset=utf-8", NULL, body, (size_t)n);
        c->in_len = 0;
        return 1;
    }
    size_t need = (size_t)h + r.content_length;
    if (c->in_len < need) {
        if (r.expect_continue && !c->continue_sent && c->out_len == c->out_off) {
            static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";
            memcpy(c->out, cont, sizeof cont - 1);
            c->out_off = 0;
            c->out_len = sizeof cont - 1;
            c->continue_sent = 1;
            s->stats.by_status[1]++;
        }
        return 0;
    }
    if (!r.keep_alive) c->close_after = 1;
    c->http10 = r.minor == 0;
    c->head = r.method == M_HEAD; /* every answer to it is a head without body */
    s->route(s, c, &r, c->in + h, r.content_length);
    if (c->state != C_SEND) /* a route must answer; make sure the client hears something */
        server_reply(s, c, S_INTERNAL_ERROR, NULL, NULL, NULL, 0);
    /* Keep pipelined bytes for the next request. */
    memmove(c->in, c->in + need, c->in_len - need);
    c->in_len -= need;
    c->req_seq = s->seq; /* a pipelined next request starts now */
    c->scanned = 0;
    c->continue_sent = 0;
    c->served++;
    return 1;
}

static void conn_read(struct server *s, struct conn *c)
{
    for (;;) {
        size_t room = CONN_IN_SIZE - c->in_len;
        if (room == 0) break;
        ssize_t n = read(c->fd, c->in + c->in_len, room);
        if (n > 0) {
            if (c->in_len == 0) { /* first byte of a request: the header clock starts */
                c->deadline_ms = s->loop->now_ms + (long long)s->cfg->header_timeout * 1000;
                c->req_seq = s->seq + 1;
            }
            c->in_len += (size_t)n;
            c->last_seq = ++s->seq;
            if (try_request(s, c)) return;
            continue;
        }
        if (n == 0) { /* peer closed: nothing more can complete a request */
            conn_close(s, c);
            return;
        }
        if (errno == EINTR) continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK) conn_close(s, c);
        return;
    }
}

/* Send queued bytes. Returns 1 when a new response was queued for a
 * pipelined request (call again), else 0. */
static int conn_write(struct server *s, struct conn *c)
{
    while (c->out_off < c->out_len) {
        ssize_t n = write(c->fd, c->out + c->out_off, c->out_len - c->out_off);
        if (n > 0) {
            c->out_off += (size_t)n;
            c->last_seq = ++s->seq;
            continue;
        }
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return 0;
        conn_close(s, c);
        return 0;
    }
    c->out_off = c->out_len = 0;
    if (c->state != C_SEND) return 0; /* a 100 Continue went out; keep receiving the body */
    if (c->close_after || s->draining) {
        conn_close(s, c);
        return 0;
    }
    c->state = C_RECV;
    long long now = s->loop->now_ms;
    int secs = c->in_len ? s->cfg->header_timeout : s->cfg->keepalive_timeout;
    c->deadline_ms = now + (long long)secs * 1000;
    /* Pipelined requests already buffered are answered in order. */
    return c->in_len ? try_request(s, c) : 0;
}

static void conn_io(void *arg, int fd, short revents)
{
    struct conn *c = arg;
    struct server *s = c->srv;
    if (c->state == C_FREE || c->fd != fd) return;
    if (revents & POLLOUT) conn_write(s, c);
    if (c->state == C_RECV && (revents & (POLLIN | POLLHUP | POLLERR)))
        conn_read(s, c);
    else if (c->state != C_FREE && (revents & (POLLHUP | POLLERR)) && !(revents & POLLOUT))
        conn_close(s, c);
    if (c->state != C_FREE) set_events(s, c);
}

void server_tick(struct server *s, long long now)
{
    if (s->accept_paused_until && now >= s->accept_paused_until) resume_accept(s);
    /* O(max_conns) each tick (4 per second): a thousand compares. */
    for (int i = 0; i < s->nconns; i++) {
        struct conn *c = &s->conns[i];
        if (c->state != C_FREE && now >= c->deadline_ms) {
            conn_close(s, c);
            s->stats.closed_timeout++;
        }
    }
}

int server_start(struct server *s)
{
    return loop_add(s->loop, s->listen_fd, POLLIN, server_accept, s);
}

void server_drain(struct server *s)
{
    s->draining = 1;
    if (s->listen_fd >= 0) {
        loop_del(s->loop, s->listen_fd);
        close(s->listen_fd);
        s->listen_fd = -1;
    }
    for (int i = 0; i < s->nconns; i++) {
        struct conn *c = &s->conns[i];
        if (c->state == C_RECV && c->in_len == 0 && c->out_len == 0) conn_close(s, c);
    }
}
