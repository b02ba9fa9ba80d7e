#!/usr/bin/env python3
"""Mutation run: does the test suite catch small deliberate bugs in src/?

Each mutation below is one bug: (file, exact original snippet, replacement)
edits, and the fast tests that should catch it (unit binaries, e2e
patterns for test/e2e/run.py). For each one, in a scratch copy of the tree
(never the working tree): apply the edits, build the binary and the named
unit tests, run the named tests, put the file back. Verdicts:

  caught            a named test failed or timed out
  survived          every named test passed: a test is missing
  no longer applies an original snippet is not in the file any more (src/
                    moved on): update the mutation
  build failed      the mutated tree does not compile: fix the mutation
  baseline fails    a named test fails without the mutation: fix that first
  no test ran       an e2e pattern matched no test, or its tests skipped
                    under the mutation: neither caught nor survived

Not part of `make test`. Usage (from anywhere in the repository):

    python3 test/mutate/mutate.py [-j 2] [-k NAME,...] [--list] [--check] [--keep]

-j: mutations run at once (default 2: the machine is shared). -k: only the
mutations whose name contains one of the texts (comma list). --check: only
say which mutations still apply to the working tree (nothing is built). --keep: leave the scratch copies.
Prints a Markdown table and the kill rate (caught / (caught + survived));
exit 1 when any mutation survived or no longer applies.
"""
import argparse
import concurrent.futures
import os
import queue
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = subprocess.run(["git", "rev-parse", "--show-toplevel"], capture_output=True, text=True,
                      cwd=os.path.dirname(os.path.abspath(__file__)), check=True).stdout.strip()
UNIT_TIMEOUT = 120
E2E_TIMEOUT = 300
NO_TEST = "matched no test, or every one skipped"
BUILD_TIMEOUT = 900


class M:
    """One mutation: name, file under src/, edits [(old, new)] in that file
    or [(other file, old, new)], unit test binaries (names under
    build/unit/), e2e patterns, and what it breaks."""

    def __init__(self, name, file, edits, unit=(), e2e=(), what=""):
        self.name, self.file, self.edits = name, file, edits
        self.unit, self.e2e, self.what = list(unit), list(e2e), what


