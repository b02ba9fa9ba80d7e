#include "config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "httpc.h"
#include "json.h"
#include "k8sname.h"
#include "proxies.h"
#include "respond.h"
#include "slack.h"
#include "str.h"

/* ---- validators: one value (or one list entry), normalized in place ---- */

static int why_is(char *why, size_t whylen, const char *text)
{
    snprintf(why, whylen, "%s", text);
    return -1;
}

static int ok_listen(char *v, char *why, size_t whylen)
{
    struct sockaddr_storage ss;
    socklen_t len;
    if (config_parse_addr(v, &ss, &len) == 0) return 0;
    return why_is(why, whylen, "must be IPV4:PORT or [IPV6]:PORT, e.g. 0.0.0.0:5000 or [::]:5000");
}

/* A namespace name: the rule the command grammar checks (slack.h). */
static int ok_namespace(char *v, char *why, size_t whylen)
{
    if (k8sname_ns_ok(v, strlen(v))) return 0;
    return why_is(why, whylen, "not a valid namespace name");
}

static int ok_gitops(char *v, char *why, size_t whylen)
{
    if (strcmp(v, "warn") == 0 || strcmp(v, "refuse") == 0) return 0;
    return why_is(why, whylen, "must be warn or refuse");
}

static int ok_team_id(char *s, char *why, size_t whylen)
{
    size_t n = strlen(s);
    int ok = n >= 2 && (s[0] == 'T' || s[0] == 'E');
    for (size_t i = 0; ok && i < n; i++)
        ok = (s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= '0' && s[i] <= '9');
    return ok ? 0 : why_is(why, whylen, "not a workspace id (T… or E…)");
}

/* A URL the children will connect to: it must parse as httpc parses it. */
static int ok_url(char *v, char *why, size_t whylen)
{
    struct url u;
    char e[160];
    if (url_parse(v, &u, e, sizeof e) == 0) return 0;
    snprintf(why, whylen, "not a usable URL (%s)", e);
    return -1;
}

/* SLACK_API_URL: https only; no trailing '/' (the method name is appended). */
static int ok_api_url(char *v, char *why, size_t whylen)
{
    if (strncmp(v, "https://", 8) != 0) return why_is(why, whylen, "must start with https://");
    size_t n = strlen(v);
    while (n > 8 && v[n - 1] == '/') v[--n] = 0;
    return ok_url(v, why, whylen);
}

static int ok_proxy(char *v, char *why, size_t whylen)
{
    struct url u;
    char e[160];
    if (strncmp(v, "http://", 7) != 0)
        return why_is(why, whylen, "must be an http:// URL of a CONNECT proxy");
    for (const char *p = v + 7; *p && *p != '/'; p++)
        if (*p == '@')
            return why_is(why, whylen,
                          "credentials in the URL are not supported (the proxy must "
                          "allow the pod without them)");
    if (url_parse(v, &u, e, sizeof e) < 0) return why_is(why, whylen, "not a usable URL");
    return 0;
}

static int ok_response_host(char *v, char *why, size_t whylen)
{
    char e[160];
    if (respond_host_ok(v, strlen(v), e, sizeof e)) return 0;
    snprintf(why, whylen, "\"%.64s\" is not host[:port] (%s)", v, e);
    return -1;
}

static int ok_cidr(char *v, char *why, size_t whylen)
{
    if (proxies_cidr_ok(v, strlen(v))) return 0;
    return why_is(why, whylen, "not an address or CIDR (10.0.0.0/8, fd00::/8)");
}

/* One repository prefix: registry host[:port] and path, no scheme, tag or
 * digest; trailing '/' dropped. */
static int image_prefix_ok(char *v, size_t n)
{
    while (n && v[n - 1] == '/') v[--n] = 0;
    if (n == 0 || v[0] == '/' || strstr(v, "//") || strstr(v, "://")) return 0;
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)v[i]) && !strchr("._-:/", v[i])) return 0;
    return 1;
}

/* POD_NAME: the Lease holder identity; printable, no blanks. */
static int ok_pod_name(char *v, char *why, size_t whylen)
{
    for (const char *p = v; *p; p++)
        if ((unsigned char)*p < 0x21 || *p == 0x7f)
            return why_is(why, whylen, "must not hold spaces or control characters");
    return 0;
}

