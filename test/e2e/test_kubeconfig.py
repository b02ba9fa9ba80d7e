"""deploy-api on a node: kubeconfig files shaped like the ones kubeadm, k3s,
kind and minikube write (made here, with their CA data and client keys: RSA
PKCS#1, EC SEC1, PKCS#8), against a stand-in API server that requires a
client certificate; exec credential plugins (token, expired token,
missing with its installHint); a merged KUBECONFIG list; --context
switching clusters; each refusal; `deploy-api check` against
SelfSubjectAccessReview answered both ways. Real /usr/bin/kubectl reads the
same files against the same stand-ins, so both clients agree about what a
kubeconfig means."""
import base64
import json
import os
import shutil
import subprocess
import tempfile

from lib import BIN
from standins.ca import TestCA
from standins.kube import KUBE_DNS
from standins.kubeauth import AuthKube

tmp = ca = client_ca = certkube = tokkube = None
TOKEN = "exec-token-5c1f"
CLIENT_EXT = "extendedKeyUsage=clientAuth\nkeyUsage=critical,digitalSignature,keyEncipherment\n"


def sh(*args, cwd=None):
    p = subprocess.run(args, cwd=cwd or tmp, capture_output=True, timeout=60)
    assert p.returncode == 0, (args, p.stderr.decode())
    return p.stdout.decode()


def b64(path):
    with open(path, "rb") as f:
        return base64.b64encode(f.read()).decode()


def client_cert(name, kind, cn, o="system:masters"):
    """A client certificate from client_ca with a key of kind rsa1 (PKCS#1),
    sec1 (EC with its EC PARAMETERS block) or pkcs8 (EC in PKCS#8).
    Returns (cert_path, key_path)."""
    key, csr, crt, ext = (os.path.join(tmp, name + s) for s in (".key", ".csr", ".crt", ".ext"))
    if kind == "rsa1":
        sh("openssl", "genrsa", "-traditional", "-out", key, "2048")
    elif kind == "sec1":
        sh("openssl", "ecparam", "-name", "prime256v1", "-genkey", "-out", key)
    else:
        sh("openssl", "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256",
           "-out", key)
    with open(ext, "w") as f:
        f.write(CLIENT_EXT)
    sh("openssl", "req", "-new", "-key", key, "-subj", "/O=%s/CN=%s" % (o, cn), "-out", csr)
    sh("openssl", "x509", "-req", "-in", csr, "-CA", client_ca.cert, "-CAkey", client_ca.key,
       "-CAcreateserial", "-days", "2", "-extfile", ext, "-out", crt)
    with open(key) as f:
        text = f.read()
    want = {"rsa1": "BEGIN RSA PRIVATE KEY", "sec1": "BEGIN EC PRIVATE KEY",
            "pkcs8": "BEGIN PRIVATE KEY"}[kind]
    assert want in text, text[:60]
    return crt, key


def kubeconfig(path, clusters, users, contexts, current):
    """Write a kubeconfig the way kubectl and kubeadm write it (block YAML,
    sequences at their key's indentation)."""
    out = ["apiVersion: v1", "clusters:"]
    for name, fields in clusters:
        out.append("- cluster:")
        out += ["    %s: %s" % kv for kv in fields.items()]
        out.append("  name: %s" % name)
    out.append("contexts:")
    for name, fields in contexts:
        out.append("- context:")
        out += ["    %s: %s" % kv for kv in fields.items()]
        out.append("  name: %s" % name)
    out += ["current-context: %s" % current, "kind: Config", "preferences: {}", "users:"]
    for name, body in users:
        out.append("- name: %s" % name)
        out.append("  user:")
        out += ["    " + line for line in body.splitlines()]
    with open(path, "w") as f:
        f.write("\n".join(out) + "\n")
    return path


