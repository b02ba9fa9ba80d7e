"""Issue 9, end to end: why a rollout failed (the new ReplicaSet's pods, in
the Slack post and the CLI's output), progress (kubectl's lines on the
CLI's stderr; one Slack post after PROGRESS_AFTER, never more than 5 posts
to a response_url) and history (every revision counted as kubectl counts
them, ReplicaSets read in pages whatever the list's size, the newest N,
when each revision went live), against the Kubernetes stand-in over TLS;
real kubectl reads the same stand-in for the history comparison."""
import json
import os
import re
import subprocess
import time
from urllib.parse import urlsplit

from lib import BIN, Stack, wait_until
from standins.kube import (pod_crashloop, pod_ready, pod_unschedulable, pod_waiting)

st = None
NS = "default"
KUBECTL = "/usr/bin/kubectl"

# One deployment per waiting state: (status of 2 of the 3 new pods, the line expected)
STATES = {
    "svc-crash": (pod_crashloop(1, "panic: DATABASE_URL unset\n"),
                  "2 of 3 new pods: CrashLoopBackOff, exit 1: panic: DATABASE_URL unset"),
    "svc-pull": (pod_waiting("ImagePullBackOff", 'Back-off pulling image "registry.example/'
                             'svc-pull:9.9"'),
                 '2 of 3 new pods: ImagePullBackOff: Back-off pulling image '
                 '"registry.example/svc-pull:9.9"'),
    "svc-errpull": (pod_waiting("ErrImagePull", "rpc error: code = NotFound desc = manifest "
                                "unknown"),
                    "2 of 3 new pods: ErrImagePull: rpc error: code = NotFound desc = manifest "
                    "unknown"),
    "svc-config": (pod_waiting("CreateContainerConfigError", 'secret "db" not found'),
                   '2 of 3 new pods: CreateContainerConfigError: secret "db" not found'),
    "svc-sched": (pod_unschedulable("0/3 nodes are available: 3 Insufficient cpu."),
                  "2 of 3 new pods: Unschedulable: 0/3 nodes are available: 3 Insufficient cpu."),
}


def setup_module():
    global st
    st = Stack(env={"ROLLOUT_TIMEOUT": "8", "PROGRESS_AFTER": "2"}, deployments=())
    st.kube.rollout_delay = 0.3
    for name in list(STATES) + ["svc-slow", "svc-posts", "svc-cli", "hist", "hist-rb",
                                                "hist-big"]:
        st.kube.add_deployment(NS, name, containers=[(name, f"registry.example/{name}:1.3")],
                               replicas=3, change_cause="initial")


def teardown_module():
    st.stop()


def run(text, timeout=40, announcement=False):
    """Send a signed command; wait for its job_end; (job_end, posts): the
    posts without a deploy's "is deploying" announcement (issue 14) unless
    announcement is set."""
    srv = st.server
    url = st.response_url()
    path = urlsplit(url).path
    n = len(srv.audit(event="accepted"))
    code, body = srv.post_slack(text, response_url=url)
    assert code == 200, (code, body)
    acc = wait_until(lambda: len(srv.audit(event="accepted")) > n and srv.audit(event="accepted"),
                     what="accepted line")[n]
    end = wait_until(lambda: srv.audit(event="job_end", job=acc["job"]), timeout=timeout,
                     what="job_end")[0]
    posts = wait_until(lambda: [p for p in st.slack.posts if p["path"] == path]
                       if end.get("reply") else None, what="posts")
    return end, [p for p in posts if announcement or " is deploying " not in p["json"]["text"]]


def cli(*args, **env):
    e = {"PATH": "/usr/bin:/bin", "KUBE_API_URL": st.env["KUBE_API_URL"],
         "KUBE_CA_FILE": st.ca.cert, "KUBE_TOKEN_FILE": st.token_file,
         "IMAGE_BASE": "registry.example", "ROLLOUT_TIMEOUT": "8", "USER": "alice"}
    e.update(env)
    p = subprocess.run([BIN, *args], env=e, capture_output=True, timeout=60)
    return p.returncode, p.stdout.decode(), p.stderr.decode()


