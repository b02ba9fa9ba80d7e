/* The forked side of a command: Kubernetes, then Slack. Blocking I/O with
 * deadlines is fine here; the parent is not waiting. */
#include "worker.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "httpc.h"
#include "respond.h"
#include "slack.h"

int worker_kube_cfg(const struct app *a, struct kube_cfg *k, char *err, size_t errlen)
{
    memset(k, 0, sizeof *k);
    if (url_parse(a->cfg.kube_api_url, &k->api, err, errlen) < 0) return -1;
    /* BearSSL checks DNS names only: an API server reached by IP is
     * verified against KUBE_TLS_SERVER_NAME (kubernetes.default.svc). */
    const char *name = a->cfg.kube_server_name;
    if (!name[0]) {
        int is_ip = strchr(k->api.host, ':') != NULL ||
                    strspn(k->api.host, "0123456789.") == strlen(k->api.host);
        name = is_ip ? "kubernetes.default.svc" : k->api.host;
    }
    str_copy(k->server_name, sizeof k->server_name, name);
    k->token_file = a->cfg.kube_token_file;
    k->ca = &a->kube_ca;
    k->proxy = a->cfg.https_proxy[0] ? a->cfg.https_proxy : NULL;
    k->no_proxy = a->cfg.no_proxy[0] ? a->cfg.no_proxy : NULL;
    k->timeout_s = IO_TIMEOUT;
    k->rollout_timeout_s = a->cfg.rollout_timeout;
    k->image_base = a->cfg.image_base;
    k->auto_rollback = a->cfg.auto_rollback;
    k->gitops_refuse = a->cfg.gitops_refuse;
    return 0;
}

int worker_run_command(const struct app *a, const struct job_spec *sp, struct kube_result *res,
                       void (*announce)(void *ctx, const char *text), void *ctx)
{
    struct kube_cfg k;
    memset(res, 0, sizeof *res);
    int bad = worker_kube_cfg(a, &k, res->error, sizeof res->error);
    k.announce = announce;
    k.announce_ctx = ctx;
    if (bad < 0) {
        snprintf(res->text, sizeof res->text, "KUBE_API_URL is not usable: %s", res->error);
        return -1;
    }
    struct kube_actor who = {
        sp->user_id[0] ? sp->user_id : NULL, sp->user_name[0] ? sp->user_name : NULL,
        sp->channel_id[0] ? sp->channel_id : NULL, sp->channel_name[0] ? sp->channel_name : NULL,
        sp->team_id[0] ? sp->team_id : NULL};
    switch ((enum cmd_verb)sp->verb) {
    case CMD_DEPLOY:
        return kube_deploy(&k, sp->ns, sp->name, sp->version, sp->container, &who, res);
    case CMD_STATUS:
        return kube_status(&k, sp->ns, sp->name, res);
    case CMD_HISTORY:
        return kube_history(&k, sp->ns, sp->name, res);
    case CMD_ROLLBACK:
        return kube_rollback(&k, sp->ns, sp->name, sp->revision, &who, res);
    case CMD_HELP:
        break;
    }
    snprintf(res->text, sizeof res->text, "nothing to do");
    return -1;
}

/* Record values are one line each: no newlines inside. */
static void rec_put(char *rec, size_t cap, const char *key, const char *val)
{
    size_t len = strlen(rec);
    if (!val || len + strlen(key) + 3 >= cap) return;
    int n = snprintf(rec + len, cap - len, "%s=", key);
    if (n < 0 || (size_t)n >= cap - len) return;
    len += (size_t)n;
    for (const char *p = val; *p && len + 2 < cap; p++)
        rec[len++] = (*p == '\n' || *p == '\r') ? ' ' : *p;
    rec[len++] = '\n';
    rec[len] = 0;
}

static const struct app *job_app; /* the child's app, for announce */
/* Posts this job has spent of the response_url's RESPONSE_URL_POSTS uses
 * before its final post (the announce takes one attempt). */
static int posts_spent;

