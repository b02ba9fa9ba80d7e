/* policy: the examples of docs/policy.md, every parse error with its line
 * number, every limit at the bound and one past it, and the matcher. */
#include "t.h"

#include <fcntl.h>

#include "policy.h"

static struct policy P;
static char E[256];

/* The example in docs/policy.md, verbatim. */
static const char example[] =
    "# deploy-api policy: the first matching rule decides; no match denies.\n"
    "\n"
    "# The platform team may do anything, anywhere (U... and W... are user ids).\n"
    "allow  *                        U01PLATFORM,W02ONCALL   *            */*\n"
    "\n"
    "# Nobody else changes the databases.\n"
    "deny   deploy,rollback,restart  *                       *            */postgres*,*/redis-*\n"
    "\n"
    "# Release managers deploy production, only from #deploys.\n"
    "allow  deploy,rollback,restart  U03ALICE,U04BOB         C05DEPLOYS   prod/*\n"
    "\n"
    "# Anyone may deploy, roll back and restart staging and the preview namespaces.\n"
    "allow  deploy,rollback,restart  *                       *            staging/*,preview-*/*\n"
    "\n"
    "# Everyone may look at everything.\n"
    "allow  status,history           *                       *            */*\n";

static int parse(const char *text)
{
    size_t n = strlen(text);
    char *g = t_guard(text, n);
    int rc = policy_parse(&P, g, n, E, sizeof E);
    t_unguard(g, n);
    return rc;
}

static const char *perr(const char *text)
{
    return parse(text) == -1 ? E : "(parsed)";
}

static int allows(enum cmd_verb v, const char *user, const char *chan, const char *ns,
                  const char *name)
{
    return policy_allows(&P, v, user, chan, ns, name);
}

TEST(doc_example)
{
    CHECK_EQ(parse(example), 0);
    CHECK_EQ(P.nrules, 5);
    CHECK_EQ(P.rules[2].line, 10);
    CHECK_EQ(allows(CMD_DEPLOY, "U01PLATFORM", "C77ANY", "prod", "postgres"), 1);
    CHECK_EQ(allows(CMD_ROLLBACK, "W02ONCALL", "D12345", "prod", "api"), 1);
    CHECK_EQ(allows(CMD_DEPLOY, "U03ALICE", "C05DEPLOYS", "prod", "postgres-main"), 0);
    CHECK_EQ(allows(CMD_DEPLOY, "U03ALICE", "C05DEPLOYS", "prod", "api"), 1);
    CHECK_EQ(allows(CMD_ROLLBACK, "U04BOB", "C05DEPLOYS", "prod", "api"), 1);
    CHECK_EQ(allows(CMD_DEPLOY, "U03ALICE", "C99RANDOM", "prod", "api"), 0);
    CHECK_EQ(allows(CMD_DEPLOY, "U09CAROL", "C05DEPLOYS", "prod", "api"), 0);
    CHECK_EQ(allows(CMD_DEPLOY, "U09CAROL", "C77ANY", "staging", "api"), 1);
    CHECK_EQ(allows(CMD_ROLLBACK, "U09CAROL", "C77ANY", "preview-42", "web"), 1);
    CHECK_EQ(allows(CMD_DEPLOY, "U09CAROL", "C77ANY", "preview-", "web"), 1);
    CHECK_EQ(allows(CMD_DEPLOY, "U09CAROL", "C77ANY", "preview", "web"), 0);
    CHECK_EQ(allows(CMD_DEPLOY, "U09CAROL", "C77ANY", "staging", "redis-cache"), 0);
    CHECK_EQ(allows(CMD_DEPLOY, "U09CAROL", "C77ANY", "staging", "redis"), 1); /* not redis-* */
    CHECK_EQ(allows(CMD_STATUS, "U09CAROL", "C77ANY", "prod", "postgres"), 1);
    CHECK_EQ(allows(CMD_HISTORY, "U09CAROL", "C77ANY", "staging", "api"), 1);
    CHECK_EQ(allows(CMD_RESTART, "U09CAROL", "C77ANY", "staging", "api"), 1);
    CHECK_EQ(allows(CMD_RESTART, "U04BOB", "C05DEPLOYS", "prod", "redis-cache"), 0);
    CHECK_EQ(allows(CMD_RESTART, "U09CAROL", "C77ANY", "prod", "api"), 0);
    CHECK_EQ(allows(CMD_HELP, "U09CAROL", "C77ANY", "", ""), 1);
    /* Ids are exact: case, prefixes and display names do not match. */
    CHECK_EQ(allows(CMD_DEPLOY, "u03alice", "C05DEPLOYS", "prod", "api"), 0);
    CHECK_EQ(allows(CMD_DEPLOY, "U03ALIC", "C05DEPLOYS", "prod", "api"), 0);
    CHECK_EQ(allows(CMD_DEPLOY, "U03ALICE2", "C05DEPLOYS", "prod", "api"), 0);
    CHECK_EQ(allows(CMD_DEPLOY, "U03ALICE", "C05DEPLOYSX", "prod", "api"), 0);
    /* Patterns cover the whole name. */
    CHECK_EQ(allows(CMD_DEPLOY, "U03ALICE", "C05DEPLOYS", "prod2", "api"), 0);
    CHECK_EQ(allows(CMD_DEPLOY, "U03ALICE", "C05DEPLOYS", "xprod", "api"), 0);
}

