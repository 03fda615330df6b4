"""Backfill of the RCT logger's history into InfluxDB and the SQLite history.

`sunwire rct history` and `sunwire rct events` write line protocol with
--format influx; the documented backfill (docs/influxdb.md) sends those lines
to InfluxDB's write API and to `sunwire history import`. Run twice over the
same range against the simulator, a real influxd and a real SQLite file, it
must add every point once: the second run adds nothing.
"""
import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tsdblib  # noqa: E402
from rctlib import Simulator  # noqa: E402
from test_influx_post import parse_line  # noqa: E402

BIN = tsdblib.BIN
FROM, TO = "2026-06-20T08:00:00", "2026-06-20T12:00:00"
SERIES = ["logger.minutes_soc_log_ts", "logger.minutes_eload_log_ts", "logger.minutes_ubat_log_ts"]
# A fixed zone one hour east of UTC without summer time: device times are local times.
ENV = dict(os.environ, TZ="CET-1")
OFFSET = 3600


def run(args, stdin=None):
    r = subprocess.run([BIN] + args, input=stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120,
                       env=ENV)
    return r.returncode, r.stdout.decode(), r.stderr.decode()


class Backfill(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.addCleanup(self.tmp.cleanup)
        self.sim = Simulator("--start", "2026-06-21T09:00:00")
        self.sim.__enter__()
        self.addCleanup(self.sim.stop)

    def rct(self, *args):
        rc, out, err = run(["rct"] + list(args) + ["-h", "127.0.0.1", "-p", str(self.sim.port)])
        self.assertEqual(rc, 0, err)
        return out

    def series_args(self):
        return [a for s in SERIES for a in ("-n", s)]

    def test_influx_format_matches_json(self):
        lines = self.rct("history", "--from", FROM, "--to", TO, "--format", "influx", "--inverter", "my house",
                         *self.series_args())
        js = [json.loads(l) for l in self.rct("history", "--from", FROM, "--to", TO, "--json",
                                             *self.series_args()).splitlines()]
        self.assertTrue(lines.endswith("\n"))
        got = {}
        for line in lines.splitlines():
            m, tags, fields, ts = parse_line(line)
            self.assertEqual(m, "sunwire_inverter_value")
            self.assertEqual(tags["inverter"], "my house")
            self.assertEqual(set(fields), {"value"})
            got[(tags["object"], ts)] = fields["value"]
        want = {(p["name"], p["timestamp"] - OFFSET): p["value"] for p in js}
        self.assertEqual(len(want), len(js))
        self.assertEqual(got, want)
        self.assertEqual({o for o, _ in got}, set(SERIES))

        ev_lines = self.rct("events", "--format", "influx", "--inverter", "my house")
        ev_json = [json.loads(l) for l in self.rct("events", "--json").splitlines()]
        self.assertGreater(len(ev_json), 0)
        evs = [parse_line(l) for l in ev_lines.splitlines()]
        self.assertEqual(len(evs), len(ev_json))
        for (m, tags, fields, ts), e in zip(evs, ev_json):
            self.assertEqual(m, "sunwire_event")
            self.assertEqual(tags, {"kind": "rct_logger", "inverter": "my house", "event": e["name"]})
            self.assertEqual(ts, e["timestamp"] - OFFSET)
            self.assertEqual(fields["entry_type"], e["entry_type"])
            self.assertEqual(fields["element2"], e["element2"])
            inner = json.loads(fields["json"])
            self.assertEqual(inner["inverter"], "my house")
            self.assertEqual(inner["name"], e["name"])

    def backfill(self, influx, db, lp):
        """The documented backfill: logger lines to a file, then InfluxDB and the history."""
        with open(lp, "w") as f:
            f.write(self.rct("history", "--from", FROM, "--to", TO, "--format", "influx", "--inverter", "house",
                             *self.series_args()))
            f.write(self.rct("events", "--format", "influx", "--inverter", "house"))
        with open(lp, "rb") as f:
            body = f.read()
        st, text = influx.write("solar", body, precision="s")
        self.assertEqual(st, 204, text)
        rc, _, err = run(["history", "import", "--db", db, lp])
        self.assertEqual(rc, 0, err)
        return body.decode().splitlines(), err

    @unittest.skipUnless(tsdblib.have("influxd"), "influxd not installed (Debian package influxdb)")
    def test_backfill_twice_adds_nothing_the_second_time(self):
        influx = tsdblib.InfluxD().start()
        self.addCleanup(influx.cleanup)
        influx.query("CREATE DATABASE solar")
        db = os.path.join(self.tmp.name, "history.db")
        lp = os.path.join(self.tmp.name, "backfill.lp")

        lines, err1 = self.backfill(influx, db, lp)
        n_values = sum(1 for l in lines if l.startswith("sunwire_inverter_value,"))
        n_events = sum(1 for l in lines if l.startswith("sunwire_event,"))
        self.assertGreater(n_values, 100)
        self.assertGreater(n_events, 0)
        self.assertIn("%d rows added, 0 already there" % len(lines), err1)

        def influx_counts():
            v = influx.rows('SELECT count("value") FROM sunwire_inverter_value', "solar")
            e = influx.rows('SELECT count("json") FROM sunwire_event', "solar")
            return v[0]["count"], e[0]["count"]

        def sqlite_counts():
            con = sqlite3.connect(db)
            try:
                return (con.execute("SELECT count(*) FROM inverter_values").fetchone()[0],
                        con.execute("SELECT count(*) FROM events").fetchone()[0])
            finally:
                con.close()

        self.assertEqual(influx_counts(), (n_values, n_events))
        self.assertEqual(sqlite_counts(), (n_values, n_events))

        lines2, err2 = self.backfill(influx, db, lp)
        self.assertEqual(sorted(lines2), sorted(lines))
        self.assertIn("0 rows added, %d already there" % len(lines), err2)
        self.assertEqual(influx_counts(), (n_values, n_events))
        self.assertEqual(sqlite_counts(), (n_values, n_events))

        # The values themselves, in both stores, are what the logger said.
        want = {}
        for l in lines:
            m, tags, fields, ts = parse_line(l)
            if m == "sunwire_inverter_value":
                want[(tags["object"], ts * 10**9)] = fields["value"]
        rows = influx.rows('SELECT "value" FROM sunwire_inverter_value GROUP BY "object"', "solar")
        self.assertEqual({(r["object"], r["time"]): r["value"] for r in rows}, want)
        con = sqlite3.connect(db)
        try:
            hist = {(o, ts): n for o, ts, n in con.execute("SELECT object, ts_ns, number FROM inverter_values")}
        finally:
            con.close()
        self.assertEqual(hist, want)
        # And `sunwire history` exports them like any other inverter value.
        rc, out, err = run(["history", "--db", db, "--object", SERIES[0], "--from", "2026-06-20T07:00Z",
                            "--to", "2026-06-20T11:00Z", "--format", "jsonl"])
        self.assertEqual(rc, 0, err)
        exported = [json.loads(l) for l in out.splitlines()]
        self.assertEqual(len(exported), sum(1 for o, _ in want if o == SERIES[0]))


if __name__ == "__main__":
    unittest.main()
