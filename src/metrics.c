#include "metrics.h"

#include <stdarg.h>
#include <stdio.h>

#include "audit.h"
#include "server.h"

struct metrics metrics;

static const char *const outcome_names[OUT_N] = {
    "accepted",    "bad_signature", "stale",  "replay", "malformed", "forbidden",
    "bad_command", "busy",          "locked", "help",   "ssl_check",
};

static const char *const job_names[JOB_RESULT_N] = {"ok", "failed", "killed", "crashed"};

const char *outcome_str(enum outcome o)
{
    return o < OUT_N ? outcome_names[o] : "unknown";
}

const char *job_result_str(enum job_result r)
{
    return r < JOB_RESULT_N ? job_names[r] : "unknown";
}

struct out {
    char *buf;
    size_t cap, len;
    int err;
};

__attribute__((format(printf, 2, 3))) static void put(struct out *o, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(o->buf + o->len, o->cap - o->len, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= o->cap - o->len)
        o->err = 1;
    else
        o->len += (size_t)n;
}

long metrics_render(char *buf, size_t cap, int jobs_running, int conns_open,
                    const struct server_stats *st)
{
    struct out o = {buf, cap, 0, 0};
    put(&o, "# HELP deploy_api_requests_total Slash-command requests by outcome.\n"
            "# TYPE deploy_api_requests_total counter\n");
    for (int i = 0; i < OUT_N; i++)
        put(&o, "deploy_api_requests_total{outcome=\"%s\"} %llu\n", outcome_names[i],
            metrics.requests[i]);
    put(&o, "# HELP deploy_api_jobs_total Finished jobs by result.\n"
            "# TYPE deploy_api_jobs_total counter\n");
    for (int i = 0; i < JOB_RESULT_N; i++)
        put(&o, "deploy_api_jobs_total{result=\"%s\"} %llu\n", job_names[i], metrics.jobs[i]);
    put(&o,
        "# HELP deploy_api_jobs_running Jobs running now.\n"
        "# TYPE deploy_api_jobs_running gauge\n"
        "deploy_api_jobs_running %d\n",
        jobs_running);
    put(&o,
        "# HELP deploy_api_replies_failed_total Results that could not be posted to Slack.\n"
        "# TYPE deploy_api_replies_failed_total counter\n"
        "deploy_api_replies_failed_total %llu\n",
        metrics.replies_failed);
    put(&o,
        "# HELP deploy_api_log_lines_dropped_total Log lines dropped: stdout was not read.\n"
        "# TYPE deploy_api_log_lines_dropped_total counter\n"
        "deploy_api_log_lines_dropped_total %llu\n",
        audit_lines_dropped);
    put(&o,
        "# HELP deploy_api_connections_open Client connections open now.\n"
        "# TYPE deploy_api_connections_open gauge\n"
        "deploy_api_connections_open %d\n",
        conns_open);
    put(&o,
        "# HELP deploy_api_connections_total Connections by fate.\n"
        "# TYPE deploy_api_connections_total counter\n"
        "deploy_api_connections_total{event=\"accepted\"} %llu\n"
        "deploy_api_connections_total{event=\"timed_out\"} %llu\n"
        "deploy_api_connections_total{event=\"shed_idle\"} %llu\n"
        "deploy_api_connections_total{event=\"shed_slow\"} %llu\n"
        "deploy_api_connections_total{event=\"refused_full\"} %llu\n"
        "deploy_api_connections_total{event=\"accept_no_fd\"} %llu\n",
        st->accepted, st->closed_timeout, st->shed, st->shed_slow, st->refused_full,
        st->accept_no_fd);
    put(&o, "# HELP deploy_api_http_responses_total HTTP responses by status class.\n"
            "# TYPE deploy_api_http_responses_total counter\n");
    for (int i = 1; i <= 5; i++)
        put(&o, "deploy_api_http_responses_total{class=\"%dxx\"} %llu\n", i, st->by_status[i]);
    return o.err ? -1 : (long)o.len;
}