TEST(doc_recipes)
{
    CHECK_EQ(parse("allow  deploy,rollback  W02ONCALL  *  prod/*\n"
                   "deny   deploy,rollback  *          *  prod/*   # freeze until the release is "
                   "out\n"),
             0);
    CHECK_EQ(P.nrules, 2);
    CHECK_EQ(allows(CMD_DEPLOY, "W02ONCALL", "C1X", "prod", "api"), 1);
    CHECK_EQ(allows(CMD_DEPLOY, "U03ALICE", "C1X", "prod", "api"), 0);
    CHECK_EQ(allows(CMD_STATUS, "U03ALICE", "C1X", "prod", "api"), 0); /* no rule allows it */
    CHECK_EQ(parse("allow  *  *  C05DEPLOYS  */*\n"), 0);
    CHECK_EQ(allows(CMD_DEPLOY, "U03ALICE", "C05DEPLOYS", "any", "thing"), 1);
    CHECK_EQ(allows(CMD_DEPLOY, "U03ALICE", "G05DEPLOYS", "any", "thing"), 0);
    CHECK_EQ(parse("allow  status,history  *  *  */*\n"), 0);
    CHECK_EQ(allows(CMD_STATUS, "U1AA", "C1AA", "a", "b"), 1);
    CHECK_EQ(allows(CMD_HISTORY, "U1AA", "C1AA", "a", "b"), 1);
    CHECK_EQ(allows(CMD_DEPLOY, "U1AA", "C1AA", "a", "b"), 0);
    CHECK_EQ(allows(CMD_ROLLBACK, "U1AA", "C1AA", "a", "b"), 0);
}

