/* What a job says while a rollout runs (kube_ui.progress callbacks): on
 * the command line kubectl rollout status's lines on stderr as the counts
 * change; in Slack one post when the rollout is still going after
 * PROGRESS_AFTER seconds, with what the new pods are waiting on. */
#ifndef PROGRESS_H
#define PROGRESS_H

#include <stdio.h>

#include "kube.h"

/* kube_ui.progress for the CLI: arg is the FILE * (stderr) to write
 * p->msg and a newline to. */
void progress_cli(void *arg, const struct kube_progress *p);

/* The Slack side: post (returns 0 when delivered) is called at most once,
 * on the due call, when respond_posts_left() > RESPONSE_URL_FINAL (the
 * final post keeps its retries), with the text not yet escaped for Slack. */
struct progress_slack {
    int (*post)(void *ctx, const char *text);
    void *ctx;
    int posted; /* 1 once the post was made */
};

/* kube_ui.progress for Slack: arg is a struct progress_slack. */
void progress_slack(void *arg, const struct kube_progress *p);

/* The progress post's text: "still rolling out after N s: MSG" and, when
 * why is not empty, the new pods' state on the lines after. */
void progress_text(char *out, size_t cap, const struct kube_progress *p, const char *why);

#endif
