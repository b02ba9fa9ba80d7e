/* The whole service as one struct: what main wires together and the route
 * and worker functions read. */
#ifndef APP_H
#define APP_H

#include "config.h"
#include "jobs.h"
#include "loop.h"
#include "server.h"
#include "socksup.h"
#include "tls.h"

struct replay;
struct policy;

struct app {
    struct config cfg;
    struct loop loop;
    struct server srv;
    struct jobs jobs;
    struct replay *replay;
    struct policy *policy;      /* NULL when DEPLOY_POLICY_FILE is unset */
    struct tls_anchors kube_ca; /* empty for an http:// KUBE_API_URL */
    struct tls_anchors slack_ca;
    struct socksup sock;        /* Socket Mode (cfg.app_token set) */
    int ready;                  /* configuration and trust anchors loaded */
    int stopping;               /* SIGTERM seen */
    long long stop_deadline_ms; /* when running jobs get killed */
    long long exit_deadline_ms; /* how long exit waits for notice children */
};

/* The route for every request (src/route.c). */
void route_request(struct server *s, struct conn *c, const struct http_request *r, const char *body,
                   size_t len);
/* Socket Mode: run an envelope through the same front door as POST
 * /deploy (authorize, lock, fork, audit with "via":"socket") and put the
 * answer into ack (src/route.c). */
void route_envelope(void *arg, const struct sockmsg_envelope *e, struct sockmsg_ack *ack);
/* Once a second: flush the count of rate-limited audit lines (src/route.c). */
void route_tick(long long now_s);
/* Account for a finished job: audit line, metrics, a notice to Slack when it
 * died without reporting (src/route.c). */
void route_job_done(void *arg, struct job *job, int wstatus, const char *result, long long now_ms);

#endif