TEST(deny_by_default)
{
    CHECK_EQ(parse(""), 0);
    CHECK_EQ(P.nrules, 0);
    CHECK_EQ(allows(CMD_DEPLOY, "U1AA", "C1AA", "a", "b"), 0);
    CHECK_EQ(allows(CMD_STATUS, "U1AA", "C1AA", "a", "b"), 0);
    CHECK_EQ(allows(CMD_HELP, "U1AA", "C1AA", "a", "b"), 1);
    CHECK_EQ(parse("# only comments\n\n   \t\n#\n"), 0);
    CHECK_EQ(P.nrules, 0);
    CHECK_EQ(policy_allows(NULL, CMD_DEPLOY, "U1AA", "C1AA", "a", "b"), 0);
    CHECK_EQ(policy_allows(NULL, CMD_HELP, NULL, NULL, NULL, NULL), 1);
    /* Missing or empty ids and names never match, not even '*'. */
    CHECK_EQ(parse("allow * * * */*"), 0);
    CHECK_EQ(allows(CMD_DEPLOY, "U1AA", "C1AA", "a", "b"), 1);
    CHECK_EQ(allows(CMD_DEPLOY, NULL, "C1AA", "a", "b"), 0);
    CHECK_EQ(allows(CMD_DEPLOY, "", "C1AA", "a", "b"), 0);
    CHECK_EQ(allows(CMD_DEPLOY, "U1AA", NULL, "a", "b"), 0);
    CHECK_EQ(allows(CMD_DEPLOY, "U1AA", "", "a", "b"), 0);
    CHECK_EQ(allows(CMD_DEPLOY, "U1AA", "C1AA", NULL, "b"), 0);
    CHECK_EQ(allows(CMD_DEPLOY, "U1AA", "C1AA", "a", ""), 0);
    CHECK_EQ(allows((enum cmd_verb)9, "U1AA", "C1AA", "a", "b"), 0);
    /* A file that failed to parse leaves no rules behind. */
    CHECK_EQ(parse("allow * * * */*\nallow nope * * */*\n"), -1);
    CHECK_EQ(P.nrules, 0);
    CHECK_EQ(allows(CMD_DEPLOY, "U1AA", "C1AA", "a", "b"), 0);
}

TEST(first_match_decides)
{
    CHECK_EQ(parse("deny deploy U1AA * prod/*\nallow * * * */*\n"), 0);
    CHECK_EQ(allows(CMD_DEPLOY, "U1AA", "C1AA", "prod", "api"), 0);
    CHECK_EQ(allows(CMD_ROLLBACK, "U1AA", "C1AA", "prod", "api"), 1);
    CHECK_EQ(allows(CMD_DEPLOY, "U2BB", "C1AA", "prod", "api"), 1);
    CHECK_EQ(parse("allow * * * */*\ndeny deploy U1AA * prod/*\n"), 0);
    CHECK_EQ(allows(CMD_DEPLOY, "U1AA", "C1AA", "prod", "api"), 1);
    /* Channel kinds. */
    CHECK_EQ(parse("allow deploy * C1AA,G2BB,D3CC */*\n"), 0);
    CHECK_EQ(allows(CMD_DEPLOY, "U1AA", "G2BB", "a", "b"), 1);
    CHECK_EQ(allows(CMD_DEPLOY, "U1AA", "D3CC", "a", "b"), 1);
    CHECK_EQ(allows(CMD_DEPLOY, "U1AA", "C3CC", "a", "b"), 0);
}

static char R[300];

/* policy_decide on P, and its sentence in R. */
static struct policy_decision decide(enum cmd_verb v, const char *user, const char *chan,
                                     const char *ns, const char *name)
{
    struct policy_decision d = policy_decide(&P, v, user, chan, ns, name);
    policy_reason(&d, v, user, chan, ns, name, R, sizeof R);
    return d;
}

