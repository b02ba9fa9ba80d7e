/* Image references as a container runs them (DESIGN.md, "The image"): the
 * repository, the version shown to people, the reference a new version
 * makes, and IMAGE_BASE's allow-list of repository prefixes. Pure
 * functions over NUL-terminated text; no I/O, no allocation. */
#ifndef KIMAGE_H
#define KIMAGE_H

#include <stddef.h>

/* The repository of image: without "@digest" and without a ":tag" after
 * the last '/' (a registry port stays): "reg:5000/team/app:1.3@sha256:.."
 * -> "reg:5000/team/app". Returns its length, or -1 (out "") when it is
 * empty or does not fit in cap. */
long kimage_repo(const char *image, char *out, size_t cap);

/* The version people read for image: its tag, else its digest cut to
 * "sha256:" + 12 hex, else "untagged". Always NUL-terminated (cap > 0). */
void kimage_version(const char *image, char *out, size_t cap);

/* The reference that runs version on image's repository: repo + ":" + tag,
 * or repo + "@" + digest for "sha256:<64 hex>". 0, or -1 with err when the
 * version is not a tag or digest, image has no repository, or it does not
 * fit. */
int kimage_with_version(char *out, size_t cap, const char *image, const char *version, char *err,
                        size_t errlen);

/* The last path element of a repository ("frontend" of "reg/team/frontend"). */
const char *kimage_last_elem(const char *repo);

/* 1 when allow (IMAGE_BASE: a comma list of prefixes, trailing '/'
 * ignored) is NULL or empty, or repo is one of them or lies under one at a
 * '/' boundary ("reg/team" allows "reg/team/app", not "reg/teamx/app");
 * 0 otherwise. */
int kimage_allowed(const char *allow, const char *repo);

/* 1 when images a and b have the same non-empty repository. */
int kimage_same_repo(const char *a, const char *b);

#endif
