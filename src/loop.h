/* The event loop: file events with callbacks, periodic timers, signals
 * through a self-pipe, monotonic time. One thread, one poll(). */
#ifndef LOOP_H
#define LOOP_H

#include <poll.h>

typedef void (*loop_io_fn)(void *arg, int fd, short revents);
typedef void (*loop_timer_fn)(void *arg, long long now_ms);
typedef void (*loop_signal_fn)(void *arg, int signo);

struct loop_io {
    loop_io_fn fn;
    void *arg;
    short events;
    int slot; /* index in the dense array, -1 when unused */
};

struct loop_timer {
    loop_timer_fn fn;
    void *arg;
    long long every_ms, next_ms;
};

#define LOOP_MAX_TIMERS 8

struct loop {
    int max_fds;
    struct loop_io *io; /* indexed by fd */
    int *fds;           /* dense list of registered fds */
    int nfds;
    struct pollfd *pfd; /* rebuilt each pass */
    struct loop_timer timers[LOOP_MAX_TIMERS];
    int ntimers;
    int sig_pipe[2];
    loop_signal_fn sig_fn;
    void *sig_arg;
    long long now_ms; /* read once per pass */
};

/* Allocate tables for fds below max_fds. -1 on allocation failure. */
int loop_init(struct loop *l, int max_fds);
/* Watch fd for events (POLLIN/POLLOUT); replaces any earlier watch. -1 when fd >= max_fds. */
int loop_add(struct loop *l, int fd, short events, loop_io_fn fn, void *arg);
/* Change the events watched on a registered fd (0 pauses it). */
void loop_set(struct loop *l, int fd, short events);
/* Stop watching fd (does not close it). */
void loop_del(struct loop *l, int fd);
/* Call fn every every_ms milliseconds. */
int loop_every(struct loop *l, long long every_ms, loop_timer_fn fn, void *arg);
/* Route the given signals (0-terminated list) to fn through a self-pipe;
 * SIGPIPE is ignored. -1 on failure. */
int loop_signals(struct loop *l, const int *signals, loop_signal_fn fn, void *arg);
/* One pass: poll (at most max_wait_ms; -1 = until the next timer), then
 * dispatch ready fds, signals and due timers. */
void loop_once(struct loop *l, int max_wait_ms);
/* Monotonic milliseconds. */
long long loop_clock_ms(void);
/* Close the self-pipe in a forked child (the handlers are reset there). */
void loop_child_reset(struct loop *l);

#endif