TEST(decision_names_the_rule)
{
    CHECK_EQ(parse(example), 0);
    struct policy_decision d = decide(CMD_DEPLOY, "U03ALICE", "C05DEPLOYS", "prod", "postgres-x");
    CHECK_EQ(d.allow, 0);
    CHECK_EQ(d.why, POLICY_RULE);
    CHECK_EQ(d.line, 7);
    CHECK_STR(R, "the deny rule on line 7 of the policy matches");
    d = decide(CMD_DEPLOY, "U03ALICE", "C05DEPLOYS", "prod", "api");
    CHECK_EQ(d.allow, 1);
    CHECK_EQ(d.line, 10);
    CHECK(strstr(R, "line 10") != NULL);
    d = decide(CMD_DEPLOY, "U03ALICE", "C99RANDOM", "prod", "api");
    CHECK_EQ(d.allow, 0);
    CHECK_EQ(d.why, POLICY_NO_CHANNEL);
    CHECK_STR(R, "no policy rule allows user U03ALICE to deploy prod/api from channel C99RANDOM");
    d = decide(CMD_DEPLOY, "U09CAROL", "C77ANY", "prod", "api");
    CHECK_EQ(d.why, POLICY_NO_USER);
    CHECK_STR(R, "no policy rule allows user U09CAROL to deploy prod/api");
    CHECK_EQ(parse("allow deploy * * staging/*\n"), 0);
    d = decide(CMD_DEPLOY, "U09CAROL", "C77ANY", "dev", "api");
    CHECK_EQ(d.why, POLICY_NO_TARGET);
    CHECK_STR(R, "no policy rule allows to deploy the target dev/api");
    /* A verb no allow rule names, then a user, then a channel. */
    CHECK_EQ(parse("allow deploy U1AA * */*\nallow status * C1AA */*\n"), 0);
    d = decide(CMD_RESTART, "U1AA", "C1AA", "a", "b");
    CHECK_EQ(d.why, POLICY_NO_VERB);
    CHECK_STR(R, "no policy rule allows the verb restart");
    d = decide(CMD_DEPLOY, "U2BB", "C1AA", "a", "b");
    CHECK_EQ(d.why, POLICY_NO_USER);
    CHECK_STR(R, "no policy rule allows user U2BB to deploy a/b");
    d = decide(CMD_STATUS, "U2BB", "C2BB", "a", "b");
    CHECK_EQ(d.why, POLICY_NO_CHANNEL);
    /* Deny rules never count as "closest": the allow rule decides the words. */
    CHECK_EQ(parse("deny deploy U1AA C1AA a/b\nallow deploy U1AA C2BB */*\n"), 0);
    d = decide(CMD_DEPLOY, "U1AA", "C3CC", "a", "b");
    CHECK_EQ(d.why, POLICY_NO_CHANNEL);
    d = decide(CMD_DEPLOY, "U1AA", "C1AA", "a", "b");
    CHECK_EQ(d.why, POLICY_RULE);
    CHECK_EQ(d.line, 1);
    /* An empty file: nothing names the verb. */
    CHECK_EQ(parse(""), 0);
    CHECK_EQ(decide(CMD_STATUS, "U1AA", "C1AA", "a", "b").why, POLICY_NO_VERB);
    /* Bad input, and ids that are not ids are quoted harmlessly. */
    d = policy_decide(NULL, CMD_DEPLOY, "U1AA", "C1AA", "a", "b");
    CHECK_EQ(d.allow, 0);
    CHECK_EQ(d.why, POLICY_BAD_INPUT);
    CHECK_EQ(policy_decide(&P, (enum cmd_verb)9, "U1AA", "C1AA", "a", "b").why, POLICY_BAD_INPUT);
    CHECK_EQ(parse("allow deploy U1AA * */*\n"), 0);
    decide(CMD_DEPLOY, "<!channel>&", "C1AA", "a", "b");
    CHECK_STR(R, "no policy rule allows user ??channel?? to deploy a/b");
    char longid[100];
    memset(longid, 'U', sizeof longid - 1);
    longid[sizeof longid - 1] = 0;
    decide(CMD_DEPLOY, longid, "C1AA", "a", "b");
    CHECK(strstr(R, "UUU...") != NULL && strlen(R) < 100);
    CHECK_EQ(policy_decide(&P, CMD_HELP, NULL, NULL, NULL, NULL).allow, 1);
}

