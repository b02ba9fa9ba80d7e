/* deploy-api: startup, wiring, and the command line. */
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/resource.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "app.h"
#include "audit.h"
#include "check.h"
#include "cli.h"
#include "json.h"
#include "kubeconfig.h"
#include "kubesrc.h"
#include "policy.h"
#include "progress.h"
#include "slack.h"
#include "socket.h"
#include "worker.h"

#ifndef DEPLOY_API_VERSION
#define DEPLOY_API_VERSION "dev"
#endif

static struct app app;

static int die(const char *what)
{
    fprintf(stderr, "deploy-api: %s\n", what);
    return 1;
}

/* ---- Socket Mode ---- */

/* The socket child: the app token, the Slack trust anchors and the proxy;
 * not the signing secret, the replay table or the policy. */
static void socket_child(void *arg, int chan)
{
    struct app *a = arg;
    loop_child_reset(&a->loop);
    chan = jobs_isolate_fd(chan);
    config_forget_secrets(&a->cfg, 1);
    munmap(a->replay, sizeof *a->replay);
    struct socket_cfg sc = {.app_token = a->cfg.app_token,
                            .api_url = a->cfg.slack_api_url,
                            .connections = a->cfg.socket_connections,
                            .http = {.anchors = &a->slack_ca,
                                     .proxy = a->cfg.https_proxy[0] ? a->cfg.https_proxy : NULL,
                                     .no_proxy = a->cfg.no_proxy[0] ? a->cfg.no_proxy : NULL,
                                     .timeout_s = IO_TIMEOUT}};
    _exit(chan < 0 ? 70 : socket_run(&sc, chan));
}

static int socket_mode_start(struct app *a, char *err, size_t errlen)
{
    if (!a->cfg.app_token) return 0;
    return socksup_start(&a->sock, &a->loop, &a->jobs, socket_child, route_envelope, a, err,
                         errlen);
}

static void on_tick(void *arg, long long now)
{
    struct app *a = arg;
    server_tick(&a->srv, now);
    if (!a->stopping) socksup_tick(&a->sock, now);
    /* SIGCHLD does the reaping; this catches one the full self-pipe dropped. */
    jobs_reap(&a->jobs, now, route_job_done, a);
    jobs_enforce_deadlines(&a->jobs, now);
    route_tick((long long)time(NULL));
    if (a->stopping && now >= a->stop_deadline_ms && a->jobs.running) {
        log_line("warn", "shutdown grace over: stopping running jobs", NULL);
        jobs_signal_all(&a->jobs, SIGKILL);
        a->stop_deadline_ms = now + 3600 * 1000LL;
    }
}

static void on_signal(void *arg, int signo)
{
    struct app *a = arg;
    if (signo == SIGCHLD) {
        jobs_reap(&a->jobs, loop_clock_ms(), route_job_done, a);
        return;
    }
    if (a->stopping) return;
    a->stopping = 1;
    a->stop_deadline_ms = loop_clock_ms() + (long long)a->cfg.shutdown_grace * 1000;
    a->exit_deadline_ms = a->stop_deadline_ms + SHUTDOWN_NOTICE_GRACE * 1000LL;
    char jobs[16];
    snprintf(jobs, sizeof jobs, "%d", a->jobs.running);
    log_line("info", signo == SIGTERM ? "SIGTERM: draining" : "SIGINT: draining", "jobs_running",
             jobs, NULL);
    server_drain(&a->srv);
    socksup_stop(&a->sock);
}

/* stdout is writable again: hand it the queued log lines. */
static void on_stdout(void *arg, int fd, short revents)
{
    struct app *a = arg;
    if (revents & (POLLERR | POLLHUP | POLLNVAL)) {
        loop_del(&a->loop, fd); /* the reader is gone; writes will fail and be counted */
        return;
    }
    audit_flush();
}

/* DEPLOY_POLICY_FILE, when set: a file without rules would deny everything. */
static int load_policy(struct app *a, char *err, size_t errlen)
{
    char perr[300];
    if (!a->cfg.policy_file[0]) return 0;
    a->policy = malloc(sizeof *a->policy);
    if (!a->policy) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    if (policy_load_file(a->policy, a->cfg.policy_file, perr, sizeof perr) < 0) {
        snprintf(err, errlen, "DEPLOY_POLICY_FILE: %s", perr);
        return -1;
    }
    if (a->policy->nrules == 0) {
        snprintf(err, errlen,
                 "DEPLOY_POLICY_FILE: the file has no rules, so every command would be denied "
                 "(unset it to allow every member of the allowed workspaces)");
        return -1;
    }
    return 0;
}

