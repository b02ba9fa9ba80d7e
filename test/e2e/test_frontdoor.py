"""The Slack front door through the real binary: verification, refusals,
commands, locks, the job cap, deadlines, SIGTERM with jobs running."""
import json
import os
import signal
import time

from lib import SECRET, Stack, status_of, wait_until, sign, slash_body

st = None


def setup_module():
    global st
    st = Stack(env={"MAX_JOBS": "4", "SHUTDOWN_GRACE": "2"}, deployments=[("default", "myservice"), ("default", "auth")])


def teardown_module():
    st.stop()


def ack(body):
    return json.loads(body.decode())


def no_new_children(before_accepted):
    return len(st.server.audit(event="accepted")) == before_accepted


def test_signed_deploy_acked_in_channel_while_kube_stalls():
    st.kube.add_fault(kind="stall", count=None)  # every kube call hangs
    try:
        code, body = st.deploy("myservice 1.4")
        assert code == 200, body
        a = ack(body)
        # ephemeral until the job has read the deployment (issue 14)
        assert a["response_type"] == "ephemeral" and a["text"] == "checking `default/myservice`…"
        # the job is running (stuck on the stalled API) after the ack came back
        acc = st.server.wait_audit(event="accepted", target="default/myservice")
        assert acc[0]["command"] == "deploy"
        assert st.kube.wait_for_request(timeout=10)
        assert len(st.server.children()) >= 1
        # a second deploy of the same target is refused by the lock
        code, body = st.deploy("myservice 1.5", user_id="U0OTHER")
        assert code == 200
        a = ack(body)
        assert a["response_type"] == "ephemeral"
        assert "already being deployed by <@U0TESTER>" in a["text"]
        # a different target is not locked
        code, body = st.deploy("auth 2.0")
        assert ack(body)["text"].startswith("checking")
    finally:
        st.kube.clear_faults()


def refused(text=None, **kw):
    st.server.sync()  # let earlier audit lines arrive
    before = len(st.server.audit(event="accepted"))
    r = st.server.post_slack(text or "myservice 1.4", **kw)
    st.server.sync()
    assert len(st.server.audit(event="accepted")) == before, "a refused request was accepted"
    return r


def test_unsigned_and_malformed_refused_nothing_forked():
    body = slash_body("myservice 1.4", response_url=st.response_url())
    now = int(time.time())
    good = sign(SECRET, body, str(now))
    cases = [
        ({}, "missing"),
        ({"X-Slack-Request-Timestamp": str(now)}, "missing"),
        ({"X-Slack-Signature": good["X-Slack-Signature"]}, "missing"),
        ({"X-Slack-Request-Timestamp": "abc", "X-Slack-Signature": good["X-Slack-Signature"]}, None),
        ({"X-Slack-Request-Timestamp": str(now), "X-Slack-Signature": "v0=" + "0" * 64}, None),
        ({"X-Slack-Request-Timestamp": str(now), "X-Slack-Signature": good["X-Slack-Signature"].upper()}, None),
        ({"X-Slack-Request-Timestamp": str(now), "X-Slack-Signature": good["X-Slack-Signature"][:-1]}, None),
        (sign("wrong-secret-0123456789", body, str(now)), None),
    ]
    for headers, _ in cases:
        code, resp = refused(body=body, headers=headers)
        assert code == 401, (headers, code, resp)


def test_window_edges():
    now = int(time.time())
    # 302, not 301: the server reads its clock a moment after the test does
    for skew in (-302, 302, 1000, -100000):
        code, _ = refused(ts=now + skew)
        assert code == 401
    # inside the window both ways
    for skew in (-250, 250):
        code, body = st.server.post_slack("help", ts=now + skew,
                                          response_url=st.response_url())
        assert code == 200, skew


def test_body_tampering_refused():
    body = slash_body("myservice 1.4", response_url=st.response_url())
    h = sign(SECRET, body, str(int(time.time())))
    code, _ = refused(body=body.replace(b"1.4", b"6.6"), headers=h)
    assert code == 401


