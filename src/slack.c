#include "slack.h"

#include <bearssl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "json.h"
#include "k8sname.h"
#include "str.h"

/* ---- signature ---------------------------------------------------------- */

const char *slack_verdict_str(enum slack_verdict v)
{
    switch (v) {
    case SLACK_OK:
        return "ok";
    case SLACK_MISSING:
        return "missing signature headers";
    case SLACK_MALFORMED:
        return "malformed signature headers";
    case SLACK_STALE:
        return "stale timestamp";
    case SLACK_BAD_SIG:
        return "bad signature";
    case SLACK_REPLAY:
        return "replayed request";
    case SLACK_REPLAY_FULL:
        return "replay table full";
    }
    return "?";
}

long long slack_ts_value(const char *ts_hdr, size_t ts_len)
{
    long long v = 0;
    if (!ts_hdr || ts_len == 0 || ts_len > SLACK_TS_MAX_DIGITS) return -1;
    for (size_t i = 0; i < ts_len; i++) {
        unsigned d = (unsigned char)ts_hdr[i] - '0';
        if (d > 9) return -1;
        v = v * 10 + d; /* at most 15 digits: no overflow */
    }
    return v;
}

/* Lowercase hex digit value, -1 for anything else (uppercase included). */
static int lhex(unsigned char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
}

enum slack_verdict slack_verify(const char *secret, size_t secret_len, const char *ts_hdr,
                                size_t ts_len, const char *sig_hdr, size_t sig_len,
                                const char *body, size_t body_len, long long now,
                                unsigned char sig_out[32])
{
    if (!ts_hdr || !sig_hdr) return SLACK_MISSING;
    long long ts = slack_ts_value(ts_hdr, ts_len);
    if (ts < 0) return SLACK_MALFORMED;
    if (sig_len != 3 + 64 || memcmp(sig_hdr, "v0=", 3) != 0) return SLACK_MALFORMED;
    unsigned char got[32];
    for (size_t i = 0; i < 32; i++) {
        int h = lhex((unsigned char)sig_hdr[3 + 2 * i]);
        int l = lhex((unsigned char)sig_hdr[4 + 2 * i]);
        if (h < 0 || l < 0) return SLACK_MALFORMED;
        got[i] = (unsigned char)(h << 4 | l);
    }
    /* Differences in unsigned arithmetic: exact for any now, no overflow. */
    unsigned long long skew = now >= ts ? (unsigned long long)now - (unsigned long long)ts
                                        : (unsigned long long)ts - (unsigned long long)now;
    if (skew > SLACK_MAX_SKEW) return SLACK_STALE;
    if (!secret || secret_len == 0) return SLACK_BAD_SIG;

    br_hmac_key_context kc;
    br_hmac_context hc;
    unsigned char want[32];
    br_hmac_key_init(&kc, &br_sha256_vtable, secret, secret_len);
    br_hmac_init(&hc, &kc, 0);
    br_hmac_update(&hc, "v0:", 3);
    br_hmac_update(&hc, ts_hdr, ts_len);
    br_hmac_update(&hc, ":", 1);
    if (body_len) br_hmac_update(&hc, body, body_len);
    br_hmac_out(&hc, want);
    int ok = str_ct_eq(want, got, sizeof want);
    memset(&kc, 0, sizeof kc); /* holds the padded secret */
    if (!ok) return SLACK_BAD_SIG;
    memcpy(sig_out, got, 32);
    return SLACK_OK;
}

/* ---- replay table --------------------------------------------------------
 * Linear probing with backward-shift deletion (Knuth 6.4, Algorithm R), so
 * there are no tombstones and a lookup stops at the first empty slot. Dead
 * entries are deleted when a probe walks over them. Only signatures that
 * verified are inserted: HMAC outputs, which nobody without the secret can
 * steer into one cluster. Cost: O(1) probes while the table is not crowded;
 * near full (load > ~90%) a miss walks long clusters, and at full it walks
 * all REPLAY_SLOTS slots (4096 32-byte compares, tens of microseconds) before
 * answering SLACK_REPLAY_FULL. That takes > 4096 signed requests in 301 s. */

