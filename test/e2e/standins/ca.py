"""A throwaway certificate authority made with the openssl CLI.

TestCA(dir) creates an ECDSA P-256 CA under dir; issue() makes server
certificates with DNS SANs (BearSSL checks DNS names only, never IP SANs).
"""

import datetime
import os
import ssl
import subprocess
import threading

_REQ_CNF = """\
[req]
distinguished_name = dn
prompt = no
[dn]
CN = unused
[v3_ca]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
"""

_CA_CNF = """\
[ca]
default_ca = tca
[tca]
database = {db}/index.txt
serial = {db}/serial
new_certs_dir = {db}
default_md = sha256
policy = pol
unique_subject = no
copy_extensions = none
[pol]
commonName = supplied
[srv]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
subjectAltName = {san}
"""


def _run(args, cwd):
    p = subprocess.run(args, cwd=cwd, stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, timeout=30)
    if p.returncode != 0:
        raise RuntimeError("openssl failed: %s\n%s" %
                           (" ".join(args), p.stdout.decode(errors="replace")))


def _stamp(t):
    return t.strftime("%Y%m%d%H%M%SZ")


class TestCA:
    """A CA in directory `dir` (created if missing).

    Attributes: dir, name, key_type, cert (CA certificate PEM path),
    key (CA key PEM path). Methods: issue(), expired(), other_ca(),
    server_context(), client_context(), bundle().
    """

    __test__ = False  # not a test class, whatever a runner thinks

    def __init__(self, dir, name="deploy-api test CA", key_type="ec"):
        self.dir = os.path.abspath(dir)
        self.name = name
        self.key_type = key_type
        self._lock = threading.Lock()
        self._db = os.path.join(self.dir, "db")
        os.makedirs(self._db, exist_ok=True)
        self._req_cnf = os.path.join(self.dir, "req.cnf")
        with open(self._req_cnf, "w") as f:
            f.write(_REQ_CNF)
        with open(os.path.join(self._db, "index.txt"), "w"):
            pass
        with open(os.path.join(self._db, "serial"), "w") as f:
            f.write("%s\n" % os.urandom(8).hex())
        self.cert = os.path.join(self.dir, "ca.crt")
        self.key = os.path.join(self.dir, "ca.key")
        _run(["openssl", "req", "-x509", "-config", self._req_cnf,
              "-extensions", "v3_ca"] + self._newkey() +
             ["-nodes", "-keyout", self.key, "-out", self.cert,
              "-subj", "/CN=" + name, "-days", "3650"], self.dir)

    def _newkey(self):
        if self.key_type == "rsa":
            return ["-newkey", "rsa:2048"]
        return ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"]

    def issue(self, name, dns=("localhost",), ips=(), not_before=None,
              not_after=None, days=30):
        """Issue a server certificate `name` with DNS SANs `dns` (and IP SANs
        `ips`, which BearSSL ignores). Returns (cert_path, key_path); the cert
        file holds the leaf only. Times are datetime (UTC) or None."""
        if not dns and not ips:
            raise ValueError("a certificate needs at least one SAN")
        now = datetime.datetime.now(datetime.timezone.utc)
        nb = not_before or now - datetime.timedelta(hours=1)
        na = not_after or now + datetime.timedelta(days=days)
        san = ",".join(["DNS:" + d for d in dns] + ["IP:" + i for i in ips])
        base = os.path.join(self.dir, name)
        cert, key, csr = base + ".crt", base + ".key", base + ".csr"
        with self._lock:
            cnf = os.path.join(self.dir, name + ".cnf")
            with open(cnf, "w") as f:
                f.write(_CA_CNF.format(db=self._db, san=san))
            _run(["openssl", "req", "-new", "-config", self._req_cnf] +
                 self._newkey() + ["-nodes", "-keyout", key, "-out", csr,
                                   "-subj", "/CN=" + (dns[0] if dns else name)],
                 self.dir)
            _run(["openssl", "ca", "-batch", "-config", cnf, "-cert",
                  self.cert, "-keyfile", self.key, "-in", csr, "-out", cert,
                  "-startdate", _stamp(nb), "-enddate", _stamp(na),
                  "-extensions", "srv", "-notext"], self.dir)
        return cert, key

    def expired(self, name, dns=("localhost",)):
        """A certificate valid only in January 2020. Returns (cert, key)."""
        return self.issue(name, dns,
                          not_before=datetime.datetime(2020, 1, 1),
                          not_after=datetime.datetime(2020, 2, 1))

    def other_ca(self, name="unrelated test CA"):
        """A second, unrelated TestCA in a subdirectory of this one."""
        return TestCA(os.path.join(self.dir, "other-" + name.replace(" ", "-")),
                      name, self.key_type)

    def bundle(self, path, *extra_pems):
        """Write this CA's certificate plus the given PEM files into `path`
        (a trust bundle). Returns path."""
        with open(path, "w") as out:
            for p in (self.cert,) + extra_pems:
                with open(p) as f:
                    out.write(f.read())
        return path

    @staticmethod
    def server_context(cert, key, tls12_only=False):
        """An ssl.SSLContext serving cert/key, TLS 1.2 minimum (1.2 only
        when tls12_only)."""
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.minimum_version = ssl.TLSVersion.TLSv1_2
        if tls12_only:
            ctx.maximum_version = ssl.TLSVersion.TLSv1_2
        ctx.load_cert_chain(cert, key)
        return ctx

    def client_context(self, tls12_only=False):
        """An ssl.SSLContext trusting only this CA (hostname checked)."""
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.load_verify_locations(self.cert)
        if tls12_only:
            ctx.maximum_version = ssl.TLSVersion.TLSv1_2
        return ctx
