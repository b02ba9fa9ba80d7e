"""Issue 10 end to end: Socket Mode. The real binary opens WebSockets to the
Socket Mode stand-in (node + the npm `ws` server over TLS, from
apps.connections.open), receives envelopes, acks them on the socket with the
message HTTP mode would answer, and runs the same front door (authorize,
lock, fork, audit) against the Kubernetes stand-in; results go to the
response_url receiver. Each test waits for conditions, never for time."""
import json
import os
import shutil
import signal
import subprocess
import tempfile

from lib import SECRET, Server, Skip, Stack, free_port, slack_json, wait_until
from standins import slack_socket
from standins.slack_socket import SlackSocket

st = None   # Stack: CA, FakeKube, FakeSlack (no server)
sock = None  # SlackSocket
srv = None  # the binary in Socket Mode


def socket_env(**extra):
    env = dict(st.env)
    env.update({"SLACK_SIGNING_SECRET": None, "SLACK_APP_TOKEN": sock.token,
                "SLACK_API_URL": sock.api_url, "ROLLOUT_TIMEOUT": "10"})
    env.update(extra)
    return env


def setup_module():
    global st, sock, srv
    why = slack_socket.available()
    if why:
        raise Skip(why)
    st = Stack(deployments=(("default", "myservice"), ("default", "svc-stall"),
                            ("default", "svc-frag")), start_server=False)
    st.kube.rollout_delay = 0.1
    sock = SlackSocket(st.ca).start()
    srv = Server(env=socket_env())
    sock.wait_ready(2, timeout=60)  # under valgrind the handshakes take seconds


def teardown_module():
    for x in (srv, sock, st):
        if x:
            x.stop()


def ack_text(ack):
    p = ack["payload"] or {}
    return p.get("response_type"), p.get("text", "")


def metric(server, name):
    from lib import body_of
    body = body_of(server.request(b"GET /metrics HTTP/1.1\r\nHost: t\r\n\r\n")).decode()
    for line in body.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[-1])
    raise AssertionError(f"no metric {name} in {body}")


def test_hello_readyz_and_mode():
    sock.wait_ready(2)
    srv.wait_log('"mode":"socket"')
    wait_until(lambda: srv.get("/readyz")[0] == 200, what="/readyz 200")
    assert srv.get("/healthz")[0] == 200
    wait_until(lambda: metric(srv, 'deploy_api_socket_connections{state="ready"}') == 2,
               what="2 ready connections in /metrics")
    # No signing secret: POST /deploy is not served at all.
    assert srv.post_slack("help")[0] == 404
    # Every upgrade asked for a WebSocket with a fresh key and a one-time ticket.
    ups = sock.state()["upgrades"]
    assert all(u["ticket_ok"] for u in ups)
    assert all(u["headers"]["sec-websocket-version"] == "13" for u in ups)
    assert len({u["headers"]["sec-websocket-key"] for u in ups}) == len(ups)


def test_readyz_without_hello():
    s2 = SlackSocket(st.ca).start()
    try:
        s2.config(hello=False)
        with Server(env=dict(socket_env(), SLACK_API_URL=s2.api_url)) as other:
            s2.wait(lambda x: len([c for c in x["connections"] if c["open"]]) >= 1,
                    what="an open connection")
            assert other.get("/readyz")[0] == 503
            s2.config(hello=True)
            s2.drop(conn="any")  # the replacement gets a hello
            wait_until(lambda: other.get("/readyz")[0] == 200, timeout=15, what="/readyz 200")
    finally:
        s2.stop()


def test_deploy_end_to_end():
    sock.wait_ready(2)
    url = st.response_url()
    eid = sock.slash("myservice 1.4", url)
    ack = sock.wait_ack(eid)[0]
    kind, text = ack_text(ack)
    # ephemeral until the job has the change in (issue 14)
    assert kind == "ephemeral" and text == "checking `default/myservice`\u2026", ack
    a = srv.wait_audit(event="accepted", envelope_id=eid)[0]
    assert a["via"] == "socket" and a["target"] == "default/myservice" and "peer" not in a
    end = srv.wait_audit(event="job_end", job=a["job"], timeout=20)[0]
    assert end["result"] == "ok", end
    posts = [p for p in st.slack.wait_for(2, timeout=20) if url.endswith(p["path"])]
    assert posts and "myservice" in posts[-1]["json"]["text"]
    assert posts[0]["json"]["text"].startswith("<@"), posts  # "<@U…> is deploying …"
    assert posts[0]["json"]["response_type"] == "in_channel", posts
    img = st.kube.get_deployment("default", "myservice")["spec"]["template"]["spec"]
    assert img["containers"][0]["image"] == "registry.example/myservice:1.4"


