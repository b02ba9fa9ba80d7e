"""Issue 9 (the image, the container, honest verdicts, AUTO_ROLLBACK,
GitOps markers) and issue 14 (results that say what changed, public only
when real) end to end: the real binary against the Kubernetes stand-in on
deployments shaped like real teams' ones, and real kubectl against the
same stand-in for parity."""
import json
import os
import re
import subprocess
import tempfile
import time
from urllib.parse import urlsplit

from lib import BIN, Server, Stack, change_patches, metrics_of, wait_until
from standins.kube import CHANGE_CAUSE, FakeKube, pin_digests
from test_kube_e2e import run as run_on, stable

st = None
NS = "default"
ARROW = "\u2192"
DIG = "sha256:" + "0123456789abcdef" * 4
PIN = "sha256:" + "fedcba9876543210" * 4
ENVOY = ("envoy", "envoyproxy/envoy:v1.29")
MARKERS = {  # deployment -> (metadata field, key, value, manager named)
    "gm-argo-ann": ("annotations", "argocd.argoproj.io/tracking-id",
                    "shop:apps/Deployment:default/gm-argo-ann", "Argo CD"),
    "gm-argo-label": ("labels", "app.kubernetes.io/instance", "shop", "Argo CD"),
    "gm-flux-ks": ("labels", "kustomize.toolkit.fluxcd.io/name", "apps", "Flux"),
    "gm-flux-helm": ("labels", "helm.toolkit.fluxcd.io/name", "shop", "Flux"),
    "gm-helm-label": ("labels", "app.kubernetes.io/managed-by", "Helm", "Helm"),
    "gm-helm-ann": ("annotations", "meta.helm.sh/release-name", "shop", "Helm"),
}


def run(text, **kw):
    return run_on(text, stack=st, **kw)


def add(name, containers, inits=None, **kw):
    st.kube.add_deployment(NS, name, containers=containers, init_containers=inits, replicas=3,
                           **kw)


def setup_module():
    global st
    # IMAGE_BASE unset: any repository the container already runs
    st = Stack(env={"ROLLOUT_TIMEOUT": "10", "IMAGE_BASE": None}, deployments=())
    st.kube.rollout_delay = 0.1
    add("shop-frontend", [("app", "reg.example/frontend:2.0")])
    add("svc-digest", [("svc-digest", f"reg.example/api:1.3@{DIG}")])
    add("svc-untagged", [("svc-untagged", "reg.example:5000/team/tool")])
    add("multi", [("web", "reg.example/web:1"), ("worker", "reg.example/worker:1")])
    add("svc-init", [("svc-init", "reg.example/svc-init:1.3")],
        inits=[("migrate", "reg.example/svc-init:1.3"), ("wait-db", "busybox:1.36")])
    for n in ("svc-pin", "svc-bad", "svc-heal", "svc-slow", "svc-paused", "svc-auto", "svc-real",
              "svc-403"):
        add(n, [(n, f"registry.example/{n}:1.3")])
    for n, (field, key, value, _) in MARKERS.items():
        add(n, [(n, f"registry.example/{n}:1.3")])
        st.kube.edit(NS, n, lambda d, f=field, k=key, v=value:
                     d["metadata"].setdefault(f, {}).__setitem__(k, v))


def teardown_module():
    st.stop()


def patches(name, kube=None):
    """PATCHes that change the deployment (not deploy-api's live-at record)."""
    return change_patches(kube or st.kube, f"/deployments/{name}")


def server(**env):
    return Server(env=dict(st.env, **env))


def public(j):
    return [p["json"] for p in j.posts if p["json"]["response_type"] == "in_channel"]


def assert_private_refusal(j, name, patched_before=0):
    """Refused before anything changed: ephemeral ack and result, no PATCH."""
    assert j.ack["response_type"] == "ephemeral" and j.ack["text"].startswith("checking"), j.ack
    assert public(j) == [], j.posts
    assert len(j.posts) == 1 and j.post["response_type"] == "ephemeral", j.posts
    assert j.text.startswith(":x: "), j.text
    assert len(patches(name)) == patched_before
    assert j.end["result"] == "failed"