TEST(syntax_variants)
{
    /* Tabs, CRLF, trailing comment, no final newline, repeated '*'. */
    CHECK_EQ(parse("allow\tdeploy\tU1AA\t*\tstaging/**api**  # tabs\r\n"
                   "  deny status * * a/b"),
             0);
    CHECK_EQ(P.nrules, 2);
    CHECK_EQ(P.rules[1].line, 2);
    CHECK_EQ(allows(CMD_DEPLOY, "U1AA", "C1AA", "staging", "my-api-2"), 1);
    CHECK_EQ(allows(CMD_DEPLOY, "U1AA", "C1AA", "staging", "web"), 0);
    CHECK_EQ(parse("allow * * * */*#no space needed\n"), 0);
    CHECK_EQ(P.nrules, 1);
    CHECK_EQ(parse("allow * * * a.b/c.d\n"), -1); /* '.' only in the deployment part */
    CHECK_EQ(parse("allow * * * a/c.d\n"), 0);
    CHECK_EQ(allows(CMD_DEPLOY, "U1AA", "C1AA", "a", "c.d"), 1);
    CHECK_EQ(allows(CMD_DEPLOY, "U1AA", "C1AA", "a", "cxd"), 0); /* '.' is literal */
}

TEST(parse_errors)
{
    CHECK_STR(perr("permit * * * */*"), "line 1: unknown action \"permit\" (allow or deny)");
    CHECK_STR(perr("Allow * * * */*"), "line 1: unknown action \"Allow\" (allow or deny)");
    CHECK_STR(perr("# c\n\nallow deploy,help * * */*\n"),
              "line 3: unknown verb \"help\" (deploy, rollback, restart, status, history or *)");
    CHECK_STR(perr("allow Deploy * * */*"),
              "line 1: unknown verb \"Deploy\" (deploy, rollback, restart, status, history or *)");
    CHECK_STR(perr("allow * alice * */*"),
              "line 1: \"alice\" is not a Slack user id (like U0123ABCD)");
    CHECK_STR(perr("allow * @U0123ABCD * */*"),
              "line 1: \"@U0123ABCD\" is not a Slack user id (like U0123ABCD)");
    CHECK_STR(perr("allow * u0123abcd * */*"),
              "line 1: \"u0123abcd\" is not a Slack user id (like U0123ABCD)");
    CHECK_STR(perr("allow * C0123ABCD * */*"),
              "line 1: \"C0123ABCD\" is not a Slack user id (like U0123ABCD)");
    CHECK_STR(perr("allow * * U0123ABCD */*"),
              "line 1: \"U0123ABCD\" is not a Slack channel id (like C0123ABCD)");
    CHECK_STR(perr("allow * * #deploys */*"), "line 1: too few fields (want: allow|deny VERBS "
                                              "USERS CHANNELS TARGETS)");
    CHECK_STR(perr("allow * * deploys */*"),
              "line 1: \"deploys\" is not a Slack channel id (like C0123ABCD)");
    CHECK_STR(perr("allow * * * staging"),
              "line 1: target pattern \"staging\" has no '/' (namespace/deployment)");
    CHECK_STR(perr("allow * * * *"),
              "line 1: TARGETS wants namespace/deployment patterns (\"*/*\" for any)");
    CHECK_STR(perr("allow * * * a/b/c"),
              "line 1: target pattern \"a/b/c\" is not namespace/deployment");
    CHECK_STR(perr("allow * * * /b"), "line 1: target pattern \"/b\" is not namespace/deployment");
    CHECK_STR(perr("allow * * * a/"), "line 1: target pattern \"a/\" is not namespace/deployment");
    CHECK(strstr(perr("allow * * * Prod/api"), "has a character no Kubernetes name has"));
    CHECK(strstr(perr("allow * * * prod/api?"), "has a character no Kubernetes name has"));
    CHECK_STR(perr("allow * * *"),
              "line 1: too few fields (want: allow|deny VERBS USERS CHANNELS TARGETS)");
    CHECK_STR(perr("allow"),
              "line 1: too few fields (want: allow|deny VERBS USERS CHANNELS TARGETS)");
    CHECK(strstr(perr("allow * * * */* extra"), "line 1: too many fields"));
    CHECK(strstr(perr("allow deploy, status * * */*"), "line 1: too many fields"));
    CHECK_STR(perr("allow * U1AA, * */*"), "line 1: empty item in USERS");
    CHECK_STR(perr("allow deploy,,status * * */*"), "line 1: empty item in VERBS");
    CHECK_STR(perr("allow * * ,C1AA */*"), "line 1: empty item in CHANNELS");
    CHECK_STR(perr("allow * * * a/b,"), "line 1: empty item in TARGETS");
    CHECK_STR(perr("allow *,deploy * * */*"), "line 1: '*' must stand alone in VERBS");
    CHECK_STR(perr("allow * U1AA,* * */*"), "line 1: '*' must stand alone in USERS");
    CHECK_STR(perr("allow * * * a/b,*"), "line 1: '*' must stand alone in TARGETS");
    /* Id shape: a prefix and at least two more, at most SLACK_ID_MAX. */
    CHECK_STR(perr("allow * U1 * */*"), "line 1: \"U1\" is not a Slack user id (like U0123ABCD)");
    CHECK_EQ(parse("allow * U12 * */*"), 0);
    char t[128], id[SLACK_ID_MAX + 2];
    memset(id, 'A', sizeof id);
    id[0] = 'W';
    id[SLACK_ID_MAX] = 0;
    snprintf(t, sizeof t, "allow * %s * */*", id);
    CHECK_EQ(parse(t), 0);
    CHECK_EQ(allows(CMD_DEPLOY, id, "C1AA", "a", "b"), 1);
    id[SLACK_ID_MAX] = 'A';
    id[SLACK_ID_MAX + 1] = 0;
    snprintf(t, sizeof t, "allow * %s * */*", id);
    CHECK(strstr(perr(t), "is not a Slack user id"));
    /* Errors quote at most 40 bytes of the file, as printable ASCII. */
    memset(t, 'x', sizeof t);
    memcpy(t, "bogus", 5);
    t[60] = '\x01';
    memcpy(t + 100, " * * * */*", 11);
    CHECK_STR(perr(t), "line 1: unknown action \"bogusxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx...\" "
                       "(allow or deny)");
    CHECK_STR(perr("allow * * * */\xc3\xa9"),
              "line 1: target pattern \"*/??\" has a character no Kubernetes name has (a-z "
              "0-9 - . and * only)");
    /* A NUL byte, anywhere on a line. */
    const char nul[] = "allow * * * */*\nallow * \0 * */*\n";
    CHECK_EQ(policy_parse(&P, nul, sizeof nul - 1, E, sizeof E), -1);
    CHECK_STR(E, "line 2: NUL byte");
    /* Small and missing err buffers. */
    char small[10];
    CHECK_EQ(policy_parse(&P, "nope", 4, small, sizeof small), -1);
    CHECK_STR(small, "line 1: t"); /* cut "too few fields ..." */
    CHECK_EQ(policy_parse(&P, "nope", 4, NULL, 0), -1);
}

