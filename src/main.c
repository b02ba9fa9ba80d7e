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
#include "json.h"
#include "policy.h"
#include "slack.h"
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

static void usage(FILE *f)
{
    fputs("usage: deploy-api [serve]\n"
          "       deploy-api deploy [NAMESPACE/]DEPLOYMENT VERSION\n"
          "       deploy-api status [NAMESPACE/]DEPLOYMENT\n"
          "       deploy-api history [NAMESPACE/]DEPLOYMENT\n"
          "       deploy-api rollback [NAMESPACE/]DEPLOYMENT [REVISION]\n"
          "       deploy-api restart [NAMESPACE/]DEPLOYMENT\n"
          "       deploy-api version\n"
          "Configuration comes from the environment; see the README.\n",
          f);
}

/* Trust anchors the children will use, parsed once here. */
static int load_anchors(struct app *a, int need_slack, char *err, size_t errlen)
{
    if (strncmp(a->cfg.kube_api_url, "https://", 8) == 0) {
        char e[256];
        if (tls_anchors_load(&a->kube_ca, a->cfg.kube_ca_file, e, sizeof e) < 0) {
            snprintf(err, errlen, "KUBE_CA_FILE: %s", e);
            return -1;
        }
    }
    if (need_slack) {
        char e[256];
        if (tls_anchors_load(&a->slack_ca, a->cfg.slack_ca_file, e, sizeof e) < 0) {
            snprintf(err, errlen, "SLACK_CA_FILE: %s", e);
            return -1;
        }
    }
    return 0;
}

static void on_tick(void *arg, long long now)
{
    struct app *a = arg;
    server_tick(&a->srv, now);
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
             DEPLOY_API_VERSION, "listen", a->cfg.listen_addr, NULL);
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

static int serve(void)
{
    struct app *a = &app;
    char err[512];
    if (config_load(&a->cfg, CONFIG_SERVE, err, sizeof err) < 0 ||
        load_policy(a, err, sizeof err) < 0 || load_anchors(a, 1, err, sizeof err) < 0)
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

static int cli(int argc, char **argv)
{
    struct app *a = &app;
    char err[512];
    const char *verb = argv[1];
    char text[CMD_MAX_TEXT];
    if (strcmp(verb, "deploy") == 0) {
        if (argc != 4) return usage(stderr), 2;
        snprintf(text, sizeof text, "%s %s", argv[2], argv[3]);
    } else if (strcmp(verb, "rollback") == 0) {
        if (argc != 3 && argc != 4) return usage(stderr), 2;
        snprintf(text, sizeof text, "rollback %s %s", argv[2], argc == 4 ? argv[3] : "");
    } else {
        if (argc != 3) return usage(stderr), 2;
        snprintf(text, sizeof text, "%s %s", verb, argv[2]);
    }
    if (config_load(&a->cfg, CONFIG_CLI, err, sizeof err) < 0) return die(err);
    struct command cmd;
    if (cmd_parse(text, a->cfg.default_ns, &cmd, err, sizeof err) < 0) return die(err);
    if (!config_namespace_allowed(&a->cfg, cmd.ns)) {
        snprintf(err, sizeof err, "namespace %s is not in DEPLOY_NAMESPACES", cmd.ns);
        return die(err);
    }
    if (load_anchors(a, 0, err, sizeof err) < 0) return die(err);
    signal(SIGPIPE, SIG_IGN);
    struct job_spec sp;
    memset(&sp, 0, sizeof sp);
    sp.verb = (int)cmd.verb;
    str_copy(sp.ns, sizeof sp.ns, cmd.ns);
    str_copy(sp.name, sizeof sp.name, cmd.name);
    str_copy(sp.version, sizeof sp.version, cmd.version);
    sp.revision = cmd.revision;
    static struct kube_result res;
    str_copy(sp.container, sizeof sp.container, cmd.container);
    int rc = worker_run_command(a, &sp, &res, NULL, NULL);
    printf("%s\n", res.text);
    if (rc < 0) {
        fprintf(stderr, "deploy-api: %s\n", res.error[0] ? res.error : "failed");
        return 1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc < 2 || strcmp(argv[1], "serve") == 0) {
        if (argc > 2) return usage(stderr), 2;
        return serve();
    }
    if (strcmp(argv[1], "version") == 0 || strcmp(argv[1], "--version") == 0) {
        printf("deploy-api %s\n", DEPLOY_API_VERSION);
        return 0;
    }
    if (strcmp(argv[1], "help") == 0 || strcmp(argv[1], "--help") == 0 ||
        strcmp(argv[1], "-h") == 0) {
        usage(stdout);
        return 0;
    }
    if (strcmp(argv[1], "deploy") == 0 || strcmp(argv[1], "status") == 0 ||
        strcmp(argv[1], "history") == 0 || strcmp(argv[1], "rollback") == 0 ||
        strcmp(argv[1], "restart") == 0)
        return cli(argc, argv);
    fprintf(stderr, "deploy-api: unknown command \"%s\"\n", argv[1]);
    usage(stderr);
    return 2;
}
