/* str_clean_name on arbitrary bytes: no crash, no over-read; the result is
 * bounded, valid UTF-8 without C0/C1 controls, DEL or bidi controls. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "str.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char in[512], out[97];
    if (size >= sizeof in) return 0;
    memcpy(in, data, size);
    in[size] = 0;
    size_t n = str_clean_name(out, sizeof out, in);
    if (n >= sizeof out || strlen(out) != n) abort();
    /* Cleaning is idempotent: what it returns is already clean. */
    char again[97];
    if (str_clean_name(again, sizeof again, out) != n || memcmp(again, out, n + 1) != 0) abort();
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)out[i];
        if (c < 0x20 || c == 0x7f) abort();
        if (c == 0xc2 && i + 1 < n && (unsigned char)out[i + 1] < 0xa0) abort(); /* C1 */
        if (c == 0xe2 && i + 2 < n && (unsigned char)out[i + 1] == 0x80 &&
            (unsigned char)out[i + 2] >= 0xaa && (unsigned char)out[i + 2] <= 0xae)
            abort(); /* U+202A..U+202E */
    }
    return 0;
}
