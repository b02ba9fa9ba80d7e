/* Exec credential plugins (client.authentication.k8s.io/v1 and v1beta1),
 * run as kubectl runs them but without a shell: fork and execve (the
 * environment without deploy-api's Slack secrets; the
 * command looked up in PATH unless it holds a '/'), stdin /dev/null, stderr
 * passed through, stdout bounded, a deadline. The ExecCredential answer
 * gives a token or a client certificate and key; an expirationTimestamp in
 * the past is refused. */
#ifndef EXECCRED_H
#define EXECCRED_H

#include <stddef.h>

#include "kubeconfig.h"

#define EXECCRED_TIMEOUT 60            /* s a plugin may take (aws/gcloud: ~1-3 s). */
#define EXECCRED_MAX_OUTPUT (1u << 20) /* bytes of its answer (real ones: ~2 KiB). */

struct execcred {
    char *token;              /* secret, malloc'd, or NULL */
    char *cert_pem, *key_pem; /* clientCertificateData / clientKeyData (secret), or NULL */
    size_t cert_len, key_len;
    long long expires; /* unix seconds; 0 when the answer has no expirationTimestamp */
};

/* Read the ExecCredential answer json[0..len): its apiVersion must be
 * api_version and its kind ExecCredential; status holds a token or both
 * clientCertificateData and clientKeyData. now: unix seconds. 0, or -1
 * with err (never a secret); c is empty then. */
int execcred_parse(const char *json, size_t len, const char *api_version, long long now,
                   struct execcred *c, char *err, size_t errlen);

/* An RFC 3339 time ("2026-01-02T03:04:05Z", fractions and +hh:mm
 * offsets allowed) as unix seconds; -1 when malformed. */
long long execcred_time(const char *s);

/* Run e and read its answer into c; the plugin is killed after timeout_s
 * (EXECCRED_TIMEOUT). Errors say what to do: the command not found (with
 * the plugin's installHint), a non-zero exit, the deadline, an answer too
 * large or malformed, an expired credential. */
int execcred_run(const struct kubeconfig_exec *e, int timeout_s, struct execcred *c, char *err,
                 size_t errlen);

/* When k has an exec plugin, run it and put its token or client
 * certificate into k (replacing what k held). 0, or -1 with err. */
int execcred_fill(struct kubeconfig *k, char *err, size_t errlen);

void execcred_free(struct execcred *c);

#endif
