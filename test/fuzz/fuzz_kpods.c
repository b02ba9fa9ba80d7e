/* libFuzzer target for the pure parts of issue 9: kpods_add_page (a PodList
 * page: why the new pods are not Ready) and krs_history_page (a
 * ReplicaSetList page for history), then the texts made from them. Each
 * input is fed twice to the same tally/history, as two pages. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kpods.h"
#include "krs.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct krs_history h;
    char cont[64], out[4096];
    struct kpods_tally t;
    /* an exact-size copy so ASan sees any over-read */
    char *a = malloc(size ? size : 1);
    if (!a) return 0;
    memcpy(a, data, size);

    kpods_init(&t, size & 1 ? "rs-new" : NULL);
    for (int i = 0; i < 2; i++)
        if (kpods_add_page(&t, a, size, cont, sizeof cont) == 0 && strlen(cont) >= sizeof cont)
            abort();
    if (t.nproblems > KPODS_KINDS || t.ready > t.pods || t.other > t.pods) abort();
    if (kpods_text(&t, out, sizeof out) >= sizeof out) abort();

    krs_history_init(&h, "uid-web", (int)(size % 60));
    for (int i = 0; i < 2; i++) krs_history_page(&h, a, size, cont, sizeof cont);
    if (h.n > h.want || h.n > h.nrevs) abort();
    int n = krs_history_format(&h, "ns", "web", -1, (int)(size & 2), out, sizeof out);
    if (n != h.n || strlen(out) >= sizeof out) abort();
    krs_history_free(&h);
    free(a);
    return 0;
}
