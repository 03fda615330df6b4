"""The InfluxDB line-protocol file holds whole lines only, at every moment.

A daemon reads a simulated plant (Tigo bus and RCT inverter) and appends line
protocol to a file with a short flush interval. While it writes, the test
copies the file many times, as a backup or a tailing collector would, and
checks that every copy ends with a line break and that every line in it
parses. A copy that ends inside a line is what InfluxDB rejects.

A reader may overlap one write() in progress: Linux lets a read see the first
pages of a write that is still copying. Such a copy is no fault of the
writer, and shows itself by being completed a moment later; a file that stays
cut inside a line (what buffered stdio writes left until the next flush) fails.
"""
import os
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tsdblib  # noqa: E402
from test_influx_post import parse_line  # noqa: E402


class InfluxFileWholeLines(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.addCleanup(self.tmp.cleanup)
        self.plant = tsdblib.Plant(gateways=2, panels=12, speed=30)
        self.addCleanup(self.plant.stop)

    def test_snapshots_end_with_whole_lines(self):
        path = os.path.join(self.tmp.name, "lines.lp")
        d = tsdblib.Daemon(self.tmp.name, self.plant.config() +
                           "[influx]\noutput = file\nfile = %s\nprecision = ms\nflush_ms = 1000\nbatch_lines = 20\n"
                           % path)
        self.addCleanup(d.stop)
        self.assertTrue(tsdblib.wait_until(lambda: os.path.exists(path) and os.path.getsize(path) > 0, 15),
                        d.stderr())
        snapshots, sizes = 0, set()
        end = time.monotonic() + 20
        while (snapshots < 400 or len(sizes) < 20) and time.monotonic() < end:
            with open(path, "rb") as f:
                data = f.read()
            snapshots += 1
            if not data:
                continue
            sizes.add(len(data))
            if not data.endswith(b"\n"):
                time.sleep(0.2)   # a write in progress has finished by now; a cut file is still cut
                with open(path, "rb") as f:
                    later = f.read()
                self.assertTrue(later.startswith(data), "the file was rewritten, not appended to")
                cut = later[len(data):].split(b"\n", 1)
                self.assertEqual(len(cut), 2, "snapshot %d of %d bytes ends with %r, and the line was not "
                                 "completed 0.2 s later" % (snapshots, len(data), data[-60:]))
            time.sleep(0.002)
        # The file grew while it was watched: the copies saw many different states of it.
        self.assertGreaterEqual(len(sizes), 20, "the file hardly grew: %s" % d.stderr())
        self.assertEqual(d.stop(), 0)
        with open(path, encoding="utf-8") as f:
            text = f.read()
        self.assertTrue(text.endswith("\n"))
        kinds = set()
        for line in text.split("\n")[:-1]:
            m, tags, fields, ts = parse_line(line)
            self.assertTrue(fields, line)
            kinds.add(m)
        self.assertIn("sunwire_panel", kinds)
        self.assertIn("sunwire_inverter_value", kinds)


if __name__ == "__main__":
    unittest.main()
