#!/usr/bin/env python3
"""Security checks for the kustomize manifests in k8s/.

    python3 test/k8s/check_manifests.py [K8S_DIR]

Reads the files listed in K8S_DIR/kustomization.yaml (and in the directories
it lists, k8s/base/) directly (works with no kubectl), and also renders them
with `kubectl kustomize` or `kustomize build` when either is installed; every
check runs on each source. The Socket Mode overlay (K8S_DIR/socket-mode/) is
rendered and checked too (kustomize patches it: rendered only). Then it
mutates copies of the objects in memory (adds a ClusterRole, a wildcard verb,
drops readOnlyRootFilesystem, ...) and asserts the checks catch each one.

The example policy (k8s/base/policy.txt, as the generated ConfigMap holds it)
is loaded by the real binary: `deploy-api serve` with DEPLOY_POLICY_FILE
pointing at it must start and report the file's rule count
(DEPLOY_API_BIN, default build/deploy-api: run `make` first).

Prints one line per check, "PASS k8s:<check>" or "FAIL k8s:<check>: why",
and exits 1 if any failed. Python standard library only: YAML is read with
the small subset parser below (block mappings and sequences, plain and
quoted scalars, flow lists of scalars, comments, '---' documents); anything
outside that subset is an error, never a guess.
"""

import copy
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading

NAMESPACE = "ops-tools"
APP = "deploy-api"
SECRET_NAME = "deploy-api"
SECRET_KEY = "signing-secret"
PORT = 5000
# Verbs the code needs (and the only ones allowed), per resource.
NEEDED = {"deployments": {"get", "list", "watch", "patch"}, "replicasets": {"list"},
          "pods": {"list"}}
ALLOWED = {"deployments": {"get", "list", "watch", "patch"},
           "replicasets": {"get", "list", "watch"}, "pods": {"list"}}
GROUP = {"deployments": "apps", "replicasets": "apps", "pods": ""}
# The Lease Role in deploy-api's own namespace: exactly this.
LEASE_RULE = {"apiGroups": ["coordination.k8s.io"], "resources": ["leases"],
              "verbs": {"get", "create", "update"}}
POLICY_CM = "deploy-api-policy"
APP_TOKEN_SECRET = "deploy-api-app-token"
KINDS = {"Namespace", "ServiceAccount", "Role", "RoleBinding", "Deployment",
         "Service", "Ingress", "NetworkPolicy", "ConfigMap", "PodDisruptionBudget"}
# The environment contract (shared/DESIGN.md plus SHUTDOWN_GRACE).
ENV_KNOWN = {
    "SLACK_SIGNING_SECRET", "SLACK_SIGNING_SECRET_FILE", "SLACK_VERIFICATION_TOKEN",
    "SLACK_TEAM_ID", "IMAGE_BASE", "ECR_BASE", "DEPLOY_NAMESPACE", "DEPLOY_NAMESPACES",
    "DEPLOY_POLICY_FILE", "LISTEN_ADDR", "KUBE_API_URL", "KUBE_TOKEN_FILE", "KUBE_CA_FILE",
    "KUBE_TLS_SERVER_NAME", "SLACK_CA_FILE", "RESPONSE_URL_HOSTS", "HTTPS_PROXY",
    "NO_PROXY", "ROLLOUT_TIMEOUT", "MAX_JOBS", "SHUTDOWN_GRACE",
    "SLACK_APP_TOKEN", "SLACK_APP_TOKEN_FILE", "SLACK_API_URL", "SOCKET_MODE_CONNECTIONS",
    "JOB_TIMEOUT", "AUTO_ROLLBACK", "GITOPS_MANAGED", "MAX_CONNS", "HEADER_TIMEOUT",
    "KEEPALIVE_TIMEOUT", "TRUSTED_PROXIES", "KUBECONFIG", "LEASE_NAMESPACE", "POD_NAME",
}
ENV_REQUIRED = ["IMAGE_BASE", "DEPLOY_NAMESPACE", "DEPLOY_NAMESPACES", "LISTEN_ADDR",
                "SHUTDOWN_GRACE", "ROLLOUT_TIMEOUT", "DEPLOY_POLICY_FILE", "POD_NAME",
                "LEASE_NAMESPACE"]
# Per mode: how Slack's credential reaches the pod.
ENV_MODE = {"http": "SLACK_SIGNING_SECRET", "socket": "SLACK_APP_TOKEN_FILE"}
# From the downward API, never literal.
ENV_FIELDREF = {"POD_NAME": "metadata.name", "LEASE_NAMESPACE": "metadata.namespace"}
SECRET_ENV = {"SLACK_SIGNING_SECRET", "SLACK_VERIFICATION_TOKEN", "SLACK_APP_TOKEN"}


# ---------------------------------------------------------------- YAML subset


class YamlError(Exception):
    pass


_INT = re.compile(r"[-+]?(0|[1-9][0-9]*)$")
_FLOAT = re.compile(r"[-+]?([0-9]+\.[0-9]*|\.[0-9]+)([eE][-+]?[0-9]+)?$")
# Plain scalars YAML 1.1 (what Kubernetes' decoder speaks) would read as
# something other than a string; refuse them rather than guess.
_AMBIGUOUS = re.compile(r"(y|Y|yes|Yes|YES|n|N|no|No|NO|on|On|ON|off|Off|OFF|0[0-9_]+|"
                        r"[-+]?\.(inf|Inf|INF|nan|NaN|NAN)|[0-9]+:[0-9]+(:[0-9]+)*)$")


def _err(ln, msg):
    raise YamlError("line %d: %s" % (ln, msg))


def _quoted(s, ln):
    """Parse a quoted scalar at the start of s; return (value, rest)."""
    q = s[0]
    out = []
    i = 1
    while i < len(s):
        c = s[i]
        if q == "'" and c == "'":
            if s[i + 1:i + 2] == "'":
                out.append("'")
                i += 2
                continue
            return "".join(out), s[i + 1:]
        if q == '"' and c == '"':
            return "".join(out), s[i + 1:]
        if q == '"' and c == "\\":
            e = s[i + 1:i + 2]
            simple = {'"': '"', "\\": "\\", "/": "/", "n": "\n", "t": "\t", "r": "\r",
                      "0": "\0", " ": " "}
            if e in simple:
                out.append(simple[e])
                i += 2
                continue
            if e == "u" and re.match(r"[0-9a-fA-F]{4}$", s[i + 2:i + 6]):
                out.append(chr(int(s[i + 2:i + 6], 16)))
                i += 6
                continue
            _err(ln, "unsupported escape \\%s" % e)
        out.append(c)
        i += 1
    _err(ln, "unterminated quoted scalar (multi-line scalars are outside the subset)")


def _end(rest, ln):
    """Only blanks or a comment may follow a complete value."""
    r = rest.strip()
    if r and not r.startswith("#"):
        _err(ln, "unexpected text after value: %r" % r)
    if r and not (rest[:1] in (" ", "\t")):
        _err(ln, "a comment needs a blank before '#'")


def _plain(s, ln):
    """Resolve a plain scalar (already stripped of comments and blanks)."""
    if s == "" or s in ("~", "null", "Null", "NULL"):
        return None
    if s[0] in "&*!|>%@`{}[]," or s.startswith("<<"):
        _err(ln, "unsupported YAML construct %r (anchor, alias, tag, block scalar, ...)" % s)
    if s[0] in "-?:" and (len(s) == 1 or s[1] in " \t"):
        _err(ln, "unexpected indicator in %r" % s)
    if ": " in s or s.endswith(":") or " #" in s or "\t" in s:
        _err(ln, "plain scalar %r needs quotes" % s)
    if s in ("true", "True", "TRUE"):
        return True
    if s in ("false", "False", "FALSE"):
        return False
    if _AMBIGUOUS.match(s):
        _err(ln, "%r is ambiguous in YAML 1.1; quote it" % s)
    if _INT.match(s):
        return int(s)
    if _FLOAT.match(s):
        return float(s)
    return s


def _cut_comment(s):
    m = re.search(r"[ \t]#", s)
    return (s[:m.start()] if m else s).rstrip()


def _value(s, ln):
    """Parse the inline value after 'key: ' or '- '."""
    s = s.strip()
    if s.startswith(("'", '"')):
        v, rest = _quoted(s, ln)
        _end(rest, ln)
        return v
    if s.startswith("["):
        close = s.find("]")
        items = []
        body = s[1:]
        while True:
            body = body.lstrip()
            if body.startswith("]"):
                if items and items[-1] is _SEP:
                    _err(ln, "trailing comma in flow list")
                _end(body[1:], ln)
                return [x for x in items if x is not _SEP]
            if items and items[-1] is not _SEP:
                if not body.startswith(","):
                    _err(ln, "expected ',' or ']' in flow list")
                items.append(_SEP)
                body = body[1:]
                continue
            if body.startswith(("'", '"')):
                v, body = _quoted(body, ln)
                items.append(v)
                continue
            m = re.match(r"[^,\[\]{}]*", body)
            tok = m.group(0).strip()
            if not tok or close < 0:
                _err(ln, "unsupported flow list (only one line of scalars)")
            items.append(_plain(tok, ln))
            body = body[m.end():]
    if s.startswith("{"):
        if not s.startswith("{}"):
            _err(ln, "flow mappings other than {} are outside the subset")
        _end(s[2:], ln)
        return {}
    return _plain(_cut_comment(s), ln)


