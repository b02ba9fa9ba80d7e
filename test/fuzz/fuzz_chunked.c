/* Chunked decoder: decoding in one piece and in two pieces (split where the
 * first byte says) must agree, and never read or write out of bounds. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "chunked.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    size_t split = data[0];
    data++;
    size--;
    if (split > size) split = size;

    char *one = malloc(size + 1), *two = malloc(size + 1);
    memcpy(one, data, size);
    memcpy(two, data, size);

    struct chunked a, b;
    size_t ua, ub1 = 0, ub2 = 0;
    chunked_init(&a);
    chunked_init(&b);
    long ra = chunked_decode(&a, one, size, &ua);

    long rb = chunked_decode(&b, two, split, &ub1);
    long rb2 = 0;
    char *out2 = malloc(size + 1);
    size_t o2 = 0;
    if (rb >= 0) {
        memcpy(out2, two, (size_t)rb);
        o2 = (size_t)rb;
        if (!chunked_done(&b)) {
            if (ub1 != split) __builtin_trap();
            rb2 = chunked_decode(&b, two + split, size - split, &ub2);
            if (rb2 >= 0) {
                memcpy(out2 + o2, two + split, (size_t)rb2);
                o2 += (size_t)rb2;
            }
        }
    }
    int bad_a = ra < 0, bad_b = rb < 0 || rb2 < 0;
    if (bad_a != bad_b) __builtin_trap();
    if (!bad_a) {
        if ((size_t)ra != o2 || memcmp(one, out2, o2) != 0) __builtin_trap();
        if (chunked_done(&a) != chunked_done(&b)) __builtin_trap();
        if (ua > size || (!chunked_done(&a) && ua != size)) __builtin_trap();
        if (chunked_done(&a) && ua != (ub1 + ub2)) __builtin_trap();
    }
    free(one);
    free(two);
    free(out2);
    return 0;
}
