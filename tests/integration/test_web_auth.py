"""The dashboard, its API and /metrics beyond loopback: credentials, refusals and TLS.

`sunwire run` with a Tigo bridge on loopback as its source and the HTTP server
bound to 0.0.0.0 (every address of the machine, so beyond loopback); the
requests go to 127.0.0.1 over real sockets. The credentials come from
`sunwire hash-password`; the TLS certificate is made for the test with the
openssl program and the client verifies it.
"""
import base64
import http.client
import json
import os
import re
import shutil
import ssl
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from runlib import BIN, Daemon, TigoBridge, wait_until  # noqa: E402

TOKEN = "a-long-random-token-for-the-test"
USER, PASSWORD = "alice", "correct horse battery staple"


def hash_password(*args, secret):
    r = subprocess.run([BIN, "hash-password", *args], input=(secret + "\n").encode(), capture_output=True,
                       timeout=30)
    assert r.returncode == 0, r.stderr
    return r.stdout.decode().strip()


def basic(user, password):
    return "Basic " + base64.b64encode(("%s:%s" % (user, password)).encode()).decode()


class Server:
    """`sunwire run` with a config file; knows its HTTP port once the log names it."""

    def __init__(self, test, http_keys, extra="", args=(), scheme="http"):
        self.dir = tempfile.TemporaryDirectory()
        test.addCleanup(self.dir.cleanup)
        self.bridge = TigoBridge([b""])
        test.addCleanup(self.bridge.stop)
        self.conf = os.path.join(self.dir.name, "sunwire.ini")
        with open(self.conf, "w") as f:
            f.write("[tigo roof]\ntcp = 127.0.0.1:%d\n\n[http]\nport = 0\n%s\n%s" %
                    (self.bridge.port, http_keys, extra))
        self.d = Daemon(["--config", self.conf, *args])
        test.addCleanup(self.d.close)
        m = wait_until(lambda: re.search(r"dashboard on %s://\S+:(\d+)/" % scheme, self.d.stderr()), timeout=15)
        if not m:
            raise AssertionError("no dashboard address in the log:\n" + self.d.stderr())
        self.port = int(m.group(1))

    def log(self):
        return self.d.stderr()


def request(port, path="/api/state", headers=None, method="GET", context=None):
    if context:
        c = http.client.HTTPSConnection("127.0.0.1", port, timeout=10, context=context)
    else:
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        c.request(method, path, headers=headers or {})
        r = c.getresponse()
        body = r.read()
        return r.status, r, body
    finally:
        c.close()


class HashPassword(unittest.TestCase):
    def test_the_stored_forms(self):
        import hashlib
        line = hash_password("--token", secret=TOKEN)
        self.assertEqual(line, "token_sha256 = " + hashlib.sha256(TOKEN.encode()).hexdigest().upper())
        a, b = (hash_password("--user", USER, secret=PASSWORD) for _ in range(2))
        self.assertNotEqual(a, b)  # a new salt each time
        m = re.fullmatch(r"basic_auth = alice:\$sha256\$([0-9A-F]{32})\$([0-9A-F]{64})", a)
        self.assertTrue(m, a)
        self.assertEqual(hashlib.sha256(bytes.fromhex(m.group(1)) + PASSWORD.encode()).hexdigest().upper(),
                         m.group(2))
        r = subprocess.run([BIN, "hash-password", "--new-token"], capture_output=True, text=True, timeout=30)
        self.assertEqual(r.returncode, 0, r.stderr)
        kv = dict(l.split(" = ") for l in r.stdout.splitlines() if not l.startswith("#"))
        self.assertEqual(len(kv["token"]), 64)
        self.assertEqual(hashlib.sha256(kv["token"].encode()).hexdigest().upper(), kv["token_sha256"])
        # nothing to hash, or a bad command line
        r = subprocess.run([BIN, "hash-password"], input=b"", capture_output=True, timeout=30)
        self.assertEqual(r.returncode, 1)
        r = subprocess.run([BIN, "hash-password", "--user", "a:b"], input=b"x\n", capture_output=True, timeout=30)
        self.assertEqual(r.returncode, 2)