_SEP = object()


def _is_item(text):
    return text == "-" or text.startswith("- ") or text.startswith("-\t")


def _split_key(text, ln):
    """Split 'key: rest' -> (key, rest) or None when text is no mapping entry."""
    if text.startswith(("'", '"')):
        key, rest = _quoted(text, ln)
        if not (rest.startswith(": ") or rest == ":" or rest.startswith(":\t")):
            return None
        return key, rest[1:]
    m = re.match(r"([^\s#'\"][^:#]*?|[^\s#'\"]):( |\t|$)", text)
    if not m:
        return None
    key = m.group(1)
    if key[0] in "&*!|>%@`{}[],?-" or key == "<<":
        _err(ln, "unsupported key %r" % key)
    return key, text[m.end(1) + 1:]


def _blank(s):
    s = s.strip()
    return s == "" or s.startswith("#")


class _Lines:
    def __init__(self, lines):
        self.l = lines  # [lineno, indent, text]

    def node(self, i, ind):
        if _is_item(self.l[i][2]):
            return self.seq(i, ind)
        return self.map(i, ind)

    def child(self, i, ind, allow_seq_same):
        """Value on the lines after a 'key:' or '-' at indent ind."""
        if i < len(self.l):
            nind, ntext = self.l[i][1], self.l[i][2]
            if nind > ind or (allow_seq_same and nind == ind and _is_item(ntext)):
                return self.node(i, nind)
        return None, i

    def seq(self, i, ind):
        out = []
        while i < len(self.l) and self.l[i][1] >= ind:
            ln, lind, text = self.l[i]
            if lind > ind:
                _err(ln, "bad indentation")
            if not _is_item(text):
                break
            rest = text[1:]
            off = ind + 1 + (len(rest) - len(rest.lstrip(" ")))
            rest = rest.lstrip(" ")
            if "\t" in rest[:1]:
                _err(ln, "tab in indentation")
            if _blank(rest):
                v, i = self.child(i + 1, ind, False)
            elif _is_item(rest) or _split_key(rest, ln):
                self.l[i] = [ln, off, rest]  # continue as if it began a line
                v, i = self.node(i, off)
            else:
                v = _value(rest, ln)
                i += 1
            out.append(v)
        return out, i

    def map(self, i, ind):
        out = {}
        while i < len(self.l) and self.l[i][1] >= ind:
            ln, lind, text = self.l[i]
            if lind > ind:
                _err(ln, "bad indentation")
            if _is_item(text):
                _err(ln, "sequence item where a mapping key was expected")
            kv = _split_key(text, ln)
            if kv is None:
                _err(ln, "expected 'key: value'")
            key, rest = kv
            if key in out:
                _err(ln, "duplicate key %r" % key)
            if _blank(rest):
                v, i = self.child(i + 1, ind, True)
            else:
                v = _value(rest, ln)
                i += 1
            out[key] = v
        return out, i


def yaml_load_all(text):
    """Parse a YAML stream within the subset; return the list of documents."""
    docs = []
    cur = []
    lines = text.split("\n")
    for n, raw in enumerate(lines + ["---"], 1):
        line = raw.rstrip("\r")
        if re.match(r"(---|\.\.\.)([ \t]+#.*)?[ \t]*$", line):
            if cur:
                lst = _Lines(cur)
                v, i = lst.node(0, cur[0][1])
                if i != len(cur):
                    _err(cur[i][0], "bad indentation")
                docs.append(v)
            cur = []
            continue
        if line.startswith("%"):
            _err(n, "directives are outside the subset")
        if _blank(line):
            continue
        body = line.lstrip(" ")
        if body.startswith("\t"):
            _err(n, "tab in indentation")
        if line.startswith("---"):
            _err(n, "content after '---'")
        cur.append([n, len(line) - len(body), body.rstrip()])
    return [d for d in docs if d is not None]


# ------------------------------------------------------------- loading


def _load_kustomization(kdir, objs, kusts):
    """Append the objects of kdir's kustomization (its files, the directories
    it lists, its configMapGenerator as the ConfigMap it makes, without the
    hash suffix); return that kustomization."""
    with open(os.path.join(kdir, "kustomization.yaml")) as f:
        kust = yaml_load_all(f.read())[0]
    kusts.append((os.path.relpath(kdir), kust))
    for r in kust.get("resources") or []:
        path = os.path.join(kdir, r)
        if os.path.isdir(path):
            _load_kustomization(path, objs, kusts)
            continue
        with open(path) as f:
            objs.extend(yaml_load_all(f.read()))
    for g in kust.get("configMapGenerator") or []:
        data = {}
        for fn in g.get("files") or []:
            with open(os.path.join(kdir, fn)) as f:
                data[os.path.basename(fn)] = f.read()
        md = {"name": g.get("name")}
        if g.get("namespace"):
            md["namespace"] = g["namespace"]
        labels = get(g, "options", "labels")
        if labels:
            md["labels"] = dict(labels)
        objs.append({"apiVersion": "v1", "kind": "ConfigMap", "metadata": md, "data": data})
    return kust


def load_files(k8s_dir):
    """Objects from the files kustomization.yaml lists (recursively), plus the
    top kustomization, every kustomization read, and the Secret template (if
    present)."""
    objs, kusts = [], []
    kust = _load_kustomization(k8s_dir, objs, kusts)
    example = None
    ep = os.path.join(k8s_dir, "secret.example.yaml")
    if os.path.exists(ep):
        with open(ep) as f:
            example = yaml_load_all(f.read())
    return {"source": "files", "mode": "http", "objects": objs, "kustomization": kust,
            "kustomizations": kusts, "example": example}


def renderer():
    if shutil.which("kubectl"):
        return ["kubectl", "kustomize"]
    if shutil.which("kustomize"):
        return ["kustomize", "build"]
    return None


_BLOCK = re.compile(r"^( *)((?:- )?[^\s#'\"][^:#]*): ([|])([-+]?)$")


def fold_block_scalars(text):
    """kustomize writes multi-line ConfigMap data as literal block scalars
    (`key: |`), which the subset refuses. Rewrite each into one double-quoted
    scalar (JSON escapes are a subset of YAML's) before parsing rendered
    output; the checked-in files stay within the subset."""
    lines = text.split("\n")
    out = []
    i = 0
    while i < len(lines):
        m = _BLOCK.match(lines[i])
        if not m:
            out.append(lines[i])
            i += 1
            continue
        ind, chomp = len(m.group(1)), m.group(4)
        j, body, strip = i + 1, [], None
        while j < len(lines) and (lines[j].strip() == "" or len(lines[j]) - len(lines[j].lstrip(" ")) > ind):
            if strip is None and lines[j].strip():
                strip = len(lines[j]) - len(lines[j].lstrip(" "))
            body.append(lines[j])
            j += 1
        while body and not body[-1].strip() and j == len(lines):
            body.pop()  # the stream's final newline is not content
        strip = strip or 0
        val = "\n".join(l[strip:] for l in body)
        if chomp == "-":
            val = val.rstrip("\n")
        elif chomp == "":
            val = val.rstrip("\n") + "\n"
        else:
            val += "\n"
        out.append("%s%s: %s" % (m.group(1), m.group(2), json.dumps(val)))
        i = j
    return "\n".join(out)


def _unhash(v):
    """The generated ConfigMap's name without kustomize's content hash, in
    every string of an object (its name and the volumes naming it)."""
    if isinstance(v, dict):
        return {k: _unhash(x) for k, x in v.items()}
    if isinstance(v, list):
        return [_unhash(x) for x in v]
    if isinstance(v, str) and re.match(re.escape(POLICY_CM) + r"-[a-z0-9]{10}$", v):
        return POLICY_CM
    return v


def render(k8s_dir, cmd, mode="http", source="kustomize"):
    p = subprocess.run(cmd + [k8s_dir], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=60, universal_newlines=True)
    if p.returncode != 0:
        raise RuntimeError("%s exited %d: %s" % (" ".join(cmd), p.returncode,
                                                  p.stderr.strip()[-300:]))
    return {"source": source, "mode": mode, "objects": _unhash(yaml_load_all(fold_block_scalars(p.stdout))),
            "kustomization": None, "kustomizations": [], "example": None}


def apply_images(bundle):
    """What kustomize's `images:` transformer does, for comparing sources."""
    b = copy.deepcopy(bundle)
    for ent in b["kustomization"].get("images") or []:
        for d in by_kind(b, "Deployment"):
            for c in containers(d):
                img = c.get("image", "")
                name = re.split(r"[@]", img)[0]
                if ":" in name.rsplit("/", 1)[-1]:
                    name = name[:name.rfind(":")]
                if name != ent.get("name"):
                    continue
                new = ent.get("newName", name)
                if ent.get("digest"):
                    new += "@" + ent["digest"]
                elif ent.get("newTag") is not None:
                    new += ":" + str(ent["newTag"])
                else:
                    new = img.replace(name, ent.get("newName", name), 1)
                c["image"] = new
    return b


# ------------------------------------------------------------- helpers


