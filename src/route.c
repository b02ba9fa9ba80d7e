/* Requests to answers: health, readiness, metrics, and the Slack front door
 * (verify, decode, authorize, lock, fork, ack). Nothing here waits on the
 * network: the slow work is forked. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "app.h"
#include "audit.h"
#include "form.h"
#include "json.h"
#include "metrics.h"
#include "policy.h"
#include "respond.h"
#include "slack.h"
#include "worker.h"

#define JSON_TYPE "application/json; charset=utf-8"
#define TEXT_TYPE "text/plain; charset=utf-8"

static struct app *app_of(struct server *s)
{
    return s->app;
}

static void reply_text(struct server *s, struct conn *c, enum status st, const char *text)
{
    server_reply(s, c, st, TEXT_TYPE, NULL, text, strlen(text));
}

/* An answer Slack shows to the user: HTTP 200 with the reply JSON. */
static void reply_slack(struct server *s, struct conn *c, int in_channel, const char *text)
{
    char buf[HTTP_MAX_RESPONSE - 256];
    long n = slack_reply_json(buf, sizeof buf, in_channel, text);
    if (n < 0) {
        reply_text(s, c, S_INTERNAL_ERROR, "reply too large\n");
        return;
    }
    server_reply(s, c, S_OK, JSON_TYPE, NULL, buf, (size_t)n);
}

/* Who asked, for audit lines. */
struct who {
    const char *team_id, *user_id, *user_name, *channel_id, *peer;
};

static void audit_refused(const struct who *w, const char *event, enum outcome o, const char *verb,
                          const char *target, const char *why)
{
    metrics.requests[o]++;
    struct audit a = {.event = event,
                      .team_id = w->team_id,
                      .user_id = w->user_id,
                      .user_name = w->user_name,
                      .channel_id = w->channel_id,
                      .command = verb,
                      .target = target,
                      .result = outcome_str(o),
                      .error = why,
                      .duration_ms = -1,
                      .exit_status = -1,
                      .peer = w->peer};
    audit_write(&a);
}

/* Requests that fail verification cost their sender nothing, so their audit
 * lines are rate-limited: at most REJECT_AUDIT_PER_SEC a second, then one
 * line saying how many were left out. /metrics still counts every one. */
static struct {
    long long second;
    unsigned long n, dropped;
} unverified;

void route_tick(long long now_s)
{
    if (now_s == unverified.second) return;
    if (unverified.dropped) {
        char msg[96];
        snprintf(msg, sizeof msg, "%lu more requests failed verification (not logged one by one)",
                 unverified.dropped);
        struct audit a = {.event = "rejected",
                          .result = "suppressed",
                          .error = msg,
                          .duration_ms = -1,
                          .exit_status = -1};
        audit_write(&a);
    }
    unverified.second = now_s;
    unverified.n = unverified.dropped = 0;
}

static void audit_unverified(const struct who *w, enum outcome o, const char *why)
{
    route_tick((long long)time(NULL));
    if (unverified.n++ < REJECT_AUDIT_PER_SEC) {
        audit_refused(w, "rejected", o, NULL, NULL, why);
    } else {
        metrics.requests[o]++;
        unverified.dropped++;
    }
}

static void fmt_since(long long wall, char *out, size_t cap)
{
    time_t t = (time_t)wall;
    struct tm tm;
    gmtime_r(&t, &tm);
    snprintf(out, cap, "%02d:%02d:%02d UTC", tm.tm_hour, tm.tm_min, tm.tm_sec);
}

static void copy_field(char *dst, size_t cap, const char *v)
{
    if (!v || str_copy(dst, cap, v) < 0) dst[0] = 0;
}

