#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "json.h"
#include "k8sname.h"
#include "slack.h"
#include "str.h"

static const char *env(const char *name)
{
    const char *v = getenv(name);
    return v && *v ? v : NULL;
}

static int fail(char *err, size_t errlen, const char *var, const char *why)
{
    snprintf(err, errlen, "%s: %s", var, why);
    return -1;
}

/* Integer variable in [lo, hi], default def when unset. */
static int env_int(const char *var, int def, int lo, int hi, int *out, char *err, size_t errlen)
{
    const char *v = env(var);
    if (!v) {
        *out = def;
        return 0;
    }
    unsigned long n;
    if (slice_to_ulong((struct slice){v, strlen(v)}, (unsigned long)hi, &n) < 0 || (long)n < lo) {
        char why[96];
        snprintf(why, sizeof why, "must be a whole number from %d to %d", lo, hi);
        return fail(err, errlen, var, why);
    }
    *out = (int)n;
    return 0;
}

static int env_str(const char *var, const char *def, char *dst, size_t cap, char *err,
                   size_t errlen)
{
    const char *v = env(var);
    if (!v) v = def;
    if (str_copy(dst, cap, v) < 0) return fail(err, errlen, var, "too long");
    return 0;
}

/* A namespace name: the rule the command grammar checks (slack.h). */
static int is_label(const char *s)
{
    return k8sname_ns_ok(s, strlen(s));
}

/* Split a comma list into fixed slots; each entry checked by ok (may be NULL). */
static int env_list(const char *var, const char *v, char *slots, size_t slot_size, int max,
                    int *count, int (*ok)(const char *), char *err, size_t errlen)
{
    *count = 0;
    while (v && *v) {
        const char *comma = strchr(v, ',');
        size_t n = comma ? (size_t)(comma - v) : strlen(v);
        while (n && (*v == ' ')) v++, n--;
        while (n && v[n - 1] == ' ') n--;
        if (n) {
            if (*count == max) return fail(err, errlen, var, "too many entries");
            char *dst = slots + (size_t)*count * slot_size;
            if (slice_copy(dst, slot_size, (struct slice){v, n}) < 0)
                return fail(err, errlen, var, "entry too long");
            if (ok && !ok(dst)) {
                char why[160];
                snprintf(why, sizeof why, "\"%.*s\" is not a valid entry", (int)(n > 64 ? 64 : n),
                         v);
                return fail(err, errlen, var, why);
            }
            (*count)++;
        }
        if (!comma) break;
        v = comma + 1;
    }
    return 0;
}

static int is_team_id(const char *s)
{
    size_t n = strlen(s);
    if (n < 2 || (s[0] != 'T' && s[0] != 'E')) return 0;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= '0' && s[i] <= '9'))) return 0;
    return 1;
}

/* Read a secret file whole, trailing newline dropped. */
static char *read_secret_file(const char *path, size_t *len, char *err, size_t errlen)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        snprintf(err, errlen, "SLACK_SIGNING_SECRET_FILE: cannot open %s: %s", path,
                 strerror(errno));
        return NULL;
    }
    char *buf = malloc(1025);
    size_t n = 0;
    ssize_t r;
    while (buf && n < 1025 && (r = read(fd, buf + n, 1025 - n)) > 0) n += (size_t)r;
    close(fd);
    if (!buf || n > 1024) {
        free(buf);
        snprintf(err, errlen, "SLACK_SIGNING_SECRET_FILE: %s is larger than 1024 bytes", path);
        return NULL;
    }
    while (n && (buf[n - 1] == '\n' || buf[n - 1] == '\r')) n--;
    buf[n] = 0;
    *len = n;
    return buf;
}

