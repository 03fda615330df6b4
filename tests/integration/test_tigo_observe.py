"""observe end to end: the observer vectors replayed through capture files
whose timestamps are each step's clock, both output formats, the state file
(load, update, corrupt, crash safety), the taptap-mqtt bridge's contract,
and the bundled demo capture."""
import datetime
import glob
import json
import os
import random
import re
import shutil
import signal
import subprocess
import tempfile
import time
import unittest

import tigolib as tl

SCEN = tl.load_vectors("observer_scenarios.json")["scenarios"]
ENUM = tl.load_vectors("enumeration_sequence.json")


def by_name(prefix):
    return next(s for s in SCEN if s["name"].startswith(prefix))


class Base(unittest.TestCase):
    def setUp(self):
        self.taptap = tl.taptap_path()
        self.dir = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, self.dir, True)

    def capture(self, name, scenario=None, chunks=None):
        path = os.path.join(self.dir, name)
        data = tl.scenario_capture(scenario) if scenario else tl.pcapng_bytes(chunks)
        with open(path, "wb") as f:
            f.write(data)
        return path

    def observe(self, path, *extra, tz="UTC0", timeout=60):
        r = tl.run([self.taptap, "observe", "--file", path] + list(extra), env=tl.quiet_env(TZ=tz), timeout=timeout)
        return r.returncode, r.stdout.decode().splitlines(), r.stderr.decode()


class Scenarios(Base):
    def test_fork_and_upstream_lines(self):
        for s in SCEN:
            path = self.capture("s.pcapng", s)
            tz = tl.tz_for_offset(s["local_utc_offset_minutes"])
            fork = s.get("expected_stdout_fork", s.get("expected_stdout_fork_without_state_file"))
            for extra in ([], ["--reference"]):
                rc, out, err = self.observe(path, *extra, tz=tz)
                self.assertEqual(rc, 0, err)
                self.assertEqual(out, fork, (s["name"], extra))
            # Upstream format: taptap 0.1.1 never learns node addresses (--reference);
            # sunwire's default parser does and adds them, as 0.1.1's format allows.
            rc, out, _ = self.observe(path, "--format", "upstream", "--reference", tz=tz)
            self.assertEqual((rc, out), (0, s["expected_stdout_upstream"]), s["name"])
            rc, out, _ = self.observe(path, "--format", "upstream", tz=tz)
            self.assertEqual(out, s.get("expected_stdout_upstream_if_node_table_were_parsed",
                                        s["expected_stdout_upstream"]), s["name"])

    def test_every_chunking_gives_the_same_lines(self):
        # One capture packet per byte, each stamped with its step's clock.
        s = by_name("gateway identity")
        chunks = []
        for step in s["steps"]:
            chunks += [(step["clock_unix_ns"], bytes([b])) for b in bytes.fromhex(step["bus_hex"])]
        rc, out, _ = self.observe(self.capture("bytes.pcapng", chunks=chunks))
        self.assertEqual((rc, out), (0, s["expected_stdout_fork_without_state_file"]))

    def test_dropped_reports_are_logged(self):
        rc, out, err = self.observe(self.capture("d.pcapng", by_name("reports that are dropped")))
        self.assertEqual((rc, out), (0, []))
        self.assertEqual(len(re.findall(r"ERROR taptap::observer\] dropping power report", err)), 2, err)

    def test_enumeration_capture(self):
        path = self.capture("enum.pcapng", chunks=[(1724509001686961123, bytes.fromhex(ENUM["bus_hex"]))])
        rc, out, _ = self.observe(path, "--reference")
        self.assertEqual((rc, out), (0, ENUM["expected_stdout_fork_without_state_file"]))
        rc, out, _ = self.observe(path, "--format", "upstream")
        self.assertEqual((rc, out), (0, ENUM["expected_stdout_upstream"]))


