/* Progress of a rollout for the CLI (stderr lines) and Slack (one post). */
#include "progress.h"

#include <string.h>

#include "kpods.h"
#include "respond.h"
#include "sb.h"

void progress_cli(void *arg, const struct kube_progress *p)
{
    FILE *f = arg;
    if (p->due) return; /* nothing new: the line was already written */
    fprintf(f, "%s\n", p->msg);
    fflush(f);
}

void progress_text(char *out, size_t cap, const struct kube_progress *p, const char *why)
{
    struct sb b;
    sb_init(&b, out, cap);
    sb_add(&b, ":hourglass_flowing_sand: %s/%s is still rolling out after %lld s: %s", p->ns,
           p->name, p->elapsed_ms / 1000, p->msg);
    if (why && *why) sb_add(&b, "\n%s", why);
}

void progress_slack(void *arg, const struct kube_progress *p)
{
    struct progress_slack *s = arg;
    char why[1500], text[2048];
    if (!p->due || s->posted || respond_posts_left() <= RESPONSE_URL_FINAL) return;
    if (kpods_diagnose(p->j, p->ns, p->name, why, sizeof why) < 0) why[0] = 0;
    progress_text(text, sizeof text, p, why);
    s->posted = 1;
    s->post(s->ctx, text);
}