def setup_module():
    global tmp, ca, client_ca, certkube, tokkube
    tmp = tempfile.mkdtemp(prefix="deploy-api-kubeconfig-")
    ca = TestCA(os.path.join(tmp, "ca"))
    client_ca = TestCA(os.path.join(tmp, "client-ca"), "kubernetes client CA", key_type="rsa")
    # The API server certificate names the IP (for kubectl) and
    # kubernetes.default.svc (BearSSL checks DNS names), as kubeadm's does.
    srv = ca.issue("apiserver", KUBE_DNS, ips=("127.0.0.1",))
    certkube = AuthKube(cert=srv, token=None, client_ca=client_ca.cert)
    tokkube = AuthKube(cert=srv, token=TOKEN)
    for k in (certkube, tokkube):
        k.rollout_delay = 0.05
        k.add_deployment("default", "web", containers=[("web", "registry.example/web:1.0")])
        k.add_deployment("team-a", "api", containers=[("api", "registry.example/api:2.0")])
        k.start()


def teardown_module():
    for k in (certkube, tokkube):
        k.stop()
    shutil.rmtree(tmp, ignore_errors=True)


def env(**extra):
    e = {"PATH": "/usr/bin:/bin", "HOME": tmp, "USER": "ops", "IMAGE_BASE": "registry.example",
         "DEPLOY_NAMESPACES": "default,team-a", "ROLLOUT_TIMEOUT": "10"}
    for k, v in extra.items():
        if v is None:
            e.pop(k, None)
        else:
            e[k] = v
    return e


def run(*args, **extra):
    p = subprocess.run([BIN, *args], env=env(**extra), capture_output=True, timeout=60)
    return p.returncode, p.stdout.decode(), p.stderr.decode()


def kubectl(*args, **extra):
    p = subprocess.run(["/usr/bin/kubectl", *args], env=env(**extra), capture_output=True,
                       timeout=60)
    return p.returncode, p.stdout.decode(), p.stderr.decode()


def raw_deploy(ns, name):
    return "/apis/apps/v1/namespaces/%s/deployments/%s" % (ns, name)


def agree(cfg, ns="default", name="web", context=None, kube=None, **extra):
    """deploy-api status and kubectl get --raw read cfg the same way: both
    reach the same stand-in and see the same image."""
    ctx = ["--context", context] if context else []
    n0 = len(kube.requests) if kube else 0
    code, out, err = run("status", "%s/%s" % (ns, name), "--kubeconfig", cfg, *ctx, **extra)
    assert code == 0, (out, err)
    kcode, kout, kerr = kubectl("--kubeconfig", cfg, *ctx, "get", "--raw", raw_deploy(ns, name),
                                **extra)
    assert kcode == 0, kerr
    image = json.loads(kout)["spec"]["template"]["spec"]["containers"][0]["image"]
    assert image in out, (image, out)
    if kube:
        got = [r["path"] for r in kube.requests[n0:]]
        assert got.count(raw_deploy(ns, name)) >= 2, got  # one from each client
    return out


def test_standin_requires_a_client_certificate():
    cfg = kubeconfig(os.path.join(tmp, "nocert.yaml"),
                     [("c", {"server": certkube.url, "certificate-authority-data": b64(ca.cert)})],
                     [("u", "token: not-a-cert")], [("x", {"cluster": "c", "user": "u"})], "x")
    code, out, err = run("status", "web", "--kubeconfig", cfg)
    assert code == 1 and "Kubernetes API at 127.0.0.1" in err, err
    kcode, _, kerr = kubectl("--kubeconfig", cfg, "get", "--raw", raw_deploy("default", "web"))
    assert kcode != 0, "kubectl without a client certificate must fail too"


