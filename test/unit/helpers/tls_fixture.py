#!/usr/bin/env python3
"""TLS stand-ins for test_tls.c, on 127.0.0.1 only.

Makes a throwaway CA with openssl in DIR (argv[1]): a server certificate for
DNS:kubernetes.default.svc and DNS:localhost, an expired one, and one from
another CA. Then serves, each on its own port, and prints "name port" lines
followed by "ready":

  ok       TLS, good certificate; paths below
  expired  TLS, expired certificate
  other    TLS, certificate from another CA
  hang     accepts TCP and never answers
  refused  a port nobody listens on
  plain    plain HTTP, same paths as ok
  clientauth  TLS, certificate for the right name whose EKU is clientAuth only
  codesign    TLS, the same with EKU codeSigning only
  proxy    HTTP proxy: CONNECT to any host goes to 127.0.0.1 (port 1 is
           refused with 403); absolute-form GETs are answered by the proxy

Paths: /cl (Content-Length), /chunked, /watch (chunked JSON lines),
/stall (one line, then nothing), /close (read to close, with close_notify),
/bare-close (read to close, no close_notify), /short (body cut short),
/big (64 KiB), /status404, /retry, /echo (the request, back as the body).

Exits when stdin closes or after 60 s, whichever comes first.
"""
import os
import socket
import ssl
import subprocess
import sys
import threading
import time

D = sys.argv[1]


def sh(*args):
    subprocess.run(args, check=True, cwd=D, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                   timeout=30)


def make_certs():
    with open(os.path.join(D, "ext.cnf"), "w") as f:
        f.write("[ext]\nsubjectAltName=DNS:kubernetes.default.svc,DNS:localhost\n"
                "basicConstraints=CA:FALSE\nkeyUsage=digitalSignature\n"
                "extendedKeyUsage=serverAuth\n")
    sh("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out",
       "ca.pem", "-days", "2", "-subj", "/CN=deploy-api test CA")
    sh("openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
       "-nodes", "-keyout", "other.key", "-out", "other-ca.pem", "-days", "2", "-subj",
       "/CN=some other CA")
    for name in ("srv", "exp", "oth"):
        sh("openssl", "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
           "-keyout", name + ".key", "-out", name + ".csr", "-subj",
           "/CN=kubernetes.default.svc")
    sh("openssl", "x509", "-req", "-in", "srv.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
       "-CAcreateserial", "-out", "srv.pem", "-days", "2", "-extfile", "ext.cnf",
       "-extensions", "ext")
    sh("openssl", "x509", "-req", "-in", "oth.csr", "-CA", "other-ca.pem", "-CAkey",
       "other.key", "-CAcreateserial", "-out", "oth.pem", "-days", "2", "-extfile", "ext.cnf",
       "-extensions", "ext")
    # Certificates for the right name, the right CA, issued for other purposes.
    for name, eku in (("cli", "clientAuth"), ("code", "codeSigning")):
        with open(os.path.join(D, name + ".cnf"), "w") as f:
            f.write("[ext]\nsubjectAltName=DNS:kubernetes.default.svc,DNS:localhost\n"
                    "basicConstraints=CA:FALSE\nkeyUsage=digitalSignature\n"
                    "extendedKeyUsage=%s\n" % eku)
        sh("openssl", "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
           "-keyout", name + ".key", "-out", name + ".csr", "-subj", "/CN=kubernetes.default.svc")
        sh("openssl", "x509", "-req", "-in", name + ".csr", "-CA", "ca.pem", "-CAkey", "ca.key",
           "-CAcreateserial", "-out", name + ".pem", "-days", "2", "-extfile", name + ".cnf",
           "-extensions", "ext")
    # An expired certificate needs explicit dates: "openssl ca" takes them.
    with open(os.path.join(D, "ca.cnf"), "w") as f:
        f.write("[ca]\ndefault_ca=c\n[c]\ndatabase=index.txt\nnew_certs_dir=.\n"
                "serial=serial\ndefault_md=sha256\npolicy=p\nunique_subject=no\n"
                "[p]\ncommonName=supplied\n"
                "[ext]\nsubjectAltName=DNS:kubernetes.default.svc,DNS:localhost\n"
                "basicConstraints=CA:FALSE\n")
    open(os.path.join(D, "index.txt"), "w").close()
    with open(os.path.join(D, "serial"), "w") as f:
        f.write("1000\n")
    sh("openssl", "ca", "-batch", "-config", "ca.cnf", "-cert", "ca.pem", "-keyfile", "ca.key",
       "-in", "exp.csr", "-out", "exp.pem", "-startdate", "20200101000000Z", "-enddate",
       "20200201000000Z", "-extensions", "ext", "-notext")


def ctx_for(name):
    c = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    c.load_cert_chain(os.path.join(D, name + ".pem"), os.path.join(D, name + ".key"))
    return c


def read_request(s):
    buf = b""
    while b"\r\n\r\n" not in buf:
        d = s.recv(4096)
        if not d or len(buf) > 65536:
            return None, None
        buf += d
    head, _, rest = buf.partition(b"\r\n\r\n")
    n = 0
    for line in head.split(b"\r\n")[1:]:
        k, _, v = line.partition(b":")
        if k.strip().lower() == b"content-length":
            n = int(v.strip())
    while len(rest) < n:
        d = s.recv(4096)
        if not d:
            break
        rest += d
    return head, rest