class StateFile(Base):
    def test_written_like_the_fork(self):
        for name, s, chunks in (("scenario", by_name("gateway identity"), None),
                                ("enumeration", None, [(1724509001686961123, bytes.fromhex(ENUM["bus_hex"]))])):
            src = s or ENUM
            path = self.capture(name + ".pcapng", s, chunks)
            state = os.path.join(self.dir, name + ".json")
            rc, out, err = self.observe(path, "--reference", "--state-file", state)
            self.assertEqual(rc, 0, err)
            self.assertEqual(out, src["expected_stdout_fork_with_state_file"], name)
            with open(state, encoding="utf-8") as f:
                self.assertEqual(f.read(), src["expected_state_file_fork"], name)
            # Default mode: one report per real change, same file.
            os.unlink(state)
            rc, out, _ = self.observe(path, "--persistent-file", state)
            self.assertEqual(out, src["expected_stdout_fork_without_state_file"], name)
            with open(state, encoding="utf-8") as f:
                self.assertEqual(f.read(), src["expected_state_file_fork"], name)
            self.assertEqual(glob.glob(os.path.join(self.dir, "*.tmp")), [])

    def test_loaded_at_start_up(self):
        s = by_name("gateway identity")
        state = os.path.join(self.dir, "taptap.json")
        self.observe(self.capture("a.pcapng", s), "--state-file", state)
        last_infra = s["expected_stdout_fork_without_state_file"][1]
        # A capture with power reports only: the first line is the loaded inventory.
        first = by_name("power report timestamping, UTC")
        rc, out, err = self.observe(self.capture("b.pcapng", first), "--state-file", state)
        self.assertEqual(rc, 0, err)
        self.assertEqual(out, [last_infra] + first["expected_stdout_fork"])
        self.assertIn("loaded state file", err)
        # The fork's own example file loads too.
        example = os.path.join(self.dir, "example.json")
        shutil.copy(os.path.join(tl.DATA, "tigo", "fork_state_file_example.json"), example)
        rc, out, err = self.observe(self.capture("c.pcapng", first), "--state-file", example)
        self.assertEqual(rc, 0, err)
        self.assertTrue(out[0].startswith('{"event_type":"infrastructure_report"'), out[:1])

    def test_missing_file_starts_empty(self):
        first = by_name("power report timestamping, UTC")
        state = os.path.join(self.dir, "new.json")
        rc, out, err = self.observe(self.capture("p.pcapng", first), "--state-file", state)
        self.assertEqual((rc, out), (0, first["expected_stdout_fork"]))
        self.assertFalse(os.path.exists(state))
        self.assertIn("does not exist yet", err)

    def test_corrupt_file_moved_aside(self):
        first = by_name("power report timestamping, UTC")
        for bad in (b"{not json", b'{"gateway_identities":{}}', b"", b'{"gateway_node_tables":{},'
                    b'"gateway_identities":{"99999":[1,2,3,4,5,6,7,8]},"gateway_versions":{}}'):
            state = os.path.join(self.dir, "bad.json")
            with open(state, "wb") as f:
                f.write(bad)
            rc, out, err = self.observe(self.capture("p.pcapng", first), "--state-file", state)
            self.assertEqual(rc, 0, err)
            self.assertEqual(out, first["expected_stdout_fork"])
            self.assertRegex(err, r"ERROR taptap\] state file .*bad\.json is corrupt .*moved it to")
            aside = glob.glob(state + ".corrupt-*")
            self.assertEqual(len(aside), 1, aside)
            with open(aside[0], "rb") as f:
                self.assertEqual(f.read(), bad)
            self.assertFalse(os.path.exists(state))
            os.unlink(aside[0])

    def test_unreadable_state_refused(self):
        # A directory where the file should be: refuse instead of ever overwriting it.
        state = os.path.join(self.dir, "adir")
        os.mkdir(state)
        rc, out, err = self.observe(self.capture("p.pcapng", SCEN[0]), "--state-file", state)
        self.assertEqual(rc, 1)
        self.assertIn("cannot read state file", err)
        self.assertTrue(os.path.isdir(state))

    def test_sigkill_never_leaves_a_torn_file(self):
        # Thousands of inventory messages, alternating two installations' worth of data, and with
        # --reference every one of them rewrites the file: kill the writer at random moments.
        s = by_name("gateway identity")
        chunks = []
        for rep in range(300):
            base = rep * 60 * 10**9
            for st in s["steps"]:
                chunks.append((st["clock_unix_ns"] + base, bytes.fromhex(st["bus_hex"])))
            chunks.append((s["steps"][-1]["clock_unix_ns"] + base + 10**9, bytes.fromhex(ENUM["bus_hex"])))
        path = self.capture("many.pcapng", chunks=chunks)
        state = os.path.join(self.dir, "st.json")
        rng = random.Random(1234)
        kills, texts = 0, set()
        for _ in range(10):
            p = subprocess.Popen([self.taptap, "observe", "--reference", "--file", path, "--state-file", state],
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=tl.quiet_env())
            time.sleep(rng.uniform(0.02, 0.4))
            if p.poll() is None:
                p.send_signal(signal.SIGKILL)
                kills += 1
            p.wait(10)
            if os.path.exists(state):
                with open(state, encoding="utf-8") as f:
                    text = f.read()
                doc = json.loads(text)  # a torn file would not parse
                self.assertEqual(sorted(doc), ["gateway_identities", "gateway_node_tables", "gateway_versions"])
                self.assertTrue(text.endswith("}"))
                texts.add(text)
            # The file is loaded at the next start: it must always be accepted, never moved aside.
            self.assertEqual(glob.glob(state + ".corrupt-*"), [])
        self.assertGreater(kills, 0)
        self.assertTrue(texts, "no state file was ever written")