MUTATIONS = [
    # ---- the survivors of issue 15 ----
    M("audit-no-user_id", "src/audit.c", [('    kopt(&w, "user_id", a->user_id);\n', "")],
      e2e=["test_survivors:test_audit_accepted_and_job_end_fields"],
      what="no audit line names who asked"),
    M("audit-no-peer", "src/audit.c", [('    kopt(&w, "peer", a->peer);\n', "")],
      e2e=["test_survivors:test_audit_rejected_bad_signature_fields"],
      what="no audit line names the client address"),
    M("refused-audit-no-user_id", "src/route.c", [("                      .user_id = in->user_id,\n",
        '                      .user_id = strcmp(v->event, "refused") ? in->user_id : NULL,\n')],
      e2e=["test_survivors:test_audit_refused_namespace_fields"],
      what="refusals do not say who was refused"),
    M("job_end-no-user_id", "src/route.c", [('{.event = "job_end",\n                       .team_id = job->spec.team_id,\n'
        "                       .user_id = job->spec.user_id,\n",
        '{.event = "job_end",\n                       .team_id = job->spec.team_id,\n')],
      e2e=["test_survivors:test_audit_job_end_failed_fields"],
      what="job_end lines do not say whose job ended"),
    M("accepted-no-peer", "src/route.c", [("                      .peer = in->peer,\n",
        "                      .peer = v->outcome == OUT_ACCEPTED ? NULL : in->peer,\n")],
      e2e=["test_survivors:test_audit_accepted_and_job_end_fields"],
      what="accepted lines do not name the client address"),
    M("rollback-no-lock", "src/route.c",
      [("sp->locks = cmd->verb == CMD_DEPLOY || cmd->verb == CMD_ROLLBACK || cmd->verb == CMD_RESTART;",
        "sp->locks = cmd->verb == CMD_DEPLOY || cmd->verb == CMD_RESTART;")],
      e2e=["test_survivors:test_rollback_holds_the_lock"],
      what="a rollback and a deploy of one target run at once"),
    M("worker-no-escape", "src/worker.c",
      [("slack_escape_text(res.text, escaped, sizeof escaped);", 'snprintf(escaped, sizeof escaped, "%s", res.text);')],
      e2e=["test_survivors:test_hostile_api_message_escaped_in_slack"],
      what="an API message with <!channel> pings the whole channel"),
    M("jobs_total-never", "src/route.c", [("    metrics.jobs[jr]++;\n", "")],
      e2e=["test_survivors:test_metrics_jobs_ok_failed_and_replies_failed"],
      what="deploy_api_jobs_total stays 0"),
    M("http_responses_total-never", "src/server.c",
      [("    if (st / 100 >= 1 && st / 100 <= 5) s->stats.by_status[st / 100]++;\n", "")],
      e2e=["test_survivors:test_metrics_connections_and_http_classes"],
      what="deploy_api_http_responses_total stays 0"),
    # ---- the core ----
    M("signature-window", "src/slack.c",
      [("if (skew > SLACK_MAX_SKEW) return SLACK_STALE;", "if (skew > 10 * SLACK_MAX_SKEW) return SLACK_STALE;")],
      unit=["test_slack"], e2e=["test_frontdoor:test_window_edges"],
      what="requests 50 minutes old are accepted"),
    M("hmac-compare-length", "src/slack.c",
      [("int ok = str_ct_eq(want, got, sizeof want);", "int ok = str_ct_eq(want, got, 16);")],
      unit=["test_slack"], what="half the signature is checked"),
    M("replay-recording", "src/slack.c",
      [("            s->used = 1;\n            r->n++;\n", "            r->n++;\n")],
      unit=["test_slack"], e2e=["test_frontdoor:test_replay_refused"],
      what="a captured request can be sent again"),
    M("duplicate-form-fields", "src/form.c",
      [("if (strcmp(f->f[k].key, key) == 0) {", "if (0 && strcmp(f->f[k].key, key) == 0) {")],
      unit=["test_form"], e2e=["test_frontdoor:test_duplicate_form_field_refused"],
      what="user_id=A&user_id=B is read one way here, another way elsewhere"),
    M("deny-as-allow", "src/policy.c", [("if (m == 4) return (struct policy_decision){r->allow, POLICY_RULE, r->line};",
        "if (m == 4) return (struct policy_decision){1, POLICY_RULE, r->line};")],
      unit=["test_policy"], e2e=["test_frontdoor:test_policy_file"],
      what="a deny rule lets the user through"),
    M("version-with-slash", "src/slack.c",
      [("if (memchr2(v, '/', '@') || memchr(v.p, ':', v.n))", "if (memchr(v.p, '@', v.n) || memchr(v.p, ':', v.n))"),
       ("src/k8sname.c", "c == '_' ||\n           c == '.' || c == '-';", "c == '_' ||\n           c == '.' || c == '-' || c == '/';")],
      unit=["test_slack"], e2e=["test_survivors:test_version_with_slash_refused"],
      what="a version like evil.example/x:1 picks the registry"),
    M("response_url-port", "src/respond.c",
      [("strcasecmp(want.host, have->host) == 0 && want.port == have->port)", "strcasecmp(want.host, have->host) == 0)")],
      unit=["test_respond"], e2e=["test_kube_e2e:test_disallowed_response_url_never_contacted"],
      what="results go to any port of an allowed host"),
    M("tls-name-check", "src/tls.c",
      [("br_ssl_client_reset(&c->sc, c->server_name, 0)", "br_ssl_client_reset(&c->sc, NULL, 0)")],
      unit=["test_tls"], e2e=["test_kube_e2e:test_name_mismatch"],
      what="any certificate of the CA passes for the API server"),
    M("rollout-done-too-early", "src/kdoc.c",
      [("    if (k->available < k->updated) {", "    if (k->available < 0) {")],
      unit=["test_kube"], what="a rollout is reported done before its pods are available"),
    M("patch-content-type", "src/kube.c",
      [('"Content-Type: application/strategic-merge-patch+json"', '"Content-Type: application/merge-patch+json"')],
      e2e=["test_kube_e2e:test_deploy_success_matches_kubectl_set_image"],
      what="a merge patch replaces the whole container list"),
    M("lock-release", "src/jobs.c", [("        job->pid = 0;\n        j->running--;", "        j->running--;")],
      e2e=["test_survivors:test_hostile_api_message_escaped_in_slack"],
      what="a target stays locked after its job ended"),
    M("cl-plus-te", "src/http.c",
      [("if (te) return r->has_length ? -S_BAD_REQUEST : -S_LENGTH_REQUIRED;",
        "if (te && !r->has_length) return -S_LENGTH_REQUIRED;")],
      unit=["test_http"], e2e=["test_server:test_body_limit_413_and_length_rules"],
      what="Content-Length with Transfer-Encoding (request smuggling) is accepted"),
    M("token-re-read", "src/kapi.c",
      [("if (resp->status == 401 && !reauth && (j->k->token_file || j->k->refresh_token)) {",
        "if (0 && resp->status == 401 && !reauth && (j->k->token_file || j->k->refresh_token)) {")],
      e2e=["test_kube_e2e:test_token_rotated_mid_job"],
      what="a job keeps a rotated-out token after a 401"),
    # ---- more guarantees the suite claims ----
    M("team-allowlist", "src/route.c",
      [("if (config_team_allowed(&a->cfg, in->team_id)) return 0;",
        "if (1 || config_team_allowed(&a->cfg, in->team_id)) return 0;")],
      e2e=["test_frontdoor:test_team_allowlist"], what="any Slack workspace may deploy"),
    M("namespace-allowlist", "src/route.c",
      [("if (!config_namespace_allowed(&a->cfg, cmd->ns))", "if (0 && !config_namespace_allowed(&a->cfg, cmd->ns))")],
      e2e=["test_survivors:test_audit_refused_namespace_fields"], what="any namespace may be touched"),
    M("ssl_check-any-value", "src/route.c",
      [('if (!v || strcmp(v, "1") != 0) return 0;', "if (!v) return 0;")],
      e2e=["test_survivors:test_ssl_check_is_exactly_1"], what="ssl_check=anything skips the command"),
    M("reject-audit-unlimited", "src/route.c",
      [("if (unverified.n++ >= REJECT_AUDIT_PER_SEC) {", "if (unverified.n++ >= 1000000) {")],
      e2e=["test_frontdoor:test_unverified_flood_audit_is_rate_limited"],
      what="unsigned floods write one audit line each"),
    M("userinfo-response_url", "src/respond.c", [("if (url[a] == '@') {", "if (0 && url[a] == '@') {")],
      unit=["test_respond"], what="https://allowed@evil/ passes the host check"),
    M("lookups-in-channel", "src/worker.c",
      [("int in_channel = res.announced || sp->verb == CMD_ROLLBACK || sp->verb == CMD_RESTART;",
        "int in_channel = 1;")],
      e2e=["test_kube_e2e:test_status_output"], what="status and history results go to the whole channel"),
    M("job-deadline-never", "src/jobs.c",
      [("if (job->pid && now_ms >= job->deadline_ms && !job->killed) {",
        "if (job->pid && now_ms >= job->deadline_ms * 1000 && !job->killed) {")],
      e2e=["test_survivors:test_metrics_jobs_busy_locked_running"], what="a hung job runs forever"),
    M("crashed-as-killed", "src/route.c",
      [("return job->killed ? JOB_KILLED : JOB_CRASHED;", "return JOB_KILLED;")],
      e2e=["test_survivors:test_metrics_jobs_busy_locked_running"],
      what="a job that died is reported as killed at its deadline"),
    M("requests_total-not-on-refusal", "src/route.c",
      [("    metrics.requests[v->outcome]++;\n    if (!v->event) return;\n",
        "    if (!v->event || v->outcome == OUT_ACCEPTED) metrics.requests[v->outcome]++;\n"
        "    if (!v->event) return;\n")],
      e2e=["test_survivors:test_metrics_requests_total_every_outcome"],
      what="refused and rejected requests are not counted"),
    M("replies_failed-never", "src/route.c",
      [('    if (strncmp(reply, "failed", 6) == 0) metrics.replies_failed++;\n', "")],
      e2e=["test_survivors:test_metrics_jobs_ok_failed_and_replies_failed"],
      what="deploy_api_replies_failed_total stays 0"),
    M("timed_out-never", "src/server.c", [("            s->stats.closed_timeout++;\n", "")],
      e2e=["test_survivors:test_metrics_connections_and_http_classes"],
      what='deploy_api_connections_total{event="timed_out"} stays 0'),
    M("log_lines_dropped-never", "src/audit.c",
      [("        dropped_now++;\n        audit_lines_dropped++;\n", "        dropped_now++;\n")],
      e2e=["test_server:test_stdout_reader_that_stops_reading_does_not_stall_the_loop"],
      what="deploy_api_log_lines_dropped_total misses lines dropped from the queue"),
    M("patch-retried-on-500", "src/kapi.c",
      [("(st == 429 || (get && (st == 500 ||", "(st == 429 || ((st == 500 ||")],
      e2e=["test_api_faults:test_500_on_patch_not_retried"], what="a PATCH answered 500 is sent again"),
    M("broken-get-not-retried", "src/kapi.c",
      [("if (get && tries < KUBE_API_RETRIES && httpc_err_broken(resp->error)) {",
        "if (0 && get && tries < KUBE_API_RETRIES && httpc_err_broken(resp->error)) {")],
      e2e=["test_api_faults:test_tls_reset_mid_response_retried"],
      what="a GET whose answer broke off fails the job instead of being retried"),
    M("namespace-length-unchecked", "src/k8sname.c",
      [("return n <= K8S_NS_MAX && dns_label(s, n);", "return dns_label(s, n);")],
      unit=["test_k8sname"], what="a namespace past 63 characters is accepted"),
    # ---- Leases (two replicas) ----
    M("lease-expiry-skipped", "src/lease.c",
      [("return now_ms >= t + d * 1000 ? LEASE_EXPIRED : LEASE_HELD;", "return LEASE_EXPIRED;")],
      unit=["test_lease"], e2e=["test_lease:test_lease_held_by_a_live_pod_refuses_without_patching"],
      what="a live replica's Lease is taken over as if it had expired"),
    M("lease-update-without-resourceVersion", "src/lease.c",
      [("        memcpy(h->rec.rv, cur.rv, sizeof cur.rv);\n        h->rec.transitions",
        "        h->rec.transitions")],
      e2e=["test_lease:test_lease_left_by_a_dead_pod_is_taken_over_once_expired"],
      what="a take-over overwrites whatever the Lease holds now (no optimistic lock)"),
    M("lease-renewer-never-started", "src/lease.c",
      [("        if (lease_renew_start(h) == 0) return 0;\n", "        return 0;\n")],
      e2e=["test_lease:test_lease_renewed_during_a_long_rollout_then_released"],
      what="a job longer than LEASE_DURATION loses its lock to the other replica"),
    M("lease-release-any-holder", "src/lease.c",
      [("    if (strcmp(cur.holder, h->c.me) != 0) {\n        h->lost = 1;",
        "    if (0 && strcmp(cur.holder, h->c.me) != 0) {\n        h->lost = 1;")],
      e2e=["test_lease:test_lease_taken_over_during_the_job_is_left_alone_and_reported"],
      what="a job's end frees a Lease another replica took over"),
    # ---- restart ----
    M("restart-no-lock", "src/route.c",
      [("sp->locks = cmd->verb == CMD_DEPLOY || cmd->verb == CMD_ROLLBACK || cmd->verb == CMD_RESTART;",
        "sp->locks = cmd->verb == CMD_DEPLOY || cmd->verb == CMD_ROLLBACK;")],
      e2e=["test_survivors:test_restart_holds_the_lock"],
      what="a restart and a deploy of one target run at once"),
    M("restart-annotation-key", "src/krestart.c",
      [("annotation_at(&w, tmpl, 3, KRESTART_KEY, at);",
        'annotation_at(&w, tmpl, 3, "kubectl.kubernetes.io/restarted-at", at);')],
      unit=["test_krestart"], e2e=["test_messages:test_restart_end_to_end"],
      what="restart writes an annotation kubectl does not use"),
    # ---- policy ----
    M("policy-deploy-rule-allows-restart", "src/policy.c",
      [('if (slice_eq(s, "deploy")) return 1 << CMD_DEPLOY;',
        'if (slice_eq(s, "deploy")) return 1 << CMD_DEPLOY | 1 << CMD_RESTART;')],
      unit=["test_policy"], what="a rule naming deploy also lets the user restart"),
    # ---- hardening (issue 12) ----
    M("replay-recorded-before-workspace", "src/route.c",
      [("step_workspace(a, in, v) == 0 && step_admit(in, v) == 0",
        "step_admit(in, v) == 0 && step_workspace(a, in, v) == 0")],
      e2e=["test_hardening:test_replay_table_only_records_allowed_workspaces"],
      what="any workspace's requests fill the replay table (then real ones get 503)"),
    M("head-error-with-body", "src/server.c",
      [('c->head = c->in_len >= 5 && memcmp(c->in, "HEAD ", 5) == 0;', "c->head = 0;")],
      e2e=["test_server:test_head_never_has_a_body"],
      what="a 400/431 answer to HEAD carries a body (the next response is misread)"),
    M("eku-unchecked", "src/eku.c",
      [("if (x->too_big || eku_server_ok(x->ee, x->len) != 1) return EKU_ERR_NOT_SERVER;",
        "if (0 && (x->too_big || eku_server_ok(x->ee, x->len) != 1)) return EKU_ERR_NOT_SERVER;")],
      unit=["test_tls"], what="a client-only certificate of the CA passes as the API server"),
    M("token-over-http", "src/worker.c",
      [("k->token_file = k->api.https ? a->cfg.kube_token_file : NULL;",
        "k->token_file = a->cfg.kube_token_file;")],
      e2e=["test_hardening:test_no_bearer_token_over_plain_http"],
      what="the bearer token goes over plain http://"),
    M("kubeconfig-creds-over-http", "src/kubesrc.c",
      [("    if (!k->api.https) return 0;\n    k->token_file", "    k->token_file")],
      e2e=["test_kubeconfig:test_no_credentials_over_plain_http"],
      what="a kubeconfig's token goes over plain http://"),
    M("ssl_check-more-fields", "src/route.c",
      [('if (strcmp(f->f[i].key, "ssl_check") != 0 && strcmp(f->f[i].key, "token") != 0) return 0;',
        'if (0 && strcmp(f->f[i].key, "ssl_check") != 0) return 0;')],
      e2e=["test_frontdoor:test_ssl_check"],
      what="an unsigned command with ssl_check=1 added skips verification"),
    M("xff-first-hop", "src/proxies.c",
      [("if (!trusted_ip(trusted, ip) || start == 0)", "if (start == 0)")],
      unit=["test_proxies"], e2e=["test_hardening:test_trusted_proxies_client_address"],
      what="the audit's client is the leftmost X-Forwarded-For hop (the client's own claim)"),
    # ---- kubeconfig, exec plugins ----
    M("kubeconfig-merge-last-wins", "src/kubeconfig.c",
      [("    for (int i = 0; i < n; i++) {\n        const struct yaml_node *list = yaml_get(docs[i].root, section);",
        "    for (int i = n - 1; i >= 0; i--) {\n        const struct yaml_node *list = yaml_get(docs[i].root, section);")],
      unit=["test_kubeconfig"], e2e=["test_kubeconfig:test_merged_KUBECONFIG_first_file_wins"],
      what="with KUBECONFIG=a:b, b's entry of a name wins (kubectl: the first)"),
    M("kubeconfig-path-relative-to-cwd", "src/kubeconfig.c",
      [("if (rel[0] == '/' || !slash)", "if (rel[0] || !slash)")],
      unit=["test_kubeconfig"], e2e=["test_kubeconfig:test_kind_and_minikube_files_relative_pkcs8"],
      what="a relative certificate path is read from the working directory"),
    M("kubeconfig-insecure-accepted", "src/kubeconfig.c",
      [('if (is_true(c, "insecure-skip-tls-verify"))', 'if (0 && is_true(c, "insecure-skip-tls-verify"))')],
      unit=["test_kubeconfig"], e2e=["test_kubeconfig:test_refusals_say_what_to_do"],
      what="insecure-skip-tls-verify is silently accepted"),
    M("execcred-expired-used", "src/execcred.c",
      [("if (c->expires <= now) {", "if (0 && c->expires <= now) {")],
      unit=["test_kubeconfig"], e2e=["test_kubeconfig:test_exec_plugin_expired_token_is_refused"],
      what="an exec plugin's expired token is sent"),
    # ---- metrics (issue 14) ----
    M("job-duration-never-observed", "src/route.c",
      [("metrics_job_end(job->spec.verb, jr, now_ms - job->started_ms,",
        "metrics_job_end(job->spec.verb, jr, -1,")],
      e2e=["test_messages:test_metrics_exposition_parses_and_every_family_moves"],
      what="deploy_api_job_duration_seconds never moves"),
    # ---- Socket Mode (issue 10) ----
    M("ws-accept-unchecked", "src/ws.c",
      [("    if (h.accept != 1) return *why = WS_HS_ACCEPT, -1;\n", "")],
      unit=["test_ws"], what="any Sec-WebSocket-Accept (or none) completes the handshake"),
    M("ws-masked-server-frame", "src/ws.c",
      [("    if (b1 & 0x80) return *e = WS_E_MASKED, -1;\n", "")],
      unit=["test_ws"], what="a masked server frame is read as if it were not"),
    M("socket-no-pong", "src/socket.c",
      [("        return send_frame(c, WS_OP_PONG, r->data, r->len);", "        return 0;")],
      unit=["test_socket"], e2e=["test_socketmode:test_pings_answered"],
      what="Slack's pings go unanswered"),
    M("socket-drain-closes-at-once", "src/socket.c",
      [("(ready >= K.cfg->connections || now >= c->drain_until_ms)", "1")],
      unit=["test_socket"],
      what="a disconnect closes the socket before its replacement is ready"),
    M("envelope-retry-runs-again", "src/route.c",
      [("    if (!socksup_seen(&h->a->sock, h->envelope_id)) return 0;", "    return 0;")],
      e2e=["test_socketmode:test_retried_envelope_runs_once"],
      what="a retried envelope runs its command a second time"),
    M("readyz-without-hello", "src/route.c",
      [("(!a->cfg.app_token || a->sock.ready > 0)", "1")],
      e2e=["test_socketmode:test_readyz_without_hello"],
      what="/readyz says ready in Socket Mode before any socket got hello"),
    M("socket-child-keeps-secret", "src/config.c",
      [("        if (v) explicit_bzero(v, strlen(v));", "        (void)v;")],
      e2e=["test_socketmode:test_both_front_doors"],
      what="the socket child (and every job child) holds the signing secret in its environment"),
    # ---- issue 9: deploys as a person would do them, rollouts explained ----
    M("history-continue-ignored", "src/kapi.c",
      [("        if (!cont[0]) return 0;\n", "        return 0;\n")],
      unit=["test_kube"], e2e=["test_diagnose:test_history_many_revisions_in_pages"],
      what="a list's continue token is ignored: history misses every page after the first"),
    M("container-flag-ignored", "src/kdoc.c",
      [("const char *by = want && *want ? want : deployment;",
        "const char *by = deployment;\n    (void)want;")],
      unit=["test_kdoc"], e2e=["test_deploy_real:test_container_flag_and_multi_container_refusal"],
      what="-c is ignored: the container is chosen by the deployment's name"),
    M("container-flag-falls-back", "src/kdoc.c",
      [("if (!pick && by == deployment && d->ncontainers == 1)", "if (!pick && d->ncontainers == 1)")],
      unit=["test_kdoc"],
      what="-c naming no container deploys the only container there is"),
    M("init-containers-not-moved", "src/kube.c",
      [("if (!c->name_ok || !kimage_same_repo(c->image, p->cur)) continue;", "if (1) continue;")],
      unit=["test_kube"],
      e2e=["test_deploy_real:test_init_container_of_the_same_repository_moves_in_the_same_patch"],
      what="init containers of the same repository keep the old version"),
    M("patch-repeated-after-admission", "src/kube.c",
      [("if (rc == 2 && attempt < KUBE_CONFLICT_RETRIES) continue;",
        "if ((rc == 2 || (rc == 1 && kdoc_image_of(pd, pl->cname, 0) &&\n"
        "                         strcmp(kdoc_image_of(pd, pl->cname, 0), res->image) != 0)) &&\n"
        "            attempt < KUBE_CONFLICT_RETRIES)\n            continue;")],
      unit=["test_kube"], e2e=["test_deploy_real:test_admission_pinning_is_followed_not_fought"],
      what="a PATCH that admission changed (a pinned digest) is sent again and again"),
    M("replaced-template-is-success", "src/rollout.c",
      [("if (img && strcmp(img, f->want.image) != 0) {", "if (0 && img && strcmp(img, f->want.image) != 0) {")],
      unit=["test_kube"], e2e=["test_deploy_real:test_template_replaced_mid_rollout_is_never_success"],
      what="a rollout of a template someone else replaced is reported as our success"),
    M("refused-deploy-public", "src/worker.c",
      [("int in_channel = res.announced || sp->verb == CMD_ROLLBACK || sp->verb == CMD_RESTART;",
        "int in_channel = sp->verb == CMD_DEPLOY || sp->verb == CMD_ROLLBACK || sp->verb == CMD_RESTART;")],
      e2e=["test_deploy_real:test_typo_and_api_refusal_never_reach_the_channel"],
      what="a deploy the API refused (or a typo) is posted to the whole channel"),
    M("socket-refusal-not-acked", "src/route.c",
      [("    ack->len = n < 0 ? 0 : (unsigned)n;\n",
        "    ack->len = n < 0 ? 0 : (unsigned)n;\n    if (v.outcome != OUT_ACCEPTED) ack->envelope_id[0] = 0;\n")],
      e2e=["test_socketmode:test_refusals_acked_ephemerally"],
      what="a refused command's ack never reaches its envelope (Slack retries, the user sees nothing)"),
    M("ws-client-frame-unmasked", "src/ws.c",
      [("        out[1] = (unsigned char)(0x80 | len);", "        out[1] = (unsigned char)len;"),
       ("        out[1] = 0x80 | 126;", "        out[1] = 126;"),
       ("        out[1] = 0x80 | 127;", "        out[1] = 127;"),
       ("    memcpy(out + hl, mask, 4);\n    const unsigned char *p = payload;\n"
        "    for (size_t i = 0; i < len; i++) out[hl + 4 + i] = p[i] ^ mask[i & 3];\n"
        "    return (long)(hl + 4 + len);",
        "    (void)mask;\n    if (len) memcpy(out + hl, payload, len);\n    return (long)(hl + len);")],
      unit=["test_ws"], e2e=["test_socketmode:test_deploy_end_to_end"],
      what="frames to Slack go unmasked (RFC 6455: the server must close the connection)"),
    M("ws-16bit-length-byte-order", "src/ws.c",
      [("len = (unsigned long long)buf[2] << 8 | buf[3];", "len = (unsigned long long)buf[3] << 8 | buf[2];")],
      unit=["test_ws"], e2e=["test_socketmode:test_every_length_form_and_fragments"],
      what="a frame of 126..65535 bytes is read with its length bytes swapped"),
]


