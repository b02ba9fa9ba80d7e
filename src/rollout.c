/* Following a rollout: watch, 410 re-GET, polling fallback, deadlines. */
#include "rollout.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metrics.h"
#include "sb.h"

int rollout_timeout_for(const struct kube_cfg *k, const struct kdeploy *d)
{
    if (k->rollout_timeout_s > 0) return k->rollout_timeout_s;
    long long pds =
        d && d->progress_deadline_s > 0 ? d->progress_deadline_s : ROLLOUT_DEADLINE_DEFAULT;
    long long t = pds + ROLLOUT_MARGIN_S;
    return (int)(t > ROLLOUT_TIMEOUT_CAP ? ROLLOUT_TIMEOUT_CAP : t);
}

void rollout_take(struct rollout *f, const struct kdeploy *d)
{
    f->st = kdoc_rollout(d, &f->c, f->msg, sizeof f->msg);
    if (d->rv[0]) memcpy(f->rv, d->rv, sizeof f->rv);
    if (d->revision >= 0) f->rev = d->revision;
    /* A later generation with another image in our container: that change
     * replaced ours (GitOps self-heal, another deploy); never success. */
    const char *img = f->want.gen > 0 && f->st != ROLLOUT_ERROR && d->generation > f->want.gen
                          ? kdoc_image_of(d, f->want.container, 0)
                          : NULL;
    if (img && strcmp(img, f->want.image) != 0) {
        f->st = ROLLOUT_REPLACED;
        sb_clean_copy(f->by, sizeof f->by, img);
        snprintf(f->msg, sizeof f->msg, "the template was replaced by %.400s", f->by);
    }
}

void rollout_eval(struct rollout *f, const char *js, size_t n)
{
    struct kdeploy d;
    if (kdoc_deploy_parse(js, n, &d) < 0) {
        f->st = ROLLOUT_ERROR;
        snprintf(f->msg, sizeof f->msg, "the API server sent a malformed Deployment");
        return;
    }
    rollout_take(f, &d);
    kdoc_deploy_free(&d);
}

/* Tell the progress callback, if the line changed or its due time came. */
static void notify(struct kapi_job *j, const char *ns, const char *name, struct rollout *f)
{
    const struct kube_ui *ui = j->k->ui;
    if (!ui || !ui->progress || f->st != ROLLOUT_WAITING) return;
    long long el = kapi_now_ms() - j->t0;
    int due = ui->progress_after_s > 0 && !f->due_done && el >= ui->progress_after_s * 1000LL;
    if (!due && strcmp(f->shown, f->msg) == 0) return;
    f->due_done |= due;
    memcpy(f->shown, f->msg, sizeof f->shown);
    struct kube_progress p = {f->msg, &f->c, el, due, j, ns, name};
    ui->progress(ui->arg, &p);
}

/* The deadline, or the due time of the progress call when it comes first. */
static long long wake_at(const struct kapi_job *j, const struct rollout *f, long long deadline)
{
    const struct kube_ui *ui = j->k->ui;
    if (!ui || !ui->progress || ui->progress_after_s <= 0 || f->due_done) return deadline;
    long long due = j->t0 + ui->progress_after_s * 1000LL;
    /* past it already: the next event or re-read makes the call */
    return due < deadline && due > kapi_now_ms() ? due : deadline;
}

#define WATCH_MORE 2 /* watch_event: keep reading */

/* Apply one watch event line to f: WATCH_MORE, or watch_once's result. */
static int watch_event(struct kapi_job *j, struct rollout *f, const char *ns, const char *name,
                       const char *line, size_t n)
{
    size_t off, olen;
    switch (kdoc_watch_event(line, n, &off, &olen)) {
    case KEV_OBJECT:
        rollout_eval(f, line + off, olen);
        if (f->st == ROLLOUT_ERROR) return -1; /* not a Deployment: stop trusting this watch */
        notify(j, ns, name, f);
        return f->st == ROLLOUT_WAITING ? WATCH_MORE : 0; /* DONE, FAILED, REPLACED */
    case KEV_BOOKMARK:
        kdoc_resource_version(line + off, olen, f->rv, sizeof f->rv);
        return WATCH_MORE;
    case KEV_DELETED:
        f->st = ROLLOUT_FAILED;
        f->gone = 1;
        snprintf(f->msg, sizeof f->msg, "deployment %s/%s was deleted", ns, name);
        return 0;
    case KEV_EXPIRED:
        return 1;
    default:
        return -1;
    }
}

