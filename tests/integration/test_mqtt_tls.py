"""The MQTT output over TLS, against a real mosquitto with a throw-away CA.

The broker has a plain listener for the watcher (mosquitto_sub) and TLS
listeners for the publisher under test (tests/programs/sw_mqtt_publisher):
one with a certificate for 127.0.0.1, one whose certificate names another
host, and one that demands a client certificate."""

import os
import tempfile
import time
import unittest

import mqttlib as mq

SKIP = (mq.tools_missing() or (None if mq.OPENSSL else "openssl is not installed")
        or (None if os.path.exists(mq.PUBLISHER) else "test program not built: " + mq.PUBLISHER))


@unittest.skipIf(SKIP, SKIP)
class MqttTlsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        cls.pki = mq.make_pki(cls.tmp.name)
        cls.tls_port, cls.wrong_port, cls.mutual_port = mq.free_port(), mq.free_port(), mq.free_port()
        p = cls.pki
        cls.broker = mq.Broker(extra=[
            "listener %d 127.0.0.1" % cls.tls_port,
            "cafile %s" % p["ca.crt"], "certfile %s" % p["server.crt"], "keyfile %s" % p["server.key"],
            "listener %d 127.0.0.1" % cls.wrong_port,
            "cafile %s" % p["ca.crt"], "certfile %s" % p["wrongname.crt"], "keyfile %s" % p["wrongname.key"],
            "listener %d 127.0.0.1" % cls.mutual_port,
            "cafile %s" % p["ca.crt"], "certfile %s" % p["server.crt"], "keyfile %s" % p["server.key"],
            "require_certificate true",
        ])
        try:
            cls.broker.start()
        except Exception:
            cls.tmp.cleanup()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.broker.close()
        cls.tmp.cleanup()

    def setUp(self):
        self.watcher = mq.Watcher(self.broker.port).start()
        self.pubs = []

    def tearDown(self):
        for pub in self.pubs:
            pub.stop()
            self.assertNotIn("Sanitizer", pub.stderr)
        self.watcher.stop()

    def publisher(self, port, base, **settings):
        settings.update({"base_topic": base, "client_id": base, "reconnect_min": "0.2", "reconnect_max": "0.5"})
        pub = mq.Publisher(port, settings=settings).start()
        self.pubs.append(pub)
        return pub

    def assert_connects(self, pub, base):
        self.assertIsNotNone(self.watcher.wait(topic=base + "/status", payload="online", timeout=10),
                             pub.args)
        self.assertIsNotNone(self.watcher.wait(topic=base + "/panel/4-1000001/state", timeout=10))
        self.assertEqual(pub.stop()["connects"], 1)

    def assert_refused(self, pub, base):
        time.sleep(2.0)
        self.assertIsNone(self.watcher.find(prefix=base + "/"))
        stats = pub.stop()
        self.assertEqual(stats["connects"], 0)
        self.assertIn("cannot connect", pub.stderr)

    def test_ca_file(self):
        pub = self.publisher(self.tls_port, "tls-ca", tls_ca_file=self.pki["ca.crt"])
        self.assert_connects(pub, "tls-ca")

    def test_ca_path(self):
        # A CA directory works like a CA file once it holds the hashed link OpenSSL looks for.
        cadir = os.path.join(self.tmp.name, "cadir")
        os.makedirs(cadir, exist_ok=True)
        import subprocess
        h = subprocess.run([mq.OPENSSL, "x509", "-hash", "-noout", "-in", self.pki["ca.crt"]],
                           check=True, capture_output=True).stdout.decode().strip()
        link = os.path.join(cadir, h + ".0")
        if not os.path.exists(link):
            os.symlink(self.pki["ca.crt"], link)
        pub = self.publisher(self.tls_port, "tls-dir", tls_ca_path=cadir)
        self.assert_connects(pub, "tls-dir")

    def test_unknown_ca_is_refused(self):
        pub = self.publisher(self.tls_port, "tls-other", tls_ca_file=self.pki["otherca.crt"])
        self.assert_refused(pub, "tls-other")

    def test_plain_client_on_tls_port_fails_and_keeps_trying(self):
        pub = self.publisher(self.tls_port, "tls-plain")
        self.assert_refused(pub, "tls-plain")

    def test_wrong_host_name_needs_insecure(self):
        pub = self.publisher(self.wrong_port, "tls-strict", tls_ca_file=self.pki["ca.crt"])
        self.assert_refused(pub, "tls-strict")
        pub2 = self.publisher(self.wrong_port, "tls-insecure", tls_ca_file=self.pki["ca.crt"], tls_insecure="true")
        self.assert_connects(pub2, "tls-insecure")

    def test_client_certificate(self):
        pub = self.publisher(self.mutual_port, "tls-nocert", tls_ca_file=self.pki["ca.crt"])
        self.assert_refused(pub, "tls-nocert")
        pub2 = self.publisher(self.mutual_port, "tls-cert", tls_ca_file=self.pki["ca.crt"],
                              tls_cert_file=self.pki["client.crt"], tls_key_file=self.pki["client.key"])
        self.assert_connects(pub2, "tls-cert")


if __name__ == "__main__":
    unittest.main()
