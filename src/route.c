/* Requests to answers: health, readiness, metrics, and the Slack front door
 * as a pipeline of steps that each return a verdict (route.h). Nothing here
 * waits on the network: the slow work is forked. */
#include "route.h"

#include <stdarg.h>
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
#include "policy.h"
#include "proxies.h"
#include "respond.h"
#include "slack.h"
#include "socksup.h"
#include "str.h"
#include "worker.h"

#define JSON_TYPE "application/json; charset=utf-8"
#define TEXT_TYPE "text/plain; charset=utf-8"

/* ---- verdicts ---- */

static void verdict_init(struct verdict *v)
{
    memset(v, 0, sizeof *v);
}

/* Stop with an answer Slack shows the user (HTTP 200). */
__attribute__((format(printf, 4, 5))) static int refuse(struct verdict *v, enum outcome o,
                                                        const char *reason, const char *fmt, ...)
{
    va_list ap;
    v->status = S_OK;
    v->outcome = o;
    v->event = "refused";
    v->reason = reason;
    v->form = VERDICT_SLACK;
    va_start(ap, fmt);
    vsnprintf(v->message, sizeof v->message, fmt, ap);
    va_end(ap);
    return -1;
}

/* Stop with an HTTP error for a client that is not (or not shown to be) Slack. */
static int reject(struct verdict *v, enum status st, enum outcome o, const char *reason,
                  const char *text)
{
    v->status = st;
    v->outcome = o;
    v->event = "rejected";
    v->reason = reason;
    v->form = VERDICT_TEXT;
    snprintf(v->message, sizeof v->message, "%s\n", text);
    return -1;
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

/* The one place a verdict becomes metrics and an audit line. */
static void verdict_audit(const struct verdict *v, const struct cmd_input *in)
{
    metrics.requests[v->outcome]++;
    if (!v->event) return;
    if (v->unverified) {
        route_tick((long long)time(NULL));
        if (unverified.n++ >= REJECT_AUDIT_PER_SEC) {
            unverified.dropped++;
            return;
        }
    }
    char name[SLACK_NAME_MAX + 1];
    str_clean_name(name, sizeof name, in->user_name);
    struct audit a = {.event = v->event,
                      .team_id = in->team_id,
                      .user_id = in->user_id,
                      .user_name = in->user_name ? name : NULL,
                      .channel_id = in->channel_id,
                      .command = v->command,
                      .target = v->target[0] ? v->target : NULL,
                      .image = v->image[0] ? v->image : NULL,
                      .result = outcome_str(v->outcome),
                      .error = v->reason,
                      .job = v->job,
                      .duration_ms = -1,
                      .exit_status = -1,
                      .peer = in->peer,
                      .client = in->client,
                      .via = in->via,
                      .envelope_id = in->envelope_id};
    audit_write(&a);
}

/* The one place a verdict becomes an HTTP answer. */
static void answer_http(struct server *s, struct conn *c, const struct verdict *v)
{
    char buf[HTTP_MAX_RESPONSE - 256];
    if (v->form == VERDICT_EMPTY) {
        server_reply(s, c, v->status, NULL, NULL, NULL, 0);
    } else if (v->form == VERDICT_TEXT) {
        server_reply(s, c, v->status, TEXT_TYPE, NULL, v->message, strlen(v->message));
    } else {
        long n = slack_reply_json(buf, sizeof buf, v->in_channel, v->message);
        if (n < 0)
            server_reply(s, c, S_INTERNAL_ERROR, TEXT_TYPE, NULL, "reply too large\n", 16);
        else
            server_reply(s, c, v->status, JSON_TYPE, NULL, buf, (size_t)n);
    }
}

/* ---- the command pipeline (any front door) ---- */

static int step_fields(const struct cmd_input *in, struct verdict *v)
{
    if (in->user_id && *in->user_id && in->channel_id && in->team_id) return 0;
    return reject(v, S_BAD_REQUEST, OUT_MALFORMED, "missing user, channel or team",
                  "missing user_id, channel_id or team_id");
}

static int step_workspace(const struct app *a, const struct cmd_input *in, struct verdict *v)
{
    if (config_team_allowed(&a->cfg, in->team_id)) return 0;
    return refuse(v, OUT_FORBIDDEN, "workspace not allowed",
                  "This Slack workspace is not allowed to deploy here.");
}

/* The front door's replay record, only for requests of allowed workspaces
 * (others would fill the table for free). */
static int step_admit(const struct cmd_input *in, struct verdict *v)
{
    return in->admit ? in->admit(in->admit_arg, v) : 0;
}

static int step_parse(const struct app *a, const struct cmd_input *in, struct command *cmd,
                      struct verdict *v)
{
    char err[256];
    if (cmd_parse(in->text ? in->text : "", a->cfg.default_ns, cmd, err, sizeof err) < 0) {
        snprintf(v->reason_buf, sizeof v->reason_buf, "%s", err);
        return refuse(v, OUT_BAD_COMMAND, v->reason_buf, "%s\n\n%s", err, cmd_usage);
    }
    if (cmd->verb == CMD_HELP) {
        refuse(v, OUT_HELP, NULL, "%s", cmd_usage);
        v->event = NULL; /* counted, not audited */
        return -1;
    }
    v->command = cmd_verb_str(cmd->verb);
    snprintf(v->target, sizeof v->target, "%s/%s", cmd->ns, cmd->name);
    return 0;
}

static int step_authorize(const struct app *a, const struct cmd_input *in,
                          const struct command *cmd, struct verdict *v)
{
    if (!config_namespace_allowed(&a->cfg, cmd->ns))
        return refuse(v, OUT_FORBIDDEN, "namespace not allowed",
                      "Namespace `%s` is not one deploy-api may touch.", cmd->ns);
    struct policy_decision pd =
        policy_decide(a->policy, cmd->verb, in->user_id, in->channel_id, cmd->ns, cmd->name);
    if (a->policy && !pd.allow) {
        policy_reason(&pd, cmd->verb, in->user_id, in->channel_id, cmd->ns, cmd->name,
                      v->reason_buf, sizeof v->reason_buf);
        return refuse(v, OUT_FORBIDDEN, v->reason_buf, "You may not %s `%s`: %s.", v->command,
                      v->target, v->reason_buf);
    }
    if (!in->response_url)
        return refuse(v, OUT_FORBIDDEN, "no response_url",
                      "This request's response_url is not one deploy-api may post to.");
    if (!respond_url_allowed(in->response_url, a->cfg.response_url_hosts, v->reason_buf,
                             sizeof v->reason_buf))
        return refuse(v, OUT_FORBIDDEN, v->reason_buf,
                      "This request's response_url is not one deploy-api may post to.");
    return 0;
}

static void copy_field(char *dst, size_t cap, const char *v)
{
    if (!v || str_copy(dst, cap, v) < 0) dst[0] = 0;
}

/* The job's spec from the command; -1 when a field does not fit. */
static int make_spec(const struct cmd_input *in, const struct command *cmd, const struct verdict *v,
                     struct job_spec *sp)
{
    memset(sp, 0, sizeof *sp);
    sp->verb = (int)cmd->verb;
    sp->locks = cmd->verb == CMD_DEPLOY || cmd->verb == CMD_ROLLBACK || cmd->verb == CMD_RESTART;
    copy_field(sp->ns, sizeof sp->ns, cmd->ns);
    copy_field(sp->name, sizeof sp->name, cmd->name);
    copy_field(sp->target, sizeof sp->target, v->target);
    copy_field(sp->version, sizeof sp->version, cmd->version);
    copy_field(sp->container, sizeof sp->container, cmd->container);
    sp->revision = cmd->revision;
    copy_field(sp->team_id, sizeof sp->team_id, in->team_id);
    copy_field(sp->user_id, sizeof sp->user_id, in->user_id);
    str_clean_name(sp->user_name, sizeof sp->user_name, in->user_name);
    copy_field(sp->channel_id, sizeof sp->channel_id, in->channel_id);
    str_clean_name(sp->channel_name, sizeof sp->channel_name, in->channel_name);
    copy_field(sp->response_url, sizeof sp->response_url, in->response_url);
    copy_field(sp->peer, sizeof sp->peer, in->peer);
    copy_field(sp->client, sizeof sp->client, in->client);
    return sp->user_id[0] && sp->response_url[0] ? 0 : -1;
}

static void fmt_since(long long wall, char *out, size_t cap)
{
    time_t t = (time_t)wall;
    struct tm tm;
    gmtime_r(&t, &tm);
    snprintf(out, cap, "%02d:%02d:%02d UTC", tm.tm_hour, tm.tm_min, tm.tm_sec);
}

/* One job per target, a bounded number of jobs: lock, then fork. */
static int step_dispatch(struct app *a, const struct cmd_input *in, const struct command *cmd,
                         struct verdict *v)
{
    struct job_spec sp;
    if (make_spec(in, cmd, v, &sp) < 0)
        return reject(v, S_BAD_REQUEST, OUT_MALFORMED, "field too long", "a field is too long");
    struct job *holder = sp.locks ? jobs_holder(&a->jobs, sp.target) : NULL;
    if (holder) {
        char since[32];
        fmt_since(holder->started_wall, since, sizeof since);
        return refuse(v, OUT_LOCKED, "target busy",
                      "`%s` is already being %s by <@%s> since %s. Try again when it is done.",
                      sp.target,
                      holder->spec.verb == CMD_ROLLBACK  ? "rolled back"
                      : holder->spec.verb == CMD_RESTART ? "restarted"
                                                         : "deployed",
                      holder->spec.user_id, since);
    }
    if (a->stopping)
        return refuse(v, OUT_BUSY, "shutting down",
                      "deploy-api is restarting; try again in a minute.");
    const char *ferr = NULL;
    struct job *job =
        jobs_spawn(&a->jobs, &sp, a->loop.now_ms, a->cfg.job_timeout, worker_child, a, &ferr);
    if (!job)
        return refuse(v, OUT_BUSY, ferr,
                      "deploy-api is busy with other jobs; try again in a minute.");
    v->job = job->id;
    return 0;
}

/* The ack for an accepted command. */
static void ack(const struct app *a, const struct cmd_input *in, const struct command *cmd,
                struct verdict *v)
{
    (void)a;
    v->status = S_OK;
    v->outcome = OUT_ACCEPTED;
    v->event = "accepted";
    v->form = VERDICT_SLACK;
    /* A deploy is public once the job has read the deployment (worker.c):
     * a typo or an API refusal never reaches the channel. */
    v->in_channel = cmd->verb == CMD_ROLLBACK || cmd->verb == CMD_RESTART;
    if (cmd->verb == CMD_DEPLOY)
        snprintf(v->message, sizeof v->message, "checking `%s`…", v->target);
    else if (cmd->verb == CMD_ROLLBACK && cmd->revision)
        snprintf(v->message, sizeof v->message, "<@%s> is rolling back `%s` to revision %ld…",
                 in->user_id, v->target, cmd->revision);
    else if (cmd->verb == CMD_ROLLBACK)
        snprintf(v->message, sizeof v->message,
                 "<@%s> is rolling back `%s` to the previous revision…", in->user_id, v->target);
    else if (cmd->verb == CMD_RESTART)
        snprintf(v->message, sizeof v->message, "<@%s> is restarting `%s`…", in->user_id,
                 v->target);
    else
        snprintf(v->message, sizeof v->message, "Looking up the %s of `%s`…", v->command,
                 v->target);
}

void route_command(struct app *a, const struct cmd_input *in, struct verdict *v)
{
    struct command cmd;
    verdict_init(v);
    if (step_fields(in, v) == 0 && step_workspace(a, in, v) == 0 && step_admit(in, v) == 0 &&
        step_parse(a, in, &cmd, v) == 0 && step_authorize(a, in, &cmd, v) == 0 &&
        step_dispatch(a, in, &cmd, v) == 0)
        ack(a, in, &cmd, v);
    verdict_audit(v, in);
}

/* ---- POST /deploy: the HTTP front door ---- */

/* What verification learned, for the replay record made after the
 * workspace check (route.h: cmd_input.admit). */
struct http_admit {
    struct app *a;
    int signed_req; /* 0: the legacy verification token */
    unsigned char key[32];
    long long ts, now;
};

static int stop_unverified(struct verdict *v, enum slack_verdict sv)
{
    enum outcome o = sv == SLACK_STALE         ? OUT_STALE
                     : sv == SLACK_REPLAY      ? OUT_REPLAY
                     : sv == SLACK_BAD_SIG     ? OUT_BAD_SIGNATURE
                     : sv == SLACK_REPLAY_FULL ? OUT_BUSY
                                               : OUT_MALFORMED;
    reject(v, sv == SLACK_REPLAY_FULL ? S_UNAVAILABLE : S_UNAUTHORIZED, o, slack_verdict_str(sv),
           slack_verdict_str(sv));
    v->unverified = 1;
    return -1;
}

static int admit_signature(void *arg, struct verdict *v)
{
    struct http_admit *h = arg;
    if (!h->signed_req) return 0;
    enum slack_verdict sv = replay_check(h->a->replay, h->key, h->ts, h->now);
    return sv == SLACK_OK ? 0 : stop_unverified(v, sv);
}

/* Verify before anything reads the body. Without signature headers and with
 * SLACK_VERIFICATION_TOKEN set, the token is checked once decoded. */
static int step_verify(struct app *a, const struct http_request *r, const char *body, size_t len,
                       struct http_admit *h, struct verdict *v)
{
    const struct slice *ts = http_header(r, "x-slack-request-timestamp");
    const struct slice *sig = http_header(r, "x-slack-signature");
    h->a = a;
    h->now = (long long)time(NULL);
    if (!ts && !sig && a->cfg.verification_token) return 0;
    h->signed_req = 1;
    enum slack_verdict sv = slack_verify(a->cfg.signing_secret, a->cfg.signing_secret_len,
                                         ts ? ts->p : NULL, ts ? ts->n : 0, sig ? sig->p : NULL,
                                         sig ? sig->n : 0, body, len, h->now, h->key);
    if (sv != SLACK_OK) return stop_unverified(v, sv);
    h->ts = slack_ts_value(ts->p, ts->n);
    return 0;
}

static int step_decode(const struct app *a, const char *body, size_t len,
                       const struct http_admit *h, struct form *f, struct verdict *v)
{
    const char *why = NULL;
    if (form_parse(f, body, len, &why) < 0) {
        reject(v, S_BAD_REQUEST, OUT_MALFORMED, why, "malformed form");
        v->unverified = !h->signed_req;
        return -1;
    }
    if (!h->signed_req && !slack_token_ok(a->cfg.verification_token, form_get(f, "token"))) {
        reject(v, S_UNAUTHORIZED, OUT_BAD_SIGNATURE, "bad verification token",
               "bad verification token");
        v->unverified = 1;
        return -1;
    }
    return 0;
}

/* Slack's certificate check, sent unsigned: a form of exactly ssl_check=1
 * (and its token). Anything more, or another value, is an ordinary request. */
static int is_ssl_check(const char *body, size_t len, struct form *f)
{
    const char *why;
    if (form_parse(f, body, len, &why) < 0) return 0;
    const char *v = form_get(f, "ssl_check");
    if (!v || strcmp(v, "1") != 0) return 0;
    for (size_t i = 0; i < f->n; i++)
        if (strcmp(f->f[i].key, "ssl_check") != 0 && strcmp(f->f[i].key, "token") != 0) return 0;
    return 1;
}

/* The client address behind TRUSTED_PROXIES, in out; NULL when the peer is
 * not trusted or X-Forwarded-For is absent, repeated or malformed. */
static const char *client_of(const struct app *a, const struct conn *c,
                             const struct http_request *r, char *out, size_t cap)
{
    const struct slice *xff = NULL;
    if (!a->cfg.trusted_proxies[0]) return NULL;
    for (size_t i = 0; i < r->nh; i++) {
        if (!slice_eq_nocase(r->h[i].name, "x-forwarded-for")) continue;
        if (xff) return NULL; /* two headers: which one is the proxy's? */
        xff = &r->h[i].value;
    }
    if (!xff) return NULL;
    return proxies_client(a->cfg.trusted_proxies, c->peer, xff->p, xff->n, out, cap) ? out : NULL;
}

static void handle_deploy(struct server *s, struct conn *c, const struct http_request *r,
                          const char *body, size_t len)
{
    struct app *a = s->app;
    static struct form f; /* one request at a time; too big for the stack */
    static struct verdict v;
    struct http_admit h = {0};
    char client[64];
    struct cmd_input in = {.peer = c->peer, .client = client_of(a, c, r, client, sizeof client)};
    verdict_init(&v);
    if (is_ssl_check(body, len, &f)) {
        v.status = S_OK;
        v.outcome = OUT_SSL_CHECK;
        v.form = VERDICT_EMPTY;
        verdict_audit(&v, &in);
    } else if (step_verify(a, r, body, len, &h, &v) == 0 &&
               step_decode(a, body, len, &h, &f, &v) == 0) {
        in.team_id = form_get(&f, "team_id");
        in.user_id = form_get(&f, "user_id");
        in.user_name = form_get(&f, "user_name");
        in.channel_id = form_get(&f, "channel_id");
        in.channel_name = form_get(&f, "channel_name");
        in.text = form_get(&f, "text");
        in.response_url = form_get(&f, "response_url");
        in.admit = admit_signature;
        in.admit_arg = &h;
        route_command(a, &in, &v);
    } else {
        verdict_audit(&v, &in);
    }
    answer_http(s, c, &v);
}

/* ---- Socket Mode ---- */

/* An envelope id seen before: Slack retries when our ack did not reach it
 * in time, and the command ran already. */
struct envelope_admit {
    struct app *a;
    const char *envelope_id;
};

static int admit_envelope(void *arg, struct verdict *v)
{
    struct envelope_admit *h = arg;
    if (!socksup_seen(&h->a->sock, h->envelope_id)) return 0;
    h->a->sock.retries_acked++;
    return refuse(v, OUT_REPLAY, "envelope already handled",
                  "This command was already received; its result follows here.");
}

void route_envelope(void *arg, const struct sockmsg_envelope *e, struct sockmsg_ack *ack)
{
    struct app *a = arg;
    static struct verdict v;
    struct envelope_admit h = {a, e->envelope_id};
    struct cmd_input in = {.team_id = e->team_id,
                           .user_id = e->user_id,
                           .user_name = e->user_name,
                           .channel_id = e->channel_id,
                           .channel_name = e->channel_name,
                           .text = e->text,
                           .response_url = e->response_url,
                           .via = "socket",
                           .envelope_id = e->envelope_id,
                           .admit = admit_envelope,
                           .admit_arg = &h};
    if (e->too_long) {
        verdict_init(&v);
        refuse(&v, OUT_MALFORMED, "field too long",
               "deploy-api could not read this command: a field is too long.");
        verdict_audit(&v, &in);
    } else {
        route_command(a, &in, &v);
    }
    long n = 0;
    if (v.form != VERDICT_EMPTY) /* a text answer (not meant for Slack) is shown privately */
        n = slack_reply_json(ack->payload, sizeof ack->payload,
                             v.form == VERDICT_SLACK && v.in_channel, v.message);
    if (n < 0)
        n = slack_reply_json(ack->payload, sizeof ack->payload, 0,
                             "deploy-api: the answer did not fit; see the audit log.");
    ack->len = n < 0 ? 0 : (unsigned)n;
}

/* ---- job results ---- */

void route_job_result(void *arg, struct job *job, long long now_ms)
{
    (void)arg;
    /* The command is done: from here the deadline allows the post's own
     * retries, so a slow Slack is no reason to kill the job. */
    long long post_deadline = now_ms + (long long)RESPOND_BUDGET * 1000;
    if (job->deadline_ms < post_deadline) job->deadline_ms = post_deadline;
    const struct job_record *r = &job->result;
    struct audit au = {.event = "job_result",
                       .team_id = job->spec.team_id,
                       .user_id = job->spec.user_id,
                       .command = cmd_verb_str((enum cmd_verb)job->spec.verb),
                       .target = job->spec.target,
                       .image = r->image[0] ? r->image : NULL,
                       .result = r->ok ? "ok" : "failed",
                       .error = r->ok ? NULL : r->error,
                       .job = job->id,
                       .duration_ms = now_ms - job->started_ms,
                       .exit_status = -1,
                       .peer = job->spec.peer[0] ? job->spec.peer : NULL,
                       .client = job->spec.client[0] ? job->spec.client : NULL};
    audit_write(&au);
}

/* The job's result from its records and wait status; why (in buf) when not ok. */
static enum job_result job_outcome(const struct job *job, int wstatus, const char **why, char *buf,
                                   size_t cap)
{
    int sig = WIFSIGNALED(wstatus) ? WTERMSIG(wstatus) : 0;
    const char *how = job->killed == 1   ? "killed at its deadline"
                      : job->killed == 2 ? "stopped by shutdown"
                                         : "died";
    if (job->have_result) {
        *why = job->result.ok ? NULL : job->result.error;
        if (!job->have_reply) /* it ended while posting */
            snprintf(buf, cap, "failed: %s while posting (signal %d)", how, sig);
        return job->result.ok ? JOB_OK : JOB_FAILED;
    }
    *why = buf;
    if (WIFEXITED(wstatus)) {
        snprintf(buf, cap, "exited %d without a result", WEXITSTATUS(wstatus));
        return JOB_CRASHED;
    }
    snprintf(buf, cap, "%s (signal %d)", how, sig);
    return job->killed ? JOB_KILLED : JOB_CRASHED;
}

/* A job that died without reporting leaves the user waiting: tell them from
 * a short-lived notice child (the parent never does network I/O). */
static void notice_lost_job(struct app *a, struct job *job, const char *why)
{
    char text[1280];
    snprintf(text, sizeof text,
             "The %s job for `%s` %s. Check the current state with `/deploy status %s`.",
             cmd_verb_str((enum cmd_verb)job->spec.verb), job->spec.target, why, job->spec.target);
    pid_t pid = fork();
    if (pid == 0) worker_notice(a, &job->spec, text);
    if (pid > 0) a->jobs.notices++;
}

void route_job_done(void *arg, struct job *job, int wstatus, long long now_ms)
{
    struct app *a = arg;
    char buf[160] = "";
    const char *why;
    enum job_result jr = job_outcome(job, wstatus, &why, buf, sizeof buf);
    const char *reply = job->have_reply ? job->reply : job->have_result ? buf : "none";
    metrics.jobs[jr]++;
    metrics_job_end(job->spec.verb, jr, now_ms - job->started_ms,
                    job->have_result ? (enum rollout_result)job->result.rollout : ROLLOUT_R_NONE);
    if (strncmp(reply, "failed", 6) == 0) metrics.replies_failed++;
    struct audit au = {.event = "job_end",
                       .team_id = job->spec.team_id,
                       .user_id = job->spec.user_id,
                       .user_name = job->spec.user_name,
                       .channel_id = job->spec.channel_id,
                       .command = cmd_verb_str((enum cmd_verb)job->spec.verb),
                       .target = job->spec.target,
                       .image = job->have_result && job->result.image[0] ? job->result.image : NULL,
                       .result = jr == JOB_OK ? "ok" : job_result_str(jr),
                       .error = jr == JOB_OK ? NULL : why,
                       .reply = reply,
                       .job = job->id,
                       .duration_ms = now_ms - job->started_ms,
                       .exit_status =
                           WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : 128 + WTERMSIG(wstatus),
                       .peer = job->spec.peer[0] ? job->spec.peer : NULL,
                       .client = job->spec.client[0] ? job->spec.client : NULL};
    audit_write(&au);
    if ((jr == JOB_KILLED || jr == JOB_CRASHED) && job->spec.response_url[0])
        notice_lost_job(a, job, why);
}

/* ---- the other endpoints ---- */

static void reply_text(struct server *s, struct conn *c, enum status st, const char *text)
{
    server_reply(s, c, st, TEXT_TYPE, NULL, text, strlen(text));
}

static void handle_metrics(struct server *s, struct conn *c)
{
    struct app *a = s->app;
    char buf[HTTP_MAX_RESPONSE - 256];
    long n = metrics_render(buf, sizeof buf, a->jobs.running, s->nopen, &s->stats);
    if (n >= 0 && a->cfg.app_token) { /* Socket Mode */
        long k = socksup_metrics(&a->sock, buf + n, sizeof buf - (size_t)n);
        n = k < 0 ? -1 : n + k;
    }
    if (n < 0) {
        reply_text(s, c, S_INTERNAL_ERROR, "metrics too large\n");
        return;
    }
    server_reply(s, c, S_OK, "text/plain; version=0.0.4; charset=utf-8", NULL, buf, (size_t)n);
}

/* HEAD is answered like GET; the server sends the head only (server.h). */
void route_request(struct server *s, struct conn *c, const struct http_request *r, const char *body,
                   size_t len)
{
    struct app *a = s->app;
    int get = r->method == M_GET || r->method == M_HEAD;
    struct slice p = r->path;
    if (slice_eq(p, "/deploy") && a->cfg.signing_secret_len) { /* unset: Socket Mode only */
        if (r->method != M_POST)
            server_reply(s, c, S_METHOD_NOT_ALLOWED, TEXT_TYPE, "Allow: POST\r\n", "use POST\n", 9);
        else
            handle_deploy(s, c, r, body, len);
        return;
    }
    int health = slice_eq(p, "/healthz"), ready = slice_eq(p, "/readyz"),
        met = slice_eq(p, "/metrics");
    /* Socket Mode: ready only while a connection has received hello. */
    int up = a->ready && !a->stopping && (!a->cfg.app_token || a->sock.ready > 0);
    if (!health && !ready && !met)
        reply_text(s, c, S_NOT_FOUND, "not found\n");
    else if (!get)
        server_reply(s, c, S_METHOD_NOT_ALLOWED, TEXT_TYPE, "Allow: GET, HEAD\r\n", "use GET\n", 8);
    else if (health)
        reply_text(s, c, S_OK, "ok\n");
    else if (ready)
        reply_text(s, c, up ? S_OK : S_UNAVAILABLE, up ? "ready\n" : "not ready\n");
    else
        handle_metrics(s, c);
}
