/* Kubeconfig loading: files -> YAML trees -> the chosen context's cluster
 * and user -> struct kubeconfig. */
#include "kubeconfig.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "str.h"
#include "yaml.h"

/* Read a whole regular file of at most max bytes, NUL-terminated. */
static char *read_file(const char *path, size_t max, size_t *len, char *err, size_t errlen)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    char *buf = NULL;
    *len = 0;
    if (fd < 0) {
        str_fail(err, errlen, "%s: %s", path, strerror(errno));
        return NULL;
    }
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || (size_t)st.st_size > max) {
        str_fail(err, errlen, "%s: not a regular file of at most %zu bytes", path, max);
        goto out;
    }
    buf = malloc((size_t)st.st_size + 1);
    if (!buf) {
        str_fail(err, errlen, "out of memory");
        goto out;
    }
    while (*len < (size_t)st.st_size) {
        ssize_t k = read(fd, buf + *len, (size_t)st.st_size - *len);
        if (k < 0 && errno == EINTR) continue;
        if (k <= 0) break;
        *len += (size_t)k;
    }
    buf[*len] = 0;
out:
    close(fd);
    return buf;
}

char *kubeconfig_b64decode(const char *s, size_t n, size_t *outlen)
{
    char *out = malloc(n / 4 * 3 + 4);
    unsigned v = 0;
    int bits = 0, pad = 0;
    size_t o = 0;
    if (!out) return NULL;
    for (size_t i = 0; i < n; i++) {
        int c = (unsigned char)s[i], d;
        if (c == ' ' || c == '\n' || c == '\r' || c == '\t') continue;
        if (c == '=') {
            pad++;
            continue;
        }
        if (pad) goto bad; /* data after padding */
        if (c >= 'A' && c <= 'Z')
            d = c - 'A';
        else if (c >= 'a' && c <= 'z')
            d = c - 'a' + 26;
        else if (c >= '0' && c <= '9')
            d = c - '0' + 52;
        else if (c == '+')
            d = 62;
        else if (c == '/')
            d = 63;
        else
            goto bad;
        v = (v << 6) | (unsigned)d;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[o++] = (char)((v >> bits) & 0xff);
        }
    }
    if (pad > 2 || bits >= 6 || (v & ((1u << bits) - 1)) != 0) goto bad;
    out[o] = 0;
    *outlen = o;
    return out;
bad:
    free(out);
    return NULL;
}

int kubeconfig_token_ok(const char *t)
{
    size_t n = strlen(t);
    if (n == 0 || n > KUBE_TOKEN_MAX) return 0;
    for (size_t i = 0; i < n; i++)
        if (t[i] < 0x21 || t[i] > 0x7e) return 0;
    return 1;
}

/* ---- Reading fields ---- */

struct src {
    const struct yaml_node *root;
    const char *path; /* the file it came from */
};

/* A string field of map: 0 with out filled ("" when absent or null), -1
 * with err when it is a collection, holds a NUL byte, or is too long. */
static int field(const struct yaml_node *map, const char *key, char *out, size_t cap,
                 const struct src *s, char *err, size_t errlen)
{
    const struct yaml_node *n = yaml_get(map, key);
    out[0] = 0;
    if (!n || n->null) return 0;
    if (n->kind != YAML_SCALAR || strlen(n->val) != n->len)
        return str_fail(err, errlen, "%s: line %d: %s must be a string", s->path, n->line, key);
    if (str_copy(out, cap, n->val) < 0)
        return str_fail(err, errlen, "%s: line %d: %s is longer than %zu bytes", s->path, n->line,
                        key, cap - 1);
    return 0;
}

/* YAML's true as Go's yaml reads a bool field. */
static int is_true(const struct yaml_node *map, const char *key)
{
    const char *v = yaml_str(yaml_get(map, key));
    return v && (strcmp(v, "true") == 0 || strcmp(v, "True") == 0 || strcmp(v, "TRUE") == 0 ||
                 strcmp(v, "yes") == 0 || strcmp(v, "on") == 0);
}

/* path relative to the directory of the file that named it. */
static int resolve(const char *rel, const struct src *s, char *out, size_t cap, char *err,
                   size_t errlen)
{
    const char *slash = strrchr(s->path, '/');
    int n;
    if (rel[0] == '/' || !slash)
        n = snprintf(out, cap, "%s", rel);
    else
        n = snprintf(out, cap, "%.*s/%s", (int)(slash - s->path), s->path, rel);
    if (n < 0 || (size_t)n >= cap)
        return str_fail(err, errlen, "%s: path too long: %s", s->path, rel);
    return 0;
}