def by_kind(b, kind):
    return [o for o in b["objects"] if isinstance(o, dict) and o.get("kind") == kind]


def get(d, *path):
    for p in path:
        if isinstance(d, dict):
            d = d.get(p)
        elif isinstance(d, list) and isinstance(p, int) and p < len(d):
            d = d[p]
        else:
            return None
    return d


def ident(o):
    return "%s %s/%s" % (o.get("kind"), get(o, "metadata", "namespace") or "-",
                         get(o, "metadata", "name"))


def the_deployment(b):
    ds = [d for d in by_kind(b, "Deployment") if get(d, "metadata", "name") == APP]
    return ds[0] if len(ds) == 1 else None


def pod_spec(d):
    return get(d, "spec", "template", "spec") or {}


def containers(d):
    ps = pod_spec(d)
    return list(ps.get("containers") or []) + list(ps.get("initContainers") or [])


def env_of(d):
    """{name: env entry} of the main container."""
    cs = get(pod_spec(d), "containers") or []
    return {e.get("name"): e for e in (cs[0].get("env") or [])} if cs else {}


def env_value(d, name):
    e = env_of(d).get(name)
    return None if e is None else e.get("value")


def lease_roles(b):
    """Roles in deploy-api's own namespace: only the Lease Role belongs there."""
    return [r for r in by_kind(b, "Role") if get(r, "metadata", "namespace") == NAMESPACE]


def target_roles(b):
    """Roles in the namespaces deploy-api deploys to."""
    return [r for r in by_kind(b, "Role") if get(r, "metadata", "namespace") != NAMESPACE]


def rules(b, roles=None):
    out = []
    for r in target_roles(b) if roles is None else roles:
        for i, rule in enumerate(r.get("rules") or []):
            out.append(("%s rule %d" % (ident(r), i), rule))
    return out


def as_list(v):
    return v if isinstance(v, list) else [] if v is None else [v]


# ------------------------------------------------------------- checks
# Each returns a list of problems; empty means the check passed.


def c_no_cluster_rbac(b):
    return ["%s present" % ident(o) for o in b["objects"]
            if o.get("kind") in ("ClusterRole", "ClusterRoleBinding")]


def c_allowed_kinds(b):
    return ["unexpected kind: %s" % ident(o) for o in b["objects"]
            if o.get("kind") not in KINDS]


def c_no_wildcards(b):
    bad = []
    for where, rule in rules(b, by_kind(b, "Role")):
        for f in ("verbs", "resources", "apiGroups", "resourceNames", "nonResourceURLs"):
            for v in as_list(rule.get(f)):
                if "*" in str(v):
                    bad.append("%s: %s contains %r" % (where, f, v))
    return bad


def c_rbac_no_secrets_pods_exec(b):
    """No secrets, nodes, configmaps, service accounts; pods only `list` (the
    stuck-rollout diagnosis), never a pod subresource (exec, logs, ...)."""
    bad = []
    for where, rule in rules(b, by_kind(b, "Role")):
        for res in as_list(rule.get("resources")):
            base = str(res).split("/")[0]
            if res == "pods" and set(as_list(rule.get("verbs"))) <= {"list"}:
                continue
            if base in ("secrets", "pods", "nodes", "serviceaccounts", "configmaps") or \
                    str(res).endswith(("/exec", "/attach", "/portforward", "/proxy", "/token",
                                       "/log", "/eviction")):
                bad.append("%s grants %s" % (where, res))
        if rule.get("nonResourceURLs"):
            bad.append("%s grants nonResourceURLs" % where)
    return bad


def c_rbac_resources(b):
    bad = []
    for where, rule in rules(b):
        groups = as_list(rule.get("apiGroups"))
        for res in as_list(rule.get("resources")):
            if res not in ALLOWED:
                bad.append("%s: resource %r not used by the code" % (where, res))
            elif groups != [GROUP[res]]:
                bad.append("%s: apiGroups %r for %s, want [%r]" % (where, groups, res, GROUP[res]))
        if not as_list(rule.get("resources")):
            bad.append("%s: no resources" % where)
    return bad


def c_rbac_verbs(b):
    bad = []
    union = set().union(*ALLOWED.values())
    for where, rule in rules(b):
        verbs = set(as_list(rule.get("verbs")))
        beyond = verbs - union
        if beyond:
            bad.append("%s: verbs %s beyond get/list/watch/patch" % (where, sorted(beyond)))
        for res in as_list(rule.get("resources")):
            extra = verbs - ALLOWED.get(res, union)
            if extra and not beyond:
                bad.append("%s: %s may not %s" % (where, res, sorted(extra)))
    return bad


def c_rbac_grants_needed(b):
    """Each Role grants what the code uses (else deploys fail with 403)."""
    bad = []
    roles = target_roles(b)
    if not roles:
        return ["no Role"]
    for r in roles:
        have = {}
        for rule in r.get("rules") or []:
            for res in as_list(rule.get("resources")):
                have.setdefault(res, set()).update(as_list(rule.get("verbs")))
        for res, verbs in NEEDED.items():
            miss = verbs - have.get(res, set())
            if miss:
                bad.append("%s: %s lacks %s" % (ident(r), res, sorted(miss)))
    return bad


def c_rbac_bindings(b):
    bad = []
    roles = {(get(r, "metadata", "namespace"), get(r, "metadata", "name"))
             for r in by_kind(b, "Role")}
    bound = set()
    for rb in by_kind(b, "RoleBinding"):
        ns = get(rb, "metadata", "namespace")
        ref = rb.get("roleRef") or {}
        if ref.get("kind") != "Role" or ref.get("apiGroup") != "rbac.authorization.k8s.io":
            bad.append("%s: roleRef %r is not a Role" % (ident(rb), ref.get("kind")))
        elif (ns, ref.get("name")) not in roles:
            bad.append("%s: roleRef names no Role in %s" % (ident(rb), ns))
        bound.add((ns, ref.get("name")))
        subs = rb.get("subjects") or []
        for s in subs:
            if (s.get("kind"), s.get("name"), s.get("namespace")) != \
                    ("ServiceAccount", APP, NAMESPACE):
                bad.append("%s: subject %s %s/%s is not ServiceAccount %s/%s" % (
                    ident(rb), s.get("kind"), s.get("namespace"), s.get("name"),
                    NAMESPACE, APP))
        if not subs:
            bad.append("%s: no subjects" % ident(rb))
    for ns, name in sorted(roles - bound, key=str):
        bad.append("Role %s/%s has no RoleBinding" % (ns, name))
    return bad


def c_rbac_matches_env(b):
    """DEPLOY_NAMESPACES and the Roles name the same namespaces."""
    d = the_deployment(b)
    if d is None:
        return ["no Deployment %s" % APP]
    one = env_value(d, "DEPLOY_NAMESPACE") or "default"
    many = env_value(d, "DEPLOY_NAMESPACES") or one
    want = {x.strip() for x in str(many).split(",") if x.strip()}
    have = {get(r, "metadata", "namespace") for r in target_roles(b)}
    bad = []
    if one not in want:
        bad.append("DEPLOY_NAMESPACE %r not in DEPLOY_NAMESPACES %r" % (one, many))
    if want - have:
        bad.append("no Role for namespaces %s in DEPLOY_NAMESPACES" % sorted(want - have))
    if have - want:
        bad.append("Roles in %s, not listed in DEPLOY_NAMESPACES" % sorted(have - want, key=str))
    return bad


def c_namespaces(b):
    bad = []
    nss = [get(o, "metadata", "name") for o in by_kind(b, "Namespace")]
    if nss != [NAMESPACE]:
        bad.append("Namespace objects %r, want [%r]" % (nss, NAMESPACE))
    for o in b["objects"]:
        kind, ns = o.get("kind"), get(o, "metadata", "namespace")
        if kind in ("Namespace", "ClusterRole", "ClusterRoleBinding"):
            continue
        if kind in ("Role", "RoleBinding"):
            if not ns or ns == "kube-system":
                bad.append("%s: target namespace %r" % (ident(o), ns))
        elif ns != NAMESPACE:
            bad.append("%s: namespace %r, want %r" % (ident(o), ns, NAMESPACE))
    return bad


def c_no_secret_object(b):
    bad = ["%s would commit a secret" % ident(o) for o in by_kind(b, "Secret")]
    k = b["kustomization"] or {}
    for g in k.get("secretGenerator") or []:
        if g.get("literals") or g.get("files") or g.get("envs"):
            bad.append("kustomization secretGenerator %r carries values" % g.get("name"))
    return bad


def c_secret_template(b):
    """secret.example.yaml: a Secret named as the Deployment expects, holding
    only a placeholder, and not listed as a resource."""
    if b["source"] != "files":
        return []
    docs = b["example"]
    if not docs:
        return ["k8s/secret.example.yaml missing"]
    bad = []
    if "secret.example.yaml" in (b["kustomization"].get("resources") or []):
        bad.append("secret.example.yaml is listed in kustomization resources")
    s = docs[0]
    if (s.get("kind"), get(s, "metadata", "name"), get(s, "metadata", "namespace")) != \
            ("Secret", SECRET_NAME, NAMESPACE):
        bad.append("template is not Secret %s/%s" % (NAMESPACE, SECRET_NAME))
    if s.get("data"):
        bad.append("template has base64 data (use a placeholder in stringData)")
    sd = s.get("stringData") or {}
    if SECRET_KEY not in sd:
        bad.append("template lacks key %s" % SECRET_KEY)
    for k, v in sd.items():
        if not re.search(r"REPLACE|EXAMPLE|CHANGE_?ME|<[^>]*>", str(v)):
            bad.append("template value for %s does not look like a placeholder" % k)
    return bad


