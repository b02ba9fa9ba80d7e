/* audit: every line a JSON object starting ts, level, log; audit lines
 * "audit", server lines "server"; log_json puts a JSON object in as an
 * object; a value that does not fit drops the line, never cuts it. */
#include "t.h"

#include <fcntl.h>

#include "audit.h"

static char OUT[65536];

/* Run fn with stdout on a pipe; OUT holds what it wrote. */
static size_t capture(void (*fn)(void))
{
    int p[2], saved = dup(1);
    fflush(stdout);
    if (pipe(p) < 0) return 0;
    fcntl(p[0], F_SETFL, O_NONBLOCK);
    fcntl(p[1], F_SETPIPE_SZ, 1 << 20);
    dup2(p[1], 1);
    fn();
    dup2(saved, 1);
    close(saved);
    close(p[1]);
    ssize_t n = read(p[0], OUT, sizeof OUT - 1);
    close(p[0]);
    OUT[n > 0 ? n : 0] = 0;
    return n > 0 ? (size_t)n : 0;
}

static void one_audit(void)
{
    struct audit a = {.event = "refused",
                      .user_id = "U1\"x",
                      .command = "restart",
                      .result = "forbidden",
                      .duration_ms = -1,
                      .exit_status = -1};
    audit_write(&a);
}

static void one_server(void)
{
    log_line("warn", "hello", "k", "v", "absent", NULL, NULL);
}

static char big[5000];

static void startup(void)
{
    log_json("info", "deploy-api starting", "config", "{\"a\":1,\"secret\":\"set\"}", "version",
             "1.0", NULL);
}

static void startup_big(void)
{
    log_json("info", "deploy-api starting", "config", big, NULL);
}

static char huge[9000];

static void startup_huge(void)
{
    log_json("info", "deploy-api starting", "config", huge, NULL);
}

TEST(line_shapes)
{
    capture(one_audit);
    CHECK(strncmp(OUT, "{\"ts\":\"", 7) == 0);
    CHECK(strstr(OUT, "Z\",\"level\":\"info\",\"log\":\"audit\",\"event\":\"refused\",") != NULL);
    CHECK(strstr(OUT, "\"user_id\":\"U1\\\"x\"") != NULL);
    CHECK(strchr(OUT, '\n') == OUT + strlen(OUT) - 1);
    capture(one_server);
    CHECK(strstr(OUT, "\"level\":\"warn\",\"log\":\"server\",\"msg\":\"hello\",\"k\":\"v\"}\n") !=
          NULL);
    CHECK(strstr(OUT, "absent") == NULL);
}

TEST(startup_config_is_an_object)
{
    capture(startup);
    CHECK(strstr(OUT, "\"log\":\"server\",\"msg\":\"deploy-api starting\",\"version\":\"1.0\","
                      "\"config\":{\"a\":1,\"secret\":\"set\"}}\n") != NULL);
    /* a configuration of 4 KiB (config_describe's buffer) still fits */
    memset(big, 'x', sizeof big);
    big[0] = '"';
    big[4094] = '"';
    big[4095] = 0;
    CHECK(capture(startup_big) > 4096);
    CHECK(strstr(OUT, "\"config\":\"xxx") != NULL);
    /* past the line buffer: the line is dropped whole, never cut */
    memset(huge, 'y', sizeof huge);
    huge[0] = '"';
    huge[sizeof huge - 2] = '"';
    huge[sizeof huge - 1] = 0;
    unsigned long long dropped = audit_lines_dropped;
    CHECK_EQ(capture(startup_huge), 0);
    CHECK_EQ(audit_lines_dropped, dropped + 1);
}

int main(void)
{
    RUN(line_shapes);
    RUN(startup_config_is_an_object);
    return t_done();
}
