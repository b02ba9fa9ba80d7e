/* Logs and the audit trail: one JSON object per line on stdout, each
 * starting {"ts": RFC 3339 UTC, "level": "info"|"warn"|"error", "log":
 * "audit"|"server", ...}: audit lines say who did what (level info), server
 * lines what the service itself does. Only the parent writes here, so
 * lines never interleave. */
#ifndef AUDIT_H
#define AUDIT_H

struct audit {
    const char *event; /* "accepted", "refused", "job_end", "rejected" */
    const char *team_id, *user_id, *user_name, *channel_id;
    const char *command; /* verb: deploy, status, ... */
    const char *target;  /* namespace/deployment */
    const char *image;
    const char *result; /* accepted, ok, failed, killed, ... */
    const char *error;
    const char *reply;       /* what happened to the response_url post */
    long job;                /* 0 when no job */
    long long duration_ms;   /* -1 when not applicable */
    int exit_status;         /* -1 when not applicable */
    const char *peer;        /* the connection's peer address */
    const char *client;      /* the client behind TRUSTED_PROXIES (X-Forwarded-For), or NULL */
    const char *via;         /* "socket" for Socket Mode envelopes; NULL for HTTP */
    const char *envelope_id; /* Socket Mode */
};

/* Write one audit line; NULL fields are left out. */
void audit_write(const struct audit *a);
/* Write a server line {"ts","level","log":"server","msg"} plus optional
 * key/value string pairs (NULL-terminated list: key, value, ..., NULL; a NULL
 * value leaves its key out). */
void log_line(const char *level, const char *msg, ...);
/* log_line with one more member, key: json, where json is a complete JSON
 * value written by jw (the startup configuration object), put in as is. */
void log_json(const char *level, const char *msg, const char *key, const char *json, ...);
/* Lines dropped because stdout's reader fell AUDIT_QUEUE bytes behind, or
 * because one did not fit its line buffer (never written cut). */
extern unsigned long long audit_lines_dropped;
/* 1 while lines wait for stdout to take them. */
int audit_pending(void);
/* Write queued lines as far as stdout takes them without blocking. */
void audit_flush(void);
/* Before exit: keep flushing for at most timeout_ms. */
void audit_drain(int timeout_ms);
/* RFC 3339 UTC time with milliseconds into buf (at least 32 bytes). */
void audit_now(char *buf, unsigned long cap);

#endif
