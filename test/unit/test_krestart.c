/* krestart: kubectl rollout restart's patch and timestamp, exactly; the
 * patch buffer at its size and one byte short. */
#include "t.h"

#include "krestart.h"

TEST(patch)
{
    char buf[512];
    const char *want = "{\"metadata\":{\"annotations\":{\"kubernetes.io/change-cause\":"
                       "\"deploy-api: a \\\"b\\\"\"}},\"spec\":{\"template\":{\"metadata\":"
                       "{\"annotations\":{\"kubectl.kubernetes.io/restartedAt\":"
                       "\"2026-11-30T09:40:00Z\"}}}}}";
    long n = krestart_patch(buf, sizeof buf, "2026-11-30T09:40:00Z", "deploy-api: a \"b\"");
    CHECK_EQ(n, (long)strlen(want));
    CHECK_STR(buf, want);
    /* Without a cause: only the template annotation, as kubectl sends. */
    n = krestart_patch(buf, sizeof buf, "2026-11-30T09:40:00Z", "");
    CHECK_STR(buf, "{\"spec\":{\"template\":{\"metadata\":{\"annotations\":{\"kubectl.kubernetes."
                   "io/restartedAt\":\"2026-11-30T09:40:00Z\"}}}}}");
    CHECK_EQ(krestart_patch(buf, sizeof buf, "x", NULL), n - 19);
}

TEST(patch_limit)
{
    char buf[512];
    long n = krestart_patch(buf, sizeof buf, "2026-11-30T09:40:00Z", "cause");
    CHECK(n > 0);
    char *exact = malloc((size_t)n + 1);
    CHECK_EQ(krestart_patch(exact, (size_t)n + 1, "2026-11-30T09:40:00Z", "cause"), n);
    CHECK_STR(exact, buf);
    CHECK_EQ(krestart_patch(exact, (size_t)n, "2026-11-30T09:40:00Z", "cause"), -1);
    free(exact);
}

TEST(time_format)
{
    char t[32];
    krestart_time(t, sizeof t, 0);
    CHECK_STR(t, "1970-01-01T00:00:00Z");
    krestart_time(t, sizeof t, 1796031600LL); /* 2026-11-30 09:40:00 UTC */
    CHECK_STR(t, "2026-11-30T09:40:00Z");
}

int main(void)
{
    RUN(patch);
    RUN(patch_limit);
    RUN(time_format);
    return t_done();
}
