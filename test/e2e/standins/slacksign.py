"""Sign requests exactly as Slack does, and build slash-command bodies.

sign(secret, body, ts=None) -> {"X-Slack-Request-Timestamp": ts,
"X-Slack-Signature": "v0=<hex hmac-sha256(secret, b'v0:' + ts + b':' + body)>"}
"""

import hashlib
import hmac
import time
import uuid
from urllib.parse import urlencode

# Slack's published example ("Verifying requests from Slack").
VECTOR_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
VECTOR_TS = "1531420618"
VECTOR_BODY = (
    b"token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow"
    b"&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name="
    b"roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2F"
    b"hooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZ"
    b"RskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce"
    b"8b6703c")
VECTOR_SIG = "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503"


def _b(x):
    return x if isinstance(x, bytes) else str(x).encode()


def signature(secret, body, ts):
    """The X-Slack-Signature value for body at timestamp ts."""
    mac = hmac.new(_b(secret), b"v0:" + _b(ts) + b":" + _b(body),
                   hashlib.sha256)
    return "v0=" + mac.hexdigest()


def sign(secret, body, ts=None):
    """Headers Slack would send with `body` (bytes) at `ts` (int/str,
    default now)."""
    ts = str(int(time.time())) if ts is None else str(ts)
    return {"X-Slack-Request-Timestamp": ts,
            "X-Slack-Signature": signature(secret, body, ts)}


def slash_body(text, user_id="U0TESTER", user_name="tester",
               channel_id="C0DEPLOY", channel_name="deploys",
               team_id="T0TEAM", response_url=None, command="/deploy",
               trigger_id=None, token="xyzz0WbapA4vBCDEFasx0q6G",
               team_domain="testteam", extra=None):
    """A slash-command body (urlencoded bytes) in Slack's field order.
    response_url=None gives a hooks.slack.com-shaped URL; extra: list of
    (key, value) appended at the end (e.g. [("ssl_check", "1")])."""
    if response_url is None:
        response_url = "https://hooks.slack.com/commands/%s/%d/%s" % (
            team_id, int(time.time() * 1000) % 10**12, uuid.uuid4().hex[:24])
    if trigger_id is None:
        trigger_id = "%d.%d.%s" % (int(time.time()), 47445629121,
                                   uuid.uuid4().hex)
    fields = [("token", token), ("team_id", team_id),
              ("team_domain", team_domain), ("channel_id", channel_id),
              ("channel_name", channel_name), ("user_id", user_id),
              ("user_name", user_name), ("command", command), ("text", text),
              ("response_url", response_url), ("trigger_id", trigger_id)]
    fields += list(extra or [])
    return urlencode(fields).encode()


def self_test():
    """Check Slack's published vector; raises AssertionError on mismatch."""
    got = sign(VECTOR_SECRET, VECTOR_BODY, VECTOR_TS)
    assert got["X-Slack-Signature"] == VECTOR_SIG, got
    assert got["X-Slack-Request-Timestamp"] == VECTOR_TS


if __name__ == "__main__":
    self_test()
    print("ok")
