"""Helpers for the `sunwire run` integration tests.

Everything here talks to 127.0.0.1 only and stops what it starts: the daemon,
the RCT simulator and the little TCP server that plays a Tigo RS-485 bridge.
"""
import json
import os
import queue
import signal
import socket
import subprocess
import tempfile
import threading
import time

BIN = os.environ.get("SUNWIRE_BIN", "sunwire")
DATA = os.environ.get("SW_TEST_DATA", os.path.join(os.path.dirname(__file__), "..", "data"))


def load_vector(relpath):
    with open(os.path.join(DATA, relpath), encoding="utf-8") as f:
        return json.load(f)


def tigo_scenario(name_part):
    """The observer scenario whose name contains name_part."""
    for s in load_vector("tigo/observer_scenarios.json")["scenarios"]:
        if name_part in s["name"]:
            return s
    raise KeyError(name_part)


def wait_until(pred, timeout=10.0, step=0.02):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        v = pred()
        if v:
            return v
        time.sleep(step)
    return pred()


class Daemon:
    """`sunwire run ARGS` with its stdout parsed as JSON lines (use --json)."""

    def __init__(self, args, env=None, cwd=None):
        self.errfile = tempfile.TemporaryFile()
        e = dict(os.environ)
        e.setdefault("SUNWIRE_LOG", "info")
        if env:
            e.update(env)
        self.proc = subprocess.Popen([BIN, "run"] + list(args), stdout=subprocess.PIPE,
                                     stderr=self.errfile, env=e, cwd=cwd)
        self.lines = []
        self.lock = threading.Lock()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        for raw in self.proc.stdout:
            try:
                obj = json.loads(raw)
            except ValueError:
                obj = {"type": "unparsed", "raw": raw.decode("utf-8", "replace")}
            obj["_t"] = time.monotonic()
            with self.lock:
                self.lines.append(obj)

    def records(self, kind=None, **match):
        with self.lock:
            out = list(self.lines)
        return [r for r in out if (kind is None or r.get("type") == kind)
                and all(r.get(k) == v for k, v in match.items())]

    def wait_record(self, kind, timeout=10.0, **match):
        return wait_until(lambda: self.records(kind, **match), timeout)

    def stderr(self):
        self.errfile.seek(0)
        return self.errfile.read().decode("utf-8", "replace")

    def stop(self, sig=signal.SIGINT, timeout=10.0):
        """Send sig, wait for the exit; returns the exit status."""
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise
        self.reader.join(5)
        self.proc.stdout.close()
        return rc

    def close(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        if not self.proc.stdout.closed:
            self.proc.stdout.close()
        self.errfile.close()


def children_of(pid):
    """Process ids whose parent is pid (from /proc)."""
    kids = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % d, encoding="utf-8", errors="replace") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            if int(fields[1]) == pid:
                kids.append(int(d))
        except (OSError, IndexError, ValueError):
            pass
    return kids


def context_switches(pid):
    """Voluntary + involuntary context switches of a process so far."""
    total = 0
    with open("/proc/%d/status" % pid, encoding="utf-8") as f:
        for line in f:
            if line.startswith(("voluntary_ctxt_switches", "nonvoluntary_ctxt_switches")):
                total += int(line.split()[1])
    return total


class TigoBridge:
    """A TCP server standing in for an RS-485-to-TCP bridge.

    Each accepted connection gets `chunks` (a list of bytes) with `gap`
    seconds between them; then the connection is closed when close_after is
    true, or kept open (silent) until stop(). Counts connections.
    """

    def __init__(self, chunks, gap=0.03, close_after=False, max_conns=None):
        self.chunks = chunks
        self.gap = gap
        self.close_after = close_after
        self.max_conns = max_conns
        self.srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.srv.bind(("127.0.0.1", 0))
        self.srv.listen(4)
        self.srv.settimeout(0.1)
        self.port = self.srv.getsockname()[1]
        self.connections = 0
        self.open = []
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        while not self.stopping.is_set():
            try:
                conn, _ = self.srv.accept()
            except socket.timeout:
                continue
            except OSError:
                break
            if self.max_conns is not None and self.connections >= self.max_conns:
                conn.close()
                continue
            self.connections += 1
            try:
                for c in self.chunks:
                    if self.stopping.is_set():
                        break
                    conn.sendall(c)
                    time.sleep(self.gap)
            except OSError:
                pass
            if self.close_after:
                conn.close()
            else:
                self.open.append(conn)

    def stop(self):
        self.stopping.set()
        self.thread.join(5)
        for c in self.open:
            c.close()
        self.srv.close()


def _read_text(path):
    try:
        with open(path, encoding="utf-8") as f:
            return f.read().strip()
    except OSError:
        return ""


class RctSimulator:
    """`sunwire rct simulator` on a free loopback port (or a given one)."""

    def __init__(self, port=0, extra=()):
        self.dir = tempfile.TemporaryDirectory()
        pf = os.path.join(self.dir.name, "port")
        self.proc = subprocess.Popen([BIN, "rct", "simulator", "--port", str(port), "--port-file", pf]
                                     + list(extra), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        ok = wait_until(lambda: _read_text(pf), 10)
        if not ok:
            self.stop()
            raise RuntimeError("simulator did not start")
        self.port = int(ok)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.dir.cleanup()


def sanitized():
    """Whether the program under test is a sanitizer build (slower: some scenarios skip there)."""
    r = subprocess.run(["ldd", BIN], capture_output=True, text=True)
    return "libasan" in r.stdout or "libubsan" in r.stdout


def demo_dc_loss(speed, start_s, duration, faults=()):
    """Run `sunwire demo` on its own data directory; returns (returncode, seconds taken, stderr,
    [(ts_ns, object, loss_pct)] of the strings' DC loss from its history)."""
    import sqlite3
    with tempfile.TemporaryDirectory() as tmp:
        data = os.path.join(tmp, "data")
        env = dict(os.environ, SUNWIRE_LOG="info")
        args = [BIN, "demo", "--speed", str(speed), "--start", "@%d" % start_s,
                "--duration", str(duration), "--seed", "3", "--data-dir", data]
        for f in faults:
            args += ["--rct-fault", f]
        t0 = time.monotonic()
        r = subprocess.run(args, capture_output=True, timeout=duration + 30, env=env)
        took = time.monotonic() - t0
        err = r.stderr.decode("utf-8", "replace")
        rows = []
        if r.returncode == 0:
            db = sqlite3.connect(os.path.join(data, "history.db"))
            try:
                rows = db.execute("SELECT ts_ns, object, number FROM inverter_values "
                                  "WHERE object LIKE 'health.string.%.dc_loss_pct' AND number != 0 "
                                  "ORDER BY ts_ns").fetchall()
            finally:
                db.close()
    return r.returncode, took, err, rows


def mostly(values, ok):
    """At least three quarters of values satisfy ok (smoothing lets the edges of a change through)."""
    return sum(1 for v in values if ok(v)) >= 0.75 * len(values)
