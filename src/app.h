/* The whole service as one struct: what main wires together and the route
 * and worker functions read. */
#ifndef APP_H
#define APP_H

#include "config.h"
#include "jobs.h"
#include "loop.h"
#include "route.h"
#include "server.h"
#include "socksup.h"
#include "tls.h"

struct replay;
struct kubeconfig;
struct policy;

struct app {
    struct config cfg;
    struct loop loop;
    struct server srv;
    struct jobs jobs;
    struct replay *replay;
    struct policy *policy;      /* NULL when DEPLOY_POLICY_FILE is unset */
    struct tls_anchors kube_ca; /* empty for an http:// KUBE_API_URL */
    struct kubeconfig *kc;      /* the API server and credentials when a kubeconfig gives them
                                   (KUBE_API_URL unset); NULL otherwise */
    struct tls_anchors slack_ca;
    struct socksup sock;        /* Socket Mode (cfg.app_token set) */
    int ready;                  /* configuration and trust anchors loaded */
    int output_json;            /* CLI -o json: status and history answer in JSON */
    int stopping;               /* SIGTERM seen */
    long long stop_deadline_ms; /* when running jobs get killed */
    long long exit_deadline_ms; /* how long exit waits for notice children */
};

#endif