def test_kubeadm_admin_conf_rsa_pkcs1():
    crt, key = client_cert("kubeadm-admin", "rsa1", "kubernetes-admin")
    cfg = kubeconfig(os.path.join(tmp, "admin.conf"),
                     [("kubernetes", {"certificate-authority-data": b64(ca.cert),
                                      "server": certkube.url})],
                     [("kubernetes-admin", "client-certificate-data: %s\nclient-key-data: %s"
                       % (b64(crt), b64(key)))],
                     [("kubernetes-admin@kubernetes", {"cluster": "kubernetes",
                                                       "user": "kubernetes-admin"})],
                     "kubernetes-admin@kubernetes")
    agree(cfg, kube=certkube)
    assert "kubernetes-admin" in certkube.client_cns
    # the README's kubeadm commands, with this file for admin.conf
    code, out, err = run("--kubeconfig", cfg, "check", IMAGE_BASE=None)
    assert code == 0 and "RBAC in default" in out, out + err
    code, out, err = run("--kubeconfig", cfg, "deploy", "web", "1.1")
    assert code == 0, (out, err)
    _, kout, _ = kubectl("--kubeconfig", cfg, "get", "--raw", raw_deploy("default", "web"))
    assert json.loads(kout)["spec"]["template"]["spec"]["containers"][0]["image"] == \
        "registry.example/web:1.1"
    code, out, err = run("--kubeconfig", cfg, "history", "web", "-o", "json")
    assert code == 0 and json.loads(out)["revisions"][0]["images"] == ["registry.example/web:1.1"]
    code, out, err = run("--kubeconfig", cfg, "rollback", "web")
    assert code == 0, (out, err)
    _, kout, _ = kubectl("--kubeconfig", cfg, "get", "--raw", raw_deploy("default", "web"))
    assert json.loads(kout)["spec"]["template"]["spec"]["containers"][0]["image"] == \
        "registry.example/web:1.0"


def test_k3s_yaml_ec_sec1_via_KUBECONFIG():
    crt, key = client_cert("k3s-admin", "sec1", "system:admin")
    cfg = kubeconfig(os.path.join(tmp, "k3s.yaml"),
                     [("default", {"certificate-authority-data": b64(ca.cert),
                                   "server": certkube.url})],
                     [("default", "client-certificate-data: %s\nclient-key-data: %s"
                       % (b64(crt), b64(key)))],
                     [("default", {"cluster": "default", "user": "default"})], "default")
    # the README's k3s commands, with this file for k3s.yaml
    code, out, err = run("status", "web", KUBECONFIG=cfg)
    assert code == 0 and "registry.example/web" in out, (out, err)
    code, out, err = run("-n", "team-a", "status", "api", "-o", "json", KUBECONFIG=cfg)
    assert code == 0 and json.loads(out)["name"] == "api", (out, err)
    code, out, err = run("history", "team-a/api", KUBECONFIG=cfg)
    assert code == 0 and "registry.example/api:2.0" in out, (out, err)
    kcode, _, kerr = kubectl("get", "--raw", raw_deploy("default", "web"), KUBECONFIG=cfg)
    assert kcode == 0, kerr
    assert "system:admin" in certkube.client_cns


def test_kind_and_minikube_files_relative_pkcs8():
    crt, key = client_cert("kind-user", "rsa1", "kind-admin")
    cfg = kubeconfig(os.path.join(tmp, "kind.yaml"),
                     [("kind-kind", {"certificate-authority-data": b64(ca.cert),
                                     "server": certkube.url})],
                     [("kind-kind", "client-certificate-data: %s\nclient-key-data: %s"
                       % (b64(crt), b64(key)))],
                     [("kind-kind", {"cluster": "kind-kind", "user": "kind-kind"})], "kind-kind")
    agree(cfg, kube=certkube)
    # minikube: files next to the kubeconfig, named relative to it
    mk = os.path.join(tmp, "minikube", "profiles")
    os.makedirs(mk, exist_ok=True)
    crt, key = client_cert("minikube-user", "pkcs8", "minikube-user")
    shutil.copy(crt, os.path.join(mk, "client.crt"))
    shutil.copy(key, os.path.join(mk, "client.key"))
    shutil.copy(ca.cert, os.path.join(tmp, "minikube", "ca.crt"))
    cfg = kubeconfig(os.path.join(tmp, "minikube", "config"),
                     [("minikube", {"certificate-authority": "ca.crt", "server": certkube.url})],
                     [("minikube", "client-certificate: profiles/client.crt\n"
                       "client-key: profiles/client.key")],
                     [("minikube", {"cluster": "minikube", "user": "minikube",
                                    "namespace": "team-a"})], "minikube")
    # the context's namespace is the default one: "api" lives in team-a
    code, out, err = run("status", "api", "--kubeconfig", cfg)
    assert code == 0 and "registry.example/api:2.0" in out, (out, err)
    agree(cfg, ns="team-a", name="api", kube=certkube)
    assert "minikube-user" in certkube.client_cns


