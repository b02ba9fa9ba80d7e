/* The chunked body decoder: a byte-at-a-time state machine. */
#include "chunked.h"

#include "ascii.h"

#include <string.h>

enum {
    CH_SIZE,
    CH_EXT,
    CH_SIZE_LF,
    CH_DATA,
    CH_DATA_CR,
    CH_DATA_LF,
    CH_TRAILER_BOL,
    CH_TRAILER,
    CH_TRAILER_LF,
    CH_FINAL_LF,
    CH_DONE,
    CH_ERR
};

void chunked_init(struct chunked *c)
{
    memset(c, 0, sizeof *c);
}

int chunked_done(const struct chunked *c)
{
    return c->state == CH_DONE;
}

long chunked_decode(struct chunked *c, char *buf, size_t n, size_t *used)
{
    size_t i = 0, o = 0;
    *used = 0;
    while (i < n && c->state != CH_DONE) {
        unsigned char ch = (unsigned char)buf[i];
        switch (c->state) {
        case CH_SIZE:
            if (ascii_hex(ch)) {
                if (c->digits >= 15) /* > 2^60: nobody sends that */
                    goto bad;
                unsigned v =
                    ascii_digit(ch) ? (unsigned)(ch - '0') : (unsigned)(ascii_lower(ch) - 'a' + 10);
                c->left = c->left * 16 + v;
                c->digits++;
            } else if (c->digits == 0) {
                goto bad;
            } else if (ch == '\r') {
                c->state = CH_SIZE_LF;
            } else if (ch == ';' || ch == ' ' || ch == '\t') {
                c->state = CH_EXT;
            } else {
                goto bad;
            }
            if (++c->line > CHUNKED_MAX_LINE) goto bad;
            i++;
            break;
        case CH_EXT:
            if (ch == '\r')
                c->state = CH_SIZE_LF;
            else if ((ch < 0x20 && ch != '\t') || ch == 0x7f)
                goto bad;
            if (++c->line > CHUNKED_MAX_LINE) goto bad;
            i++;
            break;
        case CH_SIZE_LF:
            if (ch != '\n') goto bad;
            i++;
            c->line = 0;
            c->digits = 0;
            c->state = c->left ? CH_DATA : CH_TRAILER_BOL;
            break;
        case CH_DATA: {
            size_t m = n - i;
            if ((unsigned long long)m > c->left) m = (size_t)c->left;
            memmove(buf + o, buf + i, m);
            o += m;
            i += m;
            c->left -= m;
            if (c->left == 0) c->state = CH_DATA_CR;
            break;
        }
        case CH_DATA_CR:
            if (ch != '\r') goto bad;
            i++;
            c->state = CH_DATA_LF;
            break;
        case CH_DATA_LF:
            if (ch != '\n') goto bad;
            i++;
            c->state = CH_SIZE;
            break;
        case CH_TRAILER_BOL:
            i++;
            if (ch == '\r') {
                c->state = CH_FINAL_LF;
                break;
            }
            if (ch < 0x20 || ch == 0x7f || ch == ' ' || ch == ':') goto bad;
            c->state = CH_TRAILER;
            if (++c->line > CHUNKED_MAX_TRAILERS) goto bad;
            break;
        case CH_TRAILER:
            i++;
            if (ch == '\r')
                c->state = CH_TRAILER_LF;
            else if ((ch < 0x20 && ch != '\t') || ch == 0x7f)
                goto bad;
            if (++c->line > CHUNKED_MAX_TRAILERS) goto bad;
            break;
        case CH_TRAILER_LF:
            if (ch != '\n') goto bad;
            i++;
            c->state = CH_TRAILER_BOL;
            break;
        case CH_FINAL_LF:
            if (ch != '\n') goto bad;
            i++;
            c->state = CH_DONE;
            break;
        default:
            goto bad;
        }
    }
    *used = i;
    return (long)o;
bad:
    c->state = CH_ERR;
    return -1;
}
