"""Issue 6, Kubernetes-API-side faults, against the real binary: the API
answers 500, 429 with Retry-After, 409, a truncated body, a body of garbage,
a TLS reset mid-response. For each: /healthz keeps answering, the user gets
a true message (success after a retry where the code retries, else a
failure naming the problem), the cluster matches the message, and the job
has exactly one job_end audit line."""
import json
import time
from urllib.parse import urlsplit

from lib import Stack, change_patches, wait_until

st = None
NS = "default"
NAMES = ["f500", "f500x", "f429", "f429p", "f409", "f409x", "ftrunc", "ftruncx", "fgarb",
         "fgarbp", "fgarbx", "fapplied", "freset", "fresetx", "fwatch", "fpoll", "fmix", "frbgarb", "frbgarbx", "f500p"]


def setup_module():
    global st
    st = Stack(env={"ROLLOUT_TIMEOUT": "8", "JOB_TIMEOUT": "40"}, deployments=[(NS, n) for n in NAMES])
    st.kube.rollout_delay = 0.1


def teardown_module():
    st.stop()


def image(name, v):
    return f"registry.example/{name}:{v}"


def patches(path):
    return change_patches(st.kube, path)


def run(text, timeout=30):
    """A signed command; (post text, job_end line). Checks /healthz while the
    job runs and after it, and that there is exactly one job_end."""
    url = st.response_url()
    n = len(st.server.audit(event="accepted"))
    code, body = st.server.post_slack(text, response_url=url)
    assert code == 200, (code, body)
    assert json.loads(body)["response_type"] in ("in_channel", "ephemeral")
    acc = wait_until(lambda: len(st.server.audit(event="accepted")) > n and st.server.audit(event="accepted"),
                     what="accepted")[n]
    assert st.server.get("/healthz")[0] == 200
    wait_until(lambda: st.server.audit(event="job_end", job=acc["job"]), timeout=timeout,
               what=f"job_end {acc['job']}")
    assert st.server.get("/healthz")[0] == 200
    st.server.sync()  # a second job_end would have been written before this
    ends = st.server.audit(event="job_end", job=acc["job"])
    assert len(ends) == 1, ends
    posts = [p for p in st.slack.posts if p["path"] == urlsplit(url).path]
    # a deploy that read its deployment announces itself first (issue 14)
    assert len(posts) == 1 or (len(posts) == 2 and " is deploying " in posts[0]["json"]["text"]), \
        posts
    assert ends[0]["reply"] == "delivered", ends[0]
    return posts[-1]["json"]["text"], ends[0]


def ok_deploy(name, v):
    text, end = run(f"{name} {v}")
    assert text.startswith(":white_check_mark:"), text
    assert image(name, v) in text, text
    assert end["result"] == "ok", end
    assert st.kube.images(NS, name)[name] == image(name, v)
    return text, end


def failed(text, end, *words):
    assert text.startswith(":x:") or end["result"] == "failed", text
    assert end["result"] == "failed", end
    for w in words:
        assert w in text, (w, text)
    return text


def gets(name):
    return st.kube.requests_matching(method="GET", path=f"/deployments/{name}", watch=False)


def test_500_on_get_retried():
    f = st.kube.add_fault(method="GET", path=f"/deployments/f500", code=500)
    ok_deploy("f500", "1.4")
    assert f.hits == 1 and len(gets("f500")) >= 2


def test_500_on_get_every_time_fails_with_the_message():
    st.kube.add_fault(method="GET", path=f"/deployments/f500x", code=500, count=None)
    try:
        text, end = run("f500x 1.4")
    finally:
        st.kube.clear_faults()
    failed(text, end, "Internal error occurred: injected fault", "HTTP 500")
    assert patches("/f500x") == []
    assert st.kube.images(NS, "f500x")["f500x"] == image("f500x", "1.3")
    assert 2 <= len(gets("f500x")) <= 5, "bounded retries"


