/* Configuration: the environment (DESIGN.md contract) read into one struct
 * and checked once at startup. */
#ifndef CONFIG_H
#define CONFIG_H

#include <stddef.h>
#include <sys/socket.h>

#include "limits.h"

#define CONFIG_MAX_LIST 32 /* entries in a comma list (namespaces, teams, hosts) */

struct config {
    /* serve */
    char listen_addr[128];
    struct sockaddr_storage listen;
    socklen_t listen_len;
    int max_conns, header_timeout, keepalive_timeout, shutdown_grace, max_jobs;

    /* Slack */
    char *signing_secret; /* never logged */
    size_t signing_secret_len;
    char *verification_token; /* legacy; NULL unless set; never logged */
    char team_ids[CONFIG_MAX_LIST][SLACK_ID_MAX + 1];
    int nteam_ids;
    char slack_ca_file[256];
    char response_url_hosts[512];

    /* what may be touched */
    char image_base[512]; /* IMAGE_BASE allow-list (comma list of prefixes), "" = any */
    char default_ns[K8S_NS_MAX + 1];
    char namespaces[CONFIG_MAX_LIST][K8S_NS_MAX + 1];
    int nnamespaces;
    char policy_file[256]; /* "" when unset */

    /* Kubernetes */
    char kube_api_url[512];
    char kube_token_file[256];
    char kube_ca_file[256];
    char kube_server_name[256];
    int rollout_timeout; /* 0: per deployment (progressDeadlineSeconds + margin) */
    int job_timeout;     /* hard deadline of a job child (JOB_TIMEOUT) */
    int auto_rollback;   /* AUTO_ROLLBACK=1 */
    int gitops_refuse;   /* GITOPS_MANAGED=refuse (default warn) */

    /* egress */
    char https_proxy[512];
    char no_proxy[512];
};

enum config_mode {
    CONFIG_SERVE, /* needs the signing secret and the kube API */
    CONFIG_CLI,   /* needs the kube API */
};

/* Read the environment into c. Returns 0, or -1 with err naming the
 * variable and what is wrong with it (one line, never a secret's value). */
int config_load(struct config *c, enum config_mode mode, char *err, size_t errlen);

/* 1 when ns is in DEPLOY_NAMESPACES. */
int config_namespace_allowed(const struct config *c, const char *ns);
/* 1 when SLACK_TEAM_ID is unset or team is in it. */
int config_team_allowed(const struct config *c, const char *team);

/* Parse "host:port", "[v6]:port" or ":port" into a socket address; -1 when malformed. */
int config_parse_addr(const char *s, struct sockaddr_storage *ss, socklen_t *len);

struct jw;
/* The effective configuration as JSON members of the object open in w;
 * secrets appear only as "set"/"unset". */
void config_describe(const struct config *c, struct jw *w);

#endif
