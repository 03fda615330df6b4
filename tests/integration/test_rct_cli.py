"""The rctclient persona: same arguments give the same output lines and exit codes as
rctclient (spec section 11), usage errors exit 2, and nothing hangs or crashes."""

import os
import socket
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import rctlib  # noqa: E402
from rctlib import Simulator, rctclient, rct  # noqa: E402

USAGE = "Usage: rctclient read-value [OPTIONS]\nTry 'rctclient read-value --help' for help.\n\nError: "


class RctclientCompat(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.sim = Simulator(persona="rctclient").__enter__()
        cls.port = cls.sim.port

    @classmethod
    def tearDownClass(cls):
        cls.sim.stop()

    def read(self, *args):
        return rctclient("read-value", "-h", "127.0.0.1", "-p", self.port, *args)

    def test_documented_runs(self):
        # The runs recorded in spec section 11.2, against rctclient's own simulator.
        self.assertEqual(self.read("--name", "battery.soc"), (0, "0.0\n", ""))
        rc, out, err = rctclient("read-value", "--host", "127.0.0.1", "--port", self.port, "--id", "0x959930BF", "-v")
        self.assertEqual(rc, 0)
        self.assertEqual(out, "#545 0x959930BF battery.soc" + " " * 38 + "SOC (State of charge)" + " " * 55 + "0.0 %\n")
        self.assertEqual(self.read("--name", "android_description"), (0, "RCT\n", ""))
        self.assertEqual(self.read("--name", "inverter_sn"), (0, "ABCDEFG\n", ""))
        self.assertEqual(self.read("--name", "power_mng.is_grid"), (0, "True\n", ""))
        rc, out, _ = self.read("--name", "prim_sm.state", "-v")
        self.assertEqual(out, "#330 0x5F33284E prim_sm.state" + " " * 36 + "Inverter status" + " " * 61 + "0 \n")

    def test_values_match_rctclient_simulator_table(self):
        # Oracle: Python's str() of the simulator's sim_data, which is what rctclient prints.
        vecs = rctlib.load("simulator_read_responses.json")["vectors"]
        checked = 0
        for v in vecs[::9]:
            if v["response_hex"] is None:
                continue
            rc, out, err = self.read("--id", v["id_hex"])
            self.assertEqual(rc, 0, v["object_name"] + err)
            self.assertEqual(out, str(v["sim_data"]) + "\n", v["object_name"])
            checked += 1
        self.assertGreater(checked, 80)

    def test_id_forms(self):
        # With or without 0x, any case: all mean the same object (rctclient would misread the bare form).
        for text in ("0x959930BF", "0x959930bf", "959930BF", "0X959930BF"):
            self.assertEqual(self.read("--id", text), (0, "0.0\n", ""), text)

    def test_unknown_object(self):
        self.assertEqual(self.read("--id", "0x12345678"), (1, "", "Could not find requested id or name\n"))
        self.assertEqual(self.read("--name", "no.such.object"), (1, "", "Could not find requested id or name\n"))

    def test_usage_errors_exit_2(self):
        rc, out, err = rctclient("read-value", "-p", self.port, "--name", "battery.soc")
        self.assertEqual((rc, out), (2, ""))
        self.assertEqual(err, USAGE + "Missing option '-h' / '--host'.\n")
        rc, out, err = self.read()
        self.assertEqual((rc, err), (2, USAGE + "Please specify either --id or --name\n"))
        rc, out, err = self.read("--id", "0x959930BF", "--name", "battery.soc")
        self.assertEqual(rc, 2)
        self.assertIn("Please specify either --id or --name", err)
        rc, out, err = self.read("--id", "zzz")
        self.assertEqual(rc, 2)
        self.assertIn("Invalid value for '-i' / '--id': 'zzz'", err)
        rc, out, err = rctclient("read-value", "-h", "127.0.0.1", "-p", "abc", "--name", "battery.soc")
        self.assertEqual((rc, err), (2, USAGE + "Invalid value for '-p' / '--port': 'abc' is not a valid integer.\n"))
        rc, out, err = self.read("--name", "battery.soc", "--bogus")
        self.assertEqual((rc, err), (2, USAGE + "No such option: --bogus\n"))
        rc, out, err = self.read("--name")
        self.assertEqual((rc, err), (2, USAGE + "Option '--name' requires an argument.\n"))
        rc, out, err = self.read("--name", "battery.soc", "extra")
        self.assertEqual((rc, err), (2, USAGE + "Got unexpected extra argument (extra)\n"))
        rc, out, err = rctclient("no-such-command")
        self.assertEqual(rc, 2)
        self.assertIn("Error: No such command 'no-such-command'.", err)
        # The sunwire-only commands do not exist in this persona.
        rc, out, err = rctclient("registry")
        self.assertEqual(rc, 2)

    def test_option_spellings(self):
        # click accepts --opt=value, -ovalue and any order.
        self.assertEqual(rctclient("read-value", "--name=battery.soc", "-h127.0.0.1", "--port=%d" % self.port),
                         (0, "0.0\n", ""))

    def test_help_and_version(self):
        rc, out, _ = rctclient("--help")
        self.assertEqual(rc, 0)
        self.assertIn("read-value", out)
        self.assertIn("simulator", out)
        rc, out, _ = rctclient("read-value", "--help")
        self.assertEqual(rc, 0)
        self.assertTrue(out.startswith("Usage: rctclient read-value [OPTIONS]"))
        self.assertIn("-h, --host <host>", out)
        rc, out, _ = rctclient("--version")
        self.assertEqual(rc, 0)
        self.assertTrue(out.startswith("rctclient, version "))

    def test_sunwire_rctclient_is_the_same(self):
        rc, out, err = rctlib.run([rctlib.BIN, "rctclient", "read-value", "-h", "127.0.0.1", "-p", str(self.port),
                                   "-n", "battery.soc", "-v"])
        self.assertEqual(rc, 0)
        self.assertEqual(out, self.read("-n", "battery.soc", "-v")[1])

    def test_debug_goes_to_stderr(self):
        rc, out, err = rctclient("--debug", "read-value", "-h", "127.0.0.1", "-p", self.port, "-n", "battery.soc")
        self.assertEqual((rc, out), (0, "0.0\n"))
        self.assertIn(" - rctclient.cli - INFO - rctclient CLI starting", err)
        self.assertIn("Received 13 bytes: 2b0508959930bf000000005138", err)

    def test_timeseries_and_event_table_time_out_against_static(self):
        # rctclient's simulator never answers logger queries and rctclient waits forever;
        # here the request ends with a clear message.
        t0 = time.monotonic()
        rc, out, err = rct("read-value", "-h", "127.0.0.1", "-p", self.port, "--timeout", "200", "--retries", "1",
                           "-n", "logger.minutes_soc_log_ts")
        self.assertEqual(rc, 1)
        self.assertIn("No answer from 127.0.0.1:%d for logger.minutes_soc_log_ts" % self.port, err)
        self.assertLess(time.monotonic() - t0, 10)  # it ends; slack for slow builds


class SimulatorLog(unittest.TestCase):
    def test_verbose_lines(self):
        sim = Simulator("-v", persona="rctclient").__enter__()
        try:
            rc, out, err = rctclient("read-value", "-h", "127.0.0.1", "-p", sim.port, "-n", "battery.soc")
            self.assertEqual((rc, out), (0, "0.0\n"))
        finally:
            sim.stop()
        self.assertEqual(sim.exit_status, 0)
        lines = sim.stderr.splitlines()
        self.assertEqual(lines[0], "INFO:rctclient.simulator:Waiting for client connections")
        self.assertTrue(lines[1].startswith("INFO:rctclient.simulator:connection accepted: 127.0.0.1:"))
        client_port = lines[1].rsplit(":", 1)[1]
        self.assertIn("INFO:rctclient.simulator.socket_thread.%s:Read   : 0x959930BF battery.soc%s -> "
                      "2b0508959930bf000000005138" % (client_port, " " * 37), lines)

    def test_quiet_by_default(self):
        sim = Simulator(persona="rctclient").__enter__()
        try:
            self.assertEqual(rctclient("read-value", "-h", "127.0.0.1", "-p", sim.port, "-n", "battery.soc")[0], 0)
        finally:
            sim.stop()
        self.assertEqual(sim.stderr, "")


class NoAnswer(unittest.TestCase):
    def test_silent_device_gives_clear_error(self):
        # A device that accepts the connection and never answers: rctclient hangs forever.
        srv = socket.socket()
        srv.bind(("127.0.0.1", 0))
        srv.listen(4)
        port = srv.getsockname()[1]
        conns = []
        stop = threading.Event()

        def accept():
            srv.settimeout(0.2)
            while not stop.is_set():
                try:
                    c, _ = srv.accept()
                    conns.append(c)
                except OSError:
                    pass

        th = threading.Thread(target=accept)
        th.start()
        try:
            t0 = time.monotonic()
            rc, out, err = rctclient("read-value", "-h", "127.0.0.1", "-p", port, "-n", "battery.soc", timeout=30)
            elapsed = time.monotonic() - t0
            self.assertEqual((rc, out), (1, ""))
            self.assertIn("No answer from 127.0.0.1:%d for battery.soc (0x959930BF)" % port, err)
            # four attempts of two seconds plus backoff
            self.assertLess(elapsed, 12)
            self.assertGreater(elapsed, 7)
        finally:
            stop.set()
            th.join()
            for c in conns:
                c.close()
            srv.close()

    def test_connection_refused(self):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        s.close()
        rc, out, err = rctclient("read-value", "-h", "127.0.0.1", "-p", port, "-n", "battery.soc")
        self.assertEqual((rc, out, err), (1, "", "Could not connect to host: [Errno 111] Connection refused\n"))


if __name__ == "__main__":
    unittest.main()
