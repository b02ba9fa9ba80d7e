/* The front-door pipeline (route.c, included for its static steps): every
 * verdict route_command can reach without forking, the order of the steps
 * (the replay record only after the workspace check), the HTTP steps
 * (verify, decode, ssl_check), job outcomes from typed records, and the
 * length of every function in route.c. No job is ever forked here: the job
 * table is kept full or the target locked. */
#include "t.h"

#include <signal.h>

#include "../../src/route.c"

#define SECRET "8f742231b10e8888abcd99yyyzzz85a5"
#define RURL "https://hooks.slack.com/commands/T1/2/x"

static struct app A;
static int admitted;

static int count_admit(void *arg, struct verdict *v)
{
    (void)arg;
    (void)v;
    admitted++;
    return 0;
}

static int refuse_admit(void *arg, struct verdict *v)
{
    (void)arg;
    return stop_unverified(v, SLACK_REPLAY);
}

/* An app with one job slot, taken by a running job on default/busy. */
static void setup(void)
{
    memset(&A, 0, sizeof A);
    strcpy(A.cfg.default_ns, "default");
    strcpy(A.cfg.namespaces[0], "default");
    strcpy(A.cfg.namespaces[1], "prod");
    A.cfg.nnamespaces = 2;
    strcpy(A.cfg.team_ids[0], "T1");
    A.cfg.nteam_ids = 1;
    strcpy(A.cfg.response_url_hosts, "hooks.slack.com");
    strcpy(A.cfg.image_base, "reg.example");
    A.cfg.job_timeout = 60;
    static char secret[] = SECRET;
    A.cfg.signing_secret = secret;
    A.cfg.signing_secret_len = strlen(SECRET);
    A.replay = calloc(1, sizeof *A.replay);
    if (jobs_init(&A.jobs, 1) < 0 || !A.replay) abort();
    struct job *j = &A.jobs.v[0];
    j->pid = 999999; /* never signalled: no test reaps */
    j->spec.locks = 1;
    strcpy(j->spec.target, "default/busy");
    strcpy(j->spec.user_id, "U9");
    A.jobs.running = 1;
}

static void teardown(void)
{
    free(A.jobs.v);
    free(A.replay);
}

static struct cmd_input input(const char *text)
{
    struct cmd_input in = {.team_id = "T1",
                           .user_id = "U1",
                           .user_name = "alice",
                           .channel_id = "C1",
                           .text = text,
                           .response_url = RURL,
                           .peer = "127.0.0.1",
                           .admit = count_admit};
    return in;
}

static struct verdict V;

TEST(missing_fields_rejected_as_text)
{
    setup();
    struct cmd_input in = input("status x");
    in.user_id = "";
    route_command(&A, &in, &V);
    CHECK_EQ(V.status, S_BAD_REQUEST);
    CHECK_EQ(V.outcome, OUT_MALFORMED);
    CHECK_EQ(V.form, VERDICT_TEXT);
    CHECK_STR(V.event, "rejected");
    in = input("status x");
    in.team_id = NULL;
    route_command(&A, &in, &V);
    CHECK_EQ(V.status, S_BAD_REQUEST);
    teardown();
}

/* Issue 12 item 4: a request of another workspace never reaches the
 * replay record. */
TEST(workspace_checked_before_admit)
{
    setup();
    admitted = 0;
    struct cmd_input in = input("status x");
    in.team_id = "T2";
    route_command(&A, &in, &V);
    CHECK_EQ(V.outcome, OUT_FORBIDDEN);
    CHECK_EQ(V.status, S_OK);
    CHECK_EQ(V.form, VERDICT_SLACK);
    CHECK_EQ(admitted, 0);
    in.team_id = "T1";
    route_command(&A, &in, &V);
    CHECK_EQ(admitted, 1);
    /* A refusing admit stops everything after it. */
    in.admit = refuse_admit;
    route_command(&A, &in, &V);
    CHECK_EQ(V.status, S_UNAUTHORIZED);
    CHECK_EQ(V.outcome, OUT_REPLAY);
    CHECK(V.unverified);
    CHECK_EQ(V.target[0], 0); /* nothing parsed */
    teardown();
}

TEST(help_counted_not_audited)
{
    setup();
    struct cmd_input in = input("help");
    unsigned long long before = metrics.requests[OUT_HELP];
    route_command(&A, &in, &V);
    CHECK_EQ(V.outcome, OUT_HELP);
    CHECK(V.event == NULL);
    CHECK(strstr(V.message, "Usage") != NULL);
    CHECK_EQ(metrics.requests[OUT_HELP], before + 1);
    in.text = NULL; /* no text at all is help too */
    route_command(&A, &in, &V);
    CHECK_EQ(V.outcome, OUT_HELP);
    teardown();
}

