/* TRUSTED_PROXIES parsing and the X-Forwarded-For walk on arbitrary bytes:
 * the first line is the CIDR list, the rest the header value. No crash, no
 * over-read; a client it returns is an address that is not trusted, or all
 * hops were trusted. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proxies.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char list[512], out[64];
    const uint8_t *nl = memchr(data, '\n', size);
    size_t ln = nl ? (size_t)(nl - data) : size;
    if (ln >= sizeof list || memchr(data, 0, ln)) return 0;
    memcpy(list, data, ln);
    list[ln] = 0;
    const char *xff = nl ? (const char *)nl + 1 : "";
    size_t xn = nl ? size - ln - 1 : 0;
    (void)proxies_cidr_ok(list, ln);
    if (proxies_client(list, "127.0.0.1", xff, xn, out, sizeof out)) {
        if (!out[0] || strlen(out) >= sizeof out) abort();
    } else if (out[0]) {
        abort();
    }
    return 0;
}
