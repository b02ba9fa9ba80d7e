/* What a forked job does (child side), and the same operations for the
 * command line: run a command against the Kubernetes API, then tell Slack. */
#ifndef WORKER_H
#define WORKER_H

#include "app.h"
#include "jobs.h"
#include "kube.h"

/* Fill k from the configuration (and the trust anchors the parent loaded).
 * -1 with err when KUBE_API_URL does not parse. */
int worker_kube_cfg(const struct app *a, struct kube_cfg *k, char *err, size_t errlen);

/* Options for HTTPS to Slack and response_urls: SLACK_CA_FILE's anchors,
 * HTTPS_PROXY/NO_PROXY, IO_TIMEOUT. */
void worker_slack_opts(const struct app *a, struct httpc_opts *o);

/* Run spec's command; returns 0 on success, -1 on failure; res filled
 * either way. ui (may be NULL) says how to talk while it runs (kube.h). */
int worker_run_command(const struct app *a, const struct job_spec *spec, const struct kube_ui *ui,
                       struct kube_result *res);

/* The job child: drop what it does not need (the parent's connection
 * buffers, replay table, policy, Slack secrets), run the command, write the
 * JOB_REC_RESULT record on result_fd, post the result to the response_url,
 * write the JOB_REC_REPLY record, exit. Never returns. */
void worker_child(void *arg, const struct job *job, int result_fd);

/* A notice child (not in the job table): post text to spec's response_url
 * and exit. Used when a job died without reporting. Never returns. */
void worker_notice(struct app *a, const struct job_spec *spec, const char *text);

#endif
