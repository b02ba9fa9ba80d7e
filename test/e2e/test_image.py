"""The FROM scratch image: built by ci/image.sh (buildah here, with the build
stage replaced by `make`'s output), then its own /deploy-api, run from the
image's root filesystem as its user 65532, serves healthz and a signed
deploy end to end against the stand-ins."""
import os
import shutil
import subprocess
import tempfile

from lib import BIN, Server, Skip, Stack

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.abspath(os.path.join(HERE, "../.."))
rootfs = None
build_out = ""
st = None


def setup_module():
    global rootfs, build_out, st
    if os.geteuid() != 0:
        raise Skip("building and mounting the image needs root")
    if not shutil.which("buildah") and not shutil.which("docker"):
        raise Skip("neither buildah nor docker is installed (sh ci/deps.sh image)")
    with tempfile.NamedTemporaryFile("r", suffix=".rootfs") as f:
        p = subprocess.run(["sh", os.path.join(TOP, "ci/image.sh"), BIN, "--rootfs-out", f.name],
                           capture_output=True, text=True, timeout=900)
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
    if rootfs:
        subprocess.run(["sh", os.path.join(TOP, "ci/image.sh"), "--cleanup"], timeout=120)


def test_image_budget_and_contents():
    assert "PASS image: size" in build_out
    assert "PASS image: contains only /deploy-api and the CA bundle" in build_out
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
    assert code == 200 and b"in_channel" in body
    end = st.server.wait_audit(event="job_end", timeout=30)[0]
    assert end["result"] == "ok" and end["reply"] == "delivered", end
    post = st.slack.wait_for(1, timeout=5)[-1]["json"]
    assert post["response_type"] == "in_channel"
    assert "deployed registry.example/myservice:1.4" in post["text"], post
    d = st.kube.get_deployment("default", "myservice")
    images = {c["name"]: c["image"] for c in d["spec"]["template"]["spec"]["containers"]}
    assert images == {"myservice": "registry.example/myservice:1.4", "envoy": "envoyproxy/envoy:v1.29"}