def c_secret_ref(b):
    d = the_deployment(b)
    if d is None:
        return ["no Deployment %s" % APP]
    bad = []
    env = env_of(d)
    ref = get(env.get("SLACK_SIGNING_SECRET"), "valueFrom", "secretKeyRef") or {}
    if (ref.get("name"), ref.get("key")) != (SECRET_NAME, SECRET_KEY):
        bad.append("SLACK_SIGNING_SECRET not from secretKeyRef %s/%s" % (SECRET_NAME, SECRET_KEY))
    for c in containers(d):
        for e in c.get("env") or []:
            if e.get("name") in SECRET_ENV and "value" in e:
                bad.append("%s has a literal value in the manifest" % e.get("name"))
    return bad


def c_replicas(b):
    """Two replicas (the deploy lock is a Lease), rolled one new pod at a time
    with none taken away first."""
    d = the_deployment(b)
    if d is None:
        return ["no Deployment %s" % APP]
    bad = []
    if get(d, "spec", "replicas") != 2:
        bad.append("replicas %r, want 2" % get(d, "spec", "replicas"))
    if get(d, "spec", "strategy", "type") != "RollingUpdate":
        bad.append("strategy %r, want RollingUpdate" % get(d, "spec", "strategy", "type"))
    elif get(d, "spec", "strategy", "rollingUpdate", "maxUnavailable") != 0:
        bad.append("rollingUpdate.maxUnavailable %r, want 0" %
                   get(d, "spec", "strategy", "rollingUpdate", "maxUnavailable"))
    return bad


def c_pdb(b):
    """A PodDisruptionBudget over the deploy-api pods that keeps one running
    through a drain and still lets the drain proceed."""
    d = the_deployment(b)
    if d is None:
        return ["no Deployment %s" % APP]
    labels = get(d, "spec", "template", "metadata", "labels") or {}
    replicas = get(d, "spec", "replicas") or 1
    pdbs = []
    for p in by_kind(b, "PodDisruptionBudget"):
        sel = get(p, "spec", "selector", "matchLabels") or {}
        if get(p, "metadata", "namespace") == NAMESPACE and sel and \
                all(labels.get(k) == v for k, v in sel.items()):
            pdbs.append(p)
    if len(pdbs) != 1:
        return ["%d PodDisruptionBudgets select the deploy-api pods, want 1" % len(pdbs)]
    p = pdbs[0]
    if get(p, "apiVersion") != "policy/v1":
        return ["%s: apiVersion %r, want policy/v1" % (ident(p), get(p, "apiVersion"))]
    mn, mx = get(p, "spec", "minAvailable"), get(p, "spec", "maxUnavailable")
    if (mn is None) == (mx is None):
        return ["%s: set exactly one of minAvailable, maxUnavailable" % ident(p)]
    if mn is not None and not (isinstance(mn, int) and 1 <= mn < replicas):
        return ["%s: minAvailable %r, want 1..%d (one up, drains possible)" % (ident(p), mn, replicas - 1)]
    if mx is not None and not (isinstance(mx, int) and 1 <= mx < replicas):
        return ["%s: maxUnavailable %r, want 1..%d" % (ident(p), mx, replicas - 1)]
    return []


def c_lease_role(b):
    """In deploy-api's own namespace exactly one Role: Leases, get/create/
    update, nothing else; bound to deploy-api's service account."""
    roles = lease_roles(b)
    if len(roles) != 1:
        return ["%d Roles in %s, want exactly the Lease Role" % (len(roles), NAMESPACE)]
    r = roles[0]
    rs = r.get("rules") or []
    if len(rs) != 1:
        return ["%s: %d rules, want exactly one (leases)" % (ident(r), len(rs))]
    rule = rs[0]
    bad = []
    for f in ("apiGroups", "resources"):
        if as_list(rule.get(f)) != LEASE_RULE[f]:
            bad.append("%s: %s %r, want %r" % (ident(r), f, rule.get(f), LEASE_RULE[f]))
    verbs = as_list(rule.get("verbs"))
    if set(verbs) != LEASE_RULE["verbs"] or len(verbs) != len(set(verbs)):
        bad.append("%s: verbs %r, want exactly %s" % (ident(r), verbs, sorted(LEASE_RULE["verbs"])))
    if rule.get("nonResourceURLs"):
        bad.append("%s: nonResourceURLs" % ident(r))
    bound = [rb for rb in by_kind(b, "RoleBinding")
             if get(rb, "metadata", "namespace") == NAMESPACE and
             get(rb, "roleRef", "name") == get(r, "metadata", "name")]
    if not bound:
        bad.append("%s has no RoleBinding in %s" % (ident(r), NAMESPACE))
    for where, tr in rules(b):
        if "leases" in as_list(tr.get("resources")):
            bad.append("%s grants leases outside %s" % (where, NAMESPACE))
    return bad


def c_downward_env(b):
    """POD_NAME and LEASE_NAMESPACE come from the downward API."""
    d = the_deployment(b)
    if d is None:
        return ["no Deployment %s" % APP]
    env = env_of(d)
    bad = []
    for name, field in ENV_FIELDREF.items():
        got = get(env.get(name), "valueFrom", "fieldRef", "fieldPath")
        if got != field:
            bad.append("%s from %r, want fieldRef %s" % (name, got, field))
    return bad


def c_pod_security(b):
    d = the_deployment(b)
    if d is None:
        return ["no Deployment %s" % APP]
    ps = pod_spec(d)
    sc = ps.get("securityContext") or {}
    bad = []
    want = {"runAsNonRoot": True, "runAsUser": 65532, "runAsGroup": 65532}
    for k, v in want.items():
        if sc.get(k) != v:
            bad.append("pod securityContext.%s = %r, want %r" % (k, sc.get(k), v))
    if get(sc, "seccompProfile", "type") != "RuntimeDefault":
        bad.append("pod seccompProfile.type %r, want RuntimeDefault" %
                   get(sc, "seccompProfile", "type"))
    for k in ("hostNetwork", "hostPID", "hostIPC"):
        if ps.get(k):
            bad.append("%s is set" % k)
    for v in ps.get("volumes") or []:
        if "hostPath" in v:
            bad.append("hostPath volume %r" % v.get("name"))
    return bad


def c_container_security(b):
    d = the_deployment(b)
    if d is None:
        return ["no Deployment %s" % APP]
    bad = []
    cs = containers(d)
    if not cs:
        bad.append("no containers")
    for c in cs:
        n = c.get("name")
        sc = c.get("securityContext") or {}
        for k, v in (("allowPrivilegeEscalation", False), ("readOnlyRootFilesystem", True),
                     ("privileged", False)):
            if sc.get(k) is not v:
                bad.append("container %s: %s = %r, want %r" % (n, k, sc.get(k), v))
        caps = sc.get("capabilities") or {}
        if "ALL" not in as_list(caps.get("drop")):
            bad.append("container %s: capabilities.drop lacks ALL" % n)
        if caps.get("add"):
            bad.append("container %s: capabilities.add %r" % (n, caps.get("add")))
        if sc.get("runAsNonRoot") is False or sc.get("runAsUser") == 0:
            bad.append("container %s: runs as root" % n)
        if get(sc, "seccompProfile", "type") not in (None, "RuntimeDefault"):
            bad.append("container %s: seccompProfile %r" % (n, get(sc, "seccompProfile", "type")))
    return bad


def c_probes(b):
    d = the_deployment(b)
    if d is None:
        return ["no Deployment %s" % APP]
    bad = []
    cs = get(pod_spec(d), "containers") or [{}]
    c = cs[0]
    ports = {p.get("name"): p.get("containerPort") for p in c.get("ports") or []}
    if ports.get("http") != PORT:
        bad.append("container port 'http' is %r, want %d" % (ports.get("http"), PORT))
    for probe, path in (("livenessProbe", "/healthz"), ("readinessProbe", "/readyz")):
        g = get(c, probe, "httpGet") or {}
        if g.get("path") != path or g.get("port") not in ("http", PORT):
            bad.append("%s is %r, want httpGet %s on port http" % (probe, c.get(probe), path))
    return bad


def c_resources(b):
    d = the_deployment(b)
    if d is None:
        return ["no Deployment %s" % APP]
    bad = []
    for c in containers(d):
        r = c.get("resources") or {}
        for path in (("requests", "memory"), ("requests", "cpu"), ("limits", "memory")):
            if not get(r, *path):
                bad.append("container %s: resources.%s unset" % (c.get("name"), ".".join(path)))
    return bad


def c_termination_grace(b):
    d = the_deployment(b)
    if d is None:
        return ["no Deployment %s" % APP]
    g = pod_spec(d).get("terminationGracePeriodSeconds")
    s = env_value(d, "SHUTDOWN_GRACE")
    try:
        s = int(s)
    except (TypeError, ValueError):
        return ["SHUTDOWN_GRACE %r is not a number" % s]
    if not isinstance(g, int) or g <= s:
        return ["terminationGracePeriodSeconds %r not > SHUTDOWN_GRACE %d" % (g, s)]
    return []


