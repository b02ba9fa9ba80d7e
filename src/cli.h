/* The command line, parsed as arguments (never re-joined into Slack text):
 * argv -> one struct, a pure function. Options may come before or after
 * the command and its operands, in kubectl's forms: "-n NS", "-nNS",
 * "--namespace NS", "--namespace=NS"; "--" ends the options. */
#ifndef CLI_H
#define CLI_H

#include <stddef.h>

#include "limits.h"

#define CLI_PATH_MAX 1024    /* --kubeconfig FILE */
#define CLI_CONTEXT_MAX 253  /* --context NAME (kubeconfig names are free text) */
#define CLI_AS_MAX 96        /* --as NAME, written into the change-cause */
#define CLI_HISTORY_MAX 1000 /* history N */

enum cli_verb {
    CLI_SERVE,
    CLI_DEPLOY,
    CLI_STATUS,
    CLI_HISTORY,
    CLI_ROLLBACK,
    CLI_RESTART,
    CLI_CHECK,
    CLI_VERSION,
    CLI_HELP,
};

struct cli {
    enum cli_verb verb;
    int help;                       /* --help/-h: print cli_help(verb), exit 0 */
    int json;                       /* -o json (status, history) */
    char ns[K8S_NS_MAX + 1];        /* -n, or the target's "NS/"; "" when neither */
    char name[K8S_NAME_MAX + 1];    /* the target deployment */
    char version[VERSION_MAX + 8];  /* deploy: a tag or "sha256:<hex>" */
    char container[K8S_NS_MAX + 1]; /* -c/--container; "" when not given */
    char context[CLI_CONTEXT_MAX + 1];
    char kubeconfig[CLI_PATH_MAX]; /* "" when not given */
    char as[CLI_AS_MAX + 1];       /* --as; "" when not given */
    long revision;                 /* rollback: 0 = the previous revision */
    int count;                     /* history: newest N, 0 = the default */
    enum cli_verb help_on;         /* "help VERB": the verb asked about */
};

/* Parse argv[1..argc) into c. No arguments is "serve". Returns 0, or -1
 * with err one line naming what is wrong (an unknown command or option, an
 * option the command does not take, a missing or extra operand, a value
 * that is not a valid name, version or number); exit status 2 then. */
int cli_parse(int argc, char *const argv[], struct cli *c, char *err, size_t errlen);

/* The help of one command (usage line, what it does, its options), or the
 * overview for CLI_HELP. Plain text, ends with a newline. */
const char *cli_help(enum cli_verb v);

/* The command's name ("deploy", ...). */
const char *cli_verb_name(enum cli_verb v);

#endif
