/* str.c: slice comparison, copies at and one past their capacity, and
 * slice_to_ulong at every bound (inputs read right before an unmapped page). */
#include "t.h"

#include "str.h"

/* <limits.h> is shadowed by src/limits.h under -Isrc. */
#define ULONG_MAX_ (~0UL)

/* slice_to_ulong over a guarded copy of s; *out is preset to 777 so a
 * failed parse can be seen not to write it. */
static int to_ulong(const char *s, unsigned long max, unsigned long *out)
{
    size_t n = strlen(s);
    char *g = t_guard(s, n);
    *out = 777;
    int rc = slice_to_ulong((struct slice){g, n}, max, out);
    t_unguard(g, n);
    return rc;
}

TEST(eq)
{
    CHECK(slice_eq(SLICE_LIT("abc"), "abc"));
    CHECK(!slice_eq(SLICE_LIT("abc"), "abd"));
    CHECK(!slice_eq(SLICE_LIT("abc"), "ab"));
    CHECK(!slice_eq(SLICE_LIT("ab"), "abc"));
    CHECK(!slice_eq(SLICE_LIT("ABC"), "abc"));
    CHECK(slice_eq(SLICE_LIT(""), ""));
    CHECK(!slice_eq(SLICE_LIT(""), "a"));
    /* Bytes past n are not part of the slice. */
    CHECK(slice_eq((struct slice){"abcdef", 3}, "abc"));
    /* Guarded: comparing must not read past the slice. */
    char *g = t_guard("host", 4);
    CHECK(slice_eq((struct slice){g, 4}, "host"));
    CHECK(!slice_eq((struct slice){g, 4}, "hostname"));
    t_unguard(g, 4);
}

TEST(eq_nocase)
{
    CHECK(slice_eq_nocase(SLICE_LIT("Content-Length"), "content-length"));
    CHECK(slice_eq_nocase(SLICE_LIT("CONTENT-LENGTH"), "Content-Length"));
    CHECK(!slice_eq_nocase(SLICE_LIT("Content-Length"), "content-lengths"));
    CHECK(!slice_eq_nocase(SLICE_LIT("Content-Lengt"), "content-length"));
    CHECK(slice_eq_nocase(SLICE_LIT(""), ""));
    /* Only ASCII letters fold: '[' (0x5b) and '{' (0x7b), '@' and '`' differ by 0x20 too. */
    CHECK(!slice_eq_nocase(SLICE_LIT("["), "{"));
    CHECK(!slice_eq_nocase(SLICE_LIT("@"), "`"));
    CHECK(!slice_eq_nocase(SLICE_LIT("\xc0"), "\xe0"));
    CHECK(slice_eq_nocase(SLICE_LIT("a1-_Z"), "A1-_z"));
}

TEST(ct_eq)
{
    CHECK(str_ct_eq("abcdef", "abcdef", 6));
    CHECK(!str_ct_eq("abcdef", "abcdeg", 6));
    CHECK(!str_ct_eq("xbcdef", "abcdef", 6));
    CHECK(str_ct_eq("abcdef", "abcxyz", 3)); /* only n bytes count */
    CHECK(str_ct_eq("a", "b", 0));
    CHECK(!str_ct_eq("\x00\x80", "\x00\x00", 2));
}

TEST(slice_copy_bounds)
{
    char dst[8];
    memset(dst, 'Z', sizeof dst);
    CHECK_EQ(slice_copy(dst, sizeof dst, SLICE_LIT("1234567")), 0); /* 7 + NUL = cap */
    CHECK_STR(dst, "1234567");
    memset(dst, 'Z', sizeof dst);
    CHECK_EQ(slice_copy(dst, sizeof dst, SLICE_LIT("12345678")), -1); /* one past */
    CHECK_STR(dst, "");
    CHECK_EQ(slice_copy(dst, sizeof dst, SLICE_LIT("")), 0);
    CHECK_STR(dst, "");
    /* A slice is not NUL-terminated: only n bytes are copied. */
    CHECK_EQ(slice_copy(dst, sizeof dst, (struct slice){"abcdef", 2}), 0);
    CHECK_STR(dst, "ab");
    /* cap 0: nothing written. */
    dst[0] = 'Q';
    CHECK_EQ(slice_copy(dst, 0, SLICE_LIT("a")), -1);
    CHECK_EQ(dst[0], 'Q');
    /* Guarded destination: a write past cap faults. */
    char *g = t_guard("ZZZZ", 4);
    CHECK_EQ(slice_copy(g, 4, SLICE_LIT("abc")), 0);
    CHECK_STR(g, "abc");
    CHECK_EQ(slice_copy(g, 4, SLICE_LIT("abcd")), -1);
    CHECK_STR(g, "");
    t_unguard(g, 4);
}

