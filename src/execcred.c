/* Exec credential plugins: the process (fork, execve, bounded read, a
 * deadline) and the ExecCredential answer (read with the YAML/JSON reader). */
#include "execcred.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "loop.h"
#include "str.h"
#include "yaml.h"

extern char **environ;

void execcred_free(struct execcred *c)
{
    if (c->token) memset(c->token, 0, strlen(c->token));
    if (c->key_pem) memset(c->key_pem, 0, c->key_len);
    free(c->token);
    free(c->cert_pem);
    free(c->key_pem);
    memset(c, 0, sizeof *c);
}

/* ---- The answer ---- */

static int digits(const char **p, int n, int *out)
{
    *out = 0;
    for (int i = 0; i < n; i++, (*p)++) {
        if (**p < '0' || **p > '9') return -1;
        *out = *out * 10 + (**p - '0');
    }
    return 0;
}

long long execcred_time(const char *s)
{
    struct tm tm;
    int y, mo, d, h, mi, sec, oh = 0, om = 0, sign = 0;
    memset(&tm, 0, sizeof tm);
    if (digits(&s, 4, &y) < 0 || *s++ != '-' || digits(&s, 2, &mo) < 0 || *s++ != '-' ||
        digits(&s, 2, &d) < 0 || (*s != 'T' && *s != 't') || !*s++ || digits(&s, 2, &h) < 0 ||
        *s++ != ':' || digits(&s, 2, &mi) < 0 || *s++ != ':' || digits(&s, 2, &sec) < 0)
        return -1;
    if (*s == '.') {
        s++;
        if (*s < '0' || *s > '9') return -1;
        while (*s >= '0' && *s <= '9') s++;
    }
    if (*s == 'Z' || *s == 'z') {
        s++;
    } else if (*s == '+' || *s == '-') {
        sign = *s++ == '-' ? -1 : 1;
        if (digits(&s, 2, &oh) < 0 || *s++ != ':' || digits(&s, 2, &om) < 0) return -1;
    } else {
        return -1;
    }
    if (*s || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60 || oh > 23 ||
        om > 59)
        return -1;
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = sec;
    return (long long)timegm(&tm) - sign * (oh * 3600LL + om * 60LL);
}

static char *dup_str(const struct yaml_node *n)
{
    const char *v = yaml_str(n);
    return v && *v && strlen(v) == n->len ? strdup(v) : NULL;
}

int execcred_parse(const char *json, size_t len, const char *api_version, long long now,
                   struct execcred *c, char *err, size_t errlen)
{
    struct yaml_node *r = NULL;
    char e[256];
    int rc = -1;
    memset(c, 0, sizeof *c);
    if (yaml_parse(json, len, &r, e, sizeof e) < 0)
        return str_fail(err, errlen, "exec plugin answer is not JSON (%s)", e);
    const char *av = yaml_str(yaml_get(r, "apiVersion")), *kind = yaml_str(yaml_get(r, "kind"));
    const struct yaml_node *st = yaml_get(r, "status");
    if (!kind || strcmp(kind, "ExecCredential") != 0) {
        str_fail(err, errlen, "exec plugin answer is not an ExecCredential");
        goto out;
    }
    if (!av || strcmp(av, api_version) != 0) {
        str_fail(err, errlen, "exec plugin answered apiVersion %.60s, the kubeconfig asks for %s",
                 av ? av : "(none)", api_version);
        goto out;
    }
    const char *exp = yaml_str(yaml_get(st, "expirationTimestamp"));
    if (exp) {
        c->expires = execcred_time(exp);
        if (c->expires < 0) {
            str_fail(err, errlen,
                     "exec plugin answer: expirationTimestamp \"%.40s\" is not RFC 3339", exp);
            goto out;
        }
        if (c->expires <= now) {
            str_fail(err, errlen,
                     "exec plugin returned an expired credential (expirationTimestamp %.40s): "
                     "refresh its login and retry",
                     exp);
            goto out;
        }
    }
    c->token = dup_str(yaml_get(st, "token"));
    c->cert_pem = dup_str(yaml_get(st, "clientCertificateData"));
    c->key_pem = dup_str(yaml_get(st, "clientKeyData"));
    c->cert_len = c->cert_pem ? strlen(c->cert_pem) : 0;
    c->key_len = c->key_pem ? strlen(c->key_pem) : 0;
    if (!c->cert_pem != !c->key_pem) {
        str_fail(err, errlen,
                 "exec plugin answer has clientCertificateData or clientKeyData without "
                 "the other");
        goto out;
    }
    if (c->token && !kubeconfig_token_ok(c->token)) {
        str_fail(err, errlen,
                 "exec plugin answer: the token has bytes an HTTP header cannot carry");
        goto out;
    }
    if (!c->token && !c->cert_pem) {
        str_fail(err, errlen, "exec plugin answer has neither a token nor a client certificate");
        goto out;
    }
    rc = 0;
out:
    yaml_free(r);
    if (rc < 0) execcred_free(c);
    return rc;
}

