/* YAML (the kubeconfig subset) and JSON reader: recursive descent over the
 * bytes, one node allocation per value, everything bounded. Every parse_*
 * function returns with pos at the first content byte of the next
 * non-blank line (its column is that line's indentation) or at the end. */
#include "yaml.h"

#include "yamlscan.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct yaml_node *node_new(struct yp *p, enum yaml_kind kind, int line)
{
    if (p->nodes >= YAML_MAX_NODES) {
        yamlscan_fail(p, line, "more than %d nodes", YAML_MAX_NODES);
        return NULL;
    }
    struct yaml_node *n = calloc(1, sizeof *n);
    if (!n) {
        yamlscan_fail(p, line, "out of memory");
        return NULL;
    }
    p->nodes++;
    n->kind = kind;
    n->line = line;
    return n;
}

void yaml_free(struct yaml_node *n)
{
    while (n) {
        struct yaml_node *next = n->next;
        yaml_free(n->kids); /* depth is bounded by YAML_MAX_DEPTH */
        free(n->key);
        free(n->val);
        free(n);
        n = next;
    }
}

static int scalar_node(struct yp *p, int line, struct sb *b, int isquoted, struct yaml_node **out)
{
    struct yaml_node *n = node_new(p, YAML_SCALAR, line);
    if (!n) {
        free(b->p);
        return -1;
    }
    if (!b->p && yamlscan_sb_add(b, "", 0) < 0) {
        free(n);
        return yamlscan_fail(p, line, "out of memory");
    }
    n->val = b->p;
    n->len = b->len;
    n->quoted = isquoted;
    n->null = !isquoted && (b->len == 0 || strcmp(b->p, "~") == 0 || strcmp(b->p, "null") == 0 ||
                            strcmp(b->p, "Null") == 0 || strcmp(b->p, "NULL") == 0);
    *out = n;
    return 0;
}

/* ---- Flow collections (and JSON) ---- */

static int flow_node(struct yp *p, struct yaml_node **out);

/* Blanks, line breaks and comments between flow tokens. */
static int flow_skip(struct yp *p)
{
    for (;;) {
        skip_spaces(p);
        if (cur(p) == '#' &&
            (p->pos == p->bol || p->s[p->pos - 1] == ' ' || p->s[p->pos - 1] == '\t')) {
            while (!at_eol(p)) p->pos++;
        }
        if (p->pos < p->n && at_eol(p)) {
            next_line(p);
            continue;
        }
        return 0;
    }
}

/* A plain scalar inside a flow collection: up to , [ ] { } ": " " #" or the line's end. */
static int flow_plain(struct yp *p, struct sb *b)
{
    if (yamlscan_plain_start_ok(p) < 0) return -1;
    size_t start = p->pos, end = p->pos;
    while (!at_eol(p)) {
        char c = p->s[p->pos];
        if (strchr(",[]{}", c)) break;
        if (c == ':' && (is_sep_at(p, p->pos + 1) || strchr(",[]{}", peek(p, 1)))) break;
        if (c == '#' && (p->s[p->pos - 1] == ' ' || p->s[p->pos - 1] == '\t')) break;
        p->pos++;
        if (c != ' ' && c != '\t') end = p->pos;
    }
    if (yamlscan_sb_add(b, p->s + start, end - start) < 0)
        return yamlscan_fail(p, p->line, "out of memory");
    return 0;
}

static int flow_scalar(struct yp *p, struct yaml_node **out)
{
    struct sb b = {0};
    int line = p->line, q = cur(p) == '"' || cur(p) == '\'';
    if ((q ? yamlscan_quoted(p, &b) : flow_plain(p, &b)) < 0) {
        free(b.p);
        return -1;
    }
    return scalar_node(p, line, &b, q, out);
}

static int check_dup(struct yp *p, const struct yaml_node *map, const char *key, int line)
{
    if (map->len >= YAML_MAX_MAP_ENTRIES)
        return yamlscan_fail(p, line, "more than %d keys in one mapping", YAML_MAX_MAP_ENTRIES);
    if (yaml_get(map, key)) return yamlscan_fail(p, line, "duplicate key \"%.60s\"", key);
    return 0;
}

