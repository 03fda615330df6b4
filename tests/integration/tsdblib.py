"""Real time-series servers for the integration tests, on 127.0.0.1 only.

InfluxDB 1.x (`influxd`), VictoriaMetrics (`victoria-metrics`) and Prometheus
(`prometheus`) from their Debian packages, each started from a configuration
written into a temporary directory that also holds all of its data, on free
loopback ports, and stopped (with the directory removed) by stop(). Plus a
simulated plant: `sunwire tigo simulate --tcp` and `sunwire rct simulator`.

Tests skip when a server program is not installed (scripts/deps.sh installs
them).
"""
import base64
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request

from tigolib import free_port  # noqa: F401  (re-exported: the tests take ports from here)

BIN = os.environ.get("SUNWIRE_BIN", "sunwire")


def have(program):
    return shutil.which(program) is not None


def http(method, url, body=None, headers=None, timeout=5):
    """(status, body text); HTTP errors are answers too, connection errors raise OSError."""
    data = body.encode("utf-8") if isinstance(body, str) else body
    req = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, r.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode("utf-8", "replace")


def wait_until(pred, timeout=15.0, step=0.1):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            v = pred()
        except OSError:
            v = None
        if v:
            return v
        time.sleep(step)
    return None


class Server:
    """A child process with its own temporary directory; stop() ends both."""

    name = "server"

    def __init__(self):
        self.tmp = tempfile.mkdtemp(prefix="sw-%s-" % self.name)
        self.proc = None
        self.log = os.path.join(self.tmp, "log.txt")

    def spawn(self, argv):
        self.logf = open(self.log, "wb")
        self.proc = subprocess.Popen(argv, stdout=self.logf, stderr=subprocess.STDOUT, cwd=self.tmp,
                                     start_new_session=True)

    def log_text(self):
        try:
            with open(self.log, "rb") as f:
                return f.read().decode("utf-8", "replace")[-3000:]
        except OSError:
            return ""

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None
        if getattr(self, "logf", None):
            self.logf.close()
            self.logf = None

    def cleanup(self):
        self.stop()
        shutil.rmtree(self.tmp, ignore_errors=True)


class InfluxD(Server):
    """InfluxDB 1.x. With auth, an admin user is created first (allowed while none exists)."""

    name = "influxd"

    def __init__(self, auth=None, port=None):
        super().__init__()
        self.port = port or free_port()
        self.rpc_port = free_port()
        self.auth = auth  # (user, password) or None
        self.url = "http://127.0.0.1:%d" % self.port
        d = self.tmp
        self.conf = os.path.join(d, "influxdb.conf")
        with open(self.conf, "w") as f:
            f.write('reporting-disabled = true\nbind-address = "127.0.0.1:%d"\n'
                    '[meta]\n  dir = "%s/meta"\n'
                    '[data]\n  dir = "%s/data"\n  wal-dir = "%s/wal"\n  query-log-enabled = false\n'
                    '[monitor]\n  store-enabled = false\n'
                    '[subscriber]\n  enabled = false\n'
                    '[continuous_queries]\n  enabled = false\n'
                    '[retention]\n  enabled = false\n'
                    '[http]\n  bind-address = "127.0.0.1:%d"\n  auth-enabled = %s\n  log-enabled = false\n'
                    '[logging]\n  level = "warn"\n  suppress-logo = true\n'
                    % (self.rpc_port, d, d, d, self.port, "true" if auth else "false"))

    def start(self):
        self.spawn(["influxd", "run", "-config", self.conf])
        if not wait_until(lambda: http("GET", self.url + "/ping")[0] == 204, 20):
            raise RuntimeError("influxd did not start: " + self.log_text())
        if self.auth:
            q = "CREATE USER \"%s\" WITH PASSWORD '%s' WITH ALL PRIVILEGES" % self.auth
            st, body = http("POST", self.url + "/query", urllib.parse.urlencode({"q": q}),
                            {"Content-Type": "application/x-www-form-urlencoded"})
            if st != 200:
                raise RuntimeError("cannot create the admin user: %s %s" % (st, body))
        return self

    def _headers(self):
        h = {"Content-Type": "application/x-www-form-urlencoded"}
        if self.auth:
            h["Authorization"] = "Basic " + base64.b64encode(("%s:%s" % self.auth).encode()).decode()
        return h

    def query(self, q, db=None, epoch="ns"):
        """InfluxQL; returns the list of results (each with its series)."""
        params = {"q": q, "epoch": epoch}
        if db:
            params["db"] = db
        st, body = http("POST", self.url + "/query", urllib.parse.urlencode(params), self._headers(), timeout=15)
        if st != 200:
            raise AssertionError("query %r: HTTP %d %s" % (q, st, body))
        res = json.loads(body)["results"]
        for r in res:
            if "error" in r:
                raise AssertionError("query %r: %s" % (q, r["error"]))
        return res

    def rows(self, q, db):
        """Every row of every series of the first result, as dicts (tags merged in)."""
        out = []
        for s in self.query(q, db)[0].get("series", []):
            for v in s["values"]:
                row = dict(zip(s["columns"], v))
                row.update(s.get("tags", {}))
                row["_measurement"] = s["name"]
                out.append(row)
        return out

    def write(self, db, lines, precision="s"):
        url = "%s/write?%s" % (self.url, urllib.parse.urlencode({"db": db, "precision": precision}))
        h = {"Content-Type": "text/plain"}
        if self.auth:
            h["Authorization"] = self._headers()["Authorization"]
        return http("POST", url, lines, h, timeout=15)