def with_mode(mode, fn):
    st.kube.rollout_mode = mode
    try:
        return fn()
    finally:
        st.kube.rollout_mode = "ok"


# ---- why a rollout failed ----------------------------------------------

def test_each_waiting_state_in_the_post():
    for name, (state, line) in STATES.items():
        st.kube.set_pod_states(NS, name, [state, pod_ready(), state])
        end, posts = with_mode("fail", lambda: run(f"{name} 2.0"))
        text = posts[-1]["json"]["text"]
        assert end["result"] == "failed", end
        assert "exceeded its progress deadline" in text, text
        assert line.replace('"', "&quot;") in text or line in text, (line, text)
        assert text.endswith(f"Next: `/deploy rollback {NS}/{name}`"), text
    # the pods were asked for by the new ReplicaSet's hash, page by page
    reqs = st.kube.requests_matching(method="GET", path="/api/v1/namespaces/default/pods")
    assert reqs and all("pod-template-hash" in r["params"]["labelSelector"] and
                        r["params"].get("limit") == "100" for r in reqs), reqs[-1]


def test_timeout_says_why_too():
    st.kube.set_pod_states(NS, "svc-slow", [pod_waiting("ContainerCreating")] * 3)
    end, posts = with_mode("stuck", lambda: run("svc-slow 2.0"))
    text = posts[-1]["json"]["text"]
    assert "still rolling out after 8 s" in text, text
    assert "3 of 3 new pods: ContainerCreating" in text, text
    assert "Next: `/deploy rollback default/svc-slow`" in text, text


def test_cli_progress_on_stderr_and_why():
    st.kube.set_pod_states(NS, "svc-cli", [pod_crashloop(2, "config missing")] * 3)
    code, out, err = with_mode("fail", lambda: cli("deploy", "svc-cli", "2.0"))
    assert code != 0
    # kubectl rollout status's lines, as the counts changed
    lines = err.splitlines()[:-1]
    assert any('Waiting for deployment "svc-cli" rollout to finish: ' in l for l in lines), err
    assert all(l.startswith('Waiting for deployment "svc-cli" rollout to finish: ') or
               l == "Waiting for deployment spec update to be observed..." for l in lines), err
    assert len(lines) == len(set(lines)), "a line only when the counts change"
    assert "3 of 3 new pods: CrashLoopBackOff, exit 2: config missing" in out, out
    assert "Next: deploy-api rollback default/svc-cli" in out and "`" not in out, out
    assert err.splitlines()[-1].startswith("deploy-api: "), err


# ---- progress in Slack ---------------------------------------------------

def test_progress_post_once_after_the_delay():
    st.kube.set_pod_states(NS, "svc-slow", [pod_waiting("ContainerCreating")] * 3)
    t0 = time.time()
    end, posts = with_mode("stuck", lambda: run("svc-slow 2.1"))
    assert len(posts) == 2, [p["json"] for p in posts]
    prog, final = posts[0]["json"]["text"], posts[1]["json"]["text"]
    assert prog.startswith(":hourglass_flowing_sand: default/svc-slow is still rolling out after"), prog
    assert "3 of 3 new pods: ContainerCreating" in prog, prog
    assert posts[0]["time"] - t0 >= 2, "not before PROGRESS_AFTER"
    assert posts[0]["json"]["response_type"] == posts[1]["json"]["response_type"] == "in_channel"
    assert "still rolling out after 8 s" in final, final


def test_quick_rollout_has_no_progress_post():
    end, posts = run("svc-posts 1.9")
    assert end["result"] == "ok" and len(posts) == 1, [p["json"] for p in posts]


