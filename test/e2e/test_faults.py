"""Faults on the parent / job side, through the real binary and the TLS
stand-ins (issue 6, docs/reliability.md):

- the response_url is down for a while (retried with backoff) and for longer
  than all five posts (the reply is lost; the deploy still happened);
- a job child killed with SIGKILL;
- SIGTERM with jobs running (one finishes inside SHUTDOWN_GRACE, one not);
- 10,000 connections opened and dropped;
- the token file vanishes;
- the parent killed with SIGKILL mid-deploy, as a plain process and as PID 1
  of its own PID namespace (what a container is).

Every test checks the three promises: /healthz keeps answering, the user
gets a true message (what FakeSlack received), and every accepted command
has exactly one final audit line (event job_end)."""
import json
import os
import shutil
import signal
import socket
import struct
import subprocess
import time

from lib import (BIN, SECRET, Server, Skip, Stack, body_of, closed_by_peer, read_response, sign, slash_body,
                 standin_idle, status_of, wait_until)

# Under DEPLOY_API_WRAPPER (valgrind) the parent and every child run many
# times slower: stretch the waits (never the server's own timings that a test
# asserts on, except SHUTDOWN_GRACE, which must outlast a slow child).
SLOW = 6 if os.environ.get("DEPLOY_API_WRAPPER") else 1


# ---- the three promises ----------------------------------------------------

def healthy(srv):
    assert srv.get("/healthz") == (200, b"ok\n"), "the service stopped answering /healthz"


def one_end_each(srv, expect, timeout=10):
    """Every accepted command (expect of them) has exactly one job_end line,
    and no job_end belongs to a job that was never accepted. Returns
    {job: job_end}."""
    wait_until(lambda: len(srv.audit(event="accepted")) >= expect, timeout=5 * SLOW,
               what=f"{expect} accepted lines")
    ids = [a["job"] for a in srv.audit(event="accepted")]
    assert len(ids) == expect, ids
    wait_until(lambda: all(srv.audit(event="job_end", job=i) for i in ids), timeout=timeout * SLOW,
               what=f"a job_end for each of jobs {ids}")
    srv.sync()  # a duplicate would come right behind the first
    ends = srv.audit(event="job_end")
    for i in ids:
        n = len([e for e in ends if e["job"] == i])
        assert n == 1, f"job {i} has {n} job_end lines: {ends}"
    assert {e["job"] for e in ends} <= set(ids), f"job_end without accepted: {ends}"
    return {e["job"]: e for e in ends}


def metric(srv, name):
    code, body = srv.get("/metrics")
    assert code == 200
    for line in body.decode().splitlines():
        if line.startswith(name + " "):
            return float(line.split()[-1])
    raise AssertionError(f"no metric {name}")


def ack_text(body):
    return json.loads(body.decode())


def image(st, name="myservice", ns="default"):
    return st.kube.images(ns, name)[name]


# ---- the response_url is down ----------------------------------------------

def test_response_url_down_briefly_delivered_on_retry():
    # The announcement (200; issue 14), then for the result: 500, a reset
    # mid-response, 503 with Retry-After: 1, then 200.
    answers = [200, 500, "reset", {"code": 503, "headers": {"Retry-After": "1"}}]
    with Stack(slack_responses=answers) as st:
        code, body = st.deploy("myservice 1.4")
        assert code == 200 and ack_text(body)["text"].startswith("checking")
        posts = st.slack.wait_for(5, timeout=20 * SLOW)
        assert " is deploying " in posts[0]["json"]["text"], posts[0]
        posts = posts[1:]
        assert [p.get("code", p["answer"]) for p in posts] == [500, "reset", 503, 200], posts
        # the same message each time; backoff 1 s, 2 s, then Retry-After (1 s, not 4)
        assert len({p["body"] for p in posts}) == 1
        gaps = [posts[i + 1]["time"] - posts[i]["time"] for i in range(3)]
        assert 0.9 <= gaps[0] < 1.9 * SLOW and 1.9 <= gaps[1] < 3.5 * SLOW and 0.9 <= gaps[2] < 3 * SLOW, gaps
        text = posts[-1]["json"]["text"]
        assert text.startswith(":white_check_mark: <@U0TESTER>") and "registry.example/myservice:1.4" in text
        ends = one_end_each(st.server, 1)
        (end,) = ends.values()
        assert end["result"] == "ok" and end["reply"] == "delivered", end
        assert image(st) == "registry.example/myservice:1.4"
        assert metric(st.server, "deploy_api_replies_failed_total") == 0
        healthy(st.server)


