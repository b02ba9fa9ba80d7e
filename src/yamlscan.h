/* The scanner under yaml.c (internal to the YAML reader): the cursor over
 * the bytes, line and blank handling, errors with the line, a growing
 * string, and the scalars (quoted, plain, `|` blocks). Every function that
 * returns int gives 0, or -1 with the error written ("line N: ..."). */
#ifndef YAMLSCAN_H
#define YAMLSCAN_H

#include <stddef.h>

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

static inline int cur(const struct yp *p)
{
    return p->pos < p->n ? (unsigned char)p->s[p->pos] : -1;
}
static inline int peek(const struct yp *p, size_t k)
{
    return p->pos + k < p->n ? (unsigned char)p->s[p->pos + k] : -1;
}
static inline int col(const struct yp *p)
{
    return (int)(p->pos - p->bol);
}

static inline int is_eol_at(const struct yp *p, size_t i)
{
    return i >= p->n || p->s[i] == '\n' || (p->s[i] == '\r' && i + 1 < p->n && p->s[i + 1] == '\n');
}
static inline int at_eol(const struct yp *p)
{
    return is_eol_at(p, p->pos);
}
/* A space, a tab, or the end of the line: what must follow `-`, `:` or `?`. */
static inline int is_sep_at(const struct yp *p, size_t i)
{
    return is_eol_at(p, i) || p->s[i] == ' ' || p->s[i] == '\t';
}

static inline void skip_spaces(struct yp *p)
{
    while (p->pos < p->n && (p->s[p->pos] == ' ' || p->s[p->pos] == '\t')) p->pos++;
}

/* Past the end of the current line (onto the next one). */
static inline void next_line(struct yp *p)
{
    while (p->pos < p->n && p->s[p->pos] != '\n') p->pos++;
    if (p->pos < p->n) {
        p->pos++;
        p->line++;
        p->bol = p->pos;
    }
}

__attribute__((format(printf, 3, 4))) int yamlscan_fail(struct yp *p, int line, const char *fmt,
                                                        ...);
/* Append n bytes (or one) to b, NUL-terminated; -1 when out of memory. */
int yamlscan_sb_add(struct sb *b, const char *s, size_t n);
int yamlscan_sb_addc(struct sb *b, char c);
/* From a line start: skip blank and comment-only lines, stop at the next
 * content byte (tabs may not indent content). */
int yamlscan_blank_lines(struct yp *p);
/* After a value: only blanks and a comment may follow on its line. */
int yamlscan_end_line(struct yp *p);
/* Refuse the bytes YAML forbids (C0 controls but tab, LF, CR; DEL; a CR
 * without LF). */
int yamlscan_check_bytes(struct yp *p);
/* A quoted scalar at pos (on its opening quote), decoded into b. */
int yamlscan_quoted(struct yp *p, struct sb *b);
/* -1 (with the error) when the byte at pos may not start a plain scalar. */
int yamlscan_plain_start_ok(struct yp *p);
/* A plain scalar in block context, going on over the lines indented
 * deeper than owner. */
int yamlscan_plain_block(struct yp *p, int owner, struct sb *b);
/* A `|` block (pos on the '|'); owner: the holding node's indentation. */
int yamlscan_literal(struct yp *p, int owner, struct sb *b);

#endif