/* A "-data" field (base64) or its file form; *pem = NULL when neither. */
static int pem_field(const struct yaml_node *map, const char *key, const struct src *s, char **pem,
                     size_t *len, char *err, size_t errlen)
{
    char dkey[64], file[KUBECONFIG_PATH_MAX], path[KUBECONFIG_PATH_MAX];
    snprintf(dkey, sizeof dkey, "%s-data", key);
    const struct yaml_node *d = yaml_get(map, dkey);
    *pem = NULL;
    if (field(map, key, file, sizeof file, s, err, errlen) < 0) return -1;
    if (d && !d->null) {
        if (file[0])
            return str_fail(err, errlen, "%s: %s and %s are both set: keep one", s->path, key,
                            dkey);
        if (d->kind != YAML_SCALAR || !(*pem = kubeconfig_b64decode(d->val, d->len, len)))
            return str_fail(err, errlen, "%s: line %d: %s is not base64", s->path, d->line, dkey);
        return 0;
    }
    if (!file[0]) return 0;
    char e[300];
    if (resolve(file, s, path, sizeof path, err, errlen) < 0) return -1;
    if (!(*pem = read_file(path, KUBECONFIG_MAX_PEM, len, e, sizeof e)))
        return str_fail(err, errlen, "%s: %s: %s", s->path, key, e);
    return 0;
}

/* The entry named name in section ("clusters", "users", "contexts") of the
 * first document that has one: its inner map (under item), and which
 * document. NULL when none has it. */
static const struct yaml_node *named(const struct src *docs, int n, const char *section,
                                     const char *item, const char *name, const struct src **from)
{
    for (int i = 0; i < n; i++) {
        const struct yaml_node *list = yaml_get(docs[i].root, section);
        if (!list || list->kind != YAML_SEQ) continue;
        for (const struct yaml_node *e = list->kids; e; e = e->next) {
            const char *nm = yaml_str(yaml_get(e, "name"));
            if (nm && strcmp(nm, name) == 0) {
                *from = &docs[i];
                const struct yaml_node *m = yaml_get(e, item);
                return m ? m : e; /* an entry without its map: empty */
            }
        }
    }
    return NULL;
}

/* ---- Cluster, user, exec ---- */

static int read_cluster(const struct yaml_node *c, const struct src *s, struct kubeconfig *k,
                        char *err, size_t errlen)
{
    if (is_true(c, "insecure-skip-tls-verify"))
        return str_fail(
            err, errlen,
            "%s: insecure-skip-tls-verify is refused: give the cluster's CA instead "
            "(certificate-authority-data, e.g. from the kubeconfig kubeadm or k3s wrote)",
            s->path);
    if (field(c, "server", k->server, sizeof k->server, s, err, errlen) < 0 ||
        field(c, "tls-server-name", k->server_name, sizeof k->server_name, s, err, errlen) < 0 ||
        field(c, "proxy-url", k->proxy_url, sizeof k->proxy_url, s, err, errlen) < 0)
        return -1;
    if (!k->server[0])
        return str_fail(err, errlen, "%s: cluster of context \"%s\" has no server", s->path,
                        k->context);
    if (strncmp(k->server, "https://", 8) != 0 && strncmp(k->server, "http://", 7) != 0)
        return str_fail(err, errlen, "%s: server must be an https:// URL (got \"%.60s\")", s->path,
                        k->server);
    if (k->proxy_url[0] && strncmp(k->proxy_url, "http://", 7) != 0)
        return str_fail(err, errlen,
                        "%s: proxy-url: only http:// CONNECT proxies are supported (not \"%.40s\")",
                        s->path, k->proxy_url);
    return pem_field(c, "certificate-authority", s, &k->ca_pem, &k->ca_len, err, errlen);
}

static char *dup_pair(const char *name, const char *value)
{
    size_t a = strlen(name), b = strlen(value);
    char *p = malloc(a + b + 2);
    if (!p) return NULL;
    memcpy(p, name, a);
    p[a] = '=';
    memcpy(p + a + 1, value, b + 1);
    return p;
}