def chunk(b):
    return b"%x\r\n%s\r\n" % (len(b), b)


def respond(s, head, body, is_tls):
    path = head.split(b" ")[1] if head.count(b" ") >= 2 else b"/"
    if path == b"/cl":
        s.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nhello")
    elif path == b"/chunked":
        s.sendall(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
        for piece in (b"Wiki", b"pedia ", b"in\r\n\r\nchunks."):
            s.sendall(chunk(piece))
            time.sleep(0.01)
        s.sendall(b"0\r\nX-T: 1\r\n\r\n")
    elif path.startswith(b"/watch"):
        s.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                  b"Transfer-Encoding: chunked\r\n\r\n")
        ev1 = b'{"type":"ADDED","object":{"kind":"Deployment"}}\n'
        ev2 = b'{"type":"MODIFIED","object":{"kind":"Deployment","x":"' + b"y" * 3000 + b'"}}\n'
        s.sendall(chunk(ev1[:10]))
        s.sendall(chunk(ev1[10:] + ev2[:7]))
        time.sleep(0.01)
        s.sendall(chunk(ev2[7:]) + chunk(b"\n") + chunk(b"tail-without-newline"))
        s.sendall(b"0\r\n\r\n")
    elif path == b"/stall":
        s.sendall(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
        s.sendall(chunk(b'{"type":"ADDED"}\n'))
        time.sleep(5)
    elif path == b"/close":
        s.sendall(b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nuntil close")
        if is_tls:
            try:
                s = s.unwrap()
            except (OSError, ssl.SSLError):
                pass
    elif path == b"/bare-close":
        s.sendall(b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nuntil close")
    elif path == b"/short":
        s.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly ten b")
    elif path == b"/big":
        s.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 65536\r\n\r\n" + b"b" * 65536)
    elif path == b"/status404":
        b = (b'{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure",'
             b'"message":"deployments.apps \\"x\\" not found","reason":"NotFound",'
             b'"details":{"name":"x","group":"apps","kind":"deployments"},"code":404}')
        s.sendall(b"HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\n"
                  b"Content-Length: %d\r\n\r\n%s" % (len(b), b))
    elif path == b"/retry":
        s.sendall(b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 429 Too Many Requests\r\n"
                  b"Retry-After: 7\r\nContent-Length: 4\r\n\r\nslow")
    else:  # /echo and anything else
        b = head + b"\r\n\r\n" + body
        s.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(b), b))


def serve_http(conn, ctx):
    conn.settimeout(10)
    s = conn
    try:
        if ctx:
            s = ctx.wrap_socket(conn, server_side=True)
        head, body = read_request(s)
        if head is not None:
            respond(s, head, body, ctx is not None)
    except (OSError, ssl.SSLError, ValueError):
        pass
    finally:
        try:
            s.close()
        except OSError:
            pass


def relay(a, b):
    a.settimeout(10)
    b.settimeout(10)

    def pump(x, y):
        try:
            while True:
                d = x.recv(65536)
                if not d:
                    break
                y.sendall(d)
        except OSError:
            pass
        for z in (x, y):
            try:
                z.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    t = threading.Thread(target=pump, args=(b, a), daemon=True)
    t.start()
    pump(a, b)
    t.join(10)


def serve_proxy(conn):
    conn.settimeout(10)
    try:
        buf = b""
        while b"\r\n\r\n" not in buf:
            d = conn.recv(4096)
            if not d or len(buf) > 65536:
                return
            buf += d
        line = buf.split(b"\r\n")[0].split(b" ")
        if line[0] == b"CONNECT":
            host, _, port = line[1].rpartition(b":")
            if port == b"1":
                conn.sendall(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n")
                return
            up = socket.create_connection(("127.0.0.1", int(port)), timeout=5)
            conn.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
            relay(conn, up)
            up.close()
        else:
            b = b"proxied " + buf.split(b"\r\n")[0]
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(b), b))
    except (OSError, ValueError):
        pass
    finally:
        conn.close()


def listener():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", 0))
    s.listen(64)
    return s


def accept_loop(s, handler):
    while True:
        try:
            c, _ = s.accept()
        except OSError:
            return
        threading.Thread(target=handler, args=(c,), daemon=True).start()


def main():
    make_certs()
    ports = {}
    hung = []
    servers = {
        "ok": lambda c: serve_http(c, ctx_for("srv")),
        "expired": lambda c: serve_http(c, ctx_for("exp")),
        "other": lambda c: serve_http(c, ctx_for("oth")),
        "clientauth": lambda c: serve_http(c, ctx_for("cli")),
        "codesign": lambda c: serve_http(c, ctx_for("code")),
        "hang": lambda c: hung.append(c),
        "plain": lambda c: serve_http(c, None),
        "proxy": serve_proxy,
    }
    for name, h in servers.items():
        s = listener()
        ports[name] = s.getsockname()[1]
        threading.Thread(target=accept_loop, args=(s, h), daemon=True).start()
    r = listener()
    ports["refused"] = r.getsockname()[1]
    r.close()
    for name, p in ports.items():
        print(name, p)
    print("ready", flush=True)

    done = threading.Event()

    def watch_stdin():
        try:
            sys.stdin.read()
        except OSError:
            pass
        done.set()

    threading.Thread(target=watch_stdin, daemon=True).start()
    done.wait(60)
    os._exit(0)


if __name__ == "__main__":
    main()
