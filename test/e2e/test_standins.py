"""Self-tests of the stand-ins (no deploy-api binary needed).

Run by the e2e runner (top-level test_* functions, setup_module /
teardown_module) or directly: python3 test_standins.py
"""

import http.client
import json
import os
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
from urllib.parse import quote

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from standins import slacksign  # noqa: E402
from standins._server import unused_port  # noqa: E402
from standins.ca import TestCA  # noqa: E402
from standins.kube import FakeKube, strategic_merge  # noqa: E402
from standins.proxy import ConnectProxy  # noqa: E402
from standins.slack import FakeSlack  # noqa: E402
from lib import wait_until  # noqa: E402

KNAME = "kubernetes.default.svc"
S = {}  # module state


def setup_module():
    d = tempfile.mkdtemp(prefix="standins-")
    S["dir"] = d
    t = time.monotonic()
    S["ca"] = ca = TestCA(os.path.join(d, "ca"))
    S["token_file"] = os.path.join(d, "token")
    S["kube"] = FakeKube(ca, token="tok-1", token_file=S["token_file"])
    S["kube"].rollout_delay = 0.05
    S["kube"].start()
    S["slack"] = FakeSlack(ca).start()
    S["proxy"] = ConnectProxy().start()
    S["ca_seconds"] = time.monotonic() - t


def teardown_module():
    for k in ("proxy", "slack", "kube"):
        if k in S:
            S[k].stop()
    shutil.rmtree(S["dir"], ignore_errors=True)


# ---- client helpers --------------------------------------------------------

def conn(port=None, name=KNAME, ctx=None, timeout=5):
    """An HTTP/1.1 connection over TLS to 127.0.0.1:port, verifying `name`."""
    port = port or S["kube"].port
    ctx = ctx or S["ca"].client_context()
    raw = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    try:
        tls = ctx.wrap_socket(raw, server_hostname=name)
    except Exception:
        raw.close()
        raise
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    c.sock = tls
    return c


def call(method, path, body=None, ctype=None, token="current", port=None,
         raw=False):
    """One request; returns (status, parsed JSON or bytes, headers)."""
    c = conn(port)
    headers = {}
    if token == "current":
        token = S["kube"].token
    if token:
        headers["Authorization"] = "Bearer " + token
    if body is not None:
        if not isinstance(body, bytes):
            body = json.dumps(body).encode()
        headers["Content-Type"] = ctype or \
            "application/strategic-merge-patch+json"
    try:
        c.request(method, path, body=body, headers=headers)
        r = c.getresponse()
        data = r.read()
        if raw:
            return r.status, data, r.headers
        return r.status, json.loads(data), r.headers
    finally:
        c.close()


def dep_path(ns, name):
    return "/apis/apps/v1/namespaces/%s/deployments/%s" % (ns, name)


def ensure(ns, name, **kw):
    """Create ns/name on the shared FakeKube unless it exists (tests must
    not depend on each other's order)."""
    k = S["kube"]
    if k.get_deployment(ns, name) is None:
        k.add_deployment(ns, name, **kw)


def check_status(obj, code, reason):
    assert obj["kind"] == "Status" and obj["apiVersion"] == "v1", obj
    assert obj["metadata"] == {} and obj["status"] == "Failure", obj
    assert obj["code"] == code and obj["reason"] == reason, obj
    assert isinstance(obj["message"], str) and obj["message"], obj


def containers(d):
    return {c["name"]: c["image"] for c in
            d["spec"]["template"]["spec"]["containers"]}


def expect_tls_failure(port, name=KNAME, ctx=None):
    try:
        conn(port, name, ctx).close()
    except ssl.SSLError as e:
        return str(e)
    raise AssertionError("TLS handshake unexpectedly succeeded")


# ---- CA and TLS -------------------------------------------------------------

