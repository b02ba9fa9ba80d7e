/* Minimal unit-test harness: each TEST prints one "PASS file:name" or
 * "FAIL file:name: why" line; test/run.sh counts them. Built with ASan and
 * UBSan, so a memory error aborts the binary and the runner counts it. */
#ifndef T_H
#define T_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static int t_failed_now, t_npass, t_nfail;

#define TEST(name) static void name(void)

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            if (!t_failed_now) printf("FAIL %s:%d: %s\n", __FILE__, __LINE__, #cond);              \
            t_failed_now = 1;                                                                      \
        }                                                                                          \
    } while (0)

#define CHECK_EQ(a, b)                                                                             \
    do {                                                                                           \
        long long t_a_ = (long long)(a), t_b_ = (long long)(b);                                    \
        if (t_a_ != t_b_) {                                                                        \
            if (!t_failed_now)                                                                     \
                printf("FAIL %s:%d: %s == %s (%lld != %lld)\n", __FILE__, __LINE__, #a, #b, t_a_,  \
                       t_b_);                                                                      \
            t_failed_now = 1;                                                                      \
        }                                                                                          \
    } while (0)

#define CHECK_STR(a, b)                                                                            \
    do {                                                                                           \
        const char *t_a_ = (a), *t_b_ = (b);                                                       \
        if (!t_a_ || !t_b_ || strcmp(t_a_, t_b_) != 0) {                                           \
            if (!t_failed_now)                                                                     \
                printf("FAIL %s:%d: %s == %s (\"%s\" != \"%s\")\n", __FILE__, __LINE__, #a, #b,    \
                       t_a_ ? t_a_ : "(null)", t_b_ ? t_b_ : "(null)");                            \
            t_failed_now = 1;                                                                      \
        }                                                                                          \
    } while (0)

#define RUN(name)                                                                                  \
    do {                                                                                           \
        t_failed_now = 0;                                                                          \
        name();                                                                                    \
        if (t_failed_now) {                                                                        \
            t_nfail++;                                                                             \
            printf("FAIL %s:%s\n", __FILE__, #name);                                               \
        } else {                                                                                   \
            t_npass++;                                                                             \
            printf("PASS %s:%s\n", __FILE__, #name);                                               \
        }                                                                                          \
        fflush(stdout);                                                                            \
    } while (0)

static inline int t_done(void)
{
    return t_nfail ? 1 : 0;
}

/* Copy n bytes so that the last one sits right before an unmapped page: any
 * read past the end faults. Returns the copy; release with t_unguard. */
static inline void *t_guard(const void *p, size_t n)
{
    size_t pg = (size_t)sysconf(_SC_PAGESIZE);
    size_t span = (n + pg - 1) / pg * pg + pg;
    char *base = mmap(NULL, span, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (base == MAP_FAILED) abort();
    mprotect(base + span - pg, pg, PROT_NONE);
    char *dst = base + span - pg - n;
    if (n) memcpy(dst, p, n);
    return dst;
}

static inline void t_unguard(void *p, size_t n)
{
    size_t pg = (size_t)sysconf(_SC_PAGESIZE);
    size_t span = (n + pg - 1) / pg * pg + pg;
    char *base = (char *)p + n + pg - span;
    munmap(base, span);
}

#endif
