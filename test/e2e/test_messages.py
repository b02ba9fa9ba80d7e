"""Issue 14: what people read. `/deploy restart` end to end and against real
kubectl (the same object, apart from the timestamp); policy refusals that
name the rule or the missing field; API failures worded by what failed
(connect, TLS with host:port and reason, HTTP status); the metrics
exposition parsed whole by a strict parser, each family checked to move
with its event; log lines as flat JSON objects with ts, level and log."""
import json
import math
import os
import re
import shutil
import subprocess
import tempfile
import time
from datetime import datetime, timezone
from urllib.parse import urlsplit

from lib import BIN, SECRET, Skip, Stack, wait_until
from standins._server import unused_port
from standins.ca import TestCA
from standins.kube import CHANGE_CAUSE, FakeKube

RESTARTED = "kubectl.kubernetes.io/restartedAt"
NS = "default"
POLICY = """\
# issue 14 e2e policy
deny   restart                                 *         *  default/frozen
allow  deploy,status,history,rollback,restart  U0TESTER  *  default/web,default/frozen,default/slow
allow  status                                  *  C0DEPLOY  default/*
"""
st = None


def setup_module():
    global st
    d = tempfile.mkdtemp(prefix="deploy-api-msg-")
    pol = os.path.join(d, "policy")
    with open(pol, "w") as f:
        f.write(POLICY)
    st = Stack(env={"ROLLOUT_TIMEOUT": "10", "DEPLOY_POLICY_FILE": pol},
               deployments=((NS, "web"), (NS, "frozen"), (NS, "slow")))
    st.policy_dir = d
    st.kube.rollout_delay = 0.05


def teardown_module():
    st.stop()
    shutil.rmtree(st.policy_dir, ignore_errors=True)


def run(text, timeout=20, **fields):
    """A signed command; (ack JSON, job_end audit line, last post to its
    response_url) once the job ended."""
    srv = st.server
    url = st.response_url()
    n = len(srv.audit(event="accepted"))
    code, body = srv.post_slack(text, response_url=url, **fields)
    assert code == 200, (code, body)
    acc = wait_until(lambda: srv.audit(event="accepted")[n:], what="accepted line")[0]
    end = srv.wait_audit(timeout=timeout, event="job_end", job=acc["job"])[0]
    path = urlsplit(url).path
    posts = wait_until(lambda: [p for p in st.slack.posts if p["path"] == path],
                       what="result post")
    return json.loads(body), end, posts[-1]["json"]


def refused(text, **fields):
    """A command the front door refuses: (its ephemeral text, the audit line)."""
    srv = st.server
    n = len(srv.audit(event="refused"))
    code, body = srv.post_slack(text, response_url=st.response_url(), **fields)
    assert code == 200, (code, body)
    ack = json.loads(body)
    assert ack["response_type"] == "ephemeral", ack
    line = wait_until(lambda: srv.audit(event="refused")[n:], what="refused line")[0]
    return ack["text"], line


def stable(d):
    d = json.loads(json.dumps(d))
    for k in ("uid", "resourceVersion", "creationTimestamp", "managedFields", "generation"):
        d["metadata"].pop(k, None)
    d.pop("status", None)
    return d


def without(d, *paths):
    """d with the annotations named (as (where, key)) removed."""
    d = json.loads(json.dumps(d))
    for where, key in paths:
        m = d["metadata"] if where == "deployment" else d["spec"]["template"]["metadata"]
        m.get("annotations", {}).pop(key, None)
        if m.get("annotations") == {}:
            m.pop("annotations")
    return d


def kubeconfig(dirname, kube, ca):
    path = os.path.join(dirname, "kubeconfig")
    with open(path, "w") as f:
        f.write(f"""apiVersion: v1
kind: Config
clusters:
- name: standin
  cluster:
    server: https://127.0.0.1:{kube.port}
    certificate-authority: {ca.cert}
    tls-server-name: kubernetes.default.svc
users:
- name: u
  user:
    token: {kube.token}
contexts:
- name: c
  context: {{cluster: standin, user: u, namespace: {NS}}}
current-context: c
""")
    return path


# ---- restart -------------------------------------------------------------