TEST(rule_count_bound)
{
    static char t[POLICY_MAX_RULES * 32 + 64];
    size_t n = 0;
    for (int i = 0; i < POLICY_MAX_RULES; i++)
        n += (size_t)sprintf(t + n, "deny deploy U%dXX * a/b\n", i);
    n += (size_t)sprintf(t + n, "allow * * * */*\n"); /* rule 257 */
    CHECK_STR(perr(t), "line 257: more than 256 rules");
    CHECK_EQ(P.nrules, 0);
    t[n - 16] = 0; /* drop the last rule */
    CHECK_EQ(parse(t), 0);
    CHECK_EQ(P.nrules, POLICY_MAX_RULES);
    CHECK_EQ(allows(CMD_DEPLOY, "U255XX", "C1AA", "a", "b"), 0);
    /* Comments and blank lines do not count. */
    strcpy(t + n - 16, "# one more comment\n\n");
    CHECK_EQ(parse(t), 0);
}

TEST(line_length_bound)
{
    static char t[POLICY_MAX_LINE + 64];
    const char *rule = "allow * * * */*";
    size_t r = strlen(rule);
    /* POLICY_MAX_LINE bytes: the rule, then a comment padding it out. */
    memcpy(t, rule, r);
    memset(t + r, ' ', 2);
    t[r + 2] = '#';
    memset(t + r + 3, 'c', POLICY_MAX_LINE - r - 3);
    strcpy(t + POLICY_MAX_LINE, "\n");
    CHECK_EQ(parse(t), 0);
    CHECK_EQ(P.nrules, 1);
    strcpy(t + POLICY_MAX_LINE, "\r\n"); /* the CR is not counted */
    CHECK_EQ(parse(t), 0);
    strcpy(t + POLICY_MAX_LINE, "c\n");
    CHECK_STR(perr(t), "line 1: longer than 1024 bytes");
    memmove(t + 1, t, POLICY_MAX_LINE + 3);
    t[0] = '\n';
    CHECK_STR(perr(t), "line 2: longer than 1024 bytes");
    /* The longest line need not be a comment: one long target list. */
    size_t n = (size_t)sprintf(t, "allow * * * ");
    while (n + 4 <= POLICY_MAX_LINE) n += (size_t)sprintf(t + n, "a/b,");
    t[n - 1] = 0;
    CHECK_EQ(parse(t), 0);
    CHECK_EQ(P.rules[0].targets.n, (POLICY_MAX_LINE - 12) / 4);
}

