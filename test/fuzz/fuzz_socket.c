/* socket_parse (a Socket Mode message → its type, envelope id and the
 * slash-command fields) on arbitrary bytes: no crash, no over-read, and
 * every field it fills is NUL-terminated inside its array. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "socket.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct socket_msg M;
static struct sockmsg_envelope E;

#define TERMINATED(a) (memchr((a), 0, sizeof(a)) != NULL)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *buf = malloc(size ? size : 1); /* exact size: ASan sees any over-read */
    if (!buf) return 0;
    if (size) memcpy(buf, data, size);
    int r = socket_parse(buf, size, &M, &E);
    free(buf);
    if (r < 0) return 0;
    if (r != 0 || M.type < 0 || M.type >= SOCK_ENV_N) abort();
    if (!TERMINATED(M.envelope_id) || !TERMINATED(M.reason)) abort();
    if (M.type != SOCK_ENV_SLASH_COMMANDS) return 0;
    if (strcmp(E.envelope_id, M.envelope_id) != 0 || E.retry_attempt < 0 || E.retry_attempt > 1000)
        abort();
    if (!TERMINATED(E.team_id) || !TERMINATED(E.user_id) || !TERMINATED(E.channel_id) ||
        !TERMINATED(E.user_name) || !TERMINATED(E.channel_name) || !TERMINATED(E.command) ||
        !TERMINATED(E.text) || !TERMINATED(E.response_url))
        abort();
    return 0;
}
