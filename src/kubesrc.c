/* The kube API's source for the app (KUBE_API_URL, kubeconfig, in-cluster)
 * and each job's credentials from it. */
#include "kubesrc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "execcred.h"
#include "kubeconfig.h"
#include "str.h"

/* Where the API server and credentials come from: KUBE_API_URL (with its
 * token and CA variables) overrides all; else the kubeconfig (--kubeconfig,
 * KUBECONFIG, in-cluster, ~/.kube/config). A client certificate that is in
 * the kubeconfig itself is checked here, so a bad one fails at startup. */
int kubesrc_resolve(struct app *a, const char *flag, const char *context, char *err, size_t errlen)
{
    static struct kubeconfig kc;
    if (getenv("KUBE_API_URL")) {
        if ((flag && *flag) || (context && *context))
            return str_fail(err, errlen,
                            "--kubeconfig and --context do not apply: KUBE_API_URL is set and "
                            "overrides the kubeconfig (unset it to use one)");
        return 0;
    }
    struct kubeconfig_where w = {flag, context, a->cfg.kubeconfig, getenv("HOME"),
                                 getenv("KUBERNETES_SERVICE_HOST") != NULL};
    enum kubeconfig_found f = kubeconfig_load(&w, &kc, err, errlen);
    if (f != KUBECONFIG_LOADED) return f == KUBECONFIG_IN_CLUSTER ? 0 : -1;
    a->kc = &kc;
    str_copy(a->cfg.kube_api_url, sizeof a->cfg.kube_api_url, kc.server);
    str_copy(a->cfg.kube_server_name, sizeof a->cfg.kube_server_name, kc.server_name);
    char e[256];
    if (kc.ca_pem && tls_anchors_add_pem(&a->kube_ca, kc.ca_pem, kc.ca_len, e, sizeof e) <= 0)
        return str_fail(err, errlen, "%s: certificate-authority: %s", kc.files,
                        kc.ca_len ? e : "empty");
    /* No CA in the kubeconfig: the system's roots, as kubectl does. */
    if (!kc.ca_pem && strncmp(kc.server, "https://", 8) == 0 &&
        tls_anchors_load(&a->kube_ca, a->cfg.slack_ca_file, e, sizeof e) < 0)
        return str_fail(err, errlen, "%s: no certificate-authority and no system CA (%s)", kc.files,
                        e);
    if (kc.cert_pem && !kc.has_exec) {
        static struct tls_client_cert cert;
        if (tls_client_cert_load(&cert, kc.cert_pem, kc.cert_len, kc.key_pem, kc.key_len, e,
                                 sizeof e) < 0)
            return str_fail(err, errlen, "%s: user of context \"%s\": %s", kc.files, kc.context, e);
        tls_client_cert_free(&cert);
    }
    return 0;
}

/* Trust anchors the children will use, parsed once here. */
int kubesrc_anchors(struct app *a, int need_slack, char *err, size_t errlen)
{
    if (!a->kc && strncmp(a->cfg.kube_api_url, "https://", 8) == 0) {
        char e[256];
        if (tls_anchors_load(&a->kube_ca, a->cfg.kube_ca_file, e, sizeof e) < 0) {
            snprintf(err, errlen, "KUBE_CA_FILE: %s", e);
            return -1;
        }
    }
    if (need_slack) {
        char e[256];
        if (tls_anchors_load(&a->slack_ca, a->cfg.slack_ca_file, e, sizeof e) < 0) {
            snprintf(err, errlen, "SLACK_CA_FILE: %s", e);
            return -1;
        }
    }
    return 0;
}

/* This job's credentials from the kubeconfig: an exec plugin runs here,
 * in the job (never in the parent), and a client certificate is parsed. */
/* kube_cfg.refresh_token for an exec plugin's token: run it again. */
static int rerun_plugin(void *ctx, char *tok, size_t cap, char *err, size_t errlen)
{
    const struct kubeconfig *kc = ctx;
    struct execcred ec;
    if (execcred_run(&kc->exec, EXECCRED_TIMEOUT, &ec, err, errlen) < 0) return -1;
    int rc = ec.token && str_copy(tok, cap, ec.token) == 0
                 ? 0
                 : str_fail(err, errlen, "exec plugin: no token in its answer after a 401");
    execcred_free(&ec);
    return rc;
}

int kubesrc_job_creds(const struct app *a, struct kube_cfg *k, char *err, size_t errlen)
{
    /* Once per process (a job, or the CLI): the lease and the command share
     * one plugin answer and one parsed certificate. */
    static struct execcred ec;
    static struct tls_client_cert cert;
    static int done;
    const struct kubeconfig *kc = a->kc;
    if (!kc) return 0;
    if (kc->proxy_url[0]) k->proxy = kc->proxy_url;
    /* Never credentials over plain http:// (as with KUBE_API_URL). */
    if (!k->api.https) return 0;
    k->token_file = kc->token_file[0] ? kc->token_file : NULL;
    k->token = kc->token;
    const char *cpem = kc->cert_pem, *kpem = kc->key_pem;
    size_t clen = kc->cert_len, klen = kc->key_len;
    if (done) {
        if (ec.token) k->token = ec.token, k->refresh_token = rerun_plugin;
        k->refresh_ctx = (void *)kc;
        k->client_cert = cert.n ? &cert : NULL;
        return 0;
    }
    if (kc->has_exec) {
        if (execcred_run(&kc->exec, EXECCRED_TIMEOUT, &ec, err, errlen) < 0) return -1;
        if (ec.token) {
            k->token = ec.token;
            k->refresh_token = rerun_plugin;
            k->refresh_ctx = (void *)kc;
        }
        if (ec.cert_pem) {
            cpem = ec.cert_pem, kpem = ec.key_pem;
            clen = ec.cert_len, klen = ec.key_len;
        }
    }
    char e[256];
    if (cpem && tls_client_cert_load(&cert, cpem, clen, kpem, klen, e, sizeof e) < 0)
        return str_fail(err, errlen, "%s: %s", kc->has_exec ? "exec plugin" : kc->files, e);
    k->client_cert = cpem ? &cert : NULL;
    done = 1;
    return 0;
}