TEST(file_size_bound)
{
    static char t[POLICY_MAX_FILE + 2];
    /* Exactly POLICY_MAX_FILE bytes of comment lines and one rule. */
    memset(t, '#', POLICY_MAX_FILE);
    for (size_t i = 1000; i < POLICY_MAX_FILE; i += 1000) t[i] = '\n';
    memcpy(t + POLICY_MAX_FILE - 17, "\nallow * * * */*\n", 17);
    CHECK_EQ(policy_parse(&P, t, POLICY_MAX_FILE, E, sizeof E), 0);
    CHECK_EQ(P.nrules, 1);
    t[POLICY_MAX_FILE] = '\n';
    CHECK_EQ(policy_parse(&P, t, POLICY_MAX_FILE + 1, E, sizeof E), -1);
    CHECK_STR(E, "policy file larger than 65536 bytes");
    CHECK_EQ(P.nrules, 0);
    /* The densest file still fits the item store: lines of one-letter
     * targets, 32 rules of ~1 KiB, then up to the file limit. */
    size_t n = 0;
    while (n + POLICY_MAX_LINE + 1 <= POLICY_MAX_FILE) {
        n += (size_t)sprintf(t + n, "allow * * * ");
        size_t end = n + POLICY_MAX_LINE - 16;
        while (n + 4 < end) n += (size_t)sprintf(t + n, "a/b,");
        n += (size_t)sprintf(t + n, "a/b\n");
    }
    CHECK_EQ(policy_parse(&P, t, n, E, sizeof E), 0);
    CHECK(P.ntext <= n + 1);
}

