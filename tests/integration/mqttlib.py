"""Helpers for the MQTT integration tests: a real mosquitto broker on a free
loopback port, a mosquitto_sub watcher that records every message, and the
publishers under test (the synthetic test program or `sunwire run`).

Everything started here is stopped by its own stop() (the tests call it in
tearDown / finally), never by name."""

import json
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time

BIN = os.environ.get("SUNWIRE_BIN", "sunwire")
BUILD = os.environ.get("SW_BUILD_DIR", os.path.join(os.path.dirname(BIN)))
PUBLISHER = os.path.join(BUILD, "tests", "sw_mqtt_publisher")


def find_mosquitto():
    for path in (shutil.which("mosquitto"), "/usr/sbin/mosquitto"):
        if path and os.access(path, os.X_OK):
            return path
    return None


MOSQUITTO = find_mosquitto()
MOSQUITTO_SUB = shutil.which("mosquitto_sub")
MOSQUITTO_PUB = shutil.which("mosquitto_pub")
MOSQUITTO_PASSWD = shutil.which("mosquitto_passwd")


def tools_missing():
    """Why the broker tests cannot run here, or None."""
    for name, path in (("mosquitto", MOSQUITTO), ("mosquitto_sub", MOSQUITTO_SUB),
                       ("mosquitto_pub", MOSQUITTO_PUB)):
        if not path:
            return "%s is not installed (scripts/deps.sh installs it)" % name
    return None


def free_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def wait_until(pred, timeout, step=0.02):
    deadline = time.monotonic() + timeout
    while True:
        value = pred()
        if value:
            return value
        if time.monotonic() >= deadline:
            return value
        time.sleep(step)