def test_ca_fast_and_verifies():
    assert S["ca_seconds"] < 2.0, S["ca_seconds"]
    st, obj, _ = call("GET", "/version")
    assert st == 200 and obj["major"] == "1", obj
    # The cert names only DNS names that BearSSL can check.
    out = subprocess.run(["openssl", "x509", "-in", S["kube"].cert[0],
                          "-noout", "-ext", "subjectAltName"],
                         stdout=subprocess.PIPE, check=True).stdout.decode()
    assert "DNS:kubernetes.default.svc" in out and "IP" not in out, out
    # TLS 1.2 only (what BearSSL speaks) with ECDHE + AES-GCM works.
    ctx = S["ca"].client_context(tls12_only=True)
    ctx.set_ciphers("ECDHE-ECDSA-AES128-GCM-SHA256")
    c = conn(ctx=ctx)
    assert c.sock.version() == "TLSv1.2", c.sock.version()
    c.close()


def test_tls_refusals():
    ca = S["ca"]
    other = ca.other_ca()
    # A client trusting only another CA refuses our server; the server
    # records the failed handshake.
    n = len(S["kube"].tls_errors)
    err = expect_tls_failure(S["kube"].port, ctx=other.client_context())
    assert "CERTIFICATE_VERIFY_FAILED" in err, err
    end = time.monotonic() + 2
    while len(S["kube"].tls_errors) == n and time.monotonic() < end:
        time.sleep(0.01)
    assert len(S["kube"].tls_errors) > n
    # Name mismatch.
    err = expect_tls_failure(S["kube"].port, name="wrong.example")
    assert "CERTIFICATE_VERIFY_FAILED" in err or "match" in err, err
    # Expired certificate and a certificate from an unrelated CA.
    for cert, word in ((ca.expired("old", (KNAME,)), "expired"),
                       (other.issue("foreign", (KNAME,)), "")):
        k = FakeKube(cert=cert).start()
        try:
            err = expect_tls_failure(k.port)
            assert word in err, err
        finally:
            k.stop()


# ---- kube: reads, auth, errors --------------------------------------------

def test_get_shape_and_rs_list():
    k = S["kube"]
    k.add_deployment("default", "shape2", containers=[
        ("shape2", "registry.example/shape:1.3"), ("envoy", "envoy:v1")],
        init_containers=[("migrate", "registry.example/migrate:1")],
        change_cause="first")
    k.add_deployment("default", "other", labels={"app": "other"})
    st, d, h = call("GET", dep_path("default", "shape2"))
    assert st == 200 and h["Content-Type"] == "application/json"
    md = d["metadata"]
    assert d["kind"] == "Deployment" and d["apiVersion"] == "apps/v1"
    assert md["annotations"]["deployment.kubernetes.io/revision"] == "1"
    assert md["generation"] == 1 and md["uid"] and md["resourceVersion"]
    assert d["status"]["observedGeneration"] == 1
    assert d["status"]["availableReplicas"] == 3
    types = {c["type"]: c["reason"] for c in d["status"]["conditions"]}
    assert types == {"Available": "MinimumReplicasAvailable",
                     "Progressing": "NewReplicaSetAvailable"}, types
    assert d["spec"]["template"]["spec"]["initContainers"][0]["name"] == \
        "migrate"
    sel = quote("app=shape2")
    st, lst, _ = call("GET", "/apis/apps/v1/namespaces/default/replicasets"
                      "?labelSelector=" + sel)
    assert st == 200 and lst["kind"] == "ReplicaSetList", lst
    assert len(lst["items"]) == 1, lst
    rs = lst["items"][0]
    ref = rs["metadata"]["ownerReferences"][0]
    assert ref["uid"] == md["uid"] and ref["controller"] is True
    ann = rs["metadata"]["annotations"]
    assert ann["deployment.kubernetes.io/revision"] == "1"
    assert ann["kubernetes.io/change-cause"] == "first"
    assert "pod-template-hash" in rs["metadata"]["labels"]
    # Two-term selector, != and a selector that matches nothing.
    st, lst, _ = call("GET", "/apis/apps/v1/namespaces/default/replicasets"
                      "?labelSelector=" + quote("app=shape2,pod-template-hash"
                                                "=nope"))
    assert lst["items"] == [], lst
    st, lst, _ = call("GET", "/apis/apps/v1/namespaces/default/replicasets"
                      "?labelSelector=" + quote("app!=shape2"))
    assert all(i["metadata"]["labels"]["app"] != "shape2"
               for i in lst["items"]) and lst["items"]


