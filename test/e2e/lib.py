"""Helpers for the end-to-end tests: start the real binary, talk raw HTTP
to it, read its audit lines, sign requests as Slack does."""
import json
import os
import resource
import signal
import socket
import subprocess
import threading
import time
import urllib.parse

from standins.slacksign import sign, slash_body  # noqa: F401 (re-exported)

BIN = os.environ.get("DEPLOY_API_BIN", os.path.join(os.path.dirname(__file__), "../../build/deploy-api"))
SECRET = "e2e-signing-secret-0123456789abcdef"
SYSTEM_CA = "/etc/ssl/certs/ca-certificates.crt"


class Skip(Exception):
    """Raised by a test that cannot run here (printed as SKIP, never as PASS)."""


def raise_nofile(n=4096):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = min(max(soft, n), hard)
    resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def wait_until(cond, timeout=10.0, step=0.02, what="condition"):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        v = cond()
        if v:
            return v
        time.sleep(step)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


class Server:
    """The real binary on 127.0.0.1:<free port>, stdout collected as lines."""

    def __init__(self, env=None, args=("serve",), wait=True, binary=None, read_stdout=True):
        self.port = free_port()
        self.env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "LISTEN_ADDR": f"127.0.0.1:{self.port}",
            "SLACK_SIGNING_SECRET": SECRET,
            "IMAGE_BASE": "registry.example",
            "KUBE_API_URL": "http://127.0.0.1:9",  # discard port: nothing listens
            "SLACK_CA_FILE": SYSTEM_CA,
            "RESPONSE_URL_HOSTS": "hooks.slack.test",
        }
        if env:
            for k, v in env.items():
                if v is None:
                    self.env.pop(k, None)
                else:
                    self.env[k] = str(v)
        if "LISTEN_ADDR" in (env or {}) and env["LISTEN_ADDR"]:
            self.port = int(str(env["LISTEN_ADDR"]).rsplit(":", 1)[1])
        self.lines = []
        self.cond = threading.Condition()
        raise_nofile()
        # DEPLOY_API_WRAPPER (e.g. "valgrind --error-exitcode=99") runs the
        # binary under a tool; only for the default binary.
        wrapper = os.environ.get("DEPLOY_API_WRAPPER", "").split() if not binary else []
        self.proc = subprocess.Popen([*wrapper, binary or BIN, *args], env=self.env, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, preexec_fn=raise_nofile)
        self.reader = threading.Thread(target=self._read, daemon=True)
        if read_stdout:  # False: the test plays a log reader that stopped reading
            self.reader.start()
        if wait:
            try:
                wait_until(self._up, timeout=60 if wrapper else 10, what="/healthz")
            except AssertionError:
                self.stop()
                raise AssertionError(f"server did not start: {self.stderr()}")

    def _read(self):
        for raw in self.proc.stdout:
            with self.cond:
                self.lines.append(raw.decode("utf-8", "replace").rstrip("\n"))
                self.cond.notify_all()

    def _up(self):
        if self.proc.poll() is not None:
            raise AssertionError(f"server exited {self.proc.returncode}: {self.stderr()}")
        try:
            return status_of(self.request(b"GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n", timeout=1)) == 200
        except OSError:
            return False

    def stderr(self):
        if self.proc.poll() is None:
            return ""
        return self.proc.stderr.read().decode("utf-8", "replace")

    def connect(self, timeout=5):
        s = socket.create_connection(("127.0.0.1", self.port), timeout=timeout)
        return s

    def request(self, raw, timeout=5):
        """Send raw bytes, return everything read until the server closes or
        one full response arrived (Content-Length honoured)."""
        with self.connect(timeout) as s:
            s.sendall(raw)
            return read_response(s, timeout)

    def get(self, path, headers=""):
        r = self.request(f"GET {path} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n{headers}\r\n".encode())
        return status_of(r), body_of(r)

    def post_slack(self, text, ts=None, secret=SECRET, body=None, headers=None, **fields):
        """A slash command signed as Slack signs it. Returns (status, body bytes)."""
        if body is None:
            fields.setdefault("response_url", "https://hooks.slack.test/commands/T0TEAM/1/abc")
            body = slash_body(text, **fields)
        ts = str(int(time.time())) if ts is None else str(ts)
        h = sign(secret, body, ts)
        if headers is not None:
            h = headers
        hdr = "".join(f"{k}: {v}\r\n" for k, v in h.items())
        raw = (f"POST /deploy HTTP/1.1\r\nHost: t\r\nContent-Type: application/x-www-form-urlencoded\r\n"
               f"Content-Length: {len(body)}\r\nConnection: close\r\n{hdr}\r\n").encode() + body
        r = self.request(raw, timeout=10)
        return status_of(r), body_of(r)

    def audit(self, **match):
        """Audit lines (dicts) whose fields equal match."""
        out = []
        with self.cond:
            lines = list(self.lines)
        for line in lines:
            try:
                d = json.loads(line)
            except ValueError:
                continue
            if d.get("log") != "audit":
                continue
            if all(d.get(k) == v for k, v in match.items()):
                out.append(d)
        return out

    def wait_audit(self, timeout=10, **match):
        return wait_until(lambda: self.audit(**match), timeout=timeout, what=f"audit {match}")

    def logs(self):
        with self.cond:
            return list(self.lines)

    def wait_log(self, text, timeout=10):
        """Wait until a log line contains text (the reader thread may not
        have read it yet when the server already answers); return it."""
        def find():
            return next((l for l in self.logs() if text in l), None)
        return wait_until(find, timeout=timeout, what=f"log line with {text!r}")

    def sync(self, timeout=10):
        """Barrier: return once every line the server wrote before this call
        has been read. Sends a signed command no parser accepts from a unique
        user id and waits for the refusal that names it: the parent writes
        its lines in order, so all earlier ones have arrived by then. (It
        counts as one refused request, outcome bad_command or forbidden.)
        A server that has exited: waits until its stdout is read."""
        import uuid
        if self.proc.poll() is not None:
            # It has exited: all it wrote is in the pipe. Done when the reader
            # reached the end, or (an orphaned job holds the pipe open) when
            # the reader has taken every byte.
            wait_until(lambda: not self.reader.is_alive() or self._stdout_unread() == 0, timeout=timeout,
                       what="stdout read to its end")
            return []
        marker = "U0SYNC" + uuid.uuid4().hex[:12].upper()
        secret = self.env.get("SLACK_SIGNING_SECRET", SECRET)
        code, body = self.post_slack("zz-sync-barrier", secret=secret, user_id=marker)
        assert code == 200, (code, body)
        return self.wait_audit(timeout=timeout, event="refused", user_id=marker)

    def _stdout_unread(self):
        import fcntl
        import termios
        buf = bytearray(4)
        try:
            fcntl.ioctl(self.proc.stdout.fileno(), termios.FIONREAD, buf)
        except (OSError, ValueError):
            return 0
        return int.from_bytes(buf, "little")

    def open_sockets(self):
        """How many sockets the server process holds (listener included)."""
        fd_dir = f"/proc/{self.proc.pid}/fd"
        n = 0
        for fd in os.listdir(fd_dir):
            try:
                n += os.readlink(os.path.join(fd_dir, fd)).startswith("socket:")
            except OSError:
                pass
        return n

    def children(self):
        """PIDs of the server's live child processes."""
        try:
            with open(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children") as f:
                return [int(p) for p in f.read().split()]
        except OSError:
            return []

    def signal(self, sig=signal.SIGTERM):
        self.proc.send_signal(sig)

    def wait(self, timeout=30):
        rc = self.proc.wait(timeout=timeout)
        # Its last lines may still be in the pipe: let the reader take them
        # (bounded: an orphaned job child may hold the pipe open).
        if self.reader.is_alive():
            self.reader.join(timeout=2)
        return rc

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=40)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.reader.is_alive():
            self.reader.join(timeout=5)

    def __enter__(self):
        return self

    def __exit__(self, *a):
        self.stop()


