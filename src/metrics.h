/* Counters for GET /metrics, in the Prometheus text format. */
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

struct metrics {
    unsigned long long requests[OUT_N];
    unsigned long long jobs[JOB_RESULT_N];
    unsigned long long replies_failed;
};

extern struct metrics metrics;

const char *outcome_str(enum outcome o);
const char *job_result_str(enum job_result r);

struct server_stats;
/* Render all metrics into buf; returns the length, or -1 when cap is too small. */
long metrics_render(char *buf, size_t cap, int jobs_running, int conns_open,
                    const struct server_stats *st);

#endif
