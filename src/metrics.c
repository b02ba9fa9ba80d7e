#include "metrics.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "audit.h"
#include "server.h"
#include "slack.h"

#ifndef DEPLOY_API_VERSION
#define DEPLOY_API_VERSION "dev"
#endif

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

static const char *const rollout_names[ROLLOUT_R_N] = {"none",    "done",    "failed",
                                                       "timeout", "unknown", "replaced"};

const char *rollout_result_str(enum rollout_result r)
{
    return (unsigned)r < ROLLOUT_R_N ? rollout_names[r] : "none";
}

enum rollout_result rollout_result_parse(const char *s)
{
    for (int i = 0; s && i < ROLLOUT_R_N; i++)
        if (strcmp(s, rollout_names[i]) == 0) return (enum rollout_result)i;
    return ROLLOUT_R_NONE;
}

/* Bucket bounds in ms, and as the le label writes them. */
static const long long bucket_ms[METRICS_DURATION_BUCKETS] = {250,   1000,   5000,   15000, 30000,
                                                              60000, 120000, 300000, 900000};
static const char *const bucket_le[METRICS_DURATION_BUCKETS] = {"0.25", "1",   "5",   "15", "30",
                                                                "60",   "120", "300", "900"};

void metrics_job_end(int verb, enum job_result r, long long ms, enum rollout_result ro)
{
    if ((unsigned)ro < ROLLOUT_R_N && ro != ROLLOUT_R_NONE) metrics.rollouts[ro]++;
    if (verb <= CMD_HELP || verb >= METRICS_COMMANDS || ms < 0) return;
    struct metrics_hist *h = &metrics.duration[verb][r == JOB_OK ? 0 : 1];
    h->count++;
    h->sum_ms += ms;
    for (int i = 0; i < METRICS_DURATION_BUCKETS; i++)
        if (ms <= bucket_ms[i]) {
            h->bucket[i]++;
            break;
        }
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

static void render_hist(struct out *o, const char *cmd, const char *res,
                        const struct metrics_hist *h)
{
    const char *name = "deploy_api_job_duration_seconds";
    unsigned long long cum = 0;
    for (int i = 0; i < METRICS_DURATION_BUCKETS; i++) {
        cum += h->bucket[i];
        put(o, "%s_bucket{command=\"%s\",result=\"%s\",le=\"%s\"} %llu\n", name, cmd, res,
            bucket_le[i], cum);
    }
    put(o, "%s_bucket{command=\"%s\",result=\"%s\",le=\"+Inf\"} %llu\n", name, cmd, res, h->count);
    put(o, "%s_sum{command=\"%s\",result=\"%s\"} %lld.%03lld\n", name, cmd, res, h->sum_ms / 1000,
        h->sum_ms % 1000);
    put(o, "%s_count{command=\"%s\",result=\"%s\"} %llu\n", name, cmd, res, h->count);
}

/* The families this change adds: job durations, rollouts, build info. */
static void render_jobs(struct out *o)
{
    put(o, "# HELP deploy_api_job_duration_seconds How long jobs ran, by command and result "
           "(ok or failed).\n"
           "# TYPE deploy_api_job_duration_seconds histogram\n");
    for (int v = CMD_HELP + 1; v < METRICS_COMMANDS; v++)
        for (int r = 0; r < 2; r++)
            if (metrics.duration[v][r].count)
                render_hist(o, cmd_verb_str((enum cmd_verb)v), r ? "failed" : "ok",
                            &metrics.duration[v][r]);
    put(o, "# HELP deploy_api_rollouts_total Rollouts followed to their end, by result.\n"
           "# TYPE deploy_api_rollouts_total counter\n");
    for (int i = ROLLOUT_R_NONE + 1; i < ROLLOUT_R_N; i++)
        put(o, "deploy_api_rollouts_total{result=\"%s\"} %llu\n", rollout_names[i],
            metrics.rollouts[i]);
    put(o, "# HELP deploy_api_build_info The version running (always 1).\n"
           "# TYPE deploy_api_build_info gauge\n"
           "deploy_api_build_info{version=\"");
    for (const char *p = DEPLOY_API_VERSION; *p; p++) { /* a label value: \\, \" and \n escaped */
        char one[2] = {*p, 0};
        put(o, "%s", *p == '\\' ? "\\\\" : *p == '"' ? "\\\"" : *p == '\n' ? "\\n" : one);
    }
    put(o, "\"} 1\n");
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
    render_jobs(&o);
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
    for (int i = 1; i <= 5; i++) /* no 3xx: nothing here redirects */
        if (i != 3)
            put(&o, "deploy_api_http_responses_total{class=\"%dxx\"} %llu\n", i, st->by_status[i]);
    return o.err ? -1 : (long)o.len;
}