TEST(bad_command_names_the_error)
{
    setup();
    struct cmd_input in = input("deploy");
    route_command(&A, &in, &V);
    CHECK_EQ(V.outcome, OUT_BAD_COMMAND);
    CHECK(V.reason && V.reason == V.reason_buf && V.reason_buf[0]);
    CHECK(strstr(V.message, "Usage") != NULL);
    CHECK_EQ(V.in_channel, 0);
    teardown();
}

TEST(authorize_steps)
{
    setup();
    struct cmd_input in = input("status staging/x");
    route_command(&A, &in, &V);
    CHECK_EQ(V.outcome, OUT_FORBIDDEN);
    CHECK_STR(V.reason, "namespace not allowed");
    CHECK_STR(V.target, "staging/x");
    CHECK_STR(V.command, "status");
    in = input("status x");
    in.response_url = NULL;
    route_command(&A, &in, &V);
    CHECK_STR(V.reason, "no response_url");
    in.response_url = "https://evil.example/x";
    route_command(&A, &in, &V);
    CHECK_EQ(V.outcome, OUT_FORBIDDEN);
    CHECK(V.reason == V.reason_buf && V.reason_buf[0]);
    CHECK(strstr(V.message, "response_url") != NULL);
    /* The policy: deny by default once a file is set. */
    static struct policy pol;
    char err[128];
    const char *rules = "allow status * * default/*\n";
    CHECK_EQ(policy_parse(&pol, rules, strlen(rules), err, sizeof err), 0);
    A.policy = &pol;
    in = input("status x");
    in.text = "history x";
    route_command(&A, &in, &V);
    CHECK_STR(V.reason, "no policy rule allows the verb history");
    CHECK(strstr(V.message, "You may not history `default/x`: no policy rule allows the verb "
                            "history.") != NULL);
    A.policy = NULL;
    teardown();
}

TEST(lock_busy_and_stopping)
{
    setup();
    struct cmd_input in = input("busy 1.2");
    route_command(&A, &in, &V);
    CHECK_EQ(V.outcome, OUT_LOCKED);
    CHECK(strstr(V.message, "already being deployed by <@U9>") != NULL);
    in.text = "other 1.2"; /* the only slot is taken: busy, nothing forked */
    route_command(&A, &in, &V);
    CHECK_EQ(V.outcome, OUT_BUSY);
    CHECK_STR(V.reason, "busy");
    CHECK_EQ(V.job, 0);
    A.stopping = 1;
    route_command(&A, &in, &V);
    CHECK_STR(V.reason, "shutting down");
    teardown();
}

TEST(field_too_long_rejected)
{
    setup();
    char name[SLACK_ID_MAX + 8];
    memset(name, 'U', sizeof name - 1);
    name[sizeof name - 1] = 0;
    struct cmd_input in = input("status x");
    in.user_id = name;
    route_command(&A, &in, &V);
    CHECK_EQ(V.status, S_BAD_REQUEST);
    CHECK_STR(V.reason, "field too long");
    teardown();
}

TEST(ack_messages)
{
    setup();
    struct command cmd;
    struct cmd_input in = input("x");
    char err[64];
    CHECK_EQ(cmd_parse("prod/api 1.4", "default", &cmd, err, sizeof err), 0);
    verdict_init(&V);
    snprintf(V.target, sizeof V.target, "prod/api");
    ack(&A, &in, &cmd, &V);
    CHECK_EQ(V.outcome, OUT_ACCEPTED);
    /* ephemeral until the job has read the deployment (issue 14); the image
     * is known only then (the job's result line carries it) */
    CHECK_EQ(V.in_channel, 0);
    CHECK_STR(V.image, "");
    CHECK_STR(V.message, "checking `prod/api`\xe2\x80\xa6");
    CHECK_EQ(cmd_parse("status api", "default", &cmd, err, sizeof err), 0);
    verdict_init(&V);
    V.command = "status";
    ack(&A, &in, &cmd, &V);
    CHECK_EQ(V.in_channel, 0);
    CHECK_STR(V.image, "");
    teardown();
}

/* The HTTP steps: a signature is checked before the form is read, the
 * legacy token only when configured, ssl_check only exactly. */