def c_env_contract(b):
    d = the_deployment(b)
    if d is None:
        return ["no Deployment %s" % APP]
    env = env_of(d)
    bad = ["env %s missing" % n for n in ENV_REQUIRED + [ENV_MODE[b["mode"]]] if n not in env]
    bad += ["env %s is not in the contract (typo?)" % n for n in env if n not in ENV_KNOWN]
    la = str(env_value(d, "LISTEN_ADDR") or "")
    if not la.endswith(":%d" % PORT):
        bad.append("LISTEN_ADDR %r does not listen on %d" % (la, PORT))
    return bad


def c_service_account(b):
    sas = [s for s in by_kind(b, "ServiceAccount")
           if (get(s, "metadata", "name"), get(s, "metadata", "namespace")) == (APP, NAMESPACE)]
    bad = [] if sas else ["no ServiceAccount %s/%s" % (NAMESPACE, APP)]
    d = the_deployment(b)
    if d is None:
        return bad + ["no Deployment %s" % APP]
    ps = pod_spec(d)
    if ps.get("serviceAccountName") != APP:
        bad.append("serviceAccountName %r, want %r" % (ps.get("serviceAccountName"), APP))
    if ps.get("automountServiceAccountToken") is False or \
            (sas and sas[0].get("automountServiceAccountToken") is False and
             ps.get("automountServiceAccountToken") is not True):
        bad.append("service-account token not mounted (the jobs need it)")
    return bad


def c_service(b):
    svcs = by_kind(b, "Service")
    if not svcs:
        return ["no Service"]
    bad = []
    for s in svcs:
        t = get(s, "spec", "type") or "ClusterIP"
        if t != "ClusterIP":
            bad.append("%s: type %s, want ClusterIP" % (ident(s), t))
        if get(s, "spec", "externalIPs"):
            bad.append("%s: externalIPs set" % ident(s))
        for p in get(s, "spec", "ports") or []:
            if p.get("targetPort") not in ("http", PORT) or p.get("nodePort"):
                bad.append("%s: port %r" % (ident(s), p))
    return bad


def c_ingress(b):
    ings = by_kind(b, "Ingress")
    if not ings:
        return ["no Ingress"]
    bad = []
    for i in ings:
        tls = get(i, "spec", "tls") or []
        tls_hosts = {h for t in tls if t.get("secretName") for h in t.get("hosts") or []}
        for r in get(i, "spec", "rules") or []:
            if r.get("host") not in tls_hosts:
                bad.append("%s: host %r has no TLS" % (ident(i), r.get("host")))
            for p in get(r, "http", "paths") or []:
                # /deploy for Slack; exactly /healthz for the install check.
                if (p.get("path"), p.get("pathType")) in (("/deploy", "Prefix"), ("/deploy", "Exact"),
                                                          ("/healthz", "Exact")):
                    continue
                bad.append("%s: exposes path %r (%s; only /deploy and exactly /healthz)" %
                           (ident(i), p.get("path"), p.get("pathType")))
        if not get(i, "spec", "ingressClassName"):
            bad.append("%s: no ingressClassName (most clusters then ignore it)" % ident(i))
        if not get(i, "spec", "rules"):
            bad.append("%s: no rules" % ident(i))
        if get(i, "spec", "defaultBackend"):
            bad.append("%s: defaultBackend exposes every path" % ident(i))
    return bad


def _netpol(b):
    d = the_deployment(b)
    labels = get(d, "spec", "template", "metadata", "labels") or {} if d else {}
    out = []
    for n in by_kind(b, "NetworkPolicy"):
        sel = get(n, "spec", "podSelector", "matchLabels") or {}
        if sel and all(labels.get(k) == v for k, v in sel.items()):
            out.append(n)
    return out


def c_netpol_types(b):
    ns = _netpol(b)
    if not ns:
        return ["no NetworkPolicy selects the deploy-api pods"]
    types = set(as_list(get(ns[0], "spec", "policyTypes")))
    if types != {"Ingress", "Egress"}:
        return ["policyTypes %s, want Ingress and Egress" % sorted(types)]
    return []


def c_netpol_ingress(b):
    ns = _netpol(b)
    if not ns:
        return ["no NetworkPolicy selects the deploy-api pods"]
    bad = []
    for r in get(ns[0], "spec", "ingress") or []:
        ports = r.get("ports") or []
        if not ports:
            bad.append("ingress rule without ports admits every port")
        if not r.get("from"):
            bad.append("ingress rule without from: admits every pod in the cluster")
        for p in ports:
            if p.get("port") not in (PORT, "http") or p.get("protocol", "TCP") != "TCP":
                bad.append("ingress port %r (only TCP %d)" % (p, PORT))
    return bad


def c_netpol_egress(b):
    ns = _netpol(b)
    if not ns:
        return ["no NetworkPolicy selects the deploy-api pods"]
    bad = []
    rs = get(ns[0], "spec", "egress") or []
    if not rs:
        bad.append("no egress rules")
    dns_ok = False
    for r in rs:
        ports = r.get("ports") or []
        if not ports:
            bad.append("egress rule without ports allows every port")
        for p in ports:
            pr, pt = p.get("protocol", "TCP"), p.get("port")
            if pt == 53 and pr in ("UDP", "TCP"):
                if not r.get("to"):
                    bad.append("DNS egress to anywhere (restrict to kube-dns)")
                dns_ok = True
            elif not (pr == "TCP" and pt in (443, 6443)) or p.get("endPort"):
                bad.append("egress %r beyond DNS, API server, 443" % p)
    if not dns_ok:
        bad.append("no DNS egress rule")
    return bad


# ---- the policy ConfigMap and the example policy


def policy_text(b):
    """The policy file's text as the pod would read it: the ConfigMap key that
    DEPLOY_POLICY_FILE names. None when the wiring is missing."""
    d = the_deployment(b)
    path = env_value(d, "DEPLOY_POLICY_FILE") if d else None
    if not path:
        return None
    for cm in by_kind(b, "ConfigMap"):
        if get(cm, "metadata", "name") == POLICY_CM:
            return (cm.get("data") or {}).get(os.path.basename(str(path)))
    return None


def _mounted_file(d, path, kind):
    """Problems with `path` being a file from a `kind` volume ("configMap" or
    "secret"), mounted read-only as a whole directory; (problems, volume)."""
    c0 = (get(pod_spec(d), "containers") or [{}])[0]
    mdir = os.path.dirname(str(path))
    mounts = [m for m in c0.get("volumeMounts") or [] if m.get("mountPath") == mdir]
    if len(mounts) != 1:
        return ["%d volume mounts at %s, want 1" % (len(mounts), mdir)], None
    m = mounts[0]
    bad = []
    if m.get("readOnly") is not True:
        bad.append("volume mount %s is not readOnly" % mdir)
    if m.get("subPath"):
        bad.append("volume mount %s uses subPath (never updated, and hides the directory)" % mdir)
    vols = [v for v in pod_spec(d).get("volumes") or [] if v.get("name") == m.get("name")]
    if len(vols) != 1 or kind not in vols[0]:
        return bad + ["volume %r is not a %s volume" % (m.get("name"), kind)], None
    items = get(vols[0], kind, "items")
    key = os.path.basename(str(path))
    if items is not None and {"key": key, "path": key} not in items:
        bad.append("volume %r does not project key %s as %s" % (m.get("name"), key, key))
    return bad, vols[0][kind]


def c_policy_configmap(b):
    """DEPLOY_POLICY_FILE names a file of the generated ConfigMap, mounted
    read-only."""
    d = the_deployment(b)
    if d is None:
        return ["no Deployment %s" % APP]
    path = env_value(d, "DEPLOY_POLICY_FILE")
    if not path or not str(path).startswith("/"):
        return ["DEPLOY_POLICY_FILE %r is not an absolute path" % path]
    bad, src = _mounted_file(d, path, "configMap")
    if src is not None and src.get("name") != POLICY_CM:
        bad.append("policy volume is ConfigMap %r, want %s" % (src.get("name"), POLICY_CM))
    cms = [c for c in by_kind(b, "ConfigMap") if get(c, "metadata", "name") == POLICY_CM]
    if len(cms) != 1 or get(cms[0], "metadata", "namespace") != NAMESPACE:
        bad.append("want one ConfigMap %s/%s" % (NAMESPACE, POLICY_CM))
    elif policy_text(b) is None:
        bad.append("ConfigMap %s has no key %s" % (POLICY_CM, os.path.basename(str(path))))
    return bad


_POLICY_RUNS = {}