def tree_files():
    out = subprocess.run(["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=ROOT,
                         capture_output=True, check=True).stdout
    return [p for p in out.decode().split("\0") if p]


def make_slot(base, i):
    """A copy of the working tree (tracked and untracked, not ignored) with
    BearSSL's prebuilt objects, so only our code is compiled."""
    d = os.path.join(base, f"slot{i}")
    for rel in tree_files():
        src = os.path.join(ROOT, rel)
        if not os.path.isfile(src):
            continue  # deleted in the working tree
        dst = os.path.join(d, rel)
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        shutil.copy2(src, dst)
    for sub in ("third_party", "bearssl-musl", "bearssl-host"):
        src = os.path.join(ROOT, "build", sub)
        if os.path.isdir(src):
            shutil.copytree(src, os.path.join(d, "build", sub), symlinks=True)
    # The Socket Mode stand-in's npm packages (ignored by git, installed by
    # ci/deps.sh): linked, not copied.
    mods = os.path.join(ROOT, "test/e2e/standins/node_modules")
    if os.path.isdir(mods):
        os.symlink(mods, os.path.join(d, "test/e2e/standins/node_modules"))
    return d


def sh(cmd, cwd, timeout):
    """(ok, tail of output); a timeout is a failure."""
    try:
        p = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return False, f"timed out after {timeout}s"
    return p.returncode == 0, (p.stdout + p.stderr)[-2000:]


def build(slot, units):
    targets = ["build/deploy-api"] + [f"build/unit/{u}" for u in units]
    return sh(["make", "-j1", *targets], slot, BUILD_TIMEOUT)


def run_tests(slot, units, e2e):
    """None when all pass, else the first test that failed and why."""
    for u in units:
        ok, out = sh([os.path.join(slot, "build/unit", u)], slot, UNIT_TIMEOUT)
        if not ok:
            return f"unit {u}", out
    for pat in e2e:
        ok, out = sh([sys.executable, "test/e2e/run.py", os.path.join(slot, "build/deploy-api"), pat],
                     slot, E2E_TIMEOUT)
        if ok and "PASS " not in out:
            return f"e2e {pat}", NO_TEST
        if not ok:
            return f"e2e {pat}", out
    return None


def mutated(tree, m):
    """({path: (original, mutated)}, None), or (None, why it does not apply).
    An edit is (old, new) in m.file, or (file, old, new)."""
    texts = {}
    for edit in m.edits:
        file, old, new = edit if len(edit) == 3 else (m.file, *edit)
        path = os.path.join(tree, file)
        if path not in texts:
            try:
                with open(path) as f:
                    orig = f.read()
            except OSError:
                return None, f"{file} is gone"
            texts[path] = (orig, orig)
        orig, text = texts[path]
        n = text.count(old)
        if n != 1:
            return None, f"snippet found {n} times in {file}: {old.strip()[:60]!r}"
        texts[path] = (orig, text.replace(old, new))
    return texts, None


def applies(tree, m):
    return mutated(tree, m)[1]


def write_all(texts, which):
    for path, pair in texts.items():
        with open(path, "w") as f:
            f.write(pair[which])


def mutate(slot, m):
    """Apply m in slot, build, test, restore. Returns (verdict, detail)."""
    texts, why = mutated(slot, m)
    if why:
        return "no longer applies", why
    try:
        write_all(texts, 1)
        ok, out = build(slot, m.unit)
        if not ok:
            return "build failed", out.strip().splitlines()[-1:] or ""
        failed = run_tests(slot, m.unit, m.e2e)
        if failed and failed[1] == NO_TEST:
            return "no test ran", f"{failed[0]}: {NO_TEST}"
        if failed:
            return "caught", failed[0]
        return "survived", "every named test passed"
    finally:
        write_all(texts, 0)


def baseline(slot, units, patterns):
    """Names of the selections that fail on the unmutated tree."""
    ok, out = build(slot, units)
    if not ok:
        raise SystemExit(f"the unmutated tree does not build:\n{out}")
    bad = set()
    for u in units:
        if run_tests(slot, [u], []):
            bad.add(u)
    for p in patterns:
        if run_tests(slot, [], [p]):
            bad.add(p)
    return bad


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("-j", type=int, default=2)
    ap.add_argument("-k", default="", help="only mutations whose name contains one of these (comma list)")
    ap.add_argument("--list", action="store_true")
    ap.add_argument("--check", action="store_true", help="only say which mutations still apply")
    ap.add_argument("--keep", action="store_true")
    a = ap.parse_args()
    todo = [m for m in MUTATIONS if any(k in m.name for k in a.k.split(","))]
    if a.list:
        for m in todo:
            print(f"{m.name:30} {m.file:14} {' '.join(m.unit + m.e2e)}")
        return 0
    if a.check:
        stale = [(m, why) for m in todo for why in [applies(ROOT, m)] if why]
        for m, why in stale:
            print(f"{m.name}: no longer applies ({why})")
        print(f"{len(todo) - len(stale)}/{len(todo)} mutations apply")
        return 1 if stale else 0
    jobs = max(1, min(a.j, 2, len(todo)))
    t0 = time.monotonic()
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                            text=True).stdout.strip()
    dirty = subprocess.run(["git", "status", "--porcelain", "--", "src", "test"], cwd=ROOT,
                           capture_output=True, text=True).stdout.strip()
    base = tempfile.mkdtemp(prefix="deploy-api-mutate-")
    try:
        slot_dirs = [make_slot(base, i) for i in range(jobs)]
        slots = queue.Queue()
        for d in slot_dirs:
            slots.put(d)
        units = sorted({u for m in todo for u in m.unit})
        patterns = sorted({p for m in todo for p in m.e2e})
        # the baseline: every selection passes without a mutation (split over the slots)
        with concurrent.futures.ThreadPoolExecutor(jobs) as ex:
            parts = [ex.submit(baseline, slot_dirs[i], units[i::jobs], patterns[i::jobs])
                     for i in range(jobs)]
            bad = set().union(*(f.result() for f in parts))

        def one(m):
            if bad & set(m.unit + m.e2e):
                return m, "baseline fails", ", ".join(sorted(bad & set(m.unit + m.e2e)))
            slot = slots.get()
            try:
                t = time.monotonic()
                verdict, detail = mutate(slot, m)
                print(f"  {m.name}: {verdict} ({detail}, {time.monotonic() - t:.0f}s)", flush=True)
                return m, verdict, detail
            finally:
                slots.put(slot)

        with concurrent.futures.ThreadPoolExecutor(jobs) as ex:
            results = list(ex.map(one, todo))
    finally:
        if a.keep:
            print(f"scratch copies kept in {base}")
        else:
            shutil.rmtree(base, ignore_errors=True)
    caught = sum(v == "caught" for _, v, _ in results)
    survived = sum(v == "survived" for _, v, _ in results)
    print()
    print(f"Mutation run on {commit}{' + uncommitted changes' if dirty else ''}, "
          f"{time.monotonic() - t0:.0f} s, {jobs} at once.")
    print()
    print("| mutation | file | breaks | verdict | caught by |")
    print("|---|---|---|---|---|")
    for m, v, d in results:
        print(f"| {m.name} | {m.file} | {m.what} | {v} | {d if v == 'caught' else ''} |")
    print()
    rate = f"{100 * caught / (caught + survived):.0f}%" if caught + survived else "n/a"
    print(f"Kill rate: {caught}/{caught + survived} = {rate}")
    others = [f"{m.name}: {v} ({d})" for m, v, d in results if v not in ("caught", "survived")]
    for o in others:
        print(f"  {o}")
    return 1 if survived or others else 0


if __name__ == "__main__":
    sys.exit(main())
