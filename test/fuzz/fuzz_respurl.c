/* respond_url_allowed (the response_url allow-list, an SSRF guard) on
 * arbitrary URLs against a fixed list: no crash; anything it allows is an
 * https URL that url_parse reads to exactly an allowed host and port. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "httpc.h"
#include "respond.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char allowed[] = "hooks.slack.com,127.0.0.1:8443,[::1]:9443";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char s[1024], err[256];
    if (size >= sizeof s) return 0;
    memcpy(s, data, size);
    s[size] = 0;
    if (!respond_url_allowed(s, allowed, err, sizeof err)) {
        if (!err[0]) abort();
        return 0;
    }
    struct url u;
    if (url_parse(s, &u, err, sizeof err) != 0 || !u.https) abort();
    const char *port = u.port[0] ? u.port : "443";
    int ok = (strcasecmp(u.host, "hooks.slack.com") == 0 && strcmp(port, "443") == 0) ||
             (strcmp(u.host, "127.0.0.1") == 0 && strcmp(port, "8443") == 0) ||
             (strcmp(u.host, "::1") == 0 && strcmp(port, "9443") == 0);
    if (!ok) abort();
    return 0;
}
