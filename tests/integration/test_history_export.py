"""`sunwire history` against a database the test fills itself.

The test writes the documented schema (docs/history.md) and known rows with
Python's sqlite3, then checks the CSV, JSON and JSON-lines exports, the time
range forms, the filters and the error messages. The expected rows are the
ones the test inserted, not anything sunwire computed.
"""
import csv
import io
import json
import os
import sqlite3
import stat
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tigolib  # noqa: E402

SCHEMA = """
CREATE TABLE schema_version (version INTEGER NOT NULL, applied_ns INTEGER NOT NULL);
CREATE TABLE panel_readings (ts_ns INTEGER NOT NULL, source TEXT NOT NULL, gateway_id INTEGER NOT NULL,
  node_id INTEGER NOT NULL, barcode TEXT NOT NULL, panel TEXT NOT NULL, string TEXT NOT NULL,
  voltage_in REAL, voltage_out REAL, current_in REAL, power_w REAL, duty_cycle REAL, temperature_c REAL,
  rssi INTEGER, energy_total_wh REAL, energy_today_wh REAL, online INTEGER NOT NULL);
CREATE TABLE string_aggregates (ts_ns INTEGER NOT NULL, string TEXT NOT NULL, panels INTEGER NOT NULL,
  online INTEGER NOT NULL, power_sum_w REAL, power_min_w REAL, power_max_w REAL, power_avg_w REAL,
  energy_today_wh REAL, energy_total_wh REAL);
CREATE TABLE inverter_values (ts_ns INTEGER NOT NULL, inverter TEXT NOT NULL, object_id INTEGER NOT NULL,
  object TEXT NOT NULL, unit TEXT NOT NULL, number REAL, text TEXT NOT NULL);
CREATE TABLE events (ts_ns INTEGER NOT NULL, kind TEXT NOT NULL, json TEXT NOT NULL);
INSERT INTO schema_version VALUES (1, 0);
"""

# 2026-11-20T10:00:00Z
BASE = 1795168800 * 10**9
MIN = 60 * 10**9
PANELS = [("4-A2346FZ", "roof, \"east\" 1", "east"), ("4-A23471V", "roof west", "west"),
          ("4-A23473X", "shed", "west")]


def iso(ns):
    s, frac = divmod(ns, 10**9)
    t = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(s))
    if frac:
        t += ("." + "%09d" % frac).rstrip("0")
    return t + "Z"


