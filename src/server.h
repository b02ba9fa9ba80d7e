/* The HTTP server: listening socket, client connections as small state
 * machines, limits and timeouts. Requests are handed to a route function. */
#ifndef SERVER_H
#define SERVER_H

#include <stddef.h>

#include "config.h"
#include "http.h"
#include "limits.h"
#include "loop.h"

enum conn_state { C_FREE, C_RECV, C_SEND };

struct server;

struct conn {
    struct server *srv;
    enum conn_state state;
    int fd;
    int close_after;   /* close once the response is sent */
    int continue_sent; /* "100 Continue" already queued for this request */
    int served;        /* requests answered on this connection */
    int http10;        /* the current request is HTTP/1.0 */
    int head;          /* the current request is HEAD: responses carry no body */
    long long deadline_ms;
    unsigned long long last_seq; /* order of last activity, for shedding the oldest idle */
    unsigned long long req_seq;  /* order of the current request's first byte (slowest sender) */
    size_t in_len, scanned;
    size_t out_len, out_off;
    char peer[64];
    char *in;  /* CONN_IN_SIZE bytes in the buffer slab */
    char *out; /* CONN_OUT_SIZE bytes in the buffer slab */
};

#define CONN_IN_SIZE (HTTP_MAX_HEAD + HTTP_MAX_BODY)
#define CONN_OUT_SIZE HTTP_MAX_RESPONSE

/* Called with a complete request; must answer with server_reply (exactly once). */
typedef void (*server_route_fn)(struct server *s, struct conn *c, const struct http_request *r,
                                const char *body, size_t body_len);

struct server_stats {
    unsigned long long accepted, closed_timeout, shed, shed_slow, refused_full, requests;
    unsigned long long accept_no_fd; /* accept failed with EMFILE/ENFILE */
    unsigned long long by_status[6]; /* 1xx..5xx by first digit; [0] unused */
};

struct server {
    const struct config *cfg;
    struct loop *loop;
    int listen_fd;
    struct conn *conns; /* cfg->max_conns slots, allocated once */
    char *slab;         /* their buffers: mmap'd, a page is resident only once used */
    size_t slab_size;
    int nconns, nopen;
    unsigned long long seq;        /* activity counter */
    int draining;                  /* SIGTERM: no new connections, no keep-alive */
    long long accept_paused_until; /* out of descriptors: listener unwatched until then (0: not) */
    server_route_fn route;
    void *app;
    struct server_stats stats;
};

/* Bind and listen on cfg->listen; allocate the connection table. -1 with
 * err set when the address cannot be used. */
int server_init(struct server *s, const struct config *cfg, struct loop *l, server_route_fn route,
                void *app, char *err, size_t errlen);
/* Start accepting connections. */
int server_start(struct server *s);
/* Close connections past their deadline; call a few times a second. */
void server_tick(struct server *s, long long now_ms);
/* Queue a response on c (at most HTTP_MAX_RESPONSE bytes, else a 500). To a
 * HEAD request only the head goes out (Content-Length as for GET). */
void server_reply(struct server *s, struct conn *c, enum status st, const char *content_type,
                  const char *extra_headers, const char *body, size_t len);
/* Stop accepting and let connections finish their current response. */
void server_drain(struct server *s);

#endif
