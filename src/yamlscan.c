/* The YAML scanner: errors, strings, blank lines, scalars. */
#include "yamlscan.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int yamlscan_fail(struct yp *p, int line, const char *fmt, ...)
{
    char msg[200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    snprintf(p->err, p->errlen, "line %d: %s", line, msg);
    return -1;
}

int yamlscan_sb_add(struct sb *b, const char *s, size_t n)
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

int yamlscan_sb_addc(struct sb *b, char c)
{
    return yamlscan_sb_add(b, &c, 1);
}

/* From a line start: skip lines that are blank or only a comment, stop at
 * the next content byte. Tabs may not indent content. */
int yamlscan_blank_lines(struct yp *p)
{
    while (p->pos < p->n) {
        while (cur(p) == ' ') p->pos++;
        size_t ind = p->pos;
        skip_spaces(p);
        if (at_eol(p) || cur(p) == '#') {
            next_line(p);
            continue;
        }
        if (p->pos != ind) return yamlscan_fail(p, p->line, "tab in indentation");
        return 0;
    }
    return 0;
}

/* After a value: only blanks and a comment may follow on its line. */
int yamlscan_end_line(struct yp *p)
{
    skip_spaces(p);
    if (cur(p) == '#' &&
        (p->pos == p->bol || p->s[p->pos - 1] == ' ' || p->s[p->pos - 1] == '\t')) {
        next_line(p);
    } else if (at_eol(p)) {
        next_line(p);
    } else {
        return yamlscan_fail(p, p->line, "unexpected text after the value");
    }
    return yamlscan_blank_lines(p);
}

/* Bytes YAML forbids: C0 controls but tab, LF, CR; DEL. */
int yamlscan_check_bytes(struct yp *p)
{
    int line = 1;
    for (size_t i = 0; i < p->n; i++) {
        unsigned char c = (unsigned char)p->s[i];
        if (c == '\n') line++;
        if ((c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == 0x7f)
            return yamlscan_fail(p, line, "control character 0x%02x", c);
        if (c == '\r' && (i + 1 >= p->n || p->s[i + 1] != '\n'))
            return yamlscan_fail(p, line, "carriage return without a line feed");
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
    return yamlscan_sb_add(b, u, n);
}

/* One escape after '\' in a double-quoted scalar (pos at the letter). */
static int dq_escape(struct yp *p, struct sb *b)
{
    static const char from[] = "0abtnvfre \"/\\N_LP\t", to[] = "\0\a\b\t\n\v\f\r\x1b \"/\\";
    int c = cur(p), line = p->line;
    const char *hit = c > 0 ? strchr(from, c) : NULL;
    p->pos++;
    if (hit && hit - from < 13) return yamlscan_sb_addc(b, to[hit - from]);
    if (c == 'N') return put_utf8(b, 0x85);
    if (c == '_') return put_utf8(b, 0xa0);
    if (c == 'L') return put_utf8(b, 0x2028);
    if (c == 'P') return put_utf8(b, 0x2029);
    if (c == '\t') return yamlscan_sb_addc(b, '\t');
    int digits = c == 'x' ? 2 : c == 'u' ? 4 : c == 'U' ? 8 : 0;
    if (!digits) return yamlscan_fail(p, line, "unknown escape in a double-quoted string");
    unsigned long cp = 0;
    for (int i = 0; i < digits; i++) {
        int h = hexval(cur(p));
        if (h < 0) return yamlscan_fail(p, line, "bad \\%c escape", c);
        cp = cp * 16 + (unsigned long)h;
        p->pos++;
    }
    if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
        return yamlscan_fail(p, line, "escape is not a Unicode scalar value");
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
    if (empties == 0) return yamlscan_sb_addc(b, ' ');
    for (int i = 0; i < empties; i++)
        if (yamlscan_sb_addc(b, '\n') < 0) return -1;
    return 0;
}

/* A quoted scalar at pos (on its opening quote). */
int yamlscan_quoted(struct yp *p, struct sb *b)
{
    char q = (char)cur(p);
    int line = p->line;
    p->pos++;
    for (;;) {
        if (p->pos >= p->n) return yamlscan_fail(p, line, "unterminated quoted string");
        char c = p->s[p->pos];
        if (c == q) {
            if (q == '\'' && peek(p, 1) == '\'') {
                p->pos += 2;
                if (yamlscan_sb_addc(b, '\'') < 0) goto nomem;
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
        if (yamlscan_sb_addc(b, c) < 0) goto nomem;
        p->pos++;
    }
nomem:
    return yamlscan_fail(p, line, "out of memory");
}

/* Bytes that may not start a plain scalar (or that we refuse there). */
int yamlscan_plain_start_ok(struct yp *p)
{
    int c = cur(p);
    if (c < 0) return yamlscan_fail(p, p->line, "expected a value");
    if (strchr("&*!", c))
        return yamlscan_fail(p, p->line, "anchors, aliases and tags are not supported");
    if (c == '>') return yamlscan_fail(p, p->line, "folded (>) blocks are not supported; use |");
    if (strchr("%@`|", c))
        return yamlscan_fail(p, p->line, "a plain value may not start with '%c'", c);
    if (strchr("-?:", c) && is_sep_at(p, p->pos + 1))
        return yamlscan_fail(p, p->line,
                             "'%c' here starts a construct this reader does not support", c);
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
            return yamlscan_fail(p, p->line,
                                 "a mapping value is not allowed here (quote the value)");
        p->pos++;
        if (c != ' ' && c != '\t') end = p->pos;
    }
    if (yamlscan_sb_add(b, p->s + start, end - start) < 0)
        return yamlscan_fail(p, p->line, "out of memory");
    return 0;
}

/* A plain scalar in block context that may go on over the following lines
 * indented deeper than owner. */
int yamlscan_plain_block(struct yp *p, int owner, struct sb *b)
{
    if (yamlscan_plain_start_ok(p) < 0 || plain_line(p, b) < 0) return -1;
    for (;;) {
        skip_spaces(p);
        if (cur(p) == '#') return yamlscan_end_line(p); /* plain_line stopped at " #" */
        if (!at_eol(p)) return yamlscan_fail(p, p->line, "unexpected text after the value");
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
                return yamlscan_blank_lines(p);
            }
            break;
        }
        for (size_t i = p->bol; i < p->pos; i++)
            if (p->s[i] == '\t' && (int)(i - p->bol) <= owner)
                return yamlscan_fail(p, p->line, "tab in indentation");
        if (empties == 0 ? yamlscan_sb_addc(b, ' ') < 0 : 0)
            return yamlscan_fail(p, p->line, "out of memory");
        for (int i = 0; i < empties; i++)
            if (yamlscan_sb_addc(b, '\n') < 0) return yamlscan_fail(p, p->line, "out of memory");
        if (plain_line(p, b) < 0) return -1;
    }
}

/* A `|` block scalar (pos on the '|'); owner is the indentation of the
 * node that holds it. */
int yamlscan_literal(struct yp *p, int owner, struct sb *b)
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
        return yamlscan_fail(p, line, "unexpected text after '|'");
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
        if (yamlscan_sb_add(b, p->s + s, p->pos - s) < 0 || yamlscan_sb_addc(b, '\n') < 0)
            return yamlscan_fail(p, p->line, "out of memory");
        next_line(p);
    }
    if (chomp != '+') {
        while (b->len && b->p[b->len - 1] == '\n') b->len--;
        if (chomp == 0 && b->len && yamlscan_sb_addc(b, '\n') < 0)
            return yamlscan_fail(p, line, "out of memory");
    }
    if (b->p) b->p[b->len] = 0;
    return yamlscan_blank_lines(p);
}
