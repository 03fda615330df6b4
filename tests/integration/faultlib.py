"""Helpers for the reliability tests (faults, crashes, outages, resources).

Everything runs on 127.0.0.1 and every helper stops what it started: the
programs are process objects with a stop() that signals and then kills, and
the tests use them as context managers.
"""
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time

BIN = os.environ.get("SUNWIRE_BIN", "sunwire")
DATA = os.environ.get("SW_TEST_DATA", os.path.join(os.path.dirname(__file__), "..", "data"))
HERE = os.path.dirname(os.path.abspath(__file__))
PROXY = os.path.join(HERE, "..", "tools", "faultproxy.py")


def quiet_env(**extra):
    e = dict(os.environ)
    e["SUNWIRE_LOG"] = extra.pop("SUNWIRE_LOG", "warn")
    e.update(extra)
    return e


def wait_until(pred, timeout=10.0, step=0.02):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        v = pred()
        if v:
            return v
        time.sleep(step)
    return pred()


class Proc:
    """A child process whose stdout and stderr are collected line by line, with arrival times."""

    def __init__(self, argv, env=None, cwd=None):
        self.argv = argv
        self.proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     stdin=subprocess.DEVNULL, env=env or quiet_env(), cwd=cwd)
        self.out = []   # (monotonic time, line)
        self.err = []
        self.lock = threading.Lock()
        self.threads = [threading.Thread(target=self._pump, args=(self.proc.stdout, self.out), daemon=True),
                        threading.Thread(target=self._pump, args=(self.proc.stderr, self.err), daemon=True)]
        for t in self.threads:
            t.start()

    def _pump(self, f, dest):
        for raw in f:
            line = raw.decode("utf-8", "replace").rstrip("\n")
            with self.lock:
                dest.append((time.monotonic(), line))

    @property
    def pid(self):
        return self.proc.pid

    def lines(self, err=False):
        with self.lock:
            return [l for _, l in (self.err if err else self.out)]

    def timed(self, err=False):
        with self.lock:
            return list(self.err if err else self.out)

    def wait_line(self, pattern, err=False, timeout=10.0):
        rx = re.compile(pattern)

        def find():
            for l in self.lines(err):
                m = rx.search(l)
                if m:
                    return m
            return None
        m = wait_until(find, timeout)
        if not m:
            raise AssertionError("%s: no line matching %r; stderr: %s" %
                                 (os.path.basename(self.argv[0]), pattern, "\n".join(self.lines(True))[-2000:]))
        return m

    def alive(self):
        return self.proc.poll() is None

    def stop(self, sig=signal.SIGTERM, timeout=10):
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        for t in self.threads:
            t.join(5)
        for f in (self.proc.stdout, self.proc.stderr):
            f.close()
        return self.proc.returncode

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


def sunwire(*args, env=None, cwd=None):
    return Proc([BIN] + [str(a) for a in args], env=env, cwd=cwd)


def run(*args, timeout=60, env=None, cwd=None):
    return subprocess.run([BIN] + [str(a) for a in args], capture_output=True, timeout=timeout,
                          env=env or quiet_env(), cwd=cwd)


class TigoSim(Proc):
    """`sunwire tigo simulate --tcp` with the given flags; .port once listening."""

    def __init__(self, *args):
        super().__init__([BIN, "tigo", "simulate", "--tcp"] + [str(a) for a in args])
        self.port = int(self.wait_line(r"listening on [0-9.]+:(\d+)").group(1))


class RctSim(Proc):
    """`sunwire rct simulator` on a free port; .port once listening."""

    def __init__(self, *args):
        self.dir = tempfile.TemporaryDirectory()
        pf = os.path.join(self.dir.name, "port")
        super().__init__([BIN, "rct", "simulator", "-p", "0", "--port-file", pf] + [str(a) for a in args])

        def port():
            try:
                with open(pf) as f:
                    return int(f.read().strip() or 0)
            except (OSError, ValueError):
                return 0
        self.port = wait_until(port, 10)
        if not self.port:
            self.stop()
            raise AssertionError("rct simulator did not start: " + "\n".join(self.lines(True)))

    def stop(self, sig=signal.SIGTERM, timeout=10):
        rc = super().stop(sig, timeout)
        self.dir.cleanup()
        return rc


class FaultProxy(Proc):
    """tests/tools/faultproxy.py in front of 127.0.0.1:target_port; .stats after stop()."""

    def __init__(self, target_port, *args):
        super().__init__([sys.executable, PROXY, "--target", "127.0.0.1:%d" % target_port]
                         + [str(a) for a in args])
        self.port = int(self.wait_line(r"listening on 127\.0\.0\.1:(\d+)").group(1))
        self.stats = None

    def stop(self, sig=signal.SIGTERM, timeout=10):
        rc = super().stop(sig, timeout)
        for l in reversed(self.lines()):
            if l.startswith("{"):
                self.stats = json.loads(l)
                break
        return rc


def json_lines(lines):
    out = []
    for l in lines:
        if l.startswith("{"):
            try:
                out.append(json.loads(l))
            except ValueError:
                pass
    return out


def timed_json(proc, err=False):
    """JSON lines of a Proc, each with "_t": the monotonic time it arrived."""
    out = []
    for t, l in proc.timed(err):
        if l.startswith("{"):
            try:
                o = json.loads(l)
            except ValueError:
                continue
            o["_t"] = t
            out.append(o)
    return out


def is_subsequence(sub, seq):
    """True when every item of sub appears in seq in the same order (each item used once)."""
    it = iter(seq)
    return all(any(x == y for y in it) for x in sub)


def proc_status(pid):
    """(RSS in KiB, open descriptors) of a running process, from /proc."""
    rss = 0
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                rss = int(line.split()[1])
    return rss, len(os.listdir("/proc/%d/fd" % pid))


def slope(points):
    """Least-squares slope of (x, y) points."""
    n = len(points)
    mx = sum(x for x, _ in points) / n
    my = sum(y for _, y in points) / n
    den = sum((x - mx) ** 2 for x, _ in points)
    return sum((x - mx) * (y - my) for x, y in points) / den if den else 0.0