class RefusedStart(unittest.TestCase):
    def run_config(self, text, *args):
        d = tempfile.TemporaryDirectory()
        self.addCleanup(d.cleanup)
        path = os.path.join(d.name, "s.ini")
        with open(path, "w") as f:
            f.write("[tigo roof]\ntcp = 127.0.0.1:9\n" + text)
        return subprocess.run([BIN, "run", "--config", path, *args], capture_output=True, timeout=30)

    def test_no_credentials_beyond_loopback_is_refused(self):
        for text, section in (("[http]\nbind = 0.0.0.0\nport = 0\n", "http"),
                              ("[http]\nbind = ::\nport = 0\n", "http"),
                              ("[prometheus]\nbind = 0.0.0.0\nport = 0\n", "prometheus")):
            for args in (["--check"], []):
                r = self.run_config(text, *args)
                self.assertEqual(r.returncode, 2, (text, args, r.stderr))
                err = r.stderr.decode()
                self.assertIn("[%s] bind" % section, err)
                self.assertIn("needs authentication", err)
                self.assertIn("insecure_no_auth", err)
        # loopback needs nothing, as before
        self.assertEqual(self.run_config("[http]\nbind = 127.0.0.2\nport = 0\n", "--check").returncode, 0)
        # half a TLS configuration
        r = self.run_config("[http]\nport = 0\ntls_cert = /nonexistent.pem\n", "--check")
        self.assertEqual(r.returncode, 2)
        self.assertIn("without tls_key", r.stderr.decode())

    def test_flag_beyond_loopback_is_refused_too(self):
        r = subprocess.run([BIN, "run", "--tigo-tcp", "127.0.0.1:9", "--http", "0.0.0.0:0", "--check"],
                           capture_output=True, timeout=30)
        self.assertEqual(r.returncode, 2)
        self.assertIn("--insecure-no-auth", r.stderr.decode())

    def test_insecure_no_auth_starts_with_a_warning(self):
        bridge = TigoBridge([b""])
        self.addCleanup(bridge.stop)
        d = Daemon(["--tigo-tcp", "127.0.0.1:%d" % bridge.port, "--http", "0.0.0.0:0", "--insecure-no-auth"])
        self.addCleanup(d.close)
        m = wait_until(lambda: re.search(r"dashboard on http://\S+:(\d+)/", d.stderr()), timeout=15)
        self.assertTrue(m, d.stderr())
        self.assertRegex(d.stderr(), r"WARN.*WITHOUT authentication")
        status, _, body = request(int(m.group(1)))
        self.assertEqual(status, 200)
        self.assertIn("panels", json.loads(body))
        # credentials sent in clear to an address beyond loopback: a warning
        self.assertNotIn("plain HTTP", d.stderr())
        status, _, _ = request(int(m.group(1)), headers={"Authorization": "Bearer whatever"})
        self.assertEqual(status, 200)
        self.assertTrue(wait_until(lambda: "came over plain HTTP" in d.stderr(), timeout=5), d.stderr())
        self.assertEqual(d.stop(), 0)


