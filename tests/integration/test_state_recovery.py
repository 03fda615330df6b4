#!/usr/bin/env python3
"""A corrupt panels.json must not cost the lifetime energy counters.

`sunwire run` with a state directory whose panels.json does not parse: the file
is moved aside as panels.json.corrupt-UNIXTIME, the log says so at error level,
and the counters come from panels.json.prev (the copy every save keeps), so the
next save writes them back instead of zeros. Without a copy the daemon says
that the counters start from zero, unless the SQLite history holds panel
readings: their largest lifetime value is the newest one. An unreadable panels.json (a directory) stops
the start with its path and the reason.
"""
import glob
import json
import os
import sqlite3
import tempfile
import time
import unittest

import faultlib as fl

PANEL = {"source": "roof", "gateway": 4609, "node": 2, "barcode": "4-A2346FZ", "name": "4-A2346FZ",
         "energy_total_wh": 12345.5, "energy_today_wh": 0.0, "day": -1}


class CorruptEnergyFile(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.state = os.path.join(self.tmp.name, "state")
        os.mkdir(self.state)
        self.path = os.path.join(self.state, "panels.json")
        with open(self.path, "w") as f:
            f.write('{"version": 1, "panels": [{"source": "roof", "gatew')  # a write cut short

    def tearDown(self):
        self.tmp.cleanup()

    def run_daemon(self):
        """Start, let the state be handled, stop with SIGTERM (which saves); stderr lines."""
        with fl.sunwire("run", "--tigo-tcp", "127.0.0.1:1", "--state-dir", self.state,
                        "--panels", "A:east1:4-A2346FZ") as d:
            d.wait_line(r"corrupt", err=True)
            time.sleep(0.3)
            self.assertEqual(d.stop(), 0, "\n".join(d.lines(True)))
            return d.lines(True)

    def saved_total(self):
        with open(self.path) as f:
            panels = json.load(f)["panels"]
        return [p["energy_total_wh"] for p in panels if p["node"] == 2]

    def test_restored_from_the_previous_copy(self):
        with open(self.path + ".prev", "w") as f:
            json.dump({"version": 1, "saved_ns": 0, "panels": [PANEL]}, f)
        err = "\n".join(self.run_daemon())
        aside = glob.glob(self.path + ".corrupt-*")
        self.assertEqual(len(aside), 1, err)
        with open(aside[0]) as f:
            self.assertIn('"gatew', f.read())
        self.assertRegex(err, r"ERROR.*panels\.json are corrupt.*moved it to .*panels\.json\.corrupt-\d+")
        self.assertRegex(err, r"ERROR.*restored from .*panels\.json\.prev")
        self.assertEqual(self.saved_total(), [12345.5])

    def test_without_a_copy_the_loss_is_logged(self):
        err = "\n".join(self.run_daemon())
        self.assertEqual(len(glob.glob(self.path + ".corrupt-*")), 1, err)
        self.assertRegex(err, r"ERROR.*no usable copy.*start from zero")

    def test_restored_from_the_history_without_a_copy(self):
        hist = os.path.join(self.tmp.name, "history.db")
        # The daemon makes the history's schema; the rows are what an earlier run wrote.
        with fl.sunwire("run", "--tigo-tcp", "127.0.0.1:1", "--history", hist) as d:
            deadline = time.monotonic() + 10
            while not os.path.exists(hist) and time.monotonic() < deadline:
                time.sleep(0.05)
            self.assertEqual(d.stop(), 0, "\n".join(d.lines(True)))
        db = sqlite3.connect(hist)
        cols = [r[1] for r in db.execute("PRAGMA table_info(panel_readings)")]
        for ts, total in ((1, 100.0), (2, 12000.25), (3, 12345.5)):
            row = {c: None for c in cols}
            row.update(ts_ns=ts, source="roof", gateway_id=4609, node_id=2, barcode="4-A2346FZ", panel="A",
                       string="east1", energy_total_wh=total, online=1)
            db.execute("INSERT INTO panel_readings (%s) VALUES (%s)" % (",".join(cols), ",".join("?" * len(cols))),
                       [row[c] for c in cols])
        db.commit()
        db.close()
        with fl.sunwire("run", "--tigo-tcp", "127.0.0.1:1", "--state-dir", self.state, "--history", hist,
                        "--panels", "A:east1:4-A2346FZ") as d:
            d.wait_line(r"restored from the history", err=True)
            time.sleep(0.3)
            self.assertEqual(d.stop(), 0, "\n".join(d.lines(True)))
            err = "\n".join(d.lines(True))
        self.assertRegex(err, r"ERROR.*energy counters of 1 panels restored from the history .*history\.db")
        self.assertNotIn("start from zero", err)
        self.assertEqual(self.saved_total(), [12345.5])

    def test_unreadable_file_stops_the_start(self):
        os.unlink(self.path)
        os.mkdir(self.path)
        r = fl.run("run", "--tigo-tcp", "127.0.0.1:1", "--state-dir", self.state, timeout=20)
        err = r.stderr.decode()
        self.assertNotEqual(r.returncode, 0, err)
        self.assertIn("%s: it is a directory" % self.path, err)
        self.assertTrue(os.path.isdir(self.path))


if __name__ == "__main__":
    unittest.main()
