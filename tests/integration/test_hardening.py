#!/usr/bin/env python3
"""Hardening of the built program and of what it does on the wire.

- The binary: fortified libc calls (__*_chk), the stack protector, PIE, full
  RELRO (a GNU_RELRO segment and BIND_NOW), read with readelf. A sanitizer
  build has no fortify (it needs the optimiser and conflicts with ASan), so
  that one check is skipped there.
- No shell-outs: no system/popen/exec*/posix_spawn in src/ nor among the
  program's dynamic symbols.
- Listeners: every listening TCP socket of `sunwire demo`, of both simulators
  and of `sunwire run --http 0 --prometheus 0` is bound to 127.0.0.1.
- The Tigo bus is only listened to: a TCP bus server and a pseudo-terminal
  receive zero bytes over a whole observe / run session.
- Inverter writes need the opt-in: `write-value` without --allow-write refuses
  and sends nothing; the daemon sends no WRITE commands at all.
"""
import os
import pty
import re
import select
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import tty
import unittest

import faultlib as fl

SRC = os.environ.get("SW_SOURCE_DIR", os.path.join(fl.HERE, "..", ".."))
sys.path.insert(0, fl.HERE)
import rctlib  # noqa: E402  (frame parser for recorded requests)

SHELL_FUNCS = ("system", "popen", "execl", "execle", "execlp", "execv", "execve", "execvp", "execvpe",
               "posix_spawn", "posix_spawnp", "fexecve", "wordexp")


def binary():
    return os.path.realpath(shutil.which(fl.BIN) or fl.BIN)


