"""FakeKube: a Kubernetes API server stand-in (apps/v1 Deployments and
ReplicaSets) over TLS, with bearer auth, Status errors, strategic merge /
JSON / merge patches, watches, a simulated rollout controller and fault
injection. See the FakeKube docstring for the API."""

import copy
import datetime
import hashlib
import json
import re
import threading
import time
import uuid
from urllib.parse import parse_qs, urlsplit

from ._server import BaseServer, Handler, MAX_STALL

REV = "deployment.kubernetes.io/revision"
CHANGE_CAUSE = "kubernetes.io/change-cause"
HASH_LABEL = "pod-template-hash"
DEFAULT_USER = "system:serviceaccount:ops-tools:deploy-api"
KUBE_DNS = ("kubernetes.default.svc", "kubernetes.default", "kubernetes",
            "kubernetes.default.svc.cluster.local", "localhost")
# Deployment annotations the controller does not copy to ReplicaSets.
_SKIP_COPY = {REV, "deployment.kubernetes.io/revision-history",
              "deployment.kubernetes.io/desired-replicas",
              "deployment.kubernetes.io/max-replicas",
              "deprecated.deployment.rollback.to",
              "kubectl.kubernetes.io/last-applied-configuration"}
# Strategic merge: lists merged by key, by field name (as in core/v1, apps/v1).
MERGE_KEYS = {"containers": "name", "initContainers": "name",
              "ephemeralContainers": "name", "env": "name", "volumes": "name",
              "volumeMounts": "mountPath", "ports": "containerPort",
              "imagePullSecrets": "name", "conditions": "type",
              "hostAliases": "ip", "topologySpreadConstraints": "topologyKey"}
PATCH_TYPES = ("application/json-patch+json", "application/merge-patch+json",
               "application/strategic-merge-patch+json")
REASONS = {400: "BadRequest", 401: "Unauthorized", 403: "Forbidden",
           404: "NotFound", 405: "MethodNotAllowed", 409: "Conflict",
           410: "Expired", 415: "UnsupportedMediaType", 422: "Invalid",
           429: "TooManyRequests", 500: "InternalError",
           503: "ServiceUnavailable", 504: "Timeout"}
_NAME_RE = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
_HASH_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"


def now_str():
    return datetime.datetime.now(datetime.timezone.utc).strftime(
        "%Y-%m-%dT%H:%M:%SZ")


def status_obj(code, message, reason=None, details=None):
    """A Kubernetes v1 Status object (failure)."""
    st = {"kind": "Status", "apiVersion": "v1", "metadata": {},
          "status": "Failure", "message": message,
          "reason": reason or REASONS.get(code, "Unknown"), "code": code}
    if details:
        st["details"] = details
    return st


class ApiError(Exception):
    def __init__(self, code, message, reason=None, details=None):
        super().__init__(message)
        self.status = status_obj(code, message, reason, details)
        self.code = code


def _dumps(obj):
    return (json.dumps(obj, separators=(",", ":")) + "\n").encode()


def _canon(obj):
    return json.dumps(obj, sort_keys=True, separators=(",", ":"))


def template_hash(template):
    """A pod-template-hash look-alike (10 chars of the safe alphabet)."""
    h = hashlib.sha256(_canon(strip_hash(template)).encode()).digest()
    return "".join(_HASH_ALPHABET[b % len(_HASH_ALPHABET)] for b in h[:10])


def strip_hash(template):
    """Copy of a pod template without the pod-template-hash label."""
    t = copy.deepcopy(template)
    labels = (t.get("metadata") or {}).get("labels")
    if isinstance(labels, dict):
        labels.pop(HASH_LABEL, None)
    return t


# ---- patches -------------------------------------------------------------

def strategic_merge(orig, patch):
    """Apply a strategic merge patch (maps merge recursively, null deletes,
    MERGE_KEYS lists merge by key, $patch replace/delete honoured)."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    if patch.get("$patch") == "replace":
        return strategic_merge({}, {k: v for k, v in patch.items()
                                    if k != "$patch"})
    out = copy.deepcopy(orig) if isinstance(orig, dict) else {}
    for k, v in patch.items():
        if k.startswith("$"):
            continue  # $setElementOrder, $retainKeys, ...: order only
        if v is None:
            out.pop(k, None)
        elif isinstance(v, dict):
            if v.get("$patch") == "delete":
                out.pop(k, None)
            else:
                out[k] = strategic_merge(out.get(k), v)
        elif isinstance(v, list) and k in MERGE_KEYS and \
                all(isinstance(i, dict) for i in v):
            out[k] = _merge_list(out.get(k) or [], v, MERGE_KEYS[k], k)
        else:
            out[k] = copy.deepcopy(v)
    return out


def _merge_list(orig, patch, key, field):
    out = copy.deepcopy(orig) if isinstance(orig, list) else []
    for item in patch:
        if item.get("$patch") == "replace":
            return [strategic_merge({}, i) for i in patch
                    if i.get("$patch") != "replace"]
        if key not in item:
            raise ApiError(422, "map: %s does not contain declared merge key: "
                           "%s" % (_canon(item), key))
        idx = next((i for i, o in enumerate(out)
                    if isinstance(o, dict) and o.get(key) == item[key]), None)
        if item.get("$patch") == "delete":
            if idx is not None:
                del out[idx]
        elif idx is None:
            out.append(strategic_merge({}, item))
        else:
            out[idx] = strategic_merge(out[idx], item)
    return out


def merge_patch(target, patch):
    """RFC 7386 JSON merge patch."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    out = copy.deepcopy(target) if isinstance(target, dict) else {}
    for k, v in patch.items():
        if v is None:
            out.pop(k, None)
        else:
            out[k] = merge_patch(out.get(k), v)
    return out


def _pointer(p):
    if p == "":
        return []
    if not p.startswith("/"):
        raise ApiError(422, "invalid JSON pointer %r" % p)
    return [t.replace("~1", "/").replace("~0", "~") for t in p[1:].split("/")]


def _walk(doc, toks):
    cur = doc
    for t in toks:
        if isinstance(cur, dict) and t in cur:
            cur = cur[t]
        elif isinstance(cur, list) and t.isdigit() and int(t) < len(cur):
            cur = cur[int(t)]
        else:
            raise ApiError(422, "path not found: /" + "/".join(toks))
    return cur


def _jp_get(doc, path):
    return _walk(doc, _pointer(path))


def _jp_remove(doc, path):
    toks = _pointer(path)
    if not toks:
        raise ApiError(422, "cannot remove the whole document")
    parent = _walk(doc, toks[:-1])
    last = toks[-1]
    if isinstance(parent, dict) and last in parent:
        return parent.pop(last)
    if isinstance(parent, list) and last.isdigit() and int(last) < len(parent):
        return parent.pop(int(last))
    raise ApiError(422, "jsonpatch remove operation does not apply: doc is "
                   "missing path: " + path)


def _jp_add(doc, path, value, replace=False):
    toks = _pointer(path)
    if not toks:
        return copy.deepcopy(value)
    parent = _walk(doc, toks[:-1])
    last = toks[-1]
    if isinstance(parent, dict):
        if replace and last not in parent:
            raise ApiError(422, "jsonpatch replace operation does not apply: "
                           "doc is missing key: " + path)
        parent[last] = copy.deepcopy(value)
    elif isinstance(parent, list):
        if last == "-" and not replace:
            parent.append(copy.deepcopy(value))
        elif last.isdigit() and int(last) <= len(parent) - (1 if replace else 0):
            if replace:
                parent[int(last)] = copy.deepcopy(value)
            else:
                parent.insert(int(last), copy.deepcopy(value))
        else:
            raise ApiError(422, "jsonpatch: index out of range: " + path)
    else:
        raise ApiError(422, "jsonpatch: parent is not a container: " + path)
    return doc


