/* form_parse / form_get: decoding, every limit at the bound and one past it,
 * malformed and truncated escapes (read right before an unmapped page). */
#include "t.h"

#include "form.h"

static struct form F;

/* Parse s from a guarded copy, so any read past its end faults. */
static int parse(const char *s, size_t n, const char **why)
{
    char *g = t_guard(s, n);
    int rc = form_parse(&F, g, n, why);
    /* Results point into F.buf, not into g: safe to unmap. */
    t_unguard(g, n);
    return rc;
}

static int parses(const char *s)
{
    const char *why = NULL;
    return parse(s, strlen(s), &why);
}

static const char *fails(const char *s)
{
    const char *why = NULL;
    if (parse(s, strlen(s), &why) != -1) return "(parsed)";
    return why ? why : "(no reason)";
}

TEST(slack_body)
{
    const char *b =
        "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id="
        "G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-"
        "collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%"
        "2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121."
        "803a0bc887a14d10d2c447fce8b6703c";
    CHECK_EQ(parses(b), 0);
    CHECK_EQ(F.n, 11);
    CHECK_STR(form_get(&F, "team_id"), "T1DC2JH3J");
    CHECK_STR(form_get(&F, "command"), "/webhook-collect");
    CHECK_STR(form_get(&F, "text"), "");
    CHECK_STR(form_get(&F, "response_url"),
              "https://hooks.slack.com/commands/T1DC2JH3J/397700885554/96rGlfmibIGlgcZRskXaIFfN");
    CHECK(form_get(&F, "missing") == NULL);
    CHECK(form_get(&F, "TEAM_ID") == NULL);
    CHECK(form_get(&F, "") == NULL);
}

TEST(decoding)
{
    CHECK_EQ(parses("text=myservice+1.4&a=%41%62%2b%2B%20+"), 0);
    CHECK_STR(form_get(&F, "text"), "myservice 1.4");
    CHECK_STR(form_get(&F, "a"), "Ab++  ");
    CHECK_EQ(F.f[1].vlen, 6);
    CHECK_EQ(F.f[0].vlen, 13);
    /* Keys decode too; '=' inside a value is data. */
    CHECK_EQ(parses("my+key%21=x=y"), 0);
    CHECK_STR(form_get(&F, "my key!"), "x=y");
    /* Non-ASCII bytes pass through. */
    CHECK_EQ(parses("t=%C2%A0%ff"), 0);
    CHECK_STR(form_get(&F, "t"), "\xc2\xa0\xff");
    CHECK_EQ(F.f[0].vlen, 3);
}

TEST(empty_pairs_and_bare_keys)
{
    CHECK_EQ(parses(""), 0);
    CHECK_EQ(F.n, 0);
    CHECK_EQ(parses("&&&"), 0);
    CHECK_EQ(F.n, 0);
    CHECK_EQ(parses("a=1&&b=2"), 0);
    CHECK_EQ(F.n, 2);
    CHECK_STR(form_get(&F, "a"), "1");
    CHECK_STR(form_get(&F, "b"), "2");
    CHECK_EQ(parses("&a=1&"), 0);
    CHECK_EQ(F.n, 1);
    CHECK_EQ(parses("ssl_check&b="), 0);
    CHECK_EQ(F.n, 2);
    CHECK_STR(form_get(&F, "ssl_check"), "");
    CHECK_EQ(F.f[0].vlen, 0);
    CHECK_STR(form_get(&F, "b"), "");
    CHECK_STR(fails("=1"), "empty field name");
    CHECK_STR(fails("a=1&=2"), "empty field name");
}

TEST(bad_escapes)
{
    CHECK_STR(fails("a=%"), "truncated %-escape");
    CHECK_STR(fails("a=%4"), "truncated %-escape");
    CHECK_STR(fails("%"), "truncated %-escape");
    CHECK_STR(fails("a%4=1"), "truncated %-escape"); /* within the key */
    CHECK_STR(fails("a%4x=1"), "bad %-escape");
    CHECK_STR(fails("a=%G1"), "bad %-escape");
    CHECK_STR(fails("a=%1G"), "bad %-escape");
    CHECK_STR(fails("a=%+1"), "bad %-escape");
    CHECK_STR(fails("a=%%41"), "bad %-escape");
    CHECK_STR(fails("a=1&b=%4&c=3"), "truncated %-escape"); /* the pair ends at & */
    CHECK_STR(fails("a=%00"), "NUL byte in form");
    CHECK_STR(fails("%00=1"), "NUL byte in form");
    const char raw[] = "a=1\0b";
    const char *why = NULL;
    CHECK_EQ(parse(raw, sizeof raw - 1, &why), -1);
    CHECK_STR(why, "NUL byte in form");
    /* A failed parse leaves no fields behind. */
    CHECK_EQ(parses("a=1"), 0);
    CHECK_EQ(parses("a=1&b=%zz"), -1);
    CHECK_EQ(F.n, 0);
    CHECK(form_get(&F, "a") == NULL);
    /* A NULL why is allowed. */
    CHECK_EQ(form_parse(&F, "a=%", 3, NULL), -1);
}

