/* eku_server_ok (the Extended Key Usage check of a server certificate)
 * on arbitrary DER: no crash, no over-read, an answer in {-1, 0, 1}. */
#include <stdint.h>
#include <stdlib.h>

#include "eku.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int r = eku_server_ok(data, size);
    if (r < -1 || r > 1) abort();
    return 0;
}
