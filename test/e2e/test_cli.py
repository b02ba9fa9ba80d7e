"""`deploy-api deploy|status|history|rollback` from a shell: the same code
paths as the Slack jobs, against the Kubernetes stand-in over TLS with a
bearer token, and over plain http without a token (the `kubectl proxy`
case). Exit 0 with readable output on success; non-zero with a one-line
reason on stderr on failure."""
import os
import subprocess
import tempfile

from lib import BIN, change_patches
from standins.ca import TestCA
from standins.kube import FakeKube

tmp = ca = tls = plain = None
NS = "default"


def setup_module():
    global tmp, ca, tls, plain
    tmp = tempfile.mkdtemp(prefix="deploy-api-cli-")
    ca = TestCA(os.path.join(tmp, "ca"))
    tls = FakeKube(ca=ca, token_file=os.path.join(tmp, "token"))
    plain = FakeKube(ca=None, token=None)
    for k in (tls, plain):
        k.rollout_delay = 0.1
        k.add_deployment(NS, "myservice", containers=[
            ("myservice", "registry.example/myservice:1.3"), ("envoy", "envoyproxy/envoy:v1.29")])
        k.add_deployment("team-a", "web", containers=[("web", "registry.example/web:1.0")])
        k.start()


def teardown_module():
    import shutil
    tls.stop()
    plain.stop()
    shutil.rmtree(tmp, ignore_errors=True)


def cli(*args, kube=None, **env):
    kube = kube or tls
    e = {"PATH": "/usr/bin:/bin", "IMAGE_BASE": "registry.example", "KUBE_API_URL": kube.url,
         "ROLLOUT_TIMEOUT": "10", "USER": "alice"}
    if kube is tls:
        e.update(KUBE_CA_FILE=ca.cert, KUBE_TOKEN_FILE=tls.token_file)
    else:
        e.update(KUBE_TOKEN_FILE=os.path.join(tmp, "no-such-token"))
    for k, v in env.items():
        if v is None:
            e.pop(k, None)
        else:
            e[k] = v
    p = subprocess.run([BIN, *args], env=e, capture_output=True, timeout=30)
    return p.returncode, p.stdout.decode(), p.stderr.decode()


def one_line(err):
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("deploy-api: "), err
    return lines[0]


def test_deploy_status_history_rollback_over_tls():
    code, out, err = cli("deploy", "myservice", "1.4")
    assert code == 0, (out, err)
    assert "deployed default/myservice 1.3 \u2192 1.4 (registry.example/myservice:1.4)" in out \
        and "3/3" in out, out
    # issue 9: stderr carries kubectl rollout status's lines, nothing else
    assert all(l.startswith("Waiting for deployment") for l in err.splitlines()), err
    assert tls.images(NS, "myservice") == {"myservice": "registry.example/myservice:1.4",
                                           "envoy": "envoyproxy/envoy:v1.29"}
    # (the last PATCH records when the revision went live: issue 9)
    p = change_patches(tls)[-1]
    assert p["headers"]["Authorization"] == "Bearer " + tls.token
    cause = tls.get_deployment(NS, "myservice")["metadata"]["annotations"]["kubernetes.io/change-cause"]
    assert "registry.example/myservice:1.4" in cause and "alice" in cause, cause

    code, out, err = cli("status", "myservice")
    assert code == 0 and "registry.example/myservice:1.4" in out and "envoyproxy/envoy:v1.29" in out, out

    code, out, err = cli("history", "myservice")
    assert code == 0, err
    assert out.index("2 (current)") < out.index("\n1 ") and cause in out, out

    code, out, err = cli("rollback", "myservice")
    assert code == 0 and "revision 1" in out, (out, err)
    assert tls.images(NS, "myservice")["myservice"] == "registry.example/myservice:1.3"

    code, out, err = cli("rollback", "myservice", "2")
    assert code == 0, err
    assert tls.images(NS, "myservice")["myservice"] == "registry.example/myservice:1.4"


def test_namespace_target_and_digest():
    digest = "sha256:" + "ab" * 32
    code, out, err = cli("deploy", "team-a/web", digest, DEPLOY_NAMESPACES="default,team-a")
    assert code == 0, err
    assert tls.images("team-a", "web")["web"] == f"registry.example/web@{digest}"


def test_plain_http_kubectl_proxy_no_token():
    code, out, err = cli("deploy", "myservice", "2.0", kube=plain)
    assert code == 0, (out, err)
    assert plain.images(NS, "myservice")["myservice"] == "registry.example/myservice:2.0"
    assert all("Authorization" not in r["headers"] for r in plain.requests)
    code, out, err = cli("history", "myservice", kube=plain)
    assert code == 0 and "2 (current)" in out and "registry.example/myservice:2.0" in out, out
    code, out, err = cli("status", "myservice", kube=plain)
    assert code == 0 and "registry.example/myservice:2.0" in out


def test_not_found_exits_nonzero():
    code, out, err = cli("status", "nosuch")
    assert code != 0
    assert "not found" in one_line(err), err
    code, out, err = cli("deploy", "nosuch", "1.0", kube=plain)
    assert code != 0 and "deployment default/nosuch not found" in one_line(err)


def test_revision_missing_exits_nonzero():
    code, out, err = cli("rollback", "myservice", "99")
    assert code != 0 and "revision 99 not found" in one_line(err), err


