/* The per-target lock across replicas: a Kubernetes Lease
 * (coordination.k8s.io/v1) in LEASE_NAMESPACE, taken by the job child
 * before it changes a deployment, renewed while the job runs and released
 * when it ends; a pod that dies leaves a Lease that expires.
 *
 * Two layers with a visible seam: pure functions over byte slices (the
 * Lease's name, its JSON both ways, the expiry verdict) that the unit tests
 * and the fuzzer call, then the job's I/O through kapi (take, renew from a
 * small renewer process, release). */
#ifndef LEASE_H
#define LEASE_H

#include <stddef.h>
#include <sys/types.h>

#include "config.h"
#include "jobs.h"
#include "kapi.h"
#include "kube.h"
#include "limits.h"

#define LEASE_NAME_MAX 63    /* our Lease names: one DNS-1123 label's length */
#define LEASE_HOLDER_MAX 253 /* holderIdentity (POD_NAME: a pod name is a subdomain) */
#define LEASE_RV_MAX 128     /* resourceVersion */

/* What a Lease says (read) or should say (written). Times are unix
 * milliseconds, 0 when absent. */
struct lease_rec {
    char rv[LEASE_RV_MAX + 1];
    char holder[LEASE_HOLDER_MAX + 1]; /* "" when released */
    char user[SLACK_NAME_MAX + 1];     /* who asked (annotation), may be "" */
    char verb[16];                     /* "deploy" or "rollback" (annotation) */
    char target[JOB_TARGET_MAX];       /* "ns/name" (annotation) */
    long long duration_s;              /* leaseDurationSeconds, 0 when absent */
    long long acquire_ms, renew_ms;
    long long transitions; /* leaseTransitions */
};

/* The Lease name for target ns/name: "deploy-api.NS.NAME" when that fits
 * LEASE_NAME_MAX, else its first bytes (ending in a letter or digit) + "-"
 * + 16 hex digits of a hash of "ns/name". Namespaces hold no dots, so two
 * targets never share a short name. Always a valid DNS-1123 subdomain when
 * ns and name are valid. 0, or -1 when cap is below LEASE_NAME_MAX + 1. */
int lease_name(const char *ns, const char *name, char *out, size_t cap);

/* Format / parse a MicroTime ("2026-11-30T09:40:12.123456Z"); parsing also
 * takes whole seconds and a numeric offset. 0, or -1 (out too small or
 * malformed). */
int lease_time_fmt(long long ms, char *out, size_t cap);
int lease_time_parse(const char *s, size_t n, long long *ms);

/* The Lease JSON for create (rec->rv "") or update (rec->rv set: the
 * resourceVersion read, so the API refuses if someone wrote in between).
 * Returns the length, or -1 when it does not fit. */
long lease_json(char *out, size_t cap, const char *lns, const char *name,
                const struct lease_rec *rec);
/* Read a Lease document (an object of kind Lease, or one without kind as in
 * lists). Absent fields stay zero; fields too long for rec, wrong types or
 * malformed JSON return -1. */
int lease_parse(const char *js, size_t n, struct lease_rec *rec);

enum lease_state {
    LEASE_FREE,    /* no holder: released */
    LEASE_EXPIRED, /* renewTime (else acquireTime) + duration has passed */
    LEASE_MINE,    /* held by me: a job of this pod that died before releasing */
    LEASE_HELD,    /* someone else holds it */
};
/* Whose the Lease is at now_ms. A holder with neither time is expired (no
 * one renews it); a missing duration counts as def_duration_s. */
enum lease_state lease_state(const struct lease_rec *r, const char *me, long long now_ms,
                             long long def_duration_s);

/* The user's text for a Lease someone else holds: "NS/NAME is already being
 * deployed by @user (rollback, pod P) since HH:MM:SS UTC ...". */
void lease_busy_text(const struct lease_rec *r, const char *target, char *out, size_t cap);

/* ---- I/O: the job child ---- */

/* Where and as whom; strings outlive the hold. lns "" turns Leases off. */
struct lease_cfg {
    const char *lns; /* LEASE_NAMESPACE */
    const char *me;  /* POD_NAME */
    int duration_s;  /* LEASE_DURATION */
    int max_s;       /* renew for at most this long (JOB_TIMEOUT) */
};

struct lease_hold {
    int held;
    struct lease_cfg c; /* copies: the hold owns what its I/O reads */
    struct kube_cfg k;
    struct kapi_job j; /* j.k points at k */
    char name[LEASE_NAME_MAX + 1];
    struct lease_rec rec; /* what we wrote last (rv: its resourceVersion) */
    pid_t renewer;        /* 0: none */
    int lost;             /* the Lease was taken over while the job ran */
    int renew_fd;         /* write end the renewer watches; closing it stops it */
};

enum lease_take {
    LEASE_TAKEN, /* h->held: renew with lease_renew_start, end with lease_release */
    LEASE_BUSY,  /* someone else holds it: msg is the user's text */
    LEASE_ERROR, /* the API refused or failed: msg says why */
};
/* Take the Lease for sp's target with create; on 409 read it and take it
 * over with an update carrying its resourceVersion when it is free, expired
 * or ours. A bounded number of rounds (someone else winning an update is a
 * 409 and a fresh read). c and k are copied into h (c's strings must
 * outlive h). */
enum lease_take lease_take(struct lease_hold *h, const struct lease_cfg *c,
                           const struct kube_cfg *k, const struct job_spec *sp, char *msg,
                           size_t cap);
/* Fork the renewer: every duration/3 s it updates renewTime with the last
 * resourceVersion; it stops when the job closes its pipe or dies (POLLHUP),
 * or when an update fails with 409 (the Lease was taken over). 0 or -1. */
int lease_renew_start(struct lease_hold *h);
/* Stop the renewer, then hand the Lease back if it is still ours (h->lost
 * when the renewer or the read found it taken over): an update
 * with an empty holder carrying the resourceVersion read. Best effort: a
 * Lease left behind expires. */
void lease_release(struct lease_hold *h);

/* The job child's whole use of Leases: for a job that locks (sp->locks)
 * with LEASE_NAMESPACE set, take the Lease and start renewing. 0: go on (h
 * says whether something is held), -1: do not run the job, res filled with
 * the user's text (busy) or the reason. */
int lease_job_begin(const struct config *cfg, const struct kube_cfg *k, const struct job_spec *sp,
                    struct lease_hold *h, struct kube_result *res);
/* Release what lease_job_begin took (nothing when nothing is held); when
 * another replica took the Lease over while the job ran, res->text says so. */
void lease_job_end(struct lease_hold *h, struct kube_result *res);

#endif
