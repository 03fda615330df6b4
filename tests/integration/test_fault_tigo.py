#!/usr/bin/env python3
"""The Tigo path under transport faults, checked against a fault-free run.

`sunwire tigo simulate` is deterministic from its seed and start time, and its
bytes do not depend on the pace, so the same seed written to a file and
replayed gives the reference list of power reports. The live run goes through
tests/tools/faultproxy.py, which drops the connection, stalls, corrupts bytes
and splits writes. A corrupted frame fails its CRC, so every report the
observer (or the daemon) prints must be one of the reference reports, in the
reference order, at most as often as the reference has it; lost ones may be
missing. Reconnects are timed from the proxy's own log: for the daemon the
proxy also refuses clients for 1 s after each drop (the source is away), and
the daemon must be back within 1 s of the source's return.
"""
import collections
import os
import sys
import tempfile
import time
import unittest

import faultlib as fl

SEED = 7
START = "2026-06-21T10:00Z"
SIM_ARGS = ["--seed", SEED, "--gateways", 2, "--panels", 6, "--start", START]
SPEED = 20
LIVE_SECONDS = 9.0
PROXY_ARGS = ["--seed", 11, "--drop-every", 1.5, "--stall-every", 2.3, "--stall-for", 0.6,
              "--corrupt-rate", 0.0005, "--split", "--max-time", 120]
OBS_KEYS = ("gateway", "node", "voltage_in", "voltage_out", "current", "dc_dc_duty_cycle", "temperature", "rssi")


def report_key(o):
    return tuple(o[k] for k in OBS_KEYS)


def reference(tmp, sim_seconds):
    raw = os.path.join(tmp, "bus.raw")
    r = fl.run("tigo", "simulate", "--file", raw, "--format", "raw", "--duration", sim_seconds, *SIM_ARGS)
    assert r.returncode == 0, r.stderr
    r = fl.run("tigo", "observe", "--file", raw)
    assert r.returncode == 0, r.stderr
    return [report_key(o) for o in fl.json_lines(r.stdout.decode().splitlines())
            if o.get("event_type") == "power_report"]


def report(what, got, last, st):
    if os.environ.get("SW_FAULT_REPORT"):
        d = reconnect_delays(st)
        print("%s: %d of the first %d reference reports, none wrong or repeated; %d drops, %d stalls, "
              "%d bytes corrupted, %d segments; reconnect max %.3f s, mean %.3f s"
              % (what, len(got), last + 1, st["drops"], st["stalls"], st["corrupted_down"], st["segments_down"],
                 max(d), sum(d) / len(d)), file=sys.stderr)


def reconnect_delays(stats, down_for=0.0):
    """For every drop, seconds from the source being back (drop + down_for) until the proxy accepted a client."""
    out = []
    acc = stats["accept_times"]
    for d in stats["drop_times"]:
        back = d + down_for
        later = [a for a in acc if a >= back]
        if later:
            out.append(later[0] - back)
    return out


class TigoUnderFaults(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        # Enough simulated time for the live session (with slack for a slow start).
        cls.ref = reference(cls.tmp.name, int(LIVE_SECONDS * SPEED * 2 + 120))
        assert len(cls.ref) > 100, len(cls.ref)

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def check_against_reference(self, got):
        self.assertTrue(got, "nothing came through the proxy")
        ref_count = collections.Counter(self.ref)
        extra = collections.Counter(got) - ref_count
        self.assertFalse(extra, "reports that the fault-free run does not have (or has fewer times): %r" % extra)
        self.assertTrue(fl.is_subsequence(got, self.ref), "reports out of the reference order")

    def live(self, make_client, proxy_args=PROXY_ARGS, down_for=0.0, min_drops=4):
        with fl.TigoSim("--speed", SPEED, *SIM_ARGS) as sim, \
                fl.FaultProxy(sim.port, *proxy_args, "--down-for", down_for) as px:
            client = make_client(px.port)
            try:
                time.sleep(LIVE_SECONDS)
                self.assertTrue(client.alive(), "the client died: %s" % "\n".join(client.lines(True))[-2000:])
            finally:
                rc = client.stop()
            px.stop()
        self.assertEqual(rc, 0, "\n".join(client.lines(True))[-2000:])
        st = px.stats
        self.assertGreaterEqual(st["drops"], min_drops)
        self.assertGreater(st["corrupted_down"], 0)
        self.assertGreater(st["segments_down"], st["accepted"])
        delays = reconnect_delays(st, down_for)
        self.assertGreaterEqual(len(delays), min_drops, st)
        if down_for:
            self.assertGreater(st["refused"], 0, "nobody tried to connect while the source was away")
        self.assertLess(max(delays), 1.0, "reconnect took %.3f s" % max(delays))
        self.assertEqual(st["bytes_up"], 0, "the Tigo source transmitted")
        self.last_stats = st
        self.last_delays = delays
        return client, st

    def test_observe_through_faults(self):
        client, st = self.live(lambda port: fl.sunwire("tigo", "observe", "--tcp", "127.0.0.1", "--port", port,
                                                       "--reconnect-delay", 0))
        got = [report_key(o) for o in fl.json_lines(client.lines()) if o.get("event_type") == "power_report"]
        self.check_against_reference(got)
        # Most reports get through: faults cost some, not all.
        last = max(i for i, r in enumerate(self.ref) if r == got[-1])
        self.assertGreater(len(got), (last + 1) * 0.4, (len(got), last, st))
        report("observe", got, last, st)

    def test_daemon_through_faults(self):
        cfg = os.path.join(self.tmp.name, "run.ini")

        def start(port):
            with open(cfg, "w") as f:
                f.write("[tigo bus]\ntcp = 127.0.0.1:%d\nreconnect_delay = 100ms\nreconnect_max = 500ms\n" % port)
            return fl.sunwire("run", "--config", cfg, "--json")
        # Here the source stays away for 1 s after each drop; the backoff (100 ms doubling to 500 ms)
        # must still bring the daemon back within a second of the source's return.
        args = [a for a in PROXY_ARGS]
        args[args.index("--drop-every") + 1] = 2.5
        client, _ = self.live(start, proxy_args=args, down_for=1.0, min_drops=3)
        recs = fl.json_lines(client.lines())
        # The daemon prints the panel after every change; consecutive equal values are one report.
        got, last = [], {}
        for r in recs:
            if r.get("type") != "panel" or not r.get("online", True):
                continue
            k = (r["gateway"], r["node"], r["voltage_in"], r["voltage_out"], r["current_in"], r["duty_cycle"],
                 r["temperature"], r["rssi"])
            if last.get(k[:2]) != k:
                got.append(k)
                last[k[:2]] = k
        ref_set = set(self.ref)
        wrong = [g for g in got if g not in ref_set]
        self.assertFalse(wrong, "panel values that no fault-free report has: %r" % wrong[:5])
        self.assertGreater(len(got), 10)
        src = [r for r in recs if r.get("type") == "source"]
        self.assertTrue(any(r.get("reconnects", 0) >= 3 for r in src), src[-3:])
        if os.environ.get("SW_FAULT_REPORT"):
            st = self.last_stats
            d = self.last_delays
            print("run: %d distinct panel values, all from the reference; %d drops with the source away 1 s, "
                  "%d refused attempts, %d bytes corrupted; back %.3f s at most (mean %.3f s) after the source"
                  % (len(got), st["drops"], st["refused"], st["corrupted_down"], max(d), sum(d) / len(d)),
                  file=sys.stderr)


if __name__ == "__main__":
    unittest.main()