def test_refusals_acked_ephemerally():
    url = st.response_url()
    cases = [("kube-system/coredns 1.0", "Namespace `kube-system`"),
             ("myservice registry.evil/x:1", "not an image"),
             ("help", "/deploy")]
    for text, want in cases:
        eid = sock.slash(text, url)
        kind, msg = ack_text(sock.wait_ack(eid)[0])
        assert kind == "ephemeral" and want in msg, (text, msg)
    eid = sock.slash("status myservice", "https://evil.example/commands/x")
    kind, msg = ack_text(sock.wait_ack(eid)[0])
    assert kind == "ephemeral" and "response_url" in msg
    a = srv.wait_audit(event="refused", envelope_id=eid)[0]
    assert a["via"] == "socket" and a["result"] == "forbidden"
    # A field too long for its bound: refused, still acked.
    eid = sock.slash("status myservice", url, user_id="U" * 40)
    kind, msg = ack_text(sock.wait_ack(eid)[0])
    assert kind == "ephemeral" and "too long" in msg


def test_retried_envelope_runs_once():
    url = st.response_url()
    eid = sock.slash("status myservice", url)
    first = sock.wait_ack(eid)[0]
    assert ack_text(first)[0] == "ephemeral" and "Looking up" in ack_text(first)[1]
    sock.slash("status myservice", url, envelope_id=eid, retry_attempt=1)
    second = sock.wait_ack(eid, n=2)[1]
    assert "already received" in ack_text(second)[1]
    again = srv.wait_audit(event="refused", envelope_id=eid)[0]
    assert again["error"] == "envelope already handled" and again["via"] == "socket"
    assert len(srv.audit(event="accepted", envelope_id=eid)) == 1
    assert metric(srv, "deploy_api_socket_retries_acked_total") >= 1


def test_ack_at_once_while_the_api_stalls():
    fault = st.kube.add_fault("stall", path="/apis/apps/v1/namespaces/default/deployments/svc-stall",
                              count=1, seconds=8)
    eid = sock.slash("svc-stall 2.0", st.response_url())
    # The ack comes while the job child still waits on the stalled API.
    ack = sock.wait_ack(eid, timeout=5)[0]
    assert ack_text(ack)[1] == "checking `default/svc-stall`\u2026", ack
    a = srv.wait_audit(event="accepted", envelope_id=eid)[0]
    assert not srv.audit(event="job_end", job=a["job"])
    wait_until(lambda: fault.hits >= 1, what="the stalled request")
    srv.wait_audit(event="job_end", job=a["job"], timeout=40)


def test_ack_while_apps_connections_open_stalls():
    """A replacement being opened (its apps.connections.open hangs) does not
    hold up the socket that still serves."""
    sock.wait_ready(2)
    sock.config(stall_open=True)
    try:
        gone = sock.drop()
        sock.wait(lambda x: x["open_stalled"] >= 1, what="a held apps.connections.open")
        eid = sock.slash("status myservice", st.response_url())
        assert "Looking up" in ack_text(sock.wait_ack(eid)[0])[1]
        x = sock.state()
        assert x["open_stalled"] >= 1  # the ack came while the open still hung
        assert [c for c in x["connections"] if c["open"] and c["id"] != gone]
    finally:
        sock.config(stall_open=False)
    sock.wait_ready(2)


def test_disconnect_refresh_loses_nothing():
    sock.wait_ready(2)
    before = {c["id"] for c in sock.ready()}
    old = max(before)
    sock.disconnect(conn=old, reason="refresh_requested")
    # An envelope on the old socket right after: still acked.
    eid = sock.slash("status myservice", st.response_url(), conn=old)
    assert sock.wait_ack(eid)
    srv.wait_log("disconnect (refresh_requested)")
    # A replacement came up and the old socket was closed by the client.
    sock.wait(lambda x: any(c["conn"] == old for c in x["closes"]) and
              len([c for c in x["connections"] if c["open"] and c["hello"]]) >= 2,
              what="the old socket closed and two ready")
    assert not any(c["id"] == old and c["open"] for c in sock.state()["connections"])
    eid = sock.slash("status myservice", st.response_url())
    assert sock.wait_ack(eid)


def test_dropped_socket_reconnects():
    sock.wait_ready(2)
    r0 = metric(srv, "deploy_api_socket_reconnects_total")
    gone = sock.drop()
    sock.wait(lambda x: len([c for c in x["connections"] if c["open"] and c["hello"] and
                             c["id"] != gone]) >= 2, what="two ready after a drop")
    wait_until(lambda: metric(srv, "deploy_api_socket_reconnects_total") > r0,
               what="reconnect counted")
    eid = sock.slash("status myservice", st.response_url())
    assert sock.wait_ack(eid)