static void handle_deploy(struct server *s, struct conn *c, const struct http_request *r,
                          const char *body, size_t len)
{
    struct app *a = app_of(s);
    struct who w = {.peer = c->peer};
    long long now = (long long)time(NULL);

    /* 1. Verify before anything reads the body. */
    const struct slice *ts = http_header(r, "x-slack-request-timestamp");
    const struct slice *sig = http_header(r, "x-slack-signature");
    static struct form f; /* one request at a time; too big for the stack */
    const char *why = NULL;
    if (ts || sig || !a->cfg.verification_token) {
        unsigned char key[32];
        enum slack_verdict v = slack_verify(a->cfg.signing_secret, a->cfg.signing_secret_len,
                                            ts ? ts->p : NULL, ts ? ts->n : 0, sig ? sig->p : NULL,
                                            sig ? sig->n : 0, body, len, now, key);
        if (v == SLACK_OK) v = replay_check(a->replay, key, slack_ts_value(ts->p, ts->n), now);
        if (v != SLACK_OK) {
            enum outcome o = v == SLACK_STALE         ? OUT_STALE
                             : v == SLACK_REPLAY      ? OUT_REPLAY
                             : v == SLACK_BAD_SIG     ? OUT_BAD_SIGNATURE
                             : v == SLACK_REPLAY_FULL ? OUT_BUSY
                                                      : OUT_MALFORMED;
            audit_unverified(&w, o, slack_verdict_str(v));
            char msg[96];
            snprintf(msg, sizeof msg, "%s\n", slack_verdict_str(v));
            reply_text(s, c, v == SLACK_REPLAY_FULL ? S_UNAVAILABLE : S_UNAUTHORIZED, msg);
            return;
        }
        if (form_parse(&f, body, len, &why) < 0) {
            audit_refused(&w, "rejected", OUT_MALFORMED, NULL, NULL, why);
            reply_text(s, c, S_BAD_REQUEST, "malformed form\n");
            return;
        }
    } else {
        /* Legacy verification token (no signature headers): only because
         * SLACK_VERIFICATION_TOKEN is set; warned about at startup. */
        if (form_parse(&f, body, len, &why) < 0 ||
            !slack_token_ok(a->cfg.verification_token, form_get(&f, "token"))) {
            audit_unverified(&w, why ? OUT_MALFORMED : OUT_BAD_SIGNATURE,
                             why ? why : "bad verification token");
            reply_text(s, c, why ? S_BAD_REQUEST : S_UNAUTHORIZED,
                       why ? "malformed form\n" : "bad verification token\n");
            return;
        }
    }

    /* 2. Slack's certificate check: an empty 200, nothing else. */
    const char *ssl_check = form_get(&f, "ssl_check");
    if (ssl_check && strcmp(ssl_check, "1") == 0) {
        metrics.requests[OUT_SSL_CHECK]++;
        server_reply(s, c, S_OK, NULL, NULL, NULL, 0);
        return;
    }

    w.team_id = form_get(&f, "team_id");
    w.user_id = form_get(&f, "user_id");
    w.user_name = form_get(&f, "user_name");
    w.channel_id = form_get(&f, "channel_id");
    const char *text = form_get(&f, "text");
    const char *response_url = form_get(&f, "response_url");
    if (!w.user_id || !*w.user_id || !w.channel_id || !w.team_id) {
        audit_refused(&w, "rejected", OUT_MALFORMED, NULL, NULL, "missing user, channel or team");
        reply_text(s, c, S_BAD_REQUEST, "missing user_id, channel_id or team_id\n");
        return;
    }

    /* 3. Which workspace. */
    if (!config_team_allowed(&a->cfg, w.team_id)) {
        audit_refused(&w, "refused", OUT_FORBIDDEN, NULL, NULL, "workspace not allowed");
        reply_slack(s, c, 0, "This Slack workspace is not allowed to deploy here.");
        return;
    }

    /* 4. What was asked. */
    struct command cmd;
    char err[256], msg[2048];
    if (cmd_parse(text ? text : "", a->cfg.default_ns, &cmd, err, sizeof err) < 0) {
        audit_refused(&w, "refused", OUT_BAD_COMMAND, NULL, NULL, err);
        snprintf(msg, sizeof msg, "%s\n\n%s", err, cmd_usage);
        reply_slack(s, c, 0, msg);
        return;
    }
    if (cmd.verb == CMD_HELP) {
        metrics.requests[OUT_HELP]++;
        reply_slack(s, c, 0, cmd_usage);
        return;
    }
    const char *verb = cmd_verb_str(cmd.verb);
    char target[JOB_TARGET_MAX];
    snprintf(target, sizeof target, "%s/%s", cmd.ns, cmd.name);

    /* 5. May this user do it here. */
    if (!config_namespace_allowed(&a->cfg, cmd.ns)) {
        audit_refused(&w, "refused", OUT_FORBIDDEN, verb, target, "namespace not allowed");
        snprintf(msg, sizeof msg, "Namespace `%s` is not one deploy-api may touch.", cmd.ns);
        reply_slack(s, c, 0, msg);
        return;
    }
    if (a->policy &&
        !policy_allows(a->policy, cmd.verb, w.user_id, w.channel_id, cmd.ns, cmd.name)) {
        audit_refused(&w, "refused", OUT_FORBIDDEN, verb, target, "denied by policy");
        snprintf(msg, sizeof msg, "You may not %s `%s` from this channel.", verb, target);
        reply_slack(s, c, 0, msg);
        return;
    }
    if (!response_url ||
        !respond_url_allowed(response_url, a->cfg.response_url_hosts, err, sizeof err)) {
        audit_refused(&w, "refused", OUT_FORBIDDEN, verb, target,
                      response_url ? err : "no response_url");
        reply_slack(s, c, 0, "This request's response_url is not one deploy-api may post to.");
        return;
    }

    /* 6. One job per target, a bounded number of jobs. */
    struct job_spec sp;
    memset(&sp, 0, sizeof sp);
    sp.verb = (int)cmd.verb;
    sp.locks = cmd.verb == CMD_DEPLOY || cmd.verb == CMD_ROLLBACK;
    copy_field(sp.ns, sizeof sp.ns, cmd.ns);
    copy_field(sp.name, sizeof sp.name, cmd.name);
    copy_field(sp.target, sizeof sp.target, target);
    copy_field(sp.version, sizeof sp.version, cmd.version);
    copy_field(sp.container, sizeof sp.container, cmd.container);
    sp.revision = cmd.revision;
    copy_field(sp.team_id, sizeof sp.team_id, w.team_id);
    copy_field(sp.user_id, sizeof sp.user_id, w.user_id);
    copy_field(sp.user_name, sizeof sp.user_name, w.user_name);
    copy_field(sp.channel_id, sizeof sp.channel_id, w.channel_id);
    copy_field(sp.channel_name, sizeof sp.channel_name, form_get(&f, "channel_name"));
    copy_field(sp.response_url, sizeof sp.response_url, response_url);
    if (!sp.user_id[0] || !sp.response_url[0]) {
        audit_refused(&w, "rejected", OUT_MALFORMED, verb, target, "field too long");
        reply_text(s, c, S_BAD_REQUEST, "a field is too long\n");
        return;
    }
    struct job *holder = sp.locks ? jobs_holder(&a->jobs, target) : NULL;
    if (holder) {
        char since[32];
        fmt_since(holder->started_wall, since, sizeof since);
        audit_refused(&w, "refused", OUT_LOCKED, verb, target, "target busy");
        snprintf(msg, sizeof msg,
                 "`%s` is already being %s by <@%s> since %s. Try again when it is done.", target,
                 holder->spec.verb == CMD_ROLLBACK ? "rolled back" : "deployed",
                 holder->spec.user_id, since);
        reply_slack(s, c, 0, msg);
        return;
    }
    if (a->stopping) {
        audit_refused(&w, "refused", OUT_BUSY, verb, target, "shutting down");
        reply_slack(s, c, 0, "deploy-api is restarting; try again in a minute.");
        return;
    }
    const char *ferr = NULL;
    struct job *job =
        jobs_spawn(&a->jobs, &sp, a->loop.now_ms, a->cfg.job_timeout, worker_child, a, &ferr);
    if (!job) {
        audit_refused(&w, "refused", OUT_BUSY, verb, target, ferr);
        reply_slack(s, c, 0, "deploy-api is busy with other jobs; try again in a minute.");
        return;
    }

    /* 7. The ack. */
    metrics.requests[OUT_ACCEPTED]++;
    struct audit au = {.event = "accepted",
                       .team_id = w.team_id,
                       .user_id = w.user_id,
                       .user_name = w.user_name,
                       .channel_id = w.channel_id,
                       .command = verb,
                       .target = target,
                       .result = "accepted",
                       .job = job->id,
                       .duration_ms = -1,
                       .exit_status = -1,
                       .peer = c->peer};
    audit_write(&au);
    switch (cmd.verb) {
    case CMD_DEPLOY: /* public once the job has read the deployment (worker.c) */
        snprintf(msg, sizeof msg, "checking `%s`…", target);
        reply_slack(s, c, 0, msg);
        break;
    case CMD_ROLLBACK:
        if (cmd.revision)
            snprintf(msg, sizeof msg, "<@%s> is rolling back `%s` to revision %ld…", w.user_id,
                     target, cmd.revision);
        else
            snprintf(msg, sizeof msg, "<@%s> is rolling back `%s` to the previous revision…",
                     w.user_id, target);
        reply_slack(s, c, 1, msg);
        break;
    default:
        snprintf(msg, sizeof msg, "Looking up the %s of `%s`…", verb, target);
        reply_slack(s, c, 0, msg);
        break;
    }
}