int config_parse_addr(const char *s, struct sockaddr_storage *ss, socklen_t *len)
{
    char host[128];
    const char *colon;
    memset(ss, 0, sizeof *ss);
    if (s[0] == '[') {
        const char *rb = strchr(s, ']');
        if (!rb || rb[1] != ':' || (size_t)(rb - s - 1) >= sizeof host) return -1;
        memcpy(host, s + 1, (size_t)(rb - s - 1));
        host[rb - s - 1] = 0;
        colon = rb + 1;
    } else {
        colon = strrchr(s, ':');
        if (!colon || (size_t)(colon - s) >= sizeof host) return -1;
        memcpy(host, s, (size_t)(colon - s));
        host[colon - s] = 0;
        if (strchr(host, ':'))
            return -1; /* an IPv6 address needs brackets: "::1:5000" is ambiguous */
    }
    unsigned long port;
    if (slice_to_ulong((struct slice){colon + 1, strlen(colon + 1)}, 65535, &port) < 0) return -1;
    struct sockaddr_in *v4 = (struct sockaddr_in *)ss;
    struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)ss;
    if (host[0] == 0 || strcmp(host, "0.0.0.0") == 0 || inet_pton(AF_INET, host, &v4->sin_addr)) {
        v4->sin_family = AF_INET;
        v4->sin_port = htons((unsigned short)port);
        *len = sizeof *v4;
        return 0;
    }
    if (inet_pton(AF_INET6, host, &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons((unsigned short)port);
        *len = sizeof *v6;
        return 0;
    }
    return -1; /* names are not resolved: the parent never does DNS */
}

