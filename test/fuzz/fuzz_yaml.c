/* yaml_parse on arbitrary bytes: no crash, no over-read, bounded time;
 * a parsed tree is consistent (counts match, depth bounded, every mapping
 * member has a key, every scalar is NUL-terminated at len). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "yaml.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static size_t walk(const struct yaml_node *n, int depth)
{
    if (depth > YAML_MAX_DEPTH + 1) abort();
    size_t count = 1, kids = 0;
    if (n->kind == YAML_SCALAR) {
        if (!n->val || n->val[n->len] != 0 || n->kids) abort();
        return 1;
    }
    for (const struct yaml_node *k = n->kids; k; k = k->next) {
        if ((n->kind == YAML_MAP) != (k->key != NULL)) abort();
        if (n->kind == YAML_MAP && yaml_get(n, k->key) == NULL) abort();
        count += walk(k, depth + 1);
        kids++;
    }
    if (kids != n->len) abort();
    if (n->kind == YAML_MAP && kids > YAML_MAX_MAP_ENTRIES) abort();
    return count;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[256];
    struct yaml_node *r = NULL;
    if (yaml_parse((const char *)data, size, &r, err, sizeof err) != 0) {
        if (r != NULL || strncmp(err, "line ", 5) != 0) abort();
        return 0;
    }
    if (r && walk(r, 1) > YAML_MAX_NODES) abort();
    yaml_free(r);
    return 0;
}
