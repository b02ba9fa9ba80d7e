/* Kubeconfig, read as kubectl reads it: which files (--kubeconfig, else
 * KUBECONFIG's colon list, else in-cluster, else ~/.kube/config), how a
 * list merges (the first file to name a context, cluster or user wins; the
 * first current-context wins), which context (--context, else
 * current-context), and what the context's cluster and user hold. Relative
 * paths are relative to the directory of the file that named them. What
 * deploy-api cannot honour safely is refused with what to do instead
 * (insecure-skip-tls-verify, auth-provider, username/password,
 * impersonation). The result is one struct the kube transport uses. */
#ifndef KUBECONFIG_H
#define KUBECONFIG_H

#include <stddef.h>

#include "limits.h"

#define KUBECONFIG_MAX_FILE (1u << 20) /* one kubeconfig file (real ones: a few KiB). */
#define KUBECONFIG_MAX_FILES 16        /* files in a KUBECONFIG list. */
#define KUBECONFIG_MAX_PEM (1u << 20)  /* a certificate-authority or client cert/key file. */
#define KUBECONFIG_MAX_ARGS 64         /* exec plugin: args, and env entries. */
#define KUBECONFIG_PATH_MAX 1024

struct kubeconfig_exec {
    char command[KUBECONFIG_PATH_MAX];   /* a path (resolved) or a name looked up in PATH */
    char *argv[KUBECONFIG_MAX_ARGS + 2]; /* argv[0] = command; NULL-terminated; malloc'd */
    char *env[KUBECONFIG_MAX_ARGS + 1];  /* "NAME=value" added to the environment */
    char api_version[64];                /* client.authentication.k8s.io/v1 or v1beta1 */
    char *install_hint;                  /* may be NULL */
};

struct kubeconfig {
    char files[256];         /* the file(s) read, for messages ("a.yaml:b.yaml") */
    char context[256];       /* the context used */
    char server[512];        /* cluster.server (https://, or http:// for a proxy) */
    char server_name[256];   /* tls-server-name; "" = the server URL's host */
    char proxy_url[512];     /* proxy-url (http:// CONNECT proxy); "" when none */
    char ns[K8S_NS_MAX + 1]; /* the context's namespace; "" when none */
    char *ca_pem;            /* certificate-authority(-data) PEM, malloc'd; NULL = none given */
    size_t ca_len;
    char *cert_pem, *key_pem; /* client certificate chain and key (secret), or NULL */
    size_t cert_len, key_len;
    char *token;                          /* bearer token (secret), malloc'd, or NULL */
    char token_file[KUBECONFIG_PATH_MAX]; /* tokenFile, read at every use; "" when none */
    int has_exec;
    struct kubeconfig_exec exec;
};

/* What decides where the configuration comes from (main passes the
 * process's values; tests pass their own). */
struct kubeconfig_where {
    const char *flag;    /* --kubeconfig FILE, or NULL */
    const char *context; /* --context NAME, or NULL */
    const char *env;     /* $KUBECONFIG, or NULL */
    const char *home;    /* $HOME, or NULL */
    int in_cluster;      /* KUBERNETES_SERVICE_HOST is set */
};

enum kubeconfig_found {
    KUBECONFIG_ERROR = -1,
    KUBECONFIG_LOADED = 0, /* k is filled */
    KUBECONFIG_IN_CLUSTER, /* no file applies: use the service account */
};

/* Decide the source, read and merge the files, resolve the context into k
 * (which the caller frees with kubeconfig_free). Missing files in a
 * KUBECONFIG list are skipped as kubectl skips them; a missing --kubeconfig
 * file is an error. With nothing to read and not in a cluster, an error
 * that says how to configure. err: one line naming the file and what to do. */
enum kubeconfig_found kubeconfig_load(const struct kubeconfig_where *w, struct kubeconfig *k,
                                      char *err, size_t errlen);

/* The same from documents already read: docs[i] of lens[i] bytes came from
 * the file paths[i] (its directory anchors relative paths). */
int kubeconfig_from_docs(const char *const *docs, const size_t *lens, const char *const *paths,
                         int n, const char *context, struct kubeconfig *k, char *err,
                         size_t errlen);

/* 1 when t can be a bearer token: 1 to KUBE_TOKEN_MAX visible ASCII bytes. */
int kubeconfig_token_ok(const char *t);

/* Free everything k owns (secrets wiped first); k is zeroed. */
void kubeconfig_free(struct kubeconfig *k);

/* Standard base64 (whitespace skipped, '=' padding optional at the end)
 * into a malloc'd, NUL-terminated buffer; NULL on bad input. */
char *kubeconfig_b64decode(const char *s, size_t n, size_t *outlen);

#endif