def test_replay_refused():
    body = slash_body("status myservice", response_url=st.response_url())
    h = sign(SECRET, body, str(int(time.time())))
    n = len(st.server.audit(event="accepted"))
    code, _ = st.server.post_slack(None, body=body, headers=h)
    assert code == 200
    wait_until(lambda: len(st.server.audit(event="accepted")) == n + 1, what="first accepted")
    code, resp = refused(body=body, headers=h)
    assert code == 401 and b"replay" in resp


def ssl_checks_counted():
    _, body = st.server.get("/metrics")
    line = [l for l in body.decode().splitlines() if 'outcome="ssl_check"' in l][0]
    return int(line.split()[-1])


def test_ssl_check():
    """Issue 12 item 10: exactly ssl_check=1 (plus token), unsigned as Slack
    sends it, gets an empty 200, counted, nothing dispatched; anything more
    or another value is an ordinary request (verification first)."""
    n = ssl_checks_counted()
    for body in (b"ssl_check=1&token=x", b"ssl_check=1", b"token=x&ssl_check=1"):
        code, resp = refused(body=body, headers={})
        assert code == 200 and resp == b"", (body, code, resp)
    assert ssl_checks_counted() == n + 3
    for body in (b"ssl_check=2&token=x", b"ssl_check=1&token=x&text=myservice+1.4",
                 b"ssl_check=1&ssl_check=1", b"ssl_check=10", b"ssl_check=1%00"):
        code, _ = refused(body=body, headers={})
        assert code == 401, (body, code)
    assert ssl_checks_counted() == n + 3
    # signed, it is answered the same way
    code, resp = st.server.post_slack(None, body=b"ssl_check=1&token=x")
    assert code == 200 and resp == b""


def test_help_and_bad_commands_are_ephemeral():
    for text in ("", "help"):
        code, body = st.server.post_slack(text, response_url=st.response_url())
        a = ack(body)
        assert code == 200 and a["response_type"] == "ephemeral" and "/deploy" in a["text"]
    for text in ("myservice", "myservice 1.4 extra", "Bad_Name 1.4", "myservice registry.example/x:1",
                 "myservice evil.example/myservice:1.4", "rollback myservice abc", "status",
                 "myservice @sha256:1234", "ns_bad/myservice 1.4"):
        code, body = refused(text, response_url=st.response_url())
        a = ack(body)
        assert code == 200 and a["response_type"] == "ephemeral", text
    st.server.wait_audit(event="refused", result="bad_command")


def test_namespace_not_allowed():
    code, body = refused("kube-system/coredns 1.0", response_url=st.response_url())
    assert ack(body)["response_type"] == "ephemeral" and "kube-system" in ack(body)["text"]


def test_response_url_must_be_allowed():
    for url in ("https://evil.example/x", "http://localhost:%d/x" % st.slack.port,
                "https://hooks.slack.com@evil.example/x"):
        code, body = refused("status myservice", response_url=url)
        assert ack(body)["response_type"] == "ephemeral"


def test_duplicate_form_field_refused():
    body = slash_body("status myservice", response_url=st.response_url()) + b"&user_id=U0EVIL"
    code, _ = refused(body=body)
    assert code == 400


def test_metrics_count_outcomes():
    st_, body = st.server.get("/metrics")
    text = body.decode()
    for outcome in ("accepted", "bad_signature", "stale", "replay", "bad_command", "ssl_check", "help"):
        line = [l for l in text.splitlines() if f'outcome="{outcome}"' in l][0]
        assert int(line.split()[-1]) >= 1, line


def test_team_allowlist():
    with Stack(env={"SLACK_TEAM_ID": "T0OTHER,T0MORE"}) as s2:
        before = len(s2.server.audit(event="accepted"))
        code, body = s2.deploy("myservice 1.4")
        assert code == 200 and ack(body)["response_type"] == "ephemeral"
        s2.server.sync()
        assert len(s2.server.audit(event="accepted")) == before
        code, body = s2.deploy("status myservice", team_id="T0MORE")
        assert code == 200
        s2.server.wait_audit(event="accepted", team_id="T0MORE")


