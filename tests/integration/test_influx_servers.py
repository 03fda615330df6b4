"""The daemon's InfluxDB output against real servers on 127.0.0.1.

- InfluxDB 1.x (Debian's `influxdb`) through the v1 write API, with
  authentication on and a non-default precision;
- VictoriaMetrics (Debian's `victoria-metrics`) through the v2 write API;
- the retry queue: the daemon starts while InfluxDB is down (then up without
  its database), and every point still arrives, with one warning for the
  outage and one summary at the end, not one per attempt.

The daemon reads a simulated plant and also keeps its SQLite history, which
is the reference: what the server answers to a query must be what the
history recorded, value for value and timestamp for timestamp.
"""
import os
import sqlite3
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tsdblib  # noqa: E402


def history_values(path):
    """{(object, ts_ns): number or text} of the inverter values in the SQLite history."""
    con = sqlite3.connect(path)
    try:
        rows = con.execute("SELECT object, ts_ns, number, text FROM inverter_values").fetchall()
    finally:
        con.close()
    return {(o, ts): (n if n is not None else t) for o, ts, n, t in rows}


def history_panel_count(path):
    con = sqlite3.connect(path)
    try:
        return con.execute("SELECT count(*) FROM panel_readings").fetchone()[0]
    finally:
        con.close()


