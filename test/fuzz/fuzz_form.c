/* form_parse + form_get on arbitrary bytes: no crash, no over-read, and a
 * parsed form is consistent (every key found, values as long as vlen). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "form.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct form F;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *why = NULL;
    if (form_parse(&F, (const char *)data, size, &why) != 0) {
        if (!why || F.n != 0) abort();
        return 0;
    }
    if (F.n > FORM_MAX_FIELDS) abort();
    for (size_t i = 0; i < F.n; i++) {
        const char *k = F.f[i].key, *v = F.f[i].value;
        if (!*k || strlen(v) != F.f[i].vlen || F.f[i].vlen > FORM_MAX_VALUE) abort();
        if (k < F.buf || v < F.buf || v + F.f[i].vlen >= F.buf + sizeof F.buf) abort();
        if (form_get(&F, k) != v) abort(); /* keys are unique */
    }
    (void)form_get(&F, "text");
    (void)form_get(&F, "ssl_check");
    return 0;
}