def _take(buf):
    """Split one whole response (head + Content-Length body) off buf:
    (response, rest), or (None, buf) when it is not all there. Interim
    "100 Continue" responses are dropped."""
    while True:
        head_end = buf.find(b"\r\n\r\n")
        if head_end < 0:
            return None, buf
        head = buf[:head_end].decode("latin-1")
        if head.startswith("HTTP/1.1 100"):
            buf = buf[head_end + 4:]
            continue
        n = 0
        for line in head.split("\r\n")[1:]:
            k, _, v = line.partition(":")
            if k.strip().lower() == "content-length":
                n = int(v.strip())
        end = head_end + 4 + n
        if len(buf) < end:
            return None, buf
        return buf[:end], buf[end:]


def read_response(s, timeout=5):
    """Read one HTTP response, or what arrived before the server closed or
    timeout passed."""
    s.settimeout(timeout)
    buf = b""
    while True:
        resp, _ = _take(buf)
        if resp is not None:
            return resp
        try:
            chunk = s.recv(65536)
        except socket.timeout:
            return buf
        if not chunk:
            return buf
        buf += chunk


def read_responses(s, count, timeout=5):
    """Read count pipelined responses from one connection."""
    out = []
    s.settimeout(timeout)
    buf = b""
    while len(out) < count:
        resp, buf = _take(buf)
        if resp is not None:
            out.append(resp)
            continue
        chunk = s.recv(65536)
        if not chunk:
            break
        buf += chunk
    return out