def json_patch(doc, ops):
    """RFC 6902: add, remove, replace, test, move, copy."""
    if not isinstance(ops, list):
        raise ApiError(400, "json patch must be an array of operations",
                       "BadRequest")
    doc = copy.deepcopy(doc)
    for op in ops:
        if not isinstance(op, dict) or not isinstance(op.get("path"), str):
            raise ApiError(400, "invalid json patch operation", "BadRequest")
        kind, path = op.get("op"), op["path"]
        if kind in ("add", "replace", "test") and "value" not in op:
            raise ApiError(422, "jsonpatch %s operation needs a value" % kind)
        if kind == "add":
            doc = _jp_add(doc, path, op["value"])
        elif kind == "replace":
            doc = _jp_add(doc, path, op["value"], replace=True)
        elif kind == "remove":
            _jp_remove(doc, path)
        elif kind == "test":
            if _canon(_jp_get(doc, path)) != _canon(op["value"]):
                raise ApiError(422, "the server rejected our request due to "
                               "an error in our request: testing value %s "
                               "failed" % path)
        elif kind in ("move", "copy"):
            src = op.get("from")
            if not isinstance(src, str):
                raise ApiError(422, "jsonpatch %s needs from" % kind)
            val = _jp_remove(doc, src) if kind == "move" else \
                copy.deepcopy(_jp_get(doc, src))
            doc = _jp_add(doc, path, val)
        else:
            raise ApiError(422, "Unexpected kind: %r" % kind)
    return doc


# ---- label selectors -----------------------------------------------------

def parse_selector(text):
    """Equality/existence selectors: k=v, k==v, k!=v, k, !k (comma list).
    Returns a list of (op, key, value)."""
    out = []
    for part in filter(None, (p.strip() for p in (text or "").split(","))):
        if "!=" in part:
            k, v = part.split("!=", 1)
            out.append(("!=", k.strip(), v.strip()))
        elif "==" in part:
            k, v = part.split("==", 1)
            out.append(("=", k.strip(), v.strip()))
        elif "=" in part:
            k, v = part.split("=", 1)
            out.append(("=", k.strip(), v.strip()))
        elif part.startswith("!"):
            out.append(("!", part[1:].strip(), None))
        elif " in " in part or " notin " in part:
            raise ApiError(400, "set-based selectors are not supported by "
                           "the stand-in: " + part, "BadRequest")
        else:
            out.append(("exists", part, None))
    return out


def selector_matches(sel, labels):
    labels = labels or {}
    for op, k, v in sel:
        if op == "=" and labels.get(k) != v:
            return False
        if op == "!=" and labels.get(k) == v:
            return False
        if op == "exists" and k not in labels:
            return False
        if op == "!" and k in labels:
            return False
    return True


def _normalize_containers(cs, default_name=None):
    out = []
    for c in cs or []:
        if isinstance(c, (tuple, list)):
            c = {"name": c[0], "image": c[1]}
        out.append(copy.deepcopy(c))
    return out


def _default_container(c):
    image = c.get("image") or ""
    tag_latest = ":" not in image.rsplit("/", 1)[-1] and "@" not in image \
        or image.endswith(":latest")
    c.setdefault("resources", {})
    c.setdefault("terminationMessagePath", "/dev/termination-log")
    c.setdefault("terminationMessagePolicy", "File")
    c.setdefault("imagePullPolicy", "Always" if tag_latest else "IfNotPresent")


# ---- faults --------------------------------------------------------------

class Fault:
    """One injected fault. Matches requests by method (exact, None=any),
    path (substring of the URL path, None=any), query (substring of the raw
    query, None=any) and watch (True: watch requests only, False: never
    watches, None: both). `count` matching requests get it (None: all).
    kind: "status" (code, reason, message, headers), "stall" (never answer
    until stop or `seconds`), "delay" (wait `seconds`, then answer
    normally), "truncate", "garbage", "reset", "close". `hits` counts uses."""

    def __init__(self, kind="status", method=None, path=None, query=None,
                 watch=None, count=1, code=500, reason=None, message=None,
                 headers=None, seconds=None, body=None):
        self.kind, self.method, self.path, self.query = kind, method, path, query
        self.watch, self.count, self.code = watch, count, code
        self.reason, self.message = reason, message
        self.headers = dict(headers or {})
        self.seconds, self.body = seconds, body
        self.hits = 0

    def matches(self, method, path, query, is_watch):
        if self.count is not None and self.hits >= self.count:
            return False
        if self.method and self.method.upper() != method:
            return False
        if self.path is not None and self.path not in path:
            return False
        if self.query is not None and self.query not in query:
            return False
        if self.watch is not None and bool(self.watch) != is_watch:
            return False
        return True

    def __repr__(self):
        return "Fault(%s %s %s hits=%d/%s)" % (self.kind, self.method,
                                               self.path, self.hits, self.count)


# ---- Leases (coordination.k8s.io/v1) and the discovery kubectl needs ----

LEASE_GROUP = "coordination.k8s.io"
_LEASE_ROUTE = re.compile(r"^/apis/coordination\.k8s\.io/v1/namespaces/([^/]+)"
                          r"/leases(?:/([^/]+))?/?$")
_MICROTIME_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?"
                           r"(Z|[+-]\d\d:\d\d)$")
_VERBS = ["create", "delete", "deletecollection", "get", "list", "patch",
          "update", "watch"]


def _resource(name, singular, kind):
    return {"name": name, "singularName": singular, "namespaced": True,
            "kind": kind, "verbs": _VERBS}


def _discovery(kube, path):
    """The legacy discovery documents (what kubectl reads when the server
    offers no aggregated discovery), or None."""
    groups = [("apps", [_resource("deployments", "deployment", "Deployment"),
                        _resource("replicasets", "replicaset", "ReplicaSet")]),
              (LEASE_GROUP, [_resource("leases", "lease", "Lease")])]
    if path == "/api":
        return {"kind": "APIVersions", "versions": ["v1"],
                "serverAddressByClientCIDRs": [{
                    "clientCIDR": "0.0.0.0/0",
                    "serverAddress": "127.0.0.1:%d" % kube.port}]}
    if path == "/api/v1":
        return {"kind": "APIResourceList", "groupVersion": "v1",
                "resources": []}

    def group(g):
        gv = {"groupVersion": g + "/v1", "version": "v1"}
        return {"name": g, "versions": [gv], "preferredVersion": gv}
    if path == "/apis":
        return {"kind": "APIGroupList", "apiVersion": "v1",
                "groups": [group(g) for g, _ in groups]}
    for g, res in groups:
        if path == "/apis/" + g:
            return dict(group(g), kind="APIGroup", apiVersion="v1")
        if path == "/apis/%s/v1" % g:
            return {"kind": "APIResourceList", "apiVersion": "v1",
                    "groupVersion": g + "/v1", "resources": res}
    return None


def _lease_error(code, name, what):
    reason = {404: "NotFound", 409: "AlreadyExists" if what == "exists"
              else "Conflict"}.get(code)
    msg = {"exists": 'leases.%s "%s" already exists',
           "missing": 'leases.%s "%s" not found',
           "modified": 'Operation cannot be fulfilled on leases.%s "%s": '
                       'the object has been modified; please apply your '
                       'changes to the latest version and try again'}
    if what in msg:
        what = msg[what] % (LEASE_GROUP, name)
    return ApiError(code, what, reason, details={
        "name": name, "group": LEASE_GROUP, "kind": "leases"})


def _lease_check(obj, ns, name):
    """Validate a Lease as the API server does (the parts we use)."""
    if not isinstance(obj, dict) or obj.get("kind", "Lease") != "Lease":
        raise ApiError(400, "the body of the request was not a Lease")
    md = obj.get("metadata") or {}
    if md.get("namespace", ns) != ns:
        raise ApiError(400, "the namespace of the provided object does not "
                       "match the namespace sent on the request")
    if not _NAME_RE.match(md.get("name") or "") and not re.match(
            r"^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$", md.get("name") or ""):
        raise ApiError(422, 'Lease.coordination.k8s.io "%s" is invalid: '
                       "metadata.name: Invalid value" % md.get("name"))
    if name is not None and md.get("name") != name:
        raise ApiError(400, "the name of the object (%s) does not match the "
                       "name on the URL (%s)" % (md.get("name"), name))
    spec = obj.get("spec") or {}
    for k in ("acquireTime", "renewTime"):
        v = spec.get(k)
        if v is not None and not (isinstance(v, str) and
                                  _MICROTIME_RE.match(v)):
            raise ApiError(400, "spec.%s: invalid MicroTime %r" % (k, v))
    d = spec.get("leaseDurationSeconds")
    if d is not None and (not isinstance(d, int) or d <= 0):
        raise ApiError(422, 'Lease.coordination.k8s.io "%s" is invalid: '
                       "spec.leaseDurationSeconds: must be greater than 0"
                       % md.get("name"))