# ---- the image ----------------------------------------------------------

def test_renamed_repository_keeps_its_repository():
    j = run("shop-frontend 2.1")
    assert st.kube.images(NS, "shop-frontend") == {"app": "reg.example/frontend:2.1"}
    assert j.end["result"] == "ok" and j.end["image"] == "reg.example/frontend:2.1", j.end
    # ephemeral ack, then the public announcement, then the public result
    assert j.ack["response_type"] == "ephemeral"
    assert j.ack["text"] == "checking `default/shop-frontend`…", j.ack
    assert [p["text"] for p in public(j)][0] == (
        f"<@U0TESTER> is deploying default/shop-frontend 2.0 {ARROW} 2.1 "
        "(reg.example/frontend:2.1)")
    assert j.text.startswith(f":white_check_mark: <@U0TESTER>: deployed default/shop-frontend "
                             f"2.0 {ARROW} 2.1 (reg.example/frontend:2.1), now revision 2: "
                             "3/3 replicas updated and available in "), j.text
    p = patches("shop-frontend")
    assert len(p) == 1 and p[0]["json"]["spec"] == {"template": {"spec": {"containers": [
        {"name": "app", "image": "reg.example/frontend:2.1"}]}}}, p


def test_digest_and_untagged_images():
    j = run("svc-digest 1.4")
    assert st.kube.images(NS, "svc-digest")["svc-digest"] == "reg.example/api:1.4"
    assert f"1.3 {ARROW} 1.4 (reg.example/api:1.4)" in j.text and j.end["result"] == "ok", j.text
    j = run(f"svc-digest {PIN}")
    assert st.kube.images(NS, "svc-digest")["svc-digest"] == f"reg.example/api@{PIN}"
    assert f"1.4 {ARROW} sha256:fedcba987654 (reg.example/api@{PIN})" in j.text, j.text
    j = run("svc-untagged 1.4")
    assert st.kube.images(NS, "svc-untagged")["svc-untagged"] == "reg.example:5000/team/tool:1.4"
    assert f"untagged {ARROW} 1.4" in j.text and j.end["result"] == "ok", j.text


def test_image_base_allow_list_refuses_other_repositories():
    with server(IMAGE_BASE="registry.example,reg.example/team") as srv:
        n = len(patches("shop-frontend"))
        j = run("shop-frontend 9.9", server=srv)
        assert_private_refusal(j, "shop-frontend", n)
        assert ("the image repository reg.example/frontend of container app is not under "
                "IMAGE_BASE (registry.example,reg.example/team)") in j.text, j.text
        # a repository under it goes ahead
        j = run("svc-real 1.4", server=srv)
        assert j.end["result"] == "ok", j.text
    assert st.kube.images(NS, "shop-frontend")["app"] == "reg.example/frontend:2.1"


# ---- the container ------------------------------------------------------

def test_container_flag_and_multi_container_refusal():
    j = run("multi 2")
    assert_private_refusal(j, "multi")
    assert ("deployment multi has 2 containers and none is named multi: web, worker. "
            "Choose one with -c: /deploy default/multi 2 -c web") in j.text, j.text
    j = run("multi 2 -c worker")
    assert st.kube.images(NS, "multi") == {"web": "reg.example/web:1",
                                           "worker": "reg.example/worker:2"}
    assert j.end["result"] == "ok", j.text
    j = run("multi 3 --container web")
    assert st.kube.images(NS, "multi")["web"] == "reg.example/web:3"
    j = run("multi 4 -c nope")
    assert "has no container named nope; its containers: web, worker" in j.text, j.text
    assert j.end["result"] == "failed" and public(j) == []


