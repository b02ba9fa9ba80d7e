/* ReplicaSet documents of the Kubernetes API: kubectl rollout undo's target
 * and JSON patch, pod-template equality and the rollout history text. Pure
 * functions over JSON text (each parses its inputs), no I/O; they may
 * allocate (forked children only). Only ReplicaSets controlled by the
 * Deployment (an ownerReference with controller=true and its uid) count. */
#ifndef KRS_H
#define KRS_H

#include <stddef.h>

/* kubectl rollout undo's JSON patch: replace /spec/template with the
 * ReplicaSet's template minus its pod-template-hash label, and
 * /metadata/annotations with the RS's annotations (but the Deployment's own
 * values of the keys kubectl skips), change-cause set to cause. Returns
 * its length, or -1 with err. */
long krs_rollback_patch(const char *deploy, size_t dlen, const char *rs, size_t rlen,
                        const char *cause, char *buf, size_t cap, char *err, size_t errlen);

/* The ReplicaSet in the list rslist to roll back to: revision want, or with
 * want 0 the second newest (kubectl). Returns its revision and the byte
 * span of the RS object in rslist, or -1 with err ("revision N not found;
 * available: ..."). */
long krs_rollback_target(const char *deploy, size_t dlen, const char *rslist, size_t rlen,
                         long want, size_t *rs_off, size_t *rs_len, char *err, size_t errlen);

/* 1 when the Deployment's pod template equals the ReplicaSet's ignoring
 * the pod-template-hash label (kubectl then skips the rollback), 0 if not,
 * -1 on bad input. */
int krs_template_matches(const char *deploy, size_t dlen, const char *rs, size_t rlen);

struct json_doc;

/* A ReplicaSet of a parsed list: its revision and its token there. */
struct krs_rev {
    long rev;
    int tok;
};

/* The ReplicaSets of the parsed list rl controlled by the Deployment (uid),
 * with a valid revision, sorted newest first. Returns the count (*out
 * malloc'd) or -1. */
int krs_owned_revisions(const struct json_doc *rl, const char *uid, struct krs_rev **out);

/* "revisions newest first" text for the Deployment and its ReplicaSetList.
 * Returns the number of revisions listed, or -1 on bad input. */
int krs_history_text(const char *deploy, size_t dlen, const char *rslist, size_t rlen, char *out,
                     size_t cap);

#endif
