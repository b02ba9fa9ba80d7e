"""SlackSocket: the Socket Mode stand-in (slack_socket.js under node, with
the npm `ws` package as its WebSocket server), started and driven from
Python. `npm ci --prefix test/e2e/standins` installs ws (ci/deps.sh)."""

import json
import os
import shutil
import subprocess
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
APP_TOKEN = "xapp-1-A0TEST-1-0123456789abcdef"


def available():
    """None when node and ws are there, else why not."""
    if not shutil.which("node"):
        return "node is not installed"
    if not os.path.isdir(os.path.join(HERE, "node_modules", "ws")):
        return "npm ws is not installed (npm ci --prefix test/e2e/standins)"
    return None


class SlackSocket:
    """SlackSocket(ca, token=APP_TOKEN)
      ca: TestCA; the server certificate is issued for "localhost" (the
          host of the wss:// URLs it hands out).
    Attributes: port (TLS: API and WebSocket), api_url
      ("https://localhost:PORT/api", for SLACK_API_URL), token.
    Methods: start(), stop() (context manager too), state(), config(**kw),
      send(envelope, conn="newest", mode="text", pad_to=None),
      slash(text, response_url, envelope_id=None, retry_attempt=0, **fields)
        → envelope_id, disconnect(conn, reason), close(conn, code, reason),
      drop(conn), ping(conn), wait_ready(n), wait_ack(envelope_id),
      acks_for(envelope_id)."""

    def __init__(self, ca, token=APP_TOKEN):
        self.ca = ca
        self.token = token
        self.proc = None
        self.port = self.control = None
        self._n = 0

    @property
    def api_url(self):
        return "https://localhost:%d/api" % self.port

    def start(self):
        why = available()
        if why:
            raise RuntimeError(why)
        cert, key = self.ca.issue("slack-socket", ("localhost",))
        self.proc = subprocess.Popen(
            ["node", os.path.join(HERE, "slack_socket.js"), "--cert", cert, "--key", key,
             "--token", self.token], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        line = self.proc.stdout.readline()
        if not line:
            err = self.proc.stderr.read().decode("utf-8", "replace")
            raise RuntimeError("slack_socket.js did not start: " + err)
        ports = json.loads(line)
        self.port, self.control = ports["port"], ports["control"]
        return self

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc:
            self.proc.stdout.close()
            self.proc.stderr.close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *a):
        self.stop()

    def _call(self, path, body=None):
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request("http://127.0.0.1:%d%s" % (self.control, path), data=data,
                                     method="GET" if body is None else "POST")
        try:
            with urllib.request.urlopen(req, timeout=10) as r:
                return json.loads(r.read())
        except urllib.error.HTTPError as e:
            raise AssertionError("stand-in %s: %s %s" % (path, e.code, e.read().decode()))

    def state(self):
        return self._call("/state")

    def config(self, **kw):
        return self._call("/config", kw)

    def send(self, envelope, conn="newest", mode="text", pad_to=None):
        """Send an envelope (dict) on a connection; returns its id."""
        body = {"conn": conn, "envelope": envelope, "mode": mode}
        if pad_to:
            body["pad_to"] = pad_to
        return self._call("/send", body)["conn"]

    def slash(self, text, response_url, envelope_id=None, retry_attempt=0, conn="newest",
              mode="text", pad_to=None, **fields):
        """A slash_commands envelope carrying the fields Slack sends."""
        self._n += 1
        eid = envelope_id or "env-%d-%d" % (os.getpid(), self._n)
        payload = {"token": "legacy-unused", "team_id": "T0TEAM", "team_domain": "test",
                   "channel_id": "C0CHAN", "channel_name": "deploys", "user_id": "U0USER",
                   "user_name": "alice", "command": "/deploy", "text": text,
                   "api_app_id": "A0TEST", "is_enterprise_install": "false",
                   "response_url": response_url, "trigger_id": "1.2.3"}
        payload.update(fields)
        env = {"envelope_id": eid, "type": "slash_commands", "payload": payload,
               "accepts_response_payload": True, "retry_attempt": retry_attempt,
               "retry_reason": "timeout" if retry_attempt else ""}
        self.send(env, conn=conn, mode=mode, pad_to=pad_to)
        return eid

    def disconnect(self, conn="newest", reason="refresh_requested"):
        return self._call("/disconnect", {"conn": conn, "reason": reason})["conn"]

    def close(self, conn="newest", code=1000, reason=""):
        return self._call("/close", {"conn": conn, "code": code, "reason": reason})["conn"]

    def drop(self, conn="newest"):
        return self._call("/drop", {"conn": conn})["conn"]

    def ping(self, conn="newest", data="ping"):
        return self._call("/ping", {"conn": conn, "data": data})["conn"]

    def ready(self):
        return [c for c in self.state()["connections"] if c["open"] and c["hello"]]

    def wait(self, cond, timeout=10.0, what="condition"):
        end = time.monotonic() + timeout
        while True:
            st = self.state()
            v = cond(st)
            if v:
                return v
            if time.monotonic() > end:
                raise AssertionError("stand-in: no %s within %.0fs: %r" % (what, timeout, st))
            time.sleep(0.02)

    def wait_ready(self, n=1, timeout=15.0):
        return self.wait(lambda st: len([c for c in st["connections"] if c["open"] and c["hello"]])
                         >= n and st, timeout, "%d open connections" % n)

    def acks_for(self, envelope_id):
        return [a for a in self.state()["acks"] if a["envelope_id"] == envelope_id]

    def wait_ack(self, envelope_id, n=1, timeout=10.0):
        return self.wait(lambda st: (lambda a: a if len(a) >= n else None)(
            [a for a in st["acks"] if a["envelope_id"] == envelope_id]), timeout,
            "ack of " + envelope_id)