def test_init_container_of_the_same_repository_moves_in_the_same_patch():
    j = run("svc-init 1.4")
    assert st.kube.images(NS, "svc-init") == {"svc-init": "reg.example/svc-init:1.4",
                                              "migrate": "reg.example/svc-init:1.4",
                                              "wait-db": "busybox:1.36"}
    p = patches("svc-init")
    assert len(p) == 1, p
    spec = p[0]["json"]["spec"]["template"]["spec"]
    assert spec["initContainers"] == [{"name": "migrate", "image": "reg.example/svc-init:1.4"}]
    assert "with init container migrate" in j.text and "with init container migrate" in \
        public(j)[0]["text"], j.posts
    assert "(and its init containers)" in p[0]["json"]["metadata"]["annotations"][CHANGE_CAUSE]


# ---- honest verdicts ----------------------------------------------------

def test_admission_pinning_is_followed_not_fought():
    pin = pin_digests(PIN)

    def hook(d):
        return pin(d) if d["metadata"]["name"] == "svc-pin" else d
    st.kube.admission.append(hook)
    try:
        j = run("svc-pin 1.4")
    finally:
        st.kube.admission.remove(hook)
    pinned = f"registry.example/svc-pin:1.4@{PIN}"
    assert st.kube.images(NS, "svc-pin")["svc-pin"] == pinned
    assert len(patches("svc-pin")) == 1, patches("svc-pin")
    assert j.end["result"] == "ok" and j.end["image"] == pinned, j.end
    assert f"; admission changed it to {pinned}, now revision 2: 3/3" in j.text, j.text


def test_already_set_with_a_failed_rollout_is_a_failure():
    st.kube.fail_images.add("registry.example/svc-bad:1.4")
    st.kube.set_image(NS, "svc-bad", "svc-bad", "registry.example/svc-bad:1.4", wait=False)
    wait_until(lambda: any(c.get("reason") == "ProgressDeadlineExceeded" for c in
                           st.kube.get_deployment(NS, "svc-bad")["status"].get("conditions", [])),
               what="the stand-in decides the rollout failed")
    n = len(patches("svc-bad"))
    j = run("svc-bad 1.4")
    assert len(patches("svc-bad")) == n, "no PATCH when the image is already set"
    assert j.text.startswith(":x: ") and public(j) == [], j.posts
    assert ("default/svc-bad already has 1.4 (revision 2), but its rollout failed: deployment "
            "\"svc-bad\" exceeded its progress deadline") in j.text, j.text
    assert j.end["result"] == "failed"
    # the CLI: the same verdict, exit non-zero
    env = {"PATH": "/usr/bin:/bin", "USER": "alice", **{k: st.env[k] for k in (
        "KUBE_API_URL", "KUBE_CA_FILE", "KUBE_TOKEN_FILE", "ROLLOUT_TIMEOUT")}}
    p = subprocess.run([BIN, "deploy", "svc-bad", "1.4"], env=env, capture_output=True,
                       timeout=30)
    assert p.returncode != 0, p
    assert b"but its rollout failed" in p.stdout and p.stderr.strip(), p
    assert len(patches("svc-bad")) == n


def test_template_replaced_mid_rollout_is_never_success():
    key = 'deploy_api_rollouts_total{result="replaced"}'
    before = metrics_of(st.server)[key]
    st.kube.rollout_mode = "stuck"
    try:
        url = st.response_url()
        n = len(st.server.audit(event="accepted"))
        code, _ = st.server.post_slack("svc-heal 1.4", response_url=url)
        assert code == 200
        st.kube.wait_for_request(method="PATCH", path="/deployments/svc-heal", timeout=10)
        # self-heal (Argo CD / Flux) puts the old image back
        st.kube.set_image(NS, "svc-heal", "svc-heal", "registry.example/svc-heal:1.3", wait=False)
        acc = wait_until(lambda: st.server.audit(event="accepted")[n:], what="accepted")[0]
        end = st.server.wait_audit(event="job_end", job=acc["job"], timeout=20)[0]
    finally:
        st.kube.rollout_mode = "ok"
    posts = [p["json"] for p in st.slack.posts if p["path"] == urlsplit(url).path]
    text = posts[-1]["text"]
    assert text.startswith(":leftwards_arrow_with_hook: <@U0TESTER>: deploy of default/svc-heal "
                           f"1.3 {ARROW} 1.4 (registry.example/svc-heal:1.4) was replaced by a "
                           "later change before its rollout completed: the template now runs "
                           "registry.example/svc-heal:1.3"), text
    assert "white_check_mark" not in text and end["result"] == "failed", end
    assert metrics_of(st.server)[key] == before + 1