int config_load(struct config *c, enum config_mode mode, char *err, size_t errlen)
{
    memset(c, 0, sizeof *c);
    const char *v;

    if (env_str("LISTEN_ADDR", "0.0.0.0:5000", c->listen_addr, sizeof c->listen_addr, err, errlen) <
        0)
        return -1;
    if (config_parse_addr(c->listen_addr, &c->listen, &c->listen_len) < 0)
        return fail(err, errlen, "LISTEN_ADDR",
                    "must be IPV4:PORT or [IPV6]:PORT, e.g. 0.0.0.0:5000 or [::]:5000");
    if (env_int("MAX_CONNS", CONN_MAX_DEFAULT, 4, 65536, &c->max_conns, err, errlen) < 0 ||
        env_int("HEADER_TIMEOUT", HEADER_TIMEOUT_DEFAULT, 1, 3600, &c->header_timeout, err,
                errlen) < 0 ||
        env_int("KEEPALIVE_TIMEOUT", KEEPALIVE_TIMEOUT_DEFAULT, 1, 3600, &c->keepalive_timeout, err,
                errlen) < 0 ||
        env_int("SHUTDOWN_GRACE", SHUTDOWN_GRACE_DEFAULT, 0, 3600, &c->shutdown_grace, err,
                errlen) < 0 ||
        env_int("MAX_JOBS", MAX_JOBS_DEFAULT, 1, MAX_JOBS_LIMIT, &c->max_jobs, err, errlen) < 0 ||
        env_int("ROLLOUT_TIMEOUT", ROLLOUT_TIMEOUT_DEFAULT, 0, 86400, &c->rollout_timeout, err,
                errlen) < 0 ||
        env_int("AUTO_ROLLBACK", 0, 0, 1, &c->auto_rollback, err, errlen) < 0)
        return -1;
    /* ROLLOUT_TIMEOUT unset (0): derived per deployment, at most ROLLOUT_TIMEOUT_CAP. */
    if (env_int("JOB_TIMEOUT",
                (c->rollout_timeout ? c->rollout_timeout : ROLLOUT_TIMEOUT_CAP) +
                    JOB_DEADLINE_SLACK,
                1, 86400 * 2, &c->job_timeout, err, errlen) < 0)
        return -1;
    v = env("GITOPS_MANAGED");
    if (v && strcmp(v, "warn") != 0 && strcmp(v, "refuse") != 0)
        return fail(err, errlen, "GITOPS_MANAGED", "must be warn or refuse");
    c->gitops_refuse = v && strcmp(v, "refuse") == 0;

    /* Slack */
    if ((v = env("SLACK_SIGNING_SECRET"))) {
        if (env("SLACK_SIGNING_SECRET_FILE"))
            return fail(err, errlen, "SLACK_SIGNING_SECRET",
                        "set either it or SLACK_SIGNING_SECRET_FILE, not both");
        c->signing_secret_len = strlen(v);
        c->signing_secret = strdup(v);
    } else if ((v = env("SLACK_SIGNING_SECRET_FILE"))) {
        c->signing_secret = read_secret_file(v, &c->signing_secret_len, err, errlen);
        if (!c->signing_secret) return -1;
    }
    if (mode == CONFIG_SERVE && c->signing_secret_len == 0)
        return fail(err, errlen, "SLACK_SIGNING_SECRET",
                    "required to serve (or SLACK_SIGNING_SECRET_FILE); find it under Basic "
                    "Information in the Slack app's settings");
    if (mode == CONFIG_SERVE && c->signing_secret_len < 16)
        return fail(err, errlen, "SLACK_SIGNING_SECRET", "too short to be a Slack signing secret");
    if ((v = env("SLACK_VERIFICATION_TOKEN"))) c->verification_token = strdup(v);
    if (env_list("SLACK_TEAM_ID", env("SLACK_TEAM_ID"), &c->team_ids[0][0], sizeof c->team_ids[0],
                 CONFIG_MAX_LIST, &c->nteam_ids, is_team_id, err, errlen) < 0)
        return -1;
    if (env_str("SLACK_CA_FILE", "/etc/ssl/certs/ca-certificates.crt", c->slack_ca_file,
                sizeof c->slack_ca_file, err, errlen) < 0 ||
        env_str("RESPONSE_URL_HOSTS", "hooks.slack.com", c->response_url_hosts,
                sizeof c->response_url_hosts, err, errlen) < 0)
        return -1;

    /* What may be touched. */
    const char *image_var = "IMAGE_BASE";
    v = env("IMAGE_BASE");
    if (!v && (v = env("ECR_BASE"))) image_var = "ECR_BASE";
    if (v) {
        if (str_copy(c->image_base, sizeof c->image_base, v) < 0)
            return fail(err, errlen, image_var, "too long");
        size_t n = strlen(c->image_base);
        while (n && c->image_base[n - 1] == '/') c->image_base[--n] = 0;
        for (size_t i = 0; i < n; i++)
            if ((unsigned char)c->image_base[i] <= ' ' || c->image_base[i] == '@' ||
                c->image_base[i] == '"' || c->image_base[i] == '\\' ||
                (c->image_base[i] == ',' && (i == 0 || c->image_base[i - 1] == ',')))
                return fail(err, errlen, image_var,
                            "must be a comma list of repository prefixes such as "
                            "123456789.dkr.ecr.us-east-1.amazonaws.com/team");
    }
    if (env_str("DEPLOY_NAMESPACE", "default", c->default_ns, sizeof c->default_ns, err, errlen) <
        0)
        return -1;
    if (!is_label(c->default_ns))
        return fail(err, errlen, "DEPLOY_NAMESPACE", "not a valid namespace name");
    if (env_list("DEPLOY_NAMESPACES", env("DEPLOY_NAMESPACES") ?: c->default_ns,
                 &c->namespaces[0][0], sizeof c->namespaces[0], CONFIG_MAX_LIST, &c->nnamespaces,
                 is_label, err, errlen) < 0)
        return -1;
    if (c->nnamespaces == 0) return fail(err, errlen, "DEPLOY_NAMESPACES", "lists no namespace");
    if (!config_namespace_allowed(c, c->default_ns))
        return fail(
            err, errlen, "DEPLOY_NAMESPACES",
            "must include DEPLOY_NAMESPACE, or targets without a namespace are all refused");
    if (env_str("DEPLOY_POLICY_FILE", "", c->policy_file, sizeof c->policy_file, err, errlen) < 0)
        return -1;

    /* Kubernetes. */
    if ((v = env("KUBE_API_URL"))) {
        if (str_copy(c->kube_api_url, sizeof c->kube_api_url, v) < 0)
            return fail(err, errlen, "KUBE_API_URL", "too long");
    } else {
        const char *h = env("KUBERNETES_SERVICE_HOST"), *p = env("KUBERNETES_SERVICE_PORT");
        unsigned long port = 443;
        if (p && (slice_to_ulong((struct slice){p, strlen(p)}, 65535, &port) < 0 || port == 0))
            return fail(err, errlen, "KUBERNETES_SERVICE_PORT", "must be a port number");
        if (!h)
            return fail(err, errlen, "KUBE_API_URL",
                        "unset and KUBERNETES_SERVICE_HOST is not set either (not in a cluster?)");
        int n = snprintf(c->kube_api_url, sizeof c->kube_api_url,
                         strchr(h, ':') ? "https://[%s]:%lu" : "https://%s:%lu", h, port);
        if (n < 0 || (size_t)n >= sizeof c->kube_api_url)
            return fail(err, errlen, "KUBERNETES_SERVICE_HOST", "too long");
    }
    if (strncmp(c->kube_api_url, "https://", 8) != 0 && strncmp(c->kube_api_url, "http://", 7) != 0)
        return fail(err, errlen, "KUBE_API_URL",
                    "must start with https:// (or http:// for kubectl proxy)");
    if (env_str("KUBE_TOKEN_FILE", "/var/run/secrets/kubernetes.io/serviceaccount/token",
                c->kube_token_file, sizeof c->kube_token_file, err, errlen) < 0 ||
        env_str("KUBE_CA_FILE", "/var/run/secrets/kubernetes.io/serviceaccount/ca.crt",
                c->kube_ca_file, sizeof c->kube_ca_file, err, errlen) < 0 ||
        env_str("KUBE_TLS_SERVER_NAME", "", c->kube_server_name, sizeof c->kube_server_name, err,
                errlen) < 0)
        return -1;

    /* Egress proxy: the lowercase names are what curl and Go read too. */
    const char *px = env("HTTPS_PROXY");
    if (!px) px = env("https_proxy");
    if (px && str_copy(c->https_proxy, sizeof c->https_proxy, px) < 0)
        return fail(err, errlen, "HTTPS_PROXY", "too long");
    if (px && strncmp(px, "http://", 7) != 0)
        return fail(err, errlen, "HTTPS_PROXY", "must be an http:// URL of a CONNECT proxy");
    const char *np = env("NO_PROXY");
    if (!np) np = env("no_proxy");
    if (np && str_copy(c->no_proxy, sizeof c->no_proxy, np) < 0)
        return fail(err, errlen, "NO_PROXY", "too long");
    return 0;
}