/* IMAGE_BASE: a comma list of prefixes, rewritten as "a,b" without blanks. */
static int ok_image_base(char *v, char *why, size_t whylen)
{
    char in[512], *save = NULL;
    size_t out = 0;
    str_copy(in, sizeof in, v);
    v[0] = 0;
    for (char *e = strtok_r(in, ",", &save); e; e = strtok_r(NULL, ",", &save)) {
        while (*e == ' ') e++;
        size_t n = strlen(e);
        while (n && e[n - 1] == ' ') e[--n] = 0;
        if (n == 0) continue;
        if (!image_prefix_ok(e, n))
            return why_is(why, whylen,
                          "must be a comma list of repository prefixes without scheme, "
                          "e.g. 123456789.dkr.ecr.us-east-1.amazonaws.com/team");
        out += (size_t)sprintf(v + out, "%s%s", out ? "," : "", e);
    }
    return 0;
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

/* ---- the table ---- */

#define FIELD(f) .off = offsetof(struct config, f), .size = sizeof(((struct config *)0)->f)
#define LIST(f, n)                                                                                 \
    .kind = SETTING_LIST, .off = offsetof(struct config, f),                                       \
    .size = sizeof(((struct config *)0)->f[0]), .count_off = offsetof(struct config, n),           \
    .hi = CONFIG_MAX_LIST
#define INT(f, l, h) .kind = SETTING_INT, FIELD(f), .lo = (l), .hi = (h)

const struct setting config_settings[] = {
    {"SLACK_SIGNING_SECRET", .kind = SETTING_SECRET, FIELD(signing_secret), .flags = SETTING_FILE,
     .doc_default = SETTING_DOC("required to serve over HTTP"),
     .meaning =
         SETTING_DOC("the app's signing secret (the file form reads a mounted Secret); optional in "
                     "Socket Mode, where `POST /deploy` is served only when it is set")},
    {"SLACK_APP_TOKEN", .kind = SETTING_SECRET, FIELD(app_token), .flags = SETTING_FILE,
     .meaning =
         SETTING_DOC("app-level `xapp-…` token with `connections:write`: turns Socket Mode on")},
    {"SLACK_API_URL", .kind = SETTING_TEXT, FIELD(slack_api_url), .def = "https://slack.com/api",
     .ok = ok_api_url,
     .meaning = SETTING_DOC("where `apps.connections.open` is called (Socket Mode)")},
    {"SOCKET_MODE_CONNECTIONS", INT(socket_connections, 1, SOCKET_CONNS_MAX), .def = "2",
     .meaning =
         SETTING_DOC("WebSockets kept open in Socket Mode (1 to 8), so one can be replaced while "
                     "another serves")},
    {"SLACK_VERIFICATION_TOKEN", .kind = SETTING_SECRET, FIELD(verification_token),
     .meaning = SETTING_DOC(
         "legacy token: when set, an unsigned request carrying it is accepted (warned at "
         "startup; prefer the signing secret alone)")},
    {"SLACK_TEAM_ID", LIST(team_ids, nteam_ids), .ok = ok_team_id,
     .doc_default = SETTING_DOC("unset (any)"),
     .meaning = SETTING_DOC("comma list of allowed workspace ids")},
    {"IMAGE_BASE", "ECR_BASE", SETTING_TEXT, FIELD(image_base), .ok = ok_image_base,
     .doc_default = SETTING_DOC("unset (any repository the container already runs)"),
     .meaning =
         SETTING_DOC("comma list of repository prefixes (no scheme) a deploy may stay within, e.g. "
                     "`123456789.dkr.ecr.us-east-1.amazonaws.com`")},
    {"DEPLOY_NAMESPACE", .kind = SETTING_TEXT, FIELD(default_ns), .def = "default",
     .ok = ok_namespace, .meaning = SETTING_DOC("namespace when the target names none")},
    {"DEPLOY_NAMESPACES", LIST(namespaces, nnamespaces), .ok = ok_namespace,
     .doc_default = SETTING_DOC("`$DEPLOY_NAMESPACE`"),
     .meaning = SETTING_DOC(
         "comma list of namespaces that may be touched; must include `DEPLOY_NAMESPACE`")},
    {"DEPLOY_POLICY_FILE", .kind = SETTING_TEXT, FIELD(policy_file),
     .meaning = SETTING_DOC(
         "per-user / per-channel rules; deny by default when set (below); a file without "
         "rules is refused")},
    {"LISTEN_ADDR", .kind = SETTING_TEXT, FIELD(listen_addr), .def = "0.0.0.0:5000",
     .ok = ok_listen,
     .meaning = SETTING_DOC("`IP:PORT`, `[::]:5000` for IPv6 (names are not resolved)")},
    {"KUBE_API_URL", .kind = SETTING_TEXT, FIELD(kube_api_url), .ok = ok_url,
     .doc_default = SETTING_DOC("unset: the kubeconfig, else in a pod "
                                "`https://$KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT`"),
     .meaning = SETTING_DOC(
         "API server; `http://` for `kubectl proxy` (no token is ever sent over it); when "
         "set it overrides any kubeconfig")},
    {"KUBECONFIG", .kind = SETTING_TEXT, FIELD(kubeconfig),
     .meaning = SETTING_DOC(
         "kubeconfig files (colon list), used when `KUBE_API_URL` is unset (see \"Running "
         "on a node\")")},
    {"KUBE_TOKEN_FILE", .kind = SETTING_TEXT, FIELD(kube_token_file),
     .def = "/var/run/secrets/kubernetes.io/serviceaccount/token",
     .meaning = SETTING_DOC("bearer token, read fresh by every job")},
    {"KUBE_CA_FILE", .kind = SETTING_TEXT, FIELD(kube_ca_file),
     .def = "/var/run/secrets/kubernetes.io/serviceaccount/ca.crt",
     .meaning = SETTING_DOC("cluster CA")},
    {"KUBE_TLS_SERVER_NAME", .kind = SETTING_TEXT, FIELD(kube_server_name),
     .doc_default =
         SETTING_DOC("`kubernetes.default.svc` when the URL host is an IP, else the host"),
     .meaning = SETTING_DOC("name checked in the API server's certificate")},
    {"SLACK_CA_FILE", .kind = SETTING_TEXT, FIELD(slack_ca_file),
     .def = "/etc/ssl/certs/ca-certificates.crt",
     .meaning = SETTING_DOC("trust anchors for `response_url`")},
    {"RESPONSE_URL_HOSTS", .kind = SETTING_TEXT, FIELD(response_url_hosts),
     .def = "hooks.slack.com", .ok = ok_response_host, .flags = SETTING_EACH,
     .meaning =
         SETTING_DOC("comma list of `host[:port]` a `response_url` may point to (https only)")},
    {"HTTPS_PROXY", "https_proxy", SETTING_TEXT, FIELD(https_proxy), .ok = ok_proxy,
     .meaning =
         SETTING_DOC("egress through an HTTP CONNECT proxy, `http://host:port` (no credentials)")},
    {"NO_PROXY", "no_proxy", SETTING_TEXT, FIELD(no_proxy),
     .meaning = SETTING_DOC("comma list of hosts and suffixes reached without the proxy")},
    {"ROLLOUT_TIMEOUT", INT(rollout_timeout, 0, ROLLOUT_TIMEOUT_MAX),
     .doc_default = SETTING_DOC("`0`: the deployment's `progressDeadlineSeconds` (600 when unset) "
                                "+ 60, at most 1680"),
     .meaning = SETTING_DOC(
         "seconds to follow a rollout before reporting it as still rolling out; at most "
         "1680 (a `response_url` lives 30 minutes)")},
    {"JOB_TIMEOUT", INT(job_timeout, 0, JOB_TIMEOUT_MAX),
     .doc_default = SETTING_DOC("`ROLLOUT_TIMEOUT + 120` (1800 when derived)"),
     .meaning =
         SETTING_DOC("hard deadline of a job (must exceed `ROLLOUT_TIMEOUT`); past it the job is "
                     "killed and the user told")},
    {"PROGRESS_AFTER", INT(progress_after, 0, PROGRESS_AFTER_MAX), .def = "30",
     .meaning = SETTING_DOC(
         "seconds a rollout runs before its one Slack progress post (counts, and what the "
         "new pods wait on); `0`: none")},
    {"AUTO_ROLLBACK", INT(auto_rollback, 0, 1), .def = "0",
     .meaning = SETTING_DOC("`1`: a rollout Kubernetes declares failed is rolled back to the "
                            "revision that ran before; the post says both")},
    {"GITOPS_MANAGED", .kind = SETTING_TEXT, FIELD(gitops_managed), .def = "warn", .ok = ok_gitops,
     .meaning = SETTING_DOC("a deployment managed by Argo CD, Flux or Helm: `warn` deploys and "
                            "says it may be reverted, `refuse` refuses")},
    {"TRUSTED_PROXIES", .kind = SETTING_TEXT, FIELD(trusted_proxies), .ok = ok_cidr,
     .flags = SETTING_EACH,
     .meaning = SETTING_DOC(
         "comma list of CIDRs (the ingress controller's pods); from these peers the audit "
         "also records `client`, the last untrusted address in `X-Forwarded-For`")},
    {"LEASE_NAMESPACE", .kind = SETTING_TEXT, FIELD(lease_namespace), .ok = ok_namespace,
     .doc_default =
         SETTING_DOC("the pod's namespace (the service account's `namespace` file beside "
                     "`KUBE_TOKEN_FILE`)"),
     .meaning =
         SETTING_DOC("where the per-target lock Leases live (taken by the job child, so the lock "
                     "holds across replicas); unset outside a cluster: locks stay in-process")},
    {"POD_NAME", .kind = SETTING_TEXT, FIELD(pod_name), .ok = ok_pod_name,
     .doc_default = SETTING_DOC("the hostname"),
     .meaning = SETTING_DOC("the Lease holder identity (set from the downward API)")},
    {"LEASE_DURATION", INT(lease_duration, 3, 3600), .def = "60",
     .meaning =
         SETTING_DOC("seconds a lock Lease outlives a pod that died; renewed every third of it")},
    {"MAX_JOBS", INT(max_jobs, 1, MAX_JOBS_LIMIT), .def = "16",
     .meaning = SETTING_DOC("concurrent jobs; beyond that the ack says \"busy\"")},
    {"MAX_CONNS", INT(max_conns, 4, 65536), .def = "1024",
     .meaning =
         SETTING_DOC("open client connections; at the cap the oldest idle one is closed, else the "
                     "slowest sender")},
    {"HEADER_TIMEOUT", INT(header_timeout, 1, 3600), .def = "10",
     .meaning = SETTING_DOC("seconds a client has to send a whole request")},
    {"KEEPALIVE_TIMEOUT", INT(keepalive_timeout, 1, 3600), .def = "5",
     .meaning = SETTING_DOC("seconds an idle keep-alive connection is kept")},
    {"SHUTDOWN_GRACE", INT(shutdown_grace, 0, 3600), .def = "25",
     .meaning = SETTING_DOC("seconds SIGTERM waits for running jobs")},
};
const size_t config_nsettings = sizeof config_settings / sizeof config_settings[0];

/* ---- loading ---- */

static int fail(char *err, size_t errlen, const char *var, const char *why)
{
    snprintf(err, errlen, "%s: %s", var, why);
    return -1;
}

static const char *env(const char *name)
{
    const char *v = name ? getenv(name) : NULL;
    return v && *v ? v : NULL;
}

/* Read a secret file whole, trailing newline dropped. */
static char *read_secret_file(const char *var, const char *path, char *err, size_t errlen)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        snprintf(err, errlen, "%s: cannot open %s: %s", var, path, strerror(errno));
        return NULL;
    }
    char *buf = malloc(1025);
    size_t n = 0;
    ssize_t r;
    while (buf && n < 1025 && (r = read(fd, buf + n, 1025 - n)) > 0) n += (size_t)r;
    close(fd);
    if (!buf || n > 1024) {
        free(buf);
        snprintf(err, errlen, "%s: %s is larger than 1024 bytes", var, path);
        return NULL;
    }
    while (n && (buf[n - 1] == '\n' || buf[n - 1] == '\r')) n--;
    buf[n] = 0;
    return buf;
}

