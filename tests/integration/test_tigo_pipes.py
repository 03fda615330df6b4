"""stdout and stderr sharing one pipe (2>&1) with a slow reader: no JSON line may be lost.

The Tigo commands drop log lines when a stderr pipe is full (a parent that
never reads stderr must not freeze the observer). That must not leak into
stdout when both are the same pipe.
"""
import os
import select
import signal
import subprocess
import time
import unittest

BIN = os.environ["SUNWIRE_BIN"]
SRC = os.environ.get("SW_SOURCE_DIR", os.path.join(os.path.dirname(__file__), "..", ".."))
DEMO = os.path.join(SRC, "data", "demo", "tigo-demo.pcapng")


class SharedPipe(unittest.TestCase):
    def reference_lines(self):
        out = subprocess.run([BIN, "tigo", "peek-frames", "--json", "--file", DEMO], stdout=subprocess.PIPE,
                             stderr=subprocess.DEVNULL, timeout=60, check=True).stdout
        return [l for l in out.decode().splitlines() if l.startswith("{")]

    def test_slow_reader_on_shared_pipe_gets_every_line(self):
        want = self.reference_lines()
        self.assertGreater(sum(len(l) for l in want), 200000)  # more than a pipe holds
        r, w = os.pipe()
        proc = subprocess.Popen([BIN, "tigo", "peek-frames", "--json", "--file", DEMO], stdout=w, stderr=w)
        os.close(w)
        time.sleep(1.0)  # let the pipe fill while nobody reads
        chunks = []
        while True:
            b = os.read(r, 4096)
            if not b:
                break
            chunks.append(b)
            time.sleep(0.001)
        os.close(r)
        self.assertEqual(proc.wait(timeout=60), 0)
        got = [l for l in b"".join(chunks).decode().splitlines() if l.startswith("{")]
        self.assertEqual(got, want)

    def test_stop_signal_during_a_blocked_write(self):
        # The stop signal interrupts a write into a full pipe (EINTR): the write is
        # finished, the command stops as asked, and no "Interrupted system call".
        want = self.reference_lines()
        for _ in range(2):
            proc = subprocess.Popen([BIN, "tigo", "peek-frames", "--json", "--file", DEMO], stdout=subprocess.PIPE,
                                    stderr=subprocess.PIPE)
            # Output starts only after the stop handlers are in place; then the pipe fills and the writer blocks.
            self.assertTrue(select.select([proc.stdout], [], [], 60)[0])
            time.sleep(1.0)
            proc.send_signal(signal.SIGTERM)
            out, err = proc.communicate(timeout=60)
            self.assertNotIn(b"Interrupted system call", err)
            self.assertEqual(proc.returncode, 0, err.decode())
            text = out.decode()
            self.assertTrue(text.endswith("\n"))
            got = [l for l in text.splitlines() if l.startswith("{")]
            self.assertGreater(len(got), 10)
            self.assertEqual(got, want[:len(got)])  # nothing lost or torn before the stop


if __name__ == "__main__":
    unittest.main()
