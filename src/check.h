/* `deploy-api check`: a preflight for operators. Loads the configuration,
 * reaches the API server (TLS and credentials), asks it with
 * SelfSubjectAccessReview whether these credentials may get, list, watch
 * and patch deployments and list replicasets and pods in each
 * DEPLOY_NAMESPACES namespace, and opens TLS to each RESPONSE_URL_HOSTS
 * host (and to SLACK_API_URL when Socket Mode is configured); with no
 * SLACK_* variable set (a shell on a node) the Slack checks are skipped
 * and IMAGE_BASE is not required. One line per
 * check on stdout: "OK   what" or "FAIL what: why; what to do". */
#ifndef CHECK_H
#define CHECK_H

#include "app.h"
#include "cli.h"

/* Run every check; returns the exit status: 0 when all pass, else 1. */
int check_run(struct app *a, const struct cli *c);

#endif
