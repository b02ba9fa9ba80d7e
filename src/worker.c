/* The forked side of a command: Kubernetes, then Slack. Blocking I/O with
 * deadlines is fine here; the parent is not waiting. */
#include "worker.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "httpc.h"
#include "progress.h"
#include "krestart.h"
#include "kubesrc.h"
#include "lease.h"
#include "respond.h"
#include "slack.h"
#include "str.h"

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
    /* Never a bearer token over plain http:// (kubectl proxy adds its own
     * credentials; anything else on the path could read it). */
    k->token_file = k->api.https ? a->cfg.kube_token_file : NULL;
    k->ca = &a->kube_ca;
    k->proxy = a->cfg.https_proxy[0] ? a->cfg.https_proxy : NULL;
    k->no_proxy = a->cfg.no_proxy[0] ? a->cfg.no_proxy : NULL;
    k->timeout_s = IO_TIMEOUT;
    k->rollout_timeout_s = a->cfg.rollout_timeout; /* 0: derived from the deployment */
    k->image_base = a->cfg.image_base;
    k->auto_rollback = a->cfg.auto_rollback;
    k->gitops_refuse = strcmp(a->cfg.gitops_managed, "refuse") == 0;
    k->output_json = a->output_json;
    return 0;
}

int worker_run_command(const struct app *a, const struct job_spec *sp, const struct kube_ui *ui,
                       struct kube_result *res)
{
    struct kube_cfg k;
    memset(res, 0, sizeof *res);
    if (worker_kube_cfg(a, &k, res->error, sizeof res->error) < 0) {
        snprintf(res->text, sizeof res->text, "KUBE_API_URL is not usable: %s", res->error);
        return -1;
    }
    if (kubesrc_job_creds(a, &k, res->error, sizeof res->error) < 0) {
        snprintf(res->text, sizeof res->text, "%s", res->error);
        return -1;
    }
    k.ui = ui;
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
        return kube_history(&k, sp->ns, sp->name, (int)sp->revision, res);
    case CMD_ROLLBACK:
        return kube_rollback(&k, sp->ns, sp->name, sp->revision, &who, res);
    case CMD_RESTART:
        return kube_restart(&k, sp->ns, sp->name, &who, res);
    case CMD_HELP:
        break;
    }
    snprintf(res->text, sizeof res->text, "nothing to do");
    return -1;
}

void worker_slack_opts(const struct app *a, struct httpc_opts *o)
{
    memset(o, 0, sizeof *o);
    o->anchors = &a->slack_ca;
    o->proxy = a->cfg.https_proxy[0] ? a->cfg.https_proxy : NULL;
    o->no_proxy = a->cfg.no_proxy[0] ? a->cfg.no_proxy : NULL;
    o->timeout_s = IO_TIMEOUT;
}

/* The lock across replicas (lease.h) around the command: a Lease held
 * while it runs when the command locks and LEASE_NAMESPACE is set. */
static int run_leased(const struct app *a, const struct job_spec *sp, const struct kube_ui *ui,
                      struct kube_result *res)
{
    static struct lease_hold lh;
    struct kube_cfg k;
    if (worker_kube_cfg(a, &k, res->error, sizeof res->error) == 0 &&
        kubesrc_job_creds(a, &k, res->error, sizeof res->error) == 0 &&
        lease_job_begin(&a->cfg, &k, sp, &lh, res) < 0)
        return -1;
    int rc = worker_run_command(a, sp, ui, res);
    lease_job_end(&lh, res);
    return rc;
}

/* Post text (at most attempts tries; respond.c counts them all). */
static int post_n(const struct app *a, const struct job_spec *sp, int in_channel, const char *text,
                  int attempts, char *err, size_t errlen)
{
    static char json[8192];
    long n = slack_reply_json(json, sizeof json, in_channel, text);
    if (n < 0) {
        snprintf(err, errlen, "message too large");
        return -1;
    }
    struct httpc_opts o;
    worker_slack_opts(a, &o);
    return respond_post(&o, sp->response_url, a->cfg.response_url_hosts, json, (size_t)n, attempts,
                        err, errlen);
}

static int post(const struct app *a, const struct job_spec *sp, int in_channel, const char *text,
                char *err, size_t errlen)
{
    return post_n(a, sp, in_channel, text, RESPONSE_URL_POSTS, err, errlen);
}

/* issue 9: the one progress post of a rollout still going (progress.h). */
struct progress_ctx {
    const struct app *a;
    const struct job_spec *sp;
};

static int progress_post(void *arg, const char *text)
{
    struct progress_ctx *c = arg;
    static char escaped[4096];
    char err[256];
    slack_escape_text(text, escaped, sizeof escaped);
    int in_channel = c->sp->verb == CMD_DEPLOY || c->sp->verb == CMD_ROLLBACK;
    return post_n(c->a, c->sp, in_channel, escaped, 1, err, sizeof err);
}