def test_errors_are_status_objects():
    k = S["kube"]
    ensure("default", "shape")
    st, obj, _ = call("GET", dep_path("default", "nosuch"))
    assert st == 404
    check_status(obj, 404, "NotFound")
    assert obj["message"] == 'deployments.apps "nosuch" not found', obj
    st, obj, _ = call("GET", dep_path("default", "shape"), token="wrong")
    assert st == 401
    check_status(obj, 401, "Unauthorized")
    st, obj, _ = call("GET", dep_path("default", "shape"), token=None)
    assert st == 401
    k.allowed_namespaces = {"default"}
    try:
        st, obj, _ = call("PATCH", dep_path("prod", "x"), body={})
        assert st == 403
        check_status(obj, 403, "Forbidden")
        assert obj["message"].startswith(
            'deployments.apps "x" is forbidden: User "system:serviceaccount:'
            'ops-tools:deploy-api" cannot patch resource "deployments"'), obj
    finally:
        k.allowed_namespaces = None
    k.deny.add(("list", "replicasets"))
    try:
        st, obj, _ = call("GET", "/apis/apps/v1/namespaces/default/"
                          "replicasets?labelSelector=app%3Dshape")
        assert st == 403 and "cannot list" in obj["message"], obj
    finally:
        k.deny.clear()
    st, obj, _ = call("PATCH", dep_path("default", "shape"), body={},
                      ctype="application/json")
    assert st == 415
    check_status(obj, 415, "UnsupportedMediaType")
    st, obj, _ = call("PATCH", dep_path("default", "shape"), body=b"{nope",
                      ctype="application/merge-patch+json")
    assert st == 400
    check_status(obj, 400, "BadRequest")
    st, obj, _ = call("DELETE", dep_path("default", "shape"))
    assert st == 405
    st, obj, _ = call("GET", "/api/v1/nothing")
    assert st == 404
    check_status(obj, 404, "NotFound")


def test_token_rotation():
    k = S["kube"]
    ensure("default", "shape")
    old = k.token
    with open(S["token_file"]) as f:
        assert f.read() == old
    new = k.rotate_token()
    assert new != old
    with open(S["token_file"]) as f:
        assert f.read() == new
    st, obj, _ = call("GET", dep_path("default", "shape"), token=old)
    assert st == 401
    check_status(obj, 401, "Unauthorized")
    st, obj, _ = call("GET", dep_path("default", "shape"), token=new)
    assert st == 200
    logged = k.requests_matching("GET", dep_path("default", "shape"))[-1]
    assert logged["headers"]["authorization"] == "Bearer " + new


# ---- kube: patches and rollouts -------------------------------------------

