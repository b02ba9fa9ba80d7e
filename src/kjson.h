/* `deploy-api status|history -o json`: one JSON object each, with field
 * names that stay (README "Command line"). Pure functions over the API's
 * JSON; they may allocate (children and the CLI only).
 *
 * status:  {"namespace","name","revision" (null when unknown),
 *           "generation","observedGeneration","paused",
 *           "replicas":{"desired","current","updated","ready","available"},
 *           "containers":[{"name","image"}],"initContainers":[{"name","image"}],
 *           "rollout":{"state":"complete"|"progressing"|"failed","message"}}
 * history: {"namespace","name","currentRevision" (null when none),
 *           "revisionCount" (every revision, as kubectl counts them),
 *           "revisions":[{"revision","current","created","images":[...],
 *                         "changeCause" (null when none)}]}  the newest N
 *           (history's N, default 10), newest first */
#ifndef KJSON_H
#define KJSON_H

#include <stddef.h>

#include "krs.h"

/* The status object of the Deployment deploy[0..len) into out. Returns
 * its length, or -1 when deploy is not a Deployment or out is too small. */
long kjson_status(const char *deploy, size_t len, char *out, size_t cap);

/* The history object of the Deployment ns/name (its revision current, -1
 * when unknown: the newest) from h, filled page by page with
 * krs_history_page (h's lines get sorted). Returns its length, or -1 when
 * out is too small. */
long kjson_history(const char *ns, const char *name, long current, struct krs_history *h, char *out,
                   size_t cap);

#endif
