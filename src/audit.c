#include "audit.h"

#include <stdarg.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include "json.h"

void audit_now(char *buf, unsigned long cap)
{
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    snprintf(buf, cap, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ", tm.tm_year + 1900, tm.tm_mon + 1,
             tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000);
}

/* One write(2) per line so a reader never sees half a record. */
static void emit(struct jw *w)
{
    if (jw_finish(w) < 0) return;
    w->buf[w->len] = '\n';
    size_t n = w->len + 1, off = 0;
    while (off < n) {
        ssize_t r = write(1, w->buf + off, n - off);
        if (r <= 0) return;
        off += (size_t)r;
    }
}

static void kopt(struct jw *w, const char *k, const char *v)
{
    if (v) jw_kstr(w, k, v);
}

void audit_write(const struct audit *a)
{
    char buf[4096], ts[40];
    struct jw w;
    audit_now(ts, sizeof ts);
    jw_init(&w, buf, sizeof buf - 1);
    jw_obj_begin(&w);
    jw_kstr(&w, "ts", ts);
    jw_kstr(&w, "log", "audit");
    kopt(&w, "event", a->event);
    kopt(&w, "team_id", a->team_id);
    kopt(&w, "user_id", a->user_id);
    kopt(&w, "user_name", a->user_name);
    kopt(&w, "channel_id", a->channel_id);
    kopt(&w, "command", a->command);
    kopt(&w, "target", a->target);
    kopt(&w, "image", a->image);
    if (a->job > 0) jw_kint(&w, "job", a->job);
    kopt(&w, "result", a->result);
    kopt(&w, "error", a->error);
    kopt(&w, "reply", a->reply);
    if (a->duration_ms >= 0) jw_kint(&w, "duration_ms", a->duration_ms);
    if (a->exit_status >= 0) jw_kint(&w, "exit_status", a->exit_status);
    kopt(&w, "peer", a->peer);
    jw_obj_end(&w);
    emit(&w);
}

void log_line(const char *level, const char *msg, ...)
{
    char buf[4096], ts[40];
    struct jw w;
    audit_now(ts, sizeof ts);
    jw_init(&w, buf, sizeof buf - 1);
    jw_obj_begin(&w);
    jw_kstr(&w, "ts", ts);
    jw_kstr(&w, "level", level);
    jw_kstr(&w, "msg", msg);
    va_list ap;
    va_start(ap, msg);
    const char *k;
    while ((k = va_arg(ap, const char *))) {
        const char *v = va_arg(ap, const char *);
        kopt(&w, k, v);
    }
    va_end(ap);
    jw_obj_end(&w);
    emit(&w);
}
