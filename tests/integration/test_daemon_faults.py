#!/usr/bin/env python3
"""Every panel detector and the line diagnosis through `sunwire run`: raised and cleared.

`sunwire tigo simulate --tcp` breaks several panels of one bus at once, each for a
stretch of simulated time (`--fault KIND:G.P@START-END`), and `sunwire run` listens with
the detectors' windows shortened in [health]: they judge on the bus's time, the reports'
slot counters anchored to the daemon's clock, so at 18x a window of 3 s is 54 simulated
seconds. For
each kind the `problem` lines of `run --json` (read with their arrival times) must show
it raised on the broken panel, with a reason that says what was seen, within its window
(plus a report period, a round and some slack) after the fault began, and cleared within
its clear window (plus as much) after the fault ended; the healthy panels raise nothing.

- peers: `diode` -> diode_loss, `hot` -> hot, `stuck` -> stuck, `soiled` -> underperforming;
- radio: `radio` (the first panel; its loss ramps up over 10 simulated minutes) ->
  radio_degrading, with `radio_window = 8s`. The simulator is run at 18x, about the
  fastest the radio detector can follow: a node reports every 20 simulated seconds,
  and gaps shorter than a second are taken for repeats, not periods;
- the line: a second daemon listens to two buses, one read at the wrong baud rate and
  one whose controller is never heard; the source diagnosis raises `line` on each and
  clears it at the first judgement (every 5 s) after the fault ends, once good frames
  (or the controller's requests) are seen again.

The two daemons run side by side, so the file takes under 30 s (the sanitizer build
keeps pace too). Everything started here is stopped here.
"""
import os
import re
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import faultlib as fl  # noqa: E402
import runlib  # noqa: E402

SPEED = 18.0                # simulated seconds per real second
PERIOD = 20.0 / SPEED       # a node's report period, real seconds
SLACK = 3.0                 # a loaded machine's delays, real seconds
# The daemon dates a report by its slot counter, 5 ms a slot; the simulator runs them 18 times faster,
# so a report's time lies ahead of the wall clock by its node's phase in the 5 s slot block: up to
# 5 s x 17/18. The peer detectors' rounds take their time from whichever node reported last, so their
# windows last up to that much more or less in real seconds. (At 1x the skew is nil.)
SKEW = 5.0 * (1 - 1 / SPEED)
PEER_WINDOW = 3.0           # diode_window, hot_window, underperforming_window, peer_clear_window
RADIO_WINDOW = 8.0
STUCK_REPORTS = 4
STUCK_CLEAR_REPORTS = 3     # the default
LINE_EVERY = 5.0            # the daemon judges each line this often

HEALTH = """[health]
peer_interval = 500ms
peer_clear_window = 3s
diode_window = 3s
hot_window = 3s
underperforming_window = 3s
stuck_reports = 4
radio_window = 8s
radio_min_expected = 6
"""

# (fault, panel's subject, kind, start, end): times in real seconds after the bus started.
# The first TAP is gateway 4609; panel 1.N is node N+1.
PANEL_FAULTS = [
    ("radio=1", "4609-2", "radio_degrading", 0.0, 18.0),
    ("diode:1.2", "4609-3", "diode_loss", 1.0, 10.0),
    ("hot:1.3", "4609-4", "hot", 1.0, 10.0),
    ("stuck:1.4", "4609-5", "stuck", 1.0, 10.0),
    ("soiled:1.5=0.3", "4609-6", "underperforming", 1.0, 10.0),
]
HEALTHY = ["4609-%d" % n for n in range(7, 12)]   # panels 1.6 .. 1.10

REASONS = {
    "radio_degrading": r"^\d+ of \d+ reports lost in 8 s \(\d+%; \d+% over 24 h\)",
    "diode_loss": r"^[\d.]+ V, 6\d% of the peers' [\d.]+ V at a like current .*a substring is bypassed$",
    "hot": r"^[\d.]+ °C, 2\d\.\d °C above the peers' median",
    "stuck": r"^4 identical reports in a row \(",
    "underperforming": r"^\d+ W, [23]\d% of the peers' median \d+ W",
}

