"""FakeSlack: an HTTPS receiver for response_url POSTs."""

import json
import threading
import time
import uuid

from ._server import BaseServer, Handler

SLACK_DNS = ("hooks.slack.test", "localhost")


class _SlackHandler(Handler):
    def do_POST(self):
        slack = self.server.owner
        try:
            body = self.read_body()
        except ValueError:
            self.close_connection = True
            return self.reply(400, b"invalid_payload", "text/plain")
        try:
            parsed = json.loads(body)
        except ValueError:
            parsed = None
        resp = slack._next_response()
        entry = {"path": self.path, "headers": self.headers, "body": body,
                 "json": parsed, "time": time.time(), "answer": resp}
        if resp == "stall":
            slack._record(entry)
            return self.stall()
        if resp == "reset":
            slack._record(entry)
            return self.reset()
        if isinstance(resp, int):
            resp = {"code": resp}
        code = resp.get("code", 200)
        headers = dict(resp.get("headers") or {})
        if code == 429:
            headers.setdefault("Retry-After", "1")
        if code == 200 and parsed is None:
            code, text = 400, b"invalid_payload"  # what Slack answers
        else:
            text = resp.get("body", b"ok" if code == 200 else b"error")
        entry["code"] = code
        slack._record(entry)
        self.reply(code, text, "text/html", headers)

    def do_GET(self):
        self.reply(405, b"method not allowed", "text/plain")


class FakeSlack(BaseServer):
    """response_url receiver over TLS (plain HTTP when ca and cert are None).

    FakeSlack(ca=None, cert=None, responses=None, tls12_only=False)
      ca: TestCA; the cert is issued for SLACK_DNS ("hooks.slack.test",
          "localhost"). cert: (cert_path, key_path) instead.
      responses: list consumed one per POST; each item is an int code, a dict
          {"code": 429, "headers": {"Retry-After": "1"}, "body": b"..."},
          "stall" (never answer until stop) or "reset" (TCP RST after the
          headers). When empty, `default` (200, body "ok") answers.
    Attributes: posts (list of dicts: path, headers (case-insensitive),
      body (bytes), json (parsed or None), time, answer, code), responses,
      default, port, host ("hooks.slack.test"), url, errors, tls_errors.
    A POST whose body is not JSON gets 400 "invalid_payload" (as Slack).
    """

    handler_class = _SlackHandler

    def __init__(self, ca=None, cert=None, responses=None, tls12_only=False):
        ctx = None
        if cert is None and ca is not None:
            cert = ca.issue("slack", SLACK_DNS)
        if cert is not None:
            from .ca import TestCA
            ctx = TestCA.server_context(cert[0], cert[1], tls12_only)
        self.cert = cert
        self.scheme = "https" if ctx else "http"
        self._init_server(ctx)
        self.responses = list(responses or [])
        self.default = 200
        self.posts = []
        self.host = SLACK_DNS[0]
        self._cond = threading.Condition()

    @property
    def url(self):
        """Base URL by the DNS name (needs the name to reach 127.0.0.1,
        e.g. through ConnectProxy)."""
        return "%s://%s:%d" % (self.scheme, self.host, self.port)

    @property
    def url_ip(self):
        return "%s://127.0.0.1:%d" % (self.scheme, self.port)

    def response_url(self, host=None):
        """A fresh response_url on this receiver, shaped like Slack's:
        SCHEME://HOST:PORT/commands/T0TEAM/<n>/<random>. host defaults to
        self.host; pass "localhost" to skip name resolution tricks."""
        return "%s://%s:%d/commands/T0TEAM/%d/%s" % (
            self.scheme, host or self.host, self.port,
            int(time.time() * 1000) % 10**12, uuid.uuid4().hex[:24])

    def _next_response(self):
        with self._cond:
            return self.responses.pop(0) if self.responses else self.default

    def _record(self, entry):
        with self._cond:
            self.posts.append(entry)
            self._cond.notify_all()

    def wait_for(self, n=1, timeout=5.0):
        """Wait until at least n POSTs arrived; return all posts so far.
        AssertionError on timeout."""
        end = time.monotonic() + timeout
        with self._cond:
            while len(self.posts) < n:
                left = end - time.monotonic()
                if left <= 0:
                    raise AssertionError(
                        "FakeSlack: %d/%d posts after %.1fs: %r" %
                        (len(self.posts), n, timeout,
                         [p["json"] for p in self.posts]))
                self._cond.wait(min(left, 0.1))
            return list(self.posts)