def test_rollout_followed_until_kubernetes_decides():
    # ROLLOUT_TIMEOUT unset: the deployment's progressDeadlineSeconds (2 s
    # here) + a margin; the job deadline follows from the cap
    st.kube.edit(NS, "svc-slow", lambda d: d["spec"].__setitem__("progressDeadlineSeconds", 2))
    st.kube.fail_images.add("registry.example/svc-slow:1.4")
    st.kube.rollout_delay = 2.0
    try:
        with server(ROLLOUT_TIMEOUT=None) as srv:
            start = [l for l in srv.lines if "deploy-api starting" in l]
            j = run("svc-slow 1.4", server=srv)
    finally:
        st.kube.rollout_delay = 0.1
    assert start and re.search(r'rollout_timeout\\*":0\b', start[0]) and \
        re.search(r'job_timeout\\*":1800\b', start[0]), start
    assert j.text.startswith(":x: "), j.text
    assert "failed (revision 2): deployment \"svc-slow\" exceeded its progress deadline" in j.text
    assert "still rolling out" not in j.text


def test_paused_deployment_is_said_to_be_paused():
    st.kube.edit(NS, "svc-paused", lambda d: d["spec"].__setitem__("paused", True))
    j = run("svc-paused 1.4")
    assert j.text.startswith(":hourglass: <@U0TESTER>: default/svc-paused is paused: "
                             f"default/svc-paused 1.3 {ARROW} 1.4"), j.text
    assert "kubectl rollout resume deployment/svc-paused -n default" in j.text
    assert j.end["result"] == "failed"


def test_auto_rollback_returns_to_the_revision_before():
    st.kube.fail_images.add("registry.example/svc-auto:1.4")
    with server(AUTO_ROLLBACK="1") as srv:
        j = run("svc-auto 1.4", server=srv)
    assert st.kube.images(NS, "svc-auto")["svc-auto"] == "registry.example/svc-auto:1.3"
    ps = patches("svc-auto")
    assert len(ps) == 2 and ps[1]["headers"]["Content-Type"].startswith(
        "application/json-patch+json"), ps
    assert j.text.startswith(":x: "), j.text
    assert (f"deploy of default/svc-auto 1.3 {ARROW} 1.4 (registry.example/svc-auto:1.4) failed "
            "(revision 2): deployment \"svc-auto\" exceeded its progress deadline") in j.text
    assert ("\nAUTO_ROLLBACK: rolled back to revision 1 (registry.example/svc-auto:1.3), now "
            "revision 3: 3/3 replicas") in j.text, j.text
    assert j.end["result"] == "failed"


# ---- GitOps and Helm ----------------------------------------------------

def test_gitops_markers_warn_by_default():
    for name, (field, key, value, who) in MARKERS.items():
        j = run(f"{name} 1.4")
        warn = f"managed by {who} ({field[:-1]} {key}={value}), which may revert this change"
        assert warn in public(j)[0]["text"], (name, j.posts)
        assert j.text.endswith("\nWarning: " + warn), (name, j.text)
        assert j.end["result"] == "ok" and len(patches(name)) == 1, name


def test_gitops_markers_refused_with_refuse():
    with server(GITOPS_MANAGED="refuse") as srv:
        for name, (field, key, value, who) in MARKERS.items():
            n = len(patches(name))
            j = run(f"{name} 1.5", server=srv)
            assert public(j) == [] and j.post["response_type"] == "ephemeral", (name, j.posts)
            assert f"default/{name} is managed by {who} ({field[:-1]} {key}={value}): change it " \
                   "there (GITOPS_MANAGED=refuse here)" in j.text, (name, j.text)
            assert len(patches(name)) == n
        # an unmanaged deployment still deploys
        assert run("svc-real 1.5", server=srv).end["result"] == "ok"