static int load_secret(const struct setting *s, const char *v, char **dst, char *err, size_t errlen)
{
    char file_var[64];
    snprintf(file_var, sizeof file_var, "%s_FILE", s->name);
    const char *path = (s->flags & SETTING_FILE) ? env(file_var) : NULL;
    if (v && path) {
        char why[96];
        snprintf(why, sizeof why, "set either it or %s, not both", file_var);
        return fail(err, errlen, s->name, why);
    }
    if (path) return (*dst = read_secret_file(file_var, path, err, errlen)) ? 0 : -1;
    *dst = v ? strdup(v) : NULL;
    return v && !*dst ? fail(err, errlen, s->name, "out of memory") : 0;
}

static int load_int(const struct setting *s, const char *var, const char *v, int *dst, char *err,
                    size_t errlen)
{
    unsigned long n;
    if (slice_to_ulong((struct slice){v, strlen(v)}, (unsigned long)s->hi, &n) < 0 ||
        (long)n < s->lo) {
        char why[96];
        snprintf(why, sizeof why, "must be a whole number from %ld to %ld", s->lo, s->hi);
        return fail(err, errlen, var, why);
    }
    *dst = (int)n;
    return 0;
}

/* A comma list into fixed slots, blanks around entries and empty entries
 * dropped, each entry checked by s->ok. */
