/* Image references: repository, version, new reference, allow-list. See kimage.h. */
#include "kimage.h"

#include <stdio.h>
#include <string.h>

#include "k8sname.h"
#include "limits.h"

/* Length of image's repository part (before ":tag" and "@digest"). */
static size_t repo_len(const char *image)
{
    const char *at = strchr(image, '@');
    size_t n = at ? (size_t)(at - image) : strlen(image);
    const char *slash = NULL, *colon = NULL;
    for (size_t i = 0; i < n; i++) {
        if (image[i] == '/') slash = image + i;
        if (image[i] == ':') colon = image + i;
    }
    if (colon && (!slash || colon > slash)) n = (size_t)(colon - image);
    return n;
}

long kimage_repo(const char *image, char *out, size_t cap)
{
    size_t n = image ? repo_len(image) : 0;
    if (cap) out[0] = 0;
    if (n == 0 || n >= cap) return -1;
    memcpy(out, image, n);
    out[n] = 0;
    return (long)n;
}

void kimage_version(const char *image, char *out, size_t cap)
{
    if (!cap) return;
    size_t n = image ? repo_len(image) : 0;
    const char *at = image ? strchr(image, '@') : NULL;
    if (image && image[n] == ':')
        snprintf(out, cap, "%.*s", (int)((at ? (size_t)(at - image) : strlen(image)) - n - 1),
                 image + n + 1);
    else if (at)
        snprintf(out, cap, "%.19s", at + 1);
    else
        snprintf(out, cap, "untagged");
}

int kimage_with_version(char *out, size_t cap, const char *image, const char *version, char *err,
                        size_t errlen)
{
    char repo[IMAGE_MAX];
    if (cap) out[0] = 0;
    if (!version || !k8sname_version_ok(version, strlen(version))) {
        snprintf(err, errlen, "invalid version (a tag or sha256:<64 hex>)");
        return -1;
    }
    if (kimage_repo(image, repo, sizeof repo) < 0) {
        snprintf(err, errlen, "the container's image has no repository");
        return -1;
    }
    int digest = strncmp(version, "sha256:", 7) == 0;
    int n = snprintf(out, cap, "%s%c%s", repo, digest ? '@' : ':', version);
    if (n < 0 || (size_t)n >= cap) {
        if (cap) out[0] = 0;
        snprintf(err, errlen, "image reference longer than %zu bytes", cap ? cap - 1 : 0);
        return -1;
    }
    return 0;
}

const char *kimage_last_elem(const char *repo)
{
    const char *s = strrchr(repo, '/');
    return s ? s + 1 : repo;
}

int kimage_allowed(const char *allow, const char *repo)
{
    if (!allow || !*allow) return 1;
    size_t rn = strlen(repo);
    for (const char *p = allow; *p;) {
        const char *e = strchr(p, ',');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        const char *q = p;
        while (n && *q == ' ') q++, n--;
        while (n && (q[n - 1] == '/' || q[n - 1] == ' ')) n--;
        if (n && n <= rn && memcmp(q, repo, n) == 0 && (repo[n] == 0 || repo[n] == '/')) return 1;
        if (!e) break;
        p = e + 1;
    }
    return 0;
}

int kimage_same_repo(const char *a, const char *b)
{
    size_t an = repo_len(a), bn = repo_len(b);
    return an > 0 && an == bn && memcmp(a, b, an) == 0;
}
