/* A reader for the YAML that kubeconfig files use, and for JSON documents
 * (kubectl accepts both): block mappings and sequences (a sequence may sit
 * at its key's indentation, as kubectl writes it), plain, single- and
 * double-quoted scalars (also over several lines), comments, `|` literal
 * blocks, flow collections ({...} and [...], which covers JSON), one
 * optional leading `---`. Anything else (anchors, aliases, tags, `>`
 * blocks, `?` keys, directives, several documents, tabs in indentation,
 * duplicate keys) is refused with the line number. Every size, depth and
 * count is bounded (the constants below). Pure: no I/O. */
#ifndef YAML_H
#define YAML_H

#include <stddef.h>

#define YAML_MAX_INPUT (4u << 20) /* bytes of one document (kubeconfigs: a few KiB). */
#define YAML_MAX_DEPTH 32         /* nested collections (kubeconfigs: 6). */
#define YAML_MAX_NODES 65536      /* nodes in a document (a 500-cluster config: ~10,000). */
#define YAML_MAX_MAP_ENTRIES 256  /* keys in one mapping (kubeconfig objects: < 20). */

enum yaml_kind { YAML_SCALAR, YAML_MAP, YAML_SEQ };

struct yaml_node {
    enum yaml_kind kind;
    int line;               /* 1-based line where the node starts */
    int null;               /* scalar: empty, `~` or `null`, unquoted */
    int quoted;             /* scalar: it was written in quotes */
    char *key;              /* member of a mapping: its key (NUL-terminated); else NULL */
    char *val;              /* scalar: the decoded value, NUL-terminated (may hold NULs) */
    size_t len;             /* scalar: bytes in val; map/seq: number of children */
    struct yaml_node *kids; /* map/seq: first child */
    struct yaml_node *next; /* next sibling */
};

/* Parse buf[0..len) into a tree owned by the caller (yaml_free). An empty
 * document (only blanks and comments) gives *root = NULL. Returns 0, or -1
 * with err "line N: what is wrong" and *root = NULL. */
int yaml_parse(const char *buf, size_t len, struct yaml_node **root, char *err, size_t errlen);
void yaml_free(struct yaml_node *n);

/* The member of mapping map named key; NULL when map is not a mapping or
 * has no such key. */
const struct yaml_node *yaml_get(const struct yaml_node *map, const char *key);
/* The value of a scalar node; NULL for a missing node, a collection or a null. */
const char *yaml_str(const struct yaml_node *n);

#endif