/* Raise RLIMIT_NOFILE towards need; the soft limit in effect. */
static long fd_limit(int need)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur >= (rlim_t)need) return need;
    rl.rlim_cur = rl.rlim_max < (rlim_t)need ? rl.rlim_max : (rlim_t)need;
    setrlimit(RLIMIT_NOFILE, &rl);
    return getrlimit(RLIMIT_NOFILE, &rl) == 0 ? (long)rl.rlim_cur : need;
}

/* The first log line (the effective configuration, secrets redacted), then
 * a warning for each setting that works but weakens something. */
static void log_startup(const struct app *a, long nofile, int need)
{
    char buf[4096];
    struct jw w;
    jw_init(&w, buf, sizeof buf);
    jw_obj_begin(&w);
    config_describe(&a->cfg, &w);
    jw_kint(&w, "kube_trust_anchors", (long long)a->kube_ca.n);
    jw_kint(&w, "slack_trust_anchors", (long long)a->slack_ca.n);
    jw_kint(&w, "policy_rules", a->policy ? (long long)a->policy->nrules : -1);
    jw_obj_end(&w);
    long cn = jw_finish(&w);
    log_json("info", "deploy-api starting", "config", cn < 0 ? NULL : buf, "version",
             DEPLOY_API_VERSION, "mode",
             a->cfg.app_token ? (a->cfg.signing_secret_len ? "socket+http" : "socket") : "http",
             "listen", a->cfg.listen_addr, NULL);
    if (strncmp(a->cfg.kube_api_url, "http://", 7) == 0)
        log_line("warn",
                 "KUBE_API_URL is http://: no bearer token is sent over it (KUBE_TOKEN_FILE is "
                 "not read); only kubectl proxy, which adds its own credentials, fits",
                 NULL);
    if (nofile < need) {
        char have[24], want[24];
        snprintf(have, sizeof have, "%ld", nofile);
        snprintf(want, sizeof want, "%d", need);
        log_line("warn",
                 "RLIMIT_NOFILE is lower than MAX_CONNS needs: past it new connections wait "
                 "in the backlog (raise the limit or lower MAX_CONNS)",
                 "rlimit_nofile", have, "needed", want, NULL);
    }
    if (a->cfg.verification_token)
        log_line("warn",
                 "SLACK_VERIFICATION_TOKEN is set: unsigned requests carrying it are accepted "
                 "(Slack deprecated these tokens; prefer the signing secret alone)",
                 NULL);
    if (!a->policy)
        log_line("warn",
                 "DEPLOY_POLICY_FILE is unset: every member of the allowed workspaces may "
                 "deploy to DEPLOY_NAMESPACES",
                 NULL);
}

