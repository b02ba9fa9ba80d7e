/* metrics: the job-duration histogram (bucket edges, cumulative counts,
 * sum), rollouts by result, build_info, and the whole page at its worst
 * case still fitting the response buffer; every line of the exposition is
 * a HELP, a TYPE or a sample of a family declared above it. */
#include "t.h"

#include "metrics.h"
#include "server.h"
#include "slack.h"

static char B[HTTP_MAX_RESPONSE];
static struct server_stats S;

static long render(void)
{
    return metrics_render(B, HTTP_MAX_RESPONSE - 256, 0, 0, &S);
}

static int has(const char *line)
{
    return strstr(B, line) != NULL;
}

TEST(histogram)
{
    memset(&metrics, 0, sizeof metrics);
    CHECK(render() > 0);
    CHECK(has("# TYPE deploy_api_job_duration_seconds histogram\n"));
    CHECK(!has("deploy_api_job_duration_seconds_count"));         /* nothing observed yet */
    metrics_job_end(CMD_DEPLOY, JOB_OK, 250, ROLLOUT_R_DONE);     /* on the 0.25 edge */
    metrics_job_end(CMD_DEPLOY, JOB_OK, 251, ROLLOUT_R_DONE);     /* just past it */
    metrics_job_end(CMD_DEPLOY, JOB_OK, 2000000, ROLLOUT_R_DONE); /* past every bound */
    metrics_job_end(CMD_RESTART, JOB_KILLED, 40000, ROLLOUT_R_NONE);
    CHECK(render() > 0);
    CHECK(
        has("deploy_api_job_duration_seconds_bucket{command=\"deploy\",result=\"ok\",le=\"0.25\"} "
            "1\n"));
    CHECK(has("deploy_api_job_duration_seconds_bucket{command=\"deploy\",result=\"ok\",le=\"1\"} "
              "2\n"));
    CHECK(has("deploy_api_job_duration_seconds_bucket{command=\"deploy\",result=\"ok\",le=\"900\"} "
              "2\n"));
    CHECK(has("deploy_api_job_duration_seconds_bucket{command=\"deploy\",result=\"ok\",le=\"+Inf\"}"
              " 3\n"));
    CHECK(has("deploy_api_job_duration_seconds_sum{command=\"deploy\",result=\"ok\"} 2000.501\n"));
    CHECK(has("deploy_api_job_duration_seconds_count{command=\"deploy\",result=\"ok\"} 3\n"));
    /* killed counts as failed here (deploy_api_jobs_total tells the kinds) */
    CHECK(has("deploy_api_job_duration_seconds_bucket{command=\"restart\",result=\"failed\","
              "le=\"30\"} 0\n"));
    CHECK(has("deploy_api_job_duration_seconds_bucket{command=\"restart\",result=\"failed\","
              "le=\"60\"} 1\n"));
    CHECK(!has("command=\"status\"")); /* only observed series */
    CHECK(has("deploy_api_rollouts_total{result=\"done\"} 3\n"));
    CHECK(has("deploy_api_rollouts_total{result=\"failed\"} 0\n"));
    CHECK(!has("result=\"none\""));
    /* out of range: ignored */
    metrics_job_end(CMD_HELP, JOB_OK, 1, ROLLOUT_R_N);
    metrics_job_end(42, JOB_OK, 1, (enum rollout_result) - 1);
    metrics_job_end(CMD_STATUS, JOB_OK, -1, ROLLOUT_R_NONE);
    CHECK(render() > 0);
    CHECK(!has("command=\"status\"") && !has("command=\"help\""));
}

TEST(names)
{
    CHECK_STR(rollout_result_str(ROLLOUT_R_TIMEOUT), "timeout");
    CHECK_STR(rollout_result_str((enum rollout_result)99), "none");
    CHECK_EQ(rollout_result_parse("unknown"), ROLLOUT_R_UNKNOWN);
    CHECK_EQ(rollout_result_parse("done"), ROLLOUT_R_DONE);
    CHECK_EQ(rollout_result_parse("Done"), ROLLOUT_R_NONE);
    CHECK_EQ(rollout_result_parse(NULL), ROLLOUT_R_NONE);
    CHECK_EQ(rollout_result_parse(""), ROLLOUT_R_NONE);
}

/* The family a sample line belongs to: its name up to '{' or ' ', minus a
 * histogram's suffix. */
static void family_of(const char *line, char *out, size_t cap)
{
    size_t n = strcspn(line, "{ ");
    snprintf(out, cap, "%.*s", (int)n, line);
    const char *suf[] = {"_bucket", "_sum", "_count"};
    for (int i = 0; i < 3; i++) {
        size_t l = strlen(out), s = strlen(suf[i]);
        if (l > s && strcmp(out + l - s, suf[i]) == 0 && strstr(B, "histogram\n")) {
            char h[160];
            snprintf(h, sizeof h, "# TYPE %.*s histogram\n", (int)(l - s), out);
            if (strstr(B, h)) out[l - s] = 0;
        }
    }
}

TEST(worst_case_fits_and_is_well_formed)
{
    memset(&metrics, 0, sizeof metrics);
    memset(&S, 0xff, sizeof S);
    memset(&metrics, 0xff, sizeof metrics); /* every counter at its widest */
    for (int v = 0; v < METRICS_COMMANDS; v++)
        for (int r = 0; r < 2; r++) metrics.duration[v][r].sum_ms = 0x7fffffffffffffffLL;
    long n = metrics_render(B, HTTP_MAX_RESPONSE - 256, 1 << 30, 1 << 30, &S);
    CHECK(n > 0);
    CHECK(n < HTTP_MAX_RESPONSE - 256);
    /* one byte short of the page: refused, never cut */
    CHECK_EQ(metrics_render(B, (size_t)n, 1 << 30, 1 << 30, &S), -1);
    CHECK_EQ(metrics_render(B, (size_t)n + 1, 1 << 30, 1 << 30, &S), n);
    /* every sample's family has HELP and TYPE before it */
    char *save = NULL, fam[160], want[200];
    int samples = 0;
    static char copy[HTTP_MAX_RESPONSE];
    memcpy(copy, B, (size_t)n + 1);
    for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        if (line[0] == '#') {
            CHECK(strncmp(line, "# HELP deploy_api_", 18) == 0 ||
                  strncmp(line, "# TYPE deploy_api_", 18) == 0);
            continue;
        }
        samples++;
        family_of(line, fam, sizeof fam);
        snprintf(want, sizeof want, "# TYPE %s ", fam);
        char *t = strstr(B, want);
        CHECK(t != NULL && t < B + (line - copy));
        snprintf(want, sizeof want, "# HELP %s ", fam);
        CHECK(strstr(B, want) != NULL);
    }
    CHECK(samples > 100);
    memset(&metrics, 0, sizeof metrics);
    memset(&S, 0, sizeof S);
}

TEST(build_info)
{
    CHECK(render() > 0);
    CHECK(has(
        "# TYPE deploy_api_build_info gauge\ndeploy_api_build_info{version=\"" DEPLOY_API_VERSION
        "\"} 1\n"));
}

int main(void)
{
    RUN(histogram);
    RUN(names);
    RUN(worst_case_fits_and_is_well_formed);
    RUN(build_info);
    return t_done();
}