def test_response_url_down_longer_than_all_retries():
    # Five 500s: the announcement (one attempt; issue 14), then the result
    # at 0, 1, 3, 7 s; the sixth answer (200) is never asked for.
    with Stack(slack_responses=[500] * 5) as st:
        code, body = st.deploy("myservice 1.4")
        assert code == 200 and ack_text(body)["text"].startswith("checking")
        healthy(st.server)  # answering while the child sleeps between posts
        ends = one_end_each(st.server, 1, timeout=25)
        (end,) = ends.values()
        posts = st.slack.posts
        assert len(posts) == 5 and all(p["code"] == 500 for p in posts), posts
        assert " is deploying " in posts[0]["json"]["text"], posts[0]
        gaps = [round(posts[i + 1]["time"] - posts[i]["time"]) for i in range(1, 4)]
        assert gaps == [1, 2, 4] or SLOW > 1, gaps
        # the deploy itself happened, and the audit line says the user was not told
        assert end["result"] == "ok" and end["image"] == "registry.example/myservice:1.4", end
        assert end["reply"].startswith("failed: response_url localhost answered HTTP 500"), end
        assert image(st) == "registry.example/myservice:1.4"
        assert metric(st.server, "deploy_api_replies_failed_total") == 1
        wait_until(lambda: standin_idle(st.slack), what="the job's posts all answered")  # the job has ended
        assert len(st.slack.posts) == 5, "a sixth post: Slack allows five"
        healthy(st.server)


# ---- a child killed with SIGKILL -------------------------------------------

def test_child_killed_with_sigkill():
    with Stack() as st:
        st.kube.add_fault(kind="stall", count=None)
        code, body = st.deploy("myservice 1.4")
        assert ack_text(body)["text"].startswith("checking")
        st.kube.wait_for_request(timeout=10 * SLOW)
        kids = wait_until(st.server.children, timeout=5, what="the job child")
        assert len(kids) == 1, kids
        os.kill(kids[0], signal.SIGKILL)
        end = st.server.wait_audit(event="job_end", timeout=10 * SLOW)[0]
        assert end["result"] == "crashed" and end["error"] == "died (signal 9)", end
        assert end["exit_status"] == 137 and end["reply"] == "none", end
        # the user is told by a notice child
        (post,) = st.slack.wait_for(1, timeout=10 * SLOW)
        text = post["json"]["text"]
        assert "`default/myservice` died (signal 9)" in text and "/deploy status default/myservice" in text, text
        healthy(st.server)
        # the lock is released: the same target is accepted again, and works
        wait_until(lambda: not st.server.children(), timeout=10 * SLOW, what="children gone")
        st.kube.clear_faults()
        code, body = st.deploy("myservice 1.5")
        assert ack_text(body)["text"].startswith("checking"), body
        ends = one_end_each(st.server, 2)
        assert [ends[j]["result"] for j in sorted(ends)] == ["crashed", "ok"], ends
        assert image(st) == "registry.example/myservice:1.5"
        assert "registry.example/myservice:1.5" in st.slack.wait_for(2, timeout=10 * SLOW)[1]["json"]["text"]


# ---- SIGTERM with jobs running ---------------------------------------------