def plugin(name, script):
    path = os.path.join(tmp, name)
    with open(path, "w") as f:
        f.write("#!/bin/sh\n" + script)
    os.chmod(path, 0o755)
    return path


def exec_config(name, command, api="client.authentication.k8s.io/v1", extra=""):
    return kubeconfig(os.path.join(tmp, name),
                      [("eks", {"certificate-authority-data": b64(ca.cert),
                                "server": tokkube.url})],
                      [("eks-user", "exec:\n  apiVersion: %s\n  command: %s\n"
                        "  args:\n  - token\n  - --cluster\n  - prod\n"
                        "  env:\n  - name: PLUGIN_TOKEN\n    value: %s\n"
                        "  interactiveMode: Never\n%s" % (api, command, TOKEN, extra))],
                      [("eks", {"cluster": "eks", "user": "eks-user"})], "eks")


def test_exec_plugin_token():
    plugin("aws-ish", '[ "$1 $2 $3" = "token --cluster prod" ] || exit 9\n'
           'printf \'{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential",'
           '"status":{"token":"%s","expirationTimestamp":"2999-01-01T00:00:00Z"}}\' '
           '"$PLUGIN_TOKEN"\n')
    cfg = exec_config("exec.yaml", "./aws-ish")  # relative to the kubeconfig's directory
    n0 = len(tokkube.requests)
    agree(cfg, kube=tokkube)
    auth = [r["headers"]["Authorization"] for r in tokkube.requests[n0:]]
    assert auth and all(a == "Bearer " + TOKEN for a in auth), auth
    # v1beta1 too
    plugin("beta", 'printf \'{"apiVersion":"client.authentication.k8s.io/v1beta1",'
           '"kind":"ExecCredential","status":{"token":"%s"}}\' "$PLUGIN_TOKEN"\n')
    cfg = exec_config("exec-beta.yaml", "./beta", api="client.authentication.k8s.io/v1beta1")
    agree(cfg, kube=tokkube)


def test_exec_plugin_runs_again_after_a_401():
    """A token the API server no longer takes (EKS tokens live 15 min):
    the plugin runs once more and the request is retried, as client-go does."""
    runs = os.path.join(tmp, "runs")
    plugin("rotating", 'echo run >> %s\n'
           'if [ "$(wc -l < %s)" -eq 1 ]; then t=old-token; else t="$PLUGIN_TOKEN"; fi\n'
           'printf \'{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential",'
           '"status":{"token":"%%s"}}\' "$t"\n' % (runs, runs))
    cfg = exec_config("rotating.yaml", "./rotating")
    n0 = len(tokkube.requests)
    code, out, err = run("status", "web", "--kubeconfig", cfg)
    assert code == 0, err
    with open(runs) as f:
        assert len(f.read().splitlines()) == 2
    auth = [r["headers"]["Authorization"] for r in tokkube.requests[n0:]]
    assert auth[0] == "Bearer old-token" and auth[-1] == "Bearer " + TOKEN, auth


def test_exec_plugin_expired_token_is_refused():
    plugin("expired", 'printf \'{"apiVersion":"client.authentication.k8s.io/v1",'
           '"kind":"ExecCredential","status":{"token":"%s",'
           '"expirationTimestamp":"2020-01-01T00:00:00Z"}}\' "$PLUGIN_TOKEN"\n')
    cfg = exec_config("expired.yaml", "./expired")
    n0 = len(tokkube.requests)
    code, out, err = run("status", "web", "--kubeconfig", cfg)
    assert code == 1 and "expired credential (expirationTimestamp 2020-01-01T00:00:00Z)" in err, err
    assert len(tokkube.requests) == n0, "an expired credential is never sent"