def test_policy_file():
    with Stack(start_server=False) as s2:
        pol = os.path.join(s2.dir, "policy")
        with open(pol, "w") as f:
            f.write("allow status,history * * */*\n"
                    "allow deploy U0BOSS C0DEPLOY default/*\n")
        from lib import Server
        s2.server = Server(env=dict(s2.env, DEPLOY_POLICY_FILE=pol))
        code, body = s2.deploy("myservice 1.4")  # U0TESTER: not allowed
        assert ack(body)["response_type"] == "ephemeral" and "may not" in ack(body)["text"]
        code, body = s2.deploy("myservice 1.4", user_id="U0BOSS", channel_id="C0ELSEWHERE")
        assert ack(body)["response_type"] == "ephemeral"
        code, body = s2.deploy("status myservice")
        assert ack(body)["response_type"] == "ephemeral" and "Looking up" in ack(body)["text"]
        code, body = s2.deploy("myservice 1.4", user_id="U0BOSS")
        assert ack(body)["text"].startswith("checking")
        # the display name never decides
        code, body = s2.deploy("myservice 1.5", user_name="U0BOSS")
        assert ack(body)["response_type"] == "ephemeral"


def test_malformed_policy_rejected_at_startup():
    import subprocess
    from lib import BIN
    import tempfile
    with tempfile.NamedTemporaryFile("w", suffix=".policy") as f:
        f.write("allow deploy * * */*\nallow destroy * * */*\n")
        f.flush()
        env = {"PATH": "/usr/bin:/bin", "LISTEN_ADDR": "127.0.0.1:0", "SLACK_SIGNING_SECRET": SECRET,
               "IMAGE_BASE": "r", "KUBE_API_URL": "http://127.0.0.1:9", "DEPLOY_POLICY_FILE": f.name}
        p = subprocess.run([BIN], env=env, capture_output=True, timeout=10)
        assert p.returncode != 0
        assert b"line 2" in p.stderr and b"DEPLOY_POLICY_FILE" in p.stderr


def test_max_jobs_busy_and_deadline_kill():
    with Stack(env={"MAX_JOBS": "2", "JOB_TIMEOUT": "2", "ROLLOUT_TIMEOUT": "1"},
               deployments=[("default", "a"), ("default", "b"), ("default", "c")]) as s2:
        s2.kube.add_fault(kind="stall", count=None)
        for name in ("a", "b"):
            code, body = s2.deploy(f"{name} 1.0")
            assert ack(body)["text"].startswith("checking")
        code, body = s2.deploy("c 1.0")
        assert ack(body)["response_type"] == "ephemeral" and "busy" in ack(body)["text"]
        s2.server.wait_audit(event="refused", result="busy")
        # the deadline kills both; each gets exactly one final audit line
        ends = wait_until(lambda: len(s2.server.audit(event="job_end")) >= 2 and
                          s2.server.audit(event="job_end"), timeout=15, what="job_end lines")
        assert {e["result"] for e in ends} == {"killed"}
        assert len(s2.server.audit(event="job_end", target="default/a")) == 1
        # and the user is told (by a notice child): the receiver gets posts
        posts = s2.slack.wait_for(2, timeout=15)
        assert all("killed" in p["json"]["text"] for p in posts)
        wait_until(lambda: not s2.server.children(), timeout=10, what="children reaped")
        # once reaped, the slots are free again
        s2.kube.clear_faults()
        code, body = s2.deploy("c 1.0")
        assert ack(body)["text"].startswith("checking")


def test_sigterm_with_jobs_running():
    with Stack(env={"SHUTDOWN_GRACE": "2"}) as s2:
        s2.kube.add_fault(kind="stall", count=None)
        code, body = s2.deploy("myservice 1.4")
        assert code == 200
        s2.kube.wait_for_request(timeout=10)
        s2.server.signal(signal.SIGTERM)
        # not ready while draining, and no new work accepted
        assert s2.server.wait(timeout=20) == 0
        ends = s2.server.audit(event="job_end")
        assert len(ends) == 1 and ends[0]["result"] == "killed"
        assert "shutdown" in ends[0]["error"]


