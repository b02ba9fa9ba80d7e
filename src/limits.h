/* Every fixed limit of deploy-api, with why it has that size. */
#ifndef LIMITS_H
#define LIMITS_H

/* HTTP server (src/http, src/loop). */
#define HTTP_MAX_HEAD 8192        /* request line + headers; past it: 431. Slack sends ~1.5 KiB. */
#define HTTP_MAX_HEADERS 48       /* header fields; past it: 431. Slack sends ~15. */
#define HTTP_MAX_BODY 16384       /* request body; past it: 413. A slash command form is < 2 KiB. */
#define HTTP_MAX_RESPONSE 16384   /* one response, head + body (metrics, help). */
#define CONN_MAX_DEFAULT 1024     /* open client connections (MAX_CONNS). */
#define HEADER_TIMEOUT_DEFAULT 10 /* s to send a full request (HEADER_TIMEOUT). */
#define KEEPALIVE_TIMEOUT_DEFAULT                                                                  \
    5                             /* s an idle keep-alive connection is kept (KEEPALIVE_TIMEOUT). */
#define WRITE_TIMEOUT 10          /* s a client may take to read its response. */
#define ACCEPT_PAUSE_MS 250       /* ms the listener rests after EMFILE/ENFILE (one tick). */
#define AUDIT_QUEUE 65536         /* log bytes held while stdout's reader lags (~150 lines). */
#define SHUTDOWN_GRACE_DEFAULT 25 /* s SIGTERM waits for jobs (SHUTDOWN_GRACE). */
#define SHUTDOWN_NOTICE_GRACE 5   /* s more for notices telling users their job was stopped. */

/* Slack (src/slack, src/form). */
#define SLACK_TS_MAX_DIGITS 15  /* digits in X-Slack-Request-Timestamp (Slack sends 10). */
#define SLACK_MAX_SKEW 300      /* s between X-Slack-Request-Timestamp and now, either way. */
#define REPLAY_SLOTS 4096       /* accepted signatures remembered for SLACK_MAX_SKEW s. */
#define FORM_MAX_FIELDS 32      /* fields in a slash-command form (Slack sends ~14). */
#define FORM_MAX_VALUE 4096     /* one decoded value; the body bound already caps it. */
#define CMD_MAX_TEXT 512        /* the command text a user typed. */
#define SLACK_ID_MAX 32         /* team/user/channel ids: T0123ABCD, U…, C… */
#define SLACK_NAME_MAX 96       /* user/channel display names, for messages only. */
#define REJECT_AUDIT_PER_SEC 20 /* audit lines a second for requests failing verification. */
#define RESPONSE_URL_MAX 512    /* response_url length. */

/* Kubernetes names and versions (DNS-1123 and image-tag rules). */
#define K8S_NAME_MAX 253 /* deployment names (DNS-1123 subdomain). */
#define K8S_NS_MAX 63    /* namespace names (DNS-1123 label). */
#define VERSION_MAX 128  /* an image tag; a digest is "sha256:" + 64 hex. */
#define IMAGE_MAX 512    /* IMAGE_BASE/deployment:version */

/* Policy (src/policy). */
#define POLICY_MAX_RULES 256  /* rules in DEPLOY_POLICY_FILE. */
#define POLICY_MAX_LINE 1024  /* one line of the policy file. */
#define POLICY_MAX_FILE 65536 /* the whole policy file. */

/* Jobs (src/jobs). */
#define MAX_JOBS_DEFAULT 16    /* concurrent children (MAX_JOBS). */
#define MAX_JOBS_LIMIT 256     /* upper bound accepted for MAX_JOBS. */
#define JOB_DEADLINE_SLACK 120 /* s a child may run past ROLLOUT_TIMEOUT before it is killed. */
#define ROLLOUT_TIMEOUT_DEFAULT 300 /* s followed while ROLLOUT_TIMEOUT is derived (0). */
#define ROLLOUT_TIMEOUT_MAX                                                                        \
    1680                      /* s: 28 min, so the result post fits in the 30 min a                \
                               * response_url lives. */
#define JOB_TIMEOUT_MAX 86400 /* s: upper bound accepted for JOB_TIMEOUT. */
#define ROLLOUT_MARGIN_S 60   /* s past progressDeadlineSeconds for the controller's verdict. */
#define ROLLOUT_DEADLINE_DEFAULT 600 /* progressDeadlineSeconds when a deployment has none. */
/* s a derived ROLLOUT_TIMEOUT may reach (the same bound as ROLLOUT_TIMEOUT's). */
#define ROLLOUT_TIMEOUT_CAP ROLLOUT_TIMEOUT_MAX
#define PROGRESS_AFTER_MAX                                                                         \
    1680 /* s: PROGRESS_AFTER (default 30) past ROLLOUT_TIMEOUT_MAX is moot. */