/* Parse "key=value" lines of a job's result record. */
static const char *rec_get(const char *rec, const char *key, char *out, size_t cap)
{
    size_t kl = strlen(key);
    for (const char *p = rec; p && *p;) {
        const char *nl = strchr(p, '\n');
        size_t n = nl ? (size_t)(nl - p) : strlen(p);
        if (n > kl && memcmp(p, key, kl) == 0 && p[kl] == '=') {
            slice_copy(out, cap, (struct slice){p + kl + 1, n - kl - 1});
            return out;
        }
        p = nl ? nl + 1 : NULL;
    }
    return NULL;
}

void route_job_done(void *arg, struct job *job, int wstatus, const char *rec, long long now_ms)
{
    struct app *a = arg;
    char result[32], error[512], image[IMAGE_MAX], reply[256], status[64];
    const char *res = rec_get(rec, "result", result, sizeof result);
    const char *errp = rec_get(rec, "error", error, sizeof error);
    const char *img = rec_get(rec, "image", image, sizeof image);
    const char *rep = rec_get(rec, "reply", reply, sizeof reply);
    enum job_result jr;
    int exit_status = -1;
    if (WIFEXITED(wstatus)) {
        exit_status = WEXITSTATUS(wstatus);
        jr = res && strcmp(res, "ok") == 0 ? JOB_OK : JOB_FAILED;
        if (!res) {
            jr = JOB_CRASHED;
            snprintf(status, sizeof status, "exited %d without a result", exit_status);
            errp = status;
        }
    } else {
        int sig = WIFSIGNALED(wstatus) ? WTERMSIG(wstatus) : 0;
        jr = job->killed ? JOB_KILLED : JOB_CRASHED;
        snprintf(status, sizeof status, "%s (signal %d)",
                 job->killed == 1   ? "killed at its deadline"
                 : job->killed == 2 ? "stopped by shutdown"
                                    : "died",
                 sig);
        errp = status;
        exit_status = 128 + sig;
    }
    metrics.jobs[jr]++;
    if (rep && strncmp(rep, "failed", 6) == 0) metrics.replies_failed++;
    struct audit au = {.event = "job_end",
                       .team_id = job->spec.team_id,
                       .user_id = job->spec.user_id,
                       .user_name = job->spec.user_name,
                       .channel_id = job->spec.channel_id,
                       .command = cmd_verb_str((enum cmd_verb)job->spec.verb),
                       .target = job->spec.target,
                       .image = img,
                       .result = jr == JOB_OK ? "ok" : job_result_str(jr),
                       .error = jr == JOB_OK ? NULL : errp,
                       .reply = rep ? rep : "none",
                       .job = job->id,
                       .duration_ms = now_ms - job->started_ms,
                       .exit_status = exit_status};
    audit_write(&au);

    /* A job that died without reporting leaves the user waiting: tell them
     * from a short-lived notice child (the parent never does network I/O). */
    if ((jr == JOB_KILLED || jr == JOB_CRASHED) && !rep && job->spec.response_url[0]) {
        char text[1280];
        snprintf(text, sizeof text,
                 "The %s job for `%s` %s. Check the current state with `/deploy status %s`.",
                 cmd_verb_str((enum cmd_verb)job->spec.verb), job->spec.target, errp,
                 job->spec.target);
        pid_t pid = fork();
        if (pid == 0) worker_notice(a, &job->spec, text);
        if (pid > 0) a->jobs.notices++;
    }
}