class Bridge(Base):
    """taptap-mqtt runs `<BINARY> observe --tcp <ADDRESS> --port <PORT> --state-file <STATE_FILE>`."""

    BINARY_RE = re.compile(r"^(\.{0,2}\/)*(\w+\/)*taptap$")

    def test_contract(self):
        with open(os.path.join(tl.SOURCE, "data", "demo", "tigo-demo.pcapng"), "rb") as f:
            packets = tl.pcapng_parse(f.read())
        # The bus bytes as a serial-over-TCP converter would stream them: 30 s of it, 10x faster.
        t0 = packets[0][0]
        script, prev = [], t0
        for ts, data in packets:
            if ts - t0 > 40 * 10**9:
                break
            script.append(((ts - prev) / 1e9 / 10, data))
            prev = ts
        srv = tl.BusServer([script], close=False)
        self.addCleanup(srv.stop)
        state = os.path.join(self.dir, "taptap.json")
        os.chdir(self.dir)
        self.addCleanup(os.chdir, os.path.dirname(os.path.abspath(__file__)))
        # The bridge insists on a binary path made of word characters ending in taptap.
        os.mkdir("bin")
        os.symlink(os.path.realpath(tl.BIN), os.path.join("bin", "taptap"))
        binary = "bin/taptap"
        self.assertRegex(binary, self.BINARY_RE)
        self.assertRegex("taptap.json", r"^(\.{0,2}\/)?(\w+\/)*([\.\w]+)$")
        p = tl.Proc([binary, "observe", "--tcp", "127.0.0.1", "--port", str(srv.port), "--state-file", "taptap.json"])
        self.addCleanup(p.stop)
        # Lines must arrive while the program runs (flushed per line), not at exit.
        deadline = time.monotonic() + 30
        while p.stdout_text().count('"power_report"') < 8 and time.monotonic() < deadline:
            time.sleep(0.05)
        self.assertIsNone(p.p.poll(), p.stderr_text())
        lines = p.stdout_text().splitlines()
        p.stop()
        self.assertTrue(os.path.exists(state))
        powers = infra = 0
        now = time.time()
        for line in lines:
            ev = json.loads(line)
            if ev["event_type"] == "power_report":
                powers += 1
                self.assertIs(type(ev["gateway"]), int)
                self.assertIs(type(ev["node"]), int)
                self.assertIs(type(ev["rssi"]), int)
                for k in ("voltage_in", "voltage_out", "current", "dc_dc_duty_cycle", "temperature"):
                    self.assertIn(type(ev[k]), (int, float), k)
                ts = ev["timestamp"]
                self.assertRegex(ts, r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$")
                # The bridge drops events older than 180 s: live data must be stamped with the live clock.
                trimmed = re.sub(r"(\.\d{6})\d+", r"\1", ts).replace("Z", "+00:00")
                age = now - datetime.datetime.fromisoformat(trimmed).timestamp()
                self.assertLess(abs(age), 180, ts)
            else:
                self.assertEqual(ev["event_type"], "infrastructure_report")
                infra += 1
                self.assertIsInstance(ev["gateways"], dict)
                self.assertIsInstance(ev["nodes"], dict)
                for gid, g in ev["gateways"].items():
                    self.assertRegex(gid, r"^\d+$")
                    self.assertRegex(g["address"], r"^([0-9A-Fa-f]{2}[:-]){7}([0-9A-Fa-f]{2})$")
                for gid, nodes in ev["nodes"].items():
                    self.assertRegex(gid, r"^\d+$")
                    for nid, n in nodes.items():
                        self.assertRegex(nid, r"^\d+$")
                        self.assertRegex(n["barcode"], r"^[0-9A-Z]\-[0-9A-Z]{7}$")
        self.assertGreaterEqual(powers, 8)
        self.assertGreaterEqual(infra, 2)
        last = [json.loads(x) for x in lines if '"infrastructure_report"' in x][-1]
        self.assertEqual(len(last["nodes"]["4609"]), 10)

    def test_unread_stderr_never_blocks(self):
        # The bridge never reads the child's stderr. A converter that accepts and drops at once makes
        # every reconnect log a few lines; far more than a pipe buffer (64 KiB) must not stall the loop.
        srv = tl.BusServer([[]] * 100000, close=True)
        self.addCleanup(srv.stop)
        p = subprocess.Popen([self.taptap, "observe", "--tcp", "127.0.0.1", "--port", str(srv.port),
                              "--reconnect-delay", "0"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                             env=tl.quiet_env())
        self.addCleanup(tl.stop_process, p)
        deadline = time.monotonic() + 60
        while srv.accepted < 1500 and time.monotonic() < deadline and p.poll() is None:
            time.sleep(0.1)
        self.assertIsNone(p.poll())
        self.assertGreaterEqual(srv.accepted, 1500)

    def test_serial_argv(self):
        import pty
        import tty
        master, slave = pty.openpty()
        self.addCleanup(os.close, master)
        self.addCleanup(os.close, slave)
        tty.setraw(slave)
        s = by_name("gateway identity")
        state = os.path.join(self.dir, "s.json")
        p = tl.Proc([self.taptap, "observe", "--serial", os.ttyname(slave), "--state-file", state])
        self.addCleanup(p.stop)
        self.assertTrue(p.wait_for("err", b"opened serial port"))
        for step in s["steps"]:
            os.write(master, bytes.fromhex(step["bus_hex"]))
            time.sleep(0.05)
        self.assertTrue(p.wait_for("out", b'"event_type":"power_report"'), p.stderr_text())
        lines = p.stdout_text().splitlines()
        # Infrastructure lines are exact; the power report carries the live clock.
        self.assertEqual(lines[:2], s["expected_stdout_fork_without_state_file"][:2])
        ev = json.loads(lines[2])
        self.assertEqual((ev["gateway"], ev["node"], ev["voltage_in"]), (4609, 2, 30.6))

    def test_closed_stdout(self):
        # The reader is gone before the first line exists: the data only arrives on stdin afterwards.
        with open(os.path.join(tl.SOURCE, "data", "demo", "tigo-demo.pcapng"), "rb") as f:
            data = f.read()
        p = subprocess.Popen([self.taptap, "observe", "--file", "-"], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=tl.quiet_env())
        p.stdout.close()
        _, err = p.communicate(data, timeout=60)
        p.stderr.close()
        self.assertEqual(p.returncode, 1)
        self.assertIn(b"cannot write to standard output", err)


class Demo(Base):
    def test_regenerates_identically(self):
        tool = os.path.join(tl.BUILD, "tools", "gen_demo_capture")
        if not os.path.exists(tool):
            self.skipTest("tools not built")
        out = os.path.join(self.dir, "demo.pcapng")
        r = tl.run([tool, out])
        self.assertEqual(r.returncode, 0, r.stderr)
        committed = os.path.join(tl.SOURCE, "data", "demo", "tigo-demo.pcapng")
        with open(out, "rb") as a, open(committed, "rb") as b:
            new, old = a.read(), b.read()
        self.assertEqual(new, old, "data/demo/tigo-demo.pcapng is stale: rebuild the demo-capture target")
        self.assertLess(len(old), 1 << 20)

    def test_demo_replay(self):
        path = os.path.join(tl.SOURCE, "data", "demo", "tigo-demo.pcapng")
        t0 = time.monotonic()
        r = tl.run([tl.BIN, "tigo", "observe", "--file", path, "--speed", "60"], timeout=60)
        elapsed = time.monotonic() - t0
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertGreater(elapsed, 2.0)  # three recorded minutes at 60x
        events = [json.loads(x) for x in r.stdout.decode().splitlines()]
        powers = [e for e in events if e["event_type"] == "power_report"]
        infra = [e for e in events if e["event_type"] == "infrastructure_report"]
        self.assertEqual({e["node"] for e in powers}, set(range(2, 12)))
        self.assertGreaterEqual(len(powers), 80)
        self.assertEqual(len(infra[-1]["nodes"]["4609"]), 10)
        # Timestamps are the recorded ones and increase per node.
        for node in range(2, 12):
            ts = [e["timestamp"] for e in powers if e["node"] == node]
            self.assertEqual(ts, sorted(ts))
            self.assertTrue(ts[0].startswith("2025-06-21T10:0"))


if __name__ == "__main__":
    unittest.main()
