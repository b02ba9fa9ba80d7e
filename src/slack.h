/* Slack: request signatures, the replay table, the legacy token, the
 * slash-command grammar and the reply JSON. Pure functions, no I/O. */
#ifndef SLACK_H
#define SLACK_H

#include <stddef.h>

#include "limits.h"

enum slack_verdict {
    SLACK_OK,
    SLACK_MISSING,     /* a signature header is absent */
    SLACK_MALFORMED,   /* a header is not shaped as Slack sends it */
    SLACK_STALE,       /* |now - timestamp| > SLACK_MAX_SKEW */
    SLACK_BAD_SIG,     /* the HMAC does not match */
    SLACK_REPLAY,      /* this signature was already accepted */
    SLACK_REPLAY_FULL, /* the replay table is full of live entries: answer 503 */
};

/* A short reason for the 401/503 body and the audit line ("bad signature"). */
const char *slack_verdict_str(enum slack_verdict v);

/* Check a request the way Slack's "Verifying requests from Slack" says:
 * "v0=" + lowercase hex of HMAC-SHA256(secret, "v0:" + ts + ":" + body),
 * over the raw body, before anything else reads it. The header values are
 * slices (not NUL-terminated) already stripped of HTTP whitespace; any byte
 * left around them is MALFORMED. ts_hdr or sig_hdr NULL: MISSING. Timestamp
 * not 1..SLACK_TS_MAX_DIGITS ASCII digits, or signature not exactly "v0="
 * + 64 lowercase hex digits (uppercase is refused: Slack sends lowercase):
 * MALFORMED. |now - ts| > SLACK_MAX_SKEW (300 passes, 301 does not, either
 * way): STALE. An empty secret or a mismatch (compared in constant time):
 * BAD_SIG. On SLACK_OK, sig_out holds the 32 signature bytes (the replay
 * key); otherwise its contents are unspecified. */
enum slack_verdict slack_verify(const char *secret, size_t secret_len, const char *ts_hdr,
                                size_t ts_len, const char *sig_hdr, size_t sig_len,
                                const char *body, size_t body_len, long long now,
                                unsigned char sig_out[32]);

/* The timestamp value of a header slack_verify accepted; -1 when malformed. */
long long slack_ts_value(const char *ts_hdr, size_t ts_len);

/* Signatures accepted in the last SLACK_MAX_SKEW s: fixed size, no
 * allocation (about 192 KiB, kept in the parent). */
struct replay_slot {
    unsigned char sig[32];
    long long expires; /* the entry is dead once now >= expires */
    unsigned char used;
};

struct replay {
    struct replay_slot slot[REPLAY_SLOTS];
    size_t n; /* slots in use, live or not yet reclaimed */
};

/* Empty the table. */
void replay_init(struct replay *r);

/* Call after slack_verify returned SLACK_OK, with its sig_out and timestamp.
 * SLACK_OK: unseen, now recorded until ts + SLACK_MAX_SKEW + 1 (past the
 * window in which the signature can verify). SLACK_REPLAY: recorded and not
 * expired. SLACK_REPLAY_FULL: every slot holds a live entry (a live entry is
 * never evicted: that would reopen the replay). Expired entries are reused. */
enum slack_verdict replay_check(struct replay *r, const unsigned char sig[32], long long ts,
                                long long now);

/* The legacy verification token: 1 when got equals expected, compared in
 * time independent of where they differ and of their lengths; 0 when either
 * is NULL or empty. */
int slack_token_ok(const char *expected, const char *got);

/* Commands, as typed after the slash command (DESIGN.md contract). */
enum cmd_verb { CMD_HELP, CMD_DEPLOY, CMD_STATUS, CMD_HISTORY, CMD_ROLLBACK, CMD_RESTART };
#define CMD_VERB_LAST CMD_RESTART

struct command {
    enum cmd_verb verb;
    char ns[K8S_NS_MAX + 1];
    char name[K8S_NAME_MAX + 1];
    char version[VERSION_MAX + 8];  /* deploy: a tag, or "sha256:" + 64 hex */
    char container[K8S_NS_MAX + 1]; /* deploy -c NAME (a DNS-1123 label), "" when not given */
    long revision;                  /* rollback: 0 = the previous revision; history: N, 0 = 10 */
};

/* "help", "deploy", "status", "history", "rollback", "restart"; "?" otherwise. */
const char *cmd_verb_str(enum cmd_verb v);

/* Parse text (a NUL-terminated slash-command text) into c:
 *   "" | "help"                     help
 *   "<target> <version> [-c NAME]"  deploy (also --container NAME, --container=NAME)
 *   "status <target>"               status
 *   "history <target> [N]"          history (N 1..KUBE_HISTORY_MAX)
 *   "rollback <target> [revision]"  rollback (revision 1..2^31)
 *   "restart <target>"              restart (kubectl rollout restart)
 * Words are split on runs of space, tab, CR, LF and U+00A0 (NBSP). Keywords
 * ignore case ("Status" from a phone keyboard) and always win as a first
 * word: deploy a deployment named help/status/history/rollback/restart as
 * "namespace/status 1.4". <target> is [namespace/]deployment: a DNS-1123
 * label (<= 63) and a DNS-1123 subdomain (<= 253); without a namespace,
 * default_ns. A version is a tag [A-Za-z0-9_][A-Za-z0-9_.-]{0,127} or a
 * digest "sha256:" + 64 lowercase hex ('@' before it allowed); anything
 * else with '/', '@' or ':' is an image reference and refused. Returns 0, or
 * -1 with err one short sentence in printable ASCII without < > & (at
 * most 40 bytes of the input quoted, other bytes as '?'), safe as mrkdwn
 * and in a log line; the caller appends cmd_usage. */
int cmd_parse(const char *text, const char *default_ns, struct command *c, char *err,
              size_t errlen);

/* The help text in Slack mrkdwn, already escaped (&lt; &gt;): send as is,
 * never through slack_escape_text. */
extern const char cmd_usage[];

/* {"response_type":"in_channel"|"ephemeral","text":text} into buf; returns
 * its length, or -1 when it does not fit in cap. text goes in as given: run
 * anything holding user input through slack_escape_text first. */
long slack_reply_json(char *buf, size_t cap, int in_channel, const char *text);

/* Copy in to out (cap bytes, always NUL-terminated when cap > 0) with &, <
 * and > escaped as Slack requires (&amp; &lt; &gt;). Output that does not fit
 * is cut at a character boundary, never inside an escape or a UTF-8 sequence. */
void slack_escape_text(const char *in, char *out, size_t cap);

#endif
