/* The command-line parser: every command's operands and options, each
 * malformed case with the message that names it. */
#include "cli.h"
#include "t.h"

static char err[256];
static struct cli c;

/* Parse a NULL-terminated list of words after "deploy-api". */
static int parse_v(const char *const *words)
{
    char *argv[32];
    int argc = 0;
    static char prog[] = "deploy-api";
    argv[argc++] = prog;
    for (; *words; words++) argv[argc++] = (char *)*words;
    argv[argc] = NULL;
    err[0] = 0;
    return cli_parse(argc, argv, &c, err, sizeof err);
}
#define P(...) parse_v((const char *const[]){__VA_ARGS__, NULL})

TEST(no_arguments_serve)
{
    static char prog[] = "deploy-api";
    char *argv[] = {prog, NULL};
    CHECK_EQ(cli_parse(1, argv, &c, err, sizeof err), 0);
    CHECK_EQ(c.verb, CLI_SERVE);
    CHECK_EQ(P("serve", "--kubeconfig", "/k", "--context=prod"), 0);
    CHECK_STR(c.kubeconfig, "/k");
    CHECK_STR(c.context, "prod");
    CHECK_EQ(P("--kubeconfig=/k"), 0);
    CHECK_EQ(c.verb, CLI_SERVE);
}

TEST(deploy_operands_and_options)
{
    CHECK_EQ(P("deploy", "prod/api", "1.4"), 0);
    CHECK_EQ(c.verb, CLI_DEPLOY);
    CHECK_STR(c.ns, "prod");
    CHECK_STR(c.name, "api");
    CHECK_STR(c.version, "1.4");
    CHECK_EQ(P("-n", "prod", "deploy", "api",
               "sha256:"
               "0123456789abcdef0123456789abcdef"
               "0123456789abcdef0123456789abcdef",
               "-capp", "--as", "alice"),
             0);
    CHECK_STR(c.ns, "prod");
    CHECK_STR(c.container, "app");
    CHECK_STR(c.as, "alice");
    CHECK_EQ(P("deploy", "api", "2.0", "--container=app", "--namespace=staging"), 0);
    CHECK_STR(c.container, "app");
    CHECK_STR(c.ns, "staging");
    CHECK_EQ(P("deploy", "-n", "prod", "prod/api", "1"), 0); /* the same namespace twice */
    /* the reported bug: "rollback" is the deployment here, never a command */
    CHECK_EQ(P("deploy", "rollback", "myservice"), 0);
    CHECK_EQ(c.verb, CLI_DEPLOY);
    CHECK_STR(c.name, "rollback");
    CHECK_STR(c.version, "myservice");
    CHECK_EQ(P("deploy", "--", "api", "1.0"), 0);
}

TEST(status_history_rollback)
{
    CHECK_EQ(P("status", "api", "-o", "json"), 0);
    CHECK_EQ(c.verb, CLI_STATUS);
    CHECK_EQ(c.json, 1);
    CHECK_EQ(P("history", "api", "25", "-ojson"), 0);
    CHECK_EQ(c.count, 25);
    CHECK_EQ(c.json, 1);
    CHECK_EQ(P("history", "api", "--output=json"), 0);
    CHECK_EQ(c.count, 0);
    CHECK_EQ(P("history", "api", "1000"), 0);
    CHECK_EQ(P("rollback", "api"), 0);
    CHECK_EQ(c.revision, 0);
    CHECK_EQ(P("rollback", "api", "7", "--as=bob"), 0);
    CHECK_EQ(c.revision, 7);
    CHECK_EQ(P("rollback", "api", "2147483647"), 0);
    CHECK_EQ(P("restart", "web"), 0);
    CHECK_EQ(c.verb, CLI_RESTART);
    CHECK_EQ(P("check", "--context", "kind-kind"), 0);
    CHECK_EQ(c.verb, CLI_CHECK);
    CHECK_EQ(P("version"), 0);
    CHECK_EQ(c.verb, CLI_VERSION);
    CHECK_EQ(P("--version"), 0);
    CHECK_EQ(c.verb, CLI_VERSION);
}

TEST(help_everywhere)
{
    CHECK_EQ(P("--help"), 0);
    CHECK(c.help && c.verb == CLI_HELP);
    CHECK_EQ(P("help"), 0);
    CHECK(c.help && c.verb == CLI_HELP);
    CHECK_EQ(P("deploy", "--help"), 0);
    CHECK(c.help && c.verb == CLI_DEPLOY);
    CHECK_EQ(P("status", "-h"), 0);
    CHECK(c.help && c.verb == CLI_STATUS);
    CHECK_EQ(P("help", "history"), 0);
    CHECK(c.help && c.verb == CLI_HISTORY);
    CHECK(strstr(cli_help(CLI_HISTORY), "-o json") != NULL);
    CHECK(strstr(cli_help(CLI_DEPLOY), "--container") != NULL);
    CHECK(strstr(cli_help(CLI_DEPLOY), "--kubeconfig") != NULL);
    CHECK(strstr(cli_help(CLI_HELP), "deploy-api restart") != NULL);
    CHECK_STR(cli_verb_name(CLI_ROLLBACK), "rollback");
}

