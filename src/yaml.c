/* YAML (the kubeconfig subset) and JSON reader: recursive descent over the
 * bytes, one node allocation per value, everything bounded. Every parse_*
 * function returns with pos at the first content byte of the next
 * non-blank line (its column is that line's indentation) or at the end. */
#include "yaml.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct yp {
    const char *s;
    size_t n, pos, bol; /* input, cursor, start of the cursor's line */
    int line, depth, nodes;
    char *err;
    size_t errlen;
};

struct sb {
    char *p;
    size_t len, cap;
};

__attribute__((format(printf, 3, 4))) static int fail(struct yp *p, int line, const char *fmt, ...)
{
    char msg[200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    snprintf(p->err, p->errlen, "line %d: %s", line, msg);
    return -1;
}

static int sb_add(struct sb *b, const char *s, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        size_t nc = b->cap ? b->cap : 64;
        while (nc < b->len + n + 1) nc *= 2;
        char *np = realloc(b->p, nc);
        if (!np) return -1;
        b->p = np;
        b->cap = nc;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = 0;
    return 0;
}

static int sb_addc(struct sb *b, char c)
{
    return sb_add(b, &c, 1);
}

static struct yaml_node *node_new(struct yp *p, enum yaml_kind kind, int line)
{
    if (p->nodes >= YAML_MAX_NODES) {
        fail(p, line, "more than %d nodes", YAML_MAX_NODES);
        return NULL;
    }
    struct yaml_node *n = calloc(1, sizeof *n);
    if (!n) {
        fail(p, line, "out of memory");
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

/* ---- Lines and blanks ---- */

static int cur(const struct yp *p)
{
    return p->pos < p->n ? (unsigned char)p->s[p->pos] : -1;
}
static int peek(const struct yp *p, size_t k)
{
    return p->pos + k < p->n ? (unsigned char)p->s[p->pos + k] : -1;
}
static int col(const struct yp *p)
{
    return (int)(p->pos - p->bol);
}

static int is_eol_at(const struct yp *p, size_t i)
{
    return i >= p->n || p->s[i] == '\n' || (p->s[i] == '\r' && i + 1 < p->n && p->s[i + 1] == '\n');
}
static int at_eol(const struct yp *p)
{
    return is_eol_at(p, p->pos);
}
/* A space, a tab, or the end of the line: what must follow `-`, `:` or `?`. */
static int is_sep_at(const struct yp *p, size_t i)
{
    return is_eol_at(p, i) || p->s[i] == ' ' || p->s[i] == '\t';
}

static void skip_spaces(struct yp *p)
{
    while (p->pos < p->n && (p->s[p->pos] == ' ' || p->s[p->pos] == '\t')) p->pos++;
}

/* Past the end of the current line (onto the next one). */
static void next_line(struct yp *p)
{
    while (p->pos < p->n && p->s[p->pos] != '\n') p->pos++;
    if (p->pos < p->n) {
        p->pos++;
        p->line++;
        p->bol = p->pos;
    }
}

/* From a line start: skip lines that are blank or only a comment, stop at
 * the next content byte. Tabs may not indent content. */
static int skip_blank_lines(struct yp *p)
{
    while (p->pos < p->n) {
        while (cur(p) == ' ') p->pos++;
        size_t ind = p->pos;
        skip_spaces(p);
        if (at_eol(p) || cur(p) == '#') {
            next_line(p);
            continue;
        }
        if (p->pos != ind) return fail(p, p->line, "tab in indentation");
        return 0;
    }
    return 0;
}

/* After a value: only blanks and a comment may follow on its line. */
static int end_line(struct yp *p)
{
    skip_spaces(p);
    if (cur(p) == '#' &&
        (p->pos == p->bol || p->s[p->pos - 1] == ' ' || p->s[p->pos - 1] == '\t')) {
        next_line(p);
    } else if (at_eol(p)) {
        next_line(p);
    } else {
        return fail(p, p->line, "unexpected text after the value");
    }
    return skip_blank_lines(p);
}

/* Bytes YAML forbids: C0 controls but tab, LF, CR; DEL. */
static int check_bytes(struct yp *p)
{
    int line = 1;
    for (size_t i = 0; i < p->n; i++) {
        unsigned char c = (unsigned char)p->s[i];
        if (c == '\n') line++;
        if ((c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == 0x7f)
            return fail(p, line, "control character 0x%02x", c);
        if (c == '\r' && (i + 1 >= p->n || p->s[i + 1] != '\n'))
            return fail(p, line, "carriage return without a line feed");
    }
    return 0;
}

/* ---- Scalars ---- */

static int hexval(int c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

static int put_utf8(struct sb *b, unsigned long cp)
{
    char u[4];
    size_t n;
    if (cp < 0x80) {
        u[0] = (char)cp;
        n = 1;
    } else if (cp < 0x800) {
        u[0] = (char)(0xc0 | (cp >> 6));
        u[1] = (char)(0x80 | (cp & 0x3f));
        n = 2;
    } else if (cp < 0x10000) {
        u[0] = (char)(0xe0 | (cp >> 12));
        u[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
        u[2] = (char)(0x80 | (cp & 0x3f));
        n = 3;
    } else {
        u[0] = (char)(0xf0 | (cp >> 18));
        u[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
        u[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
        u[3] = (char)(0x80 | (cp & 0x3f));
        n = 4;
    }
    return sb_add(b, u, n);
}

/* One escape after '\' in a double-quoted scalar (pos at the letter). */
static int dq_escape(struct yp *p, struct sb *b)
{
    static const char from[] = "0abtnvfre \"/\\N_LP\t", to[] = "\0\a\b\t\n\v\f\r\x1b \"/\\";
    int c = cur(p), line = p->line;
    const char *hit = c > 0 ? strchr(from, c) : NULL;
    p->pos++;
    if (hit && hit - from < 13) return sb_addc(b, to[hit - from]);
    if (c == 'N') return put_utf8(b, 0x85);
    if (c == '_') return put_utf8(b, 0xa0);
    if (c == 'L') return put_utf8(b, 0x2028);
    if (c == 'P') return put_utf8(b, 0x2029);
    if (c == '\t') return sb_addc(b, '\t');
    int digits = c == 'x' ? 2 : c == 'u' ? 4 : c == 'U' ? 8 : 0;
    if (!digits) return fail(p, line, "unknown escape in a double-quoted string");
    unsigned long cp = 0;
    for (int i = 0; i < digits; i++) {
        int h = hexval(cur(p));
        if (h < 0) return fail(p, line, "bad \\%c escape", c);
        cp = cp * 16 + (unsigned long)h;
        p->pos++;
    }
    if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
        return fail(p, line, "escape is not a Unicode scalar value");
    return put_utf8(b, cp);
}

/* A line break inside a quoted scalar (pos at the break): folded to a
 * space, or to one '\n' per empty line that follows. */
static int fold_break(struct yp *p, struct sb *b)
{
    while (b->len && (b->p[b->len - 1] == ' ' || b->p[b->len - 1] == '\t')) b->len--;
    int empties = 0;
    next_line(p);
    for (;;) {
        skip_spaces(p);
        if (p->pos < p->n && at_eol(p)) {
            empties++;
            next_line(p);
            continue;
        }
        break;
    }
    if (p->pos >= p->n) return 0;
    if (empties == 0) return sb_addc(b, ' ');
    for (int i = 0; i < empties; i++)
        if (sb_addc(b, '\n') < 0) return -1;
    return 0;
}

/* A quoted scalar at pos (on its opening quote). */
static int quoted(struct yp *p, struct sb *b)
{
    char q = (char)cur(p);
    int line = p->line;
    p->pos++;
    for (;;) {
        if (p->pos >= p->n) return fail(p, line, "unterminated quoted string");
        char c = p->s[p->pos];
        if (c == q) {
            if (q == '\'' && peek(p, 1) == '\'') {
                p->pos += 2;
                if (sb_addc(b, '\'') < 0) goto nomem;
                continue;
            }
            p->pos++;
            return 0;
        }
        if (at_eol(p)) {
            if (fold_break(p, b) < 0) goto nomem;
            continue;
        }
        if (c == '\\' && q == '"') {
            p->pos++;
            if (at_eol(p) && p->pos < p->n) { /* escaped line break: joined */
                next_line(p);
                skip_spaces(p);
                continue;
            }
            if (p->pos >= p->n) continue;
            if (dq_escape(p, b) < 0) return -1;
            continue;
        }
        if (sb_addc(b, c) < 0) goto nomem;
        p->pos++;
    }
nomem:
    return fail(p, line, "out of memory");
}

/* Bytes that may not start a plain scalar (or that we refuse there). */
static int plain_start_ok(struct yp *p)
{
    int c = cur(p);
    if (c < 0) return fail(p, p->line, "expected a value");
    if (strchr("&*!", c)) return fail(p, p->line, "anchors, aliases and tags are not supported");
    if (c == '>') return fail(p, p->line, "folded (>) blocks are not supported; use |");
    if (strchr("%@`|", c)) return fail(p, p->line, "a plain value may not start with '%c'", c);
    if (strchr("-?:", c) && is_sep_at(p, p->pos + 1))
        return fail(p, p->line, "'%c' here starts a construct this reader does not support", c);
    return 0;
}

/* One line of a plain scalar in block context, to its end or to " #";
 * trailing blanks trimmed. ": " inside is an error, as in YAML. */
static int plain_line(struct yp *p, struct sb *b)
{
    size_t start = p->pos, end = p->pos;
    while (!at_eol(p)) {
        char c = p->s[p->pos];
        if (c == '#' && p->pos > start && (p->s[p->pos - 1] == ' ' || p->s[p->pos - 1] == '\t'))
            break;
        if (c == ':' && is_sep_at(p, p->pos + 1))
            return fail(p, p->line, "a mapping value is not allowed here (quote the value)");
        p->pos++;
        if (c != ' ' && c != '\t') end = p->pos;
    }
    if (sb_add(b, p->s + start, end - start) < 0) return fail(p, p->line, "out of memory");
    return 0;
}

/* A plain scalar in block context that may go on over the following lines
 * indented deeper than owner. */
static int plain_block(struct yp *p, int owner, struct sb *b)
{
    if (plain_start_ok(p) < 0 || plain_line(p, b) < 0) return -1;
    for (;;) {
        skip_spaces(p);
        if (cur(p) == '#') return end_line(p); /* plain_line stopped at " #" */
        if (!at_eol(p)) return fail(p, p->line, "unexpected text after the value");
        /* Count the empty lines; a comment line ends the scalar. */
        next_line(p);
        int empties = 0;
        for (;;) {
            size_t ls = p->pos;
            skip_spaces(p);
            if (p->pos < p->n && at_eol(p)) {
                empties++;
                next_line(p);
                continue;
            }
            if (cur(p) == '#' || p->pos >= p->n || (int)(p->pos - ls) <= owner) {
                p->pos = ls;
                return skip_blank_lines(p);
            }
            break;
        }
        for (size_t i = p->bol; i < p->pos; i++)
            if (p->s[i] == '\t' && (int)(i - p->bol) <= owner)
                return fail(p, p->line, "tab in indentation");
        if (empties == 0 ? sb_addc(b, ' ') < 0 : 0) return fail(p, p->line, "out of memory");
        for (int i = 0; i < empties; i++)
            if (sb_addc(b, '\n') < 0) return fail(p, p->line, "out of memory");
        if (plain_line(p, b) < 0) return -1;
    }
}

/* A `|` block scalar (pos on the '|'); owner is the indentation of the
 * node that holds it. */
static int literal(struct yp *p, int owner, struct sb *b)
{
    int line = p->line, chomp = 0, ind = 0;
    p->pos++;
    for (int i = 0; i < 2; i++) {
        int c = cur(p);
        if ((c == '-' || c == '+') && !chomp) {
            chomp = c;
            p->pos++;
        } else if (c >= '1' && c <= '9' && !ind) {
            ind = owner + (c - '0');
            if (ind < 1) ind = c - '0';
            p->pos++;
        }
    }
    size_t before = p->pos;
    skip_spaces(p);
    if (!at_eol(p) && !(cur(p) == '#' && p->pos > before))
        return fail(p, line, "unexpected text after '|'");
    next_line(p);
    if (!ind) { /* the first line with content sets the indentation */
        size_t i = p->pos;
        int k = 0;
        while (i < p->n) {
            if (p->s[i] == ' ') {
                k++;
                i++;
            } else if (is_eol_at(p, i) && i < p->n) {
                k = 0;
                i += p->s[i] == '\r' ? 2 : 1;
            } else {
                break;
            }
        }
        ind = k > owner ? k : owner + 1;
    }
    if (ind < 1) ind = 1;
    while (p->pos < p->n) {
        size_t ls = p->pos;
        int k = 0;
        while (cur(p) == ' ' && k < ind) {
            p->pos++;
            k++;
        }
        if (k < ind && !at_eol(p)) { /* less indented: the block is over */
            p->pos = ls;
            break;
        }
        size_t s = p->pos;
        while (!at_eol(p)) p->pos++;
        if (sb_add(b, p->s + s, p->pos - s) < 0 || sb_addc(b, '\n') < 0)
            return fail(p, p->line, "out of memory");
        next_line(p);
    }
    if (chomp != '+') {
        while (b->len && b->p[b->len - 1] == '\n') b->len--;
        if (chomp == 0 && b->len && sb_addc(b, '\n') < 0) return fail(p, line, "out of memory");
    }
    if (b->p) b->p[b->len] = 0;
    return skip_blank_lines(p);
}

static int scalar_node(struct yp *p, int line, struct sb *b, int isquoted, struct yaml_node **out)
{
    struct yaml_node *n = node_new(p, YAML_SCALAR, line);
    if (!n) {
        free(b->p);
        return -1;
    }
    if (!b->p && sb_add(b, "", 0) < 0) {
        free(n);
        return fail(p, line, "out of memory");
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
    if (plain_start_ok(p) < 0) return -1;
    size_t start = p->pos, end = p->pos;
    while (!at_eol(p)) {
        char c = p->s[p->pos];
        if (strchr(",[]{}", c)) break;
        if (c == ':' && (is_sep_at(p, p->pos + 1) || strchr(",[]{}", peek(p, 1)))) break;
        if (c == '#' && (p->s[p->pos - 1] == ' ' || p->s[p->pos - 1] == '\t')) break;
        p->pos++;
        if (c != ' ' && c != '\t') end = p->pos;
    }
    if (sb_add(b, p->s + start, end - start) < 0) return fail(p, p->line, "out of memory");
    return 0;
}

static int flow_scalar(struct yp *p, struct yaml_node **out)
{
    struct sb b = {0};
    int line = p->line, q = cur(p) == '"' || cur(p) == '\'';
    if ((q ? quoted(p, &b) : flow_plain(p, &b)) < 0) {
        free(b.p);
        return -1;
    }
    return scalar_node(p, line, &b, q, out);
}

static int check_dup(struct yp *p, const struct yaml_node *map, const char *key, int line)
{
    if (map->len >= YAML_MAX_MAP_ENTRIES)
        return fail(p, line, "more than %d keys in one mapping", YAML_MAX_MAP_ENTRIES);
    if (yaml_get(map, key)) return fail(p, line, "duplicate key \"%.60s\"", key);
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
        if (cur(p) < 0) return fail(p, line, "unterminated flow collection (no '%c')", close);
        struct yaml_node *kn = NULL, *v = NULL;
        int kline = p->line;
        if (ismap) {
            if (cur(p) == '{' || cur(p) == '[')
                return fail(p, kline, "a collection may not be a key");
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
                return fail(p, p->line, "expected ':' after a key");
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
        if (cur(p) < 0) return fail(p, line, "unterminated flow collection (no '%c')", close);
        if (cur(p) == ',') {
            p->pos++;
        } else if (cur(p) != close) {
            return fail(p, p->line, "expected ',' or '%c'", close);
        }
    }
}

static int flow_node(struct yp *p, struct yaml_node **out)
{
    int r;
    if (cur(p) == '{' || cur(p) == '[') {
        if (++p->depth > YAML_MAX_DEPTH)
            return fail(p, p->line, "nested deeper than %d", YAML_MAX_DEPTH);
        r = flow_collection(p, out);
        p->depth--;
        return r;
    }
    if (cur(p) == ',' || cur(p) == '}' || cur(p) == ']')
        return fail(p, p->line, "expected a value before '%c'", cur(p));
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
        return end_line(p);
    }
    if (c == '|') {
        if (literal(p, owner, &b) < 0) goto fail;
        return scalar_node(p, line, &b, 1, out);
    }
    if (c == '"' || c == '\'') {
        if (quoted(p, &b) < 0) goto fail;
        if (scalar_node(p, line, &b, 1, out) < 0) return -1;
        return end_line(p);
    }
    if (plain_block(p, owner, &b) < 0) goto fail;
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
        if (p->pos == before) return fail(p, line, "expected a blank after ':' or '-'");
        return inline_value(p, owner, out);
    }
    next_line(p);
    if (skip_blank_lines(p) < 0) return -1;
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
            return fail(p, line, "complex keys (?) are not supported");
        if (!key_ahead(p)) return fail(p, line, "expected \"key: value\"");
        struct sb k = {0};
        if (cur(p) == '"' || cur(p) == '\'') {
            if (quoted(p, &k) < 0) goto fail;
        } else {
            if (plain_start_ok(p) < 0) goto fail;
            size_t s = p->pos, e = p->pos;
            while (!(p->s[p->pos] == ':' && is_sep_at(p, p->pos + 1))) {
                if (p->s[p->pos] != ' ' && p->s[p->pos] != '\t') e = p->pos + 1;
                p->pos++;
            }
            if (sb_add(&k, p->s + s, e - s) < 0) goto nomem;
        }
        if (!k.p && sb_add(&k, "", 0) < 0) goto nomem;
        skip_spaces(p);
        p->pos++; /* the ':' key_ahead found */
        if (check_dup(p, m, k.p, line) < 0 || value_after(p, c, 1, line, &v) < 0) goto fail;
        v->key = k.p;
        append(m, &tail, v);
        if (block_ends(p, c)) return 0;
        if (col(p) > c) return fail(p, p->line, "unexpected indentation");
        continue;
    nomem:
        fail(p, line, "out of memory");
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
        if (col(p) > c) return fail(p, p->line, "unexpected indentation");
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
        return fail(p, line, "complex keys (?) are not supported");
    if (cur(p) == '-' && is_sep_at(p, p->pos + 1)) {
        if (!(*out = node_new(p, YAML_SEQ, line))) return -1;
        if (++p->depth > YAML_MAX_DEPTH)
            return fail(p, line, "nested deeper than %d", YAML_MAX_DEPTH);
        r = block_seq(p, *out);
    } else if (key_ahead(p)) {
        if (!(*out = node_new(p, YAML_MAP, line))) return -1;
        if (++p->depth > YAML_MAX_DEPTH)
            return fail(p, line, "nested deeper than %d", YAML_MAX_DEPTH);
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
    if (len > YAML_MAX_INPUT) return fail(&p, 1, "document larger than %u bytes", YAML_MAX_INPUT);
    if (len >= 3 && memcmp(buf, "\xef\xbb\xbf", 3) == 0) p.pos = p.bol = 3;
    if (check_bytes(&p) < 0 || skip_blank_lines(&p) < 0) return -1;
    if (cur(&p) == '%') return fail(&p, p.line, "directives (%%) are not supported");
    if (is_marker(&p, "---")) {
        p.pos += 3;
        skip_spaces(&p);
        if (!at_eol(&p) && cur(&p) != '#')
            return fail(&p, p.line, "content on the --- line is not supported");
        next_line(&p);
        if (skip_blank_lines(&p) < 0) return -1;
    }
    if (p.pos >= p.n || is_marker(&p, "...")) goto end;
    if (col(&p) != 0 && cur(&p) != '{' && cur(&p) != '[')
        return fail(&p, p.line, "the document must start at column 0");
    if (block_node(&p, -1, root) < 0) goto fail;
end:
    if (p.pos < p.n && is_marker(&p, "...")) {
        p.pos += 3;
        if (end_line(&p) < 0) goto fail;
    }
    if (p.pos < p.n) {
        if (is_marker(&p, "---")) {
            fail(&p, p.line, "more than one document");
        } else {
            fail(&p, p.line, "unexpected text (indentation?)");
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