TEST(str_copy_bounds)
{
    char dst[8];
    CHECK_EQ(str_copy(dst, sizeof dst, "1234567"), 0);
    CHECK_STR(dst, "1234567");
    CHECK_EQ(str_copy(dst, sizeof dst, "12345678"), -1); /* truncated, still terminated */
    CHECK_STR(dst, "1234567");
    CHECK_EQ(str_copy(dst, sizeof dst, ""), 0);
    CHECK_STR(dst, "");
    dst[0] = 'Q';
    CHECK_EQ(str_copy(dst, 0, "a"), -1);
    CHECK_EQ(dst[0], 'Q');
    CHECK_EQ(str_copy(dst, 1, "a"), -1);
    CHECK_STR(dst, "");
    char *g = t_guard("ZZZZ", 4);
    CHECK_EQ(str_copy(g, 4, "abc"), 0);
    CHECK_STR(g, "abc");
    CHECK_EQ(str_copy(g, 4, "abcdefgh"), -1);
    CHECK_STR(g, "abc");
    t_unguard(g, 4);
}

TEST(to_ulong_syntax)
{
    unsigned long v;
    CHECK_EQ(to_ulong("0", 10, &v), 0);
    CHECK_EQ(v, 0);
    CHECK_EQ(to_ulong("42", 100, &v), 0);
    CHECK_EQ(v, 42);
    CHECK_EQ(to_ulong("007", 100, &v), 0);
    CHECK_EQ(v, 7);
    CHECK_EQ(to_ulong("00000000000000000001", ULONG_MAX_, &v), 0); /* 20 digits */
    CHECK_EQ(v, 1);
    const char *bad[] = {"",   "+1",   "-1",  " 1",  "1 ",  "1a",
                         "a1", "0x10", "1.0", "1,0", "\t1", "1e3"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        CHECK_EQ(to_ulong(bad[i], ULONG_MAX_, &v), -1);
        CHECK_EQ(v, 777); /* untouched on failure */
    }
    /* A NUL inside the slice is not a digit. */
    CHECK_EQ(slice_to_ulong((struct slice){"1\0002", 3}, 1000, &v), -1);
}

TEST(to_ulong_bounds)
{
    unsigned long v;
    CHECK_EQ(to_ulong("65535", 65535, &v), 0);
    CHECK_EQ(v, 65535);
    CHECK_EQ(to_ulong("65536", 65535, &v), -1);
    CHECK_EQ(to_ulong("65540", 65535, &v), -1);
    CHECK_EQ(to_ulong("655350", 65535, &v), -1);
    CHECK_EQ(to_ulong("1099511627776", 1UL << 40, &v), 0);
    CHECK_EQ(v, 1UL << 40);
    CHECK_EQ(to_ulong("1099511627777", 1UL << 40, &v), -1);
    CHECK_EQ(to_ulong("16384", 16384, &v), 0);
    CHECK_EQ(to_ulong("16385", 16384, &v), -1);
    CHECK_EQ(to_ulong("16390", 16384, &v), -1);
    /* The whole unsigned long range: ULONG_MAX_ and one past it, and the
     * wrap-around values a naive v*10+d would accept. */
    CHECK_EQ(to_ulong("18446744073709551615", ULONG_MAX_, &v), 0);
    CHECK(v == ULONG_MAX_);
    CHECK_EQ(to_ulong("18446744073709551616", ULONG_MAX_, &v), -1);
    CHECK_EQ(to_ulong("18446744073709551620", ULONG_MAX_, &v), -1);
    CHECK_EQ(to_ulong("99999999999999999999", ULONG_MAX_, &v), -1);
    CHECK_EQ(to_ulong("36893488147419103232", ULONG_MAX_, &v), -1);  /* 2^65 */
    CHECK_EQ(to_ulong("184467440737095516150", ULONG_MAX_, &v), -1); /* 21 digits */
    CHECK_EQ(to_ulong("9", 9, &v), 0);
    CHECK_EQ(v, 9);
    CHECK_EQ(to_ulong("10", 9, &v), -1);
}