def test_strategic_merge_one_container():
    k = S["kube"]
    k.add_deployment("default", "smp", containers=[
        ("smp", "registry.example/smp:1.3"), ("envoy", "envoy:v1")],
        init_containers=[("migrate", "registry.example/migrate:1")])
    before = k.get_deployment("default", "smp")
    patch = {"metadata": {"annotations": {
        "kubernetes.io/change-cause": "deploy by <@U1> (ann)"}},
        "spec": {"template": {"spec": {"containers": [
            {"name": "smp", "image": "registry.example/smp:1.4"}]}}}}
    st, d, _ = call("PATCH", dep_path("default", "smp"), body=patch)
    assert st == 200, d
    assert d["metadata"]["generation"] == 2
    assert int(d["metadata"]["resourceVersion"]) > \
        int(before["metadata"]["resourceVersion"])
    # The PATCH answer is the object as patched: not yet observed.
    assert d["status"]["observedGeneration"] == 1
    assert containers(d) == {"smp": "registry.example/smp:1.4",
                             "envoy": "envoy:v1"}
    ps, ps0 = d["spec"]["template"]["spec"], before["spec"]["template"]["spec"]
    assert ps["containers"][1] == ps0["containers"][1]  # sidecar untouched
    assert ps["initContainers"] == ps0["initContainers"]
    done = k.wait_rollout("default", "smp", 3)
    assert done["metadata"]["annotations"][
        "deployment.kubernetes.io/revision"] == "2"
    rss = k.replicasets("default", "smp")
    assert [r["metadata"]["annotations"]["deployment.kubernetes.io/revision"]
            for r in rss] == ["1", "2"]
    assert rss[1]["metadata"]["annotations"][
        "kubernetes.io/change-cause"] == "deploy by <@U1> (ann)"
    assert rss[0]["spec"]["replicas"] == 0 and rss[1]["spec"]["replicas"] == 3
    # Same patch again: a no-op, no new generation.
    st, d2, _ = call("PATCH", dep_path("default", "smp"), body=patch)
    assert st == 200 and d2["metadata"]["generation"] == 2


def test_strategic_merge_unknown_container_is_added():
    k = S["kube"]
    k.add_deployment("default", "add", containers=[("add", "a:1")])
    st, d, _ = call("PATCH", dep_path("default", "add"), body={
        "spec": {"template": {"spec": {"containers": [
            {"name": "typo", "image": "a:2"}]}}}})
    assert st == 200, d
    assert containers(d) == {"add": "a:1", "typo": "a:2"}, containers(d)
    # Missing image on a new container: 422 Invalid with causes.
    st, obj, _ = call("PATCH", dep_path("default", "add"), body={
        "spec": {"template": {"spec": {"containers": [{"name": "x"}]}}}})
    assert st == 422
    check_status(obj, 422, "Invalid")
    assert "containers[2].image: Required value" in obj["message"], obj
    # Directives: $patch delete and null removal.
    out = strategic_merge(
        {"a": 1, "containers": [{"name": "x", "v": 1}, {"name": "y"}],
         "args": ["p", "q"]},
        {"a": None, "containers": [{"name": "x", "$patch": "delete"}],
         "$setElementOrder/containers": [{"name": "y"}], "args": ["r"]})
    assert out == {"containers": [{"name": "y"}], "args": ["r"]}, out


def test_json_patch_rollback_reuses_revision():
    k = S["kube"]
    k.add_deployment("default", "rb", containers=[("rb", "r:1")],
                     change_cause="v1 by A")
    k.set_image("default", "rb", "rb", "r:2", change_cause="v2 by B")
    rss = k.replicasets("default", "rb")
    old = rss[0]
    tmpl = json.loads(json.dumps(old["spec"]["template"]))
    del tmpl["metadata"]["labels"]["pod-template-hash"]
    ann = {a: v for a, v in old["metadata"]["annotations"].items()
           if a == "kubernetes.io/change-cause"}
    ops = [{"op": "replace", "path": "/spec/template", "value": tmpl},
           {"op": "replace", "path": "/metadata/annotations", "value": ann}]
    st, d, _ = call("PATCH", dep_path("default", "rb"), body=ops,
                    ctype="application/json-patch+json")
    assert st == 200, d
    assert containers(d) == {"rb": "r:1"}
    done = k.wait_rollout("default", "rb", 3)
    assert done["metadata"]["annotations"][
        "deployment.kubernetes.io/revision"] == "3"
    rss = k.replicasets("default", "rb")
    assert len(rss) == 2, rss  # the old RS came back, none created
    assert rss[-1]["metadata"]["uid"] == old["metadata"]["uid"]
    assert rss[-1]["metadata"]["annotations"][
        "deployment.kubernetes.io/revision-history"] == "1"
    # test op failure → 422, nothing changes.
    rv = done["metadata"]["resourceVersion"]
    st, obj, _ = call("PATCH", dep_path("default", "rb"), body=[
        {"op": "test", "path": "/spec/replicas", "value": 99},
        {"op": "replace", "path": "/spec/replicas", "value": 1}],
        ctype="application/json-patch+json")
    assert st == 422, obj
    check_status(obj, 422, "Invalid")
    assert k.get_deployment("default", "rb")["metadata"][
        "resourceVersion"] == rv
    # Stale resourceVersion precondition → 409.
    st, obj, _ = call("PATCH", dep_path("default", "rb"), body={
        "metadata": {"resourceVersion": "1"}, "spec": {"replicas": 1}})
    assert st == 409
    check_status(obj, 409, "Conflict")


