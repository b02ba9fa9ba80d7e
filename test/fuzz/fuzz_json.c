/* JSON reader: tokenize, then walk every token through the accessors; the
 * writer re-encodes every string it finds and the result must parse. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct json_tok toks[4096];
static struct json_tok toks2[4096];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct json_doc d;
    int n = json_parse(&d, (const char *)data, size, toks, 4096);
    if (n < 0) return 0;
    if (n == 0 || toks[0].skip != n) __builtin_trap();
    char out[256], wbuf[1024];
    for (int i = 0; i < n; i++) {
        const struct json_tok *t = &toks[i];
        if (t->start > t->end || t->end > size || t->skip <= i || t->skip > n || t->parent >= i)
            __builtin_trap();
        long long v;
        (void)json_int(&d, i, &v);
        (void)json_first(&d, i);
        (void)json_next(&d, i);
        (void)json_get(&d, i, "metadata");
        long k = json_str(&d, i, out, sizeof out);
        if (t->type == JSON_STRING && k >= 0) {
            if (k < (long)sizeof out - 1 && memchr(out, 0, (size_t)k) == NULL &&
                !json_eq(&d, i, out))
                __builtin_trap();
            struct jw w;
            jw_init(&w, wbuf, sizeof wbuf);
            jw_strn(&w, out, (size_t)k);
            long m = jw_finish(&w);
            struct json_doc d2;
            if (m > 0 && json_parse(&d2, wbuf, (size_t)m, toks2, 4) != 1) __builtin_trap();
        }
    }
    (void)json_path(&d, 0, "spec", "template", NULL);
    return 0;
}
