/* Command-line parsing: one table of commands (operands, options, help),
 * one table of options, one pass over argv. */
#include "cli.h"

#include <stdio.h>
#include <string.h>

#include "k8sname.h"
#include "str.h"

enum {
    O_CONTAINER = 1 << 0,
    O_NAMESPACE = 1 << 1,
    O_CONTEXT = 1 << 2,
    O_KUBECONFIG = 1 << 3,
    O_AS = 1 << 4,
    O_OUTPUT = 1 << 5,
    O_NOPTS = 6,
};
#define O_KUBE (O_CONTEXT | O_KUBECONFIG)

static const struct opt {
    char shortname; /* 0: long form only */
    const char *longname;
} opts[O_NOPTS] = {
    {'c', "container"}, {'n', "namespace"}, {0, "context"},
    {0, "kubeconfig"},  {0, "as"},          {'o', "output"},
};

static const struct verb {
    const char *name;
    enum cli_verb verb;
    int min, max;  /* operands */
    unsigned opts; /* options it takes */
    const char *help;
} verbs[] = {
    {"serve", CLI_SERVE, 0, 0, O_KUBE,
     "usage: deploy-api [serve] [--kubeconfig FILE] [--context NAME]\n"
     "Serve the Slack command (POST /deploy, or Socket Mode when SLACK_APP_TOKEN is set).\n"
     "The API server and credentials come from KUBE_API_URL, else the kubeconfig\n"
     "(--kubeconfig, KUBECONFIG, in-cluster, ~/.kube/config). See the README.\n"},
    {"deploy", CLI_DEPLOY, 2, 2, O_CONTAINER | O_NAMESPACE | O_KUBE | O_AS,
     "usage: deploy-api deploy [NAMESPACE/]DEPLOYMENT VERSION [-c CONTAINER] [options]\n"
     "Set the container's image to its repository with tag VERSION (or a sha256:\n"
     "digest), then follow the rollout; progress goes to stderr.\n"
     "  -c, --container NAME   the container to change (default: named like the\n"
     "                         deployment, else the only one)\n"},
    {"status", CLI_STATUS, 1, 1, O_NAMESPACE | O_KUBE | O_OUTPUT,
     "usage: deploy-api status [NAMESPACE/]DEPLOYMENT [-o json] [options]\n"
     "Images, replicas updated/available, and the rollout state.\n"
     "  -o json                one JSON object (fields in the README)\n"},
    {"history", CLI_HISTORY, 1, 2, O_NAMESPACE | O_KUBE | O_OUTPUT,
     "usage: deploy-api history [NAMESPACE/]DEPLOYMENT [N] [-o json] [options]\n"
     "The newest N revisions (default 10): when, image, who.\n"
     "  -o json                one JSON object (fields in the README)\n"},
    {"rollback", CLI_ROLLBACK, 1, 2, O_NAMESPACE | O_KUBE | O_AS,
     "usage: deploy-api rollback [NAMESPACE/]DEPLOYMENT [REVISION] [options]\n"
     "Roll back like kubectl rollout undo (to REVISION, default the previous one),\n"
     "then follow the rollout.\n"},
    {"restart", CLI_RESTART, 1, 1, O_NAMESPACE | O_KUBE | O_AS,
     "usage: deploy-api restart [NAMESPACE/]DEPLOYMENT [options]\n"
     "Restart like kubectl rollout restart, then follow the rollout.\n"},
    {"check", CLI_CHECK, 0, 0, O_KUBE,
     "usage: deploy-api check [--kubeconfig FILE] [--context NAME]\n"
     "Preflight: load the configuration, reach the API server, ask it whether these\n"
     "credentials may do what deploy-api does in each DEPLOY_NAMESPACES namespace,\n"
     "and open TLS to each RESPONSE_URL_HOSTS host. One line per check; exit 1 if\n"
     "any fails.\n"},
    {"version", CLI_VERSION, 0, 0, 0, "usage: deploy-api version\n"},
    {"help", CLI_HELP, 0, 1, 0,
     "usage: deploy-api [serve]\n"
     "       deploy-api deploy [NAMESPACE/]DEPLOYMENT VERSION [-c CONTAINER]\n"
     "       deploy-api status [NAMESPACE/]DEPLOYMENT [-o json]\n"
     "       deploy-api history [NAMESPACE/]DEPLOYMENT [N] [-o json]\n"
     "       deploy-api rollback [NAMESPACE/]DEPLOYMENT [REVISION]\n"
     "       deploy-api restart [NAMESPACE/]DEPLOYMENT\n"
     "       deploy-api check\n"
     "       deploy-api version\n"
     "       deploy-api COMMAND --help\n"},
};

