/* Forked jobs: the table of running children, one lock per target,
 * deadlines, reaping. The parent never waits on a child's I/O. */
#ifndef JOBS_H
#define JOBS_H

#include <sys/types.h>

#include "limits.h"

#define JOB_TARGET_MAX (K8S_NS_MAX + 1 + K8S_NAME_MAX + 1)

struct loop;

/* What a job child tells the parent on its result pipe: whole records, each
 * smaller than PIPE_BUF so that one write is atomic. JOB_REC_RESULT comes as
 * soon as the command is done, before anything is posted to Slack (so the
 * parent knows the outcome even if the post outlasts the deadline);
 * JOB_REC_REPLY follows with what the post did. */
enum job_rec_kind { JOB_REC_RESULT = 1, JOB_REC_REPLY = 2 };

struct job_record {
    int kind;              /* enum job_rec_kind */
    int ok;                /* JOB_REC_RESULT: 1 when the command succeeded */
    char image[IMAGE_MAX]; /* JOB_REC_RESULT: the image the deployment now runs, or "" */
    char error[512];       /* JOB_REC_RESULT: why it failed, or "" */
    char reply[512];       /* JOB_REC_REPLY: "delivered" or "failed: why" */
    int rollout;           /* JOB_REC_RESULT: enum rollout_result (metrics.h), 0 none */
};

/* What a job is about: copied into the table, inherited by the child. */
struct job_spec {
    int verb;  /* enum cmd_verb */
    int locks; /* 1 for deploy/rollback/restart: one at a time per target */
    char ns[K8S_NS_MAX + 1];
    char name[K8S_NAME_MAX + 1];
    char target[JOB_TARGET_MAX]; /* "ns/name", the lock key */
    char version[VERSION_MAX + 8];
    char container[K8S_NS_MAX + 1]; /* deploy -c NAME (a DNS-1123 label), "" = choose */
    long revision;
    char team_id[SLACK_ID_MAX + 1], user_id[SLACK_ID_MAX + 1], channel_id[SLACK_ID_MAX + 1];
    char user_name[SLACK_NAME_MAX + 1], channel_name[SLACK_NAME_MAX + 1];
    char response_url[RESPONSE_URL_MAX + 1];
    char peer[64], client[64]; /* where the request came from, for the job's audit lines */
};

struct job {
    pid_t pid; /* 0: slot free */
    long id;
    struct job_spec spec;
    long long started_ms, deadline_ms;
    long long started_wall; /* unix seconds, for "since HH:MM" */
    int result_fd;          /* read end of the child's result pipe */
    int killed;             /* 1 deadline, 2 shutdown */
    int have_result;        /* result holds the JOB_REC_RESULT record */
    int have_reply;         /* reply holds the JOB_REC_REPLY text */
    struct job_record result;
    char reply[512];
    size_t rlen; /* bytes of a record read so far into rbuf */
    unsigned char rbuf[sizeof(struct job_record)];
    struct jobs *owner;
};

/* Called when a job's JOB_REC_RESULT record arrives, while it still runs. */
typedef void (*jobs_result_fn)(void *arg, struct job *job, long long now_ms);

struct jobs {
    struct job *v;
    int max, running;
    int notices;   /* notice children not yet reaped */
    pid_t sidecar; /* the Socket Mode child (src/socksup.c): reaped here, set to 0 */
    long next_id;
    struct loop *loop; /* result pipes are watched here when set */
    jobs_result_fn on_result;
    void *arg;
};

/* Allocate max slots. -1 on allocation failure. */
int jobs_init(struct jobs *j, int max);
/* Watch every job's result pipe in l from now on, calling on_result(arg, ...)
 * when its result record arrives. */
void jobs_watch(struct jobs *j, struct loop *l, jobs_result_fn on_result, void *arg);
/* In a child: write one record; 0, or -1 when the parent is gone. */
int jobs_write_record(int fd, const struct job_record *r);
/* The running job holding the lock on target, or NULL. */
struct job *jobs_holder(struct jobs *j, const char *target);

/* Runs in the child with the write end of the result pipe; must not return. */
typedef void (*jobs_child_fn)(void *arg, const struct job *job, int result_fd);

/* Fork a child for spec that runs fn. Returns the job, or NULL when all
 * MAX_JOBS slots are taken (the caller says "busy") or fork failed (*err). */
struct job *jobs_spawn(struct jobs *j, const struct job_spec *spec, long long now_ms,
                       int deadline_s, jobs_child_fn fn, void *arg, const char **err);

/* Called for every finished job with its wait status; job->have_result and
 * job->have_reply say which records the child wrote (none when it died early). */
typedef void (*jobs_done_fn)(void *arg, struct job *job, int wstatus, long long now_ms);
/* Reap every exited child (non-blocking); calls done once per job. Children
 * not in the table (notices) are reaped silently. */
void jobs_reap(struct jobs *j, long long now_ms, jobs_done_fn done, void *arg);
/* SIGKILL jobs past their deadline (the reap reports them). */
void jobs_enforce_deadlines(struct jobs *j, long long now_ms);
/* Send sig to every running job, marking them killed by shutdown. */
void jobs_signal_all(struct jobs *j, int sig);

/* In a child: move fd to 3 and close every descriptor above it (the
 * listener, client sockets, other jobs' pipes). Returns 3, or -1. With fd
 * -1, close everything from 3 up and return 0. */
int jobs_isolate_fd(int fd);

#endif