struct bad {
    const char *words[8];
    const char *msg;
};

TEST(malformed)
{
    static const struct bad bad[] = {
        {{"frobnicate"}, "unknown command \"frobnicate\""},
        {{"deploy"}, "deploy: missing the target"},
        {{"deploy", "api"}, "deploy: missing the version"},
        {{"deploy", "api", "1", "2"}, "deploy: unexpected argument \"2\""},
        {{"deploy", "rollback", "myservice", "x"}, "unexpected argument"},
        {{"deploy", "api", "reg.io/api:1"}, "is not a version"},
        {{"deploy", "Api", "1"}, "\"Api\" is not a target"},
        {{"deploy", "a/b/c", "1"}, "is not a target"},
        {{"deploy", "/api", "1"}, "is not a target"},
        {{"deploy", "api", "1", "-c"}, "option --container needs a value"},
        {{"deploy", "api", "1", "-c", "A_B"}, "is not a container name"},
        {{"deploy", "api", "1", "-c", "a", "-c", "b"}, "--container given twice"},
        {{"deploy", "-n", "a", "b/api", "1"}, "namespace given twice"},
        {{"deploy", "api", "1", "-o", "json"}, "deploy: option --output does not apply"},
        {{"status", "api", "-c", "x"}, "status: option --container does not apply"},
        {{"status"}, "status: missing the target"},
        {{"status", "a", "b"}, "unexpected argument \"b\""},
        {{"status", "a", "-o", "yaml"}, "\"yaml\" is not an output format"},
        {{"status", "a", "--as", "x"}, "--as does not apply"},
        {{"history", "a", "0"}, "not a count"},
        {{"history", "a", "1001"}, "not a count"},
        {{"history", "a", "-5"}, "unknown option -5"},
        {{"rollback", "a", "x1"}, "\"x1\" is not a revision"},
        {{"rollback", "a", "2147483648"}, "not a revision"},
        {{"rollback", "a", "01"}, "not a revision"},
        {{"rollback", "a", "1", "2"}, "unexpected argument \"2\""},
        {{"restart", "a", "1"}, "unexpected argument"},
        {{"check", "x"}, "check: unexpected argument"},
        {{"check", "-n", "x"}, "--namespace does not apply"},
        {{"version", "-n", "x"}, "does not apply"},
        {{"status", "a", "--bogus"}, "unknown option --bogus"},
        {{"status", "a", "--context="}, "--context: want"},
        {{"status", "a", "--context", "a\tb"}, "--context: want"},
        {{"status", "a", "--kubeconfig="}, "--kubeconfig: want"},
        {{"deploy", "a", "1", "--as", ""}, "--as: want"},
        {{"help", "nope"}, "help: unknown command"},
        {{"status", "a\x01"}, "\"a?\" is not a target"},
        {{"a", "b", "c", "d", "e", "f", "g"}, "unknown command \"a\""},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int r = parse_v(bad[i].words);
        if (r != -1 || !strstr(err, bad[i].msg)) {
            printf("  case %zu: rc %d err \"%s\"\n", i, r, err);
            CHECK(0);
        }
    }
}

TEST(limits)
{
    char as[CLI_AS_MAX + 2], ctx[CLI_CONTEXT_MAX + 2], *path = malloc(CLI_PATH_MAX + 1);
    memset(as, 'a', sizeof as);
    as[CLI_AS_MAX] = 0;
    CHECK_EQ(P("deploy", "x", "1", "--as", as), 0);
    as[CLI_AS_MAX] = 'a';
    as[CLI_AS_MAX + 1] = 0;
    CHECK_EQ(P("deploy", "x", "1", "--as", as), -1);
    memset(ctx, 'c', sizeof ctx);
    ctx[CLI_CONTEXT_MAX] = 0;
    CHECK_EQ(P("check", "--context", ctx), 0);
    ctx[CLI_CONTEXT_MAX] = 'c';
    ctx[CLI_CONTEXT_MAX + 1] = 0;
    CHECK_EQ(P("check", "--context", ctx), -1);
    memset(path, 'p', CLI_PATH_MAX);
    path[CLI_PATH_MAX - 1] = 0;
    CHECK_EQ(P("check", "--kubeconfig", path), 0);
    path[CLI_PATH_MAX - 1] = 'p';
    path[CLI_PATH_MAX] = 0;
    CHECK_EQ(P("check", "--kubeconfig", path), -1);
    free(path);
    /* a long word is shown cut, never whole */
    CHECK_EQ(P("status", "a", "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"),
             -1);
    CHECK(strstr(err, "...") != NULL && strlen(err) < 120);
    const char *many[] = {"status", "a", "1", "2", "3", "4", "5", "6", "7", "8", "9", NULL};
    CHECK_EQ(parse_v(many), -1);
    CHECK(strstr(err, "unexpected argument") != NULL);
}

int main(void)
{
    RUN(no_arguments_serve);
    RUN(deploy_operands_and_options);
    RUN(status_history_rollback);
    RUN(help_everywhere);
    RUN(malformed);
    RUN(limits);
    return t_done();
}
