/* Response head parser: a complete head parses the same from a buffer that
 * holds exactly it, and no prefix of it is complete. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "httphead.h"
#include "limits.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct httphead h, h2;
    long r = httphead_parse((const char *)data, size, &h);
    if (r == 0 && size >= HTTPC_MAX_HEAD) __builtin_trap();
    if (r <= 0) return 0;
    if ((size_t)r > size || r > HTTPC_MAX_HEAD || h.status < 100 || h.status > 599 ||
        (h.chunked && h.content_length >= 0) || strlen(h.content_type) >= sizeof h.content_type)
        __builtin_trap();
    char *copy = malloc((size_t)r);
    memcpy(copy, data, (size_t)r);
    if (httphead_parse(copy, (size_t)r, &h2) != r || h2.status != h.status ||
        h2.content_length != h.content_length || h2.chunked != h.chunked)
        __builtin_trap();
    if (httphead_parse(copy, (size_t)r - 1, &h2) != 0) __builtin_trap();
    free(copy);
    return 0;
}