static void append(struct yaml_node *parent, struct yaml_node ***tail, struct yaml_node *kid)
{
    **tail = kid;
    *tail = &kid->next;
    parent->len++;
}

/* { key: value, ... } or [ value, ... ] at pos. */
static int flow_collection(struct yp *p, struct yaml_node **out)
{
    int ismap = cur(p) == '{', line = p->line;
    char close = ismap ? '}' : ']';
    struct yaml_node *c = node_new(p, ismap ? YAML_MAP : YAML_SEQ, line), **tail;
    if (!c) return -1;
    *out = c;
    tail = &c->kids;
    p->pos++;
    for (;;) {
        flow_skip(p);
        if (cur(p) == close) {
            p->pos++;
            return 0;
        }
        if (cur(p) < 0)
            return yamlscan_fail(p, line, "unterminated flow collection (no '%c')", close);
        struct yaml_node *kn = NULL, *v = NULL;
        int kline = p->line;
        if (ismap) {
            if (cur(p) == '{' || cur(p) == '[')
                return yamlscan_fail(p, kline, "a collection may not be a key");
            if (flow_scalar(p, &kn) < 0) return -1;
            char *key = kn->val;
            kn->val = NULL;
            yaml_free(kn);
            p->nodes--;
            if (check_dup(p, c, key, kline) < 0) {
                free(key);
                return -1;
            }
            flow_skip(p);
            if (cur(p) != ':') {
                free(key);
                return yamlscan_fail(p, p->line, "expected ':' after a key");
            }
            p->pos++;
            flow_skip(p);
            if (flow_node(p, &v) < 0) {
                yaml_free(v);
                free(key);
                return -1;
            }
            v->key = key;
        } else if (flow_node(p, &v) < 0) {
            yaml_free(v);
            return -1;
        }
        append(c, &tail, v);
        flow_skip(p);
        if (cur(p) < 0)
            return yamlscan_fail(p, line, "unterminated flow collection (no '%c')", close);
        if (cur(p) == ',') {
            p->pos++;
        } else if (cur(p) != close) {
            return yamlscan_fail(p, p->line, "expected ',' or '%c'", close);
        }
    }
}

static int flow_node(struct yp *p, struct yaml_node **out)
{
    int r;
    if (cur(p) == '{' || cur(p) == '[') {
        if (++p->depth > YAML_MAX_DEPTH)
            return yamlscan_fail(p, p->line, "nested deeper than %d", YAML_MAX_DEPTH);
        r = flow_collection(p, out);
        p->depth--;
        return r;
    }
    if (cur(p) == ',' || cur(p) == '}' || cur(p) == ']')
        return yamlscan_fail(p, p->line, "expected a value before '%c'", cur(p));
    return flow_scalar(p, out);
}

/* ---- Block collections ---- */

static int block_node(struct yp *p, int owner, struct yaml_node **out);
static int is_marker(const struct yp *p, const char *m);

/* The collection at column c ends here (end, less indented, or ---/...). */
static int block_ends(const struct yp *p, int c)
{
    return p->pos >= p->n || col(p) < c || is_marker(p, "---") || is_marker(p, "...");
}

/* A value that starts on the current line (after "key:" or "- "); owner is
 * the indentation of the collection holding it. */
static int inline_value(struct yp *p, int owner, struct yaml_node **out)
{
    int line = p->line, c = cur(p);
    struct sb b = {0};
    if (c == '{' || c == '[') {
        if (flow_node(p, out) < 0) return -1; /* the caller frees *out */
        return yamlscan_end_line(p);
    }
    if (c == '|') {
        if (yamlscan_literal(p, owner, &b) < 0) goto fail;
        return scalar_node(p, line, &b, 1, out);
    }
    if (c == '"' || c == '\'') {
        if (yamlscan_quoted(p, &b) < 0) goto fail;
        if (scalar_node(p, line, &b, 1, out) < 0) return -1;
        return yamlscan_end_line(p);
    }
    if (yamlscan_plain_block(p, owner, &b) < 0) goto fail;
    return scalar_node(p, line, &b, 0, out);
fail:
    free(b.p);
    return -1;
}

