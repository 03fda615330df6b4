"""The radio network key never reaches what sunwire writes down.

A simulated bus whose controller reads each TAP's radio configuration (command
0x0D, answer 0x0E with the 16-byte network key) is served by a TCP server
playing an RS-485 bridge. `tigo record` captures it over that socket; by
default the key is zeroed in the capture (and the CRC recomputed, so the
capture still decodes when replayed with --file), with --no-redact it is kept.
peek-bytes, peek-frames and peek-activity, in both personas, hide it by
default; observe's infrastructure reports, its state file and the daemon's
state directory never hold it.
"""
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from runlib import BIN, Daemon, TigoBridge, wait_until  # noqa: E402

START = "2025-06-21T10:00:00Z"


def env():
    e = dict(os.environ)
    e["TZ"] = "UTC"
    e["SUNWIRE_LOG"] = "info"
    e["RUST_LOG"] = "info"
    return e


def run(*args, timeout=60):
    return subprocess.run(list(args), capture_output=True, timeout=timeout, env=env())


def taptap_path():
    path = os.path.join(os.path.dirname(BIN), "taptap")
    if not os.path.exists(path):
        os.symlink("sunwire", path)
    return path


def frames_json(path, *extra):
    r = run(BIN, "tigo", "peek-frames", "--json", "--file", path, *extra)
    assert r.returncode == 0, r.stderr
    return [json.loads(line) for line in r.stdout.decode().splitlines() if line.strip()]


def radio_frames(frames):
    return [f for f in frames if f["frame_type"] == 0x0B10 and f["payload"][6:8] == "0E"]


def variants(key):
    """The key as any output might show it: raw, hex both cases, spaced hex, decimal list."""
    h = key.hex()
    return [key, h.encode(), h.upper().encode(), " ".join(h.upper()[i:i + 2] for i in range(0, 32, 2)).encode(),
            ", ".join(str(b) for b in key).encode()]