static void handle_metrics(struct server *s, struct conn *c)
{
    struct app *a = app_of(s);
    char buf[HTTP_MAX_RESPONSE - 256];
    long n = metrics_render(buf, sizeof buf, a->jobs.running, s->nopen, &s->stats);
    if (n < 0) {
        reply_text(s, c, S_INTERNAL_ERROR, "metrics too large\n");
        return;
    }
    server_reply(s, c, S_OK, "text/plain; version=0.0.4; charset=utf-8", NULL, buf, (size_t)n);
}

void route_request(struct server *s, struct conn *c, const struct http_request *r, const char *body,
                   size_t len)
{
    struct app *a = app_of(s);
    int get = r->method == M_GET || r->method == M_HEAD;
    struct slice p = r->path;
    if (slice_eq(p, "/deploy")) {
        if (r->method != M_POST) {
            server_reply(s, c, S_METHOD_NOT_ALLOWED, TEXT_TYPE, "Allow: POST\r\n", "use POST\n", 9);
            return;
        }
        handle_deploy(s, c, r, body, len);
        return;
    }
    int health = slice_eq(p, "/healthz"), ready = slice_eq(p, "/readyz"),
        met = slice_eq(p, "/metrics");
    if (!health && !ready && !met) {
        reply_text(s, c, S_NOT_FOUND, "not found\n");
        return;
    }
    if (!get) {
        server_reply(s, c, S_METHOD_NOT_ALLOWED, TEXT_TYPE, "Allow: GET, HEAD\r\n", "use GET\n", 8);
        return;
    }
    if (health)
        reply_text(s, c, S_OK, "ok\n");
    else if (ready)
        reply_text(s, c, a->ready && !a->stopping ? S_OK : S_UNAVAILABLE,
                   a->ready && !a->stopping ? "ready\n" : "not ready\n");
    else
        handle_metrics(s, c);
    if (r->method == M_HEAD && c->out_len > c->out_off) {
        /* HEAD: keep the head, drop the body (Content-Length stays). */
        char *end = memmem(c->out, c->out_len, "\r\n\r\n", 4);
        if (end) c->out_len = (size_t)(end + 4 - c->out);
    }
}