static const char common_help[] =
    "Options:\n"
    "  -n, --namespace NS     namespace (default: the kubeconfig context's, else\n"
    "                         DEPLOY_NAMESPACE)\n"
    "      --context NAME     kubeconfig context (default: current-context)\n"
    "      --kubeconfig FILE  kubeconfig file (default: KUBECONFIG, in-cluster,\n"
    "                         ~/.kube/config)\n"
    "      --as NAME          who the change-cause names (default: $USER@hostname)\n"
    "Exit status: 0 done, 1 failed, 2 usage error.\n";

#define NVERBS (sizeof verbs / sizeof verbs[0])

static const struct verb *verb_of(enum cli_verb v)
{
    for (size_t i = 0; i < NVERBS; i++)
        if (verbs[i].verb == v) return &verbs[i];
    return &verbs[NVERBS - 1];
}

const char *cli_verb_name(enum cli_verb v)
{
    return verb_of(v)->name;
}

const char *cli_help(enum cli_verb v)
{
    /* Each command's own text, then the common options (static, built once). */
    static char buf[NVERBS][2048];
    const struct verb *vb = verb_of(v);
    char *b = buf[vb - verbs];
    if (!b[0]) snprintf(b, sizeof buf[0], "%s%s", vb->help, vb->opts ? common_help : "");
    return b;
}

/* The user's bytes for a message: at most 40, other than printable ASCII as '?'. */
static const char *shown(const char *s, char *out, size_t cap)
{
    size_t i = 0;
    for (; s[i] && i < 40 && i + 4 < cap; i++) out[i] = (s[i] >= 0x20 && s[i] < 0x7f) ? s[i] : '?';
    if (s[i] && i + 4 < cap) {
        memcpy(out + i, "...", 3);
        i += 3;
    }
    out[i] = 0;
    return out;
}

/* A positive decimal number <= max (no sign, no leading zero); -1 if not. */
static long number(const char *s, long max)
{
    long v = 0;
    if (!*s || *s == '0' || strspn(s, "0123456789") != strlen(s) || strlen(s) > 10) return -1;
    for (; *s; s++) v = v * 10 + (*s - '0');
    return v <= max ? v : -1;
}

static int target(struct cli *c, const char *t, const char *verb, char *err, size_t errlen)
{
    char q[48];
    const char *slash = strchr(t, '/');
    const char *name = slash ? slash + 1 : t;
    if ((slash && !k8sname_ns_ok(t, (size_t)(slash - t))) || !k8sname_name_ok(name, strlen(name)))
        return str_fail(err, errlen,
                        "%s: \"%s\" is not a target: want [NAMESPACE/]DEPLOYMENT (DNS-1123 names)",
                        verb, shown(t, q, sizeof q));
    if (slash) {
        size_t n = (size_t)(slash - t);
        if (c->ns[0] && (strlen(c->ns) != n || memcmp(c->ns, t, n) != 0))
            return str_fail(err, errlen, "%s: namespace given twice (-n %s and %s)", verb, c->ns,
                            shown(t, q, sizeof q));
        memcpy(c->ns, t, n);
        c->ns[n] = 0;
    }
    str_copy(c->name, sizeof c->name, name);
    return 0;
}

