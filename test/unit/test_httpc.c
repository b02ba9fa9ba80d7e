#include "t.h"

#include "../../src/httpc.c"

static char err[256];

/* ---- error codes, against a plain-HTTP server in a child ---- */

#include <signal.h>
#include <sys/wait.h>

/* Canned answers by request path; "reset" aborts with an RST. */
static const char *const answers[][2] = {
    {"/ok", "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"},
    {"/closed", ""},
    {"/short", "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc"},
    {"/badhead", "HTTP/1.1 2x0 OK\r\n\r\n"},
    {"/badchunk", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"},
    {"/big", "HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\nhello world"},
    {"/switch", "HTTP/1.1 101 Switching Protocols\r\n\r\n"},
    {"/reset", NULL},
};

static void serve_one(int c)
{
    char req[2048];
    size_t n = 0;
    while (n < sizeof req - 1 && !memmem(req, n, "\r\n\r\n", 4)) {
        ssize_t r = read(c, req + n, sizeof req - 1 - n);
        if (r <= 0) return;
        n += (size_t)r;
    }
    req[n] = 0;
    for (size_t i = 0; i < sizeof answers / sizeof answers[0]; i++) {
        size_t pl = strlen(answers[i][0]);
        if (strncmp(req + 4, answers[i][0], pl) != 0 || req[4 + pl] != ' ') continue;
        if (!answers[i][1]) {
            struct linger lg = {1, 0};
            setsockopt(c, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
        } else if (write(c, answers[i][1], strlen(answers[i][1])) < 0) {
            return;
        }
        return;
    }
}

static pid_t server_pid;

/* A listening 127.0.0.1 port served by a child (bounded: 64 connections). */
static int server_start(char port[8])
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(0x7f000001)};
    socklen_t al = sizeof a;
    int l = socket(AF_INET, SOCK_STREAM, 0);
    if (l < 0 || bind(l, (struct sockaddr *)&a, sizeof a) < 0 || listen(l, 8) < 0 ||
        getsockname(l, (struct sockaddr *)&a, &al) < 0)
        return -1;
    snprintf(port, 8, "%u", ntohs(a.sin_port));
    server_pid = fork();
    if (server_pid == 0) {
        for (int i = 0; i < 64; i++) {
            int c = accept(l, NULL, NULL);
            if (c < 0) break;
            serve_one(c);
            close(c);
        }
        _exit(0);
    }
    close(l);
    return server_pid > 0 ? 0 : -1;
}

/* A 127.0.0.1 port nothing listens on. */
static void closed_port(char port[8])
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(0x7f000001)};
    socklen_t al = sizeof a;
    int l = socket(AF_INET, SOCK_STREAM, 0);
    bind(l, (struct sockaddr *)&a, sizeof a);
    getsockname(l, (struct sockaddr *)&a, &al);
    snprintf(port, 8, "%u", ntohs(a.sin_port));
    close(l);
}

static enum httpc_err fetch(const char *port, const char *path, size_t max)
{
    struct httpc_opts o = {.timeout_s = 5};
    struct url u = {0};
    struct httpc_resp r;
    snprintf(u.host, sizeof u.host, "127.0.0.1");
    snprintf(u.port, sizeof u.port, "%s", port);
    snprintf(u.path, sizeof u.path, "%s", path);
    err[0] = 0;
    int rc = httpc_do(&o, "GET", &u, NULL, NULL, 0, max, &r, err, sizeof err);
    enum httpc_err e = r.error;
    if (rc == 0) httpc_resp_free(&r);
    if ((rc == 0) != (e == HTTPC_OK) || e != httpc_last_error()) return (enum httpc_err) - 1;
    return e;
}

