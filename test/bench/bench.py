#!/usr/bin/env python3
"""make bench: the figures of docs/benchmarks.md, measured in one run.

    python3 test/bench/bench.py build/deploy-api

Prints one table and writes it as markdown to build/bench.md (wrk's own
output goes to build/bench-wrk.log). Loopback only; every server, stand-in
and nginx it starts is stopped again, also on errors, Ctrl-C or SIGTERM; the
whole run is bounded by BENCH_DEADLINE seconds (default 240).

What is measured (docs/benchmarks.md says why each is measured this way):
  1. GET /healthz and bad-signature POST /deploy (401) on deploy-api, and the
     same bytes against nginx (1 worker, `return 200`), wrk -t2, 10 and 100
     connections, BENCH_SECONDS each (default 2), BENCH_ROUNDS interleaved
     rounds (default 3; medians reported).
  2. 16 deploys on 16 distinct targets against a Kubernetes stand-in that
     stalls every call; with those 16 children running, signed slash
     commands from a pre-signed pool of unique requests (each sent once),
     wrk -t2 at 10 and 100 connections, and paced at 10 connections. They are all answered "busy"
     (MAX_JOBS=16): the full ack path (HMAC, replay table, form, command,
     policy, job cap, JSON reply) without the fork.
  3. Parent VmRSS: right after start, with 1,000 idle connections, with 16
     jobs running; VmHWM of the job children; /usr/bin/time -v of the CLI
     `deploy` and `status` (the job code path in a process of its own).
  4. Time from the slash command to the result message at FakeSlack, for a
     rollout the stand-in completes at once (20 deploys).
  5. Time from exec to the first answered /healthz (20 starts); binary size;
     image size through ci/image.sh (skipped when it cannot run).
  6. Socket Mode: envelope → ack time at the Socket Mode stand-in (node ws,
     TLS), 60 deploys sent one at a time while every Kubernetes API call
     stalls (the jobs wait, the acks do not); the socket child's VmRSS and
     VmHWM. Skipped when node or ws is missing.

Environment: BENCH_SECONDS (wrk duration, default 2), BENCH_ROUNDS
(default 3), BENCH_PIN=0 (do not pin the server to a CPU of its own),
BENCH_IMAGE=0 skips the image, BENCH_DEADLINE (default 240 s).
"""
import json
import os
import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.abspath(os.path.join(HERE, "../.."))
sys.path.insert(0, os.path.join(HERE, "../e2e"))
BIN = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(TOP, "build/deploy-api"))
os.environ["DEPLOY_API_BIN"] = BIN

from lib import (SECRET, Server, Stack, free_port, raise_nofile, read_response,  # noqa: E402
                 sign, slash_body, status_of, wait_until)

SECONDS = int(os.environ.get("BENCH_SECONDS", "2"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))
# Signed runs: (name, connections, pool size, pace ms per connection). All
# on one server, so the pools together stay under the replay table's 4096
# slots (16 more go to the jobs): each request's signature is new.
SIGNED_RUNS = (("c10", 10, 1500, 0), ("c100", 100, 1500, 0), ("paced", 10, 1000, 10))
DEADLINE = int(os.environ.get("BENCH_DEADLINE", "240"))
THREADS = 2
CONNS = (10, 100)
JOBS = 16
IDLE_CONNS = 1000
STARTS = 20
DEPLOYS = 20
SYSTEM_CA = "/etc/ssl/certs/ca-certificates.crt"
CPUS = sorted(os.sched_getaffinity(0))
# With 2+ CPUs the server under test (deploy-api or nginx) gets the last CPU
# to itself and everything else (wrk, the stand-ins, this script) the rest:
# the figures then say what one core of server does, not how the scheduler
# shared two cores between wrk and the server. BENCH_PIN=0 turns it off.
PIN = os.environ.get("BENCH_PIN", "1") != "0" and len(CPUS) >= 2
SERVER_CPUS = {CPUS[-1]} if PIN else set(CPUS)
CLIENT_CPUS = set(CPUS[:-1]) if PIN else set(CPUS)
OUT_MD = os.path.join(TOP, "build/bench.md")
OUT_LOG = os.path.join(TOP, "build/bench-wrk.log")


class Abort(Exception):
    pass


def on_signal(sig, frame):
    raise Abort("signal %d" % sig)


def say(msg):
    print("bench: " + msg, flush=True)


# ---- small helpers -----------------------------------------------------------

def proc_status(pid, key):
    """A kB value (VmRSS, VmHWM, ...) from /proc/PID/status, or None."""
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def pin(pid, with_children=False):
    """Move a started server (and, for nginx, its workers) to SERVER_CPUS;
    children it forks later inherit that."""
    if not PIN:
        return
    for p in [pid] + (children_of(pid) if with_children else []):
        try:
            os.sched_setaffinity(p, SERVER_CPUS)
        except OSError:
            pass