TEST(duplicates)
{
    CHECK_STR(fails("a=1&a=2"), "duplicate field");
    CHECK_STR(fails("a=1&a"), "duplicate field");
    CHECK_STR(fails("a=1&%61=1"), "duplicate field"); /* the same key once decoded */
    CHECK_STR(fails("text=x&b=1&text=y"), "duplicate field");
    CHECK_EQ(parses("a=1&A=2&a+=3"), 0); /* different keys */
    CHECK_EQ(F.n, 3);
}

TEST(field_count_bound)
{
    char b[FORM_MAX_FIELDS * 8 + 16];
    size_t n = 0;
    for (int i = 0; i < FORM_MAX_FIELDS; i++)
        n += (size_t)sprintf(b + n, "%sk%d=%d", i ? "&" : "", i, i);
    CHECK_EQ(parses(b), 0);
    CHECK_EQ(F.n, FORM_MAX_FIELDS);
    CHECK_STR(form_get(&F, "k31"), "31");
    sprintf(b + n, "&k%d=x", FORM_MAX_FIELDS);
    CHECK_STR(fails(b), "too many form fields");
    /* Empty pairs do not count. */
    sprintf(b + n, "&&&");
    CHECK_EQ(parses(b), 0);
}

TEST(value_length_bound)
{
    static char b[HTTP_MAX_BODY + 8];
    memcpy(b, "text=", 5);
    memset(b + 5, 'x', FORM_MAX_VALUE);
    b[5 + FORM_MAX_VALUE] = 0;
    CHECK_EQ(parses(b), 0);
    CHECK_EQ(F.f[0].vlen, FORM_MAX_VALUE);
    CHECK_EQ(strlen(form_get(&F, "text")), FORM_MAX_VALUE);
    b[5 + FORM_MAX_VALUE] = 'x';
    b[6 + FORM_MAX_VALUE] = 0;
    CHECK_STR(fails(b), "form field too long");
    /* The bound is on the decoded length: 4096 escapes are 4096 bytes. */
    size_t n = 5;
    for (int i = 0; i < FORM_MAX_VALUE; i++) {
        memcpy(b + n, "%41", 3);
        n += 3;
    }
    b[n] = 0;
    CHECK_EQ(parses(b), 0);
    CHECK_EQ(F.f[0].vlen, FORM_MAX_VALUE);
    memcpy(b + n, "+", 2);
    CHECK_STR(fails(b), "form field too long");
    /* Keys have the same bound. */
    memset(b, 'k', FORM_MAX_VALUE + 1);
    memcpy(b + FORM_MAX_VALUE + 1, "=1", 3);
    CHECK_STR(fails(b), "form field too long");
    memcpy(b + FORM_MAX_VALUE, "=1", 3);
    CHECK_EQ(parses(b), 0);
}

TEST(body_bound)
{
    static char b[HTTP_MAX_BODY + 8];
    /* Four values of ~4 KiB fill the body exactly. */
    size_t n = 0;
    for (int i = 0; i < 4; i++) {
        size_t left = HTTP_MAX_BODY - n - 3; /* "&d=" */
        size_t v = i < 3 ? FORM_MAX_VALUE - 1 : left;
        if (i) b[n++] = '&';
        b[n++] = (char)('a' + i);
        b[n++] = '=';
        memset(b + n, 'v', v);
        n += v;
    }
    CHECK_EQ(n, HTTP_MAX_BODY);
    const char *why = NULL;
    CHECK_EQ(parse(b, n, &why), 0);
    CHECK_EQ(F.n, 4);
    b[n++] = 'x';
    CHECK_EQ(parse(b, n, &why), -1);
    CHECK_STR(why, "form body too large");
    /* The worst case for f->buf: bare keys, each one NUL plus its separator. */
    n = 0;
    for (int i = 0; i < FORM_MAX_FIELDS; i++) {
        size_t k = HTTP_MAX_BODY / FORM_MAX_FIELDS - 1;
        if (i) b[n++] = '&';
        memset(b + n, 'k', k);
        b[n + k - 1] = (char)('A' + i);
        n += k;
    }
    CHECK_EQ(parse(b, n, &why), 0);
    CHECK_EQ(F.n, FORM_MAX_FIELDS);
    CHECK_STR(F.f[FORM_MAX_FIELDS - 1].value, "");
}

TEST(every_prefix)
{
    /* Every prefix of a form either parses or fails cleanly, never over-reads. */
    const char *b = "a=%41%42&text=my+service%2F1&c&d=%7e";
    for (size_t n = 0; n <= strlen(b); n++) {
        const char *why = NULL;
        int rc = parse(b, n, &why);
        CHECK(rc == 0 || (rc == -1 && why != NULL));
    }
}

int main(void)
{
    RUN(slack_body);
    RUN(decoding);
    RUN(empty_pairs_and_bare_keys);
    RUN(bad_escapes);
    RUN(duplicates);
    RUN(field_count_bound);
    RUN(value_length_bound);
    RUN(body_bound);
    RUN(every_prefix);
    return t_done();
}