static int post(const struct app *a, const struct job_spec *sp, int in_channel, const char *text,
                char *err, size_t errlen)
{
    static char json[8192];
    long n = slack_reply_json(json, sizeof json, in_channel, text);
    if (n < 0) {
        snprintf(err, errlen, "message too large");
        return -1;
    }
    struct httpc_opts o = {&a->slack_ca, NULL, a->cfg.https_proxy[0] ? a->cfg.https_proxy : NULL,
                           a->cfg.no_proxy[0] ? a->cfg.no_proxy : NULL, IO_TIMEOUT};
    return respond_post(&o, sp->response_url, a->cfg.response_url_hosts, json, (size_t)n,
                        RESPONSE_URL_POSTS - posts_spent, err, errlen);
}

/* The deploy is real (the job read the deployment): tell the channel,
 * "<@user> is deploying svc 1.3 → 1.4" (one of the response_url's uses). */
static void announce(void *ctx, const char *what)
{
    const struct job *job = ctx;
    const struct app *a = job_app;
    static char escaped[2048], text[2200];
    char err[256];
    slack_escape_text(what, escaped, sizeof escaped);
    snprintf(text, sizeof text, "<@%s> %s", job->spec.user_id, escaped);
    /* One attempt: the final post keeps the rest of the five uses. */
    posts_spent = RESPONSE_URL_POSTS - 1;
    post(a, &job->spec, 1, text, err, sizeof err);
    posts_spent = 1;
}

/* The emoji people see first: success, failure, replaced, pending. */
static const char *outcome_emoji(int rc, const struct kube_result *r)
{
    if (rc == 0) return ":white_check_mark:";
    if (r->outcome == KUBE_REPLACED) return ":leftwards_arrow_with_hook:";
    if (r->outcome == KUBE_PENDING) return ":hourglass:";
    return ":x:";
}

void worker_child(void *arg, const struct job *job, int result_fd)
{
    const struct app *a = arg;
    const struct job_spec *sp = &job->spec;
    loop_child_reset((struct loop *)&a->loop);
    result_fd = jobs_isolate_fd(result_fd);

    static struct kube_result res;
    job_app = a;
    int rc = worker_run_command(a, sp, &res, announce, (void *)job);

    /* Results of changes the job announced (deploy) and rollbacks go to
     * the whole channel; a deploy refused before it was real (a typo, the
     * API said no) and lookups only to the person who asked. */
    int in_channel = res.announced || sp->verb == CMD_ROLLBACK;
    /* Text from the cluster is escaped for Slack (&, <, >); the mention is ours. */
    static char escaped[6144], text[6400];
    slack_escape_text(res.text, escaped, sizeof escaped);
    if (in_channel)
        snprintf(text, sizeof text, "%s <@%s>: %s", outcome_emoji(rc, &res), sp->user_id, escaped);
    else if (sp->verb == CMD_DEPLOY)
        snprintf(text, sizeof text, "%s %s", outcome_emoji(rc, &res), escaped);
    else
        snprintf(text, sizeof text, "%s", escaped);
    char err[512] = "", reply[600];
    if (post(a, sp, in_channel, text, err, sizeof err) == 0)
        snprintf(reply, sizeof reply, "delivered");
    else
        snprintf(reply, sizeof reply, "failed: %s", err);

    char rec[JOB_RESULT_MAX] = "";
    rec_put(rec, sizeof rec, "result", rc == 0 ? "ok" : "failed");
    rec_put(rec, sizeof rec, "image", res.image[0] ? res.image : NULL);
    rec_put(rec, sizeof rec, "error", rc == 0 ? NULL : (res.error[0] ? res.error : "failed"));
    rec_put(rec, sizeof rec, "reply", reply);
    (void)!write(result_fd, rec, strlen(rec));
    _exit(rc == 0 ? 0 : 1);
}

void worker_notice(const struct app *a, const struct job_spec *sp, const char *text)
{
    loop_child_reset((struct loop *)&a->loop);
    jobs_isolate_fd(-1);
    /* Bounded even if every post times out. */
    alarm((unsigned)(IO_TIMEOUT * 2 * RESPONSE_URL_POSTS + 30));
    char err[256];
    post(a, sp, 1, text, err, sizeof err);
    _exit(0);
}
