"""Issue 13, "Two replicas, safely": the per-target lock is a Kubernetes
Lease (coordination.k8s.io/v1) in LEASE_NAMESPACE, taken by the job child
before it patches, renewed while the job runs, released when it ends, and
taken over once a dead pod's Lease has expired. Two real servers (pod-a and
pod-b) share ONE Kubernetes stand-in and one Slack receiver; real kubectl
reads the Leases from the stand-in."""
import json
import os
import re
import shutil
import subprocess
import tempfile
import threading
from urllib.parse import urlsplit

from lib import Server, Stack, change_patches, wait_until

st = None
pod_b = None


class Skip(Exception):
    """run.py reports a test that raises an exception of this name as SKIP."""
LNS = "deploy-api-system"
NS = "default"
# renewal every LEASE_DURATION / 3 = 2 s, so a test sees one quickly
ENV = {"LEASE_NAMESPACE": LNS, "POD_NAME": "pod-a", "LEASE_DURATION": "6",
       "ROLLOUT_TIMEOUT": "60"}
BUSY = re.compile(r"(\S+) is already being deployed by @(\w+) \((?:(\w+), )?pod ([\w-]+)\) "
                  r"since \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC")
NAMES = ("svc-same", "svc-both", "svc-kubectl", "svc-lost", "svc-deleted", "svc-dead", "svc-held", "svc-renew", "svc-rb", "svc-rbac", "svc-off",
         "svc-nsfile")


def setup_module():
    global st, pod_b
    st = Stack(env=ENV, deployments=[(NS, n) for n in NAMES])
    st.kube.rollout_delay = 0.1
    pod_b = Server(env=dict(st.env, POD_NAME="pod-b"))


def teardown_module():
    if pod_b:
        pod_b.stop()
    st.stop()


def lease_name(name, ns=NS):
    return f"deploy-api.{ns}.{name}"


def send(server, text, user="alice"):
    """Send a signed command; return its response_url path and the ack."""
    url = st.response_url()
    code, body = server.post_slack(text, response_url=url, user_name=user,
                                   user_id="U" + user.upper())
    assert code == 200, (code, body)
    return urlsplit(url).path, json.loads(body)


def posts(path):
    """The job's result posts to path (not the "is deploying" announcement
    a deploy makes once it has read the deployment, issue 14)."""
    return [p["json"]["text"] for p in st.slack.posts
            if p["path"] == path and " is deploying " not in p["json"]["text"]]


def wait_post(path, timeout=30):
    return wait_until(lambda: posts(path), timeout=timeout, what=f"a post to {path}")[-1]


def patches(name):
    return change_patches(st.kube, f"/deployments/{name}")


def lease_requests(method, name):
    return st.kube.requests_matching(method=method, path=f"/leases/{lease_name(name)}")


