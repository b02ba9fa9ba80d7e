/* Restart a Deployment the way kubectl rollout restart does: stamp the pod
 * template with the kubectl.kubernetes.io/restartedAt annotation (a
 * strategic merge patch, with the change-cause), then follow the rollout
 * like a deploy. Paused deployments are refused, as kubectl refuses them. */
#ifndef KRESTART_H
#define KRESTART_H

#include <stddef.h>

#include "kdoc.h"
#include "kube.h"

#define KRESTART_KEY "kubectl.kubernetes.io/restartedAt"

/* The strategic merge patch: metadata.annotations' change-cause (left out
 * when cause is NULL or empty) and spec.template.metadata.annotations'
 * restartedAt = at (RFC 3339, as kubectl writes it). Returns its length, or
 * -1 when it does not fit in cap. Pure. */
long krestart_patch(char *buf, size_t cap, const char *at, const char *cause);

/* RFC 3339 UTC time of t to the second ("2026-11-30T09:40:00Z") into out
 * (at least 21 bytes), as kubectl's time.Now().Format(time.RFC3339) in UTC. */
void krestart_time(char *out, size_t cap, long long t);

/* The operation: 0 with res ok ("restarted NS/NAME: ..."), or -1 with res
 * filled. ns and name must be DNS-1123 names. */
int kube_restart(const struct kube_cfg *k, const char *ns, const char *name,
                 const struct kube_actor *who, struct kube_result *res);

#endif