def test_sigterm_jobs_finish_within_grace_or_are_killed_at_it():
    # below IO_TIMEOUT (15 s), or the stalled job times out by itself first
    grace = 3 if SLOW == 1 else 10
    with Stack(env={"SHUTDOWN_GRACE": str(grace)}, deployments=[("default", "fast"), ("default", "slow")]) as st:
        # fast: its first API call takes 1 s, then it completes; slow: never answered
        st.kube.add_fault(kind="delay", path="/deployments/fast", seconds=1.0, count=1)
        st.kube.add_fault(kind="stall", path="/deployments/slow", count=None)
        for name in ("fast", "slow"):
            code, body = st.deploy(f"{name} 2.0")
            assert ack_text(body)["text"].startswith("checking")
        st.kube.wait_for_request(path="/deployments/fast", timeout=10 * SLOW)
        st.kube.wait_for_request(path="/deployments/slow", timeout=10 * SLOW)
        # a keep-alive connection: one answered request, then half of the next
        ka = st.server.connect()
        ka.sendall(b"GET /readyz HTTP/1.1\r\nHost: t\r\n\r\n")
        r = read_response(ka)
        assert status_of(r) == 200 and body_of(r) == b"ready\n"
        ka.sendall(b"GET /readyz HTTP/1.1\r\nHost: t\r\n")
        # a signed slash command, all but its last byte
        body = slash_body("status fast", response_url=st.response_url())
        hdr = "".join(f"{k}: {v}\r\n" for k, v in sign(SECRET, body, str(int(time.time()))).items())
        dep = st.server.connect()
        dep.sendall((f"POST /deploy HTTP/1.1\r\nHost: t\r\nContent-Type: application/x-www-form-urlencoded\r\n"
                     f"Content-Length: {len(body)}\r\n{hdr}\r\n").encode() + body[:-1])
        idle = st.server.connect()  # an idle keep-alive connection
        idle.sendall(b"GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n")
        assert status_of(read_response(idle)) == 200
        t_term = time.time()
        st.server.signal(signal.SIGTERM)
        wait_until(lambda: any("draining" in l for l in st.server.logs()), timeout=5 * SLOW, what="draining")
        # draining: the idle connection is closed, the listener is gone, and
        # the request in flight is answered "not ready" with Connection: close
        assert closed_by_peer(idle, 5 * SLOW)
        try:
            socket.create_connection(("127.0.0.1", st.server.port), timeout=2).close()
            raise AssertionError("a new connection was accepted while draining")
        except ConnectionRefusedError:
            pass
        ka.sendall(b"\r\n")
        r = read_response(ka, timeout=5 * SLOW)
        assert status_of(r) == 503 and body_of(r) == b"not ready\n", r
        assert b"Connection: close" in r
        assert closed_by_peer(ka, 5 * SLOW)
        # a command that arrives while draining is refused, and says why
        dep.sendall(body[-1:])
        r = read_response(dep, timeout=5 * SLOW)
        assert status_of(r) == 200 and b"Connection: close" in r, r
        a = ack_text(body_of(r))
        assert a["response_type"] == "ephemeral" and "restarting" in a["text"], a
        st.server.wait_audit(event="refused", result="busy", error="shutting down", timeout=5 * SLOW)
        dep.close()
        ka.close()
        idle.close()
        assert st.server.wait(timeout=grace + 20 * SLOW) == 0
        t_exit = time.time()
        assert t_exit - t_term >= grace - 0.5, "exited before the grace although a job was running"
        ends = one_end_each(st.server, 2, timeout=1)
        by_target = {e["target"]: e for e in ends.values()}
        assert by_target["default/fast"]["result"] == "ok" and by_target["default/fast"]["reply"] == "delivered"
        slow = by_target["default/slow"]
        assert slow["result"] == "killed" and slow["error"] == "stopped by shutdown (signal 9)", slow
        assert st.kube.images("default", "fast")["fast"] == "registry.example/fast:2.0"
        assert st.kube.images("default", "slow")["slow"] == "registry.example/slow:1.3"
        # both users are told the truth: fast's result, slow's "stopped by shutdown"
        # (the notice child outlives the parent here, where the parent is not PID 1)
        posts = st.slack.wait_for(2, timeout=10 * SLOW)
        texts = sorted(p["json"]["text"] for p in posts)
        assert any(t.startswith(":white_check_mark:") and "fast:2.0" in t for t in texts), texts
        assert any("`default/slow` stopped by shutdown" in t for t in texts), texts
        fast_post = [p for p in posts if "fast:2.0" in p["json"]["text"]][0]
        assert fast_post["time"] > t_term, "the fast job had finished before SIGTERM: the test proves nothing"


# ---- 10,000 connections opened and dropped ---------------------------------

def fd_count(pid):
    return len(os.listdir(f"/proc/{pid}/fd"))


def settled_fds(pid):
    """The fd count once a just-answered /healthz connection is closed on
    the server side too: the least of a few samples."""
    samples = []
    for _ in range(8):
        samples.append(fd_count(pid))
        time.sleep(0.05)
    return min(samples)


