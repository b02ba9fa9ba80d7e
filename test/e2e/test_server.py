"""The server core through the real binary: health endpoints, HTTP limits,
keep-alive and pipelining, slow clients, the connection cap, startup
errors, SIGTERM."""
import json
import socket
import subprocess
import tempfile
import time

from lib import (BIN, SECRET, Server, closed_by_peer, header_of, read_response, read_responses,
                 status_of, body_of, wait_until)

srv = None


def setup_module():
    global srv
    srv = Server()


def teardown_module():
    srv.stop()


def test_healthz_readyz_metrics():
    assert srv.get("/healthz") == (200, b"ok\n")
    assert srv.get("/readyz") == (200, b"ready\n")
    st, body = srv.get("/metrics")
    assert st == 200
    assert b'deploy_api_requests_total{outcome="accepted"}' in body
    assert b"deploy_api_jobs_running 0" in body


def test_head_has_no_body():
    r = srv.request(b"HEAD /healthz HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
    assert status_of(r) == 200
    assert header_of(r, "Content-Length") == "3"
    assert body_of(r) == b""


def read_until_close(sock, timeout=5):
    sock.settimeout(timeout)
    out = b""
    while True:
        chunk = sock.recv(65536)
        if not chunk:
            return out
        out += chunk


def test_head_never_has_a_body():
    """Issue 12 item 6: 404, 405, 400 and 431 answers to HEAD carry no body
    either; on a kept-alive connection the next response starts right after
    the head."""
    for raw in (b"HEAD /nope HTTP/1.1\r\nHost: t\r\n\r\n",
                b"HEAD /deploy HTTP/1.1\r\nHost: t\r\n\r\n",
                b"HEAD /metrics HTTP/1.1\r\nHost: t\r\n\r\n",
                b"HEAD /healthz HTTP/1.1\r\nHost: t\r\nX: " + b"a" * 9000 + b"\r\n\r\n"):
        with srv.connect() as s:
            s.sendall(raw + b"GET /healthz HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
            out = read_until_close(s)
        head, _, rest = out.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 "), out[:200]
        assert rest == b"" or rest.startswith(b"HTTP/1.1 200 OK"), (raw[:30], out[:300])
        if rest:
            assert rest.endswith(b"\r\n\r\nok\n"), rest


def test_unknown_path_404_and_methods():
    assert srv.get("/nope")[0] == 404
    r = srv.request(b"POST /healthz HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\n\r\n")
    assert status_of(r) == 405 and header_of(r, "Allow") == "GET, HEAD"
    r = srv.request(b"GET /deploy HTTP/1.1\r\nHost: t\r\n\r\n")
    assert status_of(r) == 405 and header_of(r, "Allow") == "POST"
    r = srv.request(b"BREW /healthz HTTP/1.1\r\nHost: t\r\n\r\n")
    assert status_of(r) == 501


def test_bad_syntax_400():
    for raw in [b"GET /healthz\r\n\r\n", b"GET healthz HTTP/1.1\r\nHost: t\r\n\r\n",
                b"GET /healthz HTTP/1.1\r\nHost t\r\n\r\n", b"GET /healthz HTTP/1.1\r\n Host: t\r\n\r\n",
                b"GET /healthz HTTP/1.1\r\n\r\n",  # 1.1 without Host
                b"GET /he\x01lthz HTTP/1.1\r\nHost: t\r\n\r\n"]:
        r = srv.request(raw)
        assert status_of(r) == 400, (raw, r[:40])
    assert status_of(srv.request(b"GET / HTTP/2.0\r\nHost: t\r\n\r\n")) == 505


def test_head_limit_431_at_and_past():
    from_limit = 8192
    base = b"GET /healthz HTTP/1.1\r\nHost: t\r\nX-Pad: "
    tail = b"\r\n\r\n"
    pad = from_limit - len(base) - len(tail)
    r = srv.request(base + b"a" * pad + tail)
    assert status_of(r) == 200, r[:60]
    r = srv.request(base + b"a" * (pad + 1) + tail)
    assert status_of(r) == 431, r[:60]


def test_header_count_limit():
    ok = b"".join(b"X-H%d: v\r\n" % i for i in range(47))  # + Host = 48
    r = srv.request(b"GET /healthz HTTP/1.1\r\nHost: t\r\n" + ok + b"\r\n")
    assert status_of(r) == 200
    r = srv.request(b"GET /healthz HTTP/1.1\r\nHost: t\r\n" + ok + b"X-Last: v\r\n\r\n")
    assert status_of(r) == 431


def test_body_limit_413_and_length_rules():
    # 16384 is accepted by the parser (it then fails verification: 401)
    body = b"a" * 16384
    r = srv.request(b"POST /deploy HTTP/1.1\r\nHost: t\r\nContent-Length: 16384\r\n\r\n" + body, timeout=5)
    assert status_of(r) == 401
    r = srv.request(b"POST /deploy HTTP/1.1\r\nHost: t\r\nContent-Length: 16385\r\n\r\n")
    assert status_of(r) == 413
    r = srv.request(b"POST /deploy HTTP/1.1\r\nHost: t\r\n\r\n")
    assert status_of(r) == 411
    r = srv.request(b"POST /deploy HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n")
    assert status_of(r) == 411
    r = srv.request(b"POST /deploy HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\nhello")
    assert status_of(r) == 400
    r = srv.request(b"POST /deploy HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!")
    assert status_of(r) == 400


def test_keepalive_and_pipelining_in_order():
    with srv.connect() as s:
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n"
                  b"GET /nope HTTP/1.1\r\nHost: t\r\n\r\n"
                  b"GET /readyz HTTP/1.1\r\nHost: t\r\n\r\n")
        rs = read_responses(s, 3)
        assert [status_of(r) for r in rs] == [200, 404, 200]
        assert body_of(rs[2]) == b"ready\n"
        # the connection stays open for more
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n")
        assert status_of(read_response(s)) == 200


def test_http10_closes_by_default():
    with srv.connect() as s:
        s.sendall(b"GET /healthz HTTP/1.0\r\n\r\n")
        r = read_response(s)
        assert status_of(r) == 200 and header_of(r, "Connection") == "close"
        assert closed_by_peer(s, 2)


def test_byte_at_a_time():
    with srv.connect() as s:
        for b in b"GET /healthz HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n":
            s.send(bytes([b]))
        assert status_of(read_response(s)) == 200


def test_expect_100_continue():
    with srv.connect() as s:
        s.sendall(b"POST /deploy HTTP/1.1\r\nHost: t\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n")
        s.settimeout(3)
        first = s.recv(100)
        assert first.startswith(b"HTTP/1.1 100 Continue\r\n\r\n"), first
        s.sendall(b"a=b&")
        r = read_response(s)
        assert status_of(r) == 401  # no signature


def test_bad_request_closes_connection():
    with srv.connect() as s:
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost t\r\n\r\nGET /healthz HTTP/1.1\r\nHost: t\r\n\r\n")
        r = read_response(s)
        assert status_of(r) == 400
        assert closed_by_peer(s, 2)


def test_slow_client_closed_while_others_answered():
    with Server(env={"HEADER_TIMEOUT": "1", "KEEPALIVE_TIMEOUT": "1"}) as s2:
        slow = s2.connect()
        slow.sendall(b"GET /healthz HTTP/1.1\r\nHo")
        idle = s2.connect()  # sends nothing at all
        t0 = time.monotonic()
        # others are answered meanwhile
        for _ in range(5):
            assert s2.get("/healthz")[0] == 200
        assert closed_by_peer(slow, 5)
        assert closed_by_peer(idle, 5)
        assert time.monotonic() - t0 < 5
        slow.close()
        idle.close()


def test_client_that_never_reads_does_not_stall_others():
    with srv.connect() as lazy:
        lazy.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        req = b"GET /metrics HTTP/1.1\r\nHost: t\r\n\r\n"
        lazy.sendall(req * 200)  # never read
        for _ in range(5):
            assert srv.get("/healthz")[0] == 200


def test_thousand_idle_connections():
    with Server(env={"HEADER_TIMEOUT": "3"}) as s2:
        conns = []
        for _ in range(1000):
            conns.append(s2.connect())
        for _ in range(10):
            assert s2.get("/healthz")[0] == 200
        st, body = s2.get("/metrics")
        open_now = [l for l in body.decode().splitlines() if l.startswith("deploy_api_connections_open")]
        assert int(open_now[0].split()[1]) >= 1000
        # all idle ones are closed after the timeout
        wait_until(lambda: all(closed_by_peer(c, 0.001) for c in conns[::50]), timeout=10,
                   what="idle connections closed")
        t0 = time.monotonic()
        wait_until(lambda: b"deploy_api_connections_open 1\n" in s2.get("/metrics")[1], timeout=10,
                   what="all idle closed")
        for c in conns:
            c.close()


def test_connection_cap_sheds_oldest_idle():
    with Server(env={"MAX_CONNS": "8", "HEADER_TIMEOUT": "30"}) as s2:
        conns = [s2.connect() for _ in range(8)]
        wait_until(lambda: s2.open_sockets() >= 9, what="8 connections accepted")
        # a new client still gets an answer: the oldest idle one is shed
        assert s2.get("/healthz")[0] == 200
        assert closed_by_peer(conns[0], 2)
        for c in conns:
            c.close()


def test_startup_errors_name_the_variable():
    def run(env):
        base = {"PATH": "/usr/bin:/bin", "LISTEN_ADDR": "127.0.0.1:0", "SLACK_SIGNING_SECRET": SECRET,
                "IMAGE_BASE": "r.example", "KUBE_API_URL": "http://127.0.0.1:9",
                "SLACK_CA_FILE": "/etc/ssl/certs/ca-certificates.crt"}
        base.update(env)
        base = {k: v for k, v in base.items() if v is not None}
        p = subprocess.run([BIN, "serve"], env=base, capture_output=True, timeout=10)
        return p.returncode, p.stdout.decode() + p.stderr.decode()

    rc, out = run({"SLACK_SIGNING_SECRET": None})
    assert rc != 0 and "SLACK_SIGNING_SECRET" in out and len(out.strip().splitlines()) == 1
    rc, out = run({"IMAGE_BASE": "https://r.example"})
    assert rc != 0 and "IMAGE_BASE" in out
    rc, out = run({"GITOPS_MANAGED": "maybe"})
    assert rc != 0 and "GITOPS_MANAGED" in out
    rc, out = run({"LISTEN_ADDR": "nonsense"})
    assert rc != 0 and "LISTEN_ADDR" in out
    rc, out = run({"MAX_JOBS": "0"})
    assert rc != 0 and "MAX_JOBS" in out
    rc, out = run({"ROLLOUT_TIMEOUT": "abc"})
    assert rc != 0 and "ROLLOUT_TIMEOUT" in out
    rc, out = run({"KUBE_API_URL": None})
    assert rc != 0 and "KUBE_API_URL" in out
    rc, out = run({"SLACK_CA_FILE": "/nonexistent.pem"})
    assert rc != 0 and "SLACK_CA_FILE" in out
    rc, out = run({"DEPLOY_NAMESPACES": "ok,Not_Valid"})
    assert rc != 0 and "DEPLOY_NAMESPACES" in out
    assert SECRET not in out


def test_startup_refuses_unusable_settings():
    """Issue 12 item 9: each of these used to start a server that could never work."""
    def run(env):
        base = {"PATH": "/usr/bin:/bin", "LISTEN_ADDR": "127.0.0.1:0", "SLACK_SIGNING_SECRET": SECRET,
                "KUBE_API_URL": "http://127.0.0.1:9", "SLACK_CA_FILE": "/etc/ssl/certs/ca-certificates.crt"}
        base.update(env)
        p = subprocess.run([BIN, "serve"], env=base, capture_output=True, timeout=10)
        return p.returncode, p.stdout.decode() + p.stderr.decode()

    for var, value in [("KUBE_API_URL", "http://bad host:99999"),
                       ("RESPONSE_URL_HOSTS", "http://hooks.slack.com/"),
                       ("IMAGE_BASE", "https://123456789.dkr.ecr.us-east-1.amazonaws.com"),
                       ("ROLLOUT_TIMEOUT", "1800"),
                       ("HTTPS_PROXY", "http://user:pa55word@proxy:3128")]:
        rc, out = run({var: value})
        assert rc != 0 and out.startswith(f"deploy-api: {var}"), (var, out)
        assert "pa55word" not in out
    rc, out = run({"ROLLOUT_TIMEOUT": "600", "JOB_TIMEOUT": "300"})
    assert rc != 0 and "JOB_TIMEOUT" in out
    with tempfile.NamedTemporaryFile("w", suffix=".policy") as f:
        f.write("# only comments\n\n")
        f.flush()
        rc, out = run({"DEPLOY_POLICY_FILE": f.name})
        assert rc != 0 and "DEPLOY_POLICY_FILE" in out and "no rules" in out


def test_startup_line_redacts_secrets():
    logs = srv.logs()
    first = json.loads(logs[0])
    assert first["msg"] == "deploy-api starting"
    assert first["listen"] == f"127.0.0.1:{srv.port}"
    assert "version" in first
    cfg = first["config"]  # an object, not JSON packed in a string
    assert cfg["slack_signing_secret"] == "set"
    assert all(SECRET not in line for line in logs)


def test_ipv6_listen():
    try:
        socket.socket(socket.AF_INET6).bind(("::1", 0))
    except OSError:
        return  # no IPv6 on this machine: nothing to test
    from lib import free_port
    port = free_port()
    with Server(env={"LISTEN_ADDR": f"[::1]:{port}"}, wait=False) as s6:
        def up():
            try:
                with socket.create_connection(("::1", port), timeout=1) as c:
                    c.sendall(b"GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n")
                    return status_of(read_response(c)) == 200
            except OSError:
                return False
        wait_until(up, timeout=10, what="IPv6 healthz")


def test_sigterm_exits_zero():
    s2 = Server()
    with s2.connect() as c:
        s2.signal()
        assert s2.wait(timeout=10) == 0
    s2.reader.join(timeout=5)  # the last lines may still be in the pipe
    assert any("deploy-api stopped" in l for l in s2.logs())


def test_http10_keepalive_when_asked():
    with srv.connect() as s:
        s.sendall(b"GET /healthz HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
        r = read_response(s)
        assert status_of(r) == 200 and header_of(r, "Connection") == "keep-alive"
        s.sendall(b"GET /readyz HTTP/1.0\r\n\r\n")
        r = read_response(s)
        assert status_of(r) == 200 and header_of(r, "Connection") == "close"


def test_stdout_reader_that_stops_reading_does_not_stall_the_loop():
    """Logs go to stdout; if whoever reads it stops, the pipe fills. The loop
    must keep answering: lines queue (bounded), then are dropped and counted."""
    s2 = Server(read_stdout=False)
    try:
        from lib import SECRET as _s  # noqa: F401
        # ~400-byte audit lines: far more than the 64 KiB pipe plus the queue
        for i in range(700):
            code, _ = s2.post_slack(f"not_a_command_{i} x y",
                                    response_url="https://hooks.slack.test/commands/T/1/x")
            assert code == 200
        t0 = time.monotonic()
        assert s2.get("/healthz")[0] == 200
        assert time.monotonic() - t0 < 2
        text = s2.get("/metrics")[1].decode()
        dropped = [l for l in text.splitlines() if l.startswith("deploy_api_log_lines_dropped_total")]
        assert int(dropped[0].split()[1]) > 0, dropped
        # the reader comes back: queued lines arrive whole, then a line counting the dropped ones
        s2.reader.start()
        wait_until(lambda: any("log lines dropped" in l for l in s2.logs()), timeout=10,
                   what="the dropped-lines warning")
        for line in s2.logs():
            json.loads(line)  # every line whole
    finally:
        s2.stop()
