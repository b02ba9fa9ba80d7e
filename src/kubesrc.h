/* Where the Kubernetes API server and credentials come from, for the
 * service and the command line: KUBE_API_URL (with KUBE_TOKEN_FILE,
 * KUBE_CA_FILE, KUBE_TLS_SERVER_NAME) overrides all; else the kubeconfig
 * (--kubeconfig, KUBECONFIG, in-cluster service account, ~/.kube/config). */
#ifndef KUBESRC_H
#define KUBESRC_H

#include <stddef.h>

#include "app.h"
#include "kube.h"

/* At startup, after config_load: with KUBE_API_URL unset, load the
 * kubeconfig (flag: --kubeconfig or NULL; context: --context or NULL) into
 * a->kc, set a->cfg.kube_api_url and kube_server_name from it and its CA
 * into a->kube_ca (the system roots when it names none). A client
 * certificate held in the kubeconfig is checked here. Leaves the
 * in-cluster settings when that is the source. 0, or -1 with err. */
int kubesrc_resolve(struct app *a, const char *flag, const char *context, char *err, size_t errlen);

/* Trust anchors the children will use, parsed once at startup: the API
 * server's (KUBE_CA_FILE, unless the kubeconfig gave them) and, with
 * need_slack, SLACK_CA_FILE's. 0, or -1 with err naming the variable. */
int kubesrc_anchors(struct app *a, int need_slack, char *err, size_t errlen);

/* In a job (child or CLI): put the kubeconfig's credentials and proxy-url
 * into k (after worker_kube_cfg): an
 * exec plugin runs here, never in the parent; a client certificate
 * (the kubeconfig's or the plugin's) is parsed into static storage, both
 * once per process (later calls reuse them). 0, or -1 with err. Nothing to
 * do without a kubeconfig. */
int kubesrc_job_creds(const struct app *a, struct kube_cfg *k, char *err, size_t errlen);

#endif