static size_t replay_home(const unsigned char sig[32])
{
    size_t h = (size_t)sig[0] | (size_t)sig[1] << 8 | (size_t)sig[2] << 16 | (size_t)sig[3] << 24;
    return h % REPLAY_SLOTS;
}

void replay_init(struct replay *r)
{
    memset(r, 0, sizeof *r);
}

/* Delete slot i and shift later members of its cluster back into the hole. */
static void replay_delete(struct replay *r, size_t i)
{
    size_t j = i;
    r->slot[i].used = 0;
    r->n--;
    for (;;) {
        j = (j + 1) % REPLAY_SLOTS;
        if (!r->slot[j].used) return;
        size_t k = replay_home(r->slot[j].sig);
        /* The entry at j may stay when its home k lies cyclically in (i, j]. */
        int stays = i <= j ? (i < k && k <= j) : (i < k || k <= j);
        if (stays) continue;
        r->slot[i] = r->slot[j];
        r->slot[j].used = 0;
        i = j;
    }
}

enum slack_verdict replay_check(struct replay *r, const unsigned char sig[32], long long ts,
                                long long now)
{
    size_t home = replay_home(sig), i = home, walked = 0;
    while (walked < REPLAY_SLOTS) {
        struct replay_slot *s = &r->slot[i];
        if (!s->used) {
            memcpy(s->sig, sig, 32);
            s->expires = ts > (long long)(~0ULL >> 1) - SLACK_MAX_SKEW - 1
                             ? (long long)(~0ULL >> 1)
                             : ts + SLACK_MAX_SKEW + 1;
            s->used = 1;
            r->n++;
            return SLACK_OK;
        }
        if (now >= s->expires) {
            /* Slot i then holds the next entry of the cluster, or nothing. The
             * shift stops at the first empty slot, which lies ahead of i and
             * before home: the slots already walked are untouched. Only in a
             * table with no empty slot can the shift wrap around into them;
             * then walk again from home (at most once: now one slot is free). */
            int was_full = r->n == REPLAY_SLOTS;
            replay_delete(r, i);
            if (was_full) {
                i = home;
                walked = 0;
            }
            continue;
        }
        if (memcmp(s->sig, sig, 32) == 0) return SLACK_REPLAY;
        i = (i + 1) % REPLAY_SLOTS;
        walked++;
    }
    return SLACK_REPLAY_FULL;
}

/* ---- legacy token ------------------------------------------------------- */

static void sha256(const char *s, unsigned char out[32])
{
    br_sha256_context c;
    br_sha256_init(&c);
    br_sha256_update(&c, s, strlen(s));
    br_sha256_out(&c, out);
}

int slack_token_ok(const char *expected, const char *got)
{
    unsigned char a[32], b[32];
    if (!expected || !got || !*expected || !*got) return 0;
    /* Comparing digests hides both where the strings differ and their lengths. */
    sha256(expected, a);
    sha256(got, b);
    return str_ct_eq(a, b, sizeof a);
}

/* ---- commands ----------------------------------------------------------- */

const char cmd_usage[] =
    "*Usage*\n"
    "`/deploy &lt;target&gt; &lt;version&gt; [-c &lt;container&gt;]` deploy a version (an image "
    "tag, or sha256:&lt;digest&gt;) of the image the container already runs\n"
    "`/deploy status &lt;target&gt;` current image, replicas and rollout state\n"
    "`/deploy history &lt;target&gt; [N]` the newest N revisions (default 10): when, which "
    "image, who\n"
    "`/deploy rollback &lt;target&gt; [revision]` roll back to the previous (or the given) "
    "revision\n"
    "`/deploy restart &lt;target&gt;` restart its pods (re-pull the tag, pick up changed "
    "Secrets), like `kubectl rollout restart`\n"
    "`/deploy help` this message\n"
    "&lt;target&gt; is `[namespace/]deployment`; a version is a tag like `1.4.2`, never a "
    "full image. Example: `/deploy staging/api 1.4.2`";

