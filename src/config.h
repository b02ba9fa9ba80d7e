/* Configuration: the environment (DESIGN.md contract) read into one struct
 * and checked once at startup. One table (config_settings) lists every
 * setting; it drives the checks, the startup description (secrets redacted)
 * and README's configuration table (test/unit/test_config.c compares them). */
#ifndef CONFIG_H
#define CONFIG_H

#include <stddef.h>
#include <sys/socket.h>

#include "limits.h"

#define CONFIG_MAX_LIST 32 /* entries in a comma list (namespaces, teams, hosts) */

struct config {
    /* serve */
    char listen_addr[128];
    struct sockaddr_storage listen; /* parsed from listen_addr */
    socklen_t listen_len;
    int max_conns, header_timeout, keepalive_timeout, shutdown_grace, max_jobs;

    /* Slack */
    char *signing_secret; /* never logged; NULL when unset */
    size_t signing_secret_len;
    char *verification_token; /* legacy; NULL unless set; never logged */
    /* Socket Mode: on when app_token is set (SLACK_APP_TOKEN[_FILE]). */
    char *app_token; /* xapp-…; never logged; NULL in HTTP mode */
    char slack_api_url[256];
    int socket_connections;
    char team_ids[CONFIG_MAX_LIST][SLACK_ID_MAX + 1];
    int nteam_ids;
    char slack_ca_file[256];
    char response_url_hosts[512]; /* comma list of host[:port], each checked */

    /* what may be touched */
    char image_base[512]; /* comma list of repository prefixes, no scheme, no
                           * trailing '/'; "" = any the container already runs */
    char default_ns[K8S_NS_MAX + 1];
    char namespaces[CONFIG_MAX_LIST][K8S_NS_MAX + 1];
    int nnamespaces;
    char policy_file[256]; /* "" when unset */

    /* Kubernetes */
    char kube_api_url[512]; /* "" when neither KUBE_API_URL nor in-cluster: kubesrc.c fills
                               it from the kubeconfig */
    char kubeconfig[4096];  /* KUBECONFIG, a colon list; "" when unset */
    char kube_token_file[256];
    char kube_ca_file[256];
    char kube_server_name[256];
    int rollout_timeout;    /* 0: derived from the deployment */
    int job_timeout;        /* hard deadline of a job child (JOB_TIMEOUT) */
    int progress_after;     /* s into a rollout for its Slack progress post, 0: none */
    int auto_rollback;      /* AUTO_ROLLBACK=1: a failed deploy is rolled back */
    char gitops_managed[8]; /* GITOPS_MANAGED: "warn" or "refuse" */

    /* the lock across replicas (lease.h) */
    char lease_namespace[K8S_NS_MAX + 1]; /* "" outside a cluster: locks stay in-process */
    char pod_name[254];                   /* POD_NAME, else the hostname: the Lease holder */
    int lease_duration;                   /* LEASE_DURATION s; renewed every third */

    /* egress */
    char https_proxy[512]; /* http://host:port, never with credentials */
    char no_proxy[512];

    /* front door */
    char trusted_proxies[512]; /* comma list of CIDRs ("" = none) */
};

enum config_mode {
    CONFIG_SERVE, /* needs the signing secret or an app token, and the kube API */
    CONFIG_CLI,   /* needs the kube API */
};

/* How a setting's value is stored in struct config. */
enum setting_kind {
    SETTING_TEXT,   /* char field[size]; the whole value */
    SETTING_INT,    /* int field; decimal in [lo, hi] */
    SETTING_LIST,   /* char field[hi][size] + int count at count_off; comma list */
    SETTING_SECRET, /* char *field (malloc'd, NULL when unset); never shown */
};

#define SETTING_FILE 1u /* NAME_FILE may name a file holding the value instead */
#define SETTING_EACH 2u /* SETTING_TEXT holding a comma list: ok checks each entry */

/* One row per environment variable. The validator sees the value copied into
 * its field (a list: each entry), may normalize it in place, and returns 0,
 * or -1 with why (a short reason that never repeats a secret). */
/* README's columns are only read by the test that checks README's table
 * against this table (host builds define CONFIG_DOCS); the shipped binary
 * leaves them out (about 4 KiB). */
#ifdef CONFIG_DOCS
#define SETTING_DOC(s) s
#else
#define SETTING_DOC(s) NULL
#endif

struct setting {
    const char *name;  /* environment variable */
    const char *alias; /* another name read when name is unset, or NULL */
    enum setting_kind kind;
    size_t off, size; /* the field: offsetof, and text/slot capacity */
    size_t count_off; /* SETTING_LIST: offsetof its int count */
    long lo, hi;      /* SETTING_INT bounds; SETTING_LIST: hi = max entries */
    const char *def;  /* value when unset; NULL = unset */
    int (*ok)(char *value, char *why, size_t whylen);
    unsigned flags;          /* SETTING_FILE */
    const char *doc_default; /* README's "default" column (NULL in the shipped binary) */
    const char *meaning;     /* README's "meaning" column (NULL in the shipped binary) */
};

extern const struct setting config_settings[];
extern const size_t config_nsettings;

/* Read the environment into c. Returns 0, or -1 with err naming the
 * variable and what is wrong with it (one line, never a secret's value). */
int config_load(struct config *c, enum config_mode mode, char *err, size_t errlen);

/* In a forked child: wipe and free the Slack secrets the child has no use
 * for, in c and in the environment block (the child's copy-on-write copy):
 * the signing secret and the legacy token always, the app token unless
 * keep_app_token (the socket child). */
void config_forget_secrets(struct config *c, int keep_app_token);

/* 1 when ns is in DEPLOY_NAMESPACES. */
int config_namespace_allowed(const struct config *c, const char *ns);
/* 1 when SLACK_TEAM_ID is unset or team is in it. */
int config_team_allowed(const struct config *c, const char *team);

/* Parse "host:port", "[v6]:port" or ":port" into a socket address; -1 when malformed. */
int config_parse_addr(const char *s, struct sockaddr_storage *ss, socklen_t *len);

struct jw;
/* The effective configuration as JSON members of the object open in w, one
 * per setting keyed by its lowercased name; secrets appear only as
 * "set"/"unset". */
void config_describe(const struct config *c, struct jw *w);

/* README's row for setting s ("| `NAME` | default | meaning |") into out;
 * the length, or -1 when it does not fit. */
int config_doc_row(const struct setting *s, char *out, size_t cap);

#endif