def test_merge_patch():
    k = S["kube"]
    k.add_deployment("default", "mp", containers=[("mp", "m:1"),
                                                  ("side", "s:1")])
    st, d, _ = call("PATCH", dep_path("default", "mp"), body={
        "metadata": {"annotations": {"x": "y"}}, "spec": {"replicas": 5}},
        ctype="application/merge-patch+json")
    assert st == 200 and d["spec"]["replicas"] == 5
    assert d["metadata"]["annotations"]["x"] == "y"
    # A merge patch replaces lists wholesale (unlike strategic merge).
    st, d, _ = call("PATCH", dep_path("default", "mp"), body={
        "spec": {"template": {"spec": {"containers": [
            {"name": "mp", "image": "m:2"}]}}}},
        ctype="application/merge-patch+json")
    assert st == 200 and containers(d) == {"mp": "m:2"}, containers(d)
    k.wait_rollout("default", "mp", 3)


def _read_events(resp, n, timeout=3.0):
    out = []
    end = time.monotonic() + timeout
    while len(out) < n and time.monotonic() < end:
        line = resp.readline()
        if not line:
            break
        out.append(json.loads(line))
    return out


def test_watch_after_patch():
    k = S["kube"]
    d = k.add_deployment("default", "w", containers=[("w", "w:1")])
    rv = d["metadata"]["resourceVersion"]
    c = conn()
    c.request("GET", "/apis/apps/v1/namespaces/default/deployments?watch=1&"
              "fieldSelector=metadata.name%3Dw&resourceVersion=" + rv +
              "&timeoutSeconds=5",
              headers={"Authorization": "Bearer " + k.token})
    r = c.getresponse()
    assert r.status == 200 and r.headers["Transfer-Encoding"] == "chunked"
    k.add_deployment("default", "w-other")  # filtered out by fieldSelector
    k.set_image("default", "w", "w", "w:2", wait=False)
    evs = _read_events(r, 3)
    c.close()
    assert [e["type"] for e in evs] == ["MODIFIED"] * 3, evs
    assert all(e["object"]["metadata"]["name"] == "w" for e in evs)
    last = evs[-1]["object"]
    assert last["status"]["observedGeneration"] == 2
    assert containers(evs[0]["object"]) == {"w": "w:2"}
    # timeoutSeconds ends the stream; watch=true spelling; no RV → ADDED.
    t = time.monotonic()
    st, data, _ = call("GET", "/apis/apps/v1/namespaces/default/deployments"
                       "?watch=true&fieldSelector=metadata.name%3Dw&"
                       "timeoutSeconds=1", raw=True)
    assert 0.8 < time.monotonic() - t < 3
    evs = [json.loads(x) for x in data.splitlines()]
    assert evs[0]["type"] == "ADDED", evs