static int read_exec(const struct yaml_node *x, const struct src *s, struct kubeconfig *k,
                     char *err, size_t errlen)
{
    struct kubeconfig_exec *e = &k->exec;
    char cmd[KUBECONFIG_PATH_MAX], mode[32], v[4096];
    if (field(x, "apiVersion", e->api_version, sizeof e->api_version, s, err, errlen) < 0 ||
        field(x, "command", cmd, sizeof cmd, s, err, errlen) < 0 ||
        field(x, "interactiveMode", mode, sizeof mode, s, err, errlen) < 0 ||
        field(x, "installHint", v, sizeof v, s, err, errlen) < 0)
        return -1;
    if (strcmp(e->api_version, "client.authentication.k8s.io/v1") != 0 &&
        strcmp(e->api_version, "client.authentication.k8s.io/v1beta1") != 0)
        return str_fail(err, errlen,
                        "%s: exec apiVersion \"%.60s\": want client.authentication.k8s.io/v1 or "
                        "v1beta1",
                        s->path, e->api_version);
    if (!cmd[0]) return str_fail(err, errlen, "%s: exec has no command", s->path);
    if (strcmp(mode, "Always") == 0)
        return str_fail(err, errlen,
                        "%s: exec interactiveMode Always needs a terminal; deploy-api runs plugins "
                        "without one (use IfAvailable or Never)",
                        s->path);
    if (!mode[0] && strcmp(e->api_version, "client.authentication.k8s.io/v1") == 0)
        return str_fail(err, errlen,
                        "%s: exec interactiveMode must be set for apiVersion v1 (as "
                        "kubectl requires)",
                        s->path);
    if (v[0] && !(e->install_hint = strdup(v))) return str_fail(err, errlen, "out of memory");
    /* Only a command with a '/' is a path (relative to the file). */
    if (strchr(cmd, '/')) {
        if (resolve(cmd, s, e->command, sizeof e->command, err, errlen) < 0) return -1;
    } else {
        str_copy(e->command, sizeof e->command, cmd);
    }
    if (!(e->argv[0] = strdup(e->command))) return str_fail(err, errlen, "out of memory");
    const struct yaml_node *args = yaml_get(x, "args"), *env = yaml_get(x, "env");
    int na = 1, ne = 0;
    if (args && !args->null && args->kind != YAML_SEQ)
        return str_fail(err, errlen, "%s: line %d: exec args must be a list", s->path, args->line);
    for (const struct yaml_node *a = args && !args->null ? args->kids : NULL; a; a = a->next) {
        if (na > KUBECONFIG_MAX_ARGS)
            return str_fail(err, errlen, "%s: more than %d exec args", s->path,
                            KUBECONFIG_MAX_ARGS);
        if (a->kind != YAML_SCALAR || strlen(a->val) != a->len)
            return str_fail(err, errlen, "%s: line %d: exec args must be strings", s->path,
                            a->line);
        if (!(e->argv[na++] = strdup(a->val))) return str_fail(err, errlen, "out of memory");
    }
    if (env && !env->null && env->kind != YAML_SEQ)
        return str_fail(err, errlen, "%s: line %d: exec env must be a list", s->path, env->line);
    for (const struct yaml_node *a = env && !env->null ? env->kids : NULL; a; a = a->next) {
        char name[256], val[4096];
        if (ne >= KUBECONFIG_MAX_ARGS)
            return str_fail(err, errlen, "%s: more than %d exec env entries", s->path,
                            KUBECONFIG_MAX_ARGS);
        if (field(a, "name", name, sizeof name, s, err, errlen) < 0 ||
            field(a, "value", val, sizeof val, s, err, errlen) < 0)
            return -1;
        if (!name[0] || strchr(name, '='))
            return str_fail(err, errlen, "%s: line %d: exec env needs a name without '='", s->path,
                            a->line);
        if (!(e->env[ne++] = dup_pair(name, val))) return str_fail(err, errlen, "out of memory");
    }
    k->has_exec = 1;
    return 0;
}