def test_exec_plugin_missing_shows_install_hint():
    cfg = exec_config("missing.yaml", "gke-gcloud-auth-plugin-nope",
                      extra="  installHint: |\n    Install gke-gcloud-auth-plugin:\n"
                            "    gcloud components install gke-gcloud-auth-plugin\n")
    code, out, err = run("status", "web", "--kubeconfig", cfg)
    assert code == 1, err
    line = err.strip()
    assert "\n" not in line and "executable gke-gcloud-auth-plugin-nope not found" in line, err
    assert "gcloud components install gke-gcloud-auth-plugin" in line, err
    kcode, _, kerr = kubectl("--kubeconfig", cfg, "get", "--raw", "/version")
    assert kcode != 0 and "gcloud components install gke-gcloud-auth-plugin" in kerr, kerr


def test_merged_KUBECONFIG_first_file_wins():
    crt, key = client_cert("merge-user", "sec1", "merge-user")
    # a.yaml: current-context, and a cluster "shared" pointing at the cert stand-in
    a = kubeconfig(os.path.join(tmp, "a.yaml"),
                   [("shared", {"certificate-authority-data": b64(ca.cert),
                                "server": certkube.url})],
                   [], [("a-ctx", {"cluster": "shared", "user": "b-user"})], "a-ctx")
    # b.yaml: another current-context, the same cluster name elsewhere, the user
    b = kubeconfig(os.path.join(tmp, "b.yaml"),
                   [("shared", {"certificate-authority-data": b64(ca.cert),
                                "server": tokkube.url})],
                   [("b-user", "client-certificate-data: %s\nclient-key-data: %s"
                     % (b64(crt), b64(key)))],
                   [("b-ctx", {"cluster": "shared", "user": "b-user"})], "b-ctx")
    merged = "%s:%s:%s" % (os.path.join(tmp, "absent.yaml"), a, b)
    n0 = len(certkube.requests)
    code, out, err = run("status", "web", KUBECONFIG=merged)
    assert code == 0, err
    kcode, _, kerr = kubectl("get", "--raw", raw_deploy("default", "web"), KUBECONFIG=merged)
    assert kcode == 0, kerr
    got = [r["path"] for r in certkube.requests[n0:]]
    assert got.count(raw_deploy("default", "web")) >= 2, got
    _, kout, _ = kubectl("config", "view", "--minify", "-o", "json", KUBECONFIG=merged)
    assert json.loads(kout)["clusters"][0]["cluster"]["server"] == certkube.url


def test_context_switches_clusters():
    crt, key = client_cert("two-user", "pkcs8", "two-user")
    cfg = kubeconfig(os.path.join(tmp, "two.yaml"),
                     [("cert-cluster", {"certificate-authority-data": b64(ca.cert),
                                        "server": certkube.url}),
                      ("token-cluster", {"certificate-authority-data": b64(ca.cert),
                                         "server": tokkube.url})],
                     [("cert-user", "client-certificate-data: %s\nclient-key-data: %s"
                       % (b64(crt), b64(key))), ("token-user", "token: " + TOKEN)],
                     [("on-cert", {"cluster": "cert-cluster", "user": "cert-user"}),
                      ("on-token", {"cluster": "token-cluster", "user": "token-user",
                                    "namespace": "team-a"})], "on-cert")
    agree(cfg, kube=certkube)
    agree(cfg, ns="team-a", name="api", context="on-token", kube=tokkube)
    n0 = len(tokkube.requests)
    code, out, err = run("status", "api", "--kubeconfig", cfg, "--context", "on-token")
    assert code == 0 and len(tokkube.requests) > n0, err
    code, out, err = run("status", "web", "--kubeconfig", cfg, "--context", "nope")
    assert code == 1 and 'context "nope" not found' in err, err


