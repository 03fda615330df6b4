#!/usr/bin/env python3
"""A corrupt energy database must not cost the lifetime energy counters.

`sunwire run` with a state directory whose energy.db is not a sound SQLite
database: the file is moved aside as energy.db.corrupt-STAMP, the log says so
at error level, and the counters come from energy.db.prev (the copy made at
every start), so the new database holds them instead of zeros. Without a copy
the daemon says that the counters start from zero, unless the SQLite history
holds panel readings: their largest lifetime value is the newest one. An
unusable energy.db (a directory) stops the start with its path and the reason.

An older version kept the counters in panels.json: on the first start it is
imported once (also when cut short: then from panels.json.prev) and renamed
panels.json.imported.
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


def stored_totals(db):
    """node -> lifetime Wh in an energy database (read-only)."""
    c = sqlite3.connect("file:%s?mode=ro" % db, uri=True)
    try:
        return {r[0]: r[1] for r in c.execute("SELECT node_id, total_wh FROM panel_energy")}
    finally:
        c.close()


def run_daemon(state, *extra, wait=r"energy counters"):
    """Start, let the state be handled, stop with SIGTERM; (returncode, stderr lines)."""
    with fl.sunwire("run", "--tigo-tcp", "127.0.0.1:1", "--state-dir", state,
                    "--panels", "A:east1:4-A2346FZ", *extra, env=fl.quiet_env(SUNWIRE_LOG="info")) as d:
        d.wait_line(wait, err=True)
        time.sleep(0.3)
        return d.stop(), d.lines(True)


class CorruptEnergyFile(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.state = os.path.join(self.tmp.name, "state")
        os.mkdir(self.state)
        self.path = os.path.join(self.state, "energy.db")

    def tearDown(self):
        self.tmp.cleanup()

    def make_db(self, total):
        """An energy database as the daemon writes it: one start with an older panels.json to import."""
        legacy = os.path.join(self.state, "panels.json")
        with open(legacy, "w") as f:
            json.dump({"version": 1, "saved_ns": 0, "panels": [dict(PANEL, energy_total_wh=total)]}, f)
        rc, err = run_daemon(self.state)
        self.assertEqual(rc, 0, "\n".join(err))
        os.unlink(legacy + ".imported")
        self.assertEqual(stored_totals(self.path), {2: total})

    def corrupt(self):
        with open(self.path, "wb") as f:
            f.write(b"SQLite format 3\x00" + b"\x10\x00\x01\x01" + os.urandom(300))  # a header, then noise
        for suffix in ("-wal", "-shm"):
            if os.path.exists(self.path + suffix):
                os.unlink(self.path + suffix)

    def run_daemon(self):
        rc, err = run_daemon(self.state, wait=r"corrupt")
        self.assertEqual(rc, 0, "\n".join(err))
        return err

    def test_restored_from_the_previous_copy(self):
        self.make_db(12345.5)              # the start also copies it to energy.db.prev
        self.corrupt()
        err = "\n".join(self.run_daemon())
        aside = glob.glob(self.path + ".corrupt-*")
        self.assertEqual(len(aside), 1, err)
        self.assertRegex(err, r"ERROR.*energy\.db are corrupt.*moved it to .*energy\.db\.corrupt-\d+")
        self.assertRegex(err, r"ERROR.*restored from .*energy\.db\.prev")
        self.assertEqual(stored_totals(self.path), {2: 12345.5})

    def test_without_a_copy_the_loss_is_logged(self):
        self.corrupt()
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
        self.corrupt()
        rc, err = run_daemon(self.state, "--history", hist, wait=r"restored from the history")
        self.assertEqual(rc, 0, "\n".join(err))
        err = "\n".join(err)
        self.assertRegex(err, r"ERROR.*energy counters of 1 panels restored from the history .*history\.db")
        self.assertNotIn("start from zero", err)
        self.assertEqual(stored_totals(self.path), {2: 12345.5})

    def test_unreadable_file_stops_the_start(self):
        os.mkdir(self.path)
        r = fl.run("run", "--tigo-tcp", "127.0.0.1:1", "--state-dir", self.state, timeout=20)
        err = r.stderr.decode()
        self.assertNotEqual(r.returncode, 0, err)
        self.assertIn("%s: it is a directory" % self.path, err)
        self.assertTrue(os.path.isdir(self.path))


class OlderEnergyFile(unittest.TestCase):
    """panels.json of an older version: imported once, then never read again."""

    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.state = os.path.join(self.tmp.name, "state")
        os.mkdir(self.state)
        self.legacy = os.path.join(self.state, "panels.json")
        self.db = os.path.join(self.state, "energy.db")

    def tearDown(self):
        self.tmp.cleanup()

    def test_imported_once(self):
        with open(self.legacy, "w") as f:
            json.dump({"version": 1, "saved_ns": 0, "panels": [PANEL]}, f)
        rc, err = run_daemon(self.state, "--json", wait=r"imported from")
        self.assertEqual(rc, 0, "\n".join(err))
        self.assertRegex("\n".join(err), r"INFO.*energy counters of 1 panels imported from .*panels\.json into "
                         r".*energy\.db")
        self.assertFalse(os.path.exists(self.legacy))
        self.assertTrue(os.path.exists(self.legacy + ".imported"))
        self.assertEqual(stored_totals(self.db), {2: 12345.5})
        # A panels.json that shows up again (an older version run once more) is not read.
        with open(self.legacy, "w") as f:
            json.dump({"version": 1, "saved_ns": 0, "panels": [dict(PANEL, energy_total_wh=99999.0)]}, f)
        rc, err = run_daemon(self.state, wait=r"loaded from")
        self.assertEqual(rc, 0, "\n".join(err))
        self.assertEqual(stored_totals(self.db), {2: 12345.5})

    def test_cut_short_is_imported_from_its_copy(self):
        with open(self.legacy, "w") as f:
            f.write('{"version": 1, "panels": [{"source": "roof", "gatew')  # a write cut short
        with open(self.legacy + ".prev", "w") as f:
            json.dump({"version": 1, "saved_ns": 0, "panels": [PANEL]}, f)
        rc, err = run_daemon(self.state, wait=r"corrupt")
        err = "\n".join(err)
        self.assertEqual(rc, 0, err)
        self.assertEqual(len(glob.glob(self.legacy + ".corrupt-*")), 1, err)
        self.assertRegex(err, r"ERROR.*panels\.json are corrupt.*moved it to .*panels\.json\.corrupt-\d+")
        self.assertRegex(err, r"ERROR.*restored from .*panels\.json\.prev")
        self.assertEqual(stored_totals(self.db), {2: 12345.5})


if __name__ == "__main__":
    unittest.main()
