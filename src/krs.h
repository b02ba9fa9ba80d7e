/* ReplicaSet documents of the Kubernetes API: kubectl rollout undo's target
 * and JSON patch, pod-template equality and the rollout history text. Pure
 * functions over JSON text (each parses its inputs), no I/O; they may
 * allocate (forked children only). Only ReplicaSets controlled by the
 * Deployment (an ownerReference with controller=true and its uid) count. */
#ifndef KRS_H
#define KRS_H

#include <stddef.h>

#include "limits.h"

/* kubectl rollout undo's JSON patch: replace /spec/template with the
 * ReplicaSet's template minus its pod-template-hash label, and
 * /metadata/annotations with the RS's annotations (but the Deployment's own
 * values of the keys kubectl skips), change-cause set to cause. Returns
 * its length, or -1 with err. */
long krs_rollback_patch(const char *deploy, size_t dlen, const char *rs, size_t rlen,
                        const char *cause, char *buf, size_t cap, char *err, size_t errlen);

struct json_doc;

/* 1 when the object at obj has an ownerReference with controller=true and uid. */
int krs_controlled_by(const struct json_doc *d, int obj, const char *uid);
/* Parse one page of a list (any kind) into d: its items token (d then to
 * be freed with kdoc_json_free) and its metadata.continue in cont ("" when
 * absent or too long); -1 with cont "" and nothing to free when it is not
 * a list. */
int krs_list_page(struct json_doc *d, const char *body, size_t len, char *cont, size_t ccap);

/* kubectl rollout undo's target, collected page by page
 * (kapi_list_rs_pages): every revision of a ReplicaSet controlled by uid
 * (one without a numeric revision annotation is skipped) and copies of
 * only the ReplicaSets that may be the target: revision want, or with want
 * 0 the two newest (kubectl takes the second newest). */
struct krs_target {
    char uid[128];
    long want;
    long *revs; /* every owned revision seen, duplicates too (malloc'd) */
    int nrevs, caprevs;
    char *rs[2]; /* NUL-terminated copies (malloc'd), NULL when none */
    size_t rslen[2];
    long rsrev[2]; /* -1: empty */
};

/* Start t. Returns 0. */
int krs_target_init(struct krs_target *t, const char *uid, long want);
void krs_target_free(struct krs_target *t);
/* A kapi_page_fn: add the ReplicaSets of one ReplicaSetList page. 0, or
 * -1 when the page is not a list (or no memory). */
int krs_target_page(void *arg, const char *body, size_t len, char *cont, size_t ccap);
/* The target after the last page: its revision, *rs and *rs_len its object
 * (owned by t, valid until krs_target_free), or -1 with err ("revision N
 * not found; available: ..." newest first, or "no rollout history found
 * for deployment \"name\""). */
long krs_target_pick(struct krs_target *t, const char *name, const char **rs, size_t *rs_len,
                     char *err, size_t errlen);
/* The same over one whole ReplicaSetList (tests, fuzzing): t is started
 * here and must be freed with krs_target_free whatever the result. */
long krs_rollback_target(const char *deploy, size_t dlen, const char *rslist, size_t rlen,
                         long want, struct krs_target *t, const char **rs, size_t *rs_len,
                         char *err, size_t errlen);

/* 1 when the Deployment's pod template equals the ReplicaSet's ignoring
 * the pod-template-hash label (kubectl then skips the rollback), 0 if not,
 * -1 on bad input. */
int krs_template_matches(const char *deploy, size_t dlen, const char *rs, size_t rlen);

/* ---- rollout history, read page by page (kapi_list_rs_pages) ---- */

#define KRS_LIVE_KEY "deploy-api/live-at" /* RFC 3339 UTC: when deploy-api made it live */

/* One revision's line: only what history shows. */
struct krs_line {
    long rev;
    long long created, live; /* Unix s; -1 unknown (live: not written by deploy-api, or stale) */
    char images[320];
    char cause[320];
};

/* History collected page by page: every revision counted (a ReplicaSet
 * without the revision annotation is revision 0, an unreadable one is
 * skipped, duplicates count once: kubectl's rules), the newest `want` kept.
 * Only ReplicaSets controlled by uid count. */
struct krs_history {
    char uid[128];
    int want; /* 1..KUBE_HISTORY_MAX */
    int n;    /* kept in v */
    struct krs_line v[KUBE_HISTORY_MAX];
    long *revs; /* every distinct revision seen (malloc'd) */
    int nrevs, caprevs;
};

/* Start h (want clamped to 1..KUBE_HISTORY_MAX). Returns 0. */
int krs_history_init(struct krs_history *h, const char *uid, int want);
void krs_history_free(struct krs_history *h);
/* A kapi_page_fn: add the ReplicaSets of one ReplicaSetList page. 0, or
 * -1 when the page is not a list (or no memory). */
int krs_history_page(void *arg, const char *body, size_t len, char *cont, size_t ccap);
/* Sort h's lines newest first. */
void krs_history_sort(struct krs_history *h);
/* The lines, newest first: "REV[ (current)]  live|created WHEN  IMAGES
 * CAUSE". plain: no Slack markup; else mrkdwn with WHEN as Slack's
 * <!date^...> token and cluster strings escaped (post as is). current is
 * the Deployment's revision (-1: the newest). Lines that do not fit in cap
 * are left out, and a last line says how many. Returns the lines listed. */
int krs_history_format(struct krs_history *h, const char *ns, const char *name, long current,
                       int plain, char *out, size_t cap);
/* The history of the Deployment deploy from one whole ReplicaSetList
 * (tests, fuzzing): krs_history_page + krs_history_format. -1 on bad input. */
int krs_history_text(const char *deploy, size_t dlen, const char *rslist, size_t rlen, int want,
                     int plain, char *out, size_t cap);

/* "2026-11-04T10:00:00Z" to Unix seconds, -1 when it is not that form. */
long long krs_time_parse(const char *s);
/* Unix seconds as "2026-11-04T10:00:00Z" ("-" when negative). */
void krs_time_format(char *out, size_t cap, long long t);

#endif
