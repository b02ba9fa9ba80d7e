"""Run the stand-ins as one process (for `make demo` and the image test).

    cd test/e2e && python3 -m standins.serve --dir DIR [--rollout-delay S]
        [--rollout-mode ok|stuck|fail] [--stall-all] [--delay-all S]
        [--proxy] [--token TOKEN]

Starts a TestCA, a FakeKube with deployment default/myservice (containers
"myservice" registry.example/myservice:1.3 and sidecar "envoy", replicas 3,
revision 1 with its ReplicaSet and a change-cause) and a FakeSlack, writes
DIR/env.json (atomically, last) and runs until SIGTERM or SIGINT.
"""

import argparse
import json
import os
import secrets
import signal
import sys
import threading

from .ca import TestCA
from .kube import FakeKube
from .proxy import ConnectProxy
from .slack import FakeSlack


def main(argv=None):
    ap = argparse.ArgumentParser(prog="standins.serve")
    ap.add_argument("--dir", required=True)
    ap.add_argument("--rollout-delay", type=float, default=0.2)
    ap.add_argument("--rollout-mode", default="ok",
                    choices=("ok", "stuck", "fail"))
    ap.add_argument("--stall-all", action="store_true",
                    help="every kube request stalls until shutdown")
    ap.add_argument("--delay-all", type=float, default=0,
                    help="every kube request waits this long first")
    ap.add_argument("--proxy", action="store_true",
                    help="also run a CONNECT proxy")
    ap.add_argument("--token", default=None)
    ap.add_argument("--max-seconds", type=float, default=4 * 3600,
                    help="exit after this long even without a signal")
    a = ap.parse_args(argv)
    d = os.path.abspath(a.dir)
    os.makedirs(d, exist_ok=True)
    ca = TestCA(os.path.join(d, "ca"))
    token_file = os.path.join(d, "token")
    kube = FakeKube(ca, token=a.token or "demo-" + secrets.token_hex(12),
                    token_file=token_file)
    kube.rollout_delay = a.rollout_delay
    kube.rollout_mode = a.rollout_mode
    kube.add_deployment(
        "default", "myservice",
        containers=[("myservice", "registry.example/myservice:1.3"),
                    ("envoy", "envoyproxy/envoy:v1.29.1")],
        replicas=3,
        change_cause="initial deploy of registry.example/myservice:1.3 by "
                     "<@U0ADMIN> (admin) in #deploys")
    if a.stall_all:
        kube.add_fault("stall", count=None)
    elif a.delay_all:
        kube.add_fault("delay", count=None, seconds=a.delay_all)
    slack = FakeSlack(ca)
    secret_file = os.path.join(d, "signing_secret")
    secret = secrets.token_hex(16)
    with open(secret_file, "w") as f:
        f.write(secret)
    kube.start()
    slack.start()
    proxy = ConnectProxy().start() if a.proxy else None
    env = {
        "kube_url": kube.url, "kube_port": kube.port,
        "kube_ca": ca.cert, "kube_server_name": "kubernetes.default.svc",
        "token_file": token_file, "token": kube.token,
        "slack_url": slack.url, "slack_url_localhost":
            "https://localhost:%d" % slack.port,
        "slack_response_url": slack.response_url(),
        "slack_host": "%s:%d" % (slack.host, slack.port),
        "slack_port": slack.port, "slack_ca": ca.cert,
        "proxy_url": proxy.url if proxy else None,
        "proxy_port": proxy.port if proxy else None,
        "signing_secret_file": secret_file, "signing_secret": secret,
        "namespace": "default", "deployment": "myservice",
        "pid": os.getpid(),
    }
    tmp = os.path.join(d, "env.json.tmp")
    with open(tmp, "w") as f:
        json.dump(env, f, indent=2)
    os.replace(tmp, os.path.join(d, "env.json"))
    done = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: done.set())
    print("standins: kube %s slack %s env %s" % (
        kube.url, slack.url, os.path.join(d, "env.json")), flush=True)
    done.wait(a.max_seconds)
    if proxy:
        proxy.stop()
    slack.stop()
    kube.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