def test_ten_thousand_connections_opened_and_dropped():
    n_total = 10000
    with Server() as srv:
        pid = srv.proc.pid
        healthy(srv)
        fds_before = settled_fds(pid)
        linger0 = struct.pack("ii", 1, 0)
        deadline = time.monotonic() + 60 * SLOW
        done = 0
        for i in range(n_total):
            if time.monotonic() > deadline:
                break
            s = socket.socket()
            # many source addresses: the client's TIME_WAIT ports never run out
            s.bind((f"127.0.{1 + i % 4}.{2 + (i // 4) % 250}", 0))
            try:
                s.connect(("127.0.0.1", srv.port))
                kind = i % 5
                if kind == 1:
                    s.sendall(b"GET /healthz HTTP/1.1\r\nHo")
                elif kind == 2:
                    s.sendall(b"POST /deploy HTTP/1.1\r\nHost: t\r\nContent-Length: 900\r\n\r\ntoken=x&te")
                if kind in (2, 3):
                    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, linger0)  # RST
            finally:
                s.close()
            done += 1
            if i % 2000 == 1999:
                healthy(srv)
        assert done == n_total, f"only {done} connections in the time allowed"
        healthy(srv)
        # every dropped connection is noticed and closed: only ours stays open
        wait_until(lambda: metric(srv, "deploy_api_connections_open") == 1, timeout=15 * SLOW,
                   what="connections_open back to 1")
        wait_until(lambda: fd_count(pid) == fds_before, timeout=5 * SLOW,
                   what=f"fd count back to {fds_before} (now {fd_count(pid)})")
        code, body = srv.get("/metrics")
        accepted = [l for l in body.decode().splitlines() if 'event="accepted"' in l][0]
        assert float(accepted.split()[-1]) >= n_total, accepted
        # a keep-alive client still gets pipelined answers
        r = srv.request(b"GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n")
        assert status_of(r) == 200


# ---- the token file vanishes -----------------------------------------------

def test_token_file_vanishes():
    with Stack() as st:
        os.remove(st.token_file)
        code, body = st.deploy("myservice 1.4")
        assert ack_text(body)["text"].startswith("checking")  # the parent never reads it
        end = st.server.wait_audit(event="job_end", timeout=10 * SLOW)[0]
        assert end["result"] == "failed" and end["reply"] == "delivered", end
        assert end["error"].startswith(f"cannot read token file {st.token_file}: No such file"), end
        (post,) = st.slack.wait_for(1, timeout=10 * SLOW)
        text = post["json"]["text"]
        # never public: the job did not get to read the deployment (issue 14)
        assert post["json"]["response_type"] == "ephemeral", post
        assert text.startswith(":x: cannot read token file"), text
        assert not st.kube.requests_matching(method="PATCH"), "patched without a token"
        assert image(st) == "registry.example/myservice:1.3"
        healthy(st.server)
        # the kubelet writes it back: the next job reads it afresh and works
        st.kube.rotate_token()
        code, body = st.deploy("myservice 1.5")
        assert ack_text(body)["text"].startswith("checking")
        ends = one_end_each(st.server, 2)
        assert [ends[j]["result"] for j in sorted(ends)] == ["failed", "ok"], ends
        assert image(st) == "registry.example/myservice:1.5"
        posts = st.slack.wait_for(3, timeout=10 * SLOW)  # then "is deploying" and the result
        assert posts[2]["json"]["text"].startswith(":white_check_mark:"), posts


# ---- the parent (the pod) killed mid-deploy --------------------------------

def consistent_after_patch(st, version):
    """The PATCH is one API call: the template has the new image, the other
    container untouched, the change-cause set, and a new ReplicaSet."""
    d = st.kube.get_deployment("default", "myservice")
    assert st.kube.images("default", "myservice") == {
        "myservice": f"registry.example/myservice:{version}", "envoy": "envoyproxy/envoy:v1.29"}
    cause = d["metadata"].get("annotations", {}).get("kubernetes.io/change-cause", "")
    assert "U0TESTER" in cause or "tester" in cause, cause
    assert len(st.kube.replicasets("default", "myservice")) == 2