int config_namespace_allowed(const struct config *c, const char *ns)
{
    for (int i = 0; i < c->nnamespaces; i++)
        if (strcmp(c->namespaces[i], ns) == 0) return 1;
    return 0;
}

int config_team_allowed(const struct config *c, const char *team)
{
    if (c->nteam_ids == 0) return 1;
    for (int i = 0; team && i < c->nteam_ids; i++)
        if (strcmp(c->team_ids[i], team) == 0) return 1;
    return 0;
}

static void list_json(struct jw *w, const char *key, const char *slots, size_t size, int n)
{
    jw_key(w, key);
    jw_arr_begin(w);
    for (int i = 0; i < n; i++) jw_str(w, slots + (size_t)i * size);
    jw_arr_end(w);
}

void config_describe(const struct config *c, struct jw *w)
{
    jw_kstr(w, "listen", c->listen_addr);
    jw_kstr(w, "signing_secret", c->signing_secret_len ? "set" : "unset");
    jw_kstr(w, "verification_token", c->verification_token ? "set" : "unset");
    list_json(w, "team_ids", &c->team_ids[0][0], sizeof c->team_ids[0], c->nteam_ids);
    jw_kstr(w, "image_base", c->image_base);
    jw_kstr(w, "default_namespace", c->default_ns);
    list_json(w, "namespaces", &c->namespaces[0][0], sizeof c->namespaces[0], c->nnamespaces);
    jw_kstr(w, "policy_file", c->policy_file);
    jw_kstr(w, "kube_api_url", c->kube_api_url);
    jw_kstr(w, "kube_token_file", c->kube_token_file);
    jw_kstr(w, "kube_ca_file", c->kube_ca_file);
    jw_kstr(w, "kube_tls_server_name", c->kube_server_name);
    jw_kstr(w, "slack_ca_file", c->slack_ca_file);
    jw_kstr(w, "response_url_hosts", c->response_url_hosts);
    /* A proxy URL may carry credentials: say only whether one is set. */
    jw_kstr(w, "https_proxy", c->https_proxy[0] ? "set" : "unset");
    jw_kstr(w, "no_proxy", c->no_proxy);
    jw_kint(w, "rollout_timeout", c->rollout_timeout);
    jw_kint(w, "job_timeout", c->job_timeout);
    jw_kint(w, "auto_rollback", c->auto_rollback);
    jw_kstr(w, "gitops_managed", c->gitops_refuse ? "refuse" : "warn");
    jw_kint(w, "max_jobs", c->max_jobs);
    jw_kint(w, "max_conns", c->max_conns);
    jw_kint(w, "header_timeout", c->header_timeout);
    jw_kint(w, "keepalive_timeout", c->keepalive_timeout);
    jw_kint(w, "shutdown_grace", c->shutdown_grace);
}