def policy_load(text):
    """Load `text` as DEPLOY_POLICY_FILE with the real binary: (rules it
    reports, None) or (None, why it refused or could not run)."""
    if text in _POLICY_RUNS:
        return _POLICY_RUNS[text]
    top = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
    binary = os.environ.get("DEPLOY_API_BIN") or os.path.join(top, "build", "deploy-api")
    ca = "/etc/ssl/certs/ca-certificates.crt"
    if not os.access(binary, os.X_OK):
        return None, "no deploy-api binary at %s (run make)" % binary
    if not os.path.exists(ca):
        return None, "no CA bundle at %s (install ca-certificates)" % ca
    with tempfile.TemporaryDirectory() as d:
        for name, body in (("policy.txt", text), ("token", "e2e-token\n")):
            with open(os.path.join(d, name), "w") as f:
                f.write(body)
        env = {"PATH": "/usr/bin:/bin", "IMAGE_BASE": "registry.example.com/team",
               "SLACK_SIGNING_SECRET": "8f742231b10e8888abcd99yyyzzz85a5",
               "LISTEN_ADDR": "127.0.0.1:0", "KUBE_API_URL": "https://127.0.0.1:9",
               "KUBE_CA_FILE": ca, "KUBE_TOKEN_FILE": os.path.join(d, "token"),
               "DEPLOY_POLICY_FILE": os.path.join(d, "policy.txt")}
        p = subprocess.Popen([binary, "serve"], env=env, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, universal_newlines=True)
        watchdog = threading.Timer(10, p.kill)  # a hung start fails, never hangs the checks
        watchdog.start()
        try:
            line = p.stdout.readline()  # the startup line, or EOF when it refused
        finally:
            watchdog.cancel()
            if p.poll() is None:
                p.terminate()
            _, err = p.communicate(timeout=10)
    res = None, "deploy-api exited %s: %s" % (p.returncode, err.strip()[-300:])
    try:
        o = json.loads(line)
        if o.get("msg") == "deploy-api starting":
            cfg = o["config"]  # an object (issue 14); a string before it
            res = (json.loads(cfg) if isinstance(cfg, str) else cfg)["policy_rules"], None
    except (ValueError, KeyError, TypeError):
        pass
    _POLICY_RUNS[text] = res
    return res


def policy_rules(text):
    """The rule lines of a policy file, split into fields."""
    out = []
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            out.append(line.split())
    return out


def c_policy_example(b):
    """The shipped policy loads in the real binary (every rule counted) and
    denies by default: no rule lets anyone deploy anything from anywhere."""
    text = policy_text(b)
    if text is None:
        return ["no policy file in the ConfigMap"]
    n, err = policy_load(text)
    if err:
        return ["deploy-api refused the policy: %s" % err]
    rs = policy_rules(text)
    bad = []
    if n != len(rs):
        bad.append("deploy-api loaded %r rules, the file has %d" % (n, len(rs)))
    if not rs:
        bad.append("the example policy has no rule (it would deny everything)")
    for f in rs:
        if len(f) == 5 and f[0] == "allow" and f[2] == "*" and f[3] == "*" and f[4] == "*/*" and \
                set(f[1].split(",")) & {"*", "deploy", "rollback", "restart"}:
            bad.append("rule %r lets anyone change anything" % " ".join(f))
    return bad


# ---- Socket Mode overlay


def c_sm_no_listeners(b):
    return ["%s in the Socket Mode overlay" % ident(o) for o in b["objects"]
            if o.get("kind") in ("Service", "Ingress")]


def c_sm_netpol(b):
    """No ingress rule at all; egress exactly as in the HTTP mode."""
    ns = _netpol(b)
    if len(ns) != 1:
        return ["%d NetworkPolicies select the deploy-api pods, want 1" % len(ns)]
    bad = []
    if "Ingress" not in as_list(get(ns[0], "spec", "policyTypes")):
        bad.append("policyTypes lacks Ingress (then all ingress is allowed)")
    if get(ns[0], "spec", "ingress"):
        bad.append("ingress rules %r, want none" % get(ns[0], "spec", "ingress"))
    want = b.get("http_egress")
    if want is not None and get(ns[0], "spec", "egress") != want:
        bad.append("egress differs from k8s/networkpolicy.yaml's")
    return bad


def c_sm_app_token(b):
    """The app token: a file from Secret deploy-api-app-token, mounted
    read-only, named by SLACK_APP_TOKEN_FILE; no literal token, no signing
    secret (Socket Mode needs none)."""
    d = the_deployment(b)
    if d is None:
        return ["no Deployment %s" % APP]
    env = env_of(d)
    bad = []
    for n in ("SLACK_APP_TOKEN", "SLACK_SIGNING_SECRET", "SLACK_SIGNING_SECRET_FILE"):
        if n in env:
            bad.append("env %s set in Socket Mode" % n)
    path = env_value(d, "SLACK_APP_TOKEN_FILE")
    if not path or not str(path).startswith("/"):
        return bad + ["SLACK_APP_TOKEN_FILE %r is not an absolute path" % path]
    more, src = _mounted_file(d, path, "secret")
    bad += more
    if src is not None and src.get("secretName") != APP_TOKEN_SECRET:
        bad.append("app token from Secret %r, want %s" % (src.get("secretName"), APP_TOKEN_SECRET))
    return bad


def c_kustomization(b):
    if b["source"] != "files":
        return []
    k = b["kustomization"]
    bad = []
    for path, kk in b["kustomizations"]:
        if kk.get("namespace"):
            bad.append("%s: top-level namespace %r would move the target-namespace Roles" %
                       (path, kk.get("namespace")))
    d = the_deployment(b)
    names = {e.get("name") for e in k.get("images") or []}
    for c in containers(d) if d else []:
        img = re.split(r"[:@]", c.get("image", ""))[0]
        if img not in names:
            bad.append("no images: entry for %r (pin a digest there)" % img)
    return bad


HTTP, SOCKET, BOTH = {"http"}, {"socket"}, {"http", "socket"}
CHECKS = [
    ("no-cluster-rbac", c_no_cluster_rbac),
    ("allowed-kinds", c_allowed_kinds),
    ("rbac-no-wildcards", c_no_wildcards),
    ("rbac-no-secrets-pods-exec", c_rbac_no_secrets_pods_exec),
    ("rbac-resources", c_rbac_resources),
    ("rbac-verbs", c_rbac_verbs),
    ("rbac-grants-needed", c_rbac_grants_needed),
    ("rbac-bindings", c_rbac_bindings),
    ("rbac-matches-deploy-namespaces", c_rbac_matches_env),
    ("namespaces", c_namespaces),
    ("no-secret-object", c_no_secret_object),
    ("secret-template", c_secret_template),
    ("secret-ref", c_secret_ref),
    ("replicas", c_replicas),
    ("pdb", c_pdb),
    ("lease-role", c_lease_role),
    ("downward-env", c_downward_env),
    ("policy-configmap", c_policy_configmap),
    ("policy-example", c_policy_example),
    ("pod-security-context", c_pod_security),
    ("container-security-context", c_container_security),
    ("probes", c_probes),
    ("resources", c_resources),
    ("termination-grace", c_termination_grace),
    ("env-contract", c_env_contract),
    ("service-account", c_service_account),
    ("service-clusterip", c_service),
    ("ingress-tls", c_ingress),
    ("networkpolicy-types", c_netpol_types),
    ("networkpolicy-ingress", c_netpol_ingress),
    ("networkpolicy-egress", c_netpol_egress),
    ("kustomization", c_kustomization),
    ("socket-mode-no-service-ingress", c_sm_no_listeners, SOCKET),
    ("socket-mode-networkpolicy", c_sm_netpol, SOCKET),
    ("socket-mode-app-token", c_sm_app_token, SOCKET),
]
# Checks of what only the HTTP mode has (the rest apply to both).
HTTP_ONLY = {"secret-template", "secret-ref", "service-clusterip", "ingress-tls",
             "networkpolicy-ingress", "kustomization"}
CHECKS = [(c[0], c[1], c[2] if len(c) > 2 else HTTP if c[0] in HTTP_ONLY else BOTH)
          for c in CHECKS]


def run_checks(b):
    """{check name: [problems]} for one bundle; a crash counts as a problem."""
    out = {}
    for name, fn, modes in CHECKS:
        if b["mode"] not in modes:
            continue
        try:
            out[name] = fn(b)
        except Exception as e:  # a malformed manifest must fail, not crash
            out[name] = ["checker error: %s: %s" % (type(e).__name__, e)]
    return out


# ------------------------------------------------------------- self-tests


def _dep(b):
    d = the_deployment(b)
    if d is None:
        raise LookupError("no Deployment to mutate")
    return d


def _c0(b):
    return get(pod_spec(_dep(b)), "containers", 0)


def _role(b):
    return target_roles(b)[0]


def _lease_rule(b):
    return lease_roles(b)[0]["rules"][0]


def _policy_cm(b):
    return [c for c in by_kind(b, "ConfigMap") if get(c, "metadata", "name") == POLICY_CM][0]


def _mount(b, name):
    return [m for m in _c0(b)["volumeMounts"] if m["name"] == name][0]


def _add(b, o):
    b["objects"].append(o)


def _env_set(b, name, value):
    for e in _c0(b)["env"]:
        if e["name"] == name:
            e.clear()
            e.update({"name": name, "value": value})
            return
    raise LookupError("env %s" % name)


def _netpol0(b):
    return _netpol(b)[0]


