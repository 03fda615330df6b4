"""Helpers for the dashboard's integration and browser tests.

Two servers can stand behind the dashboard in a test:
  - the fixture (sw_web_fixture in the build directory): a real model fed by a
    fixed synthetic installation, deterministic enough to compare values;
  - `sunwire demo`: the whole product on its simulators.
Both print where they listen; both are stopped (and waited for) by the test.
"""
import json
import os
import re
import select
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request

BUILD = os.environ.get("SW_BUILD_DIR", "")
SUNWIRE = os.environ.get("SUNWIRE_BIN", "")


def fixture_path():
    return os.path.join(BUILD, "sw_web_fixture")


class Server:
    """A dashboard server running in a child process on 127.0.0.1."""

    def __init__(self, argv, port_pattern, env=None, timeout=20):
        self.tmp = tempfile.TemporaryDirectory(prefix="sw-web-test-")
        self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, env=env, cwd=self.tmp.name)
        self.port = None
        self.stdout_text = ""
        deadline = time.time() + timeout
        buf = b""
        while time.time() < deadline and self.port is None:
            r, _, _ = select.select([self.proc.stdout], [], [], 0.2)
            if r:
                chunk = os.read(self.proc.stdout.fileno(), 4096)
                if not chunk:
                    break
                buf += chunk
                m = re.search(port_pattern, buf.decode("utf-8", "replace"))
                if m:
                    self.port = int(m.group(1))
            if self.proc.poll() is not None:
                break
        self.stdout_text = buf.decode("utf-8", "replace")
        if self.port is None:
            err = self.stop()
            raise RuntimeError("server did not start: %r\nstdout: %s\nstderr: %s"
                               % (argv, self.stdout_text, err))
        self.base = "http://127.0.0.1:%d" % self.port
        wait_http(self.base + "/api/state", timeout)

    def stop(self):
        """Stop the child and return its stderr (closing stdin is what the fixture waits for)."""
        err = ""
        if self.proc.poll() is None:
            try:
                self.proc.stdin.close()
            except OSError:
                pass
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        try:
            err = self.proc.stderr.read().decode("utf-8", "replace")
        except (OSError, ValueError):
            pass
        for f in (self.proc.stdout, self.proc.stderr, self.proc.stdin):
            try:
                f.close()
            except (OSError, ValueError):
                pass
        self.tmp.cleanup()
        self.returncode = self.proc.returncode
        return err


def start_fixture(history=False, interval_ms=1000, problems=False):
    argv = [fixture_path(), "--interval-ms", str(interval_ms)] + (["--problems"] if problems else [])
    srv = None
    if history:
        tmp = tempfile.mkdtemp(prefix="sw-web-hist-")
        argv += ["--history", os.path.join(tmp, "history.db")]
    srv = Server(argv, r"PORT (\d+)")
    if history:
        srv.history_dir = tmp
    return srv


def demo_available():
    if not SUNWIRE or not os.path.exists(SUNWIRE):
        return False
    r = subprocess.run([SUNWIRE, "demo", "--help"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    return r.returncode == 0


def start_demo(extra=()):
    env = dict(os.environ)
    env.setdefault("SUNWIRE_LOG", "warn")
    return Server([SUNWIRE, "demo"] + list(extra), r"dashboard\s+http://127\.0\.0\.1:(\d+)/", env=env, timeout=30)


def wait_http(url, timeout):
    deadline = time.time() + timeout
    last = None
    while time.time() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                r.read()
                return
        except (urllib.error.URLError, ConnectionError, OSError) as e:
            last = e
            time.sleep(0.1)
    raise RuntimeError("no answer from %s: %s" % (url, last))


def get(url):
    """(status, headers, body bytes) without raising on 4xx/5xx."""
    req = urllib.request.Request(url)
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, r.headers, r.read()
    except urllib.error.HTTPError as e:
        body = e.read()
        return e.code, e.headers, body


def get_json(url):
    status, headers, body = get(url)
    return status, headers, json.loads(body.decode("utf-8"))


def raw_request(port, text, timeout=5):
    """Send raw bytes and return everything the server answers until it closes."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(text.encode("latin-1") if isinstance(text, str) else text)
        out = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                return out
            out += chunk


class SSEReader:
    """Read Server-Sent Events from a raw socket (HTTP/1.0, so no chunking)."""

    def __init__(self, port, path="/api/events"):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=5)
        self.sock.sendall(("GET %s HTTP/1.0\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n"
                           % path).encode())
        self.buf = b""
        self.headers = None

    def _fill(self, deadline):
        self.sock.settimeout(max(0.05, deadline - time.time()))
        try:
            chunk = self.sock.recv(65536)
        except socket.timeout:
            return
        if not chunk:
            raise EOFError("event stream closed")
        self.buf += chunk

    def read_headers(self, timeout=5):
        deadline = time.time() + timeout
        while b"\r\n\r\n" not in self.buf and time.time() < deadline:
            self._fill(deadline)
        head, _, rest = self.buf.partition(b"\r\n\r\n")
        self.buf = rest
        self.headers = head.decode("latin-1")
        return self.headers

    def next_event(self, timeout=5):
        """(event name, data) of the next event; comments and retry lines are skipped."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            while b"\n\n" in self.buf:
                block, _, self.buf = self.buf.partition(b"\n\n")
                name, data = None, []
                for line in block.decode("utf-8").split("\n"):
                    if line.startswith("event: "):
                        name = line[7:]
                    elif line.startswith("data: "):
                        data.append(line[6:])
                if data:
                    return name, "\n".join(data)
            self._fill(deadline)
        raise TimeoutError("no event within %.1f s" % timeout)

    def close(self):
        self.sock.close()