def test_bad_args():
    for args in (("deploy", "myservice"), ("deploy", "myservice", "1", "extra"), ("status",),
                 ("history", "a", "b"), ("rollback",), ("frobnicate", "x")):
        code, out, err = cli(*args)
        assert code != 0, args
        assert err.strip(), args
    for args in (("deploy", "Bad_Name", "1.0"), ("deploy", "myservice", "evil.example/x:1"),
                 ("rollback", "myservice", "abc"), ("deploy", "kube-system/coredns", "1.0")):
        code, out, err = cli(*args)
        assert code != 0, args
        one_line(err)
    assert all(r["method"] != "PATCH" or "/coredns" not in r["path"] for r in tls.requests)


def test_missing_image_base():
    # IMAGE_BASE is an allow-list (issue 9): a repository outside it is
    # refused after the GET, before any PATCH
    n = len([r for r in tls.requests if r["method"] == "PATCH"])
    code, out, err = cli("deploy", "myservice", "9.9", IMAGE_BASE="other.example")
    assert code != 0 and "IMAGE_BASE" in one_line(err), err
    assert len([r for r in tls.requests if r["method"] == "PATCH"]) == n, "no PATCH"
    # status and history need no IMAGE_BASE
    code, out, err = cli("status", "myservice", IMAGE_BASE=None)
    assert code == 0, err


def test_token_missing_over_tls():
    code, out, err = cli("status", "myservice", KUBE_TOKEN_FILE=os.path.join(tmp, "absent"))
    assert code != 0 and "token" in one_line(err), err


def test_untrusted_ca():
    other = ca.other_ca()
    code, out, err = cli("status", "myservice", KUBE_CA_FILE=other.cert)
    assert code != 0 and ("not trusted" in err or "unknown CA" in err), err
    one_line(err)


def test_api_down():
    from standins._server import unused_port
    code, out, err = cli("status", "myservice", KUBE_API_URL=f"https://127.0.0.1:{unused_port()}")
    assert code != 0 and "refused" in one_line(err), err


def test_arguments_are_never_rejoined_into_slack_text():
    """`deploy rollback myservice` deploys a deployment named rollback at
    version myservice (there is none): myservice is never rolled back."""
    before = tls.images(NS, "myservice")
    n = len(tls.requests)
    code, out, err = cli("deploy", "rollback", "myservice")
    assert code == 1 and "deployment default/rollback not found" in one_line(err), err
    assert tls.images(NS, "myservice") == before
    assert all(r["method"] != "PATCH" for r in tls.requests[n:])
    assert any("/deployments/rollback" in r["path"] for r in tls.requests[n:])


def test_usage_errors_exit_2_naming_what_is_wrong():
    cases = {("status", "myservice", "-c", "x"): "status: option --container does not apply",
             ("deploy", "myservice"): "deploy: missing the version",
             ("history", "myservice", "-o", "yaml"): '"yaml" is not an output format',
             ("rollback", "myservice", "1", "2"): 'unexpected argument "2"',
             ("status", "--bogus", "myservice"): "unknown option --bogus",
             ("deploy", "-n", "team-a", "default/web", "1"): "namespace given twice"}
    n = len(tls.requests)
    for args, msg in cases.items():
        code, out, err = cli(*args)
        assert code == 2 and msg in one_line(err), (args, err)
        assert out == ""
    assert len(tls.requests) == n, "a usage error sends nothing"


def test_help_per_command():
    for verb, word in (("deploy", "--container"), ("status", "-o json"), ("history", "[N]"),
                       ("rollback", "REVISION"), ("check", "RESPONSE_URL_HOSTS")):
        code, out, err = cli(verb, "--help")
        assert code == 0 and err == "" and out.startswith(f"usage: deploy-api {verb}"), (verb, out)
        assert word in out, (verb, out)
    code, out, err = cli("--help")
    assert code == 0 and "deploy-api deploy [NAMESPACE/]DEPLOYMENT VERSION" in out


def test_namespace_option_and_as_in_change_cause():
    code, out, err = cli("-n", "team-a", "deploy", "web", "3.0", "--as", "ops-bot",
                         DEPLOY_NAMESPACES="default,team-a")
    assert code == 0, err
    dep = tls.get_deployment("team-a", "web")
    assert dep["spec"]["template"]["spec"]["containers"][0]["image"] == "registry.example/web:3.0"
    cause = dep["metadata"]["annotations"]["kubernetes.io/change-cause"]
    assert "ops-bot" in cause and "alice" not in cause, cause
    import socket
    code, out, err = cli("deploy", "team-a/web", "3.1", DEPLOY_NAMESPACES="default,team-a")
    assert code == 0, err
    cause = tls.get_deployment("team-a", "web")["metadata"]["annotations"][
        "kubernetes.io/change-cause"]
    assert f"alice@{socket.gethostname()}" in cause, cause


def test_output_json_status_and_history():
    import json
    code, out, err = cli("status", "myservice", "-o", "json")
    assert code == 0 and err == "", err
    st = json.loads(out)
    assert st["namespace"] == NS and st["name"] == "myservice"
    assert {c["name"]: c["image"] for c in st["containers"]}["envoy"] == "envoyproxy/envoy:v1.29"
    assert st["rollout"]["state"] == "complete" and st["replicas"]["desired"] >= 1
    assert set(st) == {"namespace", "name", "revision", "generation", "observedGeneration",
                       "paused", "replicas", "containers", "initContainers", "rollout"}
    code, out, err = cli("history", "myservice", "-o", "json")
    assert code == 0, err
    h = json.loads(out)
    revs = h["revisions"]
    assert revs and revs[0]["current"] and revs[0]["revision"] == h["currentRevision"], h
    assert [r["revision"] for r in revs] == sorted((r["revision"] for r in revs), reverse=True)
    assert set(revs[0]) == {"revision", "current", "created", "images", "changeCause"}
    code, out, err = cli("status", "nosuch", "-o", "json")
    assert code == 1 and "not found" in one_line(err)
