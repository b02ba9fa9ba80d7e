/* The parent's side of Socket Mode: forks the socket child (src/socket.c)
 * with a seqpacket channel, restarts it with backoff when it dies, reads
 * its records without blocking in the poll loop, runs each envelope
 * through the caller's front door once (retries of an envelope already
 * handled are acked, not run again: socksup_seen) and returns the ack. */
#ifndef SOCKSUP_H
#define SOCKSUP_H

#include <sys/types.h>

#include "jobs.h"
#include "loop.h"
#include "sockmsg.h"

/* Runs in the forked child with the channel on fd 3; must not return. */
typedef void (*socksup_child_fn)(void *arg, int chan);
/* Runs in the parent for each envelope: fill ack->payload/len with the
 * message to show (len 0: no payload). Must not block. Retries of an
 * envelope already handled are its to refuse (socksup_seen). */
typedef void (*socksup_envelope_fn)(void *arg, const struct sockmsg_envelope *e,
                                    struct sockmsg_ack *ack);

struct socksup {
    struct loop *loop;
    struct jobs *jobs; /* reaps the child (jobs->sidecar) */
    socksup_child_fn child;
    socksup_envelope_fn envelope;
    void *arg;
    pid_t pid; /* 0: not running */
    int chan;  /* -1 when closed */
    int failures;
    long long started_ms, restart_at_ms;
    /* What the child last reported, and counters summed over its lives. */
    int open, ready;
    unsigned long long reconnects, acks_late, open_failures, restarts, retries_acked;
    unsigned long long envelopes[SOCK_ENV_N];
    /* Envelope ids already run, oldest overwritten first. A linear search
     * of SOCKET_SEEN_IDS entries per envelope: envelopes are rare. */
    char (*seen)[SOCKET_ENVELOPE_ID_MAX + 1];
    unsigned seen_next;
};

/* Fork the child now. -1 with err when socketpair or fork fails. */
int socksup_start(struct socksup *s, struct loop *l, struct jobs *j, socksup_child_fn child,
                  socksup_envelope_fn envelope, void *arg, char *err, unsigned long errlen);
/* From the loop's timer: restart a dead child once its backoff is over. */
void socksup_tick(struct socksup *s, long long now_ms);
/* Stop the child (SIGTERM) and close the channel; no restart after it. */
void socksup_stop(struct socksup *s);

/* 1 when id was seen before; records it otherwise (the last SOCKET_SEEN_IDS). */
int socksup_seen(struct socksup *s, const char *id);

/* Append the Socket Mode metrics (Prometheus text) to buf; the length, or
 * -1 when cap is too small. */
long socksup_metrics(const struct socksup *s, char *buf, unsigned long cap);

#endif
