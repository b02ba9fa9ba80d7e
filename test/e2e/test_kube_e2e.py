"""Issue 4 end to end: the real static binary deploys, follows rollouts,
reports status and history, and rolls back against the Kubernetes stand-in
over TLS, and delivers its results to the response_url stand-in. Each test
checks what the user sees (the FakeSlack post), the cluster (FakeKube) and
the audit lines."""
import json
import os
import time
from urllib.parse import urlsplit

from lib import Server, Stack, change_patches, wait_until
from standins._server import unused_port
from standins.kube import CHANGE_CAUSE, FakeKube
from standins.proxy import ConnectProxy

st = None
NS = "default"
ENVOY = {"name": "envoy", "image": "envoyproxy/envoy:v1.29",
         "ports": [{"containerPort": 9901, "protocol": "TCP"}],
         "args": ["--config-path", "/etc/envoy/envoy.yaml"]}
APP = {"name": "myservice", "image": "registry.example/myservice:1.3",
       "env": [{"name": "LOG_LEVEL", "value": "info"}],
       "volumeMounts": [{"name": "cfg", "mountPath": "/etc/app"}]}
INIT = {"name": "migrate", "image": "registry.example/myservice-migrate:1.3"}
DIGEST = "sha256:" + "0123456789abcdef" * 4


def add_myservice(kube, name="myservice"):
    app = dict(APP, name=name, image=f"registry.example/{name}:1.3")
    kube.add_deployment(NS, name, containers=[app, ENVOY], init_containers=[INIT], replicas=3,
                        change_cause="initial")


def setup_module():
    global st
    st = Stack(env={"ROLLOUT_TIMEOUT": "10"}, deployments=())
    st.kube.rollout_delay = 0.1
    for n in ("myservice", "svc-same", "svc-digest", "svc-rot", "svc-rot2", "svc-rb", "svc-403",
              "svc-422", "svc-fail", "svc-stuck", "svc-status", "svc-slack", "svc-429"):
        add_myservice(st.kube, n)
    st.kube.add_deployment(NS, "multi", containers=[("web", "registry.example/web:1"),
                                                    ("worker", "registry.example/worker:1")])


def teardown_module():
    st.stop()


class Job:
    """One slash command's outcome: ack, accepted and job_end audit lines,
    the posts to its response_url."""

    def __init__(self, ack, accepted, end, posts):
        self.ack, self.accepted, self.end, self.posts = ack, accepted, end, posts

    @property
    def text(self):
        assert self.posts, "no post reached the response_url"
        return self.posts[-1]["json"]["text"]

    @property
    def post(self):
        return self.posts[-1]["json"]


def run(text, stack=None, server=None, timeout=25, **fields):
    """Send a signed command, wait for its job_end line; return a Job."""
    s = stack or st
    srv = server or s.server
    url = s.response_url()
    path = urlsplit(url).path
    n = len(srv.audit(event="accepted"))
    code, body = srv.post_slack(text, response_url=url, **fields)
    assert code == 200, (code, body)
    ack = json.loads(body)
    acc = wait_until(lambda: len(srv.audit(event="accepted")) > n and srv.audit(event="accepted"),
                     what="accepted line")[n]
    ends = wait_until(lambda: srv.audit(event="job_end", job=acc["job"]), timeout=timeout,
                      what=f"job_end of job {acc['job']}")
    srv.sync()  # a second job_end would show up before this
    ends = srv.audit(event="job_end", job=acc["job"])
    assert len(ends) == 1, ends
    posts = [p for p in s.slack.posts if p["path"] == path]
    return Job(ack, acc, ends[0], posts)


def containers(d, field="containers"):
    return {c["name"]: c for c in d["spec"]["template"]["spec"].get(field, [])}


def patches(name):
    return change_patches(st.kube, f"/deployments/{name}")


def stable(d):
    """A deployment without the fields that differ between two servers."""
    d = json.loads(json.dumps(d))
    md = d["metadata"]
    for k in ("uid", "resourceVersion", "creationTimestamp", "managedFields"):
        md.pop(k, None)
    md.get("annotations", {}).pop("deploy-api/live-at", None)  # issue 9: deploy-api's own record
    d.pop("status", None)
    return d


# ---- deploy ------------------------------------------------------------