def test_restart_end_to_end():
    before = st.kube.get_deployment(NS, "web")
    st.kube.clear_log()
    t0 = datetime.now(timezone.utc).replace(microsecond=0)
    ack, end, post = run("restart web")
    assert ack["response_type"] == "in_channel", ack
    assert "<@U0TESTER> is restarting `default/web`" in ack["text"], ack
    assert post["response_type"] == "in_channel", post
    assert re.match(r":white_check_mark: <@U0TESTER>: restarted default/web, now revision \d+: 3/3",
                    post["text"]), post
    assert end["command"] == "restart" and end["result"] == "ok", end
    assert end["image"] == "registry.example/web:1.3", end
    # one strategic merge patch: the template's restartedAt and the change-cause
    ps = st.kube.requests_matching(method="PATCH", path="/deployments/web")
    assert len(ps) == 1, ps
    p = ps[0]
    assert p["headers"]["Content-Type"].split(";")[0] == "application/strategic-merge-patch+json"
    cause = p["json"]["metadata"]["annotations"][CHANGE_CAUSE]
    at = p["json"]["spec"]["template"]["metadata"]["annotations"][RESTARTED]
    assert p["json"] == {"metadata": {"annotations": {CHANGE_CAUSE: cause}},
                         "spec": {"template": {"metadata": {"annotations": {RESTARTED: at}}}}}
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", at), at
    when = datetime.strptime(at, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)
    assert t0 <= when <= datetime.now(timezone.utc), (t0, at)
    for part in ("U0TESTER", "tester", "restarted web", "C0DEPLOY"):
        assert part in cause, (part, cause)
    # a new revision whose pods carry the annotation; nothing else changed
    after = st.kube.get_deployment(NS, "web")
    assert after["metadata"]["generation"] == before["metadata"]["generation"] + 1
    rss = st.kube.replicasets(NS, "web")
    assert rss[-1]["spec"]["template"]["metadata"]["annotations"][RESTARTED] == at
    assert rss[-1]["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == "2"
    rev = "deployment.kubernetes.io/revision"
    assert stable(without(after, ("template", RESTARTED), ("deployment", CHANGE_CAUSE),
                          ("deployment", rev))) == \
        stable(without(before, ("deployment", CHANGE_CAUSE), ("deployment", rev))), \
        (stable(after), stable(before))


def test_restart_leaves_what_kubectl_leaves():
    if not shutil.which("kubectl"):
        raise Skip("kubectl not installed")
    d = tempfile.mkdtemp(prefix="deploy-api-kubectl-")
    ref = FakeKube(ca=st.ca, token="ref-token")
    try:
        ref.rollout_delay = 0.05
        ref.add_deployment(NS, "web", containers=[
            {"name": "web", "image": "registry.example/web:1.3"},
            {"name": "envoy", "image": "envoyproxy/envoy:v1.29"}], replicas=3)
        ref.start()
        env = dict(os.environ, KUBECONFIG=kubeconfig(d, ref, st.ca), HOME=d)
        p = subprocess.run(["kubectl", "rollout", "restart", "deployment/web"], env=env,
                           capture_output=True, text=True, timeout=60)
        assert p.returncode == 0, p.stderr
        assert "deployment.apps/web restarted" in p.stdout, p.stdout
        ref.wait_rollout(NS, "web", timeout=10)
        theirs = ref.get_deployment(NS, "web")
        kp = ref.requests_matching(method="PATCH", path="/deployments/web")[-1]
    finally:
        ref.stop()
        shutil.rmtree(d, ignore_errors=True)
    # test_restart_end_to_end restarted our "web" from the same start
    ours = st.kube.get_deployment(NS, "web")
    mine = st.kube.requests_matching(method="PATCH", path="/deployments/web")[-1]
    # kubectl's patch is ours without the change-cause, timestamp aside
    kat = kp["json"]["spec"]["template"]["metadata"]["annotations"][RESTARTED]
    assert kp["json"] == {"spec": {"template": {"metadata": {"annotations": {RESTARTED: kat}}}}}
    mat = mine["json"]["spec"]["template"]["metadata"]["annotations"][RESTARTED]
    assert mine["json"]["spec"] == {"template": {"metadata": {"annotations": {RESTARTED: mat}}}}
    # and the objects are the same apart from the timestamp and the change-cause
    assert RESTARTED in theirs["spec"]["template"]["metadata"]["annotations"]
    assert stable(without(ours, ("template", RESTARTED), ("deployment", CHANGE_CAUSE))) == \
        stable(without(theirs, ("template", RESTARTED))), (stable(ours), stable(theirs))


def test_restart_takes_the_target_lock():
    st.kube.rollout_delay = 1.0
    try:
        srv = st.server
        n = len(srv.audit(event="accepted"))
        code, body = srv.post_slack("restart slow", response_url=st.response_url())
        assert code == 200 and json.loads(body)["response_type"] == "in_channel", body
        acc = wait_until(lambda: srv.audit(event="accepted")[n:], what="accepted")[0]
        text, line = refused("slow 1.4")
        assert "is already being restarted by <@U0TESTER>" in text, text
        assert line["result"] == "locked", line
        srv.wait_audit(timeout=20, event="job_end", job=acc["job"])
    finally:
        st.kube.rollout_delay = 0.05


def test_restart_from_the_command_line():
    env = dict(st.env, PATH="/usr/bin:/bin", USER="alice")
    p = subprocess.run([BIN, "restart", "default/web"], env=env, capture_output=True, text=True,
                       timeout=30)
    assert p.returncode == 0, p.stderr
    assert re.match(r"restarted default/web, now revision \d+: 3/3", p.stdout), p.stdout
    last = st.kube.requests_matching(method="PATCH", path="/deployments/web")[-1]
    assert "alice" in last["json"]["metadata"]["annotations"][CHANGE_CAUSE]
    p = subprocess.run([BIN, "restart"], env=env, capture_output=True, text=True, timeout=30)
    assert p.returncode == 2 and "missing the target" in p.stderr and "restart --help" in p.stderr, \
        p.stderr


def test_restart_of_a_paused_deployment_is_refused_like_kubectl():
    st.kube.patch(NS, "frozen", {"spec": {"paused": True}})
    try:
        env = dict(st.env, PATH="/usr/bin:/bin", USER="alice")
        n = len(st.kube.requests_matching(method="PATCH", path="/deployments/frozen"))
        p = subprocess.run([BIN, "restart", "default/frozen"], env=env, capture_output=True,
                           text=True, timeout=30)
        assert p.returncode == 1, p
        assert "can't restart paused deployment default/frozen (run rollout resume first)" in \
            p.stderr, p.stderr
        assert len(st.kube.requests_matching(method="PATCH", path="/deployments/frozen")) == n
    finally:
        st.kube.patch(NS, "frozen", {"spec": {"paused": False}})


# ---- refusals say which rule ---------------------------------------------

def test_refusal_names_the_deny_rule_and_its_line():
    text, line = refused("restart frozen")
    assert text == "You may not restart `default/frozen`: the deny rule on line 2 of the " \
        "policy matches.", text
    assert line["error"] == "the deny rule on line 2 of the policy matches", line
    assert line["result"] == "forbidden" and line["command"] == "restart"


def test_refusal_names_the_user():
    text, line = refused("web 1.4", user_id="U0OTHER")
    assert "no policy rule allows user U0OTHER to deploy default/web" in text, text
    assert line["error"] == "no policy rule allows user U0OTHER to deploy default/web", line


def test_refusal_names_the_channel():
    text, line = refused("status web", user_id="U0OTHER", channel_id="C0ELSEWHERE")
    assert "no policy rule allows user U0OTHER to status default/web from channel " \
        "C0ELSEWHERE" in text, text
    assert "C0ELSEWHERE" in line["error"]


def test_refusal_names_the_target():
    text, line = refused("history api")
    assert "no policy rule allows to history the target default/api" in text, text
    assert "default/api" in line["error"]


# ---- errors worded by what failed ----------------------------------------

def cli_status(**env):
    e = dict(st.env, PATH="/usr/bin:/bin", USER="alice")
    e.update(env)
    p = subprocess.run([BIN, "status", "default/web"], env=e, capture_output=True, text=True,
                       timeout=30)
    assert p.returncode == 1, p
    return p.stderr.strip()


def test_error_tls_names_host_port_and_reason():
    d = tempfile.mkdtemp(prefix="deploy-api-otherca-")
    try:
        other = TestCA(os.path.join(d, "ca"))
        err = cli_status(KUBE_CA_FILE=other.cert)
    finally:
        shutil.rmtree(d, ignore_errors=True)
    want = (f"TLS handshake with the Kubernetes API at 127.0.0.1:{st.kube.port} failed: "
            "certificate not trusted")
    assert want in err, err
    assert "cannot connect" not in err


def test_error_tls_name_mismatch():
    err = cli_status(KUBE_TLS_SERVER_NAME="not-the-api.example")
    assert f"TLS handshake with the Kubernetes API at 127.0.0.1:{st.kube.port} failed" in err, err
    assert "not-the-api.example" in err, err


def test_error_connect_names_host_port():
    port = unused_port()
    err = cli_status(KUBE_API_URL=f"https://127.0.0.1:{port}")
    assert f"cannot connect to the Kubernetes API at 127.0.0.1:{port}: connection refused" in err, \
        err


def test_error_http_status_from_the_api():
    st.kube.add_fault(kind="status", method="GET", path="/deployments/web", code=403,
                      reason="Forbidden", message='deployments.apps "web" is forbidden: nope',
                      count=1)
    err = cli_status()
    assert "(HTTP 403)" in err and 'deployments.apps "web" is forbidden: nope' in err, err
    assert "TLS" not in err and "cannot connect" not in err


# ---- metrics -------------------------------------------------------------

NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
LABEL = r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\[\\"n])*)"'
SAMPLE = re.compile(rf"^({NAME})(?:\{{((?:{LABEL})(?:,{LABEL})*)?\}})? (\S+)$")


def parse_exposition(text):
    """A strict reader of the Prometheus text format as deploy-api writes it:
    every line HELP, TYPE or a sample; HELP and TYPE once per family, before
    its samples; counters named _total; no duplicate series; histogram
    buckets ascending and cumulative with +Inf equal to _count. Returns
    {family: {"type", "help", "samples": {(name, labels): value}}}."""
    assert text.endswith("\n"), "exposition must end with a newline"
    fams, current = {}, None
    for ln in text[:-1].split("\n"):
        assert ln, "empty line in the exposition"
        m = re.fullmatch(rf"# (HELP|TYPE) ({NAME}) (.+)", ln)
        if m:
            kind, name, rest = m.groups()
            f = fams.setdefault(name, {"type": None, "help": None, "samples": {}})
            assert not f["samples"], f"{kind} of {name} after its samples"
            key = kind.lower()
            assert f[key] is None, f"second {kind} for {name}"
            if kind == "TYPE":
                assert rest in ("counter", "gauge", "histogram"), ln
            f[key] = rest
            current = name
            continue
        assert not ln.startswith("#"), f"stray comment: {ln}"
        m = SAMPLE.match(ln)
        assert m, f"malformed sample line: {ln!r}"
        name, labels, value = m.group(1), m.group(2) or "", m.group(m.lastindex)
        fam = name
        f = fams.get(current)
        assert f and f["type"], f"sample before any TYPE: {ln}"
        if f["type"] == "histogram":
            assert name in (current + "_bucket", current + "_sum", current + "_count"), ln
            fam = current
        else:
            assert name == current, f"sample {name} under family {current}"
        if f["type"] == "counter":
            assert name.endswith("_total"), f"counter {name} not named _total"
        assert f["help"], f"{fam} has no HELP"
        pairs = tuple(re.findall(LABEL, labels))
        names = [k for k, _ in pairs]
        assert len(names) == len(set(names)), f"repeated label in {ln}"
        v = float(value)
        assert not math.isnan(v), ln
        key = (name, pairs)
        assert key not in f["samples"], f"duplicate series {ln}"
        f["samples"][key] = v
    for name, f in fams.items():
        assert f["type"] and f["help"], name
        if f["type"] == "histogram":
            check_histogram(name, f["samples"])
    return fams


def check_histogram(name, samples):
    series = {}
    for (n, labels), v in samples.items():
        rest = tuple(p for p in labels if p[0] != "le")
        s = series.setdefault(rest, {"buckets": [], "sum": None, "count": None})
        if n.endswith("_bucket"):
            le = dict(labels)["le"]
            s["buckets"].append((math.inf if le == "+Inf" else float(le), v))
        elif n.endswith("_sum"):
            s["sum"] = v
        else:
            s["count"] = v
    for rest, s in series.items():
        b = s["buckets"]
        assert b and s["sum"] is not None and s["count"] is not None, (name, rest)
        assert [x for x, _ in b] == sorted(x for x, _ in b), (name, rest, "le not ascending")
        assert b[-1][0] == math.inf and b[-1][1] == s["count"], (name, rest)
        assert all(b[i][1] <= b[i + 1][1] for i in range(len(b) - 1)), (name, rest, "not cumulative")


def scrape():
    code, body = st.server.get("/metrics")
    assert code == 200, code
    return parse_exposition(body.decode())


def val(fams, family, name=None, **labels):
    f = fams[family]
    want = tuple(sorted(labels.items()))
    total = 0.0
    for (n, pairs), v in f["samples"].items():
        if n == (name or family) and tuple(sorted(p for p in pairs if p[0] in labels)) == want:
            total += v
    return total


def test_metrics_exposition_parses_and_every_family_moves():
    m0 = scrape()
    # the families this issue adds, declared with their types
    assert m0["deploy_api_job_duration_seconds"]["type"] == "histogram"
    assert m0["deploy_api_rollouts_total"]["type"] == "counter"
    assert m0["deploy_api_build_info"]["type"] == "gauge"
    version = subprocess.run([BIN, "version"], capture_output=True, text=True).stdout.split()[1]
    assert m0["deploy_api_build_info"]["samples"] == {
        ("deploy_api_build_info", (("version", version),)): 1.0}
    # no label whose values grow: no user, channel, target or image label
    for f in m0.values():
        for (_, pairs) in f["samples"]:
            assert not {k for k, _ in pairs} & {"user", "user_id", "channel", "target", "image"}
    dur = "deploy_api_job_duration_seconds"

    ack, end, post = run("restart web")           # a job, a rollout
    assert end["result"] == "ok"
    refused("restart frozen")                      # a refusal
    st.kube.rollout_mode = "fail"
    try:
        ack, end, post = run("web 9.9")            # a failed rollout
    finally:
        st.kube.rollout_mode = "ok"
    assert end["result"] == "failed", end
    m1 = scrape()

    def moved(family, by, name=None, **labels):
        a, b = val(m0, family, name, **labels), val(m1, family, name, **labels)
        assert b - a == by, (family, labels, a, b)

    moved(dur, 1, dur + "_count", command="restart", result="ok")
    moved(dur, 1, dur + "_bucket", command="restart", result="ok", le="+Inf")
    moved(dur, 1, dur + "_count", command="deploy", result="failed")
    assert val(m1, dur, dur + "_sum", command="restart", result="ok") > \
        val(m0, dur, dur + "_sum", command="restart", result="ok")
    moved("deploy_api_rollouts_total", 1, result="done")
    moved("deploy_api_rollouts_total", 1, result="failed")
    moved("deploy_api_rollouts_total", 0, result="timeout")
    moved("deploy_api_jobs_total", 1, result="ok")
    moved("deploy_api_jobs_total", 1, result="failed")
    moved("deploy_api_requests_total", 2, outcome="accepted")
    moved("deploy_api_requests_total", 1, outcome="forbidden")
    assert val(m1, "deploy_api_connections_total", event="accepted") > \
        val(m0, "deploy_api_connections_total", event="accepted")
    assert val(m1, "deploy_api_http_responses_total", **{"class": "2xx"}) > \
        val(m0, "deploy_api_http_responses_total", **{"class": "2xx"})
    assert val(m1, "deploy_api_jobs_running") == 0


def test_metrics_parser_rejects_what_it_must():
    good = "# HELP a_total A.\n# TYPE a_total counter\na_total{x=\"1\"} 2\n"
    parse_exposition(good)
    bad = [
        good[:-1],                                          # no final newline
        "a_total 1\n",                                      # sample without TYPE
        "# HELP a A.\n# TYPE a counter\na 1\n",              # counter not _total
        good + "a_total{x=\"1\"} 3\n",                      # duplicate series
        good.replace("} 2", "} two"),                       # not a number
        good.replace('x="1"', 'x="1",x="2"'),               # repeated label
        good + "# TYPE a_total counter\n",                  # second TYPE
        "# HELP h H.\n# TYPE h histogram\nh_bucket{le=\"1\"} 2\nh_bucket{le=\"+Inf\"} 1\n"
        "h_sum 1\nh_count 1\n",                             # not cumulative
        "# HELP h H.\n# TYPE h histogram\nh_bucket{le=\"+Inf\"} 1\nh_sum 1\nh_count 2\n",
    ]
    for text in bad:
        try:
            parse_exposition(text)
        except (AssertionError, ValueError):
            continue
        raise AssertionError(f"accepted: {text!r}")


# ---- logs ----------------------------------------------------------------

def test_every_log_line_is_a_flat_object_with_ts_level_log():
    lines = st.server.logs()
    assert len(lines) > 5
    for ln in lines:
        d = json.loads(ln)
        assert isinstance(d, dict), ln
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", d["ts"]), ln
        assert d["level"] in ("info", "warn", "error"), ln
        assert d["log"] in ("audit", "server"), ln
        for k, v in d.items():
            # flat: only the startup configuration is an object
            assert not isinstance(v, (dict, list)) or k == "config", (k, ln)
        assert SECRET not in ln
    start = json.loads(lines[0])
    assert start["log"] == "server" and start["msg"] == "deploy-api starting"
    cfg = start["config"]
    assert isinstance(cfg, dict), start
    assert cfg["slack_signing_secret"] == "set", cfg
    assert any(json.loads(ln)["log"] == "audit" for ln in lines)
