/* Who may do what where: the rules of DEPLOY_POLICY_FILE (docs/policy.md).
 *
 *   # comment; blank lines are ignored; '#' starts a comment anywhere
 *   allow|deny  VERBS  USERS  CHANNELS  TARGETS
 *
 * VERBS: deploy,rollback,restart,status,history or '*'. USERS: Slack user ids
 * (U.../W...) or '*'. CHANNELS: channel ids (C.../G.../D...) or '*'.
 * TARGETS: namespace/deployment patterns in which '*' matches any run of
 * characters (examples in docs/policy.md). Lists are comma-separated
 * without spaces. The first rule whose four fields all match decides; no
 * match denies. Ids only: display names can be changed by their owners. */
#ifndef POLICY_H
#define POLICY_H

#include <stddef.h>
#include <stdint.h>

#include "limits.h"
#include "slack.h"

/* One comma list of a rule: '*' (any), or n NUL-terminated items stored one
 * after another from p->text[off]. A target item is two strings: the
 * namespace pattern, then the deployment pattern. */
struct policy_list {
    uint32_t off;
    uint16_t n;
    uint8_t any;
};

struct policy_rule {
    uint8_t allow; /* 1 allow, 0 deny */
    uint8_t verbs; /* bit (1 << enum cmd_verb) for each verb named */
    uint32_t line; /* in the file, for messages */
    struct policy_list users, channels, targets;
};

struct policy {
    struct policy_rule rules[POLICY_MAX_RULES];
    size_t nrules;
    char text[POLICY_MAX_FILE + 1]; /* list items; never more than the file */
    size_t ntext;
};

/* Parse text[0..n) into p (which needs no initialization). Returns 0, or -1
 * with err "line N: reason" for an unknown action or verb, an id not shaped
 * like a Slack id, a target pattern without exactly one '/' or with a
 * character no Kubernetes name has, an empty list item, '*' mixed into a
 * list, too many or too few fields, more than POLICY_MAX_RULES rules, a
 * line over POLICY_MAX_LINE bytes or a NUL byte; or "policy file larger
 * than ..." when n > POLICY_MAX_FILE. A file with no rules is valid and
 * denies everything. */
int policy_parse(struct policy *p, const char *text, size_t n, char *err, size_t errlen);

/* Read path (at most POLICY_MAX_FILE bytes) and policy_parse it. -1 with err
 * as policy_parse's, or "open PATH: reason" / "read PATH: reason". */
int policy_load_file(struct policy *p, const char *path, char *err, size_t errlen);

/* Why a request is allowed or refused. */
enum policy_why {
    POLICY_RULE,       /* the rule on line `line` matched: it decided */
    POLICY_NO_VERB,    /* no rule matched; no allow rule names the verb */
    POLICY_NO_TARGET,  /* ... allow rules name the verb, none also the target */
    POLICY_NO_USER,    /* ... some name verb and target, none also the user */
    POLICY_NO_CHANNEL, /* ... some name verb, target and user, none the channel */
    POLICY_BAD_INPUT,  /* p NULL, an argument NULL or empty, or an unknown verb */
};

struct policy_decision {
    int allow; /* 1 allowed, 0 refused */
    enum policy_why why;
    uint32_t line; /* POLICY_RULE: the deciding rule's line in the file */
};

/* The first rule matching all of verb, user_id, channel_id and ns/name
 * decides (POLICY_RULE with its line); when none matches the request is
 * refused and why names the first field (verb, target, user, channel) on
 * which the allow rule that came closest fails. CMD_HELP is always allowed
 * (POLICY_RULE, line 0). */
struct policy_decision policy_decide(const struct policy *p, enum cmd_verb verb,
                                     const char *user_id, const char *channel_id, const char *ns,
                                     const char *name);

/* policy_decide(...).allow. */
int policy_allows(const struct policy *p, enum cmd_verb verb, const char *user_id,
                  const char *channel_id, const char *ns, const char *name);

/* d as one sentence for people and the audit line, without a final period:
 * "the deny rule on line 7 of the policy matches", "no policy rule allows
 * user U123 to restart", ... Ids and names are quoted as letters, digits
 * and ._- only (others '?', cut at SLACK_ID_MAX / K8S_NS_MAX / K8S_NAME_MAX
 * bytes), so out is safe as Slack mrkdwn.
 * Pass the arguments given to policy_decide. */
void policy_reason(const struct policy_decision *d, enum cmd_verb verb, const char *user_id,
                   const char *channel_id, const char *ns, const char *name, char *out, size_t cap);

/* 1 when s matches pattern, where '*' stands for any run of characters (also
 * none). O(strlen(pattern) * strlen(s)) at worst, never exponential. */
int policy_match(const char *pattern, const char *s);

#endif