# (bus, fault, cause in the diagnosis, end): the line faults, at 5x, from the start; the end in real
# seconds after that bus started.
LINE_FAULTS = [
    ("wrongbaud", "baud=9600@0s-60s", r"^bytes but no frame starts: wrong baud rate \(the byte pattern matches "
                                      r"the 38400-baud bus read at 9600 baud\)$", 12.0),
    ("nocca", "no-controller@0s-60s", r"^frames from gateways but no controller requests: no CCA on the bus", 12.0),
]


def sim_time(real_s):
    return "%ds" % round(real_s * SPEED)


class DaemonFaults(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        cls.sims, cls.daemons = [], []
        try:
            cls.start()
        except BaseException:
            cls.tearDownClass()
            raise

    @classmethod
    def start(cls):
        day = time.strftime("%Y-%m-%d", time.gmtime())
        start = ["--start", day + "T11:00:00Z", "--seed", 5]
        # The line daemon first, its faults timed from each of its buses' start; then the panels'.
        cfg = os.path.join(cls.tmp.name, "line.ini")
        cls.line_t0 = {}
        with open(cfg, "w", encoding="utf-8") as f:
            for bus, fault, _, _ in LINE_FAULTS:
                sim = fl.TigoSim(*start, "--panels", 4, "--speed", 5, "--fault", fault)
                cls.line_t0[bus] = time.monotonic()
                cls.sims.append(sim)
                f.write("[tigo %s]\ntcp = 127.0.0.1:%d\n\n" % (bus, sim.port))
        cls.line = runlib.Daemon(["--config", cfg, "--json", "--state-dir", os.path.join(cls.tmp.name, "line")])
        cls.daemons.append(cls.line)

        args = list(start) + ["--panels", 10, "--speed", SPEED]
        for fault, _, _, t_from, t_to in PANEL_FAULTS:
            args += ["--fault", "%s@%s-%s" % (fault, sim_time(t_from), sim_time(t_to))]
        sim = fl.TigoSim(*args)
        cls.sims.append(sim)
        cls.t0 = time.monotonic()  # the bus's start, near enough
        cfg = os.path.join(cls.tmp.name, "panels.ini")
        with open(cfg, "w", encoding="utf-8") as f:
            f.write("[tigo roof]\ntcp = 127.0.0.1:%d\n\n%s" % (sim.port, HEALTH))
        cls.panels = runlib.Daemon(["--config", cfg, "--json", "--state-dir", os.path.join(cls.tmp.name, "panels")])
        cls.daemons.append(cls.panels)

    @classmethod
    def tearDownClass(cls):
        for d in cls.daemons:
            d.close()
        for s in cls.sims:
            s.stop()
        cls.tmp.cleanup()

    def changes(self, daemon, t0, kind, subject):
        """(seconds after t0, active, record) of each problem line about kind on subject."""
        return [(r["_t"] - t0, r["active"], r) for r in daemon.records("problem")
                if r.get("kind") == kind and r.get("subject") == subject]

    def wait_cleared_after(self, daemon, t0, kind, subject, end, timeout):
        return runlib.wait_until(lambda: [c for c in self.changes(daemon, t0, kind, subject)
                                          if not c[1] and c[0] >= end], timeout, 0.05)

    def test_panel_faults(self):
        d = self.panels
        # The radio fault ends last; wait for its clear (the others are done by then).
        radio = PANEL_FAULTS[0]
        self.wait_cleared_after(d, self.t0, radio[2], radio[1], radio[4], radio[4] + RADIO_WINDOW + PERIOD + 15)
        err = d.stderr()
        # Nothing but the injected faults' problems, each on its own panel.
        raised = sorted({(r["kind"], r["subject"]) for r in d.records("problem")})
        self.assertEqual(raised, sorted((k, s) for _, s, k, _, _ in PANEL_FAULTS), err[-3000:])
        for fault, subject, kind, t_from, t_to in PANEL_FAULTS:
            with self.subTest(fault=fault, kind=kind):
                ch = self.changes(d, self.t0, kind, subject)
                self.assertTrue(ch and ch[0][1], (ch, err[-3000:]))
                up, _, rec = ch[0]
                self.assertEqual((rec["subject_kind"], rec["source"]), ("panel", "roof"))
                self.assertRegex(rec["reason"], REASONS[kind])
                if kind == "radio_degrading":
                    # judged from the reports lost while the loss ramps up: raised during the fault
                    early, late = t_from, t_to
                elif kind == "stuck":
                    early = t_from + (STUCK_REPORTS - 2) * PERIOD - 0.5  # the last sound report is the first of them
                    late = t_from + STUCK_REPORTS * PERIOD + SLACK
                else:
                    early = t_from
                    late = t_from + PEER_WINDOW + SKEW + PERIOD + 0.5 + SLACK
                self.assertGreaterEqual(up, early, ch)
                self.assertLessEqual(up, late, ch)
                # Cleared after the fault ended (once, but for the radio, see below), and not raised again.
                last_t, last_active, last = ch[-1]
                self.assertFalse(last_active, ch)
                self.assertEqual(last["since_ns"], ch[-2][2]["since_ns"])
                self.assertGreater(last["until_ns"], last["since_ns"])
                if kind == "radio_degrading":
                    # A short window holds few reports: a stretch without a lost one may clear it while
                    # the loss is still low; it must then be raised again while the fault lasts.
                    self.assertTrue(all(t <= t_to + RADIO_WINDOW for t, _, _ in ch[:-1]), ch)
                    late = t_to + RADIO_WINDOW + PERIOD + SLACK
                    early = t_to
                elif kind == "stuck":
                    self.assertEqual(len(ch), 2, ch)
                    early, late = t_to, t_to + STUCK_CLEAR_REPORTS * PERIOD + SLACK
                else:
                    self.assertEqual(len(ch), 2, ch)
                    early, late = t_to, t_to + PEER_WINDOW + SKEW + PERIOD + 0.5 + SLACK
                self.assertGreaterEqual(last_t, early, ch)
                self.assertLessEqual(last_t, late, ch)
        # The radio figures: the broken link lost reports, the others none.
        for r in d.records("panel", online=True):
            if r["name"] in HEALTHY:
                self.assertEqual(r["loss_15m"], 0.0, r)
        self.assertTrue(any(r["loss_15m"] >= 0.2 for r in d.records("panel", name="4609-2")))
        self.assertEqual(d.stop(), 0, err[-3000:])

    def test_line_faults(self):
        d = self.line
        for bus, fault, cause, end in LINE_FAULTS:
            with self.subTest(fault=fault):
                t0 = self.line_t0[bus]
                got = self.wait_cleared_after(d, t0, "line", bus, end, end + LINE_EVERY + SLACK + 5)
                ch = self.changes(d, t0, "line", bus)
                self.assertTrue(got, (ch, d.stderr()[-3000:]))
                self.assertEqual(len(ch), 2, ch)
                (up, active, rec), (down, _, cleared) = ch
                self.assertTrue(active)
                self.assertEqual((rec["subject_kind"], rec["source"]), ("bus", bus))
                self.assertRegex(rec["reason"], cause)
                # named at the first judgement (5 s after the connect), while the fault lasts
                self.assertGreaterEqual(up, LINE_EVERY - 0.5, ch)
                self.assertLessEqual(up, end, ch)
                # cleared at the first judgement after it ended
                self.assertGreaterEqual(down, end, ch)
                self.assertLessEqual(down, end + LINE_EVERY + SLACK, ch)
                self.assertEqual(cleared["since_ns"], rec["since_ns"])
                # the source's status carries the verdict: the fault's, then healthy again
                diag = [s.get("diagnosis") or "" for s in d.records("source", name=bus)]
                self.assertTrue(any(re.search(cause, x) for x in diag), diag)
                self.assertTrue(runlib.wait_until(
                    lambda: (d.records("source", name=bus) or [{}])[-1].get("diagnosis", "").startswith(
                        "healthy: 1 gateway, 4 nodes"), 10), diag)
        self.assertEqual(d.stop(), 0, d.stderr()[-3000:])


if __name__ == "__main__":
    unittest.main()
