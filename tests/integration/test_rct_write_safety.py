"""Values that must never reach an inverter: `sunwire rct write-value --allow-write` against
`sunwire rct simulator` on 127.0.0.1, for every data type at and beyond its limits.

Each refused value must exit 2 with the reason, and nothing may be sent: the simulator
logs no write, its value reads back unchanged, and a counting proxy in front of it saw
no byte. The accepted limits are then written and verified, so the refusals are not just
a broken write path.
"""
import os
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import faultlib as fl  # noqa: E402

# (object, request type, [(value, expected reason in stderr)], [accepted limits])
CASES = [
    ("acc_conv.state_slow", "UINT8",
     [("-1", "out of range"), ("256", "out of range"), ("-129", "out of range"), ("inf", "not a valid number"),
      ("abc", "not a valid number")], ["0", "255"]),
    ("net.index", "INT8",
     [("-129", "out of range"), ("128", "out of range"), ("nan", "not a valid number")], ["-128", "127"]),
    ("adc.u_ref_1_5v[0]", "UINT16",
     [("-1", "out of range"), ("65536", "out of range"), ("0x10000", "out of range")], ["0", "65535"]),
    ("io_board.io1_s0_imp_per_kwh", "INT16",
     [("-32769", "out of range"), ("32768", "out of range")], ["-32768", "32767"]),
    ("battery.bms_power_version", "UINT32",
     [("-1", "out of range"), ("4294967296", "out of range"), ("99999999999999999999", "out of range")],
     ["0", "4294967295"]),
    ("battery.cycles", "INT32",
     [("-2147483649", "out of range"), ("2147483648", "out of range"), ("1.5", "not a valid number")],
     ["-2147483648", "2147483647"]),
    ("io_board.alarm_home_relay_mode", "ENUM", [("-1", "out of range"), ("256", "out of range")], ["0", "255"]),
    ("cs_struct.is_tuned", "BOOL",
     [("2", "not a boolean"), ("-1", "not a boolean"), ("nan", "not a boolean"), ("maybe", "not a boolean")],
     ["false", "true"]),
    ("battery.soc_target", "FLOAT",
     [("inf", "not a finite number"), ("-inf", "not a finite number"), ("nan", "not a finite number"),
      ("1e39", "out of range"), ("-3.5e38", "out of range"), ("0.5x", "not a valid number")],
     ["-3.4028234663852886e+38", "3.4028234663852886e+38"]),
    ("android_description", "STRING", [("x" * 64, "longer than a write may carry")], ["", "y" * 63]),
]


def read(port, name):
    r = fl.run("rct", "read-value", "-h", "127.0.0.1", "-p", port, "-n", name)
    if r.returncode != 0:
        raise AssertionError("read-value %s: %s" % (name, r.stderr.decode()))
    return r.stdout.decode()


def write(port, name, value):
    return fl.run("rct", "write-value", "-h", "127.0.0.1", "-p", port, "-n", name, "--value", value,
                  "--allow-write")


class RefusedWrites(unittest.TestCase):
    def test_nothing_is_sent_for_refused_values(self):
        with fl.RctSim("--speed", 0, "-v") as sim:
            before = {name: read(sim.port, name) for name, _, _, _ in CASES}
            with fl.FaultProxy(sim.port, "--record-up", os.devnull) as px:
                for name, typ, bad, _ in CASES:
                    for value, why in bad:
                        with self.subTest(type=typ, value=value[:20]):
                            r = write(px.port, name, value)
                            err = r.stderr.decode()
                            self.assertEqual(r.returncode, 2, err)
                            self.assertIn(why, err)
                            self.assertIn("nothing was sent", err)
                            self.assertIn("(%s)" % typ, err)
                            self.assertEqual(r.stdout, b"")
                time.sleep(0.2)
                px.stop()
                self.assertEqual(px.stats["bytes_up"], 0, "a refused write sent bytes")
                self.assertEqual(px.stats["accepted"], 0, "a refused write connected")
            for name, _, _, _ in CASES:
                self.assertEqual(read(sim.port, name), before[name], name)
            self.assertFalse([l for l in sim.lines(True) if "Write" in l])

    def test_range_is_named_for_integers(self):
        with fl.RctSim("--speed", 0) as sim:
            r = write(sim.port, "acc_conv.state_slow", "-1")
            self.assertEqual(r.returncode, 2)
            self.assertIn("(0 .. 255)", r.stderr.decode())
            r = write(sim.port, "battery.bms_power_version", "-1")
            self.assertIn("(0 .. 4294967295)", r.stderr.decode())

    def test_limits_are_written(self):
        with fl.RctSim("--speed", 0) as sim:
            for name, typ, _, good in CASES:
                for value in good:
                    with self.subTest(type=typ, value=value[:20]):
                        r = write(sim.port, name, value)
                        self.assertEqual(r.returncode, 0, r.stderr.decode())
                        self.assertIn("verified:", r.stdout.decode())


if __name__ == "__main__":
    unittest.main()