static int load_list(const struct setting *s, const char *var, const char *v, char *slots,
                     int *count, char *err, size_t errlen)
{
    char why[160];
    *count = 0;
    while (*v) {
        const char *comma = strchr(v, ',');
        size_t n = comma ? (size_t)(comma - v) : strlen(v);
        while (n && *v == ' ') v++, n--;
        while (n && v[n - 1] == ' ') n--;
        if (n) {
            if (*count == s->hi) return fail(err, errlen, var, "too many entries");
            char *dst = slots + (size_t)*count * s->size;
            if (slice_copy(dst, s->size, (struct slice){v, n}) < 0)
                return fail(err, errlen, var, "entry too long");
            if (s->ok && s->ok(dst, why, sizeof why) < 0) {
                char msg[256];
                snprintf(msg, sizeof msg, "\"%.*s\": %s", (int)(n > 64 ? 64 : n), v, why);
                return fail(err, errlen, var, msg);
            }
            (*count)++;
        }
        if (!comma) break;
        v = comma + 1;
    }
    return 0;
}

/* A text value; with SETTING_EACH a comma list whose entries s->ok checks. */
static int load_text(const struct setting *s, const char *var, const char *v, char *dst, char *err,
                     size_t errlen)
{
    char why[200];
    if (str_copy(dst, s->size, v) < 0) return fail(err, errlen, var, "too long");
    if (!s->ok) return 0;
    if (s->flags & SETTING_EACH) {
        char slots[CONFIG_MAX_LIST][128];
        int n;
        struct setting each = *s;
        each.size = sizeof slots[0];
        each.hi = CONFIG_MAX_LIST;
        if (load_list(&each, var, v, &slots[0][0], &n, err, errlen) < 0) return -1;
        return n ? 0 : fail(err, errlen, var, "lists no host");
    }
    return s->ok(dst, why, sizeof why) < 0 ? fail(err, errlen, var, why) : 0;
}

