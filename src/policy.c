#include "policy.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "str.h"

#define POLICY_QUOTE_MAX 40 /* bytes of the file an error message quotes */
#define POLICY_FIELDS 5

struct pctx {
    struct policy *p;
    size_t line;
    char *err;
    size_t errlen;
};

__attribute__((format(printf, 2, 3))) static int perr(struct pctx *c, const char *fmt, ...)
{
    if (c->err && c->errlen) {
        char msg[256];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof msg, fmt, ap);
        va_end(ap);
        snprintf(c->err, c->errlen, "line %zu: %s", c->line, msg);
    }
    return -1;
}

/* s as printable ASCII, at most POLICY_QUOTE_MAX bytes, "..." when cut. */
static const char *quote(char out[POLICY_QUOTE_MAX + 4], struct slice s)
{
    size_t n = s.n > POLICY_QUOTE_MAX ? POLICY_QUOTE_MAX : s.n, o = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s.p[i];
        out[o++] = (ch < 0x20 || ch > 0x7e) ? '?' : (char)ch;
    }
    if (s.n > n) {
        memcpy(out + o, "...", 3);
        o += 3;
    }
    out[o] = 0;
    return out;
}

static int verb_bit(struct slice s)
{
    if (slice_eq(s, "deploy")) return 1 << CMD_DEPLOY;
    if (slice_eq(s, "rollback")) return 1 << CMD_ROLLBACK;
    if (slice_eq(s, "status")) return 1 << CMD_STATUS;
    if (slice_eq(s, "history")) return 1 << CMD_HISTORY;
    if (slice_eq(s, "restart")) return 1 << CMD_RESTART;
    return 0;
}

/* A Slack id: one of the prefix letters, then 2+ of [A-Z0-9], at most
 * SLACK_ID_MAX in all. */
