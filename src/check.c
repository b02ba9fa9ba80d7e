/* The preflight checks, in the order a deploy needs them. */
#include "check.h"

#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "httpc.h"
#include "kapi.h"
#include "kdoc.h"
#include "kube.h"
#include "kubeconfig.h"
#include "kubesrc.h"
#include "str.h"
#include "worker.h"
#include "yaml.h"

static int nfail;

/* One request with the job's credentials and kubectl's retries; path is
 * after the server URL's own path (Rancher-style servers have one). */
static int raw(const struct kube_cfg *k, const char *method, const char *path, const char *body,
               struct httpc_resp *r, char *err, size_t errlen)
{
    static struct kube_result res;
    struct kapi_job j;
    char full[2048];
    kapi_init(&j, k, &res);
    if (kapi_read_token(&j, err, errlen) < 0) return -1;
    int n = snprintf(full, sizeof full, "%s%s", strcmp(k->api.path, "/") ? k->api.path : "", path);
    if (n < 0 || (size_t)n >= sizeof full) return str_fail(err, errlen, "request path too long");
    return kapi_request(&j, method, full, body ? "Content-Type: application/json" : NULL, body,
                        body ? strlen(body) : 0, r, err, errlen);
}

__attribute__((format(printf, 2, 3))) static void say(int ok, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs(ok ? "OK   " : "FAIL ", stdout);
    vprintf(fmt, ap);
    putchar('\n');
    va_end(ap);
    if (!ok) nfail++;
}

static void say_source(const struct app *a)
{
    if (a->kc)
        say(1, "API server from kubeconfig %s, context %s: %s", a->kc->files, a->kc->context,
            a->kc->server);
    else if (getenv("KUBE_API_URL"))
        say(1, "API server from KUBE_API_URL: %s", a->cfg.kube_api_url);
    else
        say(1, "API server from the in-cluster service account: %s", a->cfg.kube_api_url);
}

/* GET /version: TLS, the CA, the server name, and an answer. */
static int reach(const struct kube_cfg *k, const char *url)
{
    struct httpc_resp r;
    char err[600];
    if (raw(k, "GET", "/version", NULL, &r, err, sizeof err) < 0) {
        say(0, "API server %s: %s", url, err);
        return -1;
    }
    const char *v = NULL;
    struct yaml_node *doc = NULL;
    char e[200];
    if (r.status == 200 && yaml_parse(r.body, r.len, &doc, e, sizeof e) == 0)
        v = yaml_str(yaml_get(doc, "gitVersion"));
    say(1, "API server %s answers (TLS verified; HTTP %d%s%s)", url, r.status, v ? ", " : "",
        v ? v : "");
    yaml_free(doc);
    httpc_resp_free(&r);
    return 0;
}

static const struct {
    const char *verb, *group, *resource;
} needs[] = {
    {"get", "apps", "deployments"},   {"list", "apps", "deployments"},
    {"watch", "apps", "deployments"}, {"patch", "apps", "deployments"},
    {"list", "apps", "replicasets"},  {"list", "", "pods"},
};

/* One SelfSubjectAccessReview: 1 allowed, 0 denied, -1 could not ask
 * (err says why; *status the HTTP status, 0 on transport errors). */
static int may(const struct kube_cfg *k, const char *ns, int i, int *status, char *err,
               size_t errlen)
{
    char body[512];
    struct httpc_resp r;
    snprintf(body, sizeof body,
             "{\"kind\":\"SelfSubjectAccessReview\",\"apiVersion\":\"authorization.k8s.io/v1\","
             "\"spec\":{\"resourceAttributes\":{\"namespace\":\"%s\",\"verb\":\"%s\","
             "\"group\":\"%s\",\"resource\":\"%s\"}}}",
             ns, needs[i].verb, needs[i].group, needs[i].resource);
    *status = 0;
    if (raw(k, "POST", "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews", body, &r, err,
            errlen) < 0)
        return -1;
    *status = r.status;
    struct yaml_node *doc = NULL;
    int rc = -1;
    char e[200];
    if ((r.status == 200 || r.status == 201) && yaml_parse(r.body, r.len, &doc, e, sizeof e) == 0) {
        const char *v = yaml_str(yaml_get(yaml_get(doc, "status"), "allowed"));
        rc = v && strcmp(v, "true") == 0;
    } else if (kdoc_status_message(r.body ? r.body : "", r.len, e, sizeof e) > 0) {
        snprintf(err, errlen, "%s (HTTP %d)", e, r.status);
    } else {
        snprintf(err, errlen, "the API server answered HTTP %d", r.status);
    }
    yaml_free(doc);
    httpc_resp_free(&r);
    return rc;
}

/* RBAC in one namespace: one line naming what is missing. -1 when the
 * API cannot be asked at all (the caller stops asking). */