def test_watch_expired():
    k = S["kube"]
    ensure("default", "wx")
    rv = k.get_deployment("default", "wx")["metadata"]["resourceVersion"]
    path = ("/apis/apps/v1/namespaces/default/deployments?watch=1&"
            "fieldSelector=metadata.name%3Dwx&resourceVersion=" + rv)
    k.expire_watches(1, "event")
    st, data, _ = call("GET", path, raw=True)
    ev = json.loads(data.splitlines()[0])
    assert st == 200 and ev["type"] == "ERROR", ev
    check_status(ev["object"], 410, "Expired")
    k.expire_watches(1, "http")
    st, obj, _ = call("GET", path)
    assert st == 410
    check_status(obj, 410, "Expired")
    # The list endpoint a client may re-list with.
    st, lst, _ = call("GET", "/apis/apps/v1/namespaces/default/deployments"
                      "?fieldSelector=metadata.name%3Dwx")
    assert lst["kind"] == "DeploymentList" and len(lst["items"]) == 1


def test_rollout_fail_and_stuck():
    k = S["kube"]
    k.add_deployment("default", "bad", containers=[("bad", "b:1")])
    k.rollout_mode = "fail"
    try:
        k.set_image("default", "bad", "bad", "b:2", wait=False)
        end = time.monotonic() + 3
        while time.monotonic() < end:
            d = k.get_deployment("default", "bad")
            prog = [c for c in d["status"]["conditions"]
                    if c["type"] == "Progressing"][0]
            if prog["reason"] == "ProgressDeadlineExceeded":
                break
            time.sleep(0.02)
        assert prog["reason"] == "ProgressDeadlineExceeded", d["status"]
        assert prog["status"] == "False"
        assert d["status"]["observedGeneration"] == 2
        k.rollout_mode = "stuck"
        k.set_image("default", "bad", "bad", "b:3", wait=False)
        d = wait_until(lambda: (lambda d: d["status"]["observedGeneration"] == 3 and d)(
            k.get_deployment("default", "bad")), timeout=5, what="generation 3 observed")
        assert d["status"]["observedGeneration"] == 3
        assert d["status"]["updatedReplicas"] < d["spec"]["replicas"]
        try:
            k.wait_rollout("default", "bad", 0.2)
        except AssertionError:
            pass
        else:
            raise AssertionError("stuck rollout completed")
    finally:
        k.rollout_mode = "ok"


# ---- kube: fault injection -------------------------------------------------

def test_fault_status_codes():
    k = S["kube"]
    k.clear_faults()
    ensure("default", "flt")
    p = dep_path("default", "flt")
    f = k.add_fault(method="PATCH", count=2, code=409)
    for _ in range(2):
        st, obj, _ = call("PATCH", p, body={})
        assert st == 409
        check_status(obj, 409, "Conflict")
    st, _, _ = call("PATCH", p, body={})
    assert st == 200 and f.hits == 2
    k.add_fault(path="/deployments/flt", code=429,
                headers={"Retry-After": "2"})
    st, obj, h = call("GET", p)
    assert st == 429 and h["Retry-After"] == "2"
    check_status(obj, 429, "TooManyRequests")
    k.add_fault(code=500)
    st, obj, _ = call("GET", p)
    check_status(obj, 500, "InternalError")
    k.add_fault(code=422, message="custom")
    st, obj, _ = call("GET", p)
    assert obj["message"] == "custom" and obj["reason"] == "Invalid"
    assert call("GET", p)[0] == 200
    k.clear_faults()


def test_fault_broken_bodies():
    k = S["kube"]
    k.clear_faults()
    ensure("default", "flt")
    p = dep_path("default", "flt")
    k.add_fault("truncate")
    c = conn()
    c.request("GET", p, headers={"Authorization": "Bearer " + k.token})
    r = c.getresponse()
    try:
        r.read()
        raise AssertionError("truncated body read in full")
    except (http.client.IncompleteRead, ssl.SSLError, OSError):
        pass
    c.close()
    k.add_fault("garbage")
    st, data, _ = call("GET", p, raw=True)
    assert st == 200
    try:
        json.loads(data)
        raise AssertionError("garbage parsed")
    except ValueError:
        pass
    k.add_fault("reset")
    c = conn()
    c.request("GET", p, headers={"Authorization": "Bearer " + k.token})
    try:
        r = c.getresponse()
        r.read()
        raise AssertionError("reset body read in full")
    except (http.client.IncompleteRead, ssl.SSLError, OSError,
            http.client.HTTPException):
        pass
    c.close()
    assert call("GET", p)[0] == 200


