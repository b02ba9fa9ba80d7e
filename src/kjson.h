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
 *           "revisions":[{"revision","current","created","images":[...],
 *                         "changeCause" (null when none)}]}  newest first */
#ifndef KJSON_H
#define KJSON_H

#include <stddef.h>

/* The status object of the Deployment deploy[0..len) into out. Returns
 * its length, or -1 when deploy is not a Deployment or out is too small. */
long kjson_status(const char *deploy, size_t len, char *out, size_t cap);

/* The history object of the Deployment and its ReplicaSetList. Returns its
 * length, or -1 on bad input or when out is too small. */
long kjson_history(const char *deploy, size_t dlen, const char *rslist, size_t rlen, char *out,
                   size_t cap);

#endif