/* Check and store one option's value. */
static int set_opt(struct cli *c, int i, const char *v, char *err, size_t errlen)
{
    char q[48];
    size_t n = strlen(v);
    int printable = 1;
    for (size_t k = 0; k < n; k++)
        if ((unsigned char)v[k] < 0x20 || v[k] == 0x7f) printable = 0;
    switch (1 << i) {
    case O_CONTAINER:
        if (!k8sname_ns_ok(v, n))
            return str_fail(err, errlen, "-c: \"%s\" is not a container name (DNS-1123 label)",
                            shown(v, q, sizeof q));
        return str_copy(c->container, sizeof c->container, v);
    case O_NAMESPACE:
        if (!k8sname_ns_ok(v, n))
            return str_fail(err, errlen, "-n: \"%s\" is not a namespace name (DNS-1123 label)",
                            shown(v, q, sizeof q));
        return str_copy(c->ns, sizeof c->ns, v);
    case O_CONTEXT:
        if (!n || !printable || str_copy(c->context, sizeof c->context, v) < 0)
            return str_fail(err, errlen,
                            "--context: want a context name of 1 to %d printable bytes",
                            CLI_CONTEXT_MAX);
        return 0;
    case O_KUBECONFIG:
        if (!n || str_copy(c->kubeconfig, sizeof c->kubeconfig, v) < 0)
            return str_fail(err, errlen, "--kubeconfig: want a file name of 1 to %d bytes",
                            CLI_PATH_MAX - 1);
        return 0;
    case O_AS:
        if (!n || !printable || str_copy(c->as, sizeof c->as, v) < 0)
            return str_fail(err, errlen, "--as: want a name of 1 to %d printable bytes",
                            CLI_AS_MAX);
        return 0;
    default: /* O_OUTPUT */
        if (strcmp(v, "json") != 0)
            return str_fail(err, errlen,
                            "-o: \"%s\" is not an output format (only json; plain "
                            "text is the default)",
                            shown(v, q, sizeof q));
        c->json = 1;
        return 0;
    }
}

/* argv[*i] is an option: find it, take its value (inline or the next
 * argument), store it. Returns the option's bit, or -1. */
static int option(struct cli *c, int argc, char *const argv[], int *i, unsigned *seen, char *err,
                  size_t errlen)
{
    const char *a = argv[*i], *val = NULL;
    char q[48];
    int k = -1;
    if (a[1] == '-') {
        const char *eq = strchr(a + 2, '=');
        size_t n = eq ? (size_t)(eq - a - 2) : strlen(a + 2);
        if (n == 4 && memcmp(a + 2, "help", 4) == 0 && !eq) return 0;
        for (int j = 0; j < O_NOPTS; j++)
            if (strlen(opts[j].longname) == n && memcmp(opts[j].longname, a + 2, n) == 0) k = j;
        if (eq) val = eq + 1;
    } else {
        if (a[1] == 'h' && !a[2]) return 0;
        for (int j = 0; j < O_NOPTS; j++)
            if (opts[j].shortname && opts[j].shortname == a[1]) k = j;
        if (a[2]) val = a + 2;
    }
    if (k < 0) return str_fail(err, errlen, "unknown option %s", shown(a, q, sizeof q));
    if (!val) {
        if (*i + 1 >= argc)
            return str_fail(err, errlen, "option --%s needs a value", opts[k].longname);
        val = argv[++*i];
    }
    if (*seen & (1u << k))
        return str_fail(err, errlen, "option --%s given twice", opts[k].longname);
    *seen |= 1u << k;
    if (set_opt(c, k, val, err, errlen) < 0) return -1;
    return 1 << k;
}

static const struct verb *find_verb(const char *name)
{
    for (size_t i = 0; i < NVERBS; i++)
        if (strcmp(verbs[i].name, name) == 0) return &verbs[i];
    return NULL;
}

