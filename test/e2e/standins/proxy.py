"""ConnectProxy: an HTTP CONNECT proxy on 127.0.0.1 that tunnels bytes.

Every target is reached on 127.0.0.1 (the name in CONNECT is kept only in
the log), so a client can ask for hooks.slack.test:PORT and land on the
FakeSlack listening on that port."""

import select
import socket
import threading
import time

MAX_HEAD = 8192


class ConnectProxy:
    """ConnectProxy(refuse=False, hosts=None)
      refuse: True → every CONNECT gets 403; or a set of "host:port" /
              "host" strings to refuse.
      hosts: dict name → IP to connect to; every other name goes to
             127.0.0.1 (never anything but loopback: only "127.0.0.1" and
             "::1" are accepted as values).
    Methods: start(), stop() (also a context manager), wait_for(n, timeout).
    Attributes: port, url ("http://127.0.0.1:PORT"), connects (list of
      dicts: target "host:port", host, port, headers (dict, lower-case
      keys), allowed (bool), time), refuse, errors.
    Non-CONNECT requests get 405."""

    def __init__(self, refuse=False, hosts=None):
        self.refuse = refuse
        self.hosts = dict(hosts or {})
        for ip in self.hosts.values():
            if ip not in ("127.0.0.1", "::1"):
                raise ValueError("loopback only")
        self.connects = []
        self.errors = []
        self._lock = threading.Condition()
        self._stop = threading.Event()
        self._socks = set()
        self._sock = None
        self.port = None

    @property
    def url(self):
        return "http://127.0.0.1:%d" % self.port

    def start(self):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", 0))
        s.listen(64)
        s.settimeout(0.1)
        self._sock = s
        self.port = s.getsockname()[1]
        self._thread = threading.Thread(target=self._accept, daemon=True,
                                        name="ConnectProxy")
        self._thread.start()
        return self

    def stop(self):
        self._stop.set()
        if self._thread:
            self._thread.join(5)
        with self._lock:
            socks = list(self._socks)
        for c in socks:
            try:
                c.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        if self._sock:
            self._sock.close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def wait_for(self, n=1, timeout=5.0):
        """Wait for at least n CONNECTs; return the log (AssertionError on
        timeout)."""
        end = time.monotonic() + timeout
        with self._lock:
            while len(self.connects) < n:
                left = end - time.monotonic()
                if left <= 0:
                    raise AssertionError("ConnectProxy: %d/%d CONNECTs" %
                                         (len(self.connects), n))
                self._lock.wait(min(left, 0.1))
            return list(self.connects)

    def _accept(self):
        while not self._stop.is_set():
            try:
                c, _ = self._sock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            threading.Thread(target=self._serve, args=(c,),
                             daemon=True).start()

    def _track(self, s, add):
        with self._lock:
            (self._socks.add if add else self._socks.discard)(s)

    def _refused(self, host, port):
        r = self.refuse
        if r is True:
            return True
        if r:
            return host in r or "%s:%d" % (host, port) in r
        return False

    def _serve(self, c):
        self._track(c, True)
        up = None
        try:
            c.settimeout(10)
            head = b""
            while b"\r\n\r\n" not in head and len(head) < MAX_HEAD:
                chunk = c.recv(MAX_HEAD - len(head))
                if not chunk:
                    return
                head += chunk
            if b"\r\n\r\n" not in head:
                c.sendall(b"HTTP/1.1 431 Request Header Fields Too Large\r\n"
                          b"Content-Length: 0\r\nConnection: close\r\n\r\n")
                return
            head, rest = head.split(b"\r\n\r\n", 1)
            lines = head.decode("latin-1").split("\r\n")
            parts = lines[0].split(" ")
            headers = {}
            for line in lines[1:]:
                k, _, v = line.partition(":")
                headers[k.strip().lower()] = v.strip()
            if len(parts) != 3 or parts[0] != "CONNECT":
                c.sendall(b"HTTP/1.1 405 Method Not Allowed\r\n"
                          b"Content-Length: 0\r\nConnection: close\r\n\r\n")
                return
            target = parts[1]
            host, _, port = target.rpartition(":")
            host = host.strip("[]")
            if not port.isdigit() or not host or not 0 < int(port) < 65536:
                c.sendall(b"HTTP/1.1 400 Bad Request\r\n"
                          b"Content-Length: 0\r\nConnection: close\r\n\r\n")
                return
            port = int(port)
            allowed = not self._refused(host, port)
            with self._lock:
                self.connects.append({"target": target, "host": host,
                                      "port": port, "headers": headers,
                                      "allowed": allowed,
                                      "time": time.time()})
                self._lock.notify_all()
            if not allowed:
                c.sendall(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n"
                          b"Connection: close\r\n\r\n")
                return
            ip = self.hosts.get(host, "127.0.0.1")
            try:
                up = socket.create_connection((ip, port), timeout=5)
            except OSError:
                c.sendall(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n"
                          b"Connection: close\r\n\r\n")
                return
            self._track(up, True)
            c.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
            if rest:
                up.sendall(rest)
            self._pump(c, up)
        except OSError as e:
            self.errors.append(str(e))
        finally:
            for s in (c, up):
                if s is not None:
                    self._track(s, False)
                    s.close()

    def _pump(self, a, b):
        peer = {a: b, b: a}
        end = time.monotonic() + 600  # bounded like every stand-in loop
        while not self._stop.is_set() and time.monotonic() < end:
            r, _, _ = select.select([a, b], [], [], 0.1)
            for s in r:
                try:
                    data = s.recv(65536)
                except OSError:
                    return
                if not data:
                    return
                peer[s].sendall(data)