/* ---- The process ---- */

/* Secrets of ours a plugin has no use for (kubectl has none of them). */
static int secret_var(const char *e)
{
    static const char *const names[] = {
        "SLACK_SIGNING_SECRET=", "SLACK_APP_TOKEN=", "SLACK_VERIFICATION_TOKEN="};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strncmp(e, names[i], strlen(names[i])) == 0) return 1;
    return 0;
}

/* The plugin's environment: ours without our secrets, its env entries
 * (replacing ours), and KUBERNETES_EXEC_INFO. NULL on allocation failure. */
static char **plugin_env(const struct kubeconfig_exec *e, char *info)
{
    size_t n = 0, k = 0;
    while (environ[n]) n++;
    char **env = calloc(n + KUBECONFIG_MAX_ARGS + 2, sizeof *env);
    if (!env) return NULL;
    for (size_t i = 0; i < n; i++) {
        size_t nl = strcspn(environ[i], "=");
        int replaced =
            strncmp(environ[i], "KUBERNETES_EXEC_INFO=", 21) == 0 || secret_var(environ[i]);
        for (int j = 0; e->env[j]; j++)
            if (strncmp(e->env[j], environ[i], nl + 1) == 0) replaced = 1;
        if (!replaced) env[k++] = environ[i];
    }
    for (int j = 0; e->env[j]; j++) env[k++] = e->env[j];
    env[k++] = info;
    env[k] = NULL;
    return env;
}

/* In the child: stdin /dev/null, stdout the pipe; execve the command (or
 * each PATH candidate); report errno on the status pipe if none runs. */
static void child_exec(const struct kubeconfig_exec *e, char **env, int out, int status)
{
    int dn = open("/dev/null", O_RDONLY);
    if (dn >= 0)
        dup2(dn, 0);
    else
        close(0);
    dup2(out, 1);
    int saved = ENOENT;
    if (strchr(e->command, '/')) {
        execve(e->command, e->argv, env);
        saved = errno;
    } else {
        const char *path = getenv("PATH");
        char cand[KUBECONFIG_PATH_MAX + 256];
        for (const char *p = path && *path ? path : "/usr/local/bin:/usr/bin:/bin"; *p;) {
            size_t len = strcspn(p, ":");
            snprintf(cand, sizeof cand, "%.*s/%s", (int)len, len ? p : ".", e->command);
            execve(cand, e->argv, env);
            if (errno != ENOENT && errno != ENOTDIR) saved = errno;
            p += len;
            if (*p == ':') p++;
        }
    }
    (void)!write(status, &saved, sizeof saved);
    _exit(127);
}

/* Read the plugin's stdout until EOF, the bound or the deadline. */
static long read_answer(int fd, char *buf, size_t cap, long long deadline, int timeout_s, char *err,
                        size_t errlen)
{
    size_t len = 0;
    for (;;) {
        long long left = deadline - loop_clock_ms();
        if (left <= 0) return str_fail(err, errlen, "did not answer within %d s", timeout_s);
        struct pollfd p = {fd, POLLIN, 0};
        int r = poll(&p, 1, (int)(left > 1000 ? 1000 : left));
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) continue;
        if (len >= cap)
            return str_fail(err, errlen, "answered more than %u bytes", EXECCRED_MAX_OUTPUT);
        ssize_t k = read(fd, buf + len, cap - len);
        if (k < 0 && errno == EINTR) continue;
        if (k < 0) return str_fail(err, errlen, "read: %s", strerror(errno));
        if (k == 0) return (long)len;
        len += (size_t)k;
    }
}

