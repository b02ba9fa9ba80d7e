/* PEM bundle → trust anchors: any input either fails cleanly (nothing kept)
 * or adds exactly what it reports. */
#include <stdint.h>
#include <string.h>

#include "tlscert.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct tls_anchors a = {0};
    char err[256];
    int r = tls_anchors_add_pem(&a, (const char *)data, size, err, sizeof err);
    if ((r < 0 && a.n != 0) || (r >= 0 && (size_t)r != a.n)) __builtin_trap();
    for (size_t i = 0; i < a.n; i++)
        if (a.v[i].dn.data == NULL) __builtin_trap();
    tls_anchors_free(&a);
    return 0;
}