def test_close_frame_echoed_and_replaced():
    sock.wait_ready(2)
    c = sock.close(code=1001, reason="server going away")
    closes = sock.wait(lambda x: [k for k in x["closes"] if k["conn"] == c], what="close")
    assert closes[0]["code"] == 1001  # the client answered with the same code
    srv.wait_log("closed by Slack (code 1001)")
    sock.wait(lambda x: len([k for k in x["connections"] if k["open"] and k["hello"]]) >= 2,
              what="two ready after a close")


def test_pings_answered():
    conn = sock.ping(data="are-you-there")
    sock.wait(lambda x: [p for p in x["pongs"] if p["conn"] == conn and
                         p["data"] == "are-you-there"], what="pong")


def test_every_length_form_and_fragments():
    url = st.response_url()
    # 7-bit: a small envelope of another type, acked without a payload.
    sock.send({"envelope_id": "small-1", "type": "events_api", "payload": {}})
    assert sock.wait_ack("small-1")[0]["payload"] is None
    # 16-bit and 64-bit (exactly WS_MAX_MESSAGE = 65536 bytes) lengths.
    for pad in (1000, 65535, 65536):
        eid = sock.slash("status myservice", url, pad_to=pad)
        assert "Looking up" in ack_text(sock.wait_ack(eid)[0])[1], pad
    # Fragmented into odd sizes, with pings between fragments.
    eid = sock.slash("svc-frag 3.0", url, mode="fragmented")
    assert ack_text(sock.wait_ack(eid)[0])[1] == "checking `default/svc-frag`\u2026"
    srv.wait_audit(event="accepted", envelope_id=eid)
    eid = sock.slash("status svc-frag", url, mode="fragmented_ping")
    assert "Looking up" in ack_text(sock.wait_ack(eid)[0])[1]
    wait_until(lambda: metric(srv, 'deploy_api_socket_envelopes_total{type="events_api"}') >= 1,
               what="events_api counted")


def test_message_past_the_bound_closes_with_1009():
    sock.wait_ready(2)
    conn = sock.ready()[-1]["id"]
    sock.slash("status myservice", st.response_url(), conn=conn, pad_to=65537)
    closes = sock.wait(lambda x: [k for k in x["closes"] if k["conn"] == conn], what="close")
    assert closes[0]["code"] == 1009
    sock.wait(lambda x: len([k for k in x["connections"] if k["open"] and k["hello"]]) >= 2,
              what="two ready again")


def socket_child_pid(server):
    line = [l for l in server.logs() if "socket child started" in l][-1]
    return int(json.loads(line)["pid"])


def test_socket_child_restarted_jobs_unaffected():
    sock.wait_ready(2)
    opens = sock.state()["opens"]
    # A job that is still waiting on the API when the socket child dies.
    fault = st.kube.add_fault("stall", path="/apis/apps/v1/namespaces/default/deployments/svc-frag",
                              count=1, seconds=3)
    eid = sock.slash("status svc-frag", st.response_url())
    job = srv.wait_audit(event="accepted", envelope_id=eid)[0]["job"]
    wait_until(lambda: fault.hits >= 1, what="the job waiting on the API")
    old = socket_child_pid(srv)
    os.kill(old, signal.SIGKILL)
    srv.wait_log("the socket child stopped")
    wait_until(lambda: socket_child_pid(srv) != old, timeout=20, what="a new socket child")
    sock.wait(lambda x: x["opens"] >= opens + 2 and
              len([c for c in x["connections"] if c["open"] and c["hello"]]) >= 2,
              what="two new connections from the new child", timeout=20)
    end = srv.wait_audit(event="job_end", job=job, timeout=30)[0]
    assert end["result"] == "ok", end  # the job went on without the socket child
    eid = sock.slash("status myservice", st.response_url())
    assert sock.wait_ack(eid)
    assert metric(srv, "deploy_api_socket_child_restarts_total") >= 1


def memory_holds(pid, needle):
    """1 when needle is in any readable mapping of process pid."""
    found = False
    with open(f"/proc/{pid}/maps") as maps, open(f"/proc/{pid}/mem", "rb", 0) as mem:
        for line in maps:
            addr, perms = line.split()[:2]
            if not perms.startswith("r") or "[vvar]" in line or "[vsyscall]" in line:
                continue
            lo, hi = (int(x, 16) for x in addr.split("-"))
            try:
                mem.seek(lo)
                found = found or needle in mem.read(hi - lo)
            except (OSError, ValueError, OverflowError):
                pass
    return found


