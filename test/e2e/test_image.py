"""The FROM scratch images: built by ci/image.sh for amd64 and arm64 (buildah
here, with the build stage replaced by `make`'s output) with their index;
the amd64 image's own /deploy-api, run from the image's root filesystem as
its user 65532, serves healthz and a signed deploy end to end against the
stand-ins; ci/push.sh pushes the index to a real registry (Debian's
docker-registry on loopback) and prints the digest the registry serves it
under.

Image, index and container names are unique per run (IMAGE, IMAGE_CTR), so
two runs on one host never remove each other's."""
import hashlib
import json
import os
import shutil
import subprocess
import tempfile
import urllib.request
import uuid

from lib import BIN, Server, Skip, Stack, free_port, wait_until

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.abspath(os.path.join(HERE, "../.."))
# `make test` builds the arm64 binary next to the amd64 one (build/arm64/).
ARM64_BIN = os.environ.get("DEPLOY_API_ARM64_BIN", os.path.join(os.path.dirname(BIN), "arm64", "deploy-api"))
RUN_ID = f"{os.getpid()}-{uuid.uuid4().hex[:8]}"
NAMES = {"IMAGE": f"localhost/deploy-api-test:{RUN_ID}", "IMAGE_CTR": f"deploy-api-image-test-{RUN_ID}"}
INDEX_TYPES = ("application/vnd.oci.image.index.v1+json",
               "application/vnd.docker.distribution.manifest.list.v2+json")
rootfs = None
build_out = ""
st = None


def image_sh(*args, timeout):
    return subprocess.run(["sh", os.path.join(TOP, "ci/image.sh"), *args], capture_output=True, text=True,
                          timeout=timeout, env=dict(os.environ, **NAMES))


def setup_module():
    global rootfs, build_out, st
    if os.geteuid() != 0:
        raise Skip("building and mounting the image needs root")
    if not shutil.which("buildah") and not shutil.which("docker"):
        raise Skip("neither buildah nor docker is installed (sh ci/deps.sh image)")
    if not os.path.isfile(ARM64_BIN):
        raise AssertionError(f"no arm64 binary at {ARM64_BIN} (make arm64)")
    with tempfile.NamedTemporaryFile("r", suffix=".rootfs") as f:
        p = image_sh(BIN, "--arm64", ARM64_BIN, "--rootfs-out", f.name, timeout=900)
        build_out = p.stdout + p.stderr
        assert p.returncode == 0, build_out
        rootfs = f.read().strip()
    for line in build_out.splitlines():
        if line.startswith(("PASS image", "image:")):
            print("    " + line)
    st = Stack(start_server=False)
    # What a pod would mount: the service-account token and the cluster CA.
    e2e = os.path.join(rootfs, "e2e")
    os.makedirs(e2e, exist_ok=True)
    shutil.copy(st.ca.cert, os.path.join(e2e, "ca.crt"))
    shutil.copy(st.token_file, os.path.join(e2e, "token"))
    for f in ("ca.crt", "token"):
        os.chmod(os.path.join(e2e, f), 0o644)
    # The kubelet mounts /etc/hosts into every pod; a scratch image has none.
    with open(os.path.join(rootfs, "etc/hosts"), "w") as f:
        f.write("127.0.0.1 localhost hooks.slack.test\n")
    env = dict(st.env, KUBE_CA_FILE="/e2e/ca.crt", KUBE_TOKEN_FILE="/e2e/token",
               SLACK_CA_FILE="/e2e/ca.crt", RESPONSE_URL_HOSTS=f"hooks.slack.test:{st.slack.port}")
    st.server = Server(env=env, binary="chroot",
                       args=("--userspec=65532:65532", rootfs, "/deploy-api", "serve"))


def teardown_module():
    if st:
        st.stop()
    image_sh("--remove", timeout=120)


def test_image_budget_and_contents():
    for arch in ("amd64", "arm64"):
        assert f"PASS image: linux/{arch} size" in build_out
        assert f"PASS image: linux/{arch} contains only /deploy-api and the CA bundle" in build_out
        assert f"PASS image: linux/{arch} /deploy-api version" in build_out
    assert f"PASS image: index {NAMES['IMAGE']} holds linux/amd64 linux/arm64" in build_out
    assert sorted(os.listdir(rootfs)) == ["deploy-api", "e2e", "etc"]
    assert sorted(os.listdir(os.path.join(rootfs, "etc"))) == ["hosts", "ssl"]  # hosts: ours