def test_500_on_patch_not_retried():
    """A PATCH answered 5xx may have been applied: it is not sent again, and
    the user gets the API's message."""
    f = st.kube.add_fault(method="PATCH", path="/deployments/f500p", code=500)
    text, end = run("f500p 1.4")
    assert f.hits == 1
    assert len(patches("/f500p")) == 1
    failed(text, end, "HTTP 500")
    assert st.kube.images(NS, "f500p")["f500p"] == image("f500p", "1.3")


def test_429_retry_after_honoured_on_get():
    st.kube.add_fault(method="GET", path="/deployments/f429", code=429, headers={"Retry-After": "2"})
    ok_deploy("f429", "1.4")
    g = gets("f429")
    assert g[1]["time"] - g[0]["time"] >= 1.8, g[1]["time"] - g[0]["time"]


def test_429_on_patch_retried():
    st.kube.add_fault(method="PATCH", path="/deployments/f429p", code=429, headers={"Retry-After": "1"})
    ok_deploy("f429p", "1.4")
    ps = patches("/f429p")
    assert len(ps) == 2 and ps[1]["time"] - ps[0]["time"] >= 0.9


def test_409_on_patch_retried():
    st.kube.add_fault(method="PATCH", path="/deployments/f409", code=409, count=2)
    ok_deploy("f409", "1.4")
    assert len(patches("/f409")) == 3
    # each retry starts from a fresh GET (the object changed under us)
    assert len(gets("f409")) >= 3


def test_409_forever_gives_up_with_the_message():
    st.kube.add_fault(method="PATCH", path="/deployments/f409x", code=409, count=None)
    try:
        text, end = run("f409x 1.4")
    finally:
        st.kube.clear_faults()
    failed(text, end, "the object has been modified", "HTTP 409")
    assert len(patches("/f409x")) == 4  # 1 + 3 retries
    assert st.kube.images(NS, "f409x")["f409x"] == image("f409x", "1.3")


def test_truncated_body_retried():
    f = st.kube.add_fault(kind="truncate", method="GET", path="/deployments/ftrunc")
    ok_deploy("ftrunc", "1.4")
    assert f.hits == 1


def test_truncated_body_every_time_fails_naming_it():
    st.kube.add_fault(kind="truncate", method="GET", path="/deployments/ftruncx", count=None)
    try:
        text, end = run("ftruncx 1.4")
    finally:
        st.kube.clear_faults()
    t = failed(text, end, "Kubernetes API")
    assert any(w in t.lower() for w in ("truncated", "closed", "eof", "short")), t
    assert st.kube.images(NS, "ftruncx")["ftruncx"] == image("ftruncx", "1.3")


def test_garbage_body_retried():
    f = st.kube.add_fault(kind="garbage", method="GET", path="/deployments/fmix")
    ok_deploy("fmix", "1.4")
    assert f.hits == 1


def test_garbage_body_fails_naming_it():
    st.kube.add_fault(kind="garbage", method="GET", path="/deployments/fgarb", count=None)
    try:
        text, end = run("fgarb 1.4")
    finally:
        st.kube.clear_faults()
    t = failed(text, end, "fgarb")
    assert any(w in t.lower() for w in ("malformed", "not json", "garbage", "invalid", "not a deployment")), t
    assert patches("/fgarb") == []
    assert st.kube.images(NS, "fgarb")["fgarb"] == image("fgarb", "1.3")


def test_garbage_body_on_patch_answer():
    """The PATCH is answered with garbage (and not applied): the job must not
    claim success from an unchanged deployment; it reads again, sees its
    image is not there, and sends the PATCH again."""
    f = st.kube.add_fault(kind="garbage", method="PATCH", path="/deployments/fgarbp")
    ok_deploy("fgarbp", "1.4")
    assert f.hits == 1
    assert len(patches("/fgarbp")) == 2


def test_garbage_body_on_patch_answer_every_time():
    st.kube.add_fault(kind="garbage", method="PATCH", path="/deployments/fgarbx", count=None)
    try:
        text, end = run("fgarbx 1.4")
    finally:
        st.kube.clear_faults()
    failed(text, end, "not the updated deployment")
    assert st.kube.images(NS, "fgarbx")["fgarbx"] == image("fgarbx", "1.3")