MUTATIONS = [
    ("clusterrole", "no-cluster-rbac", lambda b: _add(b, {
        "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
        "metadata": {"name": "x"}, "rules": []})),
    ("clusterrolebinding", "no-cluster-rbac", lambda b: _add(b, {
        "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
        "metadata": {"name": "x"}})),
    ("wildcard-verb", "rbac-no-wildcards", lambda b: _role(b)["rules"][0]["verbs"].append("*")),
    ("wildcard-resource", "rbac-no-wildcards",
     lambda b: _role(b)["rules"][1].__setitem__("resources", ["*"])),
    ("wildcard-apigroup", "rbac-no-wildcards",
     lambda b: _role(b)["rules"][0].__setitem__("apiGroups", ["*"])),
    ("secrets-access", "rbac-no-secrets-pods-exec", lambda b: _role(b)["rules"].append(
        {"apiGroups": [""], "resources": ["secrets"], "verbs": ["get"]})),
    ("pods-exec", "rbac-no-secrets-pods-exec", lambda b: _role(b)["rules"].append(
        {"apiGroups": [""], "resources": ["pods/exec"], "verbs": ["create"]})),
    ("core-group", "rbac-resources",
     lambda b: _role(b)["rules"][1].__setitem__("apiGroups", ["", "apps"])),
    ("statefulsets", "rbac-resources",
     lambda b: _role(b)["rules"][1]["resources"].append("statefulsets")),
    ("delete-verb", "rbac-verbs", lambda b: _role(b)["rules"][0]["verbs"].append("delete")),
    ("replicasets-patch", "rbac-verbs", lambda b: _role(b)["rules"][1]["verbs"].append("patch")),
    ("missing-patch", "rbac-grants-needed", lambda b: _role(b)["rules"][0]["verbs"].remove("patch")),
    ("binding-to-clusterrole", "rbac-bindings",
     lambda b: by_kind(b, "RoleBinding")[0]["roleRef"].__setitem__("kind", "ClusterRole")),
    ("binding-to-group", "rbac-bindings",
     lambda b: by_kind(b, "RoleBinding")[0]["subjects"].append(
         {"kind": "Group", "name": "system:authenticated"})),
    ("unbound-role", "rbac-bindings", lambda b: b["objects"].remove(by_kind(b, "RoleBinding")[0])),
    ("namespace-without-role", "rbac-matches-deploy-namespaces",
     lambda b: _env_set(b, "DEPLOY_NAMESPACES", "default,prod")),
    ("deployment-in-kube-system", "namespaces",
     lambda b: _dep(b)["metadata"].__setitem__("namespace", "kube-system")),
    ("service-in-default", "namespaces",
     lambda b: by_kind(b, "Service")[0]["metadata"].__setitem__("namespace", "default")),
    ("committed-secret", "no-secret-object", lambda b: _add(b, {
        "apiVersion": "v1", "kind": "Secret",
        "metadata": {"name": SECRET_NAME, "namespace": NAMESPACE},
        "stringData": {SECRET_KEY: "8f742231b10e8888abcd99yyyzzz85a5"}})),
    ("secret-generator-literal", "no-secret-object",
     lambda b: b["kustomization"].__setitem__("secretGenerator", [
         {"name": "deploy-api", "literals": ["signing-secret=abc"]}])),
    ("real-value-in-template", "secret-template",
     lambda b: b["example"][0]["stringData"].__setitem__(SECRET_KEY, "8f742231b10e8888abcd")),
    ("template-in-resources", "secret-template",
     lambda b: b["kustomization"]["resources"].append("secret.example.yaml")),
    ("secret-as-literal-env", "secret-ref",
     lambda b: _env_set(b, "SLACK_SIGNING_SECRET", "hunter2")),
    ("one-replica", "replicas", lambda b: _dep(b)["spec"].__setitem__("replicas", 1)),
    ("recreate", "replicas",
     lambda b: _dep(b)["spec"].__setitem__("strategy", {"type": "Recreate"})),
    ("rolling-unavailable", "replicas",
     lambda b: _dep(b)["spec"]["strategy"]["rollingUpdate"].__setitem__("maxUnavailable", 1)),
    ("no-pdb", "pdb", lambda b: b["objects"].remove(by_kind(b, "PodDisruptionBudget")[0])),
    ("pdb-blocks-drains", "pdb",
     lambda b: by_kind(b, "PodDisruptionBudget")[0]["spec"].__setitem__("minAvailable", 2)),
    ("pdb-other-pods", "pdb", lambda b: get(by_kind(b, "PodDisruptionBudget")[0], "spec", "selector",
                                             "matchLabels").__setitem__("app.kubernetes.io/name", "x")),
    ("lease-list", "lease-role", lambda b: _lease_rule(b)["verbs"].append("list")),
    ("lease-delete", "lease-role", lambda b: _lease_rule(b)["verbs"].append("delete")),
    ("lease-missing-update", "lease-role", lambda b: _lease_rule(b)["verbs"].remove("update")),
    ("lease-role-secrets", "lease-role", lambda b: lease_roles(b)[0]["rules"].append(
        {"apiGroups": [""], "resources": ["secrets"], "verbs": ["get"]})),
    ("lease-role-configmaps", "lease-role", lambda b: _lease_rule(b)["resources"].append("configmaps")),
    ("leases-in-target-namespace", "lease-role", lambda b: _role(b)["rules"].append(
        {"apiGroups": ["coordination.k8s.io"], "resources": ["leases"], "verbs": ["get"]})),
    ("lease-role-unbound", "lease-role", lambda b: b["objects"].remove(
        [rb for rb in by_kind(b, "RoleBinding") if get(rb, "metadata", "namespace") == NAMESPACE][0])),
    ("pods-get", "rbac-verbs", lambda b: _role(b)["rules"][2]["verbs"].append("get")),
    ("pods-log", "rbac-no-secrets-pods-exec", lambda b: _role(b)["rules"][2]["resources"].append("pods/log")),
    ("pods-in-apps-group", "rbac-resources",
     lambda b: _role(b)["rules"][2].__setitem__("apiGroups", ["apps"])),
    ("missing-pods-list", "rbac-grants-needed", lambda b: _role(b)["rules"].pop(2)),
    ("pod-name-literal", "downward-env", lambda b: _env_set(b, "POD_NAME", "deploy-api-0")),
    ("lease-namespace-literal", "downward-env", lambda b: _env_set(b, "LEASE_NAMESPACE", "default")),
    ("policy-mount-writable", "policy-configmap",
     lambda b: _mount(b, "policy").__setitem__("readOnly", False)),
    ("policy-path-elsewhere", "policy-configmap",
     lambda b: _env_set(b, "DEPLOY_POLICY_FILE", "/etc/policy.txt")),
    ("policy-configmap-missing", "policy-configmap", lambda b: b["objects"].remove(_policy_cm(b))),
    ("policy-name-not-id", "policy-example",
     lambda b: _policy_cm(b)["data"].__setitem__("policy.txt", "allow * alice * */*\n")),
    ("policy-allows-everyone", "policy-example",
     lambda b: _policy_cm(b)["data"].__setitem__("policy.txt", _policy_cm(b)["data"]["policy.txt"] +
                                                 "allow deploy * * */*\n")),
    ("run-as-root", "pod-security-context",
     lambda b: pod_spec(_dep(b))["securityContext"].__setitem__("runAsUser", 0)),
    ("no-run-as-non-root", "pod-security-context",
     lambda b: pod_spec(_dep(b))["securityContext"].pop("runAsNonRoot")),
    ("no-seccomp", "pod-security-context",
     lambda b: pod_spec(_dep(b))["securityContext"].pop("seccompProfile")),
    ("host-network", "pod-security-context",
     lambda b: pod_spec(_dep(b)).__setitem__("hostNetwork", True)),
    ("no-readonly-rootfs", "container-security-context",
     lambda b: _c0(b)["securityContext"].pop("readOnlyRootFilesystem")),
    ("privilege-escalation", "container-security-context",
     lambda b: _c0(b)["securityContext"].__setitem__("allowPrivilegeEscalation", True)),
    ("privileged", "container-security-context",
     lambda b: _c0(b)["securityContext"].__setitem__("privileged", True)),
    ("caps-not-dropped", "container-security-context",
     lambda b: _c0(b)["securityContext"]["capabilities"].__setitem__("drop", [])),
    ("caps-added", "container-security-context",
     lambda b: _c0(b)["securityContext"]["capabilities"].__setitem__("add", ["NET_ADMIN"])),
    ("no-liveness", "probes", lambda b: _c0(b).pop("livenessProbe")),
    ("readiness-wrong-path", "probes",
     lambda b: _c0(b)["readinessProbe"]["httpGet"].__setitem__("path", "/healthz")),
    ("no-memory-limit", "resources", lambda b: _c0(b)["resources"].pop("limits")),
    ("short-grace", "termination-grace",
     lambda b: pod_spec(_dep(b)).__setitem__("terminationGracePeriodSeconds", 25)),
    ("env-typo", "env-contract", lambda b: _c0(b)["env"].append(
        {"name": "ROLLOUT_TIMEOUTS", "value": "1"})),
    ("no-token", "service-account",
     lambda b: pod_spec(_dep(b)).__setitem__("automountServiceAccountToken", False)),
    ("nodeport", "service-clusterip",
     lambda b: by_kind(b, "Service")[0]["spec"].__setitem__("type", "NodePort")),
    ("ingress-without-tls", "ingress-tls", lambda b: by_kind(b, "Ingress")[0]["spec"].pop("tls")),
    ("ingress-exposes-metrics", "ingress-tls",
     lambda b: get(by_kind(b, "Ingress")[0], "spec", "rules", 0, "http", "paths").append(
         {"path": "/metrics", "pathType": "Exact"})),
    ("ingress-healthz-prefix", "ingress-tls",
     lambda b: get(by_kind(b, "Ingress")[0], "spec", "rules", 0, "http", "paths", 1).__setitem__(
         "pathType", "Prefix")),
    ("ingress-no-class", "ingress-tls", lambda b: by_kind(b, "Ingress")[0]["spec"].pop("ingressClassName")),
    ("one-policy-type", "networkpolicy-types",
     lambda b: _netpol0(b)["spec"].__setitem__("policyTypes", ["Ingress"])),
    ("ingress-any-port", "networkpolicy-ingress",
     lambda b: _netpol0(b)["spec"]["ingress"][0].pop("ports")),
    ("ingress-from-anywhere", "networkpolicy-ingress",
     lambda b: _netpol0(b)["spec"]["ingress"][0].pop("from")),
    ("egress-any-port", "networkpolicy-egress",
     lambda b: _netpol0(b)["spec"]["egress"].append({"to": [{"ipBlock": {"cidr": "0.0.0.0/0"}}]})),
    ("egress-ssh", "networkpolicy-egress",
     lambda b: _netpol0(b)["spec"]["egress"][1]["ports"].append({"protocol": "TCP", "port": 22})),
    ("kustomization-namespace", "kustomization",
     lambda b: b["kustomization"].__setitem__("namespace", NAMESPACE)),
]