/* The field at off: struct config's members are placed by the compiler,
 * so each one is aligned for its own type. */
static void *field_at(const struct config *c, size_t off)
{
    return (char *)(uintptr_t)c + off;
}

static int load_setting(struct config *c, const struct setting *s, char *err, size_t errlen)
{
    const char *var = s->name, *v = env(s->name);
    char alias[96];
    char *field = field_at(c, s->off);
    if (!v && (v = env(s->alias))) {
        snprintf(alias, sizeof alias, "%s (alias of %s)", s->alias, s->name);
        var = alias;
    }
    if (s->kind == SETTING_SECRET) return load_secret(s, v, field_at(c, s->off), err, errlen);
    if (!v) v = s->def;
    if (!v) return 0; /* unset: the field stays zero / "" */
    switch (s->kind) {
    case SETTING_INT:
        return load_int(s, var, v, field_at(c, s->off), err, errlen);
    case SETTING_LIST:
        return load_list(s, var, v, field, field_at(c, s->count_off), err, errlen);
    default:
        return load_text(s, var, v, field, err, errlen);
    }
}

/* KUBE_API_URL unset: the in-cluster service address. */
static int default_api_url(struct config *c, char *err, size_t errlen)
{
    const char *h = env("KUBERNETES_SERVICE_HOST"), *p = env("KUBERNETES_SERVICE_PORT");
    unsigned long port = 443;
    if (p && (slice_to_ulong((struct slice){p, strlen(p)}, 65535, &port) < 0 || port == 0))
        return fail(err, errlen, "KUBERNETES_SERVICE_PORT", "must be a port number");
    if (!h) return 0; /* not in a cluster: the kubeconfig decides (kubesrc.c) */
    int n = snprintf(c->kube_api_url, sizeof c->kube_api_url,
                     strchr(h, ':') ? "https://[%s]:%lu" : "https://%s:%lu", h, port);
    if (n < 0 || (size_t)n >= sizeof c->kube_api_url)
        return fail(err, errlen, "KUBERNETES_SERVICE_HOST", "too long");
    char why[200];
    if (ok_url(c->kube_api_url, why, sizeof why) < 0)
        return fail(err, errlen, "KUBERNETES_SERVICE_HOST", why);
    return 0;
}