/* Is there a "key:" (plain or quoted, then ':' and a blank) at pos? */
static int key_ahead(const struct yp *p)
{
    size_t i = p->pos;
    char q = p->s[i];
    if (q == '"' || q == '\'') {
        for (i++; i < p->n && !is_eol_at(p, i); i++) {
            if (p->s[i] == '\\' && q == '"') {
                i++;
                continue;
            }
            if (p->s[i] == q) {
                if (q == '\'' && i + 1 < p->n && p->s[i + 1] == '\'') {
                    i++;
                    continue;
                }
                break;
            }
        }
        if (i >= p->n || p->s[i] != q) return 0;
        for (i++; i < p->n && (p->s[i] == ' ' || p->s[i] == '\t'); i++) {
        }
        return i < p->n && p->s[i] == ':' && is_sep_at(p, i + 1);
    }
    if (strchr("{[#|>&*!%@`", q)) return 0;
    for (; !is_eol_at(p, i); i++) {
        if (p->s[i] == '#' && i > p->pos && (p->s[i - 1] == ' ' || p->s[i - 1] == '\t')) return 0;
        if (p->s[i] == ':' && is_sep_at(p, i + 1)) return 1;
    }
    return 0;
}

/* After "key:" or a lone "-": a value on this line, below it (deeper than
 * owner), or a sequence at owner's own column (seq_here), or null. */
static int value_after(struct yp *p, int owner, int seq_here, int line, struct yaml_node **out)
{
    size_t before = p->pos;
    skip_spaces(p);
    if (!at_eol(p) && !(cur(p) == '#' && p->pos > before)) {
        if (p->pos == before) return yamlscan_fail(p, line, "expected a blank after ':' or '-'");
        return inline_value(p, owner, out);
    }
    next_line(p);
    if (yamlscan_blank_lines(p) < 0) return -1;
    if (p->pos < p->n && col(p) > owner) return block_node(p, owner, out);
    if (p->pos < p->n && col(p) == owner && seq_here && cur(p) == '-' && is_sep_at(p, p->pos + 1))
        return block_node(p, owner - 1, out);
    struct sb b = {0};
    return scalar_node(p, line, &b, 0, out);
}

static int block_map(struct yp *p, struct yaml_node *m)
{
    int c = col(p);
    struct yaml_node **tail = &m->kids;
    for (;;) {
        int line = p->line;
        struct yaml_node *v = NULL;
        if (cur(p) == '?' && is_sep_at(p, p->pos + 1))
            return yamlscan_fail(p, line, "complex keys (?) are not supported");
        if (!key_ahead(p)) return yamlscan_fail(p, line, "expected \"key: value\"");
        struct sb k = {0};
        if (cur(p) == '"' || cur(p) == '\'') {
            if (yamlscan_quoted(p, &k) < 0) goto fail;
        } else {
            if (yamlscan_plain_start_ok(p) < 0) goto fail;
            size_t s = p->pos, e = p->pos;
            while (!(p->s[p->pos] == ':' && is_sep_at(p, p->pos + 1))) {
                if (p->s[p->pos] != ' ' && p->s[p->pos] != '\t') e = p->pos + 1;
                p->pos++;
            }
            if (yamlscan_sb_add(&k, p->s + s, e - s) < 0) goto nomem;
        }
        if (!k.p && yamlscan_sb_add(&k, "", 0) < 0) goto nomem;
        skip_spaces(p);
        p->pos++; /* the ':' key_ahead found */
        if (check_dup(p, m, k.p, line) < 0 || value_after(p, c, 1, line, &v) < 0) goto fail;
        v->key = k.p;
        append(m, &tail, v);
        if (block_ends(p, c)) return 0;
        if (col(p) > c) return yamlscan_fail(p, p->line, "unexpected indentation");
        continue;
    nomem:
        yamlscan_fail(p, line, "out of memory");
    fail:
        yaml_free(v);
        free(k.p);
        return -1;
    }
}