def test_never_more_than_five_posts():
    # the announcement (issue 14), the progress post, then a final post Slack keeps
    # failing: 5 posts in all, never more
    st.kube.set_pod_states(NS, "svc-posts", [pod_waiting("ContainerCreating")] * 3)
    st.slack.responses = [200] + [500] * 10
    try:
        end, posts = with_mode("stuck", lambda: run("svc-posts 2.0", timeout=80, announcement=True))
    finally:
        st.slack.responses = []
    assert len(posts) == 5, [p.get("code") for p in posts]
    assert end["reply"].startswith("failed"), end


# ---- history -------------------------------------------------------------

def slack_dates(text):
    return [int(m) for m in re.findall(r"<!date\^(\d+)\^\{date_short_pretty\} \{time\}\|", text)]


def test_history_many_revisions_in_pages():
    # 62 older revisions, one ReplicaSet without the annotation (kubectl: 0),
    # ~120 KiB of managedFields each: a list of more than 7 MiB
    st.kube.add_old_revisions(NS, "hist", 62, unannotated=1)
    st.kube.pad_replicasets(NS, "hist", 120)
    full = st.kube._list_rs(NS, {"labelSelector": "app=hist"})
    assert len(json.dumps(full)) > 7 << 20
    st.kube.list_pages.clear()
    end, posts = run("history hist 20")
    text = posts[-1]["json"]["text"]
    assert end["result"] == "ok", end
    lines = text.splitlines()
    assert lines[0] == "*default/hist*: newest 20 of 64 revisions:", lines[0]
    revs = [int(l.split()[0]) for l in lines[1:]]
    assert revs == list(range(63, 43, -1)), revs
    assert lines[1].startswith("63 (current)  created <!date^"), lines[1]
    assert len(slack_dates(text)) == 20
    # every ReplicaSet page was asked for with a limit; no page holds the whole list
    pages = [p for p in st.kube.list_pages if p[1] == 25]
    assert len(pages) >= 3 and all(n <= 25 for n, _ in pages), st.kube.list_pages
    # default 10; N bounded
    end, posts = run("history hist")
    assert len(posts[-1]["json"]["text"].splitlines()) == 11
    code, body = st.server.post_slack("history hist 21", response_url=st.response_url())
    assert b"Not a number of revisions" in body, body


def test_history_agrees_with_kubectl():
    kc = os.path.join(st.dir, "kubeconfig")
    with open(kc, "w") as f:
        f.write(f"""apiVersion: v1
kind: Config
clusters:
- name: stand-in
  cluster:
    server: {st.env['KUBE_API_URL']}
    certificate-authority: {st.ca.cert}
    tls-server-name: kubernetes.default.svc
users:
- name: deploy-api
  user:
    token: {st.kube.token}
contexts:
- name: stand-in
  context: {{cluster: stand-in, user: deploy-api, namespace: default}}
current-context: stand-in
""")
    p = subprocess.run([KUBECTL, "--kubeconfig", kc, "rollout", "history", "deployment/hist"],
                       capture_output=True, timeout=60, env={"PATH": "/usr/bin:/bin",
                                                             "HOME": st.dir})
    assert p.returncode == 0, p.stderr.decode()
    rows = [l.split(None, 1) for l in p.stdout.decode().splitlines()[2:] if l.strip()]
    kubectl = sorted(int(r[0]) for r in rows)
    assert kubectl == list(range(0, 64)), kubectl
    code, out, err = cli("history", "hist", "20")
    assert code == 0, err
    mine = [int(l.split()[0]) for l in out.splitlines()[1:]]
    assert out.splitlines()[0] == f"default/hist: newest 20 of {len(kubectl)} revisions:"
    assert mine == sorted(kubectl, reverse=True)[:20]
    # kubectl's change-causes are deploy-api's
    causes = {int(r[0]): r[1].strip() for r in rows}
    for l in out.splitlines()[1:]:
        assert l.endswith("  " + causes[int(l.split()[0])]), (l, causes[int(l.split()[0])])
    assert "<!date" not in out and " UTC  " in out
    # -o json: the same pages, the same counting
    code, js, err = cli("history", "hist", "20", "-o", "json")
    assert code == 0, err
    doc = json.loads(js)
    assert doc["revisionCount"] == len(kubectl), doc["revisionCount"]
    assert [r["revision"] for r in doc["revisions"]] == mine
    assert doc["currentRevision"] == 63 and doc["revisions"][0]["current"] is True
    assert doc["revisions"][0]["changeCause"] == causes[63], doc["revisions"][0]


