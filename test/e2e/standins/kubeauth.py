"""FakeKube for kubeconfig tests (self-contained; kube.py is not changed).

AuthKube(..., client_ca=PATH) requires a TLS client certificate verified
against the CA certificate(s) in PATH: a client without one fails the
handshake, as an API server with --client-ca-file and no anonymous auth.
Certificates it accepted are listed (subject CN) in .client_cns.

It also answers POST /apis/authorization.k8s.io/v1/selfsubjectaccessreviews
from the stand-in's own rules (allowed_namespaces, deny as (verb, resource)
pairs): allowed both ways, each review logged in .reviews as
(namespace, verb, group, resource, allowed)."""
import json
import ssl

from .kube import ApiError, FakeKube, _dumps, _KubeHandler

SSAR_PATH = "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews"


class _AuthHandler(_KubeHandler):
    def _route(self, kube, path, params, body, is_watch):
        getpeer = getattr(self.request, "getpeercert", None)
        peer = getpeer() if getpeer else None
        if peer:
            cn = dict(x[0] for x in peer.get("subject", ()))["commonName"]
            with kube._lock:
                kube.client_cns.append(cn)
        if path == SSAR_PATH and self.command == "POST":
            return self._review(kube, body)
        return super()._route(kube, path, params, body, is_watch)

    def _review(self, kube, body):
        if kube.token is not None and \
                self.headers.get("Authorization") != "Bearer " + kube.token:
            raise ApiError(401, "Unauthorized")
        try:
            review = json.loads(body)
            ra = review["spec"]["resourceAttributes"]
            ns, verb, res = ra.get("namespace", ""), ra["verb"], ra["resource"]
        except (ValueError, KeyError, TypeError):
            raise ApiError(400, "malformed SelfSubjectAccessReview")
        allowed = (kube.allowed_namespaces is None or
                   ns in kube.allowed_namespaces) and \
            (verb, res) not in kube.deny
        with kube._lock:
            kube.reviews.append((ns, verb, ra.get("group", ""), res, allowed))
        review["status"] = {"allowed": allowed}
        if not allowed:
            review["status"]["reason"] = "no RBAC policy matched"
        self.reply(201, _dumps(review))


class AuthKube(FakeKube):
    handler_class = _AuthHandler

    def __init__(self, *args, client_ca=None, **kw):
        super().__init__(*args, **kw)
        self.client_ca = client_ca
        self.client_cns = []
        self.reviews = []
        if client_ca:
            self._ssl_ctx.verify_mode = ssl.CERT_REQUIRED
            self._ssl_ctx.load_verify_locations(client_ca)