def test_fault_stall_blocks_nothing_else():
    ca = S["ca"]
    k = FakeKube(ca, token=None)
    k.add_deployment("default", "s")
    k.start()
    try:
        k.add_fault("stall", method="PATCH", count=None)
        stalled = conn(k.port, timeout=10)
        stalled.request("PATCH", dep_path("default", "s"), body=b"{}",
                        headers={"Content-Type":
                                 "application/merge-patch+json"})
        k.wait_for_request("PATCH")
        # Other connections are served meanwhile.
        st, d, _ = call("GET", dep_path("default", "s"), port=k.port)
        assert st == 200
        res = {}

        def waiter():
            try:
                stalled.getresponse().read()
                res["r"] = "answered"
            except Exception as e:  # closed by stop(): what we want
                res["r"] = type(e).__name__

        th = threading.Thread(target=waiter)
        th.start()
        assert "r" not in res  # still stalled
        t = time.monotonic()
    finally:
        k.stop()
    assert time.monotonic() - t < 2.0, "stop() blocked on a stalled request"
    th.join(3)
    assert res.get("r") not in (None, "answered"), res
    stalled.close()
    # Delay fault answers after the delay; API down = nothing listening.
    try:
        conn(unused_port()).close()
        raise AssertionError("connected to an unused port")
    except ConnectionRefusedError:
        pass


# ---- Slack, proxy, signing -------------------------------------------------

def post(url_port, path, body, name="hooks.slack.test", via=None):
    """POST to FakeSlack; via=(proxy_port) tunnels through ConnectProxy."""
    ctx = S["ca"].client_context()
    if via:
        raw = socket.create_connection(("127.0.0.1", via), timeout=5)
        raw.sendall(b"CONNECT %s:%d HTTP/1.1\r\nHost: %s:%d\r\n\r\n" %
                    (name.encode(), url_port, name.encode(), url_port))
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = raw.recv(1)
            if not chunk:
                break
            head += chunk
        if not head.startswith(b"HTTP/1.1 200"):
            raw.close()
            return int(head.split(b" ")[1]), b""
    else:
        raw = socket.create_connection(("127.0.0.1", url_port), timeout=5)
    tls = ctx.wrap_socket(raw, server_hostname=name)
    c = http.client.HTTPConnection(name, url_port, timeout=5)
    c.sock = tls
    c.request("POST", path, body=body,
              headers={"Content-Type": "application/json"})
    r = c.getresponse()
    data = r.read()
    c.close()
    return r.status, data, r.headers


def test_slack_receiver():
    sl = S["slack"]
    n = len(sl.posts)
    sl.responses = [500, {"code": 429, "headers": {"Retry-After": "1"}}]
    url = sl.response_url()
    assert url.startswith("https://hooks.slack.test:%d/commands/" % sl.port)
    path = url.split(str(sl.port), 1)[1]
    assert post(sl.port, path, b'{"text":"a"}')[0] == 500
    st, _, h = post(sl.port, path, b'{"text":"b"}')
    assert st == 429 and h["Retry-After"] == "1"
    assert post(sl.port, path, b'{"text":"c"}')[:2] == (200, b"ok")
    assert post(sl.port, path, b'not json')[0] == 400
    posts = sl.wait_for(n + 4, 2)[n:]
    assert [p["json"] and p["json"]["text"] for p in posts] == \
        ["a", "b", "c", None]
    assert posts[0]["path"] == path
    assert posts[0]["headers"]["content-type"] == "application/json"
    try:
        sl.wait_for(n + 5, 0.1)
        raise AssertionError("wait_for did not time out")
    except AssertionError as e:
        assert "%d/%d" % (n + 4, n + 5) in str(e), e