# ---- public only when real ----------------------------------------------

def test_typo_and_api_refusal_never_reach_the_channel():
    j = run("svc-reel 1.4")
    assert j.ack == {"response_type": "ephemeral", "text": "checking `default/svc-reel`…"}, j.ack
    assert len(j.posts) == 1 and j.post["response_type"] == "ephemeral", j.posts
    assert j.text == ":x: deployment default/svc-reel not found", j.text
    st.kube.add_fault(method="GET", path="/deployments/svc-403", code=403, count=1)
    j = run("svc-403 1.4")
    assert len(j.posts) == 1 and j.post["response_type"] == "ephemeral", j.posts
    assert j.text == ":x: cannot read deployment default/svc-403: injected fault 403 (HTTP 403)", \
        j.text
    assert patches("svc-403") == []
    # refused on the PATCH (RBAC without patch): still only to the one who asked
    st.kube.add_fault(method="PATCH", path="/deployments/svc-403", code=403, count=1)
    j = run("svc-403 1.4")
    assert len(j.posts) == 1 and j.post["response_type"] == "ephemeral", j.posts
    assert j.text == (":x: cannot update deployment default/svc-403: injected fault 403 "
                      "(HTTP 403)"), j.text
    assert st.kube.images(NS, "svc-403")["svc-403"] == "registry.example/svc-403:1.3"


def test_real_deploy_goes_public_within_five_uses():
    j = run("svc-real 1.6")
    assert j.ack["response_type"] == "ephemeral"
    assert [p["response_type"] for p in (x["json"] for x in j.posts)] == ["in_channel",
                                                                          "in_channel"]
    assert j.posts[0]["json"]["text"].startswith("<@U0TESTER> is deploying default/svc-real ")
    assert j.posts[0]["time"] < j.posts[1]["time"]
    assert len(j.posts) <= 5


# ---- kubectl parity -----------------------------------------------------

def kubectl(kube, *args):
    env = {"PATH": "/usr/bin:/bin", "KUBECONFIG": "/dev/null",
           "HOME": tempfile.mkdtemp(prefix="kubectl-home-")}
    p = subprocess.run(["kubectl", "--server", kube.url, "-n", NS, *args], env=env,
                       capture_output=True, timeout=60)
    assert p.returncode == 0, p
    return p.stdout.decode()


def test_kubectl_set_image_leaves_the_same_object():
    """deploy-api and real kubectl (set image + annotate) on a renamed
    repository with a same-repository init container."""
    cs = [("app", "reg.example/frontend:2.0"), ENVOY]
    inits = [("migrate", "reg.example/frontend:2.0"), ("wait-db", "busybox:1.36")]
    add("parity", cs, inits)
    j = run("parity 2.1 -c app")
    assert j.end["result"] == "ok", j.text
    ours = st.kube.get_deployment(NS, "parity")
    cause = ours["metadata"]["annotations"][CHANGE_CAUSE]
    ref = FakeKube(ca=None, token=None)
    ref.rollout_delay = 0
    ref.start()
    try:
        ref.add_deployment(NS, "parity", containers=cs, init_containers=inits, replicas=3)
        kubectl(ref, "set", "image", "deployment/parity", "app=reg.example/frontend:2.1",
                "migrate=reg.example/frontend:2.1")
        kubectl(ref, "annotate", "--overwrite", "deployment/parity", f"{CHANGE_CAUSE}={cause}")
        ref.wait_rollout(NS, "parity")
        theirs = ref.get_deployment(NS, "parity")
    finally:
        ref.stop()
    a, b = stable(ours), stable(theirs)
    # kubectl annotates in a second PATCH: one generation, but the same object
    assert a == b, (a, b)
