"""The one-line hint observe and peek-* print on stderr when bytes come but
no valid frame does (30 s; SUNWIRE_NO_FRAME_HINT_SECONDS shortens it here),
over a live TCP bridge and on a capture replayed at once (its own timestamps
count), for sunwire and the taptap persona.
"""
import os
import select
import signal
import subprocess
import tempfile
import time
import unittest

from tigolib import BIN, SimBridge, quiet_env, run, taptap_path

START = "2025-06-21T10:00:00Z"


def hints_in(err):
    return [line for line in err.splitlines() if "no valid frame" in line]


class NoFrameHint(unittest.TestCase):

    def watch(self, cmd, bridge_args, hint_s, until_hint=15.0, after=1.0):
        """Run `sunwire tigo CMD --tcp` against a bridge until a hint shows (at most `until_hint`
        seconds), then `after` seconds more; its whole stderr."""
        b = SimBridge("--speed", "5", *bridge_args, start=START)
        self.addCleanup(b.stop)
        p = subprocess.Popen([BIN, "tigo", cmd, "--tcp", "127.0.0.1", "--port", str(b.port)],
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                             env=quiet_env(SUNWIRE_NO_FRAME_HINT_SECONDS=hint_s))
        err, deadline, stop_at = b"", time.monotonic() + until_hint, None
        while time.monotonic() < (stop_at or deadline):
            ready, _, _ = select.select([p.stderr], [], [], 0.1)
            if ready:
                chunk = os.read(p.stderr.fileno(), 65536)
                if not chunk:
                    break
                err += chunk
            if stop_at is None and b"no valid frame" in err:
                stop_at = time.monotonic() + after  # long enough to see a second hint, if one came
        p.send_signal(signal.SIGINT)
        try:
            _, rest = p.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            p.kill()
            _, rest = p.communicate()
        return (err + rest).decode()

    def test_hint_on_swapped_wires_live(self):
        for cmd in ("observe", "peek-bytes"):
            with self.subTest(cmd=cmd):
                err = self.watch(cmd, ["--fault", "inverted"], "2")
                hints = hints_in(err)
                self.assertEqual(len(hints), 1, err)  # once, not once per chunk
                self.assertIn("bytes for 2 s but no valid frame", hints[0])
                self.assertIn("inverted polarity", hints[0])

    def test_no_hint_on_a_sound_bus(self):
        err = self.watch("observe", [], "1", until_hint=4.0)
        self.assertEqual(hints_in(err), [], err)

    def test_capture_time_and_taptap_persona(self):
        """60 s of a wrong-rate line replayed at once still gets the hint, from every reading command."""
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "slow.pcapng")
            r = run([BIN, "tigo", "simulate", "--start", START, "--duration", "60", "--format", "pcapng",
                     "--fault", "baud=19200", "--file", path], timeout=60)
            self.assertEqual(r.returncode, 0, r.stderr)
            for prog, tag in ((BIN, " sunwire::tigo]"), (taptap_path(), " taptap]")):
                for cmd in ("observe", "peek-bytes", "peek-frames", "peek-activity"):
                    with self.subTest(prog=prog, cmd=cmd):
                        r = run([prog, cmd, "--file", path] if prog != BIN else [prog, "tigo", cmd, "--file", path])
                        err = r.stderr.decode()
                        self.assertEqual(r.returncode, 0, err)
                        hints = hints_in(err)
                        self.assertEqual(len(hints), 1, err)
                        self.assertIn(tag, hints[0])
                        self.assertIn("bytes for 30 s but no valid frame", hints[0])
                        self.assertIn("read at 19200 baud", hints[0])
            # the persona stays taptap: no doctor there
            r = run([taptap_path(), "doctor", "--file", path])
            self.assertEqual(r.returncode, 2)
            self.assertIn("unrecognized subcommand 'doctor'", r.stderr.decode())


if __name__ == "__main__":
    unittest.main()
