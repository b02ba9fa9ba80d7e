#include "jobs.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "loop.h"

int jobs_init(struct jobs *j, int max)
{
    memset(j, 0, sizeof *j);
    j->v = calloc((size_t)max, sizeof *j->v);
    j->max = max;
    j->next_id = 1;
    return j->v ? 0 : -1;
}

void jobs_watch(struct jobs *j, struct loop *l, jobs_result_fn on_result, void *arg)
{
    j->loop = l;
    j->on_result = on_result;
    j->arg = arg;
}

int jobs_write_record(int fd, const struct job_record *r)
{
    ssize_t n;
    do n = write(fd, r, sizeof *r);
    while (n < 0 && errno == EINTR);
    return n == (ssize_t)sizeof *r ? 0 : -1;
}

/* Take whole records from the job's pipe without blocking. 1 when the pipe
 * reached its end (the child closed it or exited), else 0. */
static int read_records(struct job *job)
{
    for (;;) {
        ssize_t n = read(job->result_fd, job->rbuf + job->rlen, sizeof job->rbuf - job->rlen);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return n == 0;
        job->rlen += (size_t)n;
        if (job->rlen < sizeof job->rbuf) continue;
        struct job_record r;
        memcpy(&r, job->rbuf, sizeof r);
        job->rlen = 0;
        r.image[sizeof r.image - 1] = r.error[sizeof r.error - 1] = 0;
        r.reply[sizeof r.reply - 1] = 0;
        if (r.kind == JOB_REC_RESULT && !job->have_result) {
            job->result = r;
            job->have_result = 1;
        } else if (r.kind == JOB_REC_REPLY && !job->have_reply) {
            memcpy(job->reply, r.reply, sizeof job->reply);
            job->have_reply = 1;
        }
    }
}

/* The result pipe is readable: take the records, tell the owner once. */
static void on_pipe(void *arg, int fd, short revents)
{
    struct job *job = arg;
    struct jobs *j = job->owner;
    int had = job->have_result;
    if (read_records(job) || (revents & (POLLERR | POLLNVAL)))
        loop_del(j->loop, fd); /* at its end: the reap closes it */
    if (!had && job->have_result && j->on_result) j->on_result(j->arg, job, j->loop->now_ms);
}

struct job *jobs_holder(struct jobs *j, const char *target)
{
    for (int i = 0; i < j->max; i++)
        if (j->v[i].pid && j->v[i].spec.locks && strcmp(j->v[i].spec.target, target) == 0)
            return &j->v[i];
    return NULL;
}

int jobs_isolate_fd(int fd)
{
    int first = 3; /* the first descriptor to close */
    if (fd >= 0) {
        if (fd != 3) {
            if (dup2(fd, 3) < 0) return -1;
            close(fd);
        }
        fcntl(3, F_SETFD, FD_CLOEXEC);
        first = 4;
    }
#ifdef SYS_close_range
    if (syscall(SYS_close_range, (unsigned)first, ~0u, 0u) == 0) return fd >= 0 ? 3 : 0;
#endif
    long max = sysconf(_SC_OPEN_MAX);
    if (max < 0 || max > 65536) max = 65536;
    for (int i = first; i < max; i++) close(i);
    return fd >= 0 ? 3 : 0;
}

struct job *jobs_spawn(struct jobs *j, const struct job_spec *spec, long long now_ms,
                       int deadline_s, jobs_child_fn fn, void *arg, const char **err)
{
    struct job *job = NULL;
    for (int i = 0; i < j->max && !job; i++)
        if (!j->v[i].pid) job = &j->v[i];
    if (!job) {
        *err = "busy";
        return NULL;
    }
    int p[2];
    if (pipe2(p, O_CLOEXEC) < 0) {
        *err = "pipe failed";
        return NULL;
    }
    job->spec = *spec;
    job->id = j->next_id;
    job->started_ms = now_ms;
    job->deadline_ms = now_ms + (long long)deadline_s * 1000;
    job->started_wall = (long long)time(NULL);
    job->killed = job->have_result = job->have_reply = 0;
    job->rlen = 0;
    job->reply[0] = 0;
    job->owner = j;
    pid_t pid = fork();
    if (pid < 0) {
        close(p[0]);
        close(p[1]);
        *err = "fork failed";
        return NULL;
    }
    if (pid == 0) {
        close(p[0]);
        fn(arg, job, p[1]);
        _exit(70); /* fn must not return */
    }
    close(p[1]);
    fcntl(p[0], F_SETFL, O_NONBLOCK);
    job->pid = pid;
    job->result_fd = p[0];
    if (j->loop) loop_add(j->loop, p[0], POLLIN, on_pipe, job);
    j->next_id++;
    j->running++;
    return job;
}

static struct job *by_pid(struct jobs *j, pid_t pid)
{
    for (int i = 0; i < j->max; i++)
        if (j->v[i].pid == pid) return &j->v[i];
    return NULL;
}

void jobs_reap(struct jobs *j, long long now_ms, jobs_done_fn done, void *arg)
{
    int st;
    pid_t pid;
    /* Bounded: at most every child once per call, plus stray notices. */
    for (int n = 0; n < j->max + 64 && (pid = waitpid(-1, &st, WNOHANG)) > 0; n++) {
        struct job *job = by_pid(j, pid);
        if (!job) {
            if (pid == j->sidecar)
                j->sidecar = 0; /* socksup notices and restarts it */
            else if (j->notices > 0)
                j->notices--; /* a notice child */
            continue;
        }
        /* The child has exited: whatever it wrote is in the pipe already
         * (two records are below the pipe's capacity, so it never blocked). */
        int had = job->have_result;
        read_records(job);
        if (j->loop) loop_del(j->loop, job->result_fd);
        close(job->result_fd);
        if (!had && job->have_result && j->on_result) j->on_result(j->arg, job, now_ms);
        done(arg, job, st, now_ms);
        job->pid = 0;
        j->running--;
    }
}

void jobs_enforce_deadlines(struct jobs *j, long long now_ms)
{
    for (int i = 0; i < j->max; i++) {
        struct job *job = &j->v[i];
        if (job->pid && now_ms >= job->deadline_ms && !job->killed) {
            job->killed = 1;
            kill(job->pid, SIGKILL);
        }
    }
}

void jobs_signal_all(struct jobs *j, int sig)
{
    for (int i = 0; i < j->max; i++)
        if (j->v[i].pid) {
            if (!j->v[i].killed) j->v[i].killed = 2;
            kill(j->v[i].pid, sig);
        }
}