TEST(load_file)
{
    char path[] = "/tmp/test_policy_XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    if (fd < 0) return;
    CHECK_EQ(write(fd, example, sizeof example - 1), (ssize_t)(sizeof example - 1));
    close(fd);
    CHECK_EQ(policy_load_file(&P, path, E, sizeof E), 0);
    CHECK_EQ(P.nrules, 5);
    CHECK_EQ(allows(CMD_DEPLOY, "U03ALICE", "C05DEPLOYS", "prod", "api"), 1);
    /* Too large: POLICY_MAX_FILE + 1 bytes. */
    static char big[POLICY_MAX_FILE + 1];
    memset(big, '\n', sizeof big);
    fd = open(path, O_WRONLY | O_TRUNC);
    CHECK_EQ(write(fd, big, POLICY_MAX_FILE), POLICY_MAX_FILE);
    close(fd);
    CHECK_EQ(policy_load_file(&P, path, E, sizeof E), 0);
    fd = open(path, O_WRONLY | O_APPEND);
    CHECK_EQ(write(fd, "\n", 1), 1);
    close(fd);
    CHECK_EQ(policy_load_file(&P, path, E, sizeof E), -1);
    CHECK_STR(E, "policy file larger than 65536 bytes");
    /* Malformed: the line number comes through. */
    fd = open(path, O_WRONLY | O_TRUNC);
    CHECK_EQ(write(fd, "\n\nallow * * *\n", 14), 14);
    close(fd);
    CHECK_EQ(policy_load_file(&P, path, E, sizeof E), -1);
    CHECK(strncmp(E, "line 3: too few fields", 22) == 0);
    unlink(path);
    CHECK_EQ(policy_load_file(&P, path, E, sizeof E), -1);
    CHECK(strncmp(E, "open /tmp/test_policy_", 22) == 0);
    CHECK(strstr(E, "No such file") != NULL);
    CHECK_EQ(P.nrules, 0);
    CHECK_EQ(policy_load_file(&P, "/", E, sizeof E), -1);
    CHECK(strncmp(E, "read /: ", 8) == 0);
}

TEST(matcher)
{
    CHECK_EQ(policy_match("*", ""), 1);
    CHECK_EQ(policy_match("*", "anything"), 1);
    CHECK_EQ(policy_match("", ""), 1);
    CHECK_EQ(policy_match("", "a"), 0);
    CHECK_EQ(policy_match("a", ""), 0);
    CHECK_EQ(policy_match("api-*", "api-"), 1);
    CHECK_EQ(policy_match("api-*", "api-v2"), 1);
    CHECK_EQ(policy_match("api-*", "api"), 0);
    CHECK_EQ(policy_match("api-*", "xapi-v2"), 0);
    CHECK_EQ(policy_match("*-api", "x-api"), 1);
    CHECK_EQ(policy_match("*-api", "x-api-"), 0);
    CHECK_EQ(policy_match("a*b*c", "abc"), 1);
    CHECK_EQ(policy_match("a*b*c", "aXbYbZc"), 1);
    CHECK_EQ(policy_match("a*b*c", "aXbYbZcd"), 0);
    CHECK_EQ(policy_match("*a*a*", "aa"), 1);
    CHECK_EQ(policy_match("*a*a*", "a"), 0);
    CHECK_EQ(policy_match("**", "x"), 1);
    CHECK_EQ(policy_match("exact", "exact"), 1);
    CHECK_EQ(policy_match("exact", "exac"), 0);
    /* Many stars against a long near-miss: quadratic at worst, never
     * exponential (this would take ages with naive backtracking). */
    char pat[600], s[K8S_NAME_MAX + 1];
    size_t n = 0;
    for (int i = 0; i < 250; i++) {
        pat[n++] = 'a';
        pat[n++] = '*';
    }
    pat[n++] = 'b';
    pat[n] = 0;
    memset(s, 'a', K8S_NAME_MAX);
    s[K8S_NAME_MAX] = 0;
    for (int i = 0; i < 200; i++) CHECK_EQ(policy_match(pat, s), 0);
    s[K8S_NAME_MAX - 1] = 'b';
    CHECK_EQ(policy_match(pat, s), 1); /* 252 a's, then b */
    s[249] = 'b';
    s[250] = 0;
    CHECK_EQ(policy_match(pat, s), 0); /* 249 a's: one too few */
    s[249] = 'a';
    s[250] = 'b';
    s[251] = 0;
    CHECK_EQ(policy_match(pat, s), 1); /* exactly 250 */
}

int main(void)
{
    RUN(doc_example);
    RUN(doc_recipes);
    RUN(deny_by_default);
    RUN(first_match_decides);
    RUN(decision_names_the_rule);
    RUN(syntax_variants);
    RUN(parse_errors);
    RUN(rule_count_bound);
    RUN(line_length_bound);
    RUN(file_size_bound);
    RUN(load_file);
    RUN(matcher);
    return t_done();
}
