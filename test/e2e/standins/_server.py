"""Shared plumbing: a threaded HTTP/1.1 server on 127.0.0.1:0, optionally
over TLS, whose connections (even stalled ones) close on stop()."""

import http.server
import socket
import ssl
import struct
import threading
import time

MAX_BODY = 4 << 20  # bytes a stand-in accepts in one request body
IDLE_TIMEOUT = 30.0  # seconds a keep-alive connection may sit idle
MAX_STALL = 600.0  # upper bound on any deliberate stall, seconds


def unused_port():
    """A loopback TCP port with nothing listening (for "API down" tests).
    Racy by nature, good enough on a test machine."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def reset_socket(sock):
    """Close `sock` abruptly: SO_LINGER 0 makes the kernel send an RST."""
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                        struct.pack("ii", 1, 0))
    except OSError:
        pass
    try:
        socket.socket.close(sock)
    except OSError:
        pass


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True

    def __init__(self, owner, handler, ssl_ctx):
        self.owner = owner
        self.ssl_ctx = ssl_ctx
        self.stopping = threading.Event()
        self.conns = set()
        self.conns_lock = threading.Lock()
        super().__init__(("127.0.0.1", 0), handler)

    def handle_error(self, request, client_address):
        import sys
        import traceback
        if isinstance(sys.exc_info()[1], (ssl.SSLError, OSError)):
            return  # failed handshake (in tls_errors) or a peer gone away
        self.owner.errors.append(traceback.format_exc(limit=3))


class Handler(http.server.BaseHTTPRequestHandler):
    """Base request handler: TLS handshake in the connection's own thread,
    connection tracking, quiet logging, body reading, reply helpers."""

    protocol_version = "HTTP/1.1"
    server_version = "standin"
    sys_version = ""

    no_close_notify = False  # set by truncate()/reset(): die without it

    def setup(self):
        srv = self.server
        self.raw = self.request
        with srv.conns_lock:
            srv.conns.add(self.raw)
        self.request.settimeout(IDLE_TIMEOUT)
        if srv.ssl_ctx is not None:
            try:
                self.request = srv.ssl_ctx.wrap_socket(
                    self.request, server_side=True,
                    do_handshake_on_connect=False)
                with srv.conns_lock:  # wrap_socket detached the raw one
                    srv.conns.discard(self.raw)
                    self.raw = self.request
                    srv.conns.add(self.raw)
                self.request.settimeout(10)
                self.request.do_handshake()
                self.request.settimeout(IDLE_TIMEOUT)
            except (OSError, ssl.SSLError) as e:
                srv.owner.tls_errors.append(str(e))
                with srv.conns_lock:
                    srv.conns.discard(self.raw)
                self.raw.close()
                raise
        super().setup()

    def version_string(self):
        return self.server_version

    def finish(self):
        try:
            super().finish()
            if self.server.ssl_ctx is not None and not self.no_close_notify:
                self.request.settimeout(0.2)
                self.request.unwrap()  # TLS close_notify, as servers do
        except (OSError, ValueError):
            pass
        finally:
            with self.server.conns_lock:
                self.server.conns.discard(self.raw)
            try:
                self.raw.close()
            except OSError:
                pass

    def handle(self):
        try:
            super().handle()
        except (OSError, ssl.SSLError):
            pass  # peer went away: nothing to report

    def log_message(self, format, *args):
        pass

    def read_body(self):
        """The request body (Content-Length or chunked), bounded."""
        te = (self.headers.get("Transfer-Encoding") or "").lower()
        if "chunked" in te:
            out = b""
            for _ in range(100000):
                line = self.rfile.readline(1024)
                size = int(line.split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline(1024) not in (b"\r\n", b"\n", b""):
                        pass
                    return out
                out += self.rfile.read(size)
                self.rfile.readline(8)
                if len(out) > MAX_BODY:
                    raise ValueError("body too large")
            raise ValueError("too many chunks")
        n = int(self.headers.get("Content-Length") or 0)
        if n < 0 or n > MAX_BODY:
            raise ValueError("bad Content-Length")
        return self.rfile.read(n) if n else b""

    def reply(self, code, body=b"", ctype="application/json", headers=None):
        """Send a complete response with Content-Length."""
        if isinstance(body, str):
            body = body.encode()
        self.send_response(code)
        if ctype:
            self.send_header("Content-Type", ctype)
        for k, v in (headers or {}).items():
            self.send_header(k, str(v))
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if body and self.command != "HEAD":
            self.wfile.write(body)

    def stall(self, seconds=None):
        """Hold the request unanswered until stop() (or `seconds`), then drop
        the connection."""
        limit = MAX_STALL if seconds is None else min(seconds, MAX_STALL)
        self.server.stopping.wait(limit)
        self.close_connection = True

    def wait(self, seconds):
        """Sleep `seconds` unless stop() comes first; True if not stopped."""
        return not self.server.stopping.wait(min(seconds, MAX_STALL))

    def truncate(self, body, declared):
        """Headers declaring `declared` bytes, then part of `body`, then a
        close without TLS close_notify."""
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(declared))
        self.end_headers()
        self.wfile.write(body)
        self.wfile.flush()
        time.sleep(0.05)
        self.close_connection = True
        self.no_close_notify = True
        try:
            socket.socket.shutdown(self.raw, socket.SHUT_RDWR)
        except OSError:
            pass

    def reset(self, partial=b""):
        """Headers of a 200 with a body, a little of it, then a TCP RST."""
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", "4096")
        self.end_headers()
        if partial:
            self.wfile.write(partial)
        self.wfile.flush()
        time.sleep(0.05)
        self.close_connection = True
        self.no_close_notify = True
        reset_socket(self.raw)


class BaseServer:
    """Owner of a _Server: start() in a background thread, stop() cleanly.

    Subclasses set handler_class and call _init_server(ssl_ctx)."""

    handler_class = Handler

    def _init_server(self, ssl_ctx):
        self.errors = []  # handler exceptions (tracebacks), for debugging
        self.tls_errors = []  # failed server-side handshakes (str)
        self._ssl_ctx = ssl_ctx
        self._srv = None
        self._thread = None
        self.port = None

    def start(self):
        self._srv = _Server(self, self.handler_class, self._ssl_ctx)
        self.port = self._srv.server_address[1]
        self._thread = threading.Thread(
            target=self._srv.serve_forever, kwargs={"poll_interval": 0.05},
            name=type(self).__name__, daemon=True)
        self._thread.start()
        return self

    def stop(self):
        srv = self._srv
        if srv is None:
            return
        self._srv = None
        srv.stopping.set()
        srv.shutdown()
        with srv.conns_lock:
            conns = list(srv.conns)
        for c in conns:
            try:
                socket.socket.shutdown(c, socket.SHUT_RDWR)
            except OSError:
                pass
        srv.server_close()
        self._thread.join(5)

    @property
    def stopping(self):
        return self._srv.stopping if self._srv else None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