def test_image_binary_serves_healthz():
    assert st.server.get("/healthz") == (200, b"ok\n")
    # the process really runs as the image's user
    with open(f"/proc/{st.server.proc.pid}/status") as f:
        uid = [l for l in f if l.startswith("Uid:")][0].split()[1]
    assert uid == "65532"


def test_image_binary_signed_deploy_end_to_end():
    url = st.slack.response_url(host="hooks.slack.test")
    code, body = st.server.post_slack("myservice 1.4", response_url=url)
    assert code == 200 and b"checking" in body  # ephemeral until the change is in (issue 14)
    end = st.server.wait_audit(event="job_end", timeout=30)[0]
    assert end["result"] == "ok" and end["reply"] == "delivered", end
    post = st.slack.wait_for(2, timeout=5)[-1]["json"]
    assert post["response_type"] == "in_channel"
    assert "deployed default/myservice 1.3 \u2192 1.4 (registry.example/myservice:1.4)" in \
        post["text"], post
    d = st.kube.get_deployment("default", "myservice")
    images = {c["name"]: c["image"] for c in d["spec"]["template"]["spec"]["containers"]}
    assert images == {"myservice": "registry.example/myservice:1.4", "envoy": "envoyproxy/envoy:v1.29"}


def registry_get(port, path, accept):
    req = urllib.request.Request(f"http://127.0.0.1:{port}/v2/{path}", headers={"Accept": accept})
    with urllib.request.urlopen(req, timeout=10) as r:
        return r.headers.get("Content-Type", ""), r.read()


def test_push_index_to_a_registry_prints_its_digest():
    if not shutil.which("docker-registry"):
        raise AssertionError("docker-registry missing (sh ci/deps.sh test)")
    port = free_port()
    with tempfile.TemporaryDirectory() as d:
        with open(os.path.join(d, "config.yml"), "w") as f:
            f.write(f"version: 0.1\nlog: {{level: warn}}\nstorage: {{filesystem: {{rootdirectory: {d}/data}}}}\n"
                    f"http: {{addr: 127.0.0.1:{port}}}\n")
        reg = subprocess.Popen(["docker-registry", "serve", os.path.join(d, "config.yml")],
                               stdout=subprocess.DEVNULL, stderr=open(os.path.join(d, "log"), "w"))
        try:
            def up():
                try:
                    return registry_get(port, "", "application/json") is not None
                except OSError:
                    return False
            wait_until(up, timeout=20, what="docker-registry answering /v2/")
            dest = f"127.0.0.1:{port}/team/deploy-api:e2e"
            p = subprocess.run(["sh", os.path.join(TOP, "ci/push.sh"), dest], capture_output=True, text=True,
                               timeout=300, env=dict(os.environ, LOCAL_IMAGE=NAMES["IMAGE"],
                                                     PUSH_TLS_VERIFY="false"))
            assert p.returncode == 0, p.stdout + p.stderr
            last = p.stdout.strip().splitlines()[-1]
            assert last.startswith("digest: sha256:"), p.stdout
            digest = last.split()[1]
            assert f"newName: 127.0.0.1:{port}/team/deploy-api" in p.stdout
            assert f"digest: {digest}" in p.stdout
            # What the registry serves for the tag is the index, under that digest.
            ctype, body = registry_get(port, "team/deploy-api/manifests/e2e", ", ".join(INDEX_TYPES))
            assert ctype in INDEX_TYPES, ctype
            assert "sha256:" + hashlib.sha256(body).hexdigest() == digest
            index = json.loads(body)
            plats = {}
            for m in index["manifests"]:
                plats[f'{m["platform"]["os"]}/{m["platform"]["architecture"]}'] = m["digest"]
            assert sorted(plats) == ["linux/amd64", "linux/arm64"], index
            # Each platform's image is there too, and its config says its architecture.
            for plat, mdigest in plats.items():
                _, mbody = registry_get(port, f"team/deploy-api/manifests/{mdigest}",
                                        "application/vnd.oci.image.manifest.v1+json")
                assert "sha256:" + hashlib.sha256(mbody).hexdigest() == mdigest
                cdigest = json.loads(mbody)["config"]["digest"]
                _, cbody = registry_get(port, f"team/deploy-api/blobs/{cdigest}", "*/*")
                assert json.loads(cbody)["architecture"] == plat.split("/")[1]
        finally:
            reg.terminate()
            reg.wait(timeout=10)