static int id_ok(struct slice s, const char *prefixes)
{
    if (s.n < 3 || s.n > SLACK_ID_MAX || !strchr(prefixes, s.p[0])) return 0;
    for (size_t i = 1; i < s.n; i++) {
        unsigned char ch = (unsigned char)s.p[i];
        if (!((ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9'))) return 0;
    }
    return 1;
}

/* Append s to p->text as a string, runs of '*' folded into one. */
static int store(struct pctx *c, struct slice s)
{
    struct policy *p = c->p;
    if (p->ntext + s.n + 1 > sizeof p->text)
        return perr(c, "policy too large"); /* cannot happen: items fit in the file */
    for (size_t i = 0; i < s.n; i++)
        if (s.p[i] != '*' || i == 0 || s.p[i - 1] != '*') p->text[p->ntext++] = s.p[i];
    p->text[p->ntext++] = 0;
    return 0;
}

static int pattern_chars_ok(struct slice s, int dots)
{
    for (size_t i = 0; i < s.n; i++) {
        unsigned char ch = (unsigned char)s.p[i];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '-' || ch == '*' ||
              (dots && ch == '.')))
            return 0;
    }
    return 1;
}

enum list_kind { L_VERBS, L_USERS, L_CHANNELS, L_TARGETS };

static const char *const list_name[] = {"VERBS", "USERS", "CHANNELS", "TARGETS"};

/* Parse one comma list f of kind k into rule r. */
static int parse_list(struct pctx *c, struct slice f, enum list_kind k, struct policy_rule *r)
{
    char q[POLICY_QUOTE_MAX + 4];
    struct policy_list *l = k == L_USERS ? &r->users : k == L_CHANNELS ? &r->channels : &r->targets;
    if (slice_eq(f, "*")) {
        if (k == L_VERBS)
            r->verbs = 1 << CMD_DEPLOY | 1 << CMD_ROLLBACK | 1 << CMD_STATUS | 1 << CMD_HISTORY |
                       1 << CMD_RESTART;
        else if (k == L_TARGETS)
            return perr(c, "TARGETS wants namespace/deployment patterns (\"*/*\" for any)");
        else
            l->any = 1;
        return 0;
    }
    if (k != L_VERBS) l->off = (uint32_t)c->p->ntext;
    size_t i = 0;
    for (;;) {
        const char *comma = memchr(f.p + i, ',', f.n - i);
        struct slice it = {f.p + i, comma ? (size_t)(comma - (f.p + i)) : f.n - i};
        if (it.n == 0) return perr(c, "empty item in %s", list_name[k]);
        if (slice_eq(it, "*")) return perr(c, "'*' must stand alone in %s", list_name[k]);
        switch (k) {
        case L_VERBS: {
            int b = verb_bit(it);
            if (!b)
                return perr(c,
                            "unknown verb \"%s\" (deploy, rollback, restart, status, history or *)",
                            quote(q, it));
            r->verbs |= (uint8_t)b;
            break;
        }
        case L_USERS:
        case L_CHANNELS:
            if (!id_ok(it, k == L_USERS ? "UW" : "CGD"))
                return perr(c, "\"%s\" is not a Slack %s id (like %s)", quote(q, it),
                            k == L_USERS ? "user" : "channel",
                            k == L_USERS ? "U0123ABCD" : "C0123ABCD");
            if (store(c, it) < 0) return -1;
            l->n++;
            break;
        case L_TARGETS: {
            const char *slash = memchr(it.p, '/', it.n);
            if (!slash)
                return perr(c, "target pattern \"%s\" has no '/' (namespace/deployment)",
                            quote(q, it));
            struct slice ns = {it.p, (size_t)(slash - it.p)};
            struct slice name = {slash + 1, it.n - ns.n - 1};
            if (ns.n == 0 || name.n == 0 || memchr(name.p, '/', name.n))
                return perr(c, "target pattern \"%s\" is not namespace/deployment", quote(q, it));
            if (!pattern_chars_ok(ns, 0) || !pattern_chars_ok(name, 1))
                return perr(c,
                            "target pattern \"%s\" has a character no Kubernetes name has "
                            "(a-z 0-9 - . and * only)",
                            quote(q, it));
            if (store(c, ns) < 0 || store(c, name) < 0) return -1;
            l->n++;
            break;
        }
        }
        if (!comma) return 0;
        i = (size_t)(comma - f.p) + 1;
    }
}

static int parse_line(struct pctx *c, struct slice line)
{
    char q[POLICY_QUOTE_MAX + 4];
    struct slice f[POLICY_FIELDS];
    size_t nf = 0, i = 0;

    const char *hash = memchr(line.p, '#', line.n);
    if (hash) line.n = (size_t)(hash - line.p);
    while (i < line.n) {
        if (line.p[i] == ' ' || line.p[i] == '\t') {
            i++;
            continue;
        }
        size_t start = i;
        while (i < line.n && line.p[i] != ' ' && line.p[i] != '\t') i++;
        if (nf == POLICY_FIELDS)
            return perr(c, "too many fields (want: allow|deny VERBS USERS CHANNELS TARGETS; "
                           "lists take commas, no spaces)");
        f[nf++] = (struct slice){line.p + start, i - start};
    }
    if (nf == 0) return 0;
    if (nf < POLICY_FIELDS)
        return perr(c, "too few fields (want: allow|deny VERBS USERS CHANNELS TARGETS)");
    if (c->p->nrules == POLICY_MAX_RULES) return perr(c, "more than %d rules", POLICY_MAX_RULES);

    struct policy_rule *r = &c->p->rules[c->p->nrules];
    memset(r, 0, sizeof *r);
    r->line = (uint32_t)c->line;
    if (slice_eq(f[0], "allow"))
        r->allow = 1;
    else if (!slice_eq(f[0], "deny"))
        return perr(c, "unknown action \"%s\" (allow or deny)", quote(q, f[0]));
    if (parse_list(c, f[1], L_VERBS, r) < 0 || parse_list(c, f[2], L_USERS, r) < 0 ||
        parse_list(c, f[3], L_CHANNELS, r) < 0 || parse_list(c, f[4], L_TARGETS, r) < 0)
        return -1;
    c->p->nrules++;
    return 0;
}

int policy_parse(struct policy *p, const char *text, size_t n, char *err, size_t errlen)
{
    struct pctx c = {p, 0, err, errlen};
    size_t i = 0;

    p->nrules = 0;
    p->ntext = 0;
    if (err && errlen) err[0] = 0;
    if (n > POLICY_MAX_FILE) {
        if (err && errlen)
            snprintf(err, errlen, "policy file larger than %d bytes", POLICY_MAX_FILE);
        return -1;
    }
    while (i < n) {
        const char *nl = memchr(text + i, '\n', n - i);
        struct slice line = {text + i, nl ? (size_t)(nl - (text + i)) : n - i};
        i += line.n + 1;
        c.line++;
        if (line.n && line.p[line.n - 1] == '\r') line.n--;
        if (line.n > POLICY_MAX_LINE) goto fail_long;
        if (memchr(line.p, 0, line.n)) {
            perr(&c, "NUL byte");
            goto fail;
        }
        if (parse_line(&c, line) < 0) goto fail;
    }
    return 0;
fail_long:
    perr(&c, "longer than %d bytes", POLICY_MAX_LINE);
fail:
    p->nrules = 0; /* a policy that failed to parse denies everything */
    return -1;
}

int policy_load_file(struct policy *p, const char *path, char *err, size_t errlen)
{
    size_t n = 0;
    int rc = -1;
    p->nrules = 0;
    char *buf = malloc(POLICY_MAX_FILE + 1);
    if (!buf) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        snprintf(err, errlen, "open %s: %s", path, strerror(errno));
        goto out;
    }
    while (n < POLICY_MAX_FILE + 1) {
        ssize_t k = read(fd, buf + n, POLICY_MAX_FILE + 1 - n);
        if (k < 0 && errno == EINTR) continue;
        if (k < 0) {
            snprintf(err, errlen, "read %s: %s", path, strerror(errno));
            goto out;
        }
        if (k == 0) break;
        n += (size_t)k;
    }
    rc = policy_parse(p, buf, n, err, errlen);
out:
    if (fd >= 0) close(fd);
    free(buf);
    return rc;
}