def status_of(resp):
    if not resp.startswith(b"HTTP/1."):
        return None
    return int(resp.split(b" ", 2)[1])


def body_of(resp):
    i = resp.find(b"\r\n\r\n")
    return resp[i + 4:] if i >= 0 else b""


def header_of(resp, name):
    head = resp.split(b"\r\n\r\n", 1)[0].decode("latin-1")
    for line in head.split("\r\n")[1:]:
        k, _, v = line.partition(":")
        if k.strip().lower() == name.lower():
            return v.strip()
    return None


def closed_by_peer(s, timeout):
    """True when the server closes s within timeout (EOF or reset)."""
    s.settimeout(timeout)
    try:
        return s.recv(1) == b""
    except ConnectionResetError:
        return True
    except socket.timeout:
        return False


def slack_json(body):
    return json.loads(body.decode())


def form(**kw):
    return urllib.parse.urlencode(kw).encode()


class Stack:
    """A throwaway CA, the Kubernetes stand-in (TLS, bearer token), the
    Slack response_url receiver (TLS) and the real binary wired to them."""

    def __init__(self, env=None, deployments=(("default", "myservice"),), kube_kwargs=None,
                 slack_responses=None, start_server=True):
        import tempfile
        from standins.ca import TestCA
        from standins.kube import FakeKube
        from standins.slack import FakeSlack
        self.dir = tempfile.mkdtemp(prefix="deploy-api-e2e-")
        self.ca = TestCA(os.path.join(self.dir, "ca"))
        self.token_file = os.path.join(self.dir, "token")
        self.kube = FakeKube(ca=self.ca, token_file=self.token_file, **(kube_kwargs or {}))
        for ns, name in deployments:
            self.kube.add_deployment(ns, name, containers=[
                {"name": name, "image": f"registry.example/{name}:1.3"},
                {"name": "envoy", "image": "envoyproxy/envoy:v1.29"}], replicas=3)
        self.kube.start()
        self.slack = FakeSlack(ca=self.ca, responses=slack_responses)
        self.slack.start()
        self.env = {
            "KUBE_API_URL": f"https://127.0.0.1:{self.kube.port}",
            "KUBE_CA_FILE": self.ca.cert,
            "KUBE_TOKEN_FILE": self.token_file,
            "SLACK_CA_FILE": self.ca.cert,
            "RESPONSE_URL_HOSTS": f"localhost:{self.slack.port}",
            "IMAGE_BASE": "registry.example",
            "ROLLOUT_TIMEOUT": "20",
        }
        self.env.update(env or {})
        self.server = Server(env=self.env) if start_server else None

    def response_url(self):
        return self.slack.response_url(host="localhost")

    def deploy(self, text, **fields):
        fields.setdefault("response_url", self.response_url())
        return self.server.post_slack(text, **fields)

    def stop(self):
        import shutil
        if self.server:
            self.server.stop()
        self.kube.stop()
        self.slack.stop()
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *a):
        self.stop()


def parse_metrics(text):
    """Prometheus text → {"name{labels}": value} (comments skipped)."""
    out = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            key, _, value = line.rpartition(" ")
            out[key] = float(value)
    return out


def metrics_of(server):
    """The server's /metrics as parse_metrics gives them."""
    code, body = server.get("/metrics")
    assert code == 200, (code, body)
    return parse_metrics(body.decode())


def wait_metric(server, key, at_least, timeout=10):
    """Wait until metric key reaches at_least; return its value."""
    def reached():
        v = metrics_of(server).get(key)
        return v if v is not None and v >= at_least else None
    return wait_until(reached, timeout=timeout, what=f"{key} >= {at_least}")


def standin_idle(standin):
    """True when a stand-in (FakeSlack, FakeKube) has no connection open:
    every request that reached it has been answered and recorded."""
    srv = standin._srv
    if srv is None:
        return True
    with srv.conns_lock:
        return not srv.conns


def change_patches(kube, path=None):
    """The PATCH requests on path that change the deployment: without
    deploy-api's record of when a revision went live (issue 9: one JSON
    patch of the deploy-api/live-at annotation after a rollout completes)."""
    return [r for r in kube.requests_matching(method="PATCH", path=path)
            if b"deploy-api~1live-at" not in r["body"]]
