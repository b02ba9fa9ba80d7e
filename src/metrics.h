/* Counters for GET /metrics, in the Prometheus text format (names and
 * units per Prometheus conventions: _total counters, _seconds, HELP and
 * TYPE for every family). Labels take values from fixed sets only: no
 * per-user, per-target or per-version series (build_info's one version
 * aside). The parent alone writes these. */
#ifndef METRICS_H
#define METRICS_H

#include <stddef.h>

enum outcome {
    OUT_ACCEPTED,
    OUT_BAD_SIGNATURE,
    OUT_STALE,
    OUT_REPLAY,
    OUT_MALFORMED, /* missing/malformed signature headers or form */
    OUT_FORBIDDEN,
    OUT_BAD_COMMAND,
    OUT_BUSY,
    OUT_LOCKED,
    OUT_HELP,
    OUT_SSL_CHECK,
    OUT_N
};

enum job_result { JOB_OK, JOB_FAILED, JOB_KILLED, JOB_CRASHED, JOB_RESULT_N };

/* How a rollout that a job followed ended (deploy, rollback, restart). */
enum rollout_result {
    ROLLOUT_R_NONE,     /* no rollout was followed (lookups, refusals before the change) */
    ROLLOUT_R_DONE,     /* complete: all replicas updated and available */
    ROLLOUT_R_FAILED,   /* ProgressDeadlineExceeded, or the deployment vanished */
    ROLLOUT_R_TIMEOUT,  /* still rolling out at ROLLOUT_TIMEOUT */
    ROLLOUT_R_UNKNOWN,  /* the change went in but the rollout could not be followed */
    ROLLOUT_R_REPLACED, /* a later change replaced the template before it rolled out */
    ROLLOUT_R_N
};

/* Upper bounds (seconds) of deploy_api_job_duration_seconds' buckets: a
 * lookup takes well under a second, a rollout from seconds to the 30
 * minutes of a response_url. */
#define METRICS_DURATION_BUCKETS 9
#define METRICS_COMMANDS 6 /* enum cmd_verb values (help is never a job) */

struct metrics_hist {
    unsigned long long bucket[METRICS_DURATION_BUCKETS]; /* not cumulative */
    unsigned long long count;
    long long sum_ms;
};

struct metrics {
    unsigned long long requests[OUT_N];
    unsigned long long jobs[JOB_RESULT_N];
    unsigned long long rollouts[ROLLOUT_R_N];
    unsigned long long replies_failed;
    /* job duration by command and by result ok (0) / not ok (1): the
     * result's finer kinds are in deploy_api_jobs_total */
    struct metrics_hist duration[METRICS_COMMANDS][2];
};

extern struct metrics metrics;

const char *outcome_str(enum outcome o);
const char *job_result_str(enum job_result r);
/* "none", "done", "failed", "timeout", "unknown"; "none" for anything else. */
const char *rollout_result_str(enum rollout_result r);
/* The rollout_result named s (rollout_result_str's words), ROLLOUT_R_NONE
 * for NULL or anything else. */
enum rollout_result rollout_result_parse(const char *s);

/* A job ended: its command (enum cmd_verb), result and duration go into the
 * histogram, its rollout (if any) into deploy_api_rollouts_total. A verb out
 * of range or a negative duration is ignored. */
void metrics_job_end(int verb, enum job_result r, long long ms, enum rollout_result ro);

struct server_stats;
/* Render all metrics into buf; returns the length, or -1 when cap is too
 * small. Histogram series appear once observed (at most METRICS_COMMANDS-1
 * commands x 2 results), so the page stays within HTTP_MAX_RESPONSE. */
long metrics_render(char *buf, size_t cap, int jobs_running, int conns_open,
                    const struct server_stats *st);

#endif