/* A max below 9: "max - d" must not wrap when the digit is larger than max. */
TEST(to_ulong_small_max)
{
    unsigned long v;
    CHECK_EQ(to_ulong("5", 5, &v), 0);
    CHECK_EQ(v, 5);
    CHECK_EQ(to_ulong("0", 0, &v), 0);
    CHECK_EQ(v, 0);
    CHECK_EQ(to_ulong("6", 5, &v), -1);
    CHECK_EQ(to_ulong("17", 5, &v), -1);
    CHECK_EQ(to_ulong("1", 0, &v), -1);
    CHECK_EQ(to_ulong("9", 1, &v), -1);
}

/* str_clean_name into a guarded buffer of cap bytes; the result (static). */
static const char *clean(const char *in, size_t cap)
{
    static char out[256], fill[256];
    memset(fill, 'x', sizeof fill);
    char *g = t_guard(fill, cap);
    size_t inlen = in ? strlen(in) + 1 : 0;
    char *gin = in ? t_guard(in, inlen) : NULL; /* an over-read faults */
    size_t n = str_clean_name(g, cap, gin);
    CHECK(n < cap && strlen(g) == n);
    memcpy(out, g, n + 1);
    t_unguard(g, cap);
    if (gin) t_unguard(gin, inlen);
    return out;
}

/* Issue 12 item 12: names lose C0/C1 controls, DEL, the bidi controls and
 * bytes that are not UTF-8; other text (accents, CJK, emoji) is kept. */
TEST(clean_name)
{
    CHECK_STR(clean("alice", 64), "alice");
    CHECK_STR(clean(NULL, 8), "");
    CHECK_STR(clean("a\nb\r\tc\x7f\x1b[31m", 64), "abc[31m");
    CHECK_STR(clean("mallory\xe2\x80\xae)1U(", 64), "mallory)1U(");                   /* U+202E */
    CHECK_STR(clean("\xe2\x80\xaa\xe2\x80\xab\xe2\x80\xac\xe2\x80\xad", 64), "");     /* 202A-D */
    CHECK_STR(clean("x\xe2\x81\xa6\xe2\x81\xa7\xe2\x81\xa8\xe2\x81\xa9y", 64), "xy"); /* 2066-9 */
    CHECK_STR(clean("l\xe2\x80\x8er\xe2\x80\x8f\xd8\x9c", 64), "lr"); /* LRM RLM ALM */
    CHECK_STR(clean("c1\xc2\x85\xc2\x9f.", 64), "c1.");               /* NEL, U+009F */
    CHECK_STR(clean("Jos\xc3\xa9 \xe5\xb1\xb1 \xf0\x9f\x9a\x80", 64),
              "Jos\xc3\xa9 \xe5\xb1\xb1 \xf0\x9f\x9a\x80");
    /* Not UTF-8: overlong, surrogate, truncated, stray continuation, > U+10FFFF. */
    CHECK_STR(clean("a\xc0\xaf"
                    "b",
                    64),
              "ab");
    CHECK_STR(clean("a\xed\xa0\x80"
                    "b",
                    64),
              "ab");
    CHECK_STR(clean("a\xe2\x80", 64), "a");
    CHECK_STR(clean("a\x80\xbf"
                    "b",
                    64),
              "ab");
    CHECK_STR(clean("a\xf4\x90\x80\x80"
                    "b",
                    64),
              "ab");
    CHECK_STR(clean("a\xe2\x80\xae", 64), "a");
    /* The bound: cut at a character boundary, never inside one. */
    CHECK_STR(clean("abc", 4), "abc");
    CHECK_STR(clean("abcd", 4), "abc");
    CHECK_STR(clean("ab\xc3\xa9", 4), "ab");
    CHECK_STR(clean("ab\xc3\xa9", 5), "ab\xc3\xa9");
    CHECK_STR(clean("x", 1), "");
}

int main(void)
{
    RUN(eq);
    RUN(eq_nocase);
    RUN(ct_eq);
    RUN(slice_copy_bounds);
    RUN(str_copy_bounds);
    RUN(to_ulong_syntax);
    RUN(to_ulong_bounds);
    RUN(to_ulong_small_max);
    RUN(clean_name);
    return t_done();
}