static int read_user(const struct yaml_node *u, const struct src *s, struct kubeconfig *k,
                     char *err, size_t errlen)
{
    static const char *const refused[][2] = {
        {"auth-provider", "auth-provider plugins were removed from kubectl: use an exec plugin "
                          "(e.g. gke-gcloud-auth-plugin, kubelogin)"},
        {"username", "basic auth (username/password) is refused: use a client certificate or a "
                     "token"},
        {"password", "basic auth (username/password) is refused: use a client certificate or a "
                     "token"},
        {"as", "impersonation (as) is not supported: use the impersonated user's credentials"},
        {"as-groups", "impersonation (as-groups) is not supported"},
        {"as-uid", "impersonation (as-uid) is not supported"},
    };
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        const struct yaml_node *n = yaml_get(u, refused[i][0]);
        if (n && !n->null)
            return str_fail(err, errlen, "%s: user of context \"%s\": %s", s->path, k->context,
                            refused[i][1]);
    }
    char tok[KUBE_TOKEN_MAX], tf[KUBECONFIG_PATH_MAX];
    if (field(u, "token", tok, sizeof tok, s, err, errlen) < 0 ||
        field(u, "tokenFile", tf, sizeof tf, s, err, errlen) < 0)
        return -1;
    if (tok[0] && !kubeconfig_token_ok(tok))
        return str_fail(err, errlen, "%s: token has bytes an HTTP header cannot carry", s->path);
    if (tok[0] && !(k->token = strdup(tok))) return str_fail(err, errlen, "out of memory");
    memset(tok, 0, sizeof tok);
    /* kubectl: a token wins over tokenFile. */
    if (!k->token && tf[0] && resolve(tf, s, k->token_file, sizeof k->token_file, err, errlen) < 0)
        return -1;
    if (pem_field(u, "client-certificate", s, &k->cert_pem, &k->cert_len, err, errlen) < 0 ||
        pem_field(u, "client-key", s, &k->key_pem, &k->key_len, err, errlen) < 0)
        return -1;
    if (!k->cert_pem != !k->key_pem)
        return str_fail(err, errlen, "%s: user of context \"%s\" has a client %s without its %s",
                        s->path, k->context, k->cert_pem ? "certificate" : "key",
                        k->cert_pem ? "key" : "certificate");
    const struct yaml_node *x = yaml_get(u, "exec");
    if (x && !x->null) {
        if (k->token || k->token_file[0])
            return str_fail(
                err, errlen,
                "%s: user of context \"%s\" has both a token and an exec plugin: keep one", s->path,
                k->context);
        if (read_exec(x, s, k, err, errlen) < 0) return -1;
    }
    return 0;
}

/* ---- Merge and resolve ---- */

static int resolve_context(const struct src *docs, int n, const char *want, struct kubeconfig *k,
                           char *err, size_t errlen)
{
    const struct src *from = NULL, *cfrom = NULL;
    char name[256];
    if (want && *want) {
        str_copy(k->context, sizeof k->context, want);
    } else {
        for (int i = 0; i < n && !k->context[0]; i++)
            if (field(docs[i].root, "current-context", k->context, sizeof k->context, &docs[i], err,
                      errlen) < 0)
                return -1;
        if (!k->context[0])
            return str_fail(err, errlen,
                            "%s: no current-context: pass --context NAME (kubectl config "
                            "get-contexts lists them)",
                            k->files);
    }
    const struct yaml_node *c = named(docs, n, "contexts", "context", k->context, &from);
    if (!c)
        return str_fail(err, errlen,
                        "%s: context \"%.100s\" not found (kubectl config get-contexts lists them)",
                        k->files, k->context);
    cfrom = from;
    if (field(c, "namespace", k->ns, sizeof k->ns, cfrom, err, errlen) < 0 ||
        field(c, "cluster", name, sizeof name, cfrom, err, errlen) < 0)
        return -1;
    const struct yaml_node *cl =
        name[0] ? named(docs, n, "clusters", "cluster", name, &from) : NULL;
    if (!cl)
        return str_fail(err, errlen, "%s: cluster \"%.100s\" of context \"%.100s\" not found",
                        k->files, name, k->context);
    if (read_cluster(cl, from, k, err, errlen) < 0) return -1;
    if (field(c, "user", name, sizeof name, cfrom, err, errlen) < 0) return -1;
    if (!name[0]) return 0; /* no user: anonymous, or a proxy that adds credentials */
    const struct yaml_node *u = named(docs, n, "users", "user", name, &from);
    if (!u)
        return str_fail(err, errlen, "%s: user \"%.100s\" of context \"%.100s\" not found",
                        k->files, name, k->context);
    return read_user(u, from, k, err, errlen);
}

int kubeconfig_from_docs(const char *const *docs, const size_t *lens, const char *const *paths,
                         int n, const char *context, struct kubeconfig *k, char *err, size_t errlen)
{
    struct src s[KUBECONFIG_MAX_FILES];
    int parsed = 0, rc = -1;
    memset(k, 0, sizeof *k);
    if (n > KUBECONFIG_MAX_FILES)
        return str_fail(err, errlen, "KUBECONFIG: more than %d files", KUBECONFIG_MAX_FILES);
    for (int i = 0; i < n; i++) {
        size_t used = strlen(k->files);
        snprintf(k->files + used, sizeof k->files - used, "%s%s", i ? ":" : "", paths[i]);
    }
    for (; parsed < n; parsed++) {
        struct yaml_node *root = NULL;
        char e[256];
        s[parsed].path = paths[parsed];
        if (yaml_parse(docs[parsed], lens[parsed], &root, e, sizeof e) < 0) {
            str_fail(err, errlen, "%s: %s", paths[parsed], e);
            goto out;
        }
        s[parsed].root = root;
        if (root && root->kind != YAML_MAP) {
            str_fail(err, errlen,
                     "%s: not a kubeconfig (want a mapping with clusters, users, "
                     "contexts)",
                     paths[parsed]);
            parsed++;
            goto out;
        }
    }
    rc = resolve_context(s, n, context, k, err, errlen);
out:
    for (int i = 0; i < parsed; i++) yaml_free((struct yaml_node *)s[i].root);
    if (rc < 0) kubeconfig_free(k);
    return rc;
}