const char *cmd_verb_str(enum cmd_verb v)
{
    switch (v) {
    case CMD_HELP:
        return "help";
    case CMD_DEPLOY:
        return "deploy";
    case CMD_STATUS:
        return "status";
    case CMD_HISTORY:
        return "history";
    case CMD_ROLLBACK:
        return "rollback";
    case CMD_RESTART:
        return "restart";
    }
    return "?";
}

/* Bytes of a word separator at s (space, tab, CR, LF: 1; U+00A0: 2), or 0. */
static size_t sep_len(const unsigned char *s)
{
    if (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n') return 1;
    if (s[0] == 0xc2 && s[1] == 0xa0) return 2;
    return 0;
}

#define QUOTE_MAX 40 /* bytes of user input an error message may quote */

/* s as printable ASCII for an error message: at most QUOTE_MAX bytes, other
 * bytes and the mrkdwn specials < > & as '?', "..." when cut. */
static void quote(char out[QUOTE_MAX + 4], struct slice s)
{
    size_t n = s.n > QUOTE_MAX ? QUOTE_MAX : s.n, o = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s.p[i];
        out[o++] = (c < 0x20 || c > 0x7e || c == '<' || c == '>' || c == '&') ? '?' : (char)c;
    }
    if (s.n > n) {
        memcpy(out + o, "...", 3);
        o += 3;
    }
    out[o] = 0;
}