class HistoryExport(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        cls.db = os.path.join(cls.tmp.name, "h.db")
        con = sqlite3.connect(cls.db)
        con.executescript(SCHEMA)
        cls.panel_rows = []
        for minute in range(0, 120, 10):
            for node, (bc, name, string) in enumerate(PANELS, start=2):
                ts = BASE + minute * MIN + node
                vin, cur = 30.0 + node + minute / 100, 5.0 + minute / 1000
                row = (ts, "roof", 4609, node, bc, name, string, vin, vin - 0.5, cur, vin * cur, 1.0,
                       20.5 + node, 100 + node, 1000.0 + minute, minute / 2, 1)
                con.execute("INSERT INTO panel_readings VALUES (%s)" % ",".join("?" * 17), row)
                cls.panel_rows.append(row)
        for minute in range(0, 120, 30):
            con.execute("INSERT INTO string_aggregates VALUES (?,?,?,?,?,?,?,?,?,?)",
                        (BASE + minute * MIN, "west", 2, 2, 400.0, 190.0, 210.0, 200.0, 50.0, 9000.0))
        now = time.time_ns()
        cls.recent = [now - 2 * 3600 * 10**9, now - 30 * 60 * 10**9, now - 5 * 60 * 10**9]
        for ts in cls.recent:
            con.execute("INSERT INTO inverter_values VALUES (?,?,?,?,?,?,?)",
                        (ts, "garage", 0x959930BF, "battery.soc", "%", 0.5, "0.5"))
        con.execute("INSERT INTO inverter_values VALUES (?,?,?,?,?,?,?)",
                    (now - 60 * 10**9, "garage", 0x5F33284E, "prim_sm.state", "", None, "Feed in"))
        con.execute("INSERT INTO events VALUES (?,?,?)", (BASE, "node_table", '{"nodes":[2,3,4]}'))
        con.commit()
        con.close()
        # The export must never need to write: make the file read-only.
        os.chmod(cls.db, stat.S_IRUSR | stat.S_IRGRP)

    @classmethod
    def tearDownClass(cls):
        os.chmod(cls.db, stat.S_IRUSR | stat.S_IWUSR)
        cls.tmp.cleanup()

    def history(self, *args, rc=0):
        r = tigolib.run([tigolib.BIN, "history", "--db", self.db] + list(args))
        self.assertEqual(r.returncode, rc, r.stderr.decode())
        return r.stdout.decode("utf-8"), r.stderr.decode("utf-8")

    def test_performance_table(self):
        # An older file has no performance table: the header and no rows, not an error.
        out, err = self.history("--table", "performance", "--from", "2026-11-01", "--to", "2026-12-01")
        self.assertEqual(out.splitlines(), ["time,day,source,panel_id,panel,string,energy_wh,peer_energy_wh,"
                                            "performance"])
        # One written by a daemon of schema 3: a row per panel and day, filtered like the readings.
        db = os.path.join(self.tmp.name, "perf.db")
        con = sqlite3.connect(db)
        con.executescript(SCHEMA + """
            CREATE TABLE performance (ts_ns INTEGER NOT NULL, day TEXT NOT NULL, source TEXT NOT NULL,
              panel_id TEXT NOT NULL, panel TEXT NOT NULL, string TEXT NOT NULL, energy_wh REAL,
              peer_energy_wh REAL, performance REAL, PRIMARY KEY (day, source, panel_id));
            INSERT INTO schema_version VALUES (3, 0);""")
        for day in range(3):
            for node, (bc, name, string) in enumerate(PANELS, start=2):
                con.execute("INSERT INTO performance VALUES (?,?,?,?,?,?,?,?,?)",
                            (BASE + day * 86400 * 10**9 + 6 * 3600 * 10**9, "2026-11-%02d" % (20 + day), "roof",
                             bc, name, string, 1000.0 * (node - 1), 1000.0, None if node == 4 else node - 1.0))
        con.commit()
        con.close()
        r = tigolib.run([tigolib.BIN, "history", "--db", db, "--table", "performance", "--from", "2026-11-20",
                         "--to", "2026-11-23", "--panel", "4-A23471V", "--format", "json"])
        self.assertEqual(r.returncode, 0, r.stderr.decode())
        rows = json.loads(r.stdout)
        self.assertEqual([x["day"] for x in rows], ["2026-11-20", "2026-11-21", "2026-11-22"])
        self.assertTrue(all(x["panel"] == "roof west" and x["performance"] == 2.0 for x in rows), rows)
        r = tigolib.run([tigolib.BIN, "history", "--db", db, "--table", "performance", "--from", "2026-11-20",
                         "--to", "2026-11-21", "--string", "west", "--format", "jsonl"])
        rows = [json.loads(line) for line in r.stdout.decode().splitlines()]
        self.assertEqual(sorted(x["panel"] for x in rows), ["roof west", "shed"])
        self.assertIsNone([x for x in rows if x["panel"] == "shed"][0]["performance"])

    def test_csv_all_panels(self):
        out, err = self.history("--from", "2026-11-20T10:00:00Z", "--to", "2026-11-20T12:00:00Z")
        self.assertEqual(err, "")
        rows = list(csv.reader(io.StringIO(out)))
        self.assertEqual(rows[0], ["time", "source", "gateway_id", "node_id", "barcode", "panel", "string",
                                   "voltage_in", "voltage_out", "current_in", "power_w", "duty_cycle",
                                   "temperature_c", "rssi", "energy_total_wh", "energy_today_wh", "online",
                                   "loss_15m", "loss_day", "rssi_trend", "next_hop"])
        self.assertEqual(len(rows) - 1, len(self.panel_rows))
        for got, want in zip(rows[1:], self.panel_rows):
            self.assertEqual(got[0], iso(want[0]))
            self.assertEqual(got[5], want[5])  # the name with a comma and quotes survives CSV quoting
            self.assertEqual(float(got[7]), want[7])
            self.assertEqual(float(got[10]), want[10])
            self.assertEqual(int(got[13]), want[13])

    def test_range_is_half_open_and_offsets_count(self):
        # 10:30 local at +01:00 is 09:30Z: nothing before BASE; to 10:20Z exclusive of the 10:20 rows.
        out, _ = self.history("--from", "2026-11-20T10:30+01:00", "--to", "2026-11-20 10:20:00Z",
                              "--format", "jsonl")
        times = [json.loads(l)["time"] for l in out.splitlines()]
        want = [iso(r[0]) for r in self.panel_rows if r[0] < BASE + 20 * MIN]
        self.assertEqual(times, want)
        # A local time is read in the process's zone.
        env = tigolib.quiet_env(TZ="XXX-02:00")
        r = tigolib.run([tigolib.BIN, "history", "--db", self.db, "--from", "2026-11-20T12:50",
                         "--to", "2026-11-20T13:00:00", "--time", "ns"], env=env)
        self.assertEqual(r.returncode, 0, r.stderr)
        ns = [int(l.split(",")[0]) for l in r.stdout.decode().splitlines()[1:]]
        self.assertEqual(ns, [x[0] for x in self.panel_rows if BASE + 50 * MIN <= x[0] < BASE + 60 * MIN])

    def test_filters(self):
        rng = ("--from", "2026-11-20", "--to", "2026-11-21")
        by_name, _ = self.history("--panel", "roof west", "--format", "json", *rng)
        by_code, _ = self.history("--panel", "4-A23471V", "--format", "json", *rng)
        self.assertEqual(by_name, by_code)
        arr = json.loads(by_name)
        self.assertEqual(len(arr), 12)
        self.assertTrue(all(o["barcode"] == "4-A23471V" and o["node_id"] == 3 for o in arr))
        self.assertIsInstance(arr[0]["voltage_in"], float)
        west, _ = self.history("--string", "west", "--table", "panels", "--format", "jsonl", *rng)
        self.assertEqual({json.loads(l)["panel"] for l in west.splitlines()}, {"roof west", "shed"})
        agg, _ = self.history("--string", "west", "--format", "jsonl", *rng)
        aggs = [json.loads(l) for l in agg.splitlines()]
        self.assertEqual(len(aggs), 4)
        self.assertEqual(aggs[0]["power_sum_w"], 400.0)
        ev, _ = self.history("--table", "events", "--format", "json", *rng)
        self.assertEqual(json.loads(ev), [{"time": iso(BASE), "kind": "node_table", "json": {"nodes": [2, 3, 4]}}])

    def test_relative_ranges_and_inverter(self):
        out, _ = self.history("--inverter", "garage", "--object", "battery.soc", "--from", "-1h",
                              "--format", "jsonl", "--time", "ns")
        got = [json.loads(l) for l in out.splitlines()]
        self.assertEqual([o["time"] for o in got], self.recent[1:])
        self.assertTrue(all(o["number"] == 0.5 and o["unit"] == "%" for o in got))
        out, _ = self.history("--inverter", "garage", "--from", "-3h", "--format", "csv")
        rows = list(csv.DictReader(io.StringIO(out)))
        self.assertEqual(len(rows), 4)
        state = [r for r in rows if r["object"] == "prim_sm.state"]
        self.assertEqual(state[0]["number"], "")  # a text value has no number
        self.assertEqual(state[0]["text"], "Feed in")
        out, _ = self.history("--inverter", "garage", "--from", "-10m", "--to", "now")
        self.assertEqual(len(out.splitlines()), 1 + 2)

    def test_empty_json_array(self):
        out, _ = self.history("--from", "2020-01-01", "--to", "2020-01-02", "--format", "json")
        self.assertEqual(json.loads(out), [])

    def test_errors(self):
        _, err = self.history("--panel", "nope", "--from", "2026-11-20", rc=1)
        self.assertIn("unknown panel", err)
        self.assertIn("nope", err)
        _, err = self.history("--inverter", "cellar", rc=1)
        self.assertIn("cellar", err)
        _, err = self.history("--from", "2026-11-21", "--to", "2026-11-20", rc=2)
        self.assertIn("empty range", err)
        _, err = self.history("--from", "yesterday-ish", rc=2)
        self.assertIn("--from", err)
        _, err = self.history("--from", "2026-02-30", rc=2)
        self.assertIn("2026-02-30", err)
        _, err = self.history("--to", "-5x", rc=2)
        self.assertIn("--to", err)
        _, err = self.history("--format", "xml", rc=2)
        self.assertIn("xml", err)
        _, err = self.history("--panel", "shed", "--table", "events", rc=2)
        self.assertIn("--panel", err)
        r = tigolib.run([tigolib.BIN, "history", "--db", os.path.join(self.tmp.name, "missing.db")])
        self.assertEqual(r.returncode, 1)
        self.assertIn(b"missing.db", r.stderr)
        self.assertFalse(os.path.exists(os.path.join(self.tmp.name, "missing.db")))


if __name__ == "__main__":
    unittest.main()
