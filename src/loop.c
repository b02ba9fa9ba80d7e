#include "loop.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static int sig_write_fd = -1;

long long loop_clock_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int loop_init(struct loop *l, int max_fds)
{
    memset(l, 0, sizeof *l);
    l->max_fds = max_fds;
    l->io = calloc((size_t)max_fds, sizeof *l->io);
    l->fds = calloc((size_t)max_fds, sizeof *l->fds);
    l->pfd = calloc((size_t)max_fds, sizeof *l->pfd);
    l->sig_pipe[0] = l->sig_pipe[1] = -1;
    if (!l->io || !l->fds || !l->pfd) return -1;
    for (int i = 0; i < max_fds; i++) l->io[i].slot = -1;
    l->now_ms = loop_clock_ms();
    return 0;
}

int loop_add(struct loop *l, int fd, short events, loop_io_fn fn, void *arg)
{
    if (fd < 0 || fd >= l->max_fds) return -1;
    struct loop_io *io = &l->io[fd];
    if (io->slot < 0) {
        io->slot = l->nfds;
        l->fds[l->nfds++] = fd;
    }
    io->fn = fn;
    io->arg = arg;
    io->events = events;
    return 0;
}

void loop_set(struct loop *l, int fd, short events)
{
    if (fd >= 0 && fd < l->max_fds) l->io[fd].events = events;
}

void loop_del(struct loop *l, int fd)
{
    if (fd < 0 || fd >= l->max_fds || l->io[fd].slot < 0) return;
    int slot = l->io[fd].slot;
    int last = l->fds[--l->nfds];
    l->fds[slot] = last;
    l->io[last].slot = slot;
    l->io[fd].slot = -1;
    l->io[fd].fn = NULL;
}

int loop_every(struct loop *l, long long every_ms, loop_timer_fn fn, void *arg)
{
    if (l->ntimers == LOOP_MAX_TIMERS) return -1;
    l->timers[l->ntimers++] = (struct loop_timer){fn, arg, every_ms, loop_clock_ms() + every_ms};
    return 0;
}

static void on_signal(int signo)
{
    int saved = errno;
    unsigned char b = (unsigned char)signo;
    if (sig_write_fd >= 0)
        (void)!write(sig_write_fd, &b, 1); /* full pipe: the signal is already pending there */
    errno = saved;
}

static void sig_readable(void *arg, int fd, short revents)
{
    struct loop *l = arg;
    unsigned char buf[64];
    ssize_t n;
    while ((n = read(fd, buf, sizeof buf)) > 0)
        for (ssize_t i = 0; i < n; i++) l->sig_fn(l->sig_arg, buf[i]);
}

int loop_signals(struct loop *l, const int *signals, loop_signal_fn fn, void *arg)
{
    if (pipe2(l->sig_pipe, O_NONBLOCK | O_CLOEXEC) < 0) return -1;
    sig_write_fd = l->sig_pipe[1];
    l->sig_fn = fn;
    l->sig_arg = arg;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = SIG_IGN;
    sigaction(SIGPIPE, &sa, NULL);
    sa.sa_handler = on_signal;
    sa.sa_flags = SA_RESTART;
    sigemptyset(&sa.sa_mask);
    for (const int *s = signals; *s; s++)
        if (sigaction(*s, &sa, NULL) < 0) return -1;
    return loop_add(l, l->sig_pipe[0], POLLIN, sig_readable, l);
}

void loop_child_reset(struct loop *l)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = SIG_DFL;
    sigaction(SIGCHLD, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sig_write_fd = -1;
    if (l->sig_pipe[0] >= 0) {
        close(l->sig_pipe[0]);
        close(l->sig_pipe[1]);
        l->sig_pipe[0] = l->sig_pipe[1] = -1;
    }
}

void loop_once(struct loop *l, int max_wait_ms)
{
    long long now = loop_clock_ms();
    long long wait = max_wait_ms;
    for (int i = 0; i < l->ntimers; i++) {
        long long d = l->timers[i].next_ms - now;
        if (d < 0) d = 0;
        if (wait < 0 || d < wait) wait = d;
    }
    /* The pollfd array is rebuilt each pass: O(registered fds), at most a
     * thousand or so here, far cheaper than the syscall itself. */
    int n = l->nfds;
    for (int i = 0; i < n; i++) {
        int fd = l->fds[i];
        l->pfd[i] = (struct pollfd){fd, l->io[fd].events, 0};
    }
    int r = poll(l->pfd, (nfds_t)n, (int)wait);
    l->now_ms = loop_clock_ms();
    if (r > 0) {
        for (int i = 0; i < n; i++) {
            struct pollfd *p = &l->pfd[i];
            if (!p->revents) continue;
            /* A callback may have removed this fd (or reused the number). */
            struct loop_io *io = &l->io[p->fd];
            if (io->slot < 0 || !io->fn) continue;
            io->fn(io->arg, p->fd, p->revents);
        }
    }
    for (int i = 0; i < l->ntimers; i++) {
        struct loop_timer *t = &l->timers[i];
        if (l->now_ms >= t->next_ms) {
            t->next_ms = l->now_ms + t->every_ms;
            t->fn(t->arg, l->now_ms);
        }
    }
}