TEST(http_verify_and_decode)
{
    setup();
    struct http_request r;
    memset(&r, 0, sizeof r);
    struct http_admit h = {0};
    verdict_init(&V);
    CHECK_EQ(step_verify(&A, &r, "a=1", 3, &h, &V), -1);
    CHECK_EQ(V.status, S_UNAUTHORIZED);
    CHECK(V.unverified);
    /* Legacy token: no headers, token configured: decided after decoding. */
    static char token[] = "tok-0123456789";
    A.cfg.verification_token = token;
    memset(&h, 0, sizeof h);
    verdict_init(&V);
    CHECK_EQ(step_verify(&A, &r, "a=1", 3, &h, &V), 0);
    CHECK_EQ(h.signed_req, 0);
    static struct form f;
    CHECK_EQ(step_decode(&A, "token=nope", 10, &h, &f, &V), -1);
    CHECK_EQ(V.outcome, OUT_BAD_SIGNATURE);
    verdict_init(&V);
    CHECK_EQ(step_decode(&A, "token=tok-0123456789", 20, &h, &f, &V), 0);
    verdict_init(&V);
    CHECK_EQ(step_decode(&A, "a=%zz", 5, &h, &f, &V), -1);
    CHECK_EQ(V.status, S_BAD_REQUEST);
    CHECK(V.unverified); /* not shown to be from Slack */
    A.cfg.verification_token = NULL;
    teardown();
}

TEST(ssl_check_exact)
{
    static struct form f;
    CHECK(is_ssl_check("ssl_check=1", 11, &f));
    CHECK(is_ssl_check("ssl_check=1&token=abc", 21, &f));
    CHECK(is_ssl_check("token=abc&ssl_check=1", 21, &f));
    CHECK(!is_ssl_check("ssl_check=2", 11, &f));
    CHECK(!is_ssl_check("ssl_check=", 10, &f));
    CHECK(!is_ssl_check("ssl_check=1&text=x", 18, &f));
    CHECK(!is_ssl_check("ssl_check=1&ssl_check=1", 23, &f));
    CHECK(!is_ssl_check("ssl_check=11", 12, &f));
    CHECK(!is_ssl_check("", 0, &f));
    CHECK(!is_ssl_check("ssl_check=1%", 12, &f));
}

/* Job outcomes from the typed records and the wait status. */
TEST(job_outcomes)
{
    struct job j;
    memset(&j, 0, sizeof j);
    char buf[160];
    const char *why;
    /* Result in, reply in: the result decides. */
    j.have_result = j.have_reply = 1;
    j.result.ok = 1;
    CHECK_EQ(job_outcome(&j, 0, &why, buf, sizeof buf), JOB_OK);
    j.result.ok = 0;
    strcpy(j.result.error, "forbidden");
    CHECK_EQ(job_outcome(&j, 1 << 8, &why, buf, sizeof buf), JOB_FAILED);
    CHECK_STR(why, "forbidden");
    /* Item 5: killed at its deadline while posting: the deploy still counts. */
    j.result.ok = 1;
    j.have_reply = 0;
    j.killed = 1;
    buf[0] = 0;
    CHECK_EQ(job_outcome(&j, SIGKILL, &why, buf, sizeof buf), JOB_OK);
    CHECK(strstr(buf, "killed at its deadline while posting") != NULL);
    /* No result: killed, crashed, or exited without one. */
    j.have_result = 0;
    CHECK_EQ(job_outcome(&j, SIGKILL, &why, buf, sizeof buf), JOB_KILLED);
    CHECK_STR(why, "killed at its deadline (signal 9)");
    j.killed = 0;
    CHECK_EQ(job_outcome(&j, SIGSEGV, &why, buf, sizeof buf), JOB_CRASHED);
    CHECK_EQ(job_outcome(&j, 3 << 8, &why, buf, sizeof buf), JOB_CRASHED);
    CHECK_STR(why, "exited 3 without a result");
}

/* The house rule for the front door: no function in route.c over 60 lines
 * (from the line with its opening brace to the closing one). */
TEST(route_functions_short)
{
    FILE *f = fopen("src/route.c", "r");
    if (!f) f = fopen("../../src/route.c", "r");
    CHECK(f != NULL);
    if (!f) return;
    char line[512];
    int n = 0, start = 0, longest = 0, in = 0;
    while (fgets(line, sizeof line, f)) {
        n++;
        if (!in && line[0] == '{')
            in = 1, start = n;
        else if (in && line[0] == '}') {
            in = 0;
            if (n - start + 1 > longest) longest = n - start + 1;
        }
    }
    fclose(f);
    if (longest > 60) printf("    longest function body: %d lines\n", longest);
    CHECK(longest > 0 && longest <= 60);
}

int main(void)
{
    RUN(missing_fields_rejected_as_text);
    RUN(workspace_checked_before_admit);
    RUN(help_counted_not_audited);
    RUN(bad_command_names_the_error);
    RUN(authorize_steps);
    RUN(lock_busy_and_stopping);
    RUN(field_too_long_rejected);
    RUN(ack_messages);
    RUN(http_verify_and_decode);
    RUN(ssl_check_exact);
    RUN(job_outcomes);
    RUN(route_functions_short);
    return t_done();
}
