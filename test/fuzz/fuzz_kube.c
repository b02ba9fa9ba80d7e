/* libFuzzer target for kdoc.c, kimage.c and krs.c (Deployment and ReplicaSet documents): the input
 * is a Deployment, ReplicaSet(List), watch event or Status JSON; an optional second document after
 * a
 * "\n---\n" line plays the ReplicaSet(List) for the functions that take two. Every function must
 * return without reading past its input. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kdoc.h"
#include "kimage.h"
#include "krs.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char msg[256], c[64], img[IMAGE_MAX], err[256], out[4096], *patch;
    struct kdoc_counts k;
    size_t off, len;
    /* exact-size copies so ASan sees any over-read */
    char *a = malloc(size ? size : 1), *b;
    const char *sep = size ? memmem(data, size, "\n---\n", 5) : NULL;
    size_t an = sep ? (size_t)(sep - (const char *)data) : size;
    size_t bn = sep ? size - an - 5 : size;
    if (!a) return 0;
    memcpy(a, data, an);
    b = malloc(bn ? bn : 1);
    if (!b) {
        free(a);
        return 0;
    }
    memcpy(b, sep ? sep + 5 : (const char *)data, bn);

    struct kdeploy d;
    if (kdoc_deploy_parse(a, an, &d) == 0) {
        /* the parsed struct and the JSON entry points agree */
        enum kdoc_rollout st = kdoc_rollout(&d, &k, msg, sizeof msg);
        if (st != kdoc_rollout_state(a, an, NULL, msg, sizeof msg)) abort();
        kdoc_choose(&d, "web", NULL, c, sizeof c, img, sizeof img, err, sizeof err);
        if (d.ncontainers < 0 || d.ninit < 0 || d.name[sizeof d.name - 1] != 0) abort();
        if (strlen(d.manager) >= sizeof d.manager) abort();
        /* the deploy's image rules on every container the document holds */
        for (int i = 0; i < d.ncontainers + d.ninit; i++) {
            const char *im =
                i < d.ncontainers ? d.containers[i].image : d.init[i - d.ncontainers].image;
            char repo[IMAGE_MAX], v[64], nu[IMAGE_MAX];
            long rn = kimage_repo(im, repo, sizeof repo);
            kimage_version(im, v, sizeof v);
            if (rn >= 0 && (strlen(repo) != (size_t)rn || strncmp(repo, im, (size_t)rn) != 0))
                abort();
            if (kimage_with_version(nu, sizeof nu, im, "1.4", err, sizeof err) == 0 &&
                (!kimage_same_repo(nu, im) ||
                 (!strpbrk(repo, ", ") && kimage_allowed(repo, repo) != 1)))
                abort();
            kimage_allowed(im, repo);
            const char *name = i < d.ncontainers ? d.containers[i].name : "";
            kdoc_choose(&d, "web", name, c, sizeof c, img, sizeof img, err, sizeof err);
        }
        const char *inits[2] = {c, "init"};
        long pn = kdoc_set_image_patch(out, sizeof out, c, img, inits, 2, d.manager);
        if (pn >= 0 && (size_t)pn >= sizeof out) abort();
    }
    kdoc_deploy_free(&d);
    kdoc_resource_version(a, an, msg, sizeof msg);
    kdoc_rollout_state(a, an, &k, msg, sizeof msg);
    kdoc_choose_container(a, an, "web", NULL, c, sizeof c, img, sizeof img, err, sizeof err);
    kdoc_status_text(a, an, out, sizeof out);
    kdoc_status_message(a, an, msg, sizeof msg);
    kdoc_selector(a, an, out, sizeof out);
    if (kdoc_watch_event(a, an, &off, &len) != KEV_BAD) {
        if (off + len > an) abort();
        kdoc_rollout_state(a + off, len, NULL, msg, sizeof msg);
    }
    krs_history_text(a, an, b, bn, 10, 0, out, sizeof out);
    krs_history_text(a, an, b, bn, 1, 1, out, sizeof out);
    krs_template_matches(a, an, b, bn);
    for (long want = 0; want < 4; want += 3) {
        struct krs_target t;
        const char *rs;
        long r = krs_rollback_target(a, an, b, bn, want, &t, &rs, &len, err, sizeof err);
        if (r >= 0 && (len > bn || !memmem(b, bn, rs, len))) abort();
        krs_target_free(&t);
    }
    size_t cap = an + bn + 2048;
    patch = malloc(cap);
    if (patch) {
        long n = krs_rollback_patch(a, an, b, bn, "cause \"x\"", patch, cap, err, sizeof err);
        if (n >= 0 && (size_t)n >= cap) abort();
        free(patch);
    }
    free(b);
    free(a);
    return 0;
}
