"""The SQLite history written by a running `sunwire run`, read with Python's sqlite3.

The daemon is fed the bundled demo bus capture over loopback TCP. After a
clean stop the database must hold the documented schema, WAL mode and the
panel readings; after kill -9 in the middle of writing it must still pass
SQLite's integrity check and hold every row committed before the kill.
"""
import json
import math
import os
import signal
import sqlite3
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tigolib  # noqa: E402

SOURCE = os.environ.get("SW_SOURCE_DIR", os.path.join(os.path.dirname(__file__), "..", ".."))
CAPTURE = os.path.join(SOURCE, "data", "demo", "tigo-demo.pcapng")

PANEL_COLUMNS = ["ts_ns", "source", "gateway_id", "node_id", "barcode", "panel", "string", "voltage_in",
                 "voltage_out", "current_in", "power_w", "duty_cycle", "temperature_c", "rssi",
                 "energy_total_wh", "energy_today_wh", "online", "loss_15m", "loss_day", "rssi_trend", "next_hop"]


def count(db, sql, *args):
    con = sqlite3.connect("file:%s?mode=ro" % db, uri=True)
    try:
        return con.execute(sql, args).fetchone()[0]
    finally:
        con.close()


class HistoryRun(unittest.TestCase):
    def setUp(self):
        with open(CAPTURE, "rb") as f:
            self.chunks = tigolib.pcapng_parse(f.read())
        self.tmp = tempfile.TemporaryDirectory()
        self.addCleanup(self.tmp.cleanup)
        self.db = os.path.join(self.tmp.name, "history.db")

    def start(self, sessions):
        bus = tigolib.BusServer(sessions, close=False)
        self.addCleanup(bus.stop)
        cfg = os.path.join(self.tmp.name, "sunwire.ini")
        with open(cfg, "w") as f:
            f.write("[tigo roof]\ntcp = 127.0.0.1:%d\n\n[panels]\nmodules = south:first:4-A2346FZ\n\n"
                    "[history]\npath = %s\nretention_days = 30\n" % (bus.port, self.db))
        proc = tigolib.Proc([tigolib.BIN, "run", "--config", cfg])
        self.addCleanup(proc.stop)
        return proc

    def wait_rows(self, sql, minimum, timeout=15):
        end = time.monotonic() + timeout
        n = 0
        while time.monotonic() < end:
            if os.path.exists(self.db):
                try:
                    n = count(self.db, sql)
                except sqlite3.OperationalError:
                    n = 0
                if n >= minimum:
                    return n
            time.sleep(0.05)
        self.fail("only %d rows for %s" % (n, sql))

    def test_clean_run(self):
        data = b"".join(c[1] for c in self.chunks)
        proc = self.start([[(0.0, data)]])
        self.wait_rows("SELECT count(*) FROM panel_readings WHERE online = 1", 10)
        time.sleep(0.3)
        proc.p.send_signal(signal.SIGTERM)
        self.assertEqual(proc.wait(10), 0)

        con = sqlite3.connect(self.db)
        self.addCleanup(con.close)
        self.assertEqual(con.execute("PRAGMA journal_mode").fetchone()[0], "wal")
        self.assertEqual(con.execute("PRAGMA integrity_check").fetchone()[0], "ok")
        self.assertEqual(con.execute("SELECT version FROM schema_version").fetchall(), [(3,)])
        cols = [r[1] for r in con.execute("PRAGMA table_info(panel_readings)")]
        self.assertEqual(cols, PANEL_COLUMNS)
        tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        self.assertTrue({"schema_version", "panel_readings", "string_aggregates", "inverter_values",
                         "events", "performance", "problems"} <= tables, tables)

        rows = con.execute("SELECT * FROM panel_readings WHERE online = 1 ORDER BY ts_ns").fetchall()
        self.assertGreater(len(rows), 10)
        start = time.time_ns() - 600 * 10**9
        for r in rows:
            rec = dict(zip(PANEL_COLUMNS, r))
            self.assertEqual(rec["source"], "roof")
            self.assertGreater(rec["ts_ns"], start)
            self.assertTrue(math.isclose(rec["power_w"], rec["voltage_in"] * rec["current_in"], abs_tol=1e-9))
            self.assertTrue(0 <= rec["duty_cycle"] <= 1)
            self.assertTrue(0 <= rec["rssi"] <= 255)
        # The panel map names one panel and puts it in a string; the others keep their barcodes.
        named = con.execute("SELECT DISTINCT panel, string FROM panel_readings WHERE barcode = '4-A2346FZ'").fetchall()
        self.assertEqual(named, [("first", "south")])
        others = con.execute("SELECT count(*) FROM panel_readings WHERE barcode != '4-A2346FZ' AND panel != barcode")
        self.assertEqual(others.fetchone()[0], 0)
        # Never a reading before the first report: no rows of zeros for panels known only by name.
        self.assertEqual(con.execute("SELECT count(*) FROM panel_readings WHERE voltage_in = 0 AND "
                                     "current_in = 0 AND online = 0 AND energy_total_wh = 0").fetchone()[0], 0)
        # String aggregates follow the panels: "south" has exactly the one mapped panel.
        self.assertGreater(con.execute("SELECT count(*) FROM string_aggregates WHERE string = 'south' "
                                       "AND panels = 1").fetchone()[0], 0)
        self.assertGreater(con.execute("SELECT count(*) FROM string_aggregates WHERE string = 'total'")
                           .fetchone()[0], 0)
        # The string statistics are stored: one online panel is its string's minimum, maximum and mean.
        self.assertGreater(con.execute("SELECT count(*) FROM string_aggregates WHERE string = 'south' AND online = 1"
                                       " AND identified = 1 AND voltage_in_min > 0 AND voltage_in_min = voltage_in_max"
                                       " AND voltage_in_avg = voltage_in_sum AND rssi_min = rssi_max"
                                       " AND temperature_min_c = temperature_avg_c").fetchone()[0], 0)
        # ... and `sunwire history --table strings` shows them, as the database holds them.
        r = tigolib.run([tigolib.BIN, "history", "--db", self.db, "--table", "strings", "--string", "south",
                         "--from", "-1h", "--format", "jsonl"])
        self.assertEqual(r.returncode, 0, r.stderr.decode())
        shown = [json.loads(line) for line in r.stdout.decode().splitlines()]
        stored = con.execute("SELECT identified, voltage_in_min, voltage_out_max, current_in_avg, temperature_max_c,"
                             " duty_cycle_min, rssi_avg FROM string_aggregates WHERE string = 'south'"
                             " ORDER BY ts_ns, rowid").fetchall()
        self.assertEqual(len(shown), len(stored))
        keys = ("identified", "voltage_in_min", "voltage_out_max", "current_in_avg", "temperature_max_c",
                "duty_cycle_min", "rssi_avg")
        self.assertEqual([tuple(row[k] for k in keys) for row in shown], stored)
        self.assertTrue(any(row["voltage_in_min"] > 0 for row in shown))

    def test_kill_9_keeps_database_intact(self):
        # Reports keep coming for a few seconds, so the kill lands while the daemon is writing.
        pieces = [(0.0 if i == 0 else 0.002, c[1]) for i, c in enumerate(self.chunks)]
        proc = self.start([pieces])
        before = self.wait_rows("SELECT count(*) FROM panel_readings", 5)
        time.sleep(0.5)
        committed = count(self.db, "SELECT count(*) FROM panel_readings")
        self.assertGreaterEqual(committed, before)
        proc.p.send_signal(signal.SIGKILL)
        proc.wait(10)
        self.assertEqual(proc.p.returncode, -signal.SIGKILL)

        # Opening the file recovers the WAL; nothing committed is lost, nothing is torn.
        con = sqlite3.connect(self.db)
        self.addCleanup(con.close)
        self.assertEqual(con.execute("PRAGMA integrity_check").fetchone()[0], "ok")
        after = con.execute("SELECT count(*) FROM panel_readings").fetchone()[0]
        self.assertGreaterEqual(after, committed)
        self.assertEqual(con.execute("SELECT count(*) FROM panel_readings WHERE ts_ns IS NULL OR panel IS NULL")
                         .fetchone()[0], 0)

        # The export command reads the recovered file, every row of it (report times may lead
        # the wall clock a little, hence the end of the range an hour ahead).
        r = tigolib.run([tigolib.BIN, "history", "--db", self.db, "--from", "-1h",
                         "--to", "@%d" % (time.time() + 3600), "--format", "jsonl"])
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(len(r.stdout.splitlines()), after)


if __name__ == "__main__":
    unittest.main()