def test_rollback_with_a_list_of_many_mib():
    # 62 older revisions with ~120 KiB of managedFields each (and one without
    # the annotation): the ReplicaSet list is far past the 4 MiB body limit,
    # read in pages, and only the target is kept
    st.kube.add_old_revisions(NS, "hist-big", 62, unannotated=1)
    st.kube.pad_replicasets(NS, "hist-big", 120)
    full = st.kube._list_rs(NS, {"labelSelector": "app=hist-big"})
    assert len(json.dumps(full)) > 7 << 20
    code, js, err = cli("history", "hist-big", "-o", "json")
    assert code == 0, err
    doc = json.loads(js)
    assert doc["revisionCount"] == 64 and len(doc["revisions"]) == 10, doc

    def image():
        return st.kube._deployments[(NS, "hist-big")]["spec"]["template"]["spec"][
            "containers"][0]["image"]
    st.kube.list_pages.clear()
    end, posts = run("rollback hist-big")  # the newest revision below the current 63
    assert end["result"] == "ok", (end, posts[-1])
    assert image() == "registry.example/hist-big:0.62", image()
    pages = [p for p in st.kube.list_pages if p[1] == 25]
    assert len(pages) >= 3 and all(n <= 25 for n, _ in pages), st.kube.list_pages
    end, posts = run("rollback hist-big 5")  # one on the last pages
    assert end["result"] == "ok", (end, posts[-1])
    assert image() == "registry.example/hist-big:0.5", image()
    end, posts = run("rollback hist-big 99")
    assert end["result"] != "ok", end
    text = posts[-1]["json"]["text"]
    # the reused ReplicaSets took revisions 64 and 65 (kubectl); the one
    # without the annotation is no rollback target
    assert "revision 99 not found; available: 65, 64, 63, 61, 60, " in text, text
    assert text.rstrip().endswith("6, 4, 3, 2, 1") or "..." in text, text


def test_history_times_after_a_rollback():
    end, _ = run("hist-rb 1.4")
    assert end["result"] == "ok", end
    end, _ = run("hist-rb 1.5")
    assert end["result"] == "ok", end
    t_rb = int(time.time())
    end, _ = run("rollback hist-rb 2")
    assert end["result"] == "ok", end
    # the live-at record reaches the reused ReplicaSet (the controller copies it)
    wait_until(lambda: any(rs["metadata"]["annotations"].get("deploy-api/live-at", "") >=
                           time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t_rb))
                           for rs in st.kube.replicasets(NS, "hist-rb")), what="live-at on the RS")
    end, posts = run("history hist-rb")
    lines = posts[-1]["json"]["text"].splitlines()
    assert [l.split()[0] for l in lines[1:]] == ["4", "3", "1"], lines
    cur, prev, first = lines[1], lines[2], lines[3]
    assert cur.startswith("4 (current)  live <!date^") and "hist-rb:1.4" in cur, cur
    assert prev.startswith("3  live <!date^") and "hist-rb:1.5" in prev, prev
    assert first.startswith("1  created <!date^"), first  # never deployed by deploy-api
    (t_cur,), (t_prev,) = slack_dates(cur), slack_dates(prev)
    assert t_cur >= t_rb >= t_prev, (t_cur, t_rb, t_prev)
