/* The front door as a pipeline: each step (verify, decode, parse,
 * authorize, lock, fork) returns a verdict, and one place turns a verdict
 * into the audit line, the metrics and the answer. Two front doors use it:
 * POST /deploy (route_request) and, through route_command, any channel that
 * hands over an already verified and decoded slash command (Socket Mode). */
#ifndef ROUTE_H
#define ROUTE_H

#include <stddef.h>

#include "http.h"
#include "jobs.h"
#include "metrics.h"

struct app;
struct server;
struct conn;

enum verdict_form {
    VERDICT_SLACK, /* message is shown by Slack: 200 + reply JSON (or the ack payload) */
    VERDICT_TEXT,  /* message is for a client that is not Slack: text/plain */
    VERDICT_EMPTY, /* no body at all (ssl_check) */
};

/* What a step decided. A step that lets the request go on leaves it alone
 * (status 0); one that stops it fills it. */
struct verdict {
    enum status status;   /* HTTP status of the answer; 0 = undecided */
    enum outcome outcome; /* counted in metrics, "result" of the audit line */
    const char *event;    /* audit event ("rejected", "refused", "accepted"); NULL: none */
    const char *reason;   /* audit "error"; NULL: none */
    enum verdict_form form;
    int in_channel;      /* VERDICT_SLACK: the whole channel sees it */
    int unverified;      /* audit rate-limited (REJECT_AUDIT_PER_SEC) */
    const char *command; /* verb, once parsed */
    char target[JOB_TARGET_MAX];
    char image[IMAGE_MAX];
    long job;             /* the job accepted, 0 when none */
    char message[2048];   /* what the user sees (Slack text) or the text/plain body */
    char reason_buf[256]; /* room for a reason made up on the spot */
};

/* A slash command as a front door hands it over: verified (signature,
 * token or authenticated socket) and decoded. Strings are NUL-terminated,
 * owned by the caller and read only during route_command; NULL = absent. */
struct cmd_input {
    const char *team_id, *user_id, *user_name, *channel_id, *channel_name;
    const char *text, *response_url;
    const char *peer;        /* the connection's peer address (audit "peer"), or NULL */
    const char *client;      /* the client address behind trusted proxies, or NULL */
    const char *via;         /* audit "via": "socket" for Socket Mode, NULL for HTTP */
    const char *envelope_id; /* Socket Mode: audit "envelope_id" */
    /* Called once the workspace is allowed and before anything is
     * dispatched: the front door's replay record (HTTP: the signature;
     * Socket Mode: the envelope_id). Returns 0 to go on, or -1 after filling
     * v. NULL: nothing to record. */
    int (*admit)(void *arg, struct verdict *v);
    void *admit_arg;
};

/* Run the command pipeline (workspace, admit, parse, authorize, response_url,
 * lock, fork, ack) for in; on return v holds the answer (the ack or the
 * refusal: v->message with v->form and v->in_channel) and its audit line
 * and metrics are written. Never blocks. */
void route_command(struct app *a, const struct cmd_input *in, struct verdict *v);

struct sockmsg_envelope;
struct sockmsg_ack;
/* The Socket Mode front door (socksup_envelope_fn; arg is the app): the
 * envelope through route_command, its envelope_id as the replay record (a
 * retry of one already handled is refused as a replay, not run again), the
 * verdict's message as the ack payload. */
void route_envelope(void *arg, const struct sockmsg_envelope *e, struct sockmsg_ack *ack);

/* The route for every HTTP request (the server's route function). */
void route_request(struct server *s, struct conn *c, const struct http_request *r, const char *body,
                   size_t len);
/* Once a second: flush the count of rate-limited audit lines. */
void route_tick(long long now_s);
/* A job's result record arrived (before its reply is posted): audit it. */
void route_job_result(void *arg, struct job *job, long long now_ms);
/* Account for a finished job: audit line, metrics, a notice to Slack when it
 * died without reporting. */
void route_job_done(void *arg, struct job *job, int wstatus, long long now_ms);

#endif