def test_refusals_say_what_to_do():
    base = {"certificate-authority-data": b64(ca.cert), "server": tokkube.url}
    cases = [
        (dict(base, **{"insecure-skip-tls-verify": "true"}), "token: x",
         "insecure-skip-tls-verify is refused: give the cluster's CA"),
        (base, "auth-provider:\n  name: gcp", "use an exec plugin"),
        (base, "username: admin\npassword: secret", "basic auth (username/password) is refused"),
    ]
    for i, (cluster, user, msg) in enumerate(cases):
        cfg = kubeconfig(os.path.join(tmp, "refuse%d.yaml" % i), [("c", cluster)],
                         [("u", user)], [("x", {"cluster": "c", "user": "u"})], "x")
        n0 = len(tokkube.requests)
        code, out, err = run("status", "web", "--kubeconfig", cfg)
        assert code == 1 and msg in err and "refuse%d.yaml" % i in err, err
        assert len(err.strip().splitlines()) == 1 and "secret" not in err
        assert len(tokkube.requests) == n0, "nothing is sent"


def test_nothing_configured_says_how():
    code, out, err = run("status", "web", HOME=os.path.join(tmp, "empty-home"))
    assert code == 1 and "no Kubernetes API configured" in err and "admin.conf" in err, err
    code, out, err = run("status", "web", "--kubeconfig", os.path.join(tmp, "nope.yaml"))
    assert code == 1 and "--kubeconfig" in err, err
    code, out, err = run("status", "web", "--kubeconfig", os.path.join(tmp, "admin.conf"),
                         KUBE_API_URL=tokkube.url)
    assert code == 1 and "KUBE_API_URL is set" in err, err


def test_no_credentials_over_plain_http():
    """A kubeconfig whose server is http:// (a kubectl proxy) never sends
    its token or runs its plugin there."""
    from standins.kubeauth import AuthKube as K
    plain = K(token=None)
    plain.add_deployment("default", "web", containers=[("web", "registry.example/web:1.0")])
    plain.start()
    try:
        cfg = kubeconfig(os.path.join(tmp, "plain.yaml"), [("p", {"server": plain.url})],
                         [("u", "token: " + TOKEN)], [("x", {"cluster": "p", "user": "u"})], "x")
        code, out, err = run("status", "web", "--kubeconfig", cfg)
        assert code == 0, err
        assert plain.requests and all("Authorization" not in r["headers"]
                                      for r in plain.requests)
    finally:
        plain.stop()


def check_env(**extra):
    cfg = os.path.join(tmp, "check.yaml")
    kubeconfig(cfg, [("c", {"certificate-authority-data": b64(ca.cert), "server": tokkube.url})],
               [("u", "token: " + TOKEN)], [("x", {"cluster": "c", "user": "u"})], "x")
    e = {"KUBECONFIG": cfg, "SLACK_SIGNING_SECRET": "s" * 32, "SLACK_CA_FILE": ca.cert,
         "RESPONSE_URL_HOSTS": "localhost:%d" % tokkube.port}
    e.update(extra)
    return e


def test_check_all_allowed():
    tokkube.deny = set()
    tokkube.allowed_namespaces = None
    n0 = len(tokkube.reviews)
    code, out, err = run("check", **check_env())
    lines = out.strip().splitlines()
    assert code == 0 and all(l.startswith("OK   ") for l in lines), out + err
    assert any("RBAC in team-a: get, list, watch, patch deployments" in l for l in lines), out
    reviews = tokkube.reviews[n0:]
    assert {(r[0], r[1], r[3]) for r in reviews} >= {
        ("default", "patch", "deployments"), ("team-a", "watch", "deployments"),
        ("default", "list", "replicasets"), ("team-a", "list", "pods")}, reviews
    assert any("TLS to localhost:%d" % tokkube.port in l for l in lines), out


def test_check_denied_and_unreachable():
    tokkube.deny = {("patch", "deployments"), ("list", "pods")}
    try:
        code, out, err = run("check", **check_env(
            RESPONSE_URL_HOSTS="localhost:1"))
    finally:
        tokkube.deny = set()
    assert code == 1, out
    fails = [l for l in out.splitlines() if l.startswith("FAIL ")]
    assert any("RBAC in default: may not patch deployments, list pods" in l for l in fails), out
    assert any("TLS to localhost:1" in l for l in fails), out
    assert any(l.startswith("OK   API server") for l in out.splitlines()), out