def test_both_front_doors():
    """With the signing secret too, POST /deploy is served beside the socket;
    the socket child does not hold the signing secret (the parent does)."""
    s2 = SlackSocket(st.ca).start()
    try:
        with Server(env=dict(socket_env(), SLACK_API_URL=s2.api_url,
                             SLACK_SIGNING_SECRET=SECRET)) as both:
            both.wait_log('"mode":"socket+http"')
            code, body = both.post_slack("help")
            assert code == 200 and "/deploy" in slack_json(body)["text"]
            s2.wait_ready(2)
            eid = s2.slash("help", st.response_url())
            assert "/deploy" in ack_text(s2.wait_ack(eid)[0])[1]
            assert memory_holds(both.proc.pid, SECRET.encode())  # the scan finds it where it is
            assert not memory_holds(socket_child_pid(both), SECRET.encode())
    finally:
        s2.stop()


def test_job_child_holds_no_slack_secret():
    """A job child keeps neither the signing secret nor the app token (nor
    their copies in the environment block): it posts through response_url
    and needs neither."""
    s2 = SlackSocket(st.ca).start()
    try:
        with Server(env=dict(socket_env(), SLACK_API_URL=s2.api_url,
                             SLACK_SIGNING_SECRET=SECRET)) as both:
            s2.wait_ready(2)
            fault = st.kube.add_fault("stall", path="/apis/apps/v1/namespaces/default/deployments/"
                                      "svc-secret", count=1, seconds=5)
            sidecar = socket_child_pid(both)
            code, _ = both.post_slack("status svc-secret", response_url=st.response_url())
            assert code == 200
            wait_until(lambda: fault.hits >= 1, what="the job waiting on the API")
            jobs = [p for p in both.children() if p != sidecar]
            assert jobs, "no job child"
            token = s2.token.encode()
            assert memory_holds(both.proc.pid, token)  # the scan finds it where it is
            assert memory_holds(sidecar, token)
            for pid in jobs:
                assert not memory_holds(pid, SECRET.encode()), pid
                assert not memory_holds(pid, token), pid
    finally:
        s2.stop()


def test_bad_app_token_backs_off():
    s2 = SlackSocket(st.ca, token="xapp-1-other").start()
    try:
        with Server(env=dict(socket_env(), SLACK_API_URL=s2.api_url)) as other:
            other.wait_log("invalid_auth")
            assert other.get("/readyz")[0] == 503
            s2.wait(lambda x: x["open_refused"] >= 2, what="a second attempt", timeout=15)
            assert "xapp-1-A0TEST" not in "\n".join(other.logs())  # the token is never logged
    finally:
        s2.stop()


def test_through_tinyproxy():
    exe = shutil.which("tinyproxy") or ("/usr/bin/tinyproxy" if os.path.exists("/usr/bin/tinyproxy")
                                        else None)
    if not exe:
        raise Skip("tinyproxy is not installed")
    d = tempfile.mkdtemp(prefix="tinyproxy-")
    port = free_port()
    log = os.path.join(d, "log")
    with open(os.path.join(d, "conf"), "w") as f:
        f.write(f"Port {port}\nListen 127.0.0.1\nTimeout 60\nAllow 127.0.0.1\n"
                f"LogFile \"{log}\"\nLogLevel Connect\nMaxClients 20\n")
    proxy = subprocess.Popen([exe, "-d", "-c", os.path.join(d, "conf")],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    s2 = SlackSocket(st.ca).start()
    try:
        env = dict(socket_env(), SLACK_API_URL=s2.api_url, SOCKET_MODE_CONNECTIONS="1",
                   HTTPS_PROXY=f"http://127.0.0.1:{port}", NO_PROXY="127.0.0.1")
        wait_until(lambda: os.path.exists(log), what="tinyproxy up")
        with Server(env=env) as other:
            s2.wait_ready(1)
            eid = s2.slash("status myservice", st.response_url())
            assert "Looking up" in ack_text(s2.wait_ack(eid)[0])[1]
            other.wait_audit(event="accepted", envelope_id=eid)

            def connects():
                with open(log) as f:
                    return f.read().count(f"localhost:{s2.port}") >= 2
            # apps.connections.open and the WebSocket both went through CONNECT.
            wait_until(connects, what="two CONNECTs in tinyproxy's log")
    finally:
        s2.stop()
        proxy.terminate()
        proxy.wait(5)
        shutil.rmtree(d, ignore_errors=True)
