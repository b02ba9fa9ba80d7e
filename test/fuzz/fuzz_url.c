/* url_parse (url.c) on arbitrary bytes: no crash, no over-read; a parsed URL
 * has a non-empty host without spaces or controls, a numeric port in range
 * (or none) and a path starting with '/'. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "url.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char s[4096], err[256];
    struct url u;
    if (size >= sizeof s) return 0;
    memcpy(s, data, size);
    s[size] = 0;
    if (url_parse(s, &u, err, sizeof err) != 0) {
        if (!err[0] || strlen(err) >= sizeof err) abort();
        return 0;
    }
    if (!u.host[0] || u.path[0] != '/') abort();
    for (const char *p = u.host; *p; p++)
        if ((unsigned char)*p <= ' ' || (unsigned char)*p >= 0x7f || *p == '@') abort();
    if (u.port[0]) {
        char *end;
        unsigned long port = strtoul(u.port, &end, 10);
        if (*end || port == 0 || port > 65535) abort();
    }
    return 0;
}