/* LEASE_NAMESPACE unset: the service account's namespace file beside the
 * token (in a pod, the pod's namespace; elsewhere usually absent, and the
 * lock stays in-process). POD_NAME unset: the hostname. */
static int lease_defaults(struct config *c, char *err, size_t errlen)
{
    char path[sizeof c->kube_token_file + 16], buf[K8S_NS_MAX + 2];
    const char *slash = strrchr(c->kube_token_file, '/');
    int fd = -1;
    if (!c->lease_namespace[0] && slash) {
        snprintf(path, sizeof path, "%.*s/namespace", (int)(slash - c->kube_token_file),
                 c->kube_token_file);
        fd = open(path, O_RDONLY | O_CLOEXEC);
    }
    if (fd >= 0) {
        ssize_t n = read(fd, buf, sizeof buf - 1);
        close(fd);
        while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' ')) n--;
        buf[n > 0 ? n : 0] = 0;
        if (!k8sname_ns_ok(buf, strlen(buf)))
            return fail(err, errlen, "LEASE_NAMESPACE",
                        "unset, and the service account's namespace file holds no namespace");
        strcpy(c->lease_namespace, buf);
    }
    if (!c->pod_name[0]) {
        if (gethostname(buf, sizeof buf) < 0) buf[0] = 0;
        buf[sizeof buf - 1] = 0;
        if (!buf[0]) return fail(err, errlen, "POD_NAME", "unset, and there is no hostname");
        str_copy(c->pod_name, sizeof c->pod_name, buf);
    }
    return 0;
}

/* What one setting cannot check alone. */
static int check_relations(struct config *c, enum config_mode mode, char *err, size_t errlen)
{
    c->signing_secret_len = c->signing_secret ? strlen(c->signing_secret) : 0;
    /* Socket Mode: the app token turns it on; the signing secret is then
     * optional (POST /deploy is served only when it is set). */
    if (c->app_token &&
        (strncmp(c->app_token, "xapp-", 5) != 0 || strpbrk(c->app_token, " \t\r\n")))
        return fail(err, errlen, "SLACK_APP_TOKEN",
                    "must be an app-level token (xapp-...) with connections:write");
    if (mode == CONFIG_SERVE && c->signing_secret_len == 0 && !c->app_token)
        return fail(err, errlen, "SLACK_SIGNING_SECRET",
                    "required to serve (or SLACK_SIGNING_SECRET_FILE); find it under Basic "
                    "Information in the Slack app's settings (or set SLACK_APP_TOKEN for Socket "
                    "Mode)");
    if (mode == CONFIG_SERVE && c->signing_secret_len && c->signing_secret_len < 16)
        return fail(err, errlen, "SLACK_SIGNING_SECRET", "too short to be a Slack signing secret");
    config_parse_addr(c->listen_addr, &c->listen, &c->listen_len);
    if (c->nnamespaces == 0) {
        if (env("DEPLOY_NAMESPACES"))
            return fail(err, errlen, "DEPLOY_NAMESPACES", "lists no namespace");
        strcpy(c->namespaces[0], c->default_ns);
        c->nnamespaces = 1;
    }
    if (!config_namespace_allowed(c, c->default_ns))
        return fail(
            err, errlen, "DEPLOY_NAMESPACES",
            "must include DEPLOY_NAMESPACE, or targets without a namespace are all refused");
    if (!c->kube_api_url[0] && default_api_url(c, err, errlen) < 0) return -1;
    if (lease_defaults(c, err, errlen) < 0) return -1;
    /* A derived rollout timeout may reach ROLLOUT_TIMEOUT_MAX. */
    int rollout = c->rollout_timeout ? c->rollout_timeout : ROLLOUT_TIMEOUT_MAX;
    if (!c->job_timeout) c->job_timeout = rollout + JOB_DEADLINE_SLACK;
    if (c->rollout_timeout && c->job_timeout <= c->rollout_timeout)
        return fail(err, errlen, "JOB_TIMEOUT",
                    "must be longer than ROLLOUT_TIMEOUT, or every slow rollout is killed");
    return 0;
}