class Redaction(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        cls.bus = os.path.join(cls.tmp.name, "bus.raw")
        r = run(BIN, "tigo", "simulate", "--file", cls.bus, "--duration", "40", "--start", START, "--seed", "3",
                "--panels", "4", "--radio-config")
        assert r.returncode == 0, r.stderr
        with open(cls.bus, "rb") as f:
            cls.raw = f.read()
        radio = radio_frames(frames_json(cls.bus, "--no-redact"))
        assert len(radio) == 1, radio
        payload = bytes.fromhex(radio[0]["payload"])
        cls.key = payload[20:36]
        assert cls.key != bytes(16)

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def path(self, name):
        return os.path.join(self.tmp.name, name)

    def assertNoKey(self, data, what):
        for v in variants(self.key):
            self.assertNotIn(v, data, "%s holds the key (%r)" % (what, v[:12]))

    def record(self, out, *extra):
        """Record the simulated bus over a real socket; the recorder is stopped once it has everything."""
        chunks = [self.raw[i:i + 4096] for i in range(0, len(self.raw), 4096)]
        bridge = TigoBridge(chunks, gap=0.005, close_after=False, max_conns=1)
        self.addCleanup(bridge.stop)
        p = subprocess.Popen([BIN, "tigo", "record", "--tcp", "127.0.0.1", "--port", str(bridge.port),
                              "--out", out, *extra], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env())
        try:
            # a pcapng block per chunk: the file grows past the bus size plus its framing when all has come
            self.assertTrue(wait_until(lambda: os.path.exists(out) and os.path.getsize(out) >= len(self.raw),
                                       timeout=30))
            time.sleep(0.3)
        finally:
            p.send_signal(signal.SIGINT)
            _, err = p.communicate(timeout=10)
        self.assertEqual(p.returncode, 0, err)
        return err.decode()

    def test_record_zeroes_the_key_and_the_capture_replays(self):
        red, keep = self.path("red.pcapng"), self.path("keep.pcapng")
        log = self.record(red)
        self.assertIn("zeroed the radio network key in 1 frame", log)
        self.record(keep, "--no-redact")
        with open(red, "rb") as f:
            self.assertNoKey(f.read(), "the redacted capture")
        with open(keep, "rb") as f:
            self.assertIn(self.key, f.read())
        # Replay: every frame of the kept capture is in the redacted one, in order, the key zeroed, the CRC good.
        fr, fk = frames_json(red, "--no-redact"), frames_json(keep, "--no-redact")
        self.assertEqual(len(fr), len(fk))
        self.assertGreater(len(fr), 100)
        for a, b in zip(fr, fk):
            if a["payload"] != b["payload"]:
                self.assertEqual(a["payload"][:40] + "00" * 16 + a["payload"][72:], a["payload"])
                self.assertEqual(b["payload"][:40] + "00" * 16 + b["payload"][72:], a["payload"])
        radio = radio_frames(fr)
        self.assertEqual(len(radio), 1)
        self.assertEqual(bytes.fromhex(radio[0]["payload"])[20:36], bytes(16))
        # The power reports of the redacted capture are those of the kept one.
        # (the two recordings were made at different times: their timestamps differ)
        obs = []
        for p in (red, keep):
            lines = [json.loads(x) for x in run(BIN, "tigo", "observe", "--file", p).stdout.decode().splitlines()]
            obs.append([{k: v for k, v in e.items() if k != "timestamp"} for e in lines])
        self.assertEqual(obs[0], obs[1])
        self.assertGreater(sum(1 for e in obs[0] if e["event_type"] == "power_report"), 4)

    def test_peek_commands_hide_the_key_by_default(self):
        taptap = taptap_path()
        cmds = [
            [BIN, "tigo", "peek-bytes"], [BIN, "tigo", "peek-bytes", "--raw"],
            [BIN, "tigo", "peek-frames"], [BIN, "tigo", "peek-frames", "--json"],
            [BIN, "tigo", "peek-activity"], [BIN, "tigo", "peek-activity", "--json"],
            [taptap, "peek-frames"], [taptap, "peek-activity"], [taptap, "peek-bytes"],
        ]
        for cmd in cmds:
            r = run(*cmd, "--file", self.bus)
            self.assertEqual(r.returncode, 0, (cmd, r.stderr))
            self.assertGreater(len(r.stdout) + len(r.stderr), 1000, cmd)
            self.assertNoKey(r.stdout + r.stderr, " ".join(cmd[1:]))
        # --no-redact keeps it where the command prints payloads
        for cmd, form in (([BIN, "tigo", "peek-frames", "--json"], self.key.hex().upper().encode()),
                          ([taptap, "peek-frames"], ", ".join(str(b) for b in self.key).encode()),
                          ([BIN, "tigo", "peek-bytes", "--raw"], None)):
            r = run(*cmd, "--no-redact", "--file", self.bus)
            self.assertEqual(r.returncode, 0, r.stderr)
            if form:
                self.assertIn(form, r.stdout, cmd)
            else:
                self.assertEqual(r.stdout, self.raw)
        # what the readable line says instead
        r = run(BIN, "tigo", "peek-activity", "--file", self.bus)
        self.assertRegex((r.stdout + r.stderr).decode(), r"channel 21, PAN 0x24F6, key not shown")

    def test_observe_reports_and_state_file_never_hold_it(self):
        state = self.path("state.json")
        for args in ([], ["--reference"], ["--format", "upstream"]):
            r = run(BIN, "tigo", "observe", "--file", self.bus, "--state-file", state, *args)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertIn(b"infrastructure_report" if not args or args[0] != "--format" else b"gateway", r.stdout)
            self.assertNoKey(r.stdout + r.stderr, "observe " + " ".join(args))
            with open(state, "rb") as f:
                data = f.read()
            self.assertIn(b"gateway_identities", data)
            self.assertNoKey(data, "the state file")

    def test_daemon_state_dir_and_outputs_never_hold_it(self):
        chunks = [self.raw[i:i + 4096] for i in range(0, len(self.raw), 4096)]
        bridge = TigoBridge(chunks, gap=0.005)
        self.addCleanup(bridge.stop)
        sd = self.path("state-dir")
        d = Daemon(["--tigo-tcp", "127.0.0.1:%d" % bridge.port, "--state-dir", sd, "--json"])
        self.addCleanup(d.close)
        self.assertTrue(wait_until(lambda: any(n.startswith("tigo") for n in
                                               (os.listdir(sd) if os.path.isdir(sd) else [])), timeout=20))
        self.assertTrue(d.wait_record("panel", timeout=20))
        time.sleep(0.5)
        self.assertEqual(d.stop(), 0)
        found = 0
        for root, _, files in os.walk(sd):
            for n in files:
                with open(os.path.join(root, n), "rb") as f:
                    self.assertNoKey(f.read(), n)
                found += 1
        self.assertGreater(found, 0)
        self.assertNoKey(json.dumps(d.records()).encode(), "the daemon's JSON lines")
        self.assertNoKey(d.stderr().encode(), "the daemon's log")


if __name__ == "__main__":
    unittest.main()
