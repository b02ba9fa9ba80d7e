/* policy_parse on arbitrary bytes and, when it parses, a few decisions and
 * their reasons: no crash, no over-read, bounded time, help always allowed,
 * policy_decide agreeing with policy_allows. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "policy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct policy P;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[256];
    if (policy_parse(&P, (const char *)data, size, err, sizeof err) != 0) {
        if (P.nrules != 0 || !err[0]) abort();
        return 0;
    }
    if (P.nrules > POLICY_MAX_RULES || P.ntext > sizeof P.text) abort();
    static const char *const users[] = {"U01PLATFORM", "W02ONCALL", "U1AA"};
    static const char *const chans[] = {"C05DEPLOYS", "G1AA", "D1AA"};
    static const char *const targets[][2] = {
        {"prod", "api"}, {"staging", "postgres-main"}, {"default", "a.b-c"}};
    for (int i = 0; i < 3; i++) {
        for (int v = CMD_DEPLOY; v <= CMD_VERB_LAST; v++) {
            const char *u = users[i], *c = chans[(i + v) % 3], *ns = targets[(i + 2 * v) % 3][0],
                       *nm = targets[(i + 2 * v) % 3][1];
            int r = policy_allows(&P, (enum cmd_verb)v, u, c, ns, nm);
            if (r != 0 && r != 1) abort();
            /* the decision agrees, names a rule that exists, and reads as a sentence */
            struct policy_decision d = policy_decide(&P, (enum cmd_verb)v, u, c, ns, nm);
            if (d.allow != r || (d.why == POLICY_RULE && (d.line == 0 || P.nrules == 0))) abort();
            char why[300];
            policy_reason(&d, (enum cmd_verb)v, u, c, ns, nm, why, sizeof why);
            if (!why[0] || strchr(why, '<') || strchr(why, '&')) abort();
        }
        if (policy_allows(&P, CMD_HELP, users[i], chans[i], "a", "b") != 1) abort();
    }
    return 0;
}
