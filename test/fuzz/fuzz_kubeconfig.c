/* kubeconfig_from_docs and execcred_parse on arbitrary bytes: no crash, no
 * leak, no over-read; a loaded config always names a server and a context.
 * The input is split at the first NUL into two documents (a KUBECONFIG
 * list of two); file references point into a directory that is absent. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "execcred.h"
#include "kubeconfig.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *s = (const char *)data;
    const char *nul = memchr(s, 0, size);
    size_t a = nul ? (size_t)(nul - s) : size;
    const char *docs[2] = {s, nul ? nul + 1 : ""};
    size_t lens[2] = {a, nul ? size - a - 1 : 0};
    const char *paths[2] = {"/nonexistent-fuzz/a/config", "/nonexistent-fuzz/b"};
    char err[512];
    struct kubeconfig k;
    if (kubeconfig_from_docs(docs, lens, paths, nul ? 2 : 1, NULL, &k, err, sizeof err) == 0) {
        if (!k.server[0] || !k.context[0]) abort();
        kubeconfig_free(&k);
    } else if (!err[0]) {
        abort();
    }
    struct execcred c;
    if (execcred_parse(s, size, "client.authentication.k8s.io/v1", 1700000000LL, &c, err,
                       sizeof err) == 0) {
        if (!c.token && !c.cert_pem) abort();
        execcred_free(&c);
    }
    return 0;
}