TEST(error_codes)
{
    char port[8], dead[8];
    if (server_start(port) < 0) {
        CHECK(0);
        return;
    }
    closed_port(dead);
    CHECK_EQ(fetch(port, "/ok", 100), HTTPC_OK);
    CHECK_EQ(fetch(port, "/closed", 100), HTTPC_RESET);
    CHECK_STR(err, "connection closed without a response");
    CHECK_EQ(fetch(port, "/short", 100), HTTPC_TRUNCATED);
    CHECK_EQ(fetch(port, "/badhead", 100), HTTPC_PROTOCOL);
    CHECK_EQ(fetch(port, "/badchunk", 100), HTTPC_PROTOCOL);
    CHECK_EQ(fetch(port, "/big", 11), HTTPC_OK);      /* at the limit */
    CHECK_EQ(fetch(port, "/big", 10), HTTPC_TOO_BIG); /* one past it */
    CHECK_EQ(fetch(port, "/switch", 100), HTTPC_UNSUPPORTED);
    enum httpc_err e = fetch(port, "/reset", 100);
    CHECK(e == HTTPC_RESET);
    CHECK_EQ(fetch(dead, "/ok", 100), HTTPC_CONNECT);
    CHECK_STR(err, "connection refused");
    kill(server_pid, SIGTERM);
    waitpid(server_pid, NULL, 0);
}

TEST(error_broken)
{
    CHECK_EQ(httpc_err_broken(HTTPC_RESET), 1);
    CHECK_EQ(httpc_err_broken(HTTPC_TRUNCATED), 1);
    CHECK_EQ(httpc_err_broken(HTTPC_PROTOCOL), 1);
    CHECK_EQ(httpc_err_broken(HTTPC_OK), 0);
    CHECK_EQ(httpc_err_broken(HTTPC_CONNECT), 0);
    CHECK_EQ(httpc_err_broken(HTTPC_TIMEOUT), 0);
    CHECK_EQ(httpc_err_broken(HTTPC_TLS), 0);
    CHECK_EQ(httpc_err_broken(HTTPC_TOO_BIG), 0);
    CHECK_EQ(httpc_err_broken(HTTPC_UNSUPPORTED), 0);
    CHECK_EQ(httpc_err_broken(HTTPC_BAD_REQUEST), 0);
}

/* Each failure kind has its own words; host:port always, IPv6 bracketed. */
TEST(explain)
{
    struct url u;
    char e[64], out[400];
    CHECK_EQ(url_parse("https://127.0.0.1:6443/", &u, e, sizeof e), 0);
    httpc_explain(HTTPC_TLS, "the Kubernetes API", &u, "certificate not trusted (unknown CA)", out,
                  sizeof out);
    CHECK_STR(out, "TLS handshake with the Kubernetes API at 127.0.0.1:6443 failed: certificate "
                   "not trusted (unknown CA)");
    httpc_explain(HTTPC_CONNECT, "the Kubernetes API", &u, "connection refused", out, sizeof out);
    CHECK_STR(out, "cannot connect to the Kubernetes API at 127.0.0.1:6443: connection refused");
    httpc_explain(HTTPC_RESET, "X", &u, "connection reset", out, sizeof out);
    CHECK_STR(out, "X at 127.0.0.1:6443 broke off its answer: connection reset");
    CHECK_EQ(url_parse("https://[::1]/", &u, e, sizeof e), 0);
    httpc_explain(HTTPC_TIMEOUT, "X", &u, "", out, sizeof out);
    CHECK_STR(out, "cannot connect to X at [::1]:443: unknown error");
    /* every code has words, distinct from the others' */
    char seen[HTTPC_IO + 1][200];
    for (int c = HTTPC_BAD_REQUEST; c <= HTTPC_IO; c++) {
        httpc_explain((enum httpc_err)c, "X", &u, "d", seen[c], sizeof seen[c]);
        CHECK(strstr(seen[c], "X at [::1]:443") != NULL);
    }
    CHECK(strcmp(seen[HTTPC_TLS], seen[HTTPC_CONNECT]) != 0);
    CHECK(strcmp(seen[HTTPC_TLS], seen[HTTPC_RESET]) != 0);
    CHECK(strcmp(seen[HTTPC_CONNECT], seen[HTTPC_RESET]) != 0);
    /* cut to fit, always terminated */
    httpc_explain(HTTPC_TLS, "X", &u, "d", out, 10);
    CHECK_EQ(strlen(out), 9);
}

int main(void)
{
    RUN(explain);
    RUN(error_broken);
    RUN(error_codes);
    return t_done();
}