class Broker:
    """mosquitto listening on 127.0.0.1:port only; users = {name: password} turns anonymous access off."""

    def __init__(self, port=None, users=None, extra=None):
        self.port = port or free_port()
        self.users = users
        self.extra = extra or []  # more configuration lines, e.g. a TLS listener
        self.tmp = tempfile.TemporaryDirectory()
        self.proc = None
        self.log_path = os.path.join(self.tmp.name, "broker.log")

    def start(self):
        conf = os.path.join(self.tmp.name, "mosquitto.conf")
        # Started as root, mosquitto would switch to its own account, which cannot read our files.
        lines = ["listener %d 127.0.0.1" % self.port, "persistence false",
                 "user %s" % pwd.getpwuid(os.getuid()).pw_name]
        if self.users:
            pwfile = os.path.join(self.tmp.name, "passwords")
            for i, (user, password) in enumerate(sorted(self.users.items())):
                args = [MOSQUITTO_PASSWD, "-b"] + (["-c"] if i == 0 else []) + [pwfile, user, password]
                subprocess.run(args, check=True, capture_output=True)
            os.chmod(pwfile, 0o600)
            lines += ["allow_anonymous false", "password_file %s" % pwfile]
        else:
            lines += ["allow_anonymous true"]
        lines += self.extra
        with open(conf, "w", encoding="ascii") as f:
            f.write("\n".join(lines) + "\n")
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen([MOSQUITTO, "-c", conf], stdout=log, stderr=subprocess.STDOUT)
        log.close()

        def accepting():
            if self.proc.poll() is not None:
                return None
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return True
            except OSError:
                return False

        if not wait_until(accepting, 10):
            log = self.log()
            self.close()
            raise RuntimeError("mosquitto did not start listening: " + log)
        return self

    def log(self):
        try:
            with open(self.log_path, encoding="utf-8", errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def close(self):
        self.stop()
        self.tmp.cleanup()


class Message:
    __slots__ = ("retained", "topic", "payload", "when")

    def __init__(self, retained, topic, payload):
        self.retained = retained
        self.topic = topic
        self.payload = payload
        self.when = time.monotonic()

    def json(self):
        return json.loads(self.payload)

    def __repr__(self):
        return "Message(%r, %r, %r)" % (self.retained, self.topic, self.payload[:80])


class Watcher:
    """mosquitto_sub on `topics`, recording (retained flag, topic, payload) in arrival order."""

    def __init__(self, port, topics=("#",), user=None, password=None):
        self.port = port
        self.topics = list(topics)
        self.user = user
        self.password = password
        self.messages = []
        self.lock = threading.Lock()
        self.proc = None
        self.thread = None

    def auth_args(self):
        args = []
        if self.user:
            args += ["-u", self.user, "-P", self.password or ""]
        return args

    def start(self, probe=True):
        args = [MOSQUITTO_SUB, "-h", "127.0.0.1", "-p", str(self.port), "-F", "%r %t %p"] + self.auth_args()
        topics = self.topics + (["sw-test/probe"] if probe else [])
        for t in topics:
            args += ["-t", t]
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()
        if probe:
            # mosquitto_sub says nothing once subscribed: publish until it hears us.
            def heard():
                subprocess.run([MOSQUITTO_PUB, "-h", "127.0.0.1", "-p", str(self.port), "-t", "sw-test/probe",
                                "-m", "probe"] + self.auth_args(), capture_output=True, timeout=10)
                return wait_until(lambda: self.find(topic="sw-test/probe"), 0.3)
            # Up to 30 s: it returns at the first probe heard, and a busy machine (tests side
            # by side, sanitizer builds) can take more than 10 s to start and subscribe.
            if not wait_until(heard, 30, step=0):
                self.stop()
                raise RuntimeError("mosquitto_sub never subscribed")
        return self

    def _read(self):
        for raw in self.proc.stdout:
            line = raw.decode("utf-8", "replace").rstrip("\n")
            parts = line.split(" ", 2)
            if len(parts) < 2:
                continue
            msg = Message(parts[0] == "1", parts[1], parts[2] if len(parts) > 2 else "")
            with self.lock:
                self.messages.append(msg)

    def snapshot(self):
        with self.lock:
            return [m for m in self.messages if m.topic != "sw-test/probe"]

    def find(self, topic=None, prefix=None, payload=None, since=0, retained=None):
        with self.lock:
            msgs = list(self.messages[since:])
        for m in msgs:
            if topic is not None and m.topic != topic:
                continue
            if prefix is not None and not m.topic.startswith(prefix):
                continue
            if payload is not None and m.payload != payload:
                continue
            if retained is not None and m.retained != retained:
                continue
            return m
        return None

    def wait(self, timeout=10, **kw):
        return wait_until(lambda: self.find(**kw), timeout)

    def count(self):
        with self.lock:
            return len(self.messages)

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.thread:
            self.thread.join(5)
        if self.proc and self.proc.stdout:
            self.proc.stdout.close()
        self.proc = None


def retained(port, topic, user=None, password=None, timeout=2):
    """The retained payload of `topic`, or None when the broker holds none."""
    args = [MOSQUITTO_SUB, "-h", "127.0.0.1", "-p", str(port), "-t", topic, "-C", "1", "-W", str(timeout),
            "-F", "%r %p", "--retained-only"]
    if user:
        args += ["-u", user, "-P", password or ""]
    p = subprocess.run(args, capture_output=True, timeout=timeout + 10)
    out = p.stdout.decode("utf-8", "replace").rstrip("\n")
    if not out.startswith("1 "):
        return None
    return out[2:]


def publish(port, topic, payload, retain=False, user=None, password=None):
    args = [MOSQUITTO_PUB, "-h", "127.0.0.1", "-p", str(port), "-t", topic, "-m", payload]
    if retain:
        args.append("-r")
    if user:
        args += ["-u", user, "-P", password or ""]
    subprocess.run(args, check=True, capture_output=True, timeout=10)


class Publisher:
    """The program under test: tests/programs/sw_mqtt_publisher, talking to 127.0.0.1:port."""

    def __init__(self, port, settings=None, interval_ms=200, panels=3):
        self.port = port
        self.args = [PUBLISHER, "--interval", str(interval_ms), "--panels", str(panels),
                     "--set", "host=127.0.0.1", "--set", "port=%d" % port]
        for key, value in (settings or {}).items():
            self.args += ["--set", "%s=%s" % (key, value)]
        self.proc = None
        self.stdout = ""
        self.stderr = ""

    def start(self):
        self.proc = subprocess.Popen(self.args, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        return self

    def stop(self, sig=signal.SIGTERM):
        """Stop with `sig`; returns the counters it printed (None when killed)."""
        if not self.proc:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            out, err = self.proc.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            out, err = self.proc.communicate()
        self.stdout = out.decode("utf-8", "replace")
        self.stderr = err.decode("utf-8", "replace")
        self.proc = None
        for line in self.stdout.splitlines():
            if line.startswith("{"):
                return json.loads(line)
        return None

    def kill9(self):
        self.stop(signal.SIGKILL)


def components(msg):
    """Entities of a discovery message: (unique_id, entity config, state topic) for both modes."""
    cfg = msg.json()
    if "components" in cfg:
        out = []
        for _key, ent in cfg["components"].items():
            out.append((ent["unique_id"], ent, ent.get("state_topic", cfg.get("state_topic"))))
        return out
    return [(cfg["unique_id"], cfg, cfg.get("state_topic"))]


def template_field(template):
    """'{{ value_json.power }}' -> 'power'; None for a template reading the whole payload
    ('{{ value_json | length }}', the count of a list)."""
    if "value_json." not in template:
        return None
    start = template.index("value_json.") + len("value_json.")
    end = start
    while end < len(template) and (template[end].isalnum() or template[end] == "_"):
        end += 1
    return template[start:end]


OPENSSL = shutil.which("openssl")


def make_pki(directory):
    """A throw-away CA, a server certificate for 127.0.0.1, one for a name that is not the
    address, a client certificate, and a second CA that signed none of them. Returns paths."""
    def run(*args):
        subprocess.run([OPENSSL] + list(args), check=True, capture_output=True, cwd=directory)

    def key(name):
        run("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-out", name + ".key")

    def ca(name):
        key(name)
        run("req", "-x509", "-new", "-key", name + ".key", "-out", name + ".crt", "-days", "2",
            "-subj", "/CN=sunwire test " + name)

    def leaf(name, signer, san):
        key(name)
        run("req", "-new", "-key", name + ".key", "-out", name + ".csr", "-subj", "/CN=" + name)
        ext = os.path.join(directory, name + ".ext")
        with open(ext, "w", encoding="ascii") as f:
            f.write("subjectAltName=%s\n" % san if san else "basicConstraints=CA:FALSE\n")
        run("x509", "-req", "-in", name + ".csr", "-CA", signer + ".crt", "-CAkey", signer + ".key",
            "-CAcreateserial", "-out", name + ".crt", "-days", "2", "-extfile", ext)

    ca("ca")
    ca("otherca")
    leaf("server", "ca", "IP:127.0.0.1")
    leaf("wrongname", "ca", "DNS:not-this-host.invalid")
    leaf("client", "ca", None)
    return {name: os.path.join(directory, name) for name in
            ("ca.crt", "otherca.crt", "server.crt", "server.key", "wrongname.crt", "wrongname.key",
             "client.crt", "client.key")}