/* The files to read: --kubeconfig, else KUBECONFIG's existing entries,
 * else ~/.kube/config if it exists. 0 when there are none. */
static int pick_files(const struct kubeconfig_where *w, char paths[][KUBECONFIG_PATH_MAX],
                      char *err, size_t errlen)
{
    int n = 0;
    if (w->flag && *w->flag) {
        if (str_copy(paths[0], KUBECONFIG_PATH_MAX, w->flag) < 0)
            return str_fail(err, errlen, "--kubeconfig: path too long");
        if (access(paths[0], R_OK) < 0)
            return str_fail(err, errlen, "--kubeconfig %s: %s", w->flag, strerror(errno));
        return 1;
    }
    if (w->env && *w->env) {
        for (const char *p = w->env; *p;) {
            size_t len = strcspn(p, ":");
            if (len > 0 && len < KUBECONFIG_PATH_MAX) {
                if (n >= KUBECONFIG_MAX_FILES)
                    return str_fail(err, errlen, "KUBECONFIG: more than %d files",
                                    KUBECONFIG_MAX_FILES);
                memcpy(paths[n], p, len);
                paths[n][len] = 0;
                int dup = 0;
                for (int i = 0; i < n; i++) dup |= strcmp(paths[i], paths[n]) == 0;
                if (!dup && access(paths[n], F_OK) == 0) n++;
            }
            p += len;
            if (*p == ':') p++;
        }
        if (n > 0) return n;
        /* kubectl never falls back to ~/.kube/config when KUBECONFIG is set */
        if (w->in_cluster) return 0;
        return str_fail(err, errlen, "KUBECONFIG names no existing file (%.200s)", w->env);
    }
    if (w->in_cluster) return 0;
    if (w->home && *w->home) {
        snprintf(paths[0], KUBECONFIG_PATH_MAX, "%.900s/.kube/config", w->home);
        if (access(paths[0], F_OK) == 0) return 1;
    }
    return 0;
}

enum kubeconfig_found kubeconfig_load(const struct kubeconfig_where *w, struct kubeconfig *k,
                                      char *err, size_t errlen)
{
    static char paths[KUBECONFIG_MAX_FILES][KUBECONFIG_PATH_MAX];
    char *docs[KUBECONFIG_MAX_FILES];
    size_t lens[KUBECONFIG_MAX_FILES];
    const char *pp[KUBECONFIG_MAX_FILES];
    memset(k, 0, sizeof *k);
    int n = pick_files(w, paths, err, errlen);
    if (n < 0) return KUBECONFIG_ERROR;
    if (n == 0) {
        if (w->in_cluster) return KUBECONFIG_IN_CLUSTER;
        str_fail(err, errlen,
                 "no Kubernetes API configured: set KUBE_API_URL, pass --kubeconfig FILE, set "
                 "KUBECONFIG, or create ~/.kube/config (on a kubeadm node: "
                 "/etc/kubernetes/admin.conf; k3s: /etc/rancher/k3s/k3s.yaml)");
        return KUBECONFIG_ERROR;
    }
    int got = 0, rc = -1;
    for (; got < n; got++) {
        if (!(docs[got] = read_file(paths[got], KUBECONFIG_MAX_FILE, &lens[got], err, errlen)))
            goto out;
        pp[got] = paths[got];
    }
    rc = kubeconfig_from_docs((const char *const *)docs, lens, pp, n, w->context, k, err, errlen);
out:
    for (int i = 0; i < got; i++) free(docs[i]);
    return rc < 0 ? KUBECONFIG_ERROR : KUBECONFIG_LOADED;
}

static void wipe_free(char *p, size_t n)
{
    if (!p) return;
    memset(p, 0, n);
    free(p);
}

void kubeconfig_free(struct kubeconfig *k)
{
    free(k->ca_pem);
    free(k->cert_pem);
    wipe_free(k->key_pem, k->key_len);
    wipe_free(k->token, k->token ? strlen(k->token) : 0);
    for (int i = 0; k->exec.argv[i]; i++) free(k->exec.argv[i]);
    for (int i = 0; k->exec.env[i]; i++) free(k->exec.env[i]);
    free(k->exec.install_hint);
    memset(k, 0, sizeof *k);
}