def cpu_ns(pid):
    """CPU time (ns) the process's main thread has used: /proc/PID/schedstat."""
    try:
        with open("/proc/%d/schedstat" % pid) as f:
            return int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def nfds(pid):
    try:
        return len(os.listdir("/proc/%d/fd" % pid))
    except OSError:
        return 0


def children_of(pid):
    try:
        with open("/proc/%d/task/%d/children" % (pid, pid)) as f:
            return [int(p) for p in f.read().split()]
    except OSError:
        return []


def pct(xs, p):
    """Nearest-rank percentile of a non-empty list."""
    s = sorted(xs)
    k = max(0, min(len(s) - 1, int(round(p / 100.0 * len(s) + 0.5)) - 1))
    return s[k]


def get_status(port, path="/healthz", timeout=1.0):
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(("GET %s HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n" % path).encode())
        return status_of(read_response(s, timeout))


def combine(rs):
    """One figure from several wrk runs of the same thing: medians of
    requests/s, p50 and p99, the largest max, summed counts."""
    return {"rps": statistics.median(r["rps"] for r in rs),
            "rps_all": [r["rps"] for r in rs],
            "p50_us": statistics.median(r["p50_us"] for r in rs),
            "p99_us": statistics.median(r["p99_us"] for r in rs),
            "max_us": max(r["max_us"] for r in rs),
            "cpu_us": statistics.median(r["cpu_us"] for r in rs) if all(
                r.get("cpu_us") is not None for r in rs) else None,
            "requests": sum(r["requests"] for r in rs),
            "err_status": sum(r["err_status"] for r in rs),
            "errors": sum(r["err_connect"] + r["err_read"] + r["err_write"] + r["err_timeout"]
                          for r in rs)}


def fmt_us(us):
    if us is None:
        return "-"
    if us >= 10000:
        return "%.1f ms" % (us / 1000.0)
    if us >= 1000:
        return "%.2f ms" % (us / 1000.0)
    return "%d µs" % us


def fmt_kib(kb):
    return "-" if kb is None else "%d KiB" % kb


def slash_request(port, body, ts, secret=SECRET, bad=False):
    """Raw bytes of a POST /deploy as Slack sends it (keep-alive)."""
    h = sign(secret, body, ts)
    if bad:  # same shape, wrong MAC: the server computes the HMAC, then refuses
        h["X-Slack-Signature"] = "v0=" + "0" * 64
    return (("POST /deploy HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nUser-Agent: Slackbot 1.0 "
             "(+https://api.slack.com/robots)\r\nAccept: application/json,*/*\r\n"
             "Accept-Encoding: gzip,deflate\r\nContent-Type: application/x-www-form-urlencoded\r\n"
             "X-Slack-Signature: %s\r\nX-Slack-Request-Timestamp: %s\r\nContent-Length: %d\r\n\r\n")
            % (port, h["X-Slack-Signature"], h["X-Slack-Request-Timestamp"], len(body))).encode() + body


class QuietServer(Server):
    """lib.Server whose stdout (one audit line per request) is drained in
    large reads and only counted: a line-by-line Python reader would take CPU
    from the server under test at tens of thousands of requests/s, and a
    slow reader would fill the pipe and stall the server's audit writes."""

    def _read(self):
        self.nlines = 0
        self.tail = b""
        self.rejected = []  # audit lines of refused signatures (kept only while the pool runs)
        fd = self.proc.stdout.fileno()
        while True:
            try:
                b = os.read(fd, 1 << 20)
            except OSError:
                break
            if not b:
                break
            self.nlines += b.count(b"\n")
            self.tail = (self.tail + b)[-8192:]
            if b'"event":"rejected"' in b and len(self.rejected) < 2000:
                self.rejected.extend(line for line in b.split(b"\n") if b'"event":"rejected"' in line)


# ---- wrk and nginx ---------------------------------------------------------------