def _lease_route(h, kube, path, body):
    """Serve discovery and leases; False when path is neither."""
    doc = _discovery(kube, path) if h.command == "GET" else None
    if doc is not None:
        h.reply(200, _dumps(doc))
        return True
    m = _LEASE_ROUTE.match(path)
    if not m:
        return False
    ns, name = m.group(1), m.group(2)
    verb = {"POST": "create", "PUT": "update", "DELETE": "delete",
            "GET": "get" if name else "list"}.get(h.command)
    if verb is None or (verb == "create" and name) or \
            (verb in ("update", "delete") and not name):
        raise ApiError(405, "the server does not allow this method on the "
                       "requested resource")
    if (verb, "leases") in kube.deny:
        raise ApiError(403, 'leases.%s%s is forbidden: User "%s" cannot %s '
                       'resource "leases" in API group "%s" in the namespace '
                       '"%s"' % (LEASE_GROUP, ' "%s"' % name if name else "",
                                 kube.user, verb, LEASE_GROUP, ns),
                       details={"name": name or "", "group": LEASE_GROUP,
                                "kind": "leases"})
    try:
        obj = json.loads(body) if body else None
    except ValueError:
        raise ApiError(400, "the body of the request was not valid JSON")
    code, out = kube._lease_op(verb, ns, name, obj)
    h.reply(code, _dumps(out))
    return True


# ---- the server ----------------------------------------------------------

_ROUTE = re.compile(r"^/apis/apps/v1/namespaces/([^/]+)/"
                    r"(deployments|replicasets)(?:/([^/]+))?/?$")


class _KubeHandler(Handler):
    def do_GET(self):
        self._dispatch()

    do_PATCH = do_POST = do_PUT = do_DELETE = do_GET

    def _send_status(self, code, st, headers=None):
        self.reply(code, _dumps(st), headers=headers)

    def _dispatch(self):
        kube = self.server.owner
        u = urlsplit(self.path)
        path, query = u.path, u.query
        params = {k: v[-1] for k, v in
                  parse_qs(query, keep_blank_values=True).items()}
        try:
            body = self.read_body()
        except ValueError as e:
            self.close_connection = True
            return self._send_status(400, status_obj(400, str(e)))
        try:
            parsed = json.loads(body) if body else None
        except ValueError:
            parsed = None
        is_watch = params.get("watch", "") in ("1", "true", "True")
        kube._log({"method": self.command, "path": path, "query": query,
                   "params": params, "headers": self.headers, "body": body,
                   "json": parsed, "watch": is_watch, "time": time.time()})
        fault = kube._take_fault(self.command, path, query, is_watch)
        if fault is not None and self._fault(fault, path):
            return
        try:
            self._route(kube, path, params, body, is_watch)
        except ApiError as e:
            self._send_status(e.code, e.status)

    def _fault(self, f, path):
        """Carry out fault f; True if the request is finished."""
        m = _ROUTE.match(path)
        name = (m.group(3) if m else None) or ""
        if f.kind == "delay":
            if not self.wait(f.seconds or 0):
                self.close_connection = True
                return True
            return False
        if f.kind == "stall":
            self.stall(f.seconds)
            return True
        if f.kind == "close":
            self.close_connection = True
            return True
        if f.kind == "truncate":
            self.truncate(f.body or b'{"kind":"Deployment","apiVersion":"apps'
                          b'/v1","metadata":{"name":"' + name.encode(), 4096)
            return True
        if f.kind == "garbage":
            self.reply(f.code if f.code != 500 else 200,
                       f.body or b"\x00\xff<html>garbage{{{\"kind\":[,]}\x1b")
            return True
        if f.kind == "reset":
            self.reset(f.body or b'{"kind":"Deployment","apiVersion":')
            return True
        code = f.code
        message = f.message
        headers = dict(f.headers)
        details = None
        if message is None:
            message = {
                409: 'Operation cannot be fulfilled on deployments.apps "%s":'
                     ' the object has been modified; please apply your '
                     'changes to the latest version and try again' % name,
                422: 'Deployment.apps "%s" is invalid: spec.template.spec.'
                     'containers[0].image: Required value' % name,
                429: "Too many requests, please try again later.",
                500: "Internal error occurred: injected fault",
                503: "The server is currently unable to handle the request",
                410: "too old resource version: 1 (2)",
            }.get(code, "injected fault %d" % code)
        if code == 429:
            headers.setdefault("Retry-After", "1")
            details = {"retryAfterSeconds": int(headers["Retry-After"])}
        self._send_status(code, status_obj(code, message, f.reason, details),
                          headers)
        return True

    def _route(self, kube, path, params, body, is_watch):
        if path in ("/healthz", "/readyz", "/livez"):
            return self.reply(200, b"ok", "text/plain")
        if kube.token is not None:
            auth = self.headers.get("Authorization") or ""
            if auth != "Bearer " + kube.token:
                raise ApiError(401, "Unauthorized")
        if path == "/version":
            return self.reply(200, _dumps(kube.version))
        if _lease_route(self, kube, path, body):
            return
        m = _ROUTE.match(path)
        if not m:
            raise ApiError(404, "the server could not find the requested "
                           "resource", details={})
        ns, resource, name = m.group(1), m.group(2), m.group(3)
        method = self.command
        if method == "GET":
            verb = "get" if name else ("watch" if is_watch else "list")
        elif method == "PATCH" and name:
            verb = "patch"
        else:
            raise ApiError(405, "the server does not allow this method on "
                           "the requested resource")
        kube._authorize(verb, resource, ns, name)
        if resource == "deployments":
            if verb == "get":
                return self.reply(200, _dumps(kube._get(ns, name)))
            if verb == "patch":
                ctype = (self.headers.get("Content-Type") or "") \
                    .split(";")[0].strip().lower()
                code, obj = kube._patch(ns, name, ctype, body)
                return self.reply(code, _dumps(obj))
            if verb == "watch":
                return self._watch(kube, ns, params)
            return self.reply(200, _dumps(kube._list_deployments(ns, params)))
        if verb == "get":
            return self.reply(200, _dumps(kube._get_rs(ns, name)))
        if verb == "list":
            return self.reply(200, _dumps(kube._list_rs(ns, params)))
        raise ApiError(405, "watching replicasets is not supported by the "
                       "stand-in")

    def _chunk(self, data):
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))

    def _watch(self, kube, ns, params):
        fsel = params.get("fieldSelector", "")
        want = None
        if fsel:
            if not fsel.startswith("metadata.name="):
                raise ApiError(400, "field label not supported: " + fsel)
            want = fsel.split("=", 1)[1]
        lsel = parse_selector(params.get("labelSelector"))
        rv = params.get("resourceVersion", "")
        try:
            timeout = float(params.get("timeoutSeconds") or MAX_STALL)
        except ValueError:
            raise ApiError(400, "invalid timeoutSeconds")
        timeout = min(max(timeout, 0), MAX_STALL)
        if rv and not rv.isdigit():
            raise ApiError(400, "invalid resourceVersion %r" % rv)
        expired = kube._watch_expired(rv)
        if expired == "http":
            raise ApiError(410, "too old resource version: %s (%s)" %
                           (rv, kube._rv), "Expired")
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        if expired == "event":
            st = status_obj(410, "too old resource version: %s (%s)" %
                            (rv, kube._rv), "Expired")
            self._chunk(_dumps({"type": "ERROR", "object": st}))
            self.wfile.write(b"0\r\n\r\n")
            return

        def match(ev_ns, obj):
            md = obj["metadata"]
            return ev_ns == ns and (want is None or md["name"] == want) and \
                selector_matches(lsel, md.get("labels"))

        deadline = time.monotonic() + timeout
        stopping = self.server.stopping
        with kube._cond:
            if rv in ("", "0"):
                pending = [("ADDED", copy.deepcopy(d))
                           for (dns, _), d in sorted(kube._deployments.items())
                           if match(dns, d)]
                last = kube._rv
            else:
                last = int(rv)
                pending = []
        for _ in range(1000000):
            for typ, obj in pending:
                self._chunk(_dumps({"type": typ, "object": obj}))
            if pending:
                self.wfile.flush()
            pending = []
            left = deadline - time.monotonic()
            if left <= 0 or stopping.is_set():
                break
            with kube._cond:
                evs = [e for e in kube._events if e[0] > last]
                if not evs:
                    kube._cond.wait(min(left, 0.25))
                    evs = [e for e in kube._events if e[0] > last]
                for erv, ens, typ, obj in evs:
                    last = max(last, erv)
                    if match(ens, obj):
                        pending.append((typ, obj))
        self.wfile.write(b"0\r\n\r\n")