def test_proxy_connect():
    sl, px = S["slack"], S["proxy"]
    n = len(sl.posts)
    st, data, _ = post(sl.port, "/commands/x", b'{"text":"via proxy"}',
                       via=px.port)
    assert st == 200 and data == b"ok"
    assert sl.wait_for(n + 1)[-1]["json"]["text"] == "via proxy"
    log = px.wait_for(1)
    assert log[-1]["target"] == "hooks.slack.test:%d" % sl.port
    assert log[-1]["allowed"] is True
    px.refuse = True
    try:
        st, _ = post(sl.port, "/x", b"{}", via=px.port)[:2]
        assert st == 403
        assert px.connects[-1]["allowed"] is False
    finally:
        px.refuse = False
    assert len(sl.posts) == n + 1  # the refused one never reached Slack


def test_slack_signature_vector():
    slacksign.self_test()
    h = slacksign.sign(slacksign.VECTOR_SECRET, slacksign.VECTOR_BODY,
                       1531420618)
    assert h["X-Slack-Signature"] == slacksign.VECTOR_SIG
    body = slacksign.slash_body("myservice 1.4",
                                response_url="https://hooks.slack.test:1/c/x",
                                trigger_id="1.2.3")
    keys = [kv.split(b"=")[0] for kv in body.split(b"&")]
    assert keys == [b"token", b"team_id", b"team_domain", b"channel_id",
                    b"channel_name", b"user_id", b"user_name", b"command",
                    b"text", b"response_url", b"trigger_id"], keys
    assert b"text=myservice+1.4" in body and b"command=%2Fdeploy" in body
    assert b"response_url=https%3A%2F%2Fhooks.slack.test%3A1%2Fc%2Fx" in body
    assert slacksign.sign("s", b"b", 5)["X-Slack-Signature"] != \
        slacksign.sign("s", b"b", 6)["X-Slack-Signature"]


# ---- the one-process runner ------------------------------------------------

def test_serve_process():
    d = os.path.join(S["dir"], "serve")
    here = os.path.dirname(os.path.abspath(__file__))
    p = subprocess.Popen([sys.executable, "-m", "standins.serve", "--dir", d],
                         cwd=here, stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT)
    try:
        env_path = os.path.join(d, "env.json")
        end = time.monotonic() + 5
        while not os.path.exists(env_path) and time.monotonic() < end:
            assert p.poll() is None, p.stdout.read()
            time.sleep(0.05)
        with open(env_path) as f:
            env = json.load(f)
        ca_ctx = ssl.create_default_context(cafile=env["kube_ca"])
        with open(env["token_file"]) as f:
            token = f.read()
        c = conn(env["kube_port"], env["kube_server_name"], ca_ctx)
        c.request("GET", dep_path("default", "myservice"),
                  headers={"Authorization": "Bearer " + token})
        dep = json.loads(c.getresponse().read())
        c.close()
        assert containers(dep) == {
            "myservice": "registry.example/myservice:1.3",
            "envoy": "envoyproxy/envoy:v1.29.1"}, dep
        assert dep["spec"]["replicas"] == 3
        assert "kubernetes.io/change-cause" in dep["metadata"]["annotations"]
        assert env["slack_url"].startswith("https://hooks.slack.test:")
        p.send_signal(signal.SIGTERM)
        assert p.wait(5) == 0
    finally:
        if p.poll() is None:
            p.kill()
            p.wait(5)
        p.stdout.close()


if __name__ == "__main__":
    setup_module()
    failed = 0
    try:
        for name, fn in sorted(globals().items()):
            if name.startswith("test_") and callable(fn):
                t = time.monotonic()
                try:
                    fn()
                    print("PASS %s (%.2fs)" % (name, time.monotonic() - t))
                except Exception:
                    import traceback
                    failed += 1
                    print("FAIL %s" % name)
                    traceback.print_exc()
    finally:
        teardown_module()
    sys.exit(1 if failed else 0)