static int block_seq(struct yp *p, struct yaml_node *s)
{
    int c = col(p);
    struct yaml_node **tail = &s->kids, *v;
    for (;;) {
        int line = p->line;
        v = NULL;
        p->pos++; /* the '-' */
        size_t before = p->pos;
        skip_spaces(p);
        if (!at_eol(p) && !(cur(p) == '#' && p->pos > before)) {
            if (block_node(p, c, &v) < 0) goto fail;
        } else {
            p->pos = before;
            if (value_after(p, c, 0, line, &v) < 0) goto fail;
        }
        append(s, &tail, v);
        if (block_ends(p, c)) return 0;
        if (col(p) > c) return yamlscan_fail(p, p->line, "unexpected indentation");
        if (!(cur(p) == '-' && is_sep_at(p, p->pos + 1))) return 0; /* the owner's next key */
    }
fail:
    yaml_free(v);
    return -1;
}

/* The node at pos (its first byte; its column is col(p)), owned by a
 * collection at indentation owner. */
static int block_node(struct yp *p, int owner, struct yaml_node **out)
{
    int r, line = p->line;
    if (cur(p) == '?' && is_sep_at(p, p->pos + 1))
        return yamlscan_fail(p, line, "complex keys (?) are not supported");
    if (cur(p) == '-' && is_sep_at(p, p->pos + 1)) {
        if (!(*out = node_new(p, YAML_SEQ, line))) return -1;
        if (++p->depth > YAML_MAX_DEPTH)
            return yamlscan_fail(p, line, "nested deeper than %d", YAML_MAX_DEPTH);
        r = block_seq(p, *out);
    } else if (key_ahead(p)) {
        if (!(*out = node_new(p, YAML_MAP, line))) return -1;
        if (++p->depth > YAML_MAX_DEPTH)
            return yamlscan_fail(p, line, "nested deeper than %d", YAML_MAX_DEPTH);
        r = block_map(p, *out);
    } else {
        return inline_value(p, owner, out);
    }
    p->depth--;
    return r;
}

/* ---- Document ---- */

static int is_marker(const struct yp *p, const char *m)
{
    return col(p) == 0 && p->n - p->pos >= 3 && memcmp(p->s + p->pos, m, 3) == 0 &&
           is_sep_at(p, p->pos + 3);
}

int yaml_parse(const char *buf, size_t len, struct yaml_node **root, char *err, size_t errlen)
{
    struct yp p = {buf, len, 0, 0, 1, 0, 0, err, errlen};
    *root = NULL;
    if (len > YAML_MAX_INPUT)
        return yamlscan_fail(&p, 1, "document larger than %u bytes", YAML_MAX_INPUT);
    if (len >= 3 && memcmp(buf, "\xef\xbb\xbf", 3) == 0) p.pos = p.bol = 3;
    if (yamlscan_check_bytes(&p) < 0 || yamlscan_blank_lines(&p) < 0) return -1;
    if (cur(&p) == '%') return yamlscan_fail(&p, p.line, "directives (%%) are not supported");
    if (is_marker(&p, "---")) {
        p.pos += 3;
        skip_spaces(&p);
        if (!at_eol(&p) && cur(&p) != '#')
            return yamlscan_fail(&p, p.line, "content on the --- line is not supported");
        next_line(&p);
        if (yamlscan_blank_lines(&p) < 0) return -1;
    }
    if (p.pos >= p.n || is_marker(&p, "...")) goto end;
    if (col(&p) != 0 && cur(&p) != '{' && cur(&p) != '[')
        return yamlscan_fail(&p, p.line, "the document must start at column 0");
    if (block_node(&p, -1, root) < 0) goto fail;
end:
    if (p.pos < p.n && is_marker(&p, "...")) {
        p.pos += 3;
        if (yamlscan_end_line(&p) < 0) goto fail;
    }
    if (p.pos < p.n) {
        if (is_marker(&p, "---")) {
            yamlscan_fail(&p, p.line, "more than one document");
        } else {
            yamlscan_fail(&p, p.line, "unexpected text (indentation?)");
        }
        goto fail;
    }
    return 0;
fail:
    yaml_free(*root);
    *root = NULL;
    return -1;
}

const struct yaml_node *yaml_get(const struct yaml_node *map, const char *key)
{
    if (!map || map->kind != YAML_MAP) return NULL;
    for (const struct yaml_node *k = map->kids; k; k = k->next)
        if (strcmp(k->key, key) == 0) return k;
    return NULL;
}

const char *yaml_str(const struct yaml_node *n)
{
    if (!n || n->kind != YAML_SCALAR || n->null) return NULL;
    return n->val;
}
