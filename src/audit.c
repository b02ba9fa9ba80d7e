#include "audit.h"

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "json.h"
#include "limits.h"
#include "loop.h"

void audit_now(char *buf, unsigned long cap)
{
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    snprintf(buf, cap, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ", tm.tm_year + 1900, tm.tm_mon + 1,
             tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000);
}

/* Lines stdout's reader has not taken yet. In serve mode stdout is
 * non-blocking, so a reader that stops reading cannot stall the loop: lines
 * wait here, and past AUDIT_QUEUE whole lines are dropped and counted. */
static char queue[AUDIT_QUEUE];
static size_t qlen;
static unsigned long long dropped_now;
unsigned long long audit_lines_dropped;

static void put_line(const char *p, size_t n)
{
    if (qlen == 0) {
        /* Nothing queued: write now; whatever is left (at most one line,
         * far below AUDIT_QUEUE) is queued whole, so lines stay in order. */
        while (n) {
            ssize_t r = write(1, p, n);
            if (r > 0) {
                p += r;
                n -= (size_t)r;
            } else if (r < 0 && errno == EINTR) {
                continue;
            } else if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
                break;
            } else {
                audit_lines_dropped++; /* stdout gone (EPIPE, EBADF): nothing to do */
                return;
            }
        }
        if (n == 0) return;
    }
    if (n > sizeof queue - qlen) {
        dropped_now++;
        audit_lines_dropped++;
        return;
    }
    memcpy(queue + qlen, p, n);
    qlen += n;
}

int audit_pending(void)
{
    return qlen > 0;
}

void audit_flush(void)
{
    size_t off = 0;
    while (off < qlen) {
        ssize_t r = write(1, queue + off, qlen - off);
        if (r > 0) {
            off += (size_t)r;
        } else if (r < 0 && errno == EINTR) {
            continue;
        } else if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            break;
        } else {
            qlen = off = 0; /* stdout gone */
            break;
        }
    }
    memmove(queue, queue + off, qlen - off);
    qlen -= off;
    if (qlen == 0 && dropped_now) {
        char msg[96];
        snprintf(msg, sizeof msg, "%llu log lines dropped: stdout was not being read", dropped_now);
        dropped_now = 0;
        log_line("warn", msg, NULL);
    }
}

void audit_drain(int timeout_ms)
{
    long long end = loop_clock_ms() + timeout_ms;
    while (qlen) {
        long long left = end - loop_clock_ms();
        if (left <= 0) return;
        struct pollfd p = {1, POLLOUT, 0};
        if (poll(&p, 1, (int)left) < 0 && errno != EINTR) return;
        if (p.revents & (POLLERR | POLLHUP | POLLNVAL)) return;
        audit_flush();
    }
}

/* One line per write(2) where the reader keeps up, so it never sees half a record. */
static void emit(struct jw *w)
{
    if (jw_finish(w) < 0) { /* too long for its buffer: dropped whole, and counted */
        audit_lines_dropped++;
        return;
    }
    w->buf[w->len] = '\n';
    put_line(w->buf, w->len + 1);
}

static void kopt(struct jw *w, const char *k, const char *v)
{
    if (v) jw_kstr(w, k, v);
}

/* Start a line: {"ts": now, "level": level, "log": log, ... (one byte
 * kept for the newline). Every line, audit or not, starts this way. */
static void line_begin(struct jw *w, char *buf, size_t cap, const char *level, const char *log)
{
    char ts[40];
    audit_now(ts, sizeof ts);
    jw_init(w, buf, cap - 1);
    jw_obj_begin(w);
    jw_kstr(w, "ts", ts);
    jw_kstr(w, "level", level);
    jw_kstr(w, "log", log);
}

void audit_write(const struct audit *a)
{
    char buf[4096];
    struct jw w;
    line_begin(&w, buf, sizeof buf, "info", "audit");
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
    kopt(&w, "client", a->client);
    kopt(&w, "via", a->via);
    kopt(&w, "envelope_id", a->envelope_id);
    jw_obj_end(&w);
    emit(&w);
}

static void vlog(const char *level, const char *msg, const char *jkey, const char *json, va_list ap)
{
    char buf[8192]; /* room for the startup configuration (4 KiB) and the rest */
    struct jw w;
    line_begin(&w, buf, sizeof buf, level, "server");
    jw_kstr(&w, "msg", msg);
    const char *k;
    while ((k = va_arg(ap, const char *))) {
        const char *v = va_arg(ap, const char *);
        kopt(&w, k, v);
    }
    if (jkey && json) {
        jw_key(&w, jkey);
        jw_raw(&w, json, strlen(json));
    }
    jw_obj_end(&w);
    emit(&w);
}

void log_line(const char *level, const char *msg, ...)
{
    va_list ap;
    va_start(ap, msg);
    vlog(level, msg, NULL, NULL, ap);
    va_end(ap);
}

void log_json(const char *level, const char *msg, const char *key, const char *json, ...)
{
    va_list ap;
    va_start(ap, json);
    vlog(level, msg, key, json, ap);
    va_end(ap);
}
