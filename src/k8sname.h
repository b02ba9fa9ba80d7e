/* Kubernetes name and image-version rules shared by the command grammar
 * (slack.c), the configuration (config.c) and the kube client. Pure
 * functions over byte slices: s need not be NUL-terminated, n may be 0. */
#ifndef K8SNAME_H
#define K8SNAME_H

#include <stddef.h>

/* 1 when s[0..n) is a DNS-1123 label of at most K8S_NS_MAX (a namespace). */
int k8sname_ns_ok(const char *s, size_t n);
/* 1 when s[0..n) is a DNS-1123 subdomain of at most K8S_NAME_MAX (a deployment). */
int k8sname_name_ok(const char *s, size_t n);
/* 1 when s[0..n) is an image tag: [A-Za-z0-9_.-], 1..VERSION_MAX bytes, not
 * starting with '.' or '-'. */
int k8sname_tag_ok(const char *s, size_t n);
/* 1 when s[0..n) is "sha256:" + 64 lowercase hex digits. */
int k8sname_digest_ok(const char *s, size_t n);
/* 1 when s[0..n) is a tag or a digest (k8sname_tag_ok || k8sname_digest_ok). */
int k8sname_version_ok(const char *s, size_t n);

#endif