class InfluxServers(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.addCleanup(self.tmp.cleanup)
        self.plant = tsdblib.Plant(gateways=1, panels=4, speed=10)
        self.addCleanup(self.plant.stop)
        self.history = os.path.join(self.tmp.name, "history.db")

    def daemon(self, influx):
        d = tsdblib.Daemon(self.tmp.name, self.plant.config() + "[history]\npath = %s\n\n[influx]\n%s"
                           % (self.history, influx))
        self.addCleanup(d.stop)
        return d

    def influx_values(self, server, db):
        rows = server.rows('SELECT "value", "text" FROM sunwire_inverter_value GROUP BY "object", "inverter"', db)
        out = {}
        for r in rows:
            self.assertEqual(r["inverter"], "house")
            out[(r["object"], r["time"])] = r["value"] if r["value"] is not None else r["text"]
        return out

    def assert_same_values(self, got, want):
        self.assertGreater(len(want), 20)
        self.assertEqual(set(got), set(want))
        for k, v in want.items():
            if isinstance(v, float):
                self.assertAlmostEqual(got[k], v, delta=abs(v) * 1e-12, msg=k)
            else:
                self.assertEqual(got[k], v, k)

    @unittest.skipUnless(tsdblib.have("influxd"), "influxd not installed (Debian package influxdb)")
    def test_v1_write_api_with_auth(self):
        server = tsdblib.InfluxD(auth=("sun", "pa ss&word")).start()
        self.addCleanup(server.cleanup)
        server.query("CREATE DATABASE solar")
        d = self.daemon("api = v1\nurl = %s\ndb = solar\nrp = autogen\nuser = sun\npassword = pa ss&word\n"
                        "precision = us\nflush_ms = 200\n" % server.url)
        self.assertTrue(tsdblib.wait_until(
            lambda: server.rows("SELECT count(power) FROM sunwire_panel", "solar"), 20), d.stderr())
        time.sleep(2)
        self.assertEqual(d.stop(), 0)
        self.assertNotIn("InfluxDB", d.stderr())
        # Every value the history has, InfluxDB has, at the same microsecond.
        want = {(o, ts // 1000 * 1000): v for (o, ts), v in history_values(self.history).items()}
        self.assert_same_values(self.influx_values(server, "solar"), want)
        # Panels, strings and the source arrived with their types.
        panels = server.rows('SELECT "power", "voltage_in", "current_in", "rssi", "online" FROM sunwire_panel', "solar")
        self.assertEqual(len(panels), history_panel_count(self.history))
        for p in panels:
            self.assertAlmostEqual(p["power"], p["voltage_in"] * p["current_in"], places=6)
            self.assertIsInstance(p["rssi"], int)
            self.assertIsInstance(p["online"], bool)
        self.assertTrue(server.rows('SELECT last("power_sum") FROM sunwire_string', "solar"))
        # A wrong password is refused by the server: nothing is written.
        server.query("CREATE DATABASE other")
        st, _ = tsdblib.http("POST", server.url + "/write?db=other&u=sun&p=wrong", "m v=1 1")
        self.assertEqual(st, 401)

    @unittest.skipUnless(tsdblib.have("victoria-metrics"), "victoria-metrics not installed")
    def test_v2_write_api_victoria_metrics(self):
        server = tsdblib.VictoriaMetrics().start()
        self.addCleanup(server.cleanup)
        d = self.daemon("url = %s\norg = home\nbucket = solar\ntoken = t0ken\nprecision = ms\nflush_ms = 200\n"
                        % server.url)
        self.assertTrue(tsdblib.wait_until(lambda: server.export('{__name__="sunwire_panel_power"}'), 20),
                        d.stderr())
        time.sleep(1.5)
        self.assertEqual(d.stop(), 0)
        self.assertNotIn("InfluxDB", d.stderr())
        want = {k: v for k, v in history_values(self.history).items() if isinstance(v, float)}
        got = {}
        for s in server.export('{__name__="sunwire_inverter_value_value"}'):
            self.assertEqual(s["metric"]["inverter"], "house")
            for v, ts in zip(s["values"], s["timestamps"]):
                got[(s["metric"]["object"], ts)] = v
        self.assert_same_values(got, {(o, ts // 10**6): v for (o, ts), v in want.items()})
        panels = server.export('{__name__=~"sunwire_panel_(power|voltage_in|current_in)"}')
        by = {}
        for s in panels:
            key = (s["metric"]["gateway"], s["metric"]["node"])
            for v, ts in zip(s["values"], s["timestamps"]):
                by.setdefault((key, ts), {})[s["metric"]["__name__"]] = v
        self.assertTrue(by)
        for fields in by.values():
            self.assertAlmostEqual(fields["sunwire_panel_power"],
                                   fields["sunwire_panel_voltage_in"] * fields["sunwire_panel_current_in"],
                                   places=6)

    @unittest.skipUnless(tsdblib.have("influxd"), "influxd not installed (Debian package influxdb)")
    def test_points_wait_for_a_server_that_starts_later(self):
        port = tsdblib.free_port()
        d = self.daemon("api = v1\nurl = http://127.0.0.1:%d\ndb = late\nprecision = ns\nflush_ms = 100\n"
                        "batch_lines = 50\nretry_min_ms = 100\nretry_max_ms = 400\n" % port)
        # Down for a while: many attempts fail (connection refused).
        time.sleep(4)
        server = tsdblib.InfluxD(port=port).start()
        self.addCleanup(server.cleanup)
        # Up, but the database does not exist yet: 404, still kept.
        time.sleep(1.5)
        server.query("CREATE DATABASE late")
        self.assertTrue(tsdblib.wait_until(lambda: server.rows("SELECT count(value) FROM sunwire_inverter_value",
                                                               "late"), 20), d.stderr())
        time.sleep(1.5)
        self.assertEqual(d.stop(), 0)
        err = d.stderr()
        # Every value of the whole run arrived, including those from before the server existed.
        want = history_values(self.history)
        got = self.influx_values(server, "late")
        self.assert_same_values(got, want)
        first = min(ts for _, ts in want)
        self.assertLess(first, time.time_ns() - 5 * 10**9)
        # One warning when the outage began, one summary when it ended; not one per attempt.
        self.assertEqual(err.count("InfluxDB write failed"), 1, err)
        self.assertEqual(err.count("InfluxDB writes succeed again"), 1, err)
        self.assertIn("0 lines dropped", err)


if __name__ == "__main__":
    unittest.main()