class FakeKube(BaseServer):
    """Kubernetes API stand-in. Construct, add deployments, start().

    FakeKube(ca=None, cert=None, token="test-token-1", token_file=None,
             allowed_namespaces=None, tls12_only=False)
      ca: a TestCA (server cert issued for KUBE_DNS) or None for plain http.
      cert: (cert_path, key_path) to serve instead (expired, other CA,
            wrong name). token: required bearer token (None: no auth).
      token_file: path; the token is written there now and on rotate_token.
    Attributes (settable at any time): token, allowed_namespaces (None or a
    set), deny (set of (verb, resource), e.g. ("list","replicasets")),
    user, rollout_mode ("ok" | "stuck" | "fail"), rollout_delay (seconds,
    0.2), requests (list of dicts: method, path, query, params, headers
    (case-insensitive), body (bytes), json, watch, time), faults, port,
    url, errors, tls_errors.
    """

    handler_class = _KubeHandler

    def __init__(self, ca=None, cert=None, token="test-token-1",
                 token_file=None, allowed_namespaces=None, tls12_only=False):
        ctx = None
        if cert is None and ca is not None:
            cert = ca.issue("kube-apiserver", KUBE_DNS)
        if cert is not None:
            from .ca import TestCA
            ctx = TestCA.server_context(cert[0], cert[1], tls12_only)
        self.cert = cert
        self.scheme = "https" if ctx else "http"
        self._init_server(ctx)
        self.token = token
        self.token_file = token_file
        if token_file and token is not None:
            self._write_token()
        self.allowed_namespaces = set(allowed_namespaces) \
            if allowed_namespaces is not None else None
        self.deny = set()
        self.user = DEFAULT_USER
        self.rollout_mode = "ok"
        self.rollout_delay = 0.2
        self.version = {"major": "1", "minor": "29", "gitVersion": "v1.29.4",
                        "platform": "linux/amd64"}
        self.requests = []
        self.faults = []
        self._lock = threading.RLock()
        self._cond = threading.Condition(self._lock)
        self._rv = 1000
        self._deployments = {}
        self._rs = {}
        self._events = []  # (rv:int, ns, type, object snapshot)
        self._expire = []  # pending "event"/"http" answers for watches
        self._timers = []
        self.admission = []  # issue 9: callables(deployment) -> deployment, on PATCH
        self.fail_images = set()  # issue 9: templates running one of these fail

    # -- lifecycle / config --

    @property
    def url(self):
        return "%s://127.0.0.1:%d" % (self.scheme, self.port)

    def stop(self):
        with self._lock:
            timers, self._timers = self._timers, []
        for t in timers:
            t.cancel()
        with self._cond:
            self._cond.notify_all()
        super().stop()

    def _write_token(self):
        tmp = self.token_file + ".tmp"
        with open(tmp, "w") as f:
            f.write(self.token)
        import os
        os.replace(tmp, self.token_file)

    def rotate_token(self, new=None):
        """Make `new` (default: a fresh random token) the only valid token and
        rewrite token_file (atomically) if there is one. Returns the token."""
        self.token = new or "test-token-" + uuid.uuid4().hex[:12]
        if self.token_file:
            self._write_token()
        return self.token

    def add_fault(self, kind="status", method=None, path=None, query=None,
                  watch=None, count=1, code=500, reason=None, message=None,
                  headers=None, seconds=None, body=None):
        """Inject a fault (see Fault); returns it (its .hits counts uses).
        E.g. add_fault(method="PATCH", count=2, code=409)."""
        f = Fault(kind, method, path, query, watch, count, code, reason,
                  message, headers, seconds, body)
        with self._lock:
            self.faults.append(f)
        return f

    def clear_faults(self):
        with self._lock:
            self.faults = []

    def expire_watches(self, n=1, how="event"):
        """The next n watch requests that give a resourceVersion get 410:
        how="event" (HTTP 200, one ERROR event with a Status code 410, as the
        API server does) or how="http" (an HTTP 410 Status)."""
        with self._lock:
            self._expire.extend([how] * n)

    def _take_fault(self, method, path, query, is_watch):
        with self._lock:
            for f in self.faults:
                if f.matches(method, path, query, is_watch):
                    f.hits += 1
                    return f
        return None

    def _watch_expired(self, rv):
        with self._lock:
            if rv and rv != "0" and self._expire:
                return self._expire.pop(0)
            if rv and rv != "0" and self._events and \
                    int(rv) < self._events[0][0] - 1 and \
                    len(self._events) >= 5000:
                return "event"
        return None

    def _log(self, entry):
        with self._lock:
            self.requests.append(entry)

    def clear_log(self):
        with self._lock:
            self.requests = []

    def requests_matching(self, method=None, path=None, watch=None):
        """Logged requests with that method / path substring / watch flag."""
        with self._lock:
            return [r for r in self.requests
                    if (method is None or r["method"] == method)
                    and (path is None or path in r["path"])
                    and (watch is None or r["watch"] == watch)]

    def wait_for_request(self, method=None, path=None, n=1, timeout=5.0,
                         watch=None):
        """Wait until at least n requests match; return them (AssertionError
        on timeout)."""
        end = time.monotonic() + timeout
        while True:
            got = self.requests_matching(method, path, watch)
            if len(got) >= n:
                return got
            if time.monotonic() > end:
                raise AssertionError("FakeKube: %d/%d %s %s requests after "
                                     "%.1fs" % (len(got), n, method, path,
                                                timeout))
            time.sleep(0.02)

    def _authorize(self, verb, resource, ns, name):
        if (self.allowed_namespaces is not None and
                ns not in self.allowed_namespaces) or \
                (verb, resource) in self.deny:
            what = '%s.apps "%s"' % (resource, name) if name else \
                "%s.apps" % resource
            raise ApiError(403, '%s is forbidden: User "%s" cannot %s '
                           'resource "%s" in API group "apps" in the '
                           'namespace "%s"' % (what, self.user, verb,
                                               resource, ns),
                           details={"name": name or "", "group": "apps",
                                    "kind": resource})

    # -- state helpers --

    def _next_rv(self):
        self._rv += 1
        return str(self._rv)

    def _touch(self, key, typ="MODIFIED"):
        d = self._deployments[key]
        d["metadata"]["resourceVersion"] = self._next_rv()
        self._events.append((self._rv, key[0], typ, copy.deepcopy(d)))
        if len(self._events) > 5000:
            del self._events[:1000]
        self._cond.notify_all()

    def _notfound(self, name, resource="deployments"):
        return ApiError(404, '%s.apps "%s" not found' % (resource, name),
                        details={"name": name, "group": "apps",
                                 "kind": resource})

    def _get(self, ns, name):
        with self._lock:
            d = self._deployments.get((ns, name))
            if d is None:
                raise self._notfound(name)
            return copy.deepcopy(d)

    def _list_deployments(self, ns, params):
        fsel = params.get("fieldSelector", "")
        want = fsel.split("=", 1)[1] if fsel.startswith("metadata.name=") \
            else None
        lsel = parse_selector(params.get("labelSelector"))
        with self._lock:
            items = []
            for (dns, dname), d in sorted(self._deployments.items()):
                if dns == ns and (want is None or dname == want) and \
                        selector_matches(lsel, d["metadata"].get("labels")):
                    it = copy.deepcopy(d)
                    it.pop("kind")
                    it.pop("apiVersion")
                    items.append(it)
            return {"kind": "DeploymentList", "apiVersion": "apps/v1",
                    "metadata": {"resourceVersion": str(self._rv)},
                    "items": items}

    def _get_rs(self, ns, name):
        with self._lock:
            rs = self._rs.get((ns, name))
            if rs is None:
                raise self._notfound(name, "replicasets")
            return copy.deepcopy(rs)

    def _list_rs(self, ns, params):
        sel = parse_selector(params.get("labelSelector"))
        with self._lock:
            items = []
            for (rns, _), rs in sorted(self._rs.items()):
                if rns == ns and selector_matches(sel, rs["metadata"]
                                                  .get("labels")):
                    it = copy.deepcopy(rs)
                    it.pop("kind")
                    it.pop("apiVersion")
                    items.append(it)
            return {"kind": "ReplicaSetList", "apiVersion": "apps/v1",
                    "metadata": {"resourceVersion": str(self._rv)},
                    "items": items}

    def add_deployment(self, ns, name, containers=None, init_containers=None,
                       replicas=3, labels=None, annotations=None,
                       change_cause=None, selector=None):
        """Create a fully rolled-out Deployment (generation 1, revision 1)
        and its ReplicaSet. containers/init_containers: lists of dicts
        (name, image, ...) or (name, image) tuples; default one container
        named like the deployment, image registry.example/NAME:1.0.
        labels: pod template labels (default {"app": name}); selector:
        matchLabels (default = labels). Returns a copy of the deployment."""
        containers = _normalize_containers(
            containers or [(name, "registry.example/%s:1.0" % name)])
        for c in containers:
            _default_container(c)
        labels = dict(labels or {"app": name})
        tmpl_spec = {"containers": containers, "restartPolicy": "Always",
                     "terminationGracePeriodSeconds": 30,
                     "dnsPolicy": "ClusterFirst", "securityContext": {},
                     "schedulerName": "default-scheduler"}
        if init_containers:
            inits = _normalize_containers(init_containers)
            for c in inits:
                _default_container(c)
            tmpl_spec["initContainers"] = inits
        ann = dict(annotations or {})
        if change_cause is not None:
            ann[CHANGE_CAUSE] = change_cause
        ts = now_str()
        d = {
            "kind": "Deployment", "apiVersion": "apps/v1",
            "metadata": {
                "name": name, "namespace": ns, "uid": str(uuid.uuid4()),
                "resourceVersion": "0", "generation": 1,
                "creationTimestamp": ts, "labels": {"app": name},
                "annotations": ann,
                "managedFields": [{
                    "manager": "kubectl-client-side-apply",
                    "operation": "Update", "apiVersion": "apps/v1",
                    "time": ts, "fieldsType": "FieldsV1",
                    "fieldsV1": {"f:spec": {"f:template": {"f:spec": {
                        "f:containers": {'k:{"name":"%s"}' % c["name"]: {
                            ".": {}, "f:image": {}, "f:name": {}}
                            for c in containers}}}}}}],
            },
            "spec": {
                "replicas": replicas,
                "selector": {"matchLabels": dict(selector or labels)},
                "template": {"metadata": {"creationTimestamp": None,
                                          "labels": labels},
                             "spec": tmpl_spec},
                "strategy": {"type": "RollingUpdate", "rollingUpdate": {
                    "maxUnavailable": "25%", "maxSurge": "25%"}},
                "revisionHistoryLimit": 10, "progressDeadlineSeconds": 600,
            },
            "status": {},
        }
        key = (ns, name)
        with self._lock:
            if key in self._deployments:
                raise ValueError("deployment %s/%s exists" % key)
            self._deployments[key] = d
            rs = self._sync_rs(key)
            self._complete_status(d, rs)
            self._touch(key, "ADDED")
            return copy.deepcopy(d)

    def get_deployment(self, ns, name):
        """A copy of the stored deployment, or None."""
        with self._lock:
            d = self._deployments.get((ns, name))
            return copy.deepcopy(d) if d else None

    def replicasets(self, ns, name):
        """Copies of the ReplicaSets controlled by deployment ns/name, oldest
        revision first."""
        with self._lock:
            d = self._deployments.get((ns, name))
            if not d:
                return []
            return [copy.deepcopy(rs) for rs in self._owned(d)]

    def images(self, ns, name):
        """{container name: image} of the deployment's pod template
        (containers and initContainers)."""
        d = self.get_deployment(ns, name)
        spec = d["spec"]["template"]["spec"]
        return {c["name"]: c.get("image") for c in
                spec.get("initContainers", []) + spec["containers"]}

    def patch(self, ns, name, patch, content_type=PATCH_TYPES[2]):
        """Apply a patch as a client would (no auth, no faults). Returns
        (http_code, object); raises ApiError on failure."""
        return self._patch(ns, name, content_type,
                           json.dumps(patch).encode())

    def set_image(self, ns, name, container, image, change_cause=None,
                  wait=True, timeout=5.0):
        """kubectl set image (strategic merge) + change-cause; if wait,
        wait for the rollout (rollout_mode "ok"). Returns the deployment."""
        p = {"spec": {"template": {"spec": {"containers": [
            {"name": container, "image": image}]}}}}
        if change_cause is not None:
            p["metadata"] = {"annotations": {CHANGE_CAUSE: change_cause}}
        self.patch(ns, name, p)
        return self.wait_rollout(ns, name, timeout) if wait else \
            self.get_deployment(ns, name)

    def wait_rollout(self, ns, name, timeout=5.0):
        """Wait until the deployment is rolled out by kubectl's rules;
        return it (AssertionError on timeout)."""
        end = time.monotonic() + timeout
        with self._cond:
            while True:
                d = self._deployments[(ns, name)]
                s, n = d["status"], d["spec"]["replicas"]
                if d["metadata"]["generation"] <= s.get("observedGeneration", 0) \
                        and s.get("updatedReplicas", 0) >= n \
                        and s.get("replicas", 0) <= s.get("updatedReplicas", 0) \
                        and s.get("availableReplicas", 0) >= \
                        s.get("updatedReplicas", 0):
                    return copy.deepcopy(d)
                left = end - time.monotonic()
                if left <= 0:
                    raise AssertionError("rollout of %s/%s not done: %s" %
                                         (ns, name, _canon(s)))
                self._cond.wait(min(left, 0.1))

    # -- patch + controller --

    def _patch(self, ns, name, ctype, body):
        if ctype not in PATCH_TYPES:
            raise ApiError(415, "the body of the request was in an unknown "
                           "format - accepted media types include: "
                           "application/json-patch+json, application/merge-"
                           "patch+json, application/apply-patch+yaml, "
                           "application/strategic-merge-patch+json")
        try:
            p = json.loads(body)
        except ValueError as e:
            raise ApiError(400, "error decoding patch: %s" % e)
        key = (ns, name)
        with self._lock:
            d = self._deployments.get(key)
            if d is None:
                raise self._notfound(name)
            if ctype == PATCH_TYPES[0]:
                new = json_patch(d, p)
            elif not isinstance(p, dict):
                raise ApiError(400, "patch is not a JSON object")
            elif ctype == PATCH_TYPES[1]:
                new = merge_patch(d, p)
            else:
                new = strategic_merge(d, p)
            new = self._validate(d, new)
            new = self._admit(new)  # issue 9: mutating admission webhooks
            if _canon(new) == _canon(d):
                return 200, copy.deepcopy(d)
            spec_changed = _canon(new["spec"]) != _canon(d["spec"])
            if spec_changed:
                new["metadata"]["generation"] = d["metadata"]["generation"] + 1
            self._deployments[key] = new
            self._touch(key)
            gen = new["metadata"]["generation"]
            self._schedule(0.01, self._reconcile, key, gen)
            return 200, copy.deepcopy(new)

    def _validate(self, old, new):
        name = old["metadata"]["name"]

        def invalid(field, msg, reason="FieldValueInvalid"):
            raise ApiError(422, 'Deployment.apps "%s" is invalid: %s: %s' %
                           (name, field, msg),
                           details={"name": name, "group": "apps",
                                    "kind": "Deployment", "causes": [{
                                        "reason": reason, "message": msg,
                                        "field": field}]})

        if not isinstance(new, dict) or not isinstance(new.get("metadata"),
                                                       dict) or \
                not isinstance(new.get("spec"), dict):
            invalid("metadata", "Required value", "FieldValueRequired")
        md = new["metadata"]
        want_rv = md.get("resourceVersion")
        if want_rv != old["metadata"]["resourceVersion"] and want_rv:
            raise ApiError(409, 'Operation cannot be fulfilled on '
                           'deployments.apps "%s": the object has been '
                           'modified; please apply your changes to the latest '
                           'version and try again' % name)
        for k in ("name", "namespace", "uid", "creationTimestamp",
                  "generation", "resourceVersion", "managedFields"):
            md[k] = copy.deepcopy(old["metadata"][k])
        new["kind"], new["apiVersion"] = "Deployment", "apps/v1"
        new["status"] = copy.deepcopy(old["status"])
        for k in ("labels", "annotations"):
            v = md.get(k)
            if v is None:
                md.pop(k, None)
            elif not isinstance(v, dict) or \
                    not all(isinstance(x, str) for x in v.values()):
                invalid("metadata." + k, "Invalid value: must be a map of "
                        "strings")
        spec = new["spec"]
        if not isinstance(spec.get("replicas"), int) or spec["replicas"] < 0:
            invalid("spec.replicas", "Invalid value: must be >= 0")
        tmpl = spec.get("template")
        if not isinstance(tmpl, dict) or not isinstance(tmpl.get("spec"),
                                                        dict):
            invalid("spec.template", "Required value", "FieldValueRequired")
        tmd = tmpl.get("metadata") or {}
        labels = tmd.get("labels") or {}
        sel = (spec.get("selector") or {}).get("matchLabels") or {}
        if _canon(spec.get("selector")) != _canon(old["spec"]["selector"]):
            invalid("spec.selector", "Invalid value: field is immutable")
        if any(labels.get(k) != v for k, v in sel.items()):
            invalid("spec.template.metadata.labels", "Invalid value: %s: "
                    "`selector` does not match template `labels`" %
                    _canon(labels))
        ps = tmpl["spec"]
        for field, required in (("initContainers", False),
                                ("containers", True)):
            cs = ps.get(field)
            if cs is None and not required:
                continue
            if not isinstance(cs, list) or (required and not cs):
                invalid("spec.template.spec." + field, "Required value",
                        "FieldValueRequired")
            seen = set()
            for i, c in enumerate(cs):
                where = "spec.template.spec.%s[%d]" % (field, i)
                if not isinstance(c, dict):
                    invalid(where, "Invalid value: must be an object")
                n = c.get("name")
                if not isinstance(n, str) or not n:
                    invalid(where + ".name", "Required value",
                            "FieldValueRequired")
                if not _NAME_RE.match(n):
                    invalid(where + ".name", 'Invalid value: "%s": a lowercase'
                            ' RFC 1123 label must consist of lower case '
                            'alphanumeric characters or \'-\'' % n)
                if n in seen:
                    invalid(where + ".name", 'Duplicate value: "%s"' % n,
                            "FieldValueDuplicate")
                seen.add(n)
                img = c.get("image")
                if not isinstance(img, str) or not img.strip():
                    invalid(where + ".image", "Required value",
                            "FieldValueRequired")
                _default_container(c)
        return new

    def _schedule(self, delay, fn, *args):
        if delay <= 0:
            fn(*args)
            return
        t = threading.Timer(delay, fn, args)
        t.daemon = True
        with self._lock:
            self._timers = [x for x in self._timers if x.is_alive()]
            self._timers.append(t)
        t.start()

    def _owned(self, d):
        uid = d["metadata"]["uid"]
        ns = d["metadata"]["namespace"]
        out = [rs for (rns, _), rs in self._rs.items() if rns == ns and any(
            o.get("uid") == uid and o.get("controller")
            for o in rs["metadata"].get("ownerReferences", []))]
        return sorted(out, key=lambda r: int(r["metadata"]["annotations"]
                                             .get(REV, "0")))

    def _sync_rs(self, key):
        """The controller's getNewReplicaSet: find or create the RS for the
        current template, give it the newest revision, copy annotations.
        Returns (rs, is_new_revision)."""
        d = self._deployments[key]
        ns, name = key
        owned = self._owned(d)
        max_rev = max([int(r["metadata"]["annotations"].get(REV, "0"))
                       for r in owned] or [0])
        want = _canon(strip_hash(d["spec"]["template"]))
        rs = next((r for r in owned if _canon(strip_hash(
            r["spec"]["template"])) == want), None)
        replicas = d["spec"]["replicas"]
        ann = {k: v for k, v in (d["metadata"].get("annotations") or
                                 {}).items() if k not in _SKIP_COPY}
        if rs is None:
            h = template_hash(d["spec"]["template"])
            tmpl = copy.deepcopy(d["spec"]["template"])
            tmpl.setdefault("metadata", {}).setdefault("labels", {})
            tmpl["metadata"]["labels"][HASH_LABEL] = h
            rs = {"kind": "ReplicaSet", "apiVersion": "apps/v1",
                  "metadata": {
                      "name": "%s-%s" % (name, h), "namespace": ns,
                      "uid": str(uuid.uuid4()), "generation": 1,
                      "creationTimestamp": now_str(),
                      "labels": dict(tmpl["metadata"]["labels"]),
                      "annotations": {},
                      "ownerReferences": [{
                          "apiVersion": "apps/v1", "kind": "Deployment",
                          "name": name, "uid": d["metadata"]["uid"],
                          "controller": True, "blockOwnerDeletion": True}]},
                  "spec": {"replicas": replicas, "selector": {"matchLabels": dict(
                      d["spec"]["selector"]["matchLabels"], **{HASH_LABEL: h})},
                      "template": tmpl},
                  "status": {"replicas": 0, "observedGeneration": 1}}
            self._rs[(ns, rs["metadata"]["name"])] = rs
            rev, new_rev = max_rev + 1, True
        else:
            rev = int(rs["metadata"]["annotations"].get(REV, "0"))
            new_rev = rev != max_rev or rev == 0
            if new_rev:
                if rev:
                    hist = rs["metadata"]["annotations"].get(
                        "deployment.kubernetes.io/revision-history")
                    rs["metadata"]["annotations"][
                        "deployment.kubernetes.io/revision-history"] = \
                        "%s,%d" % (hist, rev) if hist else str(rev)
                rev = max_rev + 1
        rann = rs["metadata"]["annotations"]
        rann.update(ann)  # the controller adds and updates, never deletes
        rann[REV] = str(rev)
        rann["deployment.kubernetes.io/desired-replicas"] = str(replicas)
        rann["deployment.kubernetes.io/max-replicas"] = str(
            replicas + (replicas + 3) // 4)
        rs["metadata"]["resourceVersion"] = self._next_rv()
        d["metadata"].setdefault("annotations", {})[REV] = str(rev)
        return rs, new_rev

    def _cond_(self, typ, status, reason, message, ts):
        return {"type": typ, "status": status, "lastUpdateTime": ts,
                "lastTransitionTime": ts, "reason": reason, "message": message}

    def _complete_status(self, d, rs_new):
        rs, _ = rs_new if isinstance(rs_new, tuple) else (rs_new, None)
        n = d["spec"]["replicas"]
        ts = now_str()
        d["status"] = {
            "observedGeneration": d["metadata"]["generation"],
            "replicas": n, "updatedReplicas": n, "readyReplicas": n,
            "availableReplicas": n,
            "conditions": [
                self._cond_("Available", "True", "MinimumReplicasAvailable",
                            "Deployment has minimum availability.", ts),
                self._cond_("Progressing", "True", "NewReplicaSetAvailable",
                            'ReplicaSet "%s" has successfully progressed.' %
                            rs["metadata"]["name"], ts)]}
        for other in self._owned(d):
            r = n if other is rs else 0
            other["spec"]["replicas"] = r
            other["status"] = {"replicas": r, "fullyLabeledReplicas": r,
                               "readyReplicas": r, "availableReplicas": r,
                               "observedGeneration": other["metadata"]
                               ["generation"]}

    def _reconcile(self, key, gen):
        with self._lock:
            d = self._deployments.get(key)
            if d is None or d["metadata"]["generation"] != gen:
                return
            before = _canon(d)
            rs, new_rev = self._sync_rs(key)
            s = d["status"]
            n = d["spec"]["replicas"]
            rolling = new_rev or s.get("observedGeneration") != gen
            if not rolling:
                if _canon(d) != before:
                    self._touch(key)
                return
            ts = now_str()
            old_avail = s.get("availableReplicas", 0)
            stuck = self.rollout_mode == "stuck"
            s.update({"observedGeneration": gen,
                      "replicas": s.get("replicas", 0) + (1 if new_rev else 0),
                      "updatedReplicas": min(1, n) if stuck or not new_rev
                      else 0,
                      "availableReplicas": old_avail,
                      "readyReplicas": old_avail})
            if not new_rev:
                s["updatedReplicas"] = s["replicas"] = min(
                    s["replicas"], n) if n else 0
            s["conditions"] = [
                self._cond_("Available", "True", "MinimumReplicasAvailable",
                            "Deployment has minimum availability.", ts),
                self._cond_("Progressing", "True", "ReplicaSetUpdated",
                            'ReplicaSet "%s" is progressing.' %
                            rs["metadata"]["name"], ts)]
            self._touch(key)
            mode, delay = self._mode_for(d), self.rollout_delay  # issue 9: per image
        if mode == "ok":
            self._schedule(delay, self._finish, key, gen, rs)
        elif mode == "fail":
            self._schedule(delay, self._fail, key, gen, rs)

    def _finish(self, key, gen, rs):
        with self._lock:
            d = self._deployments.get(key)
            if d is None or d["metadata"]["generation"] != gen:
                return
            self._complete_status(d, rs)
            self._touch(key)

    def _fail(self, key, gen, rs):
        with self._lock:
            d = self._deployments.get(key)
            if d is None or d["metadata"]["generation"] != gen:
                return
            ts = now_str()
            d["status"]["conditions"] = [
                self._cond_("Available", "True", "MinimumReplicasAvailable",
                            "Deployment has minimum availability.", ts),
                self._cond_("Progressing", "False", "ProgressDeadlineExceeded",
                            'ReplicaSet "%s" has timed out progressing.' %
                            rs["metadata"]["name"], ts)]
            self._touch(key)

    # -- Leases (coordination.k8s.io/v1) --

    def _lease_store(self):
        with self._lock:
            return self.__dict__.setdefault("_leases", {})

    def _lease_op(self, verb, ns, name, obj):
        """create/get/list/update/delete with resourceVersion preconditions
        and the API server's 404 / 409 answers. (status, object)."""
        store = self._lease_store()
        with self._lock:
            cur = store.get((ns, name))
            if verb == "list":
                items = [copy.deepcopy(v) for (lns, _), v in
                         sorted(store.items()) if lns == ns]
                for it in items:
                    it.pop("kind", None)
                    it.pop("apiVersion", None)
                return 200, {"kind": "LeaseList",
                             "apiVersion": "coordination.k8s.io/v1",
                             "metadata": {"resourceVersion": str(self._rv)},
                             "items": items}
            if verb == "create":
                _lease_check(obj, ns, None)
                md = obj["metadata"]
                if md.get("resourceVersion"):
                    raise ApiError(500, "resourceVersion should not be set on "
                                   "objects to be created")
                if (ns, md["name"]) in store:
                    raise _lease_error(409, md["name"], "exists")
                new = copy.deepcopy(obj)
                new.update(kind="Lease", apiVersion="coordination.k8s.io/v1")
                new["metadata"].update(namespace=ns, uid=str(uuid.uuid4()),
                                       creationTimestamp=now_str(),
                                       resourceVersion=self._next_rv())
                store[(ns, md["name"])] = new
                return 201, copy.deepcopy(new)
            if cur is None:
                raise _lease_error(404, name, "missing")
            if verb == "get":
                return 200, copy.deepcopy(cur)
            rv = cur["metadata"]["resourceVersion"]
            if verb == "delete":
                want = ((obj or {}).get("preconditions") or {}).get(
                    "resourceVersion")
                if want is not None and want != rv:
                    raise _lease_error(409, name, "Precondition failed: "
                                       "ResourceVersion in precondition: %s, "
                                       "ResourceVersion in object meta: %s"
                                       % (want, rv))
                del store[(ns, name)]
                return 200, {"kind": "Status", "apiVersion": "v1",
                             "metadata": {}, "status": "Success",
                             "details": {"name": name, "group": LEASE_GROUP,
                                         "kind": "leases",
                                         "uid": cur["metadata"]["uid"]}}
            _lease_check(obj, ns, name)
            want = obj["metadata"].get("resourceVersion")
            if want and want != rv:
                raise _lease_error(409, name, "modified")
            new = copy.deepcopy(obj)
            new.update(kind="Lease", apiVersion="coordination.k8s.io/v1")
            for k in ("uid", "creationTimestamp"):
                new["metadata"][k] = cur["metadata"][k]
            new["metadata"]["resourceVersion"] = self._next_rv()
            store[(ns, name)] = new
            return 200, copy.deepcopy(new)

    def put_lease(self, ns, name, holder, renewed_ago=0.0, duration=60,
                  annotations=None):
        """Store a Lease as another pod would have left it: held by holder,
        last renewed renewed_ago seconds ago. Returns it."""
        t = datetime.datetime.now(datetime.timezone.utc) - \
            datetime.timedelta(seconds=renewed_ago)
        ts = t.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        obj = {"metadata": {"name": name, "namespace": ns,
                            "annotations": dict(annotations or {})},
               "spec": {"holderIdentity": holder,
                        "leaseDurationSeconds": duration,
                        "acquireTime": ts, "renewTime": ts,
                        "leaseTransitions": 0}}
        self._lease_store().pop((ns, name), None)
        return self._lease_op("create", ns, None, obj)[1]

    def get_lease(self, ns, name):
        """A copy of the Lease, or None."""
        with self._lock:
            cur = self._lease_store().get((ns, name))
            return copy.deepcopy(cur)

    def delete_lease(self, ns, name):
        """Delete the Lease as an operator would (kubectl delete lease)."""
        self._lease_op("delete", ns, name, None)

    def leases(self, ns):
        """Copies of the Leases in ns."""
        return self._lease_op("list", ns, None, None)[1]["items"]

    def complete_rollout(self, ns, name):
        """Finish the deployment's rollout now (for rollout_mode "stuck")."""
        with self._lock:
            key = (ns, name)
            rs, _ = self._sync_rs(key)
            self._complete_status(self._deployments[key], rs)
            self._touch(key)


# ==== issue 9 (diagnose, progress, history) ===============================
# Pods per ReplicaSet with states settable per test (GET /api/v1/.../pods),
# list paging with limit/continue (ReplicaSets and pods, as the API server
# pages: real kubectl honours it), managedFields padding for multi-MiB
# ReplicaSet lists and many old revisions at once. Kept in this block; other
# work extends FakeKube too.

import base64 as _b64

_POD_ROUTE = re.compile(r"^/api/v1/namespaces/([^/]+)/pods/?$")


def pod_ready():
    """A Running, Ready pod status."""
    return {"phase": "Running", "conditions": [
        {"type": "PodScheduled", "status": "True"},
        {"type": "Ready", "status": "True"}],
        "containerStatuses": [{"name": "app", "ready": True, "restartCount": 0,
                               "state": {"running": {"startedAt": now_str()}}}]}


def pod_waiting(reason, message=""):
    """A pod whose container waits: ErrImagePull, ImagePullBackOff,
    CreateContainerConfigError, ContainerCreating..."""
    w = {"reason": reason}
    if message:
        w["message"] = message
    return {"phase": "Pending", "conditions": [
        {"type": "PodScheduled", "status": "True"},
        {"type": "Ready", "status": "False", "reason": "ContainersNotReady"}],
        "containerStatuses": [{"name": "app", "ready": False, "restartCount": 0,
                               "state": {"waiting": w}}]}


def pod_crashloop(exit_code, message):
    """CrashLoopBackOff with the last termination's exit code and message."""
    return {"phase": "Running", "conditions": [
        {"type": "Ready", "status": "False", "reason": "ContainersNotReady"}],
        "containerStatuses": [{
            "name": "app", "ready": False, "restartCount": 4,
            "state": {"waiting": {"reason": "CrashLoopBackOff",
                                  "message": "back-off 1m20s restarting failed "
                                             "container=app"}},
            "lastState": {"terminated": {"exitCode": exit_code, "reason": "Error",
                                         "message": message}}}]}


def pod_unschedulable(message):
    """Pending: the scheduler's PodScheduled=False Unschedulable condition."""
    return {"phase": "Pending", "conditions": [
        {"type": "PodScheduled", "status": "False", "reason": "Unschedulable",
         "message": message}]}


def _fk_set_pod_states(self, ns, name, states):
    """The pods of deployment ns/name's newest ReplicaSet get these status
    objects (one pod each; None: as many Ready pods as it has replicas).
    Older ReplicaSets show Ready pods for their replicas."""
    with self._lock:
        self._pod_states[(ns, name)] = None if states is None else \
            copy.deepcopy(list(states))


def _fk_pods(self, ns):
    out = []
    for (dns, dname), d in sorted(self._deployments.items()):
        if dns != ns:
            continue
        owned = self._owned(d)
        states = self._pod_states.get((dns, dname))
        for rs in owned:
            newest = rs is owned[-1]
            if newest and states is not None:
                sts = states
            else:
                sts = [pod_ready()] * int(rs["spec"].get("replicas") or 0)
            labels = dict(rs["spec"]["template"]["metadata"].get("labels") or {})
            for i, st in enumerate(sts):
                out.append({
                    "metadata": {
                        "name": "%s-%05d" % (rs["metadata"]["name"], i),
                        "namespace": ns, "uid": "pod-%s-%d" % (rs["metadata"]["uid"], i),
                        "labels": labels, "creationTimestamp": now_str(),
                        "ownerReferences": [{
                            "apiVersion": "apps/v1", "kind": "ReplicaSet",
                            "name": rs["metadata"]["name"], "uid": rs["metadata"]["uid"],
                            "controller": True, "blockOwnerDeletion": True}]},
                    "spec": copy.deepcopy(rs["spec"]["template"]["spec"]),
                    "status": copy.deepcopy(st)})
    return out


def _fk_paged(self, items, params):
    """items sliced by limit/continue; (items, list metadata)."""
    try:
        limit = int(params.get("limit") or 0)
    except ValueError:
        raise ApiError(400, "invalid limit")
    start = 0
    cont = params.get("continue")
    if cont:
        try:
            start = int(_b64.urlsafe_b64decode(cont.encode()).decode().split(":")[1])
        except (ValueError, IndexError):
            raise ApiError(400, "continue key is not valid")
    meta = {"resourceVersion": str(self._rv)}
    end = len(items) if limit <= 0 else start + limit
    if end < len(items):
        meta["continue"] = _b64.urlsafe_b64encode(("page:%d" % end).encode()).decode()
        meta["remainingItemCount"] = len(items) - end
    self.list_pages.append((len(items[start:end]), limit))
    return items[start:end], meta


def _fk_list_pods(self, ns, params):
    sel = parse_selector(params.get("labelSelector"))
    with self._lock:
        items = [p for p in self._pods(ns)
                 if selector_matches(sel, p["metadata"]["labels"])]
        items, meta = self._paged(items, params)
    return {"kind": "PodList", "apiVersion": "v1", "metadata": meta, "items": items}


_list_rs_unpaged = FakeKube._list_rs


def _fk_list_rs(self, ns, params):
    full = _list_rs_unpaged(self, ns, params)
    with self._lock:
        full["items"], full["metadata"] = self._paged(full["items"], params)
    return full


def _fk_pad_replicasets(self, ns, name, kib):
    """Give each ReplicaSet of ns/name about kib KiB of managedFields (as
    real ones carry): many small keys, so the size is also JSON tokens."""
    with self._lock:
        for rs in self._owned(self._deployments[(ns, name)]):
            keys = {"f:pad%06d" % i: {} for i in range(kib * 1024 // 16)}
            rs["metadata"]["managedFields"] = [{
                "manager": "kube-controller-manager", "operation": "Update",
                "apiVersion": "apps/v1", "time": now_str(), "fieldsType": "FieldsV1",
                "fieldsV1": {"f:metadata": {"f:annotations": keys}}}]


def _fk_add_old_revisions(self, ns, name, n, unannotated=0):
    """n older revisions (1..n, image tag 0.i, creation one minute apart a
    day ago) and `unannotated` ReplicaSets without the revision annotation
    (kubectl counts them as revision 0); the current ReplicaSet and the
    deployment become revision n + 1."""
    with self._lock:
        d = self._deployments[(ns, name)]
        cur = self._owned(d)[-1]
        t0 = time.time() - 86400
        for i in range(1, n + 1 + unannotated):
            tmpl = copy.deepcopy(d["spec"]["template"])
            tmpl["metadata"].get("labels", {}).pop(HASH_LABEL, None)
            c = tmpl["spec"]["containers"][0]
            c["image"] = c["image"].rsplit(":", 1)[0] + ":0.%d" % i
            h = template_hash(tmpl)
            tmpl["metadata"].setdefault("labels", {})[HASH_LABEL] = h
            ann = {CHANGE_CAUSE: "old deploy %d" % i}
            if i <= n:
                ann[REV] = str(i)
            ts = datetime.datetime.fromtimestamp(t0 + 60 * i, datetime.timezone.utc)
            rs = {"kind": "ReplicaSet", "apiVersion": "apps/v1",
                  "metadata": {
                      "name": "%s-%s" % (name, h), "namespace": ns,
                      "uid": str(uuid.uuid4()), "generation": 1,
                      "resourceVersion": self._next_rv(),
                      "creationTimestamp": ts.strftime("%Y-%m-%dT%H:%M:%SZ"),
                      "labels": dict(tmpl["metadata"]["labels"]), "annotations": ann,
                      "ownerReferences": [{
                          "apiVersion": "apps/v1", "kind": "Deployment", "name": name,
                          "uid": d["metadata"]["uid"], "controller": True,
                          "blockOwnerDeletion": True}]},
                  "spec": {"replicas": 0, "selector": {"matchLabels": dict(
                      d["spec"]["selector"]["matchLabels"], **{HASH_LABEL: h})},
                      "template": tmpl},
                  "status": {"replicas": 0, "observedGeneration": 1}}
            self._rs[(ns, rs["metadata"]["name"])] = rs
        cur["metadata"]["annotations"][REV] = str(n + 1)
        d["metadata"]["annotations"][REV] = str(n + 1)
        self._touch((ns, name))


_route_without_pods = _KubeHandler._route


def _route_pods(self, kube, path, params, body, is_watch):
    m = _POD_ROUTE.match(path)
    if not m:
        return _route_without_pods(self, kube, path, params, body, is_watch)
    if kube.token is not None and \
            (self.headers.get("Authorization") or "") != "Bearer " + kube.token:
        raise ApiError(401, "Unauthorized")
    if self.command != "GET" or is_watch:
        raise ApiError(405, "the server does not allow this method on the requested resource")
    kube._authorize("list", "pods", m.group(1), None)
    return self.reply(200, _dumps(kube._list_pods(m.group(1), params)))


_init_without_pods = FakeKube.__init__


def _fk_init(self, *a, **kw):
    _init_without_pods(self, *a, **kw)
    self._pod_states = {}
    self.list_pages = []  # (items in the page, limit asked) of every list answered


FakeKube.__init__ = _fk_init
FakeKube.set_pod_states = _fk_set_pod_states
FakeKube._pods = _fk_pods
FakeKube._paged = _fk_paged
FakeKube._list_pods = _fk_list_pods
FakeKube._list_rs = _fk_list_rs
FakeKube.pad_replicasets = _fk_pad_replicasets
FakeKube.add_old_revisions = _fk_add_old_revisions
_KubeHandler._route = _route_pods


# ---- issue 9: mutating admission, per-image rollout modes, edits -------

def _admit(self, new):
    for hook in list(self.admission):
        new = hook(copy.deepcopy(new)) or new
    return new


FakeKube._admit = _admit


def pin_digests(digest):
    """A mutating admission hook (digest pinning, as Kyverno or the sigstore
    policy controller do): every container and init container image
    without a digest gets "@" + digest appended. Use:
    kube.admission.append(pin_digests("sha256:..."))."""
    def hook(d):
        spec = d["spec"]["template"]["spec"]
        for c in spec.get("initContainers", []) + spec.get("containers", []):
            if "@" not in c.get("image", ""):
                c["image"] = c["image"] + "@" + digest
        return d
    return hook


def _mode_for(self, d):
    """rollout_mode, but "fail" for a template running one of fail_images."""
    spec = d["spec"]["template"]["spec"]
    imgs = {c.get("image") for c in spec.get("containers", [])}
    return "fail" if imgs & self.fail_images else self.rollout_mode


def edit(self, ns, name, fn):
    """Change the stored deployment in place with fn(d) as a controller or
    an operator's tool would (no generation bump, a MODIFIED event)."""
    with self._lock:
        fn(self._deployments[(ns, name)])
        self._touch((ns, name))


FakeKube._mode_for = _mode_for
FakeKube.edit = edit