def kubectl(*args):
    """Real kubectl (/usr/bin/kubectl) against the stand-in: the token, the
    CA and the API's DNS name in a kubeconfig."""
    d = os.path.join(st.dir, "kubectl")
    os.makedirs(d, exist_ok=True)
    cfg = os.path.join(d, "config")
    with open(cfg, "w") as f:
        json.dump({"apiVersion": "v1", "kind": "Config", "current-context": "c",
                   "clusters": [{"name": "s", "cluster": {
                       "server": st.env["KUBE_API_URL"], "certificate-authority": st.ca.cert,
                       "tls-server-name": "kubernetes.default.svc"}}],
                   "users": [{"name": "u", "user": {"tokenFile": st.token_file}}],
                   "contexts": [{"name": "c", "context": {"cluster": "s", "user": "u"}}]}, f)
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": d}
    r = subprocess.run(["kubectl", "--kubeconfig", cfg, "--cache-dir", os.path.join(d, "cache"),
                        *args], env=env, capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, (args, r.stdout, r.stderr)
    return r.stdout


def finish(name, n=1):
    """Complete the stuck rollout once the job's patch (the n-th) is in."""
    wait_until(lambda: len(patches(name)) >= n, what=f"patch {n} of {name}")
    st.kube.complete_rollout(NS, name)


def holder(name):
    lease = st.kube.get_lease(LNS, lease_name(name))
    return lease and lease["spec"].get("holderIdentity")


def test_same_deploy_to_both_replicas_one_deploys_other_told_who():
    st.kube.rollout_mode = "stuck"
    try:
        got = {}

        def go(server, user):
            got[user] = send(server, "svc-both 1.4", user)
        threads = [threading.Thread(target=go, args=a)
                   for a in ((st.server, "alice"), (pod_b, "bob"))]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        # neither pod holds the target locally: both acks accept the command
        for user in ("alice", "bob"):
            assert "already" not in json.dumps(got[user][1]), got[user][1]
        # one of them is told, through its response_url, who has it
        loser = wait_until(lambda: next((u for u in ("alice", "bob") if posts(got[u][0])),
                                        None), timeout=30, what="the refusal")
        winner = "bob" if loser == "alice" else "alice"
        m = BUSY.search(posts(got[loser][0])[-1])
        assert m, posts(got[loser][0])
        win_pod = "pod-a" if winner == "alice" else "pod-b"
        assert m.group(1, 2, 4) == (f"{NS}/svc-both", winner, win_pod), m.groups()
        assert ":x:" in posts(got[loser][0])[-1], posts(got[loser][0])
        # the Lease says who
        lease = st.kube.get_lease(LNS, lease_name("svc-both"))
        assert lease["spec"]["holderIdentity"] == win_pod
        assert lease["metadata"]["annotations"]["deploy-api/user"] == winner
        assert lease["spec"]["leaseDurationSeconds"] == 6, lease
        assert not posts(got[winner][0]), posts(got[winner][0])
        finish("svc-both")
        text = wait_post(got[winner][0])
        assert text.startswith(":white_check_mark:"), text
        # exactly one patch reached the deployment
        assert len(patches("svc-both")) == 1, patches("svc-both")
        # released at the end: an update to no holder, with the version it read
        wait_until(lambda: not holder("svc-both"), what="the Lease released")
        last = lease_requests("PUT", "svc-both")[-1]["json"]
        assert last["spec"]["holderIdentity"] == "" and last["metadata"]["resourceVersion"], last
        # both pods wrote an accepted and a job_end audit line
        srv = {"alice": st.server, "bob": pod_b}
        assert srv[loser].wait_audit(event="job_end", target=f"{NS}/svc-both",
                                     result="failed")
        assert srv[winner].wait_audit(event="job_end", target=f"{NS}/svc-both", result="ok")
    finally:
        st.kube.rollout_mode = "ok"


def test_same_pod_conflict_is_still_answered_in_the_ack():
    st.kube.rollout_mode = "stuck"
    try:
        path, _ = send(st.server, "svc-same 2.0")
        wait_until(lambda: holder("svc-same") == "pod-a", what="the Lease taken")
        _, ack = send(st.server, "svc-same 2.1", "bob")
        assert "already being deployed by <@UALICE>" in ack["text"], ack
        # the second command never reached the API: one create, one patch
        assert len(st.kube.requests_matching(method="POST", path="/leases")) >= 1
        assert [r["json"]["metadata"]["annotations"]["deploy-api/user"]
                for r in st.kube.requests_matching(method="POST", path="/leases")
                if r["json"]["metadata"]["name"] == lease_name("svc-same")] == ["alice"]
        finish("svc-same")
        assert wait_post(path).startswith(":white_check_mark:")
        assert len(patches("svc-same")) == 1
    finally:
        st.kube.rollout_mode = "ok"


def test_real_kubectl_reads_the_leases():
    if not shutil.which("kubectl"):
        raise Skip("kubectl is not installed")
    st.kube.rollout_mode = "stuck"
    try:
        path, _ = send(pod_b, "svc-kubectl 2.0", "bob")
        wait_until(lambda: holder("svc-kubectl") == "pod-b", what="the Lease taken")
        assert lease_name("svc-kubectl") in kubectl("get", "lease", "-n", LNS)
        got = json.loads(kubectl("get", "lease", lease_name("svc-kubectl"), "-n", LNS, "-o",
                                 "json"))
        assert got["spec"]["holderIdentity"] == "pod-b", got
        assert got["metadata"]["annotations"]["deploy-api/user"] == "bob", got
        finish("svc-kubectl")
        assert wait_post(path).startswith(":white_check_mark:")
        wait_until(lambda: not holder("svc-kubectl"), what="the Lease released")
        assert kubectl("get", "lease", lease_name("svc-kubectl"), "-n", LNS, "-o",
                       "jsonpath={.spec.holderIdentity}") == ""
    finally:
        st.kube.rollout_mode = "ok"


def test_lease_left_by_a_dead_pod_is_taken_over_once_expired():
    old = st.kube.put_lease(LNS, lease_name("svc-dead"), "pod-gone", renewed_ago=300,
                            duration=60, annotations={"deploy-api/user": "carol"})
    path, _ = send(st.server, "svc-dead 2.0")
    text = wait_post(path)
    assert text.startswith(":white_check_mark:"), text
    # the take-over was an update carrying the resourceVersion it read
    puts = lease_requests("PUT", "svc-dead")
    assert puts, "no update of the expired Lease"
    first = puts[0]["json"]
    assert first["metadata"]["resourceVersion"] == old["metadata"]["resourceVersion"]
    assert first["spec"]["holderIdentity"] == "pod-a"
    assert first["spec"]["leaseTransitions"] == 1
    assert first["metadata"]["annotations"]["deploy-api/user"] == "alice"
    assert len(patches("svc-dead")) == 1
    wait_until(lambda: not holder("svc-dead"), what="the Lease released")


def test_lease_held_by_a_live_pod_refuses_without_patching():
    held = st.kube.put_lease(LNS, lease_name("svc-held"), "pod-other", renewed_ago=0,
                             duration=3600, annotations={"deploy-api/user": "dave",
                                                         "deploy-api/verb": "deploy"})
    path, _ = send(pod_b, "svc-held 2.0", "erin")
    m = BUSY.search(wait_post(path))
    assert m and m.group(1, 2, 4) == (f"{NS}/svc-held", "dave", "pod-other"), posts(path)
    assert patches("svc-held") == []
    after = st.kube.get_lease(LNS, lease_name("svc-held"))
    assert after["metadata"]["resourceVersion"] == held["metadata"]["resourceVersion"]
    assert lease_requests("PUT", "svc-held") == []
    assert pod_b.wait_audit(event="job_end", target=f"{NS}/svc-held", result="failed",
                            error="locked by another replica")


def test_lease_renewed_during_a_long_rollout_then_released():
    st.kube.rollout_mode = "stuck"
    try:
        path, _ = send(st.server, "svc-renew 2.0")
        first = wait_until(lambda: st.kube.get_lease(LNS, lease_name("svc-renew")),
                           what="the Lease taken")
        # a renewal: an update with the last resourceVersion and a later renewTime
        renewed = wait_until(lambda: [r for r in lease_requests("PUT", "svc-renew")
                                      if r["json"]["metadata"]["resourceVersion"] ==
                                      first["metadata"]["resourceVersion"]],
                             timeout=20, what="a renewal")[0]["json"]
        assert renewed["spec"]["holderIdentity"] == "pod-a"
        assert renewed["spec"]["acquireTime"] == first["spec"]["acquireTime"]
        assert renewed["spec"]["renewTime"] > first["spec"]["renewTime"]
        assert holder("svc-renew") == "pod-a"
        assert not posts(path)
        finish("svc-renew")
        assert wait_post(path).startswith(":white_check_mark:")
        wait_until(lambda: not holder("svc-renew"), what="the Lease released")
        # the renewer stopped with the job: the release was the last update
        st.server.wait_audit(event="job_end", target=f"{NS}/svc-renew")
        assert lease_requests("PUT", "svc-renew")[-1]["json"]["spec"]["holderIdentity"] == ""
    finally:
        st.kube.rollout_mode = "ok"


def lose_lease_while_running(name, take_away):
    """Deploy name with its rollout held, take its Lease away with
    take_away(lease name) once the job holds it, let the rollout finish;
    the result text."""
    st.kube.rollout_mode = "stuck"
    try:
        path, _ = send(st.server, f"{name} 2.0")
        wait_until(lambda: holder(name) == "pod-a", what="the Lease taken")
        n = len(lease_requests("PUT", name))
        take_away(lease_name(name))
        # the next renewal finds it gone (409 or 404) and the renewer stops
        wait_until(lambda: len(lease_requests("PUT", name)) > n, timeout=20,
                   what="a renewal after the Lease was taken away")
        finish(name)
        text = wait_post(path)
        assert text.startswith(":white_check_mark:"), text
        assert "the lock was taken over by another holder while this ran" in text, text
        # the job never handed back a Lease that was no longer its own
        assert [r for r in lease_requests("PUT", name)
                if r["json"]["spec"]["holderIdentity"] == ""] == []
        return text
    finally:
        st.kube.rollout_mode = "ok"


def test_lease_taken_over_during_the_job_is_left_alone_and_reported():
    lose_lease_while_running("svc-lost", lambda lease: st.kube.put_lease(
        LNS, lease, "pod-intruder", duration=3600))
    assert holder("svc-lost") == "pod-intruder"


def test_lease_deleted_during_the_job_is_not_recreated_and_reported():
    lose_lease_while_running("svc-deleted", lambda lease: st.kube.delete_lease(LNS, lease))
    assert st.kube.get_lease(LNS, lease_name("svc-deleted")) is None
    creates = [r for r in st.kube.requests_matching(method="POST", path="/leases")
               if r["json"]["metadata"]["name"] == lease_name("svc-deleted")]
    assert len(creates) == 1, creates


def test_lock_holds_across_rollback_between_replicas():
    path, _ = send(st.server, "svc-rb 1.4")
    assert wait_post(path).startswith(":white_check_mark:")
    wait_until(lambda: not holder("svc-rb"), what="the Lease released")
    st.server.wait_audit(event="job_end", target=f"{NS}/svc-rb")  # the pod's own lock free
    st.kube.rollout_mode = "stuck"
    try:
        rb_path, _ = send(st.server, "rollback svc-rb")
        # the rollback holds the Lease and has patched the deployment
        wait_until(lambda: len(patches("svc-rb")) == 2 or posts(rb_path),
                   what="the rollback's patch")
        assert not posts(rb_path), posts(rb_path)
        assert holder("svc-rb") == "pod-a"
        lease = st.kube.get_lease(LNS, lease_name("svc-rb"))
        assert lease["metadata"]["annotations"]["deploy-api/verb"] == "rollback"
        path, _ = send(pod_b, "svc-rb 1.5", "bob")
        m = BUSY.search(wait_post(path))
        assert m and m.group(1, 2, 3, 4) == (f"{NS}/svc-rb", "alice", "rollback", "pod-a"), \
            posts(path)
        finish("svc-rb", 2)
        assert wait_post(rb_path).startswith(":white_check_mark:")
        assert len(patches("svc-rb")) == 2, patches("svc-rb")  # not 1.5
        wait_until(lambda: not holder("svc-rb"), what="the Lease released")
    finally:
        st.kube.rollout_mode = "ok"


def test_lease_forbidden_refuses_the_deploy():
    st.kube.deny.add(("create", "leases"))
    try:
        path, _ = send(pod_b, "svc-rbac 2.0")
        text = wait_post(path)
        assert "cannot take the lock for default/svc-rbac" in text, text
        assert "forbidden" in text and "(HTTP 403)" in text, text
        assert patches("svc-rbac") == []
    finally:
        st.kube.deny.discard(("create", "leases"))


def test_without_lease_namespace_locks_stay_in_process():
    srv = Server(env=dict(st.env, LEASE_NAMESPACE=None, POD_NAME="pod-c"))
    try:
        st.kube.clear_log()
        path, _ = send(srv, "svc-off 2.0")
        assert wait_post(path).startswith(":white_check_mark:")
        assert st.kube.requests_matching(path="/leases/" + lease_name("svc-off")) == []
        assert st.kube.requests_matching(method="POST", path="/leases") == []
    finally:
        srv.stop()


def test_lease_namespace_defaults_to_the_service_account_namespace_file():
    d = tempfile.mkdtemp(prefix="deploy-api-sa-")
    try:
        # a copy of the token with the service account's namespace file beside it
        shutil.copy(st.token_file, os.path.join(d, "token"))
        with open(os.path.join(d, "namespace"), "w") as f:
            f.write("team-sa\n")
        srv = Server(env=dict(st.env, LEASE_NAMESPACE=None, POD_NAME="pod-d",
                              KUBE_TOKEN_FILE=os.path.join(d, "token")))
        try:
            st.kube.clear_log()
            path, _ = send(srv, "svc-nsfile 2.0")
            assert wait_post(path).startswith(":white_check_mark:")
            creates = st.kube.requests_matching(method="POST", path="/leases")
            assert creates and creates[0]["path"] == \
                "/apis/coordination.k8s.io/v1/namespaces/team-sa/leases", creates
            assert creates[0]["json"]["spec"]["holderIdentity"] == "pod-d"
        finally:
            srv.stop()
    finally:
        shutil.rmtree(d, ignore_errors=True)