def test_parent_sigkill_mid_deploy_orphan_finishes():
    """A plain process: the orphaned child finishes and posts its result; the
    parent's audit line and its lock are gone with it."""
    with Stack() as st:
        st.kube.add_fault(kind="delay", watch=True, seconds=1.5, count=None)
        code, body = st.deploy("myservice 1.4")
        assert ack_text(body)["text"].startswith("checking")
        st.kube.wait_for_request(method="PATCH", timeout=10 * SLOW)
        st.kube.wait_for_request(watch=True, timeout=10 * SLOW)
        (child,) = st.server.children()
        st.server.signal(signal.SIGKILL)
        assert st.server.wait(timeout=5 * SLOW) == -signal.SIGKILL
        consistent_after_patch(st, "1.4")
        post = st.slack.wait_for(2, timeout=15 * SLOW)[-1]  # after "is deploying" (issue 14)
        assert post["json"]["text"].startswith(":white_check_mark:") and "myservice:1.4" in post["json"]["text"]
        wait_until(lambda: not os.path.exists(f"/proc/{child}/stat") or
                   open(f"/proc/{child}/stat").read().split()[2] == "Z", timeout=10 * SLOW,
                   what="the orphan exits")
        assert st.server.audit(event="accepted") and not st.server.audit(event="job_end")
        # a new process knows nothing of the old job: lock and ids start afresh
        st.server = Server(env=st.env)
        code, body = st.deploy("myservice 1.5")
        assert ack_text(body)["text"].startswith("checking")
        ends = one_end_each(st.server, 1)
        assert [e["job"] for e in ends.values()] == [1] and ends[1]["result"] == "ok"


def unshare_works():
    try:
        return subprocess.run(["unshare", "--pid", "--fork", "true"], timeout=5,
                              capture_output=True).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def pid1_server(st, extra_env=None):
    """The binary as PID 1 of a new PID namespace, as in a container: when
    it dies the kernel kills every process left in the namespace."""
    if not unshare_works():
        raise Skip("unshare --pid not permitted here")
    srv = Server(env=dict(st.env, **(extra_env or {})), binary=shutil.which("unshare") or "unshare",
                 args=("--pid", "--fork", "--kill-child", BIN, "serve"))
    st.server = srv
    pid = wait_until(srv.children, timeout=5, what="deploy-api under unshare")[0]
    return srv, pid


def children_of(pid):
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return [int(p) for p in f.read().split()]
    except OSError:
        return []


def test_pod_killed_mid_deploy_patch_atomic_child_dies():
    """PID 1 SIGKILLed (the pod killed, or SIGKILL after the termination
    grace): the child dies with it. The PATCH was applied whole; the user
    has the ack and nothing more; the audit has "accepted" and no job_end."""
    with Stack(start_server=False) as st:
        srv, pid = pid1_server(st)
        st.kube.add_fault(kind="delay", watch=True, seconds=1.5, count=None)
        code, body = st.deploy("myservice 1.4")
        assert ack_text(body)["text"].startswith("checking")
        st.kube.wait_for_request(method="PATCH", timeout=10 * SLOW)
        st.kube.wait_for_request(watch=True, timeout=10 * SLOW)
        (child,) = children_of(pid)
        os.kill(pid, signal.SIGKILL)
        srv.wait(timeout=5 * SLOW)
        wait_until(lambda: not os.path.exists(f"/proc/{child}"), timeout=5, what="the child killed with PID 1")
        consistent_after_patch(st, "1.4")
        wait_until(lambda: standin_idle(st.slack), what="posts in flight answered")  # the orphan is gone
        # only the announcement made before the PATCH (issue 14), no result
        assert [p for p in st.slack.posts if " is deploying " not in p["json"]["text"]] == [], \
            st.slack.posts
        assert srv.audit(event="accepted") and not srv.audit(event="job_end")


def test_pod_sigterm_notice_for_killed_job_is_delivered():
    """PID 1 gets SIGTERM with a job that outlasts SHUTDOWN_GRACE: the job is
    killed at the grace, its job_end says so, and the user must be told. The
    notice is posted by a child forked just before the parent exits; as PID 1
    the parent's exit kills it unless the parent waits for it."""
    with Stack(start_server=False) as st:
        srv, pid = pid1_server(st, {"SHUTDOWN_GRACE": str(1 * SLOW)})
        st.kube.add_fault(kind="stall", count=None)
        code, body = st.deploy("myservice 1.4")
        assert ack_text(body)["text"].startswith("checking")
        st.kube.wait_for_request(timeout=10 * SLOW)
        os.kill(pid, signal.SIGTERM)
        assert srv.wait(timeout=20 * SLOW) == 0
        ends = one_end_each(srv, 1, timeout=1)
        (end,) = ends.values()
        assert end["result"] == "killed" and end["error"] == "stopped by shutdown (signal 9)", end
        posts = st.slack.wait_for(1, timeout=5 * SLOW)
        assert "stopped by shutdown" in posts[0]["json"]["text"], posts