def readelf(*args):
    r = subprocess.run(["readelf", "-W"] + list(args) + [binary()], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    return r.stdout


def dyn_symbols():
    names = set()
    for line in readelf("--dyn-syms").splitlines():
        parts = line.split()
        if len(parts) >= 8 and parts[0].endswith(":"):
            names.add(parts[7].split("@")[0])
    return names


def sanitized():
    return any(s.startswith("__asan_") or s.startswith("__ubsan_") for s in dyn_symbols())


@unittest.skipUnless(shutil.which("readelf"), "readelf (binutils) is not installed")
class Binary(unittest.TestCase):
    def test_pie(self):
        self.assertRegex(readelf("-h"), r"Type:\s+DYN ")

    def test_full_relro(self):
        self.assertIn("GNU_RELRO", readelf("-l"))
        dyn = readelf("-d")
        self.assertTrue(re.search(r"\(BIND_NOW\)|\(FLAGS\)\s+BIND_NOW|FLAGS_1\).*\bNOW\b", dyn), dyn)

    def test_stack_protector(self):
        self.assertIn("__stack_chk_fail", dyn_symbols())

    def test_fortify(self):
        if sanitized():
            self.skipTest("sanitizer build: _FORTIFY_SOURCE is off by design")
        chk = sorted(s for s in dyn_symbols() if re.fullmatch(r"__\w+_chk", s) and s != "__stack_chk_fail")
        self.assertGreaterEqual(len(chk), 3, chk)

    def test_no_shell_out_symbols(self):
        self.assertFalse(dyn_symbols() & set(SHELL_FUNCS))


class Sources(unittest.TestCase):
    def test_no_shell_out_in_sources(self):
        rx = re.compile(r"(?<![\w.>])(%s)\s*\(" % "|".join(SHELL_FUNCS))
        hits = []
        for root, _, files in os.walk(os.path.join(SRC, "src")):
            for name in files:
                if not name.endswith((".c", ".h")):
                    continue
                path = os.path.join(root, name)
                with open(path, encoding="utf-8", errors="replace") as f:
                    for n, line in enumerate(f, 1):
                        code = line.split("//")[0]
                        if rx.search(code) and not code.lstrip().startswith(("*", "/*")):
                            hits.append("%s:%d: %s" % (os.path.relpath(path, SRC), n, line.strip()))
        self.assertTrue(os.path.isdir(os.path.join(SRC, "src")))
        self.assertFalse(hits, "\n".join(hits))


def socket_inodes(pid):
    out = set()
    for fd in os.listdir("/proc/%d/fd" % pid):
        try:
            t = os.readlink("/proc/%d/fd/%s" % (pid, fd))
        except OSError:
            continue
        m = re.fullmatch(r"socket:\[(\d+)\]", t)
        if m:
            out.add(m.group(1))
    return out


def listening(inodes):
    """(family, local address hex, port) of LISTEN sockets among inodes."""
    out = []
    for fam in ("tcp", "tcp6"):
        try:
            with open("/proc/net/" + fam) as f:
                lines = f.read().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            p = line.split()
            if p[3] == "0A" and p[9] in inodes:
                addr, port = p[1].split(":")
                out.append((fam, addr, int(port, 16)))
    return out


class Listeners(unittest.TestCase):
    def test_demo_listens_on_loopback_only(self):
        with fl.sunwire("demo", "--duration", 20, env=fl.quiet_env(TERM="dumb")) as demo:
            demo.wait_line(r"metrics\s+http://127\.0\.0\.1:\d+", timeout=15)
            socks = fl.wait_until(lambda: listening(socket_inodes(demo.pid)), 5)
            self.assertGreaterEqual(len(socks), 3, socks)   # Tigo bus, inverter, dashboard
            for fam, addr, port in socks:
                loop = addr == "0100007F" if fam == "tcp" else addr in (
                    "00000000000000000000000001000000", "0000000000000000FFFF00000100007F")
                self.assertTrue(loop, "port %d listens on %s (%s)" % (port, addr, fam))


    def assert_loopback(self, proc, expect):
        socks = fl.wait_until(lambda: listening(socket_inodes(proc.pid)), 5)
        self.assertGreaterEqual(len(socks), expect, socks)
        for fam, addr, port in socks:
            self.assertEqual((fam, addr), ("tcp", "0100007F"), "port %d" % port)

    def test_simulators_and_daemon_default_to_loopback(self):
        with fl.TigoSim() as tsim, fl.RctSim() as rsim:
            self.assert_loopback(tsim, 1)
            self.assert_loopback(rsim, 1)
            with fl.sunwire("run", "--tigo-tcp", "127.0.0.1:%d" % tsim.port, "--http", "0", "--prometheus", "0",
                            "--json") as d:
                d.wait_line(r'"type":\s*"source"', timeout=10)
                self.assert_loopback(d, 1)


class BusServer:
    """Serves a simulated bus capture to every client and counts what clients send."""

    def __init__(self, data):
        self.data = data
        self.received = 0
        self.sessions = 0
        self.srv = socket.socket()
        self.srv.bind(("127.0.0.1", 0))
        self.srv.listen(4)
        self.port = self.srv.getsockname()[1]
        self.stop_flag = False
        self.t = threading.Thread(target=self._loop, daemon=True)
        self.t.start()

    def _loop(self):
        self.srv.settimeout(0.1)
        while not self.stop_flag:
            try:
                c, _ = self.srv.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            self.sessions += 1
            c.setblocking(False)
            pos = 0
            while not self.stop_flag:
                r, w, _ = select.select([c], [c] if pos < len(self.data) else [], [], 0.05)
                if r:
                    try:
                        got = c.recv(4096)
                    except OSError:
                        break
                    if not got:
                        break
                    self.received += len(got)
                if w:
                    try:
                        pos += c.send(self.data[pos:pos + 512])
                    except BlockingIOError:
                        pass
                    except OSError:
                        break
            c.close()

    def stop(self):
        self.stop_flag = True
        self.t.join(5)
        self.srv.close()


class TigoNeverTransmits(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        raw = os.path.join(cls.tmp.name, "bus.raw")
        r = fl.run("tigo", "simulate", "--file", raw, "--format", "raw", "--duration", 120, "--seed", 3,
                   "--start", "2026-06-21T10:00Z")
        assert r.returncode == 0, r.stderr
        with open(raw, "rb") as f:
            cls.bus = f.read()

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def session(self, argv_for_port, expect):
        srv = BusServer(self.bus)
        try:
            with fl.sunwire(*argv_for_port(srv.port)) as p:
                p.wait_line(expect, timeout=15)
                time.sleep(1.0)
        finally:
            srv.stop()
        self.assertGreaterEqual(srv.sessions, 1)
        self.assertEqual(srv.received, 0, "the Tigo source sent %d bytes to the bus" % srv.received)

    def test_observe_tcp_sends_nothing(self):
        self.session(lambda port: ["tigo", "observe", "--tcp", "127.0.0.1", "--port", port], r"power_report")

    def test_run_tcp_sends_nothing(self):
        self.session(lambda port: ["run", "--tigo-tcp", "127.0.0.1:%d" % port, "--json"], r'"type":\s*"panel"')

    def pty_session(self, argv_for_path, expect):
        master, slave = pty.openpty()
        tty.setraw(slave)   # no echo: whatever the master reads was written by the program
        path = os.ttyname(slave)
        written = 0
        try:
            with fl.sunwire(*argv_for_path(path)) as p:
                time.sleep(0.5)
                pos = 0
                end = time.monotonic() + 15
                while time.monotonic() < end:
                    if pos < len(self.bus):
                        pos += os.write(master, self.bus[pos:pos + 256])
                    r, _, _ = select.select([master], [], [], 0.01)
                    if r:
                        written += len(os.read(master, 4096))
                    if any(re.search(expect, l) for l in p.lines()) and pos >= len(self.bus) // 2:
                        break
                p.wait_line(expect, timeout=1)
                time.sleep(0.3)
                r, _, _ = select.select([master], [], [], 0.2)
                if r:
                    written += len(os.read(master, 4096))
        finally:
            os.close(master)
            os.close(slave)
        self.assertEqual(written, 0, "the program wrote %d bytes to the serial line" % written)

    def test_observe_serial_writes_nothing(self):
        self.pty_session(lambda path: ["tigo", "observe", "--serial", path], r"power_report")

    def test_run_serial_writes_nothing(self):
        self.pty_session(lambda path: ["run", "--tigo-serial", path, "--json"], r'"type":\s*"panel"')


class InverterWrites(unittest.TestCase):
    def test_write_value_needs_opt_in(self):
        with fl.RctSim("--speed", 0, "-v") as sim, fl.FaultProxy(sim.port, "--record-up",
                                                                  os.devnull) as px:
            r = fl.run("rct", "write-value", "-h", "127.0.0.1", "-p", px.port, "-n", "battery.soc_target",
                       "--value", "0.5")
            time.sleep(0.2)
            px.stop()
            self.assertEqual(r.returncode, 1, r.stderr)
            self.assertIn("--allow-write", r.stderr.decode())
            self.assertEqual(px.stats["bytes_up"], 0, "write-value sent bytes without --allow-write")
            self.assertFalse([l for l in sim.lines(True) if "Write" in l])

    def test_daemon_never_writes(self):
        tmp = tempfile.TemporaryDirectory()
        rec = os.path.join(tmp.name, "requests.bin")
        cfg = os.path.join(tmp.name, "run.ini")
        try:
            with fl.RctSim("--speed", 0) as sim, fl.FaultProxy(sim.port, "--record-up", rec) as px:
                with open(cfg, "w") as f:
                    f.write("[rct inv]\nhost = 127.0.0.1:%d\nfast_interval = 200ms\nslow_interval = 1s\n" % px.port)
                with fl.sunwire("run", "--config", cfg, "--json") as d:
                    fl.wait_until(lambda: len([l for l in d.lines() if '"inverter_value"' in l]) > 60, 15)
                px.stop()
            with open(rec, "rb") as f:
                frames = rctlib.parse_frames(f.read())
        finally:
            tmp.cleanup()
        self.assertGreater(len(frames), 30)
        cmds = {c for c, _, _ in frames}
        self.assertEqual(cmds - {0x01, 0x41}, set(), "the daemon sent commands %r" % sorted(cmds))


if __name__ == "__main__":
    unittest.main()