/* Wait for pid until deadline, then kill it. Returns its wait status, or -1. */
static int reap(pid_t pid, long long deadline)
{
    int st;
    for (;;) {
        pid_t r = waitpid(pid, &st, WNOHANG);
        if (r == pid) return st;
        if (r < 0 && errno != EINTR) return -1;
        if (loop_clock_ms() >= deadline) {
            kill(pid, SIGKILL);
            waitpid(pid, &st, 0);
            return -1;
        }
        struct timespec ts = {0, 10 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
}

static int spawn_fail(const struct kubeconfig_exec *e, int code, char *err, size_t errlen)
{
    if (code != ENOENT)
        return str_fail(err, errlen, "exec plugin %.200s: cannot run it: %s", e->command,
                        strerror(code));
    /* One line: the hint's own line breaks become spaces. */
    char hint[600] = "";
    if (e->install_hint) {
        snprintf(hint, sizeof hint, " (%s)", e->install_hint);
        for (char *p = hint; *p; p++)
            if (*p == '\n' || *p == '\r') *p = ' ';
    }
    return str_fail(err, errlen, "exec plugin: executable %.200s not found%s", e->command, hint);
}

int execcred_run(const struct kubeconfig_exec *e, int timeout_s, struct execcred *c, char *err,
                 size_t errlen)
{
    char info[200], ebuf[200];
    int out[2] = {-1, -1}, status[2] = {-1, -1}, code = 0, rc = -1;
    char *buf = malloc(EXECCRED_MAX_OUTPUT), **env = NULL;
    snprintf(info, sizeof info,
             "KUBERNETES_EXEC_INFO={\"apiVersion\":\"%s\",\"kind\":\"ExecCredential\","
             "\"spec\":{\"interactive\":false}}",
             e->api_version);
    memset(c, 0, sizeof *c);
    if (!buf || !(env = plugin_env(e, info)) || pipe2(out, O_CLOEXEC) < 0 ||
        pipe2(status, O_CLOEXEC) < 0) {
        str_fail(err, errlen, "exec plugin: out of resources");
        goto done;
    }
    long long deadline = loop_clock_ms() + timeout_s * 1000LL;
    pid_t pid = fork();
    if (pid < 0) {
        str_fail(err, errlen, "exec plugin: fork: %s", strerror(errno));
        goto done;
    }
    if (pid == 0) child_exec(e, env, out[1], status[1]);
    close(out[1]);
    close(status[1]);
    out[1] = status[1] = -1;
    long n = read_answer(out[0], buf, EXECCRED_MAX_OUTPUT, deadline, timeout_s, ebuf, sizeof ebuf);
    if (n < 0) kill(pid, SIGKILL);
    int st = reap(pid, deadline);
    if (read(status[0], &code, sizeof code) == (ssize_t)sizeof code) {
        spawn_fail(e, code, err, errlen);
    } else if (n < 0) {
        str_fail(err, errlen, "exec plugin %.200s %s", e->command, ebuf);
    } else if (st < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
        str_fail(err, errlen, "exec plugin %.200s failed (%s %d); its messages are above",
                 e->command, st >= 0 && WIFEXITED(st) ? "exit status" : "signal",
                 st < 0          ? SIGKILL
                 : WIFEXITED(st) ? WEXITSTATUS(st)
                                 : WTERMSIG(st));
    } else {
        rc = execcred_parse(buf, (size_t)n, e->api_version, (long long)time(NULL), c, err, errlen);
    }
done:
    for (int i = 0; i < 2; i++) {
        if (out[i] >= 0) close(out[i]);
        if (status[i] >= 0) close(status[i]);
    }
    if (buf) memset(buf, 0, EXECCRED_MAX_OUTPUT);
    free(buf);
    free(env);
    return rc;
}

int execcred_fill(struct kubeconfig *k, char *err, size_t errlen)
{
    struct execcred c;
    if (!k->has_exec) return 0;
    if (execcred_run(&k->exec, EXECCRED_TIMEOUT, &c, err, errlen) < 0) return -1;
    if (c.token) {
        if (k->token) memset(k->token, 0, strlen(k->token));
        free(k->token);
        k->token = c.token;
        c.token = NULL;
    }
    if (c.cert_pem) {
        free(k->cert_pem);
        if (k->key_pem) memset(k->key_pem, 0, k->key_len);
        free(k->key_pem);
        k->cert_pem = c.cert_pem;
        k->cert_len = c.cert_len;
        k->key_pem = c.key_pem;
        k->key_len = c.key_len;
        c.cert_pem = c.key_pem = NULL;
    }
    execcred_free(&c);
    return 0;
}