class Credentials(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.token_line = hash_password("--token", secret=TOKEN)
        cls.basic_line = hash_password("--user", USER, secret=PASSWORD)
        assert TOKEN not in cls.token_line and PASSWORD not in cls.basic_line

    def keys(self, extra=""):
        return "bind = 0.0.0.0\n%s\n%s\n%s" % (self.token_line, self.basic_line, extra)

    def test_every_refusal_and_the_right_credentials(self):
        s = Server(self, self.keys(), extra="[prometheus]\nenable = yes\n")
        for path in ("/api/state", "/", "/metrics", "/api/events", "/nonexistent"):
            status, r, body = request(s.port, path)
            self.assertEqual(status, 401, path)
            self.assertEqual(json.loads(body)["error"], "authentication required")
            challenges = r.msg.get_all("WWW-Authenticate")
            self.assertIn('Basic realm="sunwire", charset="UTF-8"', challenges)
            self.assertIn('Bearer realm="sunwire"', challenges)
        refusals = [
            {"Authorization": "Bearer wrong-token"},
            {"Authorization": "Bearer " + TOKEN + "x"},
            {"Authorization": basic(USER, "wrong password")},
            {"Authorization": basic("mallory", PASSWORD)},
            {"Authorization": "Basic not-base64!"},
            {"Authorization": "Digest username=alice"},
            {"Authorization": TOKEN},
        ]
        for h in refusals:
            status, r, body = request(s.port, headers=h)
            self.assertEqual(status, 401, h)
            self.assertEqual(json.loads(body)["error"], "wrong credentials", h)
        self.assertIn("refused a request from 127.0.0.1: wrong credentials", s.log())
        for h in ({"Authorization": "Bearer " + TOKEN}, {"Authorization": basic(USER, PASSWORD)}):
            for path in ("/api/state", "/", "/metrics"):
                status, _, body = request(s.port, path, headers=h)
                self.assertEqual(status, 200, (path, h))
            # the API stays read-only, with the right credentials too
            status, _, _ = request(s.port, "/api/state", headers=h, method="POST")
            self.assertEqual(status, 405)
        # the credentials went over plain HTTP to an address beyond loopback
        self.assertRegex(s.log(), r"WARN.*credentials from 127\.0\.0\.1 came over plain HTTP")
        self.assertEqual(s.d.stop(), 0)

    def test_expired_credentials(self):
        s = Server(self, self.keys("auth_expires = 2024-01-01T00:00:00Z"))
        for h in ({"Authorization": "Bearer " + TOKEN}, {"Authorization": basic(USER, PASSWORD)},
                  {"Authorization": basic(USER, "wrong")}):
            status, _, body = request(s.port, headers=h)
            self.assertEqual(status, 401)
            self.assertEqual(json.loads(body)["error"], "credentials expired", h)
        status, _, body = request(s.port)
        self.assertEqual(json.loads(body)["error"], "authentication required")
        self.assertIn("expired credentials", s.log())
        # an end still ahead lets them in
        s2 = Server(self, self.keys("auth_expires = 2999-01-01"))
        self.assertEqual(request(s2.port, headers={"Authorization": basic(USER, PASSWORD)})[0], 200)

    def test_credentials_on_loopback_are_required_too(self):
        s = Server(self, "bind = 127.0.0.1\n" + self.token_line)
        self.assertEqual(request(s.port)[0], 401)
        self.assertEqual(request(s.port, headers={"Authorization": "Bearer " + TOKEN})[0], 200)
        self.assertNotIn("plain HTTP", s.log())  # loopback: nobody else on the way

    def test_metrics_server_of_its_own(self):
        d = tempfile.TemporaryDirectory()
        self.addCleanup(d.cleanup)
        bridge = TigoBridge([b""])
        self.addCleanup(bridge.stop)
        conf = os.path.join(d.name, "p.ini")
        with open(conf, "w") as f:
            f.write("[tigo roof]\ntcp = 127.0.0.1:%d\n[prometheus]\nbind = 0.0.0.0\nport = 0\n%s\n" %
                    (bridge.port, self.token_line))
        dm = Daemon(["--config", conf])
        self.addCleanup(dm.close)
        m = wait_until(lambda: re.search(r"metrics on http://\S+:(\d+)/metrics", dm.stderr()), timeout=15)
        self.assertTrue(m, dm.stderr())
        port = int(m.group(1))
        self.assertEqual(request(port, "/metrics")[0], 401)
        self.assertEqual(request(port, "/metrics", headers={"Authorization": "Bearer nope"})[0], 401)
        status, _, body = request(port, "/metrics", headers={"Authorization": "Bearer " + TOKEN})
        self.assertEqual(status, 200)
        self.assertIn(b"# TYPE", body)


@unittest.skipUnless(shutil.which("openssl"), "the openssl program is not installed")
class Tls(unittest.TestCase):
    def setUp(self):
        feats = subprocess.run([BIN, "features"], capture_output=True, text=True, timeout=10).stdout
        if not re.search(r"^HTTPS.*: enabled", feats, re.M):
            self.skipTest("no TLS in this libmicrohttpd")
        self.dir = tempfile.TemporaryDirectory()
        self.addCleanup(self.dir.cleanup)
        self.cert = os.path.join(self.dir.name, "cert.pem")
        self.key = os.path.join(self.dir.name, "key.pem")
        r = subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                            "-nodes", "-days", "2", "-subj", "/CN=sunwire test", "-addext",
                            "subjectAltName=IP:127.0.0.1,DNS:localhost", "-keyout", self.key, "-out", self.cert],
                           capture_output=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.token_line = hash_password("--token", secret=TOKEN)

    def test_https_with_a_verified_certificate(self):
        s = Server(self, "bind = 0.0.0.0\n%s\ntls_cert = %s\ntls_key = %s\n" % (self.token_line, self.cert, self.key),
                   scheme="https")
        ctx = ssl.create_default_context(cafile=self.cert)  # verifies the chain and the address
        status, _, body = request(s.port, headers={"Authorization": "Bearer " + TOKEN}, context=ctx)
        self.assertEqual(status, 200)
        self.assertIn("panels", json.loads(body))
        self.assertEqual(request(s.port, context=ctx)[0], 401)
        self.assertEqual(request(s.port, headers={"Authorization": "Bearer x"}, context=ctx)[0], 401)
        # a client that trusts another certificate refuses the server
        other = ssl.create_default_context()
        with self.assertRaises(ssl.SSLError):
            request(s.port, context=other)
        # plain HTTP to the HTTPS port gets no page
        with self.assertRaises((http.client.HTTPException, ConnectionError, OSError)):
            st, _, _ = request(s.port, headers={"Authorization": "Bearer " + TOKEN})
            if st == 200:
                raise AssertionError("plain HTTP served")
            raise ConnectionError("refused")
        # credentials over TLS are no cause for a warning
        self.assertNotIn("plain HTTP", s.log())
        self.assertEqual(s.d.stop(), 0)

    def test_unusable_certificate_stops_the_start(self):
        with open(self.cert, "w") as f:
            f.write("not a certificate\n")
        d = tempfile.TemporaryDirectory()
        self.addCleanup(d.cleanup)
        conf = os.path.join(d.name, "t.ini")
        with open(conf, "w") as f:
            f.write("[tigo roof]\ntcp = 127.0.0.1:9\n[http]\nport = 0\ntls_cert = %s\ntls_key = %s\n" %
                    (self.cert, self.key))
        r = subprocess.run([BIN, "run", "--config", conf], capture_output=True, timeout=30)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("not usable", r.stderr.decode())


if __name__ == "__main__":
    unittest.main()
