/* Forked jobs: the table of running children, one lock per target,
 * deadlines, reaping. The parent never waits on a child's I/O. */
#ifndef JOBS_H
#define JOBS_H

#include <sys/types.h>

#include "limits.h"

#define JOB_TARGET_MAX (K8S_NS_MAX + 1 + K8S_NAME_MAX + 1)
#define JOB_RESULT_MAX 2048 /* the result record a child writes on its pipe */

/* What a job is about: copied into the table, inherited by the child. */
struct job_spec {
    int verb;  /* enum cmd_verb */
    int locks; /* 1 for deploy/rollback: one at a time per target */
    char ns[K8S_NS_MAX + 1];
    char name[K8S_NAME_MAX + 1];
    char target[JOB_TARGET_MAX]; /* "ns/name", the lock key */
    char version[VERSION_MAX + 8];
    char container[K8S_NS_MAX + 1]; /* deploy -c NAME (a DNS-1123 label), "" = choose */
    long revision;
    char team_id[SLACK_ID_MAX + 1], user_id[SLACK_ID_MAX + 1], channel_id[SLACK_ID_MAX + 1];
    char user_name[SLACK_NAME_MAX + 1], channel_name[SLACK_NAME_MAX + 1];
    char response_url[RESPONSE_URL_MAX + 1];
};

struct job {
    pid_t pid; /* 0: slot free */
    long id;
    struct job_spec spec;
    long long started_ms, deadline_ms;
    long long started_wall; /* unix seconds, for "since HH:MM" */
    int result_fd;          /* read end of the child's result pipe */
    int killed;             /* 1 deadline, 2 shutdown */
};

struct jobs {
    struct job *v;
    int max, running;
    int notices; /* notice children not yet reaped */
    long next_id;
};

/* Allocate max slots. -1 on allocation failure. */
int jobs_init(struct jobs *j, int max);
/* The running job holding the lock on target, or NULL. */
struct job *jobs_holder(struct jobs *j, const char *target);

/* Runs in the child with the write end of the result pipe; must not return. */
typedef void (*jobs_child_fn)(void *arg, const struct job *job, int result_fd);

/* Fork a child for spec that runs fn. Returns the job, or NULL when all
 * MAX_JOBS slots are taken (the caller says "busy") or fork failed (*err). */
struct job *jobs_spawn(struct jobs *j, const struct job_spec *spec, long long now_ms,
                       int deadline_s, jobs_child_fn fn, void *arg, const char **err);

/* Called for every finished job with its wait status and the result record
 * the child wrote (may be empty when it died early). */
typedef void (*jobs_done_fn)(void *arg, struct job *job, int wstatus, const char *result,
                             long long now_ms);
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