static int serve(const struct cli *c)
{
    struct app *a = &app;
    char err[512];
    if (config_load(&a->cfg, CONFIG_SERVE, err, sizeof err) < 0 ||
        kubesrc_resolve(a, c->kubeconfig, c->context, err, sizeof err) < 0 ||
        load_policy(a, err, sizeof err) < 0 || kubesrc_anchors(a, 1, err, sizeof err) < 0)
        return die(err);
    /* An anonymous mapping is already an empty table (all zero, as
     * replay_init leaves it), and its pages stay untouched until used. */
    a->replay =
        mmap(NULL, sizeof *a->replay, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (a->replay == MAP_FAILED) return die("out of memory");
    /* Room for every connection, job pipe and a few more. */
    int need = a->cfg.max_conns + a->cfg.max_jobs + 64;
    long nofile = fd_limit(need);
    if (loop_init(&a->loop, need) < 0 || jobs_init(&a->jobs, a->cfg.max_jobs) < 0)
        return die("out of memory");
    jobs_watch(&a->jobs, &a->loop, route_job_result, a);
    static const int sigs[] = {SIGCHLD, SIGTERM, SIGINT, 0};
    if (loop_signals(&a->loop, sigs, on_signal, a) < 0)
        return die("cannot install signal handlers");
    if (server_init(&a->srv, &a->cfg, &a->loop, route_request, a, err, sizeof err) < 0)
        return die(err);
    server_start(&a->srv);
    /* Logs must not block the loop: stdout non-blocking, lines queued. */
    int fl = fcntl(1, F_GETFL);
    if (fl >= 0) fcntl(1, F_SETFL, fl | O_NONBLOCK);
    loop_add(&a->loop, 1, 0, on_stdout, a);
    loop_every(&a->loop, 250, on_tick, a);
    log_startup(a, nofile, need);
    if (socket_mode_start(a, err, sizeof err) < 0) return die(err);
    a->ready = 1;

    /* As PID 1 our exit kills every process left in the namespace: wait
     * (bounded) for the notices that tell users their job was stopped. */
    while (!a->stopping || a->jobs.running > 0 || a->srv.nopen > 0 ||
           (a->jobs.notices > 0 && loop_clock_ms() < a->exit_deadline_ms)) {
        loop_set(&a->loop, 1, audit_pending() ? POLLOUT : 0);
        loop_once(&a->loop, -1);
    }
    log_line("info", "deploy-api stopped", NULL);
    audit_drain(1000);
    return 0;
}

/* Who the change-cause names: --as, else $USER@hostname. */
static void cli_actor(const struct cli *c, char *out, size_t cap)
{
    char host[256] = "";
    const char *user = getenv("USER");
    if (c->as[0]) {
        str_copy(out, cap, c->as);
        return;
    }
    if (gethostname(host, sizeof host - 1) < 0) host[0] = 0;
    snprintf(out, cap, "%.40s@%.50s", user && *user ? user : "unknown",
             host[0] ? host : "localhost");
}

static const int cli_cmd_verb[] = {
    [CLI_RESTART] = CMD_RESTART, [CLI_DEPLOY] = CMD_DEPLOY,     [CLI_STATUS] = CMD_STATUS,
    [CLI_HISTORY] = CMD_HISTORY, [CLI_ROLLBACK] = CMD_ROLLBACK,
};

/* deploy, status, history, rollback: one job, run right here. */
static int cli_run(const struct cli *c)
{
    struct app *a = &app;
    char err[512];
    if (config_load(&a->cfg, CONFIG_CLI, err, sizeof err) < 0) return die(err);
    if (kubesrc_resolve(a, c->kubeconfig, c->context, err, sizeof err) < 0) return die(err);
    /* -n, else the kubeconfig context's namespace, else DEPLOY_NAMESPACE */
    const char *ns = c->ns[0] ? c->ns : a->kc && a->kc->ns[0] ? a->kc->ns : a->cfg.default_ns;
    if (!config_namespace_allowed(&a->cfg, ns)) {
        snprintf(err, sizeof err, "namespace %.63s is not in DEPLOY_NAMESPACES", ns);
        return die(err);
    }
    if (kubesrc_anchors(a, 0, err, sizeof err) < 0) return die(err);
    a->output_json = c->json;
    signal(SIGPIPE, SIG_IGN);
    struct job_spec sp;
    memset(&sp, 0, sizeof sp);
    sp.verb = cli_cmd_verb[c->verb];
    str_copy(sp.ns, sizeof sp.ns, ns);
    str_copy(sp.name, sizeof sp.name, c->name);
    str_copy(sp.version, sizeof sp.version, c->version);
    sp.revision = c->verb == CLI_HISTORY ? c->count : c->revision; /* history: newest N */
    cli_actor(c, sp.user_name, sizeof sp.user_name);
    static struct kube_result res;
    str_copy(sp.container, sizeof sp.container, c->container);
    /* plain text; kubectl rollout status's lines on stderr as the counts change */
    struct kube_ui ui = {1, progress_cli, stderr, 0, NULL, NULL};
    int rc = worker_run_command(a, &sp, &ui, &res);
    printf("%s\n", res.text);
    if (rc < 0) {
        fprintf(stderr, "deploy-api: %s\n", res.error[0] ? res.error : "failed");
        return 1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    struct cli c;
    char err[300];
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (cli_parse(argc, argv, &c, err, sizeof err) < 0) {
        fprintf(stderr, "deploy-api: %s\n", err);
        return 2;
    }
    if (c.help) {
        fputs(cli_help(c.verb), stdout);
        return 0;
    }
    switch (c.verb) {
    case CLI_SERVE:
        return serve(&c);
    case CLI_VERSION:
        printf("deploy-api %s\n", DEPLOY_API_VERSION);
        return 0;
    case CLI_CHECK:
        return check_run(&app, &c);
    default:
        return cli_run(&c);
    }
}