def test_deploy_success_matches_kubectl_set_image():
    before = st.kube.get_deployment(NS, "myservice")
    j = run("myservice 1.4")
    image = "registry.example/myservice:1.4"
    # what the user sees: an ephemeral ack, the public "is deploying 1.3 → 1.4"
    # once the job has read the deployment, then the result after the rollout
    assert j.ack["response_type"] == "ephemeral" and "default/myservice" in j.ack["text"], j.ack
    assert len(j.posts) == 2, j.posts
    first = j.posts[0]["json"]
    assert first["response_type"] == "in_channel", first
    assert first["text"] == f"<@U0TESTER> is deploying default/myservice 1.3 \u2192 1.4 ({image})", first
    assert j.post["response_type"] == "in_channel", j.post
    assert j.text.startswith(":white_check_mark: <@U0TESTER>"), j.text
    assert image in j.text and "3/3" in j.text, j.text
    # exactly one PATCH, a strategic merge patch of that container + change-cause
    ps = patches("myservice")
    assert len(ps) == 1, ps
    p = ps[0]
    assert p["headers"]["Content-Type"].split(";")[0] == "application/strategic-merge-patch+json"
    cause = p["json"]["metadata"]["annotations"][CHANGE_CAUSE]
    assert p["json"] == {"metadata": {"annotations": {CHANGE_CAUSE: cause}},
                         "spec": {"template": {"spec": {"containers": [
                             {"name": "myservice", "image": image}]}}}}, p["json"]
    for part in ("U0TESTER", "tester", image, "C0DEPLOY", "deploys"):
        assert part in cause, (part, cause)
    assert p["headers"]["Authorization"] == "Bearer " + st.kube.token
    # the rollout finished before the result was posted
    after = st.kube.get_deployment(NS, "myservice")
    assert after["status"]["updatedReplicas"] == 3 and after["status"]["availableReplicas"] == 3
    assert j.posts[-1]["time"] >= max(r["time"] for r in patches("myservice"))
    # the final object equals what kubectl set image + annotate leaves
    ref = FakeKube(ca=None, token=None)
    try:
        add_myservice(ref)
        ref.rollout_delay = 0
        ref.set_image(NS, "myservice", "myservice", image, change_cause=cause, timeout=5)
        want = ref.get_deployment(NS, "myservice")
    finally:
        ref.stop()
    assert stable(after) == stable(want), (stable(after), stable(want))
    # and explicitly: sidecar and init containers untouched, the rest unchanged
    assert containers(after)["envoy"] == containers(before)["envoy"]
    assert containers(after, "initContainers") == containers(before, "initContainers")
    mine_b, mine_a = containers(before)["myservice"], containers(after)["myservice"]
    assert {k: v for k, v in mine_a.items() if k != "image"} == \
        {k: v for k, v in mine_b.items() if k != "image"}
    assert after["spec"]["replicas"] == 3 and after["spec"]["selector"] == before["spec"]["selector"]
    assert after["metadata"]["generation"] == before["metadata"]["generation"] + 1
    # the new ReplicaSet carries the change-cause (the cluster keeps the record)
    rss = st.kube.replicasets(NS, "myservice")
    assert rss[-1]["metadata"]["annotations"][CHANGE_CAUSE] == cause
    assert rss[-1]["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == "2"
    # audit: accepted + one job_end, ok, delivered
    assert j.accepted["target"] == "default/myservice"
    assert j.end["result"] == "ok" and j.end["reply"] == "delivered", j.end
    assert j.end["image"] == image and j.end["exit_status"] == 0 and "error" not in j.end
    # history lists the new revision with its change-cause
    h = run("history myservice")
    assert h.post["response_type"] == "ephemeral"
    lines = h.text.splitlines()
    assert any(l.startswith("2 (current)") and image in l for l in lines), h.text
    assert cause in h.text, h.text
    assert h.text.index("2 (current)") < h.text.index("\n1 "), "newest first"
    assert "initial" in h.text
    assert h.end["result"] == "ok"


def test_same_version_reported_no_patch():
    j = run("svc-same 1.3")
    assert "is already running 1.3 (registry.example/svc-same:1.3, revision 1)" in j.text, j.text
    # nothing changed: the answer is only for the one who asked (issue 14)
    assert [p["json"]["response_type"] for p in j.posts] == ["ephemeral"], j.posts
    assert patches("svc-same") == []
    assert j.end["result"] == "ok" and j.end["reply"] == "delivered"


def test_digest_version():
    j = run(f"svc-digest {DIGEST}")
    image = f"registry.example/svc-digest@{DIGEST}"
    assert st.kube.images(NS, "svc-digest")["svc-digest"] == image
    assert image in j.text and j.end["result"] == "ok", j.text
    assert j.end["image"] == image


def test_token_rotated_between_jobs():
    old = st.kube.token
    new = st.kube.rotate_token()
    assert new != old and open(st.token_file).read() == new
    j = run("svc-rot 1.4")
    assert j.end["result"] == "ok", j.end
    auths = {r["headers"]["Authorization"] for r in st.kube.requests_matching(path="/svc-rot")}
    assert auths == {"Bearer " + new}, auths
    assert st.kube.images(NS, "svc-rot")["svc-rot"] == "registry.example/svc-rot:1.4"


def test_token_rotated_mid_job():
    # the PATCH waits 1 s; the token rotates after the GET, while it waits
    st.kube.add_fault(kind="delay", method="PATCH", path="/deployments/svc-rot2", seconds=1.0)
    url = st.response_url()
    code, _ = st.server.post_slack("svc-rot2 1.4", response_url=url)
    assert code == 200
    st.kube.wait_for_request(method="PATCH", path="/deployments/svc-rot2", timeout=10)
    new = st.kube.rotate_token()
    end = st.server.wait_audit(event="job_end", target="default/svc-rot2", timeout=20)[0]
    assert end["result"] == "ok", end
    ps = patches("svc-rot2")
    assert len(ps) == 2 and ps[-1]["headers"]["Authorization"] == "Bearer " + new, \
        [p["headers"]["Authorization"] for p in ps]
    assert st.kube.images(NS, "svc-rot2")["svc-rot2"] == "registry.example/svc-rot2:1.4"
    post = [p for p in st.slack.posts if p["path"] == urlsplit(url).path][-1]
    assert post["json"]["text"].startswith(":white_check_mark:")


def test_forbidden_403():
    st.kube.deny = {("patch", "deployments")}
    try:
        j = run("svc-403 1.4")
    finally:
        st.kube.deny = set()
    # an API refusal never reaches the channel (issue 14)
    assert j.text.startswith(":x: cannot update deployment default/svc-403"), j.text
    assert [p["json"]["response_type"] for p in j.posts] == ["ephemeral"], j.posts
    assert "forbidden" in j.text and "HTTP 403" in j.text, j.text
    assert j.end["result"] == "failed" and "forbidden" in j.end["error"] and j.end["reply"] == "delivered"
    assert st.kube.images(NS, "svc-403")["svc-403"] == "registry.example/svc-403:1.3"
    # a namespace the service account may not read at all
    st.kube.allowed_namespaces = {"elsewhere"}
    try:
        j = run("status svc-403")
    finally:
        st.kube.allowed_namespaces = None
    assert "forbidden" in j.text and "HTTP 403" in j.text, j.text
    assert j.end["result"] == "failed"


def test_deployment_not_found_404():
    j = run("nosuch 1.0")
    assert "deployment default/nosuch not found" in j.text, j.text
    assert j.end["result"] == "failed" and "not found" in j.end["error"]
    assert patches("nosuch") == []


def test_missing_container_lists_names():
    j = run("multi 2.0")
    assert "web" in j.text and "worker" in j.text, j.text
    assert j.end["result"] == "failed"
    assert patches("multi") == [], "an unknown container name would ADD a container"
    assert set(st.kube.images(NS, "multi")) == {"web", "worker"}


def test_patch_invalid_422():
    st.kube.add_fault(method="PATCH", path="/deployments/svc-422", code=422)
    j = run("svc-422 1.4")
    assert "is invalid" in j.text and "HTTP 422" in j.text, j.text
    assert j.end["result"] == "failed" and "invalid" in j.end["error"]
    assert st.kube.images(NS, "svc-422")["svc-422"] == "registry.example/svc-422:1.3"


def test_failed_rollout_progress_deadline():
    st.kube.rollout_mode = "fail"
    try:
        j = run("svc-fail 1.4")
    finally:
        st.kube.rollout_mode = "ok"
    assert j.text.startswith(":x:"), j.text
    assert "ProgressDeadlineExceeded" in j.text or "exceeded its progress deadline" in j.text, j.text
    assert j.end["result"] == "failed"


def test_stuck_rollout_reports_still_rolling_out():
    with Stack(env={"ROLLOUT_TIMEOUT": "2"}, deployments=()) as s2:
        add_myservice(s2.kube, "svc")
        s2.kube.rollout_mode = "stuck"
        t0 = time.monotonic()
        j = run("svc 1.4", stack=s2)
        assert time.monotonic() - t0 < 10
        assert "still rolling out after 2 s" in j.text, j.text
        assert j.end["result"] == "failed" and "still rolling out" in j.end["error"]


def test_status_output():
    run("svc-status 2.0")
    j = run("status svc-status")
    t = j.text
    assert j.post["response_type"] == "ephemeral"
    assert "registry.example/svc-status:2.0" in t and "envoyproxy/envoy:v1.29" in t, t
    assert "3" in t and "Available" in t and "Progressing" in t, t
    assert j.end["result"] == "ok"
    assert patches("svc-status") and len(patches("svc-status")) == 1  # status patches nothing


# ---- rollback ----------------------------------------------------------

def test_rollback_previous_and_explicit_and_missing():
    run("svc-rb 1.4")
    run("svc-rb 1.5")
    assert st.kube.images(NS, "svc-rb")["svc-rb"] == "registry.example/svc-rb:1.5"
    j = run("rollback svc-rb")
    assert j.text.startswith(":white_check_mark:") and "revision 2" in j.text, j.text
    assert st.kube.images(NS, "svc-rb")["svc-rb"] == "registry.example/svc-rb:1.4"
    p = patches("svc-rb")[-1]
    assert p["headers"]["Content-Type"].split(";")[0] == "application/json-patch+json"
    ops = p["json"]
    assert isinstance(ops, list) and {o["path"] for o in ops} >= {"/spec/template"}, ops
    tmpl = [o for o in ops if o["path"] == "/spec/template"][0]["value"]
    assert "pod-template-hash" not in tmpl["metadata"]["labels"]
    d = st.kube.get_deployment(NS, "svc-rb")
    assert containers(d)["envoy"]["image"] == "envoyproxy/envoy:v1.29"
    assert containers(d, "initContainers")["migrate"] == dict(INIT, **{
        k: v for k, v in containers(d, "initContainers")["migrate"].items() if k not in INIT})
    assert j.end["result"] == "ok"
    h = run("history svc-rb")
    assert any(l.startswith("4 (current)") and "svc-rb:1.4" in l for l in h.text.splitlines()), h.text
    assert "rolled back" in h.text
    # explicit revision: 1 is 1.3
    j = run("rollback svc-rb 1")
    assert st.kube.images(NS, "svc-rb")["svc-rb"] == "registry.example/svc-rb:1.3", j.text
    assert j.end["result"] == "ok"
    # a revision that does not exist
    n = len(patches("svc-rb"))
    j = run("rollback svc-rb 99")
    assert "revision 99 not found" in j.text, j.text
    assert j.end["result"] == "failed" and len(patches("svc-rb")) == n


# ---- response_url ------------------------------------------------------

def test_response_url_500_then_200():
    st.slack.responses = [500, 200]
    j = run("status svc-slack")
    assert [p["code"] for p in j.posts] == [500, 200], [p.get("code") for p in j.posts]
    assert j.posts[0]["json"] == j.posts[1]["json"]
    assert j.end["reply"] == "delivered" and j.end["result"] == "ok"


def test_response_url_429_retry_after_honoured():
    st.slack.responses = [{"code": 429, "headers": {"Retry-After": "2"}}]
    j = run("status svc-429")
    assert [p["code"] for p in j.posts] == [429, 200]
    gap = j.posts[1]["time"] - j.posts[0]["time"]
    assert gap >= 1.8, gap  # the backoff alone would be 1 s
    assert j.end["reply"] == "delivered"


def test_response_url_always_failing_recorded():
    st.slack.responses = [503] * 5
    j = run("status myservice", timeout=60)
    assert len(j.posts) == 5 and j.end["result"] == "ok"
    assert j.end["reply"].startswith("failed") and "503" in j.end["reply"], j.end


def test_disallowed_response_url_never_contacted():
    n_posts, n_acc = len(st.slack.posts), len(st.server.audit(event="accepted"))
    for url in (f"https://127.0.0.1:{st.slack.port}/commands/x",  # host not allowed
                f"http://localhost:{st.slack.port}/commands/x",  # not https
                f"https://localhost:{st.slack.port + 1}/commands/x",  # other port
                f"https://localhost:{st.slack.port}@evil.example/x"):
        code, body = st.server.post_slack("myservice 9.9", response_url=url)
        assert code == 200 and json.loads(body)["response_type"] == "ephemeral", url
    st.server.sync()
    assert len(st.slack.posts) == n_posts
    assert len(st.server.audit(event="accepted")) == n_acc
    assert st.server.children() == []
    assert st.kube.images(NS, "myservice")["myservice"] != "registry.example/myservice:9.9"
    assert len(st.server.audit(event="refused", result="forbidden")) >= 4


# ---- transport: API down, TLS, proxy -----------------------------------

def extra_server(**env):
    return Server(env=dict(st.env, **env))


def test_api_down():
    with extra_server(KUBE_API_URL=f"https://127.0.0.1:{unused_port()}") as srv:
        j = run("myservice 7.0", server=srv)
    assert j.text.startswith(":x:") and "refused" in j.text, j.text
    assert j.end["result"] == "failed" and "refused" in j.end["error"] and j.end["reply"] == "delivered"


def test_untrusted_ca():
    other = st.ca.other_ca()
    n = len(st.kube.requests)
    with extra_server(KUBE_CA_FILE=other.cert) as srv:
        j = run("myservice 7.0", server=srv)
    assert "not trusted" in j.text or "unknown CA" in j.text, j.text
    assert j.end["result"] == "failed"
    assert len(st.kube.requests) == n, "no request may reach an untrusted server"


def test_name_mismatch():
    cert = st.ca.issue("kube-wrong-name", ("api.example.invalid",))
    k2 = FakeKube(ca=st.ca, cert=cert, token_file=os.path.join(st.dir, "token2"))
    k2.start()
    try:
        add_myservice(k2)
        with extra_server(KUBE_API_URL=k2.url, KUBE_TOKEN_FILE=k2.token_file) as srv:
            j = run("myservice 7.0", server=srv)
        assert "name mismatch" in j.text and "kubernetes.default.svc" in j.text, j.text
        assert j.end["result"] == "failed" and k2.requests == []
        # with KUBE_TLS_SERVER_NAME set to the certificate's name it works
        with extra_server(KUBE_API_URL=k2.url, KUBE_TOKEN_FILE=k2.token_file,
                          KUBE_TLS_SERVER_NAME="api.example.invalid") as srv:
            j = run("status myservice", server=srv)
        assert j.end["result"] == "ok", j.text
    finally:
        k2.stop()


def test_stalled_api_job_deadline():
    with Stack(env={"ROLLOUT_TIMEOUT": "1", "JOB_TIMEOUT": "3"}, deployments=()) as s2:
        add_myservice(s2.kube, "svc")
        s2.kube.add_fault(kind="stall", count=None)
        t0 = time.monotonic()
        j = run("svc 1.4", stack=s2, timeout=15)
        assert time.monotonic() - t0 < 12
        assert j.end["result"] == "killed" and "deadline" in j.end["error"], j.end
        posts = s2.slack.wait_for(1, timeout=15)
        assert "killed" in posts[-1]["json"]["text"] and "svc" in posts[-1]["json"]["text"]
        # healthz kept answering
        assert s2.server.get("/healthz")[0] == 200


def test_stalled_watch_still_reports_true_state():
    """The watch hangs; the rollout itself completes. At ROLLOUT_TIMEOUT the
    job looks once more and reports what is true: done."""
    with Stack(env={"ROLLOUT_TIMEOUT": "2"}, deployments=()) as s2:
        add_myservice(s2.kube, "svc")
        s2.kube.add_fault(kind="stall", watch=True, count=None)
        j = run("svc 1.4", stack=s2, timeout=20)
        d = s2.kube.get_deployment(NS, "svc")
        assert d["status"]["updatedReplicas"] == 3
        assert j.text.startswith(":white_check_mark:"), j.text
        assert j.end["result"] == "ok"


def test_proxy_connect_path():
    with ConnectProxy() as px:
        env = {"HTTPS_PROXY": px.url, "NO_PROXY": None,
               "RESPONSE_URL_HOSTS": f"hooks.slack.test:{st.slack.port}"}
        with extra_server(**env) as srv:
            url = st.slack.response_url()  # https://hooks.slack.test:PORT/...: only the proxy resolves it
            n = len(st.slack.posts)
            code, _ = srv.post_slack("status myservice", response_url=url)
            assert code == 200
            end = srv.wait_audit(event="job_end", timeout=20)[0]
        assert end["result"] == "ok" and end["reply"] == "delivered", end
        targets = [c["target"] for c in px.connects]
        assert f"127.0.0.1:{st.kube.port}" in targets, targets
        assert f"hooks.slack.test:{st.slack.port}" in targets, targets
        assert len(st.slack.posts) == n + 1
        # NO_PROXY=127.0.0.1: the kube call goes direct, the reply still through the proxy
        px.connects.clear()
        with extra_server(NO_PROXY="127.0.0.1", **{k: v for k, v in env.items() if k != "NO_PROXY"}) as srv:
            code, _ = srv.post_slack("status myservice", response_url=st.slack.response_url())
            end = srv.wait_audit(event="job_end", timeout=20)[0]
        assert end["result"] == "ok" and end["reply"] == "delivered", end
        targets = [c["target"] for c in px.connects]
        assert targets == [f"hooks.slack.test:{st.slack.port}"], targets


def test_healthz_after_everything():
    assert st.server.get("/healthz")[0] == 200
    assert st.kube.errors == [] and st.slack.errors == []
    wait_until(lambda: not st.server.children(), timeout=10, what="children reaped")