/* The deploy is real (the API took the change): tell the channel,
 * "<@user> is deploying svc 1.3 → 1.4", in one attempt (one of the
 * response_url's five uses; the result keeps the rest). */
static void announce(void *arg, const char *what)
{
    struct progress_ctx *c = arg;
    static char escaped[2048], text[2200];
    char err[256];
    slack_escape_text(what, escaped, sizeof escaped);
    snprintf(text, sizeof text, "<@%s> %s", c->sp->user_id, escaped);
    post_n(c->a, c->sp, 1, text, 1, err, sizeof err);
}

/* The emoji people see first: success, failure, replaced, pending. */
static const char *outcome_emoji(int rc, const struct kube_result *r)
{
    if (rc == 0) return ":white_check_mark:";
    if (r->outcome == KUBE_REPLACED) return ":leftwards_arrow_with_hook:";
    if (r->outcome == KUBE_PENDING) return ":hourglass:";
    return ":x:";
}

/* A child starts with only what it needs: the parent's connection buffers
 * (attacker-filled, up to MAX_CONNS x 40 KiB), the replay table, the policy
 * and the Slack secrets (signing secret, legacy token, app token, and their
 * copies in the environment) are released right after fork. */
static void child_shed(struct app *a)
{
    loop_child_reset(&a->loop);
    if (a->srv.slab) munmap(a->srv.slab, a->srv.slab_size);
    a->srv.slab = NULL;
    free(a->srv.conns);
    a->srv.conns = NULL;
    a->srv.nconns = 0;
    if (a->replay) munmap(a->replay, sizeof *a->replay);
    a->replay = NULL;
    free(a->policy);
    a->policy = NULL;
    config_forget_secrets(&a->cfg, 0);
}

void worker_child(void *arg, const struct job *job, int result_fd)
{
    struct app *a = arg;
    const struct job_spec *sp = &job->spec;
    child_shed(a);
    result_fd = jobs_isolate_fd(result_fd);

    static struct kube_result res;
    struct progress_ctx pc = {a, sp};
    struct progress_slack ps = {progress_post, &pc, 0};
    struct kube_ui ui = {0, progress_slack, &ps, a->cfg.progress_after, announce, &pc};
    int rc = run_leased(a, sp, &ui, &res);

    /* The result reaches the parent (and its audit line) before any post:
     * a slow Slack can no longer turn a done deploy into "killed". */
    static struct job_record rec;
    memset(&rec, 0, sizeof rec);
    rec.kind = JOB_REC_RESULT;
    rec.ok = rc == 0;
    str_copy(rec.image, sizeof rec.image, res.image);
    if (rc != 0) str_copy(rec.error, sizeof rec.error, res.error[0] ? res.error : "failed");
    rec.rollout = res.rollout;
    jobs_write_record(result_fd, &rec);

    /* Results of changes the job announced (deploy), rollbacks and
     * restarts go to the whole channel; a deploy refused before it was real
     * (a typo, the API said no) and lookups only to the person who asked. */
    int in_channel = res.announced || sp->verb == CMD_ROLLBACK || sp->verb == CMD_RESTART;
    /* Text from the cluster is escaped for Slack (&, <, >); the mention is ours. */
    static char escaped[6144], text[6400];
    if (res.mrkdwn) /* already escaped, with Slack's own markup (history's dates) */
        snprintf(escaped, sizeof escaped, "%s", res.text);
    else
        slack_escape_text(res.text, escaped, sizeof escaped);
    if (in_channel)
        snprintf(text, sizeof text, "%s <@%s>: %s", outcome_emoji(rc, &res), sp->user_id, escaped);
    else if (sp->verb == CMD_DEPLOY)
        snprintf(text, sizeof text, "%s %s", outcome_emoji(rc, &res), escaped);
    else
        snprintf(text, sizeof text, "%s", escaped);
    char err[480] = "";
    memset(&rec, 0, sizeof rec);
    rec.kind = JOB_REC_REPLY;
    if (post(a, sp, in_channel, text, err, sizeof err) == 0)
        snprintf(rec.reply, sizeof rec.reply, "delivered");
    else
        snprintf(rec.reply, sizeof rec.reply, "failed: %s", err);
    jobs_write_record(result_fd, &rec);
    _exit(rc == 0 ? 0 : 1);
}

void worker_notice(struct app *a, const struct job_spec *sp, const char *text)
{
    child_shed(a);
    jobs_isolate_fd(-1);
    /* Bounded even if every post times out. */
    alarm((unsigned)(IO_TIMEOUT * 2 * RESPONSE_URL_POSTS + 30));
    char err[256];
    post(a, sp, 1, text, err, sizeof err);
    _exit(0);
}