def test_check_on_a_node_without_slack_settings():
    e = check_env()
    for k in ("SLACK_SIGNING_SECRET", "RESPONSE_URL_HOSTS"):
        e.pop(k)
    code, out, err = run("check", IMAGE_BASE=None, **e)
    assert code == 0, out + err
    assert out.startswith("OK   configuration: command line only"), out
    assert "TLS to" not in out, "no Slack egress checks on a node"
    code, out, err = run("check", "--context", "nope", **e)
    assert code == 1 and 'FAIL API server: ' in out and 'context "nope" not found' in out, out


def test_serve_outside_a_cluster_with_a_kubeconfig():
    """The server takes --kubeconfig/--context: jobs authenticate with the
    client certificate, or run the exec plugin in the job's own process."""
    from lib import Server
    from standins.slack import FakeSlack
    crt, key = client_cert("serve-user", "rsa1", "serve-user")
    plugin("serve-plugin", 'printf \'{"apiVersion":"client.authentication.k8s.io/v1",'
           '"kind":"ExecCredential","status":{"token":"%s"}}\' "$PLUGIN_TOKEN"\n')
    cfg = exec_config("serve.yaml", "./serve-plugin")  # the exec plugin's user
    cfg2 = kubeconfig(os.path.join(tmp, "serve-cert.yaml"),
                      [("c", {"certificate-authority-data": b64(ca.cert),
                              "server": certkube.url})],
                      [("u", "client-certificate-data: %s\nclient-key-data: %s"
                        % (b64(crt), b64(key)))], [("on-cert", {"cluster": "c", "user": "u"})],
                      "on-cert")
    slack = FakeSlack(ca=ca)
    slack.start()
    try:
        for path, kube, who in ((cfg2, certkube, "serve-user"), (cfg, tokkube, None)):
            srv = Server(env={"KUBE_API_URL": None, "SLACK_CA_FILE": ca.cert,
                              "RESPONSE_URL_HOSTS": "localhost:%d" % slack.port, "HOME": tmp},
                         args=("serve", "--kubeconfig", path))
            try:
                n0, p0 = len(kube.requests), len(slack.posts)
                code, body = srv.post_slack("status web", response_url=slack.response_url(
                    host="localhost"))
                assert code == 200, body
                posts = slack.wait_for(p0 + 1, timeout=15)
                assert "registry.example/web" in json.dumps(posts[-1]["json"]), posts[-1]
                assert len(kube.requests) > n0
                if who:
                    assert who in kube.client_cns
                else:
                    assert kube.requests[-1]["headers"]["Authorization"] == "Bearer " + TOKEN
            finally:
                srv.stop()
    finally:
        slack.stop()


def test_token_file_tls_server_name_and_proxy_url():
    """tokenFile (relative to the kubeconfig), tls-server-name and proxy-url
    (an HTTP CONNECT proxy): both clients go through the proxy, verify the
    named certificate and send the file's token."""
    from standins.proxy import ConnectProxy
    d = os.path.join(tmp, "tf")
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "token"), "w") as f:
        f.write(TOKEN + "\n")
    with ConnectProxy() as px:
        cfg = kubeconfig(os.path.join(d, "config"),
                         [("c", {"certificate-authority-data": b64(ca.cert),
                                 "server": tokkube.url, "tls-server-name": "localhost",
                                 "proxy-url": px.url})],
                         [("u", "tokenFile: token")], [("x", {"cluster": "c", "user": "u"})], "x")
        n0 = len(tokkube.requests)
        agree(cfg, kube=tokkube)
        auth = [r["headers"]["Authorization"] for r in tokkube.requests[n0:]]
        assert auth and all(a == "Bearer " + TOKEN for a in auth), auth
        targets = [c["target"] for c in px.connects]
        assert targets.count("127.0.0.1:%d" % tokkube.port) >= 2, targets