__attribute__((format(printf, 3, 4))) static int fail(char *err, size_t errlen, const char *fmt,
                                                      ...)
{
    if (err && errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return -1;
}

static int fail_word(char *err, size_t errlen, const char *what, struct slice w, const char *hint)
{
    char q[QUOTE_MAX + 4];
    quote(q, w);
    return fail(err, errlen, "%s \"%s\"%s.", what, q, hint);
}

static const char *memchr2(struct slice s, char a, char b)
{
    for (size_t i = 0; i < s.n; i++)
        if (s.p[i] == a || s.p[i] == b) return s.p + i;
    return NULL;
}

static int parse_target(struct slice t, const char *default_ns, struct command *c, char *err,
                        size_t errlen)
{
    if (memchr2(t, ':', '@'))
        return fail_word(err, errlen, "Give a deployment and a version, not an image:", t, "");
    const char *slash = memchr(t.p, '/', t.n);
    struct slice name = t;
    if (slash) {
        struct slice ns = {t.p, (size_t)(slash - t.p)};
        name = (struct slice){slash + 1, t.n - ns.n - 1};
        if (ns.n == 0) return fail_word(err, errlen, "Missing namespace before '/' in", t, "");
        if (!k8sname_ns_ok(ns.p, ns.n))
            return fail_word(err, errlen, "Not a valid namespace:", ns,
                             " (lowercase letters, digits and '-', at most 63)");
        if (memchr(name.p, '/', name.n))
            return fail_word(err, errlen, "Not a valid target:", t,
                             " (write namespace/deployment)");
        memcpy(c->ns, ns.p, ns.n);
        c->ns[ns.n] = 0;
    } else {
        if (!default_ns || !k8sname_ns_ok(default_ns, strlen(default_ns)))
            return fail(err, errlen, "No valid default namespace is configured.");
        memcpy(c->ns, default_ns, strlen(default_ns) + 1);
    }
    if (!k8sname_name_ok(name.p, name.n))
        return fail_word(err, errlen, "Not a valid deployment name:", name,
                         " (lowercase letters, digits, '-' and '.', at most 253)");
    memcpy(c->name, name.p, name.n);
    c->name[name.n] = 0;
    return 0;
}

static int parse_version(struct slice v, struct command *c, char *err, size_t errlen)
{
    struct slice d = v;
    if (d.n && d.p[0] == '@') {
        d.p++;
        d.n--;
    }
    if (d.n >= 7 && memcmp(d.p, "sha256:", 7) == 0) {
        if (!k8sname_digest_ok(d.p, d.n))
            return fail_word(err, errlen, "Not a valid digest:", v,
                             " (want sha256: and 64 lowercase hex digits)");
        memcpy(c->version, d.p, d.n);
        c->version[d.n] = 0;
        return 0;
    }
    if (memchr2(v, '/', '@') || memchr(v.p, ':', v.n))
        return fail_word(err, errlen, "Give a version, not an image:", v, "");
    if (!k8sname_tag_ok(v.p, v.n))
        return fail_word(err, errlen, "Not a valid version:", v,
                         " (a tag: letters, digits, '_', '.', '-', at most 128, not starting "
                         "with '.' or '-')");
    memcpy(c->version, v.p, v.n);
    c->version[v.n] = 0;
    return 0;
}

#define CMD_REVISION_MAX 2147483648UL /* 2^31 */
#define STR_(x) #x
#define STR(x) STR_(x)

/* Take "-c NAME" / "--container NAME" / "--container=NAME" out of a
 * deploy's words into c->container. 0, or -1 with err. */
static int take_container(struct slice *w, size_t *nw, struct command *c, char *err, size_t errlen)
{
    if (*nw > 4) return 0; /* too many words whatever they are */
    for (size_t i = 1; i < *nw; i++) {
        struct slice name = {0, 0};
        size_t drop = 2;
        if (slice_eq_nocase(w[i], "-c") || slice_eq_nocase(w[i], "--container")) {
            if (i + 1 >= *nw) return fail(err, errlen, "-c needs a container name: -c NAME.");
            name = w[i + 1];
        } else if (w[i].n > 12 && memcmp(w[i].p, "--container=", 12) == 0) {
            name = (struct slice){w[i].p + 12, w[i].n - 12};
            drop = 1;
        } else {
            continue;
        }
        if (!k8sname_ns_ok(name.p, name.n))
            return fail_word(err, errlen, "Not a valid container name:", name,
                             " (lowercase letters, digits and -)");
        memcpy(c->container, name.p, name.n);
        c->container[name.n] = 0;
        for (size_t k = i; k + drop < *nw; k++) w[k] = w[k + drop];
        *nw -= drop;
        return 0;
    }
    return 0;
}

/* Split s into at most 4 words (a fifth makes nw 5: too many for every
 * verb, and the rest is not read). */
static size_t cmd_words(const unsigned char *s, struct slice w[4])
{
    size_t nw = 0;
    while (*s) {
        size_t k = sep_len(s);
        if (k) {
            s += k;
            continue;
        }
        const unsigned char *start = s;
        while (*s && !sep_len(s)) s++;
        if (nw == 4) return 5;
        w[nw++] = (struct slice){(const char *)start, (size_t)(s - start)};
    }
    return nw;
}

static enum cmd_verb cmd_verb_of(struct slice w)
{
    static const enum cmd_verb verbs[] = {CMD_HELP, CMD_STATUS, CMD_HISTORY, CMD_ROLLBACK,
                                          CMD_RESTART};
    for (size_t i = 0; i < sizeof verbs / sizeof *verbs; i++)
        if (slice_eq_nocase(w, cmd_verb_str(verbs[i]))) return verbs[i];
    return CMD_DEPLOY;
}

/* status, history, rollback, restart: a target, and for history a count or
 * for rollback a revision. */
static int cmd_lookup(enum cmd_verb verb, const struct slice *w, size_t nw, const char *default_ns,
                      struct command *c, char *err, size_t errlen)
{
    if (nw == 1)
        return fail(err, errlen, "%s needs a target: [namespace/]deployment.", cmd_verb_str(verb));
    if (nw > (verb == CMD_ROLLBACK || verb == CMD_HISTORY ? 3u : 2u))
        return fail(err, errlen, "Too many words: write %s [namespace/]deployment%s.",
                    cmd_verb_str(verb),
                    verb == CMD_ROLLBACK  ? " [revision]"
                    : verb == CMD_HISTORY ? " [N]"
                                          : "");
    if (parse_target(w[1], default_ns, c, err, errlen) < 0) return -1;
    if (nw == 3 && verb == CMD_HISTORY) {
        unsigned long n;
        if (slice_to_ulong(w[2], KUBE_HISTORY_MAX, &n) < 0 || n == 0)
            return fail_word(err, errlen, "Not a number of revisions:", w[2],
                             " (history shows 1 to " STR(KUBE_HISTORY_MAX) ")");
        c->revision = (long)n;
    } else if (nw == 3) {
        unsigned long rev;
        if (slice_to_ulong(w[2], CMD_REVISION_MAX, &rev) < 0 || rev == 0)
            return fail_word(err, errlen, "Not a valid revision:", w[2],
                             " (a number from 1 to 2147483648)");
        c->revision = (long)rev;
    }
    c->verb = verb;
    return 0;
}

/* [namespace/]deployment version [-c container] */
static int cmd_deploy(struct slice *w, size_t nw, const char *default_ns, struct command *c,
                      char *err, size_t errlen)
{
    if (take_container(w, &nw, c, err, errlen) < 0) return -1;
    if (nw == 3 && slice_eq_nocase(w[0], "deploy"))
        return fail(err, errlen, "Drop the word deploy: write [namespace/]deployment version.");
    if (nw > 2) return fail(err, errlen, "Too many words: write [namespace/]deployment version.");
    if (nw == 1 && memchr2(w[0], ':', '@'))
        return fail(err, errlen,
                    "Write the deployment and the version as two words, e.g. api 1.4.");
    if (parse_target(w[0], default_ns, c, err, errlen) < 0) return -1;
    if (nw == 1) return fail(err, errlen, "Missing version: write [namespace/]deployment version.");
    if (parse_version(w[1], c, err, errlen) < 0) return -1;
    c->verb = CMD_DEPLOY;
    return 0;
}

int cmd_parse(const char *text, const char *default_ns, struct command *c, char *err, size_t errlen)
{
    struct slice w[4];
    const unsigned char *s = (const unsigned char *)(text ? text : "");

    memset(c, 0, sizeof *c);
    c->verb = CMD_HELP;
    if (err && errlen) err[0] = 0;
    if (strlen((const char *)s) > CMD_MAX_TEXT)
        return fail(err, errlen, "The command is too long (at most %d characters).", CMD_MAX_TEXT);
    size_t nw = cmd_words(s, w);
    if (nw == 0) return 0;
    enum cmd_verb verb = cmd_verb_of(w[0]);
    if (verb == CMD_HELP && nw > 1)
        return fail(err, errlen,
                    "help takes no arguments (to deploy a deployment named help, write "
                    "namespace/help VERSION).");
    if (verb == CMD_HELP) return 0;
    if (verb != CMD_DEPLOY) return cmd_lookup(verb, w, nw, default_ns, c, err, errlen);
    return cmd_deploy(w, nw, default_ns, c, err, errlen);
}

/* ---- replies ------------------------------------------------------------ */

long slack_reply_json(char *buf, size_t cap, int in_channel, const char *text)
{
    struct jw w;
    jw_init(&w, buf, cap);
    jw_obj_begin(&w);
    jw_kstr(&w, "response_type", in_channel ? "in_channel" : "ephemeral");
    jw_kstr(&w, "text", text ? text : "");
    jw_obj_end(&w);
    return jw_finish(&w);
}

/* Bytes of the character at s: a whole UTF-8 sequence when well formed so
 * far, else 1 (jw_str replaces invalid bytes later). */
static size_t char_len(const unsigned char *s)
{
    size_t want = s[0] >= 0xf0 ? 4 : s[0] >= 0xe0 ? 3 : s[0] >= 0xc0 ? 2 : 1, n = 1;
    while (n < want && (s[n] & 0xc0) == 0x80) n++;
    return n;
}

void slack_escape_text(const char *in, char *out, size_t cap)
{
    size_t o = 0;
    if (!out || cap == 0) return;
    const unsigned char *s = (const unsigned char *)(in ? in : "");
    while (*s) {
        const char *rep = *s == '&' ? "&amp;" : *s == '<' ? "&lt;" : *s == '>' ? "&gt;" : NULL;
        size_t k = rep ? 1 : char_len(s), rn = rep ? strlen(rep) : k;
        if (o + rn >= cap) break;
        memcpy(out + o, rep ? (const void *)rep : (const void *)s, rn);
        o += rn;
        s += k;
    }
    out[o] = 0;
}
