#!/usr/bin/env python3
"""make demo: deploy-api end to end on one machine, no Slack, no cluster.

Starts the Kubernetes API stand-in and a Slack response_url receiver (both
over TLS with a throwaway CA), runs the real binary against them, sends a
signed `/deploy myservice 1.4` as Slack would, and prints what the channel
sees: the ack, then the result after the rollout; then `/deploy history`.

make demo MODE=socket: the same in Socket Mode. deploy-api has no signing
secret and takes no inbound request: it opens WebSockets to a Socket Mode
stand-in (node + the npm `ws` server), which hands it the slash command as
an envelope; the ack goes back on the socket."""
import json
import os
import re
import sys
import textwrap
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
os.environ.setdefault("DEPLOY_API_BIN", os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else
                                                        os.path.join(HERE, "../../build/deploy-api")))

from lib import Stack  # noqa: E402


def say(who, text):
    # As Slack shows it: the message text escapes &, < and > (mentions stay <@U…>).
    # A date token <!date^UNIX^FORMAT|fallback> shows as the reader's local
    # time; here its fallback (UTC) stands in.
    text = re.sub(r"<!date\^[0-9]+\^[^|>]*\|([^>]*)>", r"\1", text)
    text = text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    print(f"\n  {who}")
    for line in text.splitlines() or [""]:
        print(textwrap.indent(textwrap.fill(line, 96, replace_whitespace=False) if line else "", "    │ "))


def socket_main():
    from standins.slack_socket import SlackSocket, available
    why = available()
    if why:
        print(f"make demo MODE=socket needs {why.split(' is ')[0]}: run `sh ci/deps.sh test`")
        return 1
    t0 = time.monotonic()
    print("Starting a Kubernetes API stand-in, a Slack Socket Mode stand-in (node ws, TLS), "
          "a response_url receiver and deploy-api in Socket Mode…")
    with Stack(env={"ROLLOUT_TIMEOUT": "15"}, start_server=False) as st, \
            SlackSocket(st.ca) as sock:
        st.kube.rollout_delay = 1.0
        from lib import Server
        env = dict(st.env, SLACK_SIGNING_SECRET=None, SLACK_APP_TOKEN=sock.token,
                   SLACK_API_URL=sock.api_url)
        with Server(env=env) as srv:
            ready = sock.wait_ready(2)
            print(f"  deploy-api opened {len(ready['connections'])} WebSockets "
                  f"(apps.connections.open, then wss://localhost:{sock.port}/link/?ticket=…)")
            code, _ = srv.get("/readyz")
            print(f"  /readyz answers {code}: a connection has received hello; "
                  f"POST /deploy answers {srv.post_slack('help')[0]} (no signing secret)\n")
            print("@tester types:  /deploy myservice 1.4   (Slack sends it as an envelope)")
            eid = sock.slash("myservice 1.4", st.response_url())
            ack = sock.wait_ack(eid)[0]
            say(f"deploy-api acks envelope {eid} on the socket "
                f"({ack['payload']['response_type']}):", ack["payload"]["text"])
            posts = st.slack.wait_for(1, timeout=20)
            say("…then, once the rollout is done, posts to the channel:", posts[-1]["json"]["text"])
            print("\nSlack asks the app to reconnect (disconnect: refresh_requested)…")
            old = sock.disconnect()
            sock.wait(lambda x: any(c["conn"] == old for c in x["closes"]) and
                      len([c for c in x["connections"] if c["open"] and c["hello"]]) >= 2,
                      what="a replacement")
            print(f"  a replacement connection said hello before connection {old} was closed")
            for a in srv.audit()[:1]:
                print("\n  audit line:\n    " + json.dumps(a)[:200])
            d = st.kube.get_deployment("default", "myservice")
            imgs = {c["name"]: c["image"] for c in d["spec"]["template"]["spec"]["containers"]}
    ok = "1.4" in imgs.get("myservice", "")
    print(f"\nDemo {'done' if ok else 'FAILED'} in {time.monotonic() - t0:.1f} s; everything cleaned up.")
    return 0 if ok else 1


def main():
    if os.environ.get("MODE", "http") == "socket":
        return socket_main()
    t0 = time.monotonic()
    print("Starting a Kubernetes API stand-in (TLS, bearer token), a Slack receiver and deploy-api…")
    with Stack(env={"ROLLOUT_TIMEOUT": "15"}) as st:
        st.kube.rollout_delay = 1.0
        d = st.kube.get_deployment("default", "myservice")
        imgs = {c["name"]: c["image"] for c in d["spec"]["template"]["spec"]["containers"]}
        print(f"  cluster: deployment default/myservice, containers {imgs}")
        print(f"  deploy-api listening on 127.0.0.1:{st.server.port}\n")

        print("@tester types:  /deploy myservice 1.4")
        code, body = st.deploy("myservice 1.4")
        ack = json.loads(body)
        say(f"deploy-api answers at once (HTTP {code}, {ack['response_type']}):", ack["text"])
        posts = st.slack.wait_for(2, timeout=20)
        say("…once the API took the change, posts to the channel:", posts[0]["json"]["text"])
        say("…then, once the rollout is done:", posts[1]["json"]["text"])

        d = st.kube.get_deployment("default", "myservice")
        imgs = {c["name"]: c["image"] for c in d["spec"]["template"]["spec"]["containers"]}
        cause = d["metadata"].get("annotations", {}).get("kubernetes.io/change-cause", "")
        print(f"\n  cluster now: containers {imgs}")
        print(f"  change-cause: {cause}")

        print("\n@tester types:  /deploy history myservice")
        code, body = st.deploy("history myservice")
        say(f"deploy-api answers (HTTP {code}, {json.loads(body)['response_type']}):",
            json.loads(body)["text"])
        posts = st.slack.wait_for(3, timeout=20)
        say("…then, only to @tester:", posts[-1]["json"]["text"])

        audit = st.server.audit()
        print(f"\n  audit log ({len(audit)} lines, JSON on stdout), e.g.:")
        for a in audit[:2]:
            print("    " + json.dumps(a)[:160])
    ok = posts and "1.4" in imgs.get("myservice", "")
    print(f"\nDemo {'done' if ok else 'FAILED'} in {time.monotonic() - t0:.1f} s; everything cleaned up.")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
