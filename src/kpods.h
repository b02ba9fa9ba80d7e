/* Why a rollout is stuck, from the new ReplicaSet's pods: a pure summariser
 * over PodList pages (waiting reasons with their messages, the last exit
 * code and termination message of a crashing container, the scheduler's
 * Unschedulable message), counted per distinct problem; and one call that
 * finds the new ReplicaSet of a Deployment and lists its pods page by page. */
#ifndef KPODS_H
#define KPODS_H

#include <stddef.h>

#define KPODS_KINDS 4      /* distinct problems kept; pods with others are counted as "other" */
#define KPODS_LABEL 240    /* "CrashLoopBackOff, exit 1: panic: ..." (longer ones are cut) */
#define KPODS_PAGE 100     /* pods asked for per page (a pod is ~5-20 KiB with managedFields) */
#define KPODS_MAX_PAGES 50 /* pages read per diagnosis: 5,000 pods */

struct kpods_problem {
    char label[KPODS_LABEL]; /* reason, then ", exit N: message" or ": message" */
    int pods;
};

/* Pods counted so far. Zero it (kpods_init), then feed pages. */
struct kpods_tally {
    char owner_uid[128]; /* only pods whose controller ownerReference has this uid; "" = all */
    int pods;            /* pods counted */
    int ready;           /* of them, Ready */
    int other;           /* pods with a problem that found no room in p[] */
    int nproblems;
    struct kpods_problem p[KPODS_KINDS];
};

/* Empty t; owner_uid (may be NULL) restricts it to the pods one ReplicaSet controls. */
void kpods_init(struct kpods_tally *t, const char *owner_uid);

/* Count the pods of one PodList page json[0..len) into t, and copy its
 * metadata.continue into cont ("" on the last page; cut to "" when it does
 * not fit in ccap, which ends the listing). 0, or -1 when the page is not a
 * PodList (malformed, truncated, no items array): t is then unchanged. */
int kpods_add_page(struct kpods_tally *t, const char *json, size_t len, char *cont, size_t ccap);

/* One line per problem, most pods first: "2 of 3 new pods: CrashLoopBackOff,
 * exit 1: panic: DATABASE_URL unset"; a last line for the "other" pods.
 * Control characters in messages are spaces. Returns the length ("" and 0
 * when no pod has a problem); the text is cut to fit cap. */
size_t kpods_text(const struct kpods_tally *t, char *out, size_t cap);

struct kapi_job;

/* I/O: GET the Deployment ns/name, find its new ReplicaSet (controlled by
 * it, with the Deployment's revision; ReplicaSets listed in pages), list
 * that ReplicaSet's pods (labelSelector = the Deployment's selector and its
 * pod-template-hash, in pages of KPODS_PAGE) and write kpods_text into out.
 * Returns the number of pods with a problem (0: out says nothing is
 * wrong, or is "" when there are no pods), or -1 with out a short reason
 * the pods could not be read ("cannot list pods: ... (HTTP 403)"). */
int kpods_diagnose(struct kapi_job *j, const char *ns, const char *name, char *out, size_t cap);

#endif