/* Read the events of an open watch until it ends; watch_once's result. */
static int watch_read(struct kapi_job *j, struct httpc_stream *s, const char *ns, const char *name,
                      long long deadline, struct rollout *f)
{
    char err[512];
    char *line = malloc(KUBE_WATCH_LINE);
    int ret = WATCH_MORE;
    if (!line) return -1;
    while (ret == WATCH_MORE) {
        long long left = deadline - kapi_now_ms();
        if (left <= 0) {
            ret = 0;
            break;
        }
        long n =
            kapi_read_line(s, line, KUBE_WATCH_LINE, (int)((left + 999) / 1000), err, sizeof err);
        if (n == 0) {
            ret = 0;
        } else if (n < 0) {
            ret = kapi_now_ms() >= deadline ? 0 : -1;
        } else {
            while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r')) n--;
            if (n > 0) ret = watch_event(j, f, ns, name, line, (size_t)n);
        }
    }
    free(line);
    return ret;
}

/* One watch from f->rv: 0 when it ended (closed, deadline or a final
 * state), 1 when the resourceVersion expired (410), -1 when the watch cannot
 * be used (fall back to polling). */
static int watch_once(struct kapi_job *j, const char *ns, const char *name, long long deadline,
                      struct rollout *f)
{
    char rest[1024], path[2048], err[512];
    struct sb b;
    int status = 0;
    long long left = deadline - kapi_now_ms();
    if (left <= 0) return 0;
    sb_init(&b, rest, sizeof rest);
    sb_add(&b, "deployments?watch=1&fieldSelector=metadata.name%%3D%s", name);
    if (f->rv[0]) {
        sb_add(&b, "&resourceVersion=");
        sb_urlenc(&b, f->rv);
    }
    sb_add(&b, "&timeoutSeconds=%lld", (left + 999) / 1000);
    if (b.full || kapi_path(path, sizeof path, &j->k->api, ns, rest) < 0) return -1;
    struct httpc_stream *s = kapi_watch_open(j, path, &status, err, sizeof err);
    if (!s) return -1;
    int ret = status == 410 ? 1 : status != 200 ? -1 : watch_read(j, s, ns, name, deadline, f);
    kapi_close(s);
    return ret;
}

#define KUBE_WATCH_REOPEN 32 /* watches opened per rollout before polling only */