class Runner:
    def __init__(self, tmp):
        self.tmp = tmp
        self.log = open(OUT_LOG, "w")
        self.procs = []  # (name, Popen) to kill on the way out

    def wrk(self, label, port, script, args, conns, seconds, server_pid=None):
        cmd = ["wrk", "-t", str(THREADS), "-c", str(conns), "-d", "%ds" % seconds, "--latency",
               "--timeout", "2s", "-s", os.path.join(HERE, script), "http://127.0.0.1:%d/" % port,
               "--", *args]
        cpu0 = cpu_ns(server_pid) if server_pid else None
        p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.procs.append(("wrk", p))
        try:
            out, _ = p.communicate(timeout=seconds + 30)
        finally:
            if p.poll() is None:
                p.kill()
                p.wait()
            self.procs.remove(("wrk", p))
        cpu1 = cpu_ns(server_pid) if server_pid else None
        self.log.write("==== %s: %s\n%s\n" % (label, " ".join(cmd), out))
        self.log.flush()
        res = None
        for line in out.splitlines():
            if line.startswith("BENCH_JSON "):
                res = json.loads(line[len("BENCH_JSON "):])
        if p.returncode != 0 or res is None:
            raise RuntimeError("wrk failed (%s, exit %s): %s" % (label, p.returncode, out[-600:]))
        res["rps"] = res["requests"] / (res["duration_us"] / 1e6) if res["duration_us"] else 0
        if res.get("active_s"):
            res["rps"] = res["got"] / res["active_s"]
        res["conns"] = conns
        n = res.get("got") or res["requests"]
        res["cpu_us"] = (cpu1 - cpu0) / 1000.0 / n if cpu0 is not None and cpu1 is not None and n else None
        return res

    def start_nginx(self):
        d = os.path.join(self.tmp, "nginx")
        os.makedirs(d)
        port = free_port()
        with open(os.path.join(HERE, "nginx.conf.in")) as f:
            conf = f.read().replace("@PREFIX@", d).replace("@PORT@", str(port))
        with open(os.path.join(d, "nginx.conf"), "w") as f:
            f.write(conf)
        p = subprocess.Popen(["nginx", "-p", d, "-c", os.path.join(d, "nginx.conf"), "-e",
                              os.path.join(d, "error.log")], stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
        self.procs.append(("nginx", p))

        def up():
            if p.poll() is not None:
                raise RuntimeError("nginx exited %s: %s" % (p.returncode, open(os.path.join(d, "error.log")).read()))
            try:
                return get_status(port, "/") == 200
            except OSError:
                return False
        wait_until(up, timeout=10, what="nginx")
        pin(p.pid, with_children=True)
        return port, p

    def stop(self, proc):
        for name, p in list(self.procs):
            if p is proc:
                self._stop(name, p)
                self.procs.remove((name, p))

    def stop_all(self):
        for name, p in reversed(self.procs):
            self._stop(name, p)
        self.procs = []
        self.log.close()

    def _stop(self, name, p):
        """wrk: SIGKILL. nginx: SIGTERM (the master stops its worker); only
        if the master must be killed, kill the workers it had too."""
        if p.poll() is not None:
            return
        if name != "nginx":
            p.kill()
            p.wait()
            return
        kids = children_of(p.pid)
        p.terminate()
        try:
            p.wait(timeout=5)
            return
        except subprocess.TimeoutExpired:
            pass
        for k in kids:
            try:
                os.kill(k, signal.SIGKILL)
            except OSError:
                pass
        p.kill()
        p.wait()


# ---- the phases ------------------------------------------------------------------

def machine():
    model = "?"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    wrk_v = subprocess.run(["wrk", "-v"], capture_output=True, text=True).stdout.split("\n")[0]
    ng = subprocess.run(["nginx", "-v"], capture_output=True, text=True).stderr.strip()
    return {"nproc": os.cpu_count(), "model": model, "kernel": platform.release(),
            "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
            "wrk": wrk_v.split(" [")[0], "nginx": ng.replace("nginx version: ", "")}


def stalled_stack(tmp, bundle):
    st = Stack(env={"ROLLOUT_TIMEOUT": "20", "SHUTDOWN_GRACE": "1"}, start_server=False)
    st.env["SLACK_CA_FILE"] = bundle_with(tmp, bundle, st.ca.cert)
    st.kube.add_fault(kind="stall", count=None)  # every API call hangs until stop()
    return st


def bundle_with(tmp, path, ca_cert):
    """The system CA bundle plus the test CA: trust anchors as many as in
    production (Debian's ~140), and the stand-ins still verify."""
    with open(path, "wb") as out:
        with open(SYSTEM_CA, "rb") as f:
            out.write(f.read())
        with open(ca_cert, "rb") as f:
            out.write(b"\n" + f.read())
    return path


def stop_stack(st):
    """Kube first: its stalls end, children finish, then the server stops
    without waiting for them."""
    try:
        st.kube.stop()
    finally:
        try:
            if st.server:
                st.server.stop()
        finally:
            st.slack.stop()
            shutil.rmtree(st.dir, ignore_errors=True)


def idle_connections(srv, n):
    """Open n idle connections; return parent VmRSS (kB) once all are accepted."""
    base = nfds(srv.proc.pid)
    socks = []
    try:
        for _ in range(n):
            socks.append(socket.create_connection(("127.0.0.1", srv.port), timeout=5))
        wait_until(lambda: nfds(srv.proc.pid) >= base + n, timeout=10,
                   what="%d connections accepted" % n)
        time.sleep(0.2)
        return proc_status(srv.proc.pid, "VmRSS"), nfds(srv.proc.pid) - base
    finally:
        for s in socks:
            s.close()
        try:
            wait_until(lambda: nfds(srv.proc.pid) <= base + 2, timeout=10, what="connections closed")
        except AssertionError:
            pass


def start_jobs(st, n):
    """n deploys on n distinct targets; returns when n children run and each
    has sent its first API call (which the stand-in holds)."""
    for i in range(n):
        code, body = st.deploy("bench-job-%02d 2.%d" % (i, i))
        if code != 200 or b"checking" not in body:
            raise RuntimeError("job %d not accepted: %s %r" % (i, code, body[:200]))
    wait_until(lambda: len(st.server.children()) == n, timeout=10, what="%d children" % n)
    wait_until(lambda: len(st.kube.requests) >= n, timeout=10, what="%d stalled API calls" % n)


def signed_pool(path, port, n, tag):
    """n unique signed /deploy requests (distinct targets, trigger ids and
    response_urls), NUL-separated, as the wrk pool script reads them."""
    ts = int(time.time())
    with open(path, "wb") as f:
        for i in range(n):
            body = slash_body("bench-%s-%05d 3.%d" % (tag, i, i),
                              response_url="https://localhost:%d/commands/T0TEAM/%d/%s%05d" % (
                                  port, 1000 + i, tag, i),
                              trigger_id="%d.47445629121.%s%05d" % (ts, tag, i))
            f.write(slash_request(port, body, ts) + b"\0")


def startup_times(env, n):
    """Seconds from just before exec to the first 200 on /healthz, and VmRSS
    at that moment, for n fresh starts."""
    times, rss = [], []
    for _ in range(n):
        port = free_port()
        e = dict(env, LISTEN_ADDR="127.0.0.1:%d" % port)
        t0 = time.perf_counter()
        p = subprocess.Popen([BIN, "serve"], env=e, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
        try:
            end = t0 + 5
            while True:
                try:
                    if get_status(port) == 200:
                        break
                except OSError:
                    pass
                if p.poll() is not None or time.perf_counter() > end:
                    raise RuntimeError("server did not start (exit %s)" % p.poll())
                time.sleep(0.0002)
            times.append(time.perf_counter() - t0)
            rss.append(proc_status(p.pid, "VmRSS"))
        finally:
            p.send_signal(signal.SIGTERM)
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
    return times, rss


def time_v(argv, env):
    """/usr/bin/time -v of a CLI run: (exit code, max RSS kB, wall s, stdout)."""
    p = subprocess.run(["/usr/bin/time", "-v", *argv], env=env, capture_output=True, text=True,
                       timeout=60)
    rss, wall = None, None
    for line in p.stderr.splitlines():
        line = line.strip()
        if line.startswith("Maximum resident set size"):
            rss = int(line.rsplit(":", 1)[1])
        elif line.startswith("Elapsed (wall clock) time"):
            v = line.rsplit(" ", 1)[1]
            parts = [float(x) for x in v.split(":")]
            wall = parts[-1] + 60 * parts[-2] + (3600 * parts[-3] if len(parts) > 2 else 0)
    return p.returncode, rss, wall, p.stdout.strip()


def e2e_latency(tmp, n):
    """Slash command sent -> result message at FakeSlack, rollout done at once."""
    st = Stack(env={"ROLLOUT_TIMEOUT": "10", "SHUTDOWN_GRACE": "2"})
    out = {"lat": [], "ok": 0, "acks": []}
    try:
        pin(st.server.proc.pid)
        st.kube.rollout_delay = 0
        for i in range(n):
            wait_until(lambda: not st.server.children(), timeout=10, what="previous job reaped")
            version = "1.%d" % (4 + i % 2)
            before = len(st.slack.posts)
            t0 = time.time()
            code, body = st.deploy("myservice " + version)
            out["acks"].append(time.time() - t0)
            if code != 200 or b"checking" not in body:
                raise RuntimeError("deploy %d not accepted: %s %r" % (i, code, body[:200]))
            # two posts: "is deploying" once the PATCH is in, then the result
            posts = st.slack.wait_for(before + 2, timeout=15)
            post = posts[before + 1]
            out["lat"].append(post["time"] - t0)
            text = (post.get("json") or {}).get("text", "")
            if version in text and st.kube.images("default", "myservice").get("myservice", "").endswith(":" + version):
                out["ok"] += 1
            out["sample"] = text
        wait_until(lambda: not st.server.children(), timeout=10, what="last job reaped")
        # The job code path as a process of its own, under /usr/bin/time -v.
        env = dict(st.env, PATH=os.environ.get("PATH", "/usr/bin:/bin"))
        out["cli_deploy"] = time_v([BIN, "deploy", "myservice", "1.9"], env)
        out["cli_status"] = time_v([BIN, "status", "myservice"], env)
    finally:
        stop_stack(st)
    return out


def image_size():
    """(bytes, note) from ci/image.sh (the amd64 image), or (None, why not).
    Its image and container names are this run's own (IMAGE, IMAGE_CTR), so
    an image test running at the same time is never disturbed; removed after."""
    if os.environ.get("BENCH_IMAGE", "1") == "0":
        return None, "skipped (BENCH_IMAGE=0)"
    has_docker = shutil.which("docker") and subprocess.run(
        ["docker", "info"], capture_output=True).returncode == 0
    if not has_docker:
        if not shutil.which("buildah"):
            return None, "skipped: neither docker nor buildah"
        if os.getuid() != 0:
            return None, "skipped: buildah needs root here"
    run_id = f"{os.getpid()}-{int(time.time())}"
    env = dict(os.environ, IMAGE=f"localhost/deploy-api-bench:{run_id}", IMAGE_CTR=f"deploy-api-bench-{run_id}")
    try:
        p = subprocess.run(["sh", os.path.join(TOP, "ci/image.sh"), BIN], capture_output=True,
                           text=True, timeout=300, env=env)
    except subprocess.TimeoutExpired:
        return None, "skipped: ci/image.sh timed out"
    finally:
        subprocess.run(["sh", os.path.join(TOP, "ci/image.sh"), "--remove"], capture_output=True,
                       timeout=120, env=env)
    for line in p.stdout.splitlines():
        m = re.match(r"image: linux/amd64 \S+: (\d+) bytes uncompressed", line)
        if m:
            return int(m.group(1)), "uncompressed, ci/image.sh"
    return None, "ci/image.sh failed: " + (p.stdout + p.stderr).strip().splitlines()[-1:][0][:120]


# ---- the run ------------------------------------------------------------------

SOCKET_ENVELOPES = 60


def socket_acks(tmp, n):
    """Envelope → ack (µs, measured by the stand-in on one monotonic clock)
    for n deploys with the API stalled; the socket child's memory."""
    from standins.slack_socket import SlackSocket, available
    why = available()
    if why:
        return {"skipped": why}
    st = stalled_stack(tmp, os.path.join(tmp, "ca-bundle-sock.crt"))
    sock = SlackSocket(st.ca).start()
    try:
        env = dict(st.env, SLACK_SIGNING_SECRET=None, SLACK_APP_TOKEN=sock.token,
                   SLACK_API_URL=sock.api_url, MAX_JOBS=str(n + 4))
        st.server = QuietServer(env=env)
        sock.wait_ready(2)
        kids = st.server.children()
        child = kids[0] if len(kids) == 1 else None
        rss0 = proc_status(child, "VmRSS") if child else None
        for i in range(n):
            eid = sock.slash("bench-sock-%03d 1.%d" % (i, i), st.response_url())
            sock.wait_ack(eid, timeout=10)
        stt = sock.state()
        sent = {x["envelope_id"]: x["at_us"] for x in stt["sent"]}
        lat = [a["at_us"] - sent[a["envelope_id"]] for a in stt["acks"] if a["envelope_id"] in sent]
        ok = sum(1 for a in stt["acks"] if "checking" in (a["payload"] or {}).get("text", ""))
        return {"lat_us": lat, "accepted": ok, "jobs": len(st.server.children()) - 1,
                "child_rss": rss0, "child_rss_after": proc_status(child, "VmRSS") if child else None,
                "child_hwm": proc_status(child, "VmHWM") if child else None,
                "parent_rss": proc_status(st.server.proc.pid, "VmRSS")}
    finally:
        sock.stop()
        stop_stack(st)


def run(tmp, runner):
    R = {"machine": machine()}
    say("machine: %(nproc)s × %(model)s, Linux %(kernel)s, %(wrk)s, nginx %(nginx)s" % R["machine"])
    R["binary"] = os.path.getsize(BIN)

    # 1-3: the stalled stack.
    st = stalled_stack(tmp, os.path.join(tmp, "ca-bundle.crt"))
    shutil.copy(st.ca.cert, os.path.join(tmp, "kube-ca.crt"))
    try:
        st.server = QuietServer(env=st.env)
        srv = st.server
        pin(srv.proc.pid)
        pid = srv.proc.pid
        R["rss_idle"] = proc_status(pid, "VmRSS")
        say("parent VmRSS idle: %s kB" % R["rss_idle"])
        R["rss_1000"], R["conns_held"] = idle_connections(srv, IDLE_CONNS)
        say("parent VmRSS with %d idle connections: %s kB" % (R["conns_held"], R["rss_1000"]))

        healthz = os.path.join(tmp, "healthz.req")
        with open(healthz, "wb") as f:
            f.write(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        reject = os.path.join(tmp, "reject.req")
        with open(reject, "wb") as f:
            f.write(slash_request(srv.port, slash_body("myservice 9.9"), int(time.time()), bad=True))
        ng_port, ng = runner.start_nginx()
        ng_worker = (children_of(ng.pid) or [None])[0]
        # ROUNDS rounds, each running every (target, connections) pair once,
        # interleaved: a noisy minute hits both servers alike. Per figure the
        # median over rounds; the ratio to nginx is the median of the
        # per-round ratios.
        runs = {}
        for rnd in range(ROUNDS):
            for c in CONNS:
                for name, port, req, spid in (
                        ("healthz", srv.port, healthz, pid), ("nginx-get", ng_port, healthz, ng_worker),
                        ("reject", srv.port, reject, pid), ("nginx-post", ng_port, reject, ng_worker)):
                    r = runner.wrk("%s c=%d round %d" % (name, c, rnd + 1), port, "fixed.lua", [req], c,
                                   SECONDS, spid)
                    runs.setdefault((name, c), []).append(r)
                    say("round %d %-10s c=%-3d %8.0f req/s  p50 %s  p99 %s  max %s  status>399 %d" % (
                        rnd + 1, name, c, r["rps"], fmt_us(r["p50_us"]), fmt_us(r["p99_us"]),
                        fmt_us(r["max_us"]), r["err_status"]))
        R["fixed"] = {k: combine(v) for k, v in runs.items()}
        for name, ref in (("healthz", "nginx-get"), ("reject", "nginx-post")):
            for c in CONNS:
                R["fixed"][(name, c)]["ratio"] = statistics.median(
                    a["rps"] / b["rps"] for a, b in zip(runs[(name, c)], runs[(ref, c)]))
                R["fixed"][(name, c)]["ratios"] = [a["rps"] / b["rps"] for a, b in
                                                   zip(runs[(name, c)], runs[(ref, c)])]
        R["nginx_rss"] = sum(proc_status(k, "VmRSS") or 0 for k in children_of(ng.pid))
        runner.stop(ng)

        # Pools first (cheap), then the jobs: stalled children give up after
        # the client I/O timeout (15 s), the signed runs must fit before.
        pools = {}
        for key, c, n, pace in SIGNED_RUNS:
            pools[key] = os.path.join(tmp, "pool-%s.bin" % key)
            signed_pool(pools[key], st.slack.port, n, key)
        t_jobs = time.monotonic()
        start_jobs(st, JOBS)
        kids = srv.children()
        R["jobs_running"] = len(kids)
        R["rss_jobs"] = proc_status(pid, "VmRSS")
        R["child_hwm"] = [proc_status(k, "VmHWM") for k in kids]
        say("%d children running; parent VmRSS %s kB; child VmHWM %s kB" % (
            len(kids), R["rss_jobs"], max(x or 0 for x in R["child_hwm"])))
        R["signed"] = {}
        srv.rejected = []
        for key, c, n, pace in SIGNED_RUNS:
            before = len(srv.children())
            r = runner.wrk("signed %s c=%d" % (key, c), srv.port, "pool.lua",
                           [pools[key], str(THREADS), str(pace)], c, 3, pid)
            r["children_before"], r["children_after"] = before, len(srv.children())
            r["pace"] = pace
            R["signed"][key] = r
            say("signed %-6s c=%-3d %6.0f req/s  p50 %s  p99 %s  max %s  cpu %s/req (%d sent: %d busy,"
                " %d accepted, %d locked, %d other, %d non-200 %s; children %d→%d)" % (
                    key, c, r["rps"], fmt_us(r["p50_us"]), fmt_us(r["p99_us"]), fmt_us(r["max_us"]),
                    fmt_us(r["cpu_us"]),
                    r["got"], r["busy"], r["accepted"], r["locked"], r["other200"], r["non200"],
                    r["codes"].strip(), before, r["children_after"]))
        R["signed_window_s"] = time.monotonic() - t_jobs
        R["signed_rejects"] = [json.loads(x).get("error") for x in srv.rejected[:20]]
        if R["signed_rejects"]:
            say("refused during the signed runs: %s" % R["signed_rejects"])
        R["rss_after"] = proc_status(pid, "VmRSS")
        R["rss_hwm"] = proc_status(pid, "VmHWM")
    finally:
        stop_stack(st)

    # 4. Slash command to result message.
    say("%d deploys, rollout completed at once by the stand-in…" % DEPLOYS)
    R["e2e"] = e2e_latency(tmp, DEPLOYS)
    say("command → result: median %.1f ms, p90 %.1f ms (%d/%d succeeded)" % (
        statistics.median(R["e2e"]["lat"]) * 1e3, pct(R["e2e"]["lat"], 90) * 1e3, R["e2e"]["ok"], DEPLOYS))

    # 5. Start-up, image.
    env = {"PATH": "/usr/bin:/bin", "SLACK_SIGNING_SECRET": SECRET, "IMAGE_BASE": "registry.example",
           "KUBE_API_URL": "https://127.0.0.1:6443", "KUBE_CA_FILE": os.path.join(tmp, "kube-ca.crt"),
           "KUBE_TOKEN_FILE": os.path.join(tmp, "token"), "SLACK_CA_FILE": os.path.join(tmp, "ca-bundle.crt"),
           "RESPONSE_URL_HOSTS": "hooks.slack.com"}
    with open(env["KUBE_TOKEN_FILE"], "w") as f:
        f.write("t")
    R["start"], R["start_rss"] = startup_times(env, STARTS)
    say("exec → first /healthz: median %.2f ms (min %.2f, max %.2f); VmRSS then: median %d kB" % (
        statistics.median(R["start"]) * 1e3, min(R["start"]) * 1e3, max(R["start"]) * 1e3,
        statistics.median(R["start_rss"])))
    R["image"], R["image_note"] = image_size()
    say("image: %s (%s)" % (R["image"], R["image_note"]))

    # 6. Socket Mode.
    R["socket"] = socket_acks(tmp, SOCKET_ENVELOPES)
    S = R["socket"]
    if "skipped" in S:
        say("socket mode: skipped (%s)" % S["skipped"])
    else:
        say("socket mode: envelope → ack median %s, p99 %s (%d acks, %d accepted, %d jobs stalled); "
            "socket child VmRSS %s → %s kB, VmHWM %s kB" % (
                fmt_us(statistics.median(S["lat_us"])), fmt_us(pct(S["lat_us"], 99)),
                len(S["lat_us"]), S["accepted"], S["jobs"], S["child_rss"], S["child_rss_after"],
                S["child_hwm"]))
    return R


def table(R):
    m = R["machine"]
    L = []
    L.append("deploy-api bench — %s; %s × %s; Linux %s; %s; nginx %s; wrk -t%d; fixed requests: median of %d × %d s runs; %s" % (
        m["date"], m["nproc"], m["model"], m["kernel"], m["wrk"], m["nginx"], THREADS, ROUNDS, SECONDS,
        "server on CPU %s, wrk and stand-ins on CPU %s" % (
            ",".join(map(str, sorted(SERVER_CPUS))), ",".join(map(str, sorted(CLIENT_CPUS))))
        if PIN else "not pinned"))
    L.append("")
    L.append("| what | conns | requests/s | × nginx | p50 | p99 | max | server CPU/req | notes |")
    L.append("|---|---:|---:|---:|---:|---:|---:|---:|---|")
    for key, c, n, pace in SIGNED_RUNS:
        s = R["signed"][key]
        L.append("| signed slash command, 16 jobs running%s | %d | %.0f | | %s | %s | %s | %s | %d sent once "
                 "each: %d busy, %d accepted, %d other; children %d before, %d after |" % (
                     ", paced %d ms per connection" % pace if pace else "", c, s["rps"],
                     fmt_us(s["p50_us"]), fmt_us(s["p99_us"]), fmt_us(s["max_us"]), fmt_us(s["cpu_us"]),
                     s["got"], s["busy"], s["accepted"], s["locked"] + s["other200"] + s["non200"],
                     s["children_before"], s["children_after"]))
    for name, ref, label in (("healthz", "nginx-get", "GET /healthz"),
                             ("reject", "nginx-post", "bad signature → 401")):
        for c in CONNS:
            r, n = R["fixed"][(name, c)], R["fixed"][(ref, c)]
            L.append("| %s | %d | %.0f | %.2f | %s | %s | %s | %s | %s |" % (
                label, c, r["rps"], r["ratio"], fmt_us(r["p50_us"]),
                fmt_us(r["p99_us"]), fmt_us(r["max_us"]), fmt_us(r["cpu_us"]),
                ("%d × 401" % r["err_status"] if name == "reject" else
                 ("%d × status > 399" % r["err_status"] if r["err_status"] else "")) +
                (", %d socket errors/timeouts" % r["errors"] if r["errors"] else "") +
                "; per round %s" % " ".join("%.0f" % x for x in r["rps_all"])))
    for ref, label in (("nginx-get", "nginx `return 200`, GET"), ("nginx-post", "nginx `return 200`, same POST")):
        for c in CONNS:
            n = R["fixed"][(ref, c)]
            L.append("| %s | %d | %.0f | 1.00 | %s | %s | %s | %s | 1 worker; per round %s |" % (
                label, c, n["rps"], fmt_us(n["p50_us"]), fmt_us(n["p99_us"]), fmt_us(n["max_us"]),
                fmt_us(n["cpu_us"]),
                " ".join("%.0f" % x for x in n["rps_all"])))
    L.append("")
    e = R["e2e"]
    hwm = [x for x in R["child_hwm"] if x]
    cd, cs = e["cli_deploy"], e["cli_status"]
    L.append("| figure | value | how |")
    L.append("|---|---:|---|")
    rows = [
        ("parent RSS, idle after start", fmt_kib(R["rss_idle"]),
         "VmRSS once /healthz answers (median of %d fresh starts: %s)" % (
             STARTS, fmt_kib(statistics.median(R["start_rss"])))),
        ("parent RSS, %d idle connections" % IDLE_CONNS, fmt_kib(R["rss_1000"]),
         "%d accepted sockets held open" % R["conns_held"]),
        ("parent RSS, %d jobs running" % JOBS, fmt_kib(R["rss_jobs"]),
         "after the signed runs: %s; VmHWM over the run %s" % (fmt_kib(R["rss_after"]), fmt_kib(R["rss_hwm"]))),
        ("job child peak (stalled in its first API call)", fmt_kib(max(hwm) if hwm else None),
         "VmHWM of the %d children, median %s" % (len(hwm), fmt_kib(statistics.median(hwm) if hwm else None))),
        ("CLI `deploy` peak (whole job path)", fmt_kib(cd[1]),
         "/usr/bin/time -v, exit %d, %.2f s" % (cd[0], cd[2] or 0)),
        ("CLI `status` peak", fmt_kib(cs[1]), "/usr/bin/time -v, exit %d, %.2f s" % (cs[0], cs[2] or 0)),
        ("binary size", "%d bytes" % R["binary"], os.path.relpath(BIN, TOP)),
        ("image size", "%d bytes" % R["image"] if R["image"] else "-", R["image_note"]),
        ("exec → first /healthz", "%.2f ms" % (statistics.median(R["start"]) * 1e3),
         "median of %d starts (min %.2f, max %.2f ms); system CA bundle loaded" % (
             STARTS, min(R["start"]) * 1e3, max(R["start"]) * 1e3)),
        ("slash command → result message", "%.1f ms" % (statistics.median(e["lat"]) * 1e3),
         "median of %d deploys, p90 %.1f ms, %d/%d succeeded; ack median %.2f ms" % (
             len(e["lat"]), pct(e["lat"], 90) * 1e3, e["ok"], len(e["lat"]),
             statistics.median(e["acks"]) * 1e3)),
    ]
    S = R.get("socket") or {"skipped": "not run"}
    if "skipped" in S:
        rows.append(("Socket Mode envelope → ack", "-", "skipped: %s" % S["skipped"]))
    else:
        rows.append(("Socket Mode envelope → ack, API stalled", "%s" % fmt_us(statistics.median(S["lat_us"])),
                     "median of %d deploys sent one at a time, p99 %s, max %s (at the stand-in: "
                     "node ws over TLS, both ends on loopback); %d accepted, %d jobs stalled; "
                     "HTTP ack beside it: median %.2f ms (row above), paced p99 %s" % (
                         len(S["lat_us"]), fmt_us(pct(S["lat_us"], 99)), fmt_us(max(S["lat_us"])),
                         S["accepted"], S["jobs"], statistics.median(e["acks"]) * 1e3,
                         fmt_us(R["signed"]["paced"]["p99_us"]))))
        rows.append(("Socket Mode child RSS", fmt_kib(S["child_rss_after"]),
                     "VmRSS with 2 connections open, after the run (at start %s); VmHWM %s; "
                     "parent then %s" % (fmt_kib(S["child_rss"]), fmt_kib(S["child_hwm"]),
                                          fmt_kib(S["parent_rss"]))))
    for r in rows:
        L.append("| %s | %s | %s |" % r)
    L.append("")
    sat, paced = R["signed"]["c10"], R["signed"]["paced"]
    ratios = [R["fixed"][(a, c)]["ratio"] for a in ("healthz", "reject") for c in CONNS]
    ng10 = R["fixed"][("nginx-post", 10)]
    goals = [
        ("ack p99 < 2 ms at 10 connections, 16 jobs running: paced (%.0f req/s)" % paced["rps"],
         paced["p99_us"] < 2000, "p99 %s" % fmt_us(paced["p99_us"])),
        ("the same, wrk saturating", sat["p99_us"] < 2000,
         "p99 %s (nginx's p99 for a fixed 200 at 10 connections: %s)" % (
             fmt_us(sat["p99_us"]), fmt_us(ng10["p99_us"]))),
        ("healthz and reject throughput ≥ 0.5 × nginx", min(ratios) >= 0.5,
         "ratios: healthz %s, reject %s" % (
             " / ".join("%.2f" % R["fixed"][("healthz", c)]["ratio"] for c in CONNS),
             " / ".join("%.2f" % R["fixed"][("reject", c)]["ratio"] for c in CONNS))),
        ("idle parent RSS < 1 MiB", R["rss_idle"] < 1024,
         "%s" % fmt_kib(R["rss_idle"])),
    ]
    L.append("| goal | result | figure |")
    L.append("|---|---|---|")
    for g, ok, fig in goals:
        L.append("| %s | %s | %s |" % (g, "met" if ok else "**missed**", fig))
    return "\n".join(L) + "\n"


def main():
    if not os.path.exists(BIN):
        print("bench: no binary at %s (run make)" % BIN, file=sys.stderr)
        return 2
    for tool in ("wrk", "nginx"):
        if not shutil.which(tool):
            print("bench: %s not found (sh ci/deps.sh bench)" % tool, file=sys.stderr)
            return 2
    raise_nofile(8192)
    if PIN:
        os.sched_setaffinity(0, CLIENT_CPUS)  # before any thread or child starts
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGALRM, on_signal)
    signal.alarm(DEADLINE)
    os.makedirs(os.path.dirname(OUT_MD), exist_ok=True)
    tmp = tempfile.mkdtemp(prefix="deploy-api-bench-")
    runner = Runner(tmp)
    t0 = time.monotonic()
    try:
        R = run(tmp, runner)
        out = table(R)
    except Abort as e:
        print("bench: aborted (%s)" % e, file=sys.stderr)
        return 1
    finally:
        signal.alarm(0)
        runner.stop_all()
        shutil.rmtree(tmp, ignore_errors=True)
    print()
    print(out)
    with open(OUT_MD, "w") as f:
        f.write(out)
    say("table written to %s, wrk output to %s; %.0f s" % (
        os.path.relpath(OUT_MD, TOP), os.path.relpath(OUT_LOG, TOP), time.monotonic() - t0))
    return 0


if __name__ == "__main__":
    sys.exit(main())