int policy_match(const char *pattern, const char *s)
{
    /* Greedy with one backtrack point (the last '*'): a later '*' makes any
     * earlier choice final, so the work is at most |pattern| * |s|. */
    const char *star = NULL, *mark = NULL;
    while (*s) {
        if (*pattern == '*') {
            star = pattern++;
            mark = s;
        } else if (*pattern == *s) {
            pattern++;
            s++;
        } else if (star) {
            pattern = star + 1;
            s = ++mark;
        } else {
            return 0;
        }
    }
    while (*pattern == '*') pattern++;
    return *pattern == 0;
}

static int list_has(const struct policy *p, const struct policy_list *l, const char *id)
{
    if (l->any) return 1;
    const char *it = p->text + l->off;
    for (size_t k = 0; k < l->n; k++) {
        if (strcmp(it, id) == 0) return 1;
        it += strlen(it) + 1;
    }
    return 0;
}

static int targets_match(const struct policy *p, const struct policy_list *l, const char *ns,
                         const char *name)
{
    const char *it = p->text + l->off;
    for (size_t k = 0; k < l->n; k++) {
        const char *np = it + strlen(it) + 1;
        if (policy_match(it, ns) && policy_match(np, name)) return 1;
        it = np + strlen(np) + 1;
    }
    return 0;
}

/* How many of the four fields of r match, in the order a refusal narrows
 * them: verb, target, user, channel (0..4; 4 = the rule matches). A rule
 * about this verb and target is the one the asker needs to hear about. */
static int fields_matched(const struct policy *p, const struct policy_rule *r, enum cmd_verb verb,
                          const char *user_id, const char *channel_id, const char *ns,
                          const char *name)
{
    if (!(r->verbs & (1u << verb))) return 0;
    if (!targets_match(p, &r->targets, ns, name)) return 1;
    if (!list_has(p, &r->users, user_id)) return 2;
    return list_has(p, &r->channels, channel_id) ? 4 : 3;
}