void rollout_follow(struct kapi_job *j, const char *ns, const char *name,
                    const struct kdeploy *start, const struct rollout_want *w, struct rollout *f)
{
    struct rollout_want want;
    if (w)
        want = *w;
    else
        memset(&want, 0, sizeof want);
    if (want.timeout_s <= 0) want.timeout_s = rollout_timeout_for(j->k, start);
    long long deadline = j->t0 + (long long)want.timeout_s * 1000;
    int use_watch = 1, opened = 0;
    memset(f, 0, sizeof *f);
    f->want = want;
    f->rev = -1;
    rollout_take(f, start);
    notify(j, ns, name, f);
    /* ROLLOUT_ERROR: an answer that was not a Deployment; read it again. */
    while ((f->st == ROLLOUT_WAITING || f->st == ROLLOUT_ERROR) && kapi_now_ms() < deadline) {
        if (use_watch && opened < KUBE_WATCH_REOPEN) {
            opened++;
            int r = watch_once(j, ns, name, wake_at(j, f, deadline), f);
            if (f->st == ROLLOUT_DONE || f->st == ROLLOUT_FAILED || f->st == ROLLOUT_REPLACED)
                break;
            if (r < 0) use_watch = 0;
            if (r < 0 && kapi_now_ms() < deadline) {
                long long left = deadline - kapi_now_ms();
                kapi_sleep_ms((long)(left < KUBE_POLL_MS ? left : KUBE_POLL_MS));
            }
        } else {
            long long left = deadline - kapi_now_ms();
            if (left <= 0) break;
            kapi_sleep_ms((long)(left < KUBE_POLL_MS ? left : KUBE_POLL_MS));
        }
        if (kapi_now_ms() >= deadline) break;
        /* re-list: fresh state and resourceVersion for the next watch */
        struct kube_result scratch;
        struct httpc_resp r;
        int got = kapi_get_deploy(j, ns, name, &r, &scratch);
        if (got < 0) {
            if (got == KAPI_NOT_FOUND) {
                f->st = ROLLOUT_FAILED;
                f->gone = 1;
                sb_clean_copy(f->msg, sizeof f->msg, scratch.error);
                break;
            }
            continue; /* transient: keep trying until the deadline */
        }
        f->rv[0] = 0;
        rollout_eval(f, r.body, r.len);
        kapi_free(&r);
        notify(j, ns, name, f);
    }
    /* A watch that hung until the deadline saw nothing: look once more so
     * the report states what is true now, not what the last event said. */
    if (f->st == ROLLOUT_WAITING || f->st == ROLLOUT_ERROR) {
        struct kube_result scratch;
        struct httpc_resp r;
        if (kapi_get_deploy(j, ns, name, &r, &scratch) == 0) {
            rollout_eval(f, r.body, r.len);
            kapi_free(&r);
        }
    }
}

int rollout_report(struct kapi_job *j, const struct rollout *f, struct kube_result *res,
                   const char *done_what, const char *fail_what)
{
    long long ms = kapi_now_ms() - j->t0;
    char rev[48] = "", now[48] = "";
    if (f->rev >= 0) {
        res->revision = f->rev;
        snprintf(rev, sizeof rev, " (revision %ld)", f->rev);
        snprintf(now, sizeof now, ", now revision %ld", f->rev);
    }
    res->rollout = f->st == ROLLOUT_DONE       ? ROLLOUT_R_DONE
                   : f->st == ROLLOUT_WAITING  ? ROLLOUT_R_TIMEOUT
                   : f->st == ROLLOUT_FAILED   ? ROLLOUT_R_FAILED
                   : f->st == ROLLOUT_REPLACED ? ROLLOUT_R_REPLACED
                                               : ROLLOUT_R_UNKNOWN;
    if (f->st == ROLLOUT_DONE) {
        res->ok = 1;
        res->outcome = KUBE_DONE;
        snprintf(res->text, sizeof res->text,
                 "%s%s: %lld/%lld replicas updated and available in %lld.%llds", done_what, now,
                 f->c.updated, f->c.desired, ms / 1000, (ms % 1000) / 100);
        return 0;
    }
    res->ok = 0;
    res->outcome = KUBE_FAILED;
    if (f->st == ROLLOUT_REPLACED) {
        res->outcome = KUBE_REPLACED;
        snprintf(res->error, sizeof res->error, "replaced by %.400s", f->by);
        snprintf(res->text, sizeof res->text,
                 "%s was replaced by a later change before its rollout completed: the template "
                 "now runs %s",
                 fail_what, f->by);
        return -1;
    }
    if (f->st == ROLLOUT_WAITING) {
        int t = f->want.timeout_s > 0 ? f->want.timeout_s : j->k->rollout_timeout_s;
        res->outcome = KUBE_PENDING;
        snprintf(res->error, sizeof res->error, "still rolling out after %d s", t);
        snprintf(res->text, sizeof res->text, "%s%s is still rolling out after %d s (%s)",
                 fail_what, rev, t, f->msg);
        return -1;
    }
    sb_clean_copy(res->error, sizeof res->error, f->msg);
    if (f->st == ROLLOUT_ERROR) /* the change was accepted; its outcome is unknown */
        snprintf(res->text, sizeof res->text,
                 "%s: the change was sent but its rollout could not be followed: %s", fail_what,
                 f->msg);
    else
        snprintf(res->text, sizeof res->text, "%s failed%s: %s", fail_what, rev, f->msg);
    return -1;
}