class VictoriaMetrics(Server):
    name = "victoria-metrics"

    def __init__(self):
        super().__init__()
        self.port = free_port()
        self.url = "http://127.0.0.1:%d" % self.port

    def start(self):
        self.spawn(["victoria-metrics", "-httpListenAddr=127.0.0.1:%d" % self.port,
                    "-storageDataPath=%s/data" % self.tmp, "-loggerLevel=ERROR",
                    "-search.latencyOffset=0s", "-search.disableCache"])
        if not wait_until(lambda: http("GET", self.url + "/health")[0] == 200, 20):
            raise RuntimeError("victoria-metrics did not start: " + self.log_text())
        return self

    def export(self, match):
        """Every series matching the selector: list of {metric, values, timestamps}."""
        http("GET", self.url + "/internal/force_flush")
        st, body = http("GET", self.url + "/api/v1/export?" + urllib.parse.urlencode({"match[]": match}),
                        timeout=15)
        if st != 200:
            raise AssertionError("export %s: HTTP %d %s" % (match, st, body))
        return [json.loads(l) for l in body.splitlines() if l.strip()]


class Prometheus(Server):
    """Prometheus scraping the given targets (host:port) every `interval`."""

    name = "prometheus"

    def __init__(self, targets, interval="1s"):
        super().__init__()
        self.port = free_port()
        self.url = "http://127.0.0.1:%d" % self.port
        self.conf = os.path.join(self.tmp, "prometheus.yml")
        with open(self.conf, "w") as f:
            f.write("global:\n  scrape_interval: %s\n  evaluation_interval: %s\n"
                    "scrape_configs:\n  - job_name: sunwire\n    static_configs:\n      - targets: [%s]\n"
                    % (interval, interval, ", ".join('"%s"' % t for t in targets)))

    def start(self):
        self.spawn(["prometheus", "--config.file=" + self.conf, "--storage.tsdb.path=" + self.tmp + "/data",
                    "--web.listen-address=127.0.0.1:%d" % self.port, "--log.level=warn"])
        if not wait_until(lambda: http("GET", self.url + "/-/ready")[0] == 200, 30):
            raise RuntimeError("prometheus did not start: " + self.log_text())
        return self

    def query(self, expr, at=None):
        params = {"query": expr}
        if at is not None:
            params["time"] = "%.3f" % at
        st, body = http("GET", self.url + "/api/v1/query?" + urllib.parse.urlencode(params), timeout=15)
        doc = json.loads(body)
        if st != 200 or doc.get("status") != "success":
            raise AssertionError("query %r: HTTP %d %s" % (expr, st, body))
        return doc["data"]["result"]


class Plant:
    """A simulated plant on loopback: a Tigo bus (TCP) and an RCT inverter, stopped by stop()."""

    def __init__(self, start="2026-06-21T11:00:00Z", speed=10, gateways=1, panels=4):
        self.tigo = subprocess.Popen([BIN, "tigo", "simulate", "--tcp", "--port", "0", "--start", start,
                                      "--speed", str(speed), "--gateways", str(gateways), "--panels",
                                      str(panels)], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        line = self.tigo.stdout.readline().decode()
        m = re.search(r"listening on [^:\s]+:(\d+)", line)
        if not m:
            self.stop()
            raise RuntimeError("tigo simulate: %r" % line)
        self.tigo_port = int(m.group(1))
        self.rct_tmp = tempfile.mkdtemp(prefix="sw-rctsim-")
        port_file = os.path.join(self.rct_tmp, "port")
        self.rct = subprocess.Popen([BIN, "rct", "simulator", "--host", "127.0.0.1", "--port", "0",
                                     "--port-file", port_file], stdout=subprocess.DEVNULL,
                                    stderr=subprocess.DEVNULL)
        def read_port():
            if not os.path.exists(port_file):
                return None
            with open(port_file, encoding="ascii") as f:
                return f.read().strip()

        text = wait_until(read_port, 10, 0.02)
        if not text:
            self.stop()
            raise RuntimeError("rct simulator did not start")
        self.rct_port = int(text)

    def config(self):
        """The [tigo] and [rct] sections of a daemon reading this plant."""
        return ("[tigo roof]\ntcp = 127.0.0.1:%d\n\n[rct house]\nhost = 127.0.0.1\nport = %d\n\n"
                % (self.tigo_port, self.rct_port))

    def stop(self):
        for p in (getattr(self, "tigo", None), getattr(self, "rct", None)):
            if p and p.poll() is None:
                p.send_signal(signal.SIGTERM)
                try:
                    p.wait(10)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()
        if getattr(self, "tigo", None) and self.tigo.stdout:
            self.tigo.stdout.close()
        if getattr(self, "rct_tmp", None):
            shutil.rmtree(self.rct_tmp, ignore_errors=True)


class Daemon:
    """`sunwire run --config` with a written configuration; stderr kept in a file."""

    def __init__(self, tmpdir, config, env=None):
        self.cfg = os.path.join(tmpdir, "sunwire.ini")
        with open(self.cfg, "w") as f:
            f.write(config)
        self.errpath = os.path.join(tmpdir, "daemon.err")
        self.err = open(self.errpath, "wb")
        e = dict(os.environ)
        e.setdefault("SUNWIRE_LOG", "warn")
        if env:
            e.update(env)
        self.proc = subprocess.Popen([BIN, "run", "--config", self.cfg], stdout=subprocess.DEVNULL,
                                     stderr=self.err, env=e)

    def stderr(self):
        with open(self.errpath, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def stop(self, sig=signal.SIGTERM):
        rc = None
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                rc = self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        else:
            rc = self.proc.returncode
        self.err.close()
        return rc