/* The operands after the command, by command. */
static int operands(struct cli *c, const struct verb *vb, const char *const pos[], int npos,
                    char *err, size_t errlen)
{
    char q[48];
    if (npos < vb->min)
        return str_fail(err, errlen, "%s: missing %s (see deploy-api %s --help)", vb->name,
                        npos == 0 && vb->min > 0 ? "the target" : "the version", vb->name);
    if (npos > vb->max)
        return str_fail(err, errlen, "%s: unexpected argument \"%s\" (see deploy-api %s --help)",
                        vb->name, shown(pos[vb->max], q, sizeof q), vb->name);
    if (vb->verb == CLI_HELP) {
        const struct verb *on = npos ? find_verb(pos[0]) : vb;
        if (!on)
            return str_fail(err, errlen, "help: unknown command \"%s\"",
                            shown(pos[0], q, sizeof q));
        c->verb = on->verb;
        c->help = 1;
        return 0;
    }
    if (npos > 0 && target(c, pos[0], vb->name, err, errlen) < 0) return -1;
    if (vb->verb == CLI_DEPLOY && !k8sname_version_ok(pos[1], strlen(pos[1])))
        return str_fail(err, errlen,
                        "deploy: \"%s\" is not a version: want a tag or sha256:<64 hex> (never an "
                        "image reference)",
                        shown(pos[1], q, sizeof q));
    if (vb->verb == CLI_DEPLOY) str_copy(c->version, sizeof c->version, pos[1]);
    if (vb->verb == CLI_ROLLBACK && npos == 2 && (c->revision = number(pos[1], 2147483647L)) < 0)
        return str_fail(err, errlen, "rollback: \"%s\" is not a revision number",
                        shown(pos[1], q, sizeof q));
    if (vb->verb == CLI_HISTORY && npos == 2 &&
        (c->count = (int)number(pos[1], CLI_HISTORY_MAX)) < 0)
        return str_fail(err, errlen, "history: \"%s\" is not a count from 1 to %d",
                        shown(pos[1], q, sizeof q), CLI_HISTORY_MAX);
    return 0;
}

#define CLI_MAX_OPERANDS 8

int cli_parse(int argc, char *const argv[], struct cli *c, char *err, size_t errlen)
{
    const char *pos[CLI_MAX_OPERANDS + 1];
    int npos = 0, help = 0, dashdash = 0;
    unsigned seen = 0;
    char q[48];
    memset(c, 0, sizeof *c);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!dashdash && strcmp(a, "--") == 0) {
            dashdash = 1;
        } else if (!dashdash && a[0] == '-' && a[1]) {
            if (npos == 0 && strcmp(a, "--version") == 0) {
                pos[npos++] = "version";
                continue;
            }
            int r = option(c, argc, argv, &i, &seen, err, errlen);
            if (r < 0) return -1;
            if (r == 0) help = 1;
        } else {
            if (npos > CLI_MAX_OPERANDS)
                return str_fail(err, errlen, "unexpected argument \"%s\"", shown(a, q, sizeof q));
            pos[npos++] = argv[i];
        }
    }
    const struct verb *vb = npos ? find_verb(pos[0]) : verb_of(help ? CLI_HELP : CLI_SERVE);
    if (!vb)
        return str_fail(err, errlen, "unknown command \"%s\" (see deploy-api --help)",
                        shown(pos[0], q, sizeof q));
    c->verb = vb->verb;
    if (help) {
        c->help = 1;
        return 0;
    }
    for (int k = 0; k < O_NOPTS; k++)
        if ((seen & (1u << k)) && !(vb->opts & (1u << k)))
            return str_fail(err, errlen,
                            "%s: option --%s does not apply (see deploy-api %s --help)", vb->name,
                            opts[k].longname, vb->name);
    return operands(c, vb, pos + (npos ? 1 : 0), npos ? npos - 1 : 0, err, errlen);
}