#define LEASE_DURATION_DEFAULT                                                                     \
    60 /* s a lock Lease lives unrenewed (LEASE_DURATION); renewed every third. */

/* Child I/O (src/tls, src/httpc, src/kube). */
#define IO_TIMEOUT 15                 /* s for connect, handshake, each read or write. */
#define HTTPC_MAX_RESPONSE (4u << 20) /* one kube response body (a ReplicaSet list). */
#define HTTPC_MAX_HEAD 16384          /* response status line + headers. */
#define TLS_MAX_ANCHORS 1024          /* trust anchors in one bundle (Debian's has ~140). */
#define TLS_EE_CERT_MAX 16384         /* a server certificate kept for its EKU check (~1-2 KiB). */
/* Kubernetes client (src/kube). */
#define KUBE_TOKEN_MAX 16384 /* bytes of the service-account token file (bound tokens ~1 KiB). */
#define KUBE_CAUSE_MAX 512   /* bytes of a kubernetes.io/change-cause we write. */
#define KUBE_MAX_TOKENS (1 << 19) /* JSON tokens of one kube response (4 MiB body / ~8 B). */
#define KUBE_WATCH_LINE (1 << 20) /* one watch event line (a Deployment with big annotations). */
#define KUBE_POLL_MS 2000         /* polling interval when the watch is unavailable. */
#define KUBE_CONFLICT_RETRIES 3   /* PATCH retries after 409 Conflict. */
#define KUBE_INIT_MAX 16          /* init containers moved with the chosen container. */
#define KUBE_API_RETRIES 3        /* retries after 429, or a GET's 5xx or broken answer. */
#define KUBE_RETRY_AFTER_MAX 10   /* s: cap on the API server's Retry-After. */
#define KUBE_RS_PAGE 25           /* ReplicaSets per list page: 25 x 150 KiB fits a response. */
#define KUBE_MAX_PAGES 200        /* pages of one list: 5,000 ReplicaSets of one deployment. */
#define KUBE_HISTORY_MAX 20       /* revisions /deploy history N shows: ~200 B a line in 4 KiB. */
#define KUBE_HISTORY_DEFAULT 10
#define KUBE_CONTINUE_MAX 4096 /* a list's continue token (base64 of a key; ~100 B). */
/* Slack response_url delivery (src/respond). */
#define RESPOND_BACKOFF_MAX 16     /* s: cap of the doubling backoff (1, 2, 4, 8, 16). */
#define RESPOND_RETRY_AFTER_MAX 60 /* s: cap on a 429's Retry-After. */
#define RESPOND_MAX_BODY 65536     /* bytes read of Slack's answer ("ok" or an error). */
#define RESPONSE_URL_POSTS 5       /* Slack allows 5 posts per response_url in 30 min. */
/* s a job may still run once its result is in: every post's connect, write
 * and read, and the longest wait between posts. */
#define RESPOND_BUDGET (RESPONSE_URL_POSTS * (3 * IO_TIMEOUT + RESPOND_RETRY_AFTER_MAX))
#define RESPONSE_URL_FINAL 2 /* posts kept for a job's final message (one retry). */

/* Socket Mode (src/ws, src/socket, src/socksup). */
#define WS_MAX_MESSAGE 65536   /* one WebSocket message; a slash-command envelope is ~3 KiB. */
#define WS_MAX_HANDSHAKE 8192  /* the server's 101 response head. */
#define SOCKET_CONNS_DEFAULT 2 /* connections kept open (SOCKET_MODE_CONNECTIONS). */
#define SOCKET_CONNS_MAX 8     /* upper bound accepted for SOCKET_MODE_CONNECTIONS. */
#define SOCKET_ACK_BUDGET_MS                                                                       \
    3000                            /* Slack's limit for an envelope's ack; later ones count late. \
                                     */
#define SOCKET_IDLE_MS 60000        /* a socket silent this long (no frame, no pong) is replaced. */
#define SOCKET_PING_MS 20000        /* we ping a socket silent this long. */
#define SOCKET_BACKOFF_MAX_MS 60000 /* cap of the doubling reconnect backoff (jittered). */
#define SOCKET_SEEN_IDS 1024      /* envelope ids remembered to ack retries without running them. */
#define SOCKET_ENVELOPE_ID_MAX 64 /* an envelope_id (Slack's are ~36: a UUID). */

#endif