def test_unverified_flood_audit_is_rate_limited():
    with Stack() as s2:
        body = slash_body("myservice 1.4", response_url=s2.response_url())
        bad = sign("not-the-secret-0123456789", body, str(int(time.time())))
        with s2.server.connect() as c:
            from lib import read_response
            for _ in range(60):
                c.sendall(b"POST /deploy HTTP/1.1\r\nHost: t\r\nContent-Length: %d\r\n%s\r\n" % (
                    len(body), "".join(f"{k}: {v}\r\n" for k, v in bad.items()).encode()) + body)
                assert status_of(read_response(c)) == 401
        # every one is counted, not every one is logged
        text = s2.server.get("/metrics")[1].decode()
        line = [l for l in text.splitlines() if 'outcome="bad_signature"' in l][0]
        assert int(line.split()[-1]) == 60
        sup = s2.server.wait_audit(event="rejected", result="suppressed", timeout=5)
        logged = len(s2.server.audit(event="rejected", result="bad_signature"))
        dropped = sum(int(s["error"].split()[0]) for s in sup)
        assert logged + dropped == 60 and logged <= 40, (logged, dropped)


def test_child_holds_no_server_sockets():
    """A job child closes the listener and every client socket it inherited:
    it holds stdio, its result pipe and its own API connection only."""
    with Stack(env={"SHUTDOWN_GRACE": "1"}) as s2:
        s2.kube.add_fault(kind="stall", count=None)
        idle = [s2.server.connect() for _ in range(3)]  # client sockets the parent holds
        code, _ = s2.deploy("myservice 1.4")
        assert code == 200
        s2.kube.wait_for_request(timeout=10)
        kids = wait_until(s2.server.children, what="a job child")

        def sockets(pid):
            out = set()
            for fd in os.listdir(f"/proc/{pid}/fd"):
                try:
                    link = os.readlink(f"/proc/{pid}/fd/{fd}")
                except OSError:
                    continue
                if link.startswith("socket:"):
                    out.add(link)
            return out

        parent = sockets(s2.server.proc.pid)
        assert len(parent) >= 4  # listener + the idle clients
        for kid in kids:
            # (valgrind keeps its own descriptors at the top of the range)
            fds = sorted(int(f) for f in os.listdir(f"/proc/{kid}/fd") if int(f) < 1024)
            assert not (sockets(kid) & parent), (fds, sockets(kid) & parent)
            assert len(sockets(kid)) <= 1, fds  # at most its own API connection
            assert max(fds) <= 4, fds
        for c in idle:
            c.close()


def test_legacy_verification_token_only_when_configured():
    token = "legacy-token-0123456789"
    with Stack(env={"SLACK_VERIFICATION_TOKEN": token}) as s2:
        s2.server.wait_log("SLACK_VERIFICATION_TOKEN is set")
        assert all(token not in l for l in s2.server.logs())
        url = s2.response_url()
        # unsigned, right token: accepted (that is what the setting means)
        code, body = s2.server.post_slack(None, body=slash_body("status myservice", token=token,
                                                                response_url=url), headers={})
        assert code == 200 and "Looking up" in ack(body)["text"]
        # unsigned, wrong or missing token: refused
        for t in ("legacy-token-0123456788", "", token + "x"):
            code, _ = s2.server.post_slack(None, body=slash_body("status myservice", token=t,
                                                                 response_url=url), headers={})
            assert code == 401, t
        # signature headers present: the signature decides, whatever the token
        body = slash_body("status myservice", token=token, response_url=url)
        code, _ = s2.server.post_slack(None, body=body,
                                       headers=sign("wrong-secret-0123456789", body, str(int(time.time()))))
        assert code == 401
        s2.server.wait_audit(event="accepted", command="status")
        assert len(s2.server.audit(event="accepted")) == 1