int config_load(struct config *c, enum config_mode mode, char *err, size_t errlen)
{
    memset(c, 0, sizeof *c);
    for (size_t i = 0; i < config_nsettings; i++)
        if (load_setting(c, &config_settings[i], err, errlen) < 0) return -1;
    return check_relations(c, mode, err, errlen);
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

/* ---- description and documentation ---- */

void config_describe(const struct config *c, struct jw *w)
{
    for (size_t i = 0; i < config_nsettings; i++) {
        const struct setting *s = &config_settings[i];
        const char *field = field_at(c, s->off);
        char key[64];
        size_t k = 0;
        for (; s->name[k] && k < sizeof key - 1; k++) key[k] = (char)tolower(s->name[k]);
        key[k] = 0;
        jw_key(w, key);
        switch (s->kind) {
        case SETTING_SECRET:
            jw_str(w, *(char *const *)field_at(c, s->off) ? "set" : "unset");
            break;
        case SETTING_INT:
            jw_int(w, *(const int *)field_at(c, s->off));
            break;
        case SETTING_LIST:
            jw_arr_begin(w);
            for (int j = 0; j < *(const int *)field_at(c, s->count_off); j++)
                jw_str(w, field + (size_t)j * s->size);
            jw_arr_end(w);
            break;
        default:
            jw_str(w, field);
        }
    }
}

int config_doc_row(const struct setting *s, char *out, size_t cap)
{
    char name[160], def[160];
    int n = snprintf(name, sizeof name, "`%s`", s->name);
    if (s->flags & SETTING_FILE)
        snprintf(name + n, sizeof name - (size_t)n, " / `%s_FILE`", s->name);
    else if (s->alias)
        snprintf(name + n, sizeof name - (size_t)n, " (alias `%s`)", s->alias);
    if (s->doc_default)
        snprintf(def, sizeof def, "%s", s->doc_default);
    else if (s->def)
        snprintf(def, sizeof def, "`%s`", s->def);
    else
        snprintf(def, sizeof def, "unset");
    n = snprintf(out, cap, "| %s | %s | %s |", name, def, s->meaning);
    return n < 0 || (size_t)n >= cap ? -1 : n;
}

static void forget(char **v, size_t len)
{
    if (!*v) return;
    explicit_bzero(*v, len ? len : strlen(*v));
    free(*v);
    *v = NULL;
}

void config_forget_secrets(struct config *c, int keep_app_token)
{
    forget(&c->signing_secret, c->signing_secret_len);
    c->signing_secret_len = 0;
    forget(&c->verification_token, 0);
    if (!keep_app_token) forget(&c->app_token, 0);
    static const char *const vars[] = {"SLACK_SIGNING_SECRET", "SLACK_VERIFICATION_TOKEN",
                                       "SLACK_APP_TOKEN"};
    for (size_t i = 0; i < sizeof vars / sizeof *vars; i++) {
        if (keep_app_token && i == 2) continue;
        char *v = getenv(vars[i]);
        if (v) explicit_bzero(v, strlen(v));
    }
}