static int rbac(const struct kube_cfg *k, const char *ns)
{
    char missing[512] = "", err[600];
    int status;
    for (size_t i = 0; i < sizeof needs / sizeof needs[0]; i++) {
        int r = may(k, ns, (int)i, &status, err, sizeof err);
        if (r < 0) {
            say(0, "RBAC in %s: cannot ask the API server (%s)%s", ns, err,
                status == 401 ? "; the credentials are not accepted" : "");
            return -1;
        }
        if (r == 0) {
            size_t n = strlen(missing);
            snprintf(missing + n, sizeof missing - n, "%s%s %s", n ? ", " : "", needs[i].verb,
                     needs[i].resource);
        }
    }
    if (missing[0])
        say(0, "RBAC in %s: may not %s; grant them in a Role bound in %s (see k8s/ and the README)",
            ns, missing, ns);
    else
        say(1, "RBAC in %s: get, list, watch, patch deployments; list replicasets, pods", ns);
    return 0;
}

/* TLS (through HTTPS_PROXY when set) to url's host: any HTTP answer passes. */
static void egress(const struct app *a, const char *what, const char *url)
{
    struct url u;
    char err[600];
    int status = 0;
    struct httpc_opts o;
    worker_slack_opts(a, &o);
    if (url_parse(url, &u, err, sizeof err) < 0) {
        say(0, "%s %s: %s", what, url, err);
        return;
    }
    const char *h[] = {"Accept: */*", NULL};
    struct httpc_stream *s = httpc_open(&o, "GET", &u, h, NULL, 0, &status, err, sizeof err);
    if (!s) {
        say(0, "TLS to %s:%s (%s): %s", u.host, u.port, what, err);
        return;
    }
    httpc_close(s);
    say(1, "TLS to %s:%s (%s): certificate verified, HTTP %d", u.host, u.port, what, status);
}

static void egress_checks(const struct app *a)
{
    char url[600];
    const char *p = a->cfg.response_url_hosts;
    while (*p) {
        size_t n = strcspn(p, ",");
        while (n > 0 && p[0] == ' ') p++, n--;
        if (n > 0) {
            snprintf(url, sizeof url, "https://%.*s/", (int)n, p);
            egress(a, "RESPONSE_URL_HOSTS", url);
        }
        p += n;
        if (*p == ',') p++;
    }
    if (getenv("SLACK_APP_TOKEN") || getenv("SLACK_APP_TOKEN_FILE")) {
        const char *api = getenv("SLACK_API_URL");
        egress(a, "SLACK_API_URL", api && *api ? api : "https://slack.com/api");
    }
}

/* No Slack setting at all: the binary is used from a shell only. */
static int cli_only(void)
{
    static const char *const vars[] = {"SLACK_SIGNING_SECRET", "SLACK_SIGNING_SECRET_FILE",
                                       "SLACK_APP_TOKEN", "SLACK_APP_TOKEN_FILE"};
    for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++)
        if (getenv(vars[i])) return 0;
    return 1;
}

int check_run(struct app *a, const struct cli *c)
{
    char err[600];
    int serving = !cli_only();
    signal(SIGPIPE, SIG_IGN);
    nfail = 0;
    if (!serving) {
        if (config_load(&a->cfg, CONFIG_CLI, err, sizeof err) < 0) {
            say(0, "configuration: %s", err);
            return 1;
        }
        say(1, "configuration: command line only (no SLACK_* settings; Slack checks skipped)");
    } else if (config_load(&a->cfg, CONFIG_SERVE, err, sizeof err) == 0) {
        say(1, "configuration (serve mode)");
    } else {
        say(0, "configuration: %s", err);
        if (config_load(&a->cfg, CONFIG_CLI, err, sizeof err) < 0) return 1;
    }
    if (kubesrc_resolve(a, c->kubeconfig, c->context, err, sizeof err) < 0 ||
        kubesrc_anchors(a, 0, err, sizeof err) < 0) {
        say(0, "API server: %s", err);
        return 1;
    }
    say_source(a);
    struct kube_cfg k;
    if (worker_kube_cfg(a, &k, err, sizeof err) < 0 ||
        kubesrc_job_creds(a, &k, err, sizeof err) < 0) {
        say(0, "credentials: %s", err);
    } else if (reach(&k, a->cfg.kube_api_url) == 0) {
        for (int i = 0; i < a->cfg.nnamespaces; i++)
            if (rbac(&k, a->cfg.namespaces[i]) < 0) break;
    }
    if (serving && tls_anchors_load(&a->slack_ca, a->cfg.slack_ca_file, err, sizeof err) < 0)
        say(0, "SLACK_CA_FILE: %s", err);
    else if (serving)
        egress_checks(a);
    return nfail ? 1 : 0;
}