struct policy_decision policy_decide(const struct policy *p, enum cmd_verb verb,
                                     const char *user_id, const char *channel_id, const char *ns,
                                     const char *name)
{
    struct policy_decision d = {0, POLICY_BAD_INPUT, 0};
    if (verb == CMD_HELP) return (struct policy_decision){1, POLICY_RULE, 0};
    if (!p || !user_id || !*user_id || !channel_id || !*channel_id || !ns || !*ns || !name ||
        !*name || (unsigned)verb > CMD_VERB_LAST)
        return d;
    /* Nothing matched: the allow rule that came closest says which field
     * no rule allows (deny rules never allow, so they do not count). */
    int best = 0;
    for (size_t i = 0; i < p->nrules; i++) {
        const struct policy_rule *r = &p->rules[i];
        int m = fields_matched(p, r, verb, user_id, channel_id, ns, name);
        if (m == 4) return (struct policy_decision){r->allow, POLICY_RULE, r->line};
        if (r->allow && m > best) best = m;
    }
    static const enum policy_why missing[] = {POLICY_NO_VERB, POLICY_NO_TARGET, POLICY_NO_USER,
                                              POLICY_NO_CHANNEL};
    d.why = missing[best];
    return d;
}

int policy_allows(const struct policy *p, enum cmd_verb verb, const char *user_id,
                  const char *channel_id, const char *ns, const char *name)
{
    return policy_decide(p, verb, user_id, channel_id, ns, name).allow;
}

/* s as an id for a message: letters, digits and ._- kept, others '?',
 * at most max bytes ("..." when cut); out holds max + 4. */
static const char *safe_id(char *out, size_t max, const char *s)
{
    size_t o = 0;
    for (; s && *s && o < max; s++) {
        unsigned char ch = (unsigned char)*s;
        int ok = (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
                 ch == '.' || ch == '_' || ch == '-';
        out[o++] = ok ? (char)ch : '?';
    }
    if (s && *s) {
        memcpy(out + o, "...", 3);
        o += 3;
    }
    out[o] = 0;
    return out;
}

void policy_reason(const struct policy_decision *d, enum cmd_verb verb, const char *user_id,
                   const char *channel_id, const char *ns, const char *name, char *out, size_t cap)
{
    char u[SLACK_ID_MAX + 4], c[SLACK_ID_MAX + 4], n[K8S_NS_MAX + 4], t[K8S_NAME_MAX + 4];
    const char *v = cmd_verb_str(verb);
    safe_id(u, SLACK_ID_MAX, user_id);
    safe_id(c, SLACK_ID_MAX, channel_id);
    switch (d->why) {
    case POLICY_RULE:
        if (d->allow)
            snprintf(out, cap, "allowed by the policy rule on line %u", (unsigned)d->line);
        else
            snprintf(out, cap, "the deny rule on line %u of the policy matches", (unsigned)d->line);
        return;
    case POLICY_NO_VERB:
        snprintf(out, cap, "no policy rule allows the verb %s", v);
        return;
    case POLICY_NO_TARGET:
        snprintf(out, cap, "no policy rule allows to %s the target %s/%s", v,
                 safe_id(n, K8S_NS_MAX, ns), safe_id(t, K8S_NAME_MAX, name));
        return;
    case POLICY_NO_USER:
        snprintf(out, cap, "no policy rule allows user %s to %s %s/%s", u, v,
                 safe_id(n, K8S_NS_MAX, ns), safe_id(t, K8S_NAME_MAX, name));
        return;
    case POLICY_NO_CHANNEL:
        snprintf(out, cap, "no policy rule allows user %s to %s %s/%s from channel %s", u, v,
                 safe_id(n, K8S_NS_MAX, ns), safe_id(t, K8S_NAME_MAX, name), c);
        return;
    case POLICY_BAD_INPUT:
        break;
    }
    snprintf(out, cap, "the request lacks a user, channel or target the policy can check");
}