SOCKET_MUTATIONS = [
    ("socket-mode-service", "socket-mode-no-service-ingress", lambda b: _add(b, {
        "apiVersion": "v1", "kind": "Service", "metadata": {"name": APP, "namespace": NAMESPACE}})),
    ("socket-mode-ingress-rule", "socket-mode-networkpolicy",
     lambda b: _netpol0(b)["spec"].__setitem__("ingress", [{"ports": [{"protocol": "TCP", "port": 5000}]}])),
    ("socket-mode-no-ingress-type", "socket-mode-networkpolicy",
     lambda b: _netpol0(b)["spec"].__setitem__("policyTypes", ["Egress"])),
    ("socket-mode-egress-drift", "socket-mode-networkpolicy",
     lambda b: _netpol0(b)["spec"]["egress"][1]["ports"].append({"protocol": "TCP", "port": 8443})),
    ("socket-mode-token-literal", "socket-mode-app-token",
     lambda b: _c0(b)["env"].append({"name": "SLACK_APP_TOKEN", "value": "xapp-1-A0-1-abc"})),
    ("socket-mode-token-writable", "socket-mode-app-token",
     lambda b: _mount(b, "slack-app-token").__setitem__("readOnly", False)),
    ("socket-mode-token-other-secret", "socket-mode-app-token",
     lambda b: [v for v in pod_spec(_dep(b))["volumes"] if v["name"] == "slack-app-token"][0][
         "secret"].__setitem__("secretName", "deploy-api")),
    ("socket-mode-signing-secret", "socket-mode-app-token", lambda b: _c0(b)["env"].append(
        {"name": "SLACK_SIGNING_SECRET", "valueFrom": {"secretKeyRef": {"name": SECRET_NAME, "key": SECRET_KEY}}})),
]


def self_tests(base, mutations=None):
    """Each mutation must make its check fail, and that check must pass on
    the unmutated manifests (else the detection proves nothing)."""
    results = []
    baseline = run_checks(base)
    for name, check, mutate in MUTATIONS if mutations is None else mutations:
        if baseline.get(check) is None or baseline.get(check):
            results.append(("detects-" + name, ["check %s already fails or is absent unmutated" % check]))
            continue
        b = copy.deepcopy(base)
        try:
            mutate(b)
        except Exception as e:
            results.append(("detects-" + name, ["mutation no longer applies: %s" % e]))
            continue
        probs = run_checks(b).get(check)
        if probs:
            results.append(("detects-" + name, []))
        else:
            results.append(("detects-" + name, ["check %s missed it" % check]))
    return results


YAML_OK = [
    ("a: 1\nb: 'x # y'  # c\nc: \"q\\\"\"\n", [{"a": 1, "b": "x # y", "c": 'q"'}]),
    ("k:\n- a: 1\n  b: [x, \"y\", 'z']\n-   c: {}\n- - m\n", [
        {"k": [{"a": 1, "b": ["x", "y", "z"]}, {"c": {}}, ["m"]]}]),
    ("# c\n---\nx:\n  y: true\n  z:\n---\n- 0.0.0.0/0\n- \"::/0\"\n- ::1\n",
     [{"x": {"y": True, "z": None}}, ["0.0.0.0/0", "::/0", "::1"]]),
    ("a:\n  - b\n  - c\nd: e-f:g\n", [{"a": ["b", "c"], "d": "e-f:g"}]),
]
YAML_BAD = [
    "a: &x 1\n", "a: *x\n", "a: !!str 1\n", "a: |\n  x\n", "a: >\n  x\n", "a: 1\na: 2\n",
    "a:\n\tb: 1\n", "a: yes\n", "a: b: c\n", "a: [x, [y]]\n", "a: {b: 1}\n", "a: \"open\n",
    "a:\n  b: 1\n   c: 2\n", "- a\nb: 1\n", "a: 1\n - b\n", "a: 'x' y\n", "a: [x\n",
    "<<: {}\n", "a: 0755\n",
]


def yaml_self_tests():
    bad = []
    for text, want in YAML_OK:
        try:
            got = yaml_load_all(text)
        except YamlError as e:
            bad.append("%r: %s" % (text, e))
            continue
        if got != want:
            bad.append("%r parsed as %r, want %r" % (text, got, want))
    rejected = []
    for text in YAML_BAD:
        try:
            got = yaml_load_all(text)
            rejected.append("%r accepted as %r" % (text, got))
        except YamlError:
            pass
    return [("yaml-subset-parses", bad), ("yaml-subset-rejects", rejected)]


# ------------------------------------------------------------- main


def main(argv):
    here = os.path.dirname(os.path.abspath(__file__))
    k8s_dir = argv[1] if len(argv) > 1 else os.path.join(here, "..", "..", "k8s")
    k8s_dir = os.path.abspath(k8s_dir)
    results = []  # (name, problems)

    results += yaml_self_tests()

    bundles = []
    try:
        files = load_files(k8s_dir)
        bundles.append(files)
        results.append(("load-files", []))
    except (OSError, YamlError, AttributeError, IndexError) as e:
        files = None
        results.append(("load-files", ["%s: %s" % (type(e).__name__, e)]))

    cmd = renderer()
    if cmd is None:
        print("SKIP k8s:render: neither kubectl nor kustomize installed; checked the files only")
    else:
        try:
            rendered = render(k8s_dir, cmd)
            bundles.append(rendered)
            results.append(("render", []))
            if files is not None:
                a = sorted(apply_images(files)["objects"], key=ident)
                r = sorted(rendered["objects"], key=ident)
                diff = []
                if [ident(o) for o in a] != [ident(o) for o in r]:
                    diff.append("objects differ: files %s, kustomize %s" % (
                        [ident(o) for o in a], [ident(o) for o in r]))
                else:
                    diff = ["%s differs" % ident(x) for x, y in zip(a, r) if x != y]
                results.append(("render-matches-files", diff))
        except (OSError, RuntimeError, YamlError, subprocess.TimeoutExpired) as e:
            results.append(("render", [str(e)]))

    # The Socket Mode overlay: rendered only (kustomize applies its patch).
    sm_dir = os.path.join(k8s_dir, "socket-mode")
    socket = None
    if os.path.isdir(sm_dir) and cmd is not None:
        try:
            socket = render(sm_dir, cmd, mode="socket", source="socket-mode")
            http = bundles[-1] if bundles else None
            np = _netpol(http) if http else []
            socket["http_egress"] = get(np[0], "spec", "egress") if np else None
            bundles.append(socket)
            results.append(("render-socket-mode", []))
        except (OSError, RuntimeError, YamlError, subprocess.TimeoutExpired) as e:
            results.append(("render-socket-mode", [str(e)]))
    elif os.path.isdir(sm_dir):
        print("SKIP k8s:socket-mode: neither kubectl nor kustomize installed to render the overlay")
    else:
        results.append(("socket-mode", ["no overlay at %s" % sm_dir]))

    per, srcs = {}, {}
    for b in bundles:
        for name, probs in run_checks(b).items():
            per.setdefault(name, []).extend("%s: %s" % (b["source"], p) for p in probs)
            srcs.setdefault(name, []).append(b["source"])
    for name, _, _ in CHECKS:
        if name in per:
            results.append((name + " (" + ", ".join(srcs[name]) + ")", per[name]))

    if files is not None:
        results += self_tests(files)
    if socket is not None:
        results += self_tests(socket, SOCKET_MUTATIONS)

    failed = 0
    for name, probs in results:
        if probs:
            failed += 1
            print("FAIL k8s:%s: %s" % (name, "; ".join(probs)))
        else:
            print("PASS k8s:%s" % name)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