def test_garbage_body_on_rollback_patch_answer():
    """Rollback's JSON patch answered with garbage (not applied): the job
    reads the deployment again, sees the old template, and sends it again."""
    ok_deploy("frbgarb", "1.4")
    f = st.kube.add_fault(kind="garbage", method="PATCH", path="/deployments/frbgarb")
    text, end = run("rollback frbgarb")
    assert f.hits == 1
    assert text.startswith(":white_check_mark:") and "revision" in text, text
    assert end["result"] == "ok", end
    assert st.kube.images(NS, "frbgarb")["frbgarb"] == image("frbgarb", "1.3")


def test_garbage_body_on_rollback_patch_every_time():
    ok_deploy("frbgarbx", "1.4")
    st.kube.add_fault(kind="garbage", method="PATCH", path="/deployments/frbgarbx", count=None)
    try:
        text, end = run("rollback frbgarbx")
    finally:
        st.kube.clear_faults()
    failed(text, end, "not the restored deployment")
    assert st.kube.images(NS, "frbgarbx")["frbgarbx"] == image("frbgarbx", "1.4")


def test_patch_applied_but_answer_broken():
    """The PATCH is applied but its answer breaks off (reset after the
    change): the job re-reads, finds its image, follows the rollout."""
    orig = st.kube._patch
    calls = []

    def patch_then_break(ns, name, ctype, body):
        code, obj = orig(ns, name, ctype, body)
        calls.append(name)
        if name == "fapplied" and len(calls) == 1:
            return 200, {"kind": "Status", "garbage": True}
        return code, obj
    st.kube._patch = patch_then_break
    try:
        ok_deploy("fapplied", "1.4")
    finally:
        st.kube._patch = orig
    assert len(patches("/fapplied")) == 1


def test_tls_reset_mid_response_retried():
    f = st.kube.add_fault(kind="reset", method="GET", path="/deployments/freset")
    ok_deploy("freset", "1.4")
    assert f.hits == 1


def test_tls_reset_every_time_fails_naming_it():
    st.kube.add_fault(kind="reset", method="GET", path="/deployments/fresetx", count=None)
    try:
        text, end = run("fresetx 1.4")
    finally:
        st.kube.clear_faults()
    t = failed(text, end, "Kubernetes API")
    assert "reset" in t.lower() or "closed" in t.lower(), t


def test_faults_on_the_watch_fall_back_to_polling():
    for kind in ("reset", "truncate", "garbage"):
        st.kube.add_fault(kind=kind, watch=True, path="/deployments", count=1)
    st.kube.add_fault(code=500, watch=True, path="/deployments", count=1)
    st.kube.add_fault(code=429, watch=True, path="/deployments", count=1)
    try:
        ok_deploy("fwatch", "1.4")
    finally:
        st.kube.clear_faults()


def test_faults_while_polling_the_rollout():
    """After the PATCH every watch breaks and the next re-reads fail (500,
    then garbage): the job keeps following until the rollout is done."""
    import threading
    st.kube.add_fault(kind="reset", watch=True, count=None)
    st.kube.rollout_delay = 3.0
    # count=0 never matches until armed once the PATCH was sent
    f500 = st.kube.add_fault(method="GET", path="/deployments/fpoll", code=500, count=0)
    before = len(gets("fpoll"))

    def arm():
        st.kube.wait_for_request(method="PATCH", path="/deployments/fpoll", timeout=10)
        st.kube.add_fault(kind="garbage", method="GET", path="/deployments/fpoll", count=1)
        f500.count = 1

    t = threading.Thread(target=arm, daemon=True)
    t.start()
    try:
        ok_deploy("fpoll", "1.4")
    finally:
        t.join(5)
        st.kube.rollout_delay = 0.1
        st.kube.clear_faults()
    assert f500.hits == 1
    assert len(gets("fpoll")) - before >= 3


def test_healthz_and_one_end_per_accept():
    assert st.server.get("/healthz")[0] == 200
    acc = st.server.audit(event="accepted")
    for a in acc:
        assert len(st.server.audit(event="job_end", job=a["job"])) == 1, a
    wait_until(lambda: not st.server.children(), timeout=10, what="children reaped")
