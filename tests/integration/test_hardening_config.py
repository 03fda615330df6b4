#!/usr/bin/env python3
"""Configuration input that used to be mangled silently is refused, with its line.

`run --check` must fail for anything that would fail or half-work at start,
naming FILE:LINE and the fix; the same setups are refused at start.

libinih reads lines into a fixed buffer and hands the rest of a longer line
over as if it were a line of its own, so a long `objects =` list was cut short
(the daemon then polled fewer or different objects) or produced a stray key.
"""
import os
import tempfile
import unittest

import faultlib as fl


class LongLines(unittest.TestCase):
    def check(self, text, line):
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "run.ini")
            with open(path, "w") as f:
                f.write(text)
            r = fl.run("run", "--config", path, "--check")
        err = r.stderr.decode()
        self.assertEqual(r.returncode, 2, err)
        self.assertIn("run.ini:%d: line longer than" % line, err)

    def test_long_object_list_is_refused(self):
        names = " ".join(["battery.soc", "battery.voltage", "dc_conv.dc_conv_struct[0].u_sg_lp"] * 8)
        self.check("[rct inv]\nhost = 127.0.0.1\nobjects = %s\n" % names, 3)

    def test_long_last_line_without_newline(self):
        self.check("[general]\n# %s\n[rct inv]\nhost = 127.0.0.1\nobjects = %s" % ("x", "battery.soc " * 40), 5)

    def test_split_lines_are_fine(self):
        names = ["battery.soc", "battery.voltage", "dc_conv.dc_conv_struct[0].u_sg_lp"] * 8
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "run.ini")
            with open(path, "w") as f:
                f.write("[rct inv]\nhost = 127.0.0.1\n" + "".join("objects = %s\n" % n for n in names))
            r = fl.run("run", "--config", path, "--check")
        self.assertEqual(r.returncode, 0, r.stderr.decode())


class CheckRefusesBrokenSetups(unittest.TestCase):
    # (file text, line, part of the fix)
    CASES = [
        ("[tigo roof]\ntcp = 127.0.0.1\nserial = /dev/ttyUSB0\n", 3, "remove one"),
        ("[tigo roof]\ntcp = 127.0.0.1\n[tigo roof]\nport = 503\n", 3, "merge the sections or rename one"),
        ("[tigo ]\ntcp = 127.0.0.1\n", 1, "write [tigo NAME]"),
        ("[tigo roof]\ntcp = 127.0.0.1:502\nport = 503\n", 3, "give the port in one place"),
        ("[tigo roof]\ntcp = ::1:502\n", 2, "tcp = [::1]:PORT"),
        ("[tigo roof]\ntcp = 127.0.0.1\nreconnect_delay = 120\nreconnect_max = 60\n", 1, "raise the maximum"),
        ("[tigo roof]\ntcp = 127.0.0.1\n[http]\nbind = 999.1.1.1\n", 4, "use an IP address"),
        ("[tigo roof]\ntcp = 127.0.0.1\n[influx]\noutput = http\n", 4, "needs url ="),
        ("[tigo roof]\ntcp = 127.0.0.1\n[history]\npath = {tmp}\n", 4, "name a file in it"),
        ("[general]\nstate_dir = {tmp}/run.ini\n[tigo roof]\ntcp = 127.0.0.1\n", 2, "name a directory"),
    ]

    def run_config(self, text, *extra):
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "run.ini")
            with open(path, "w") as f:
                f.write(text.replace("{tmp}", tmp))
            return fl.run("run", "--config", path, *extra, timeout=20)

    def test_check_names_line_and_fix(self):
        for text, line, fix in self.CASES:
            with self.subTest(text=text):
                r = self.run_config(text, "--check")
                err = r.stderr.decode()
                self.assertEqual(r.returncode, 2, err)
                self.assertIn("run.ini:%d: " % line, err)
                self.assertIn(fix, err)
                self.assertEqual(r.stdout, b"")

    def test_refused_at_start_too(self):
        for text, line, fix in self.CASES[:2] + self.CASES[5:7]:
            with self.subTest(text=text):
                r = self.run_config(text)
                self.assertEqual(r.returncode, 2, r.stderr.decode())
                self.assertIn("run.ini:%d: " % line, r.stderr.decode())

    # Names that would share an MQTT topic or a Home Assistant id (the retained discovery flipped between them).
    COLLISIONS = [
        ("[tigo roof]\ntcp = 127.0.0.1\n[panels]\nmodules = a b:e1:4-A2346FZ\nmodules = a+b:e2:4-A23471V\n", 5,
         'strings "a b" and "a+b" both become "a_b"'),
        ("[tigo roof]\ntcp = 127.0.0.1\n[panels]\nmodules = A:e1:4-A2346FZ, B:e1:4-A23471V\n", 4,
         "give each panel its own name"),
        ("[tigo roof.a]\ntcp = 127.0.0.1\n\n[tigo roof_a]\ntcp = 127.0.0.1\n", 4,
         "rename one so they differ in more than case and punctuation"),
    ]

    def test_names_that_collide(self):
        for text, line, fix in self.COLLISIONS:
            for extra in (["--check"], []):
                with self.subTest(text=text, extra=extra):
                    r = self.run_config(text, *extra)
                    err = r.stderr.decode()
                    self.assertEqual(r.returncode, 2, err)
                    self.assertIn("run.ini:%d: " % line, err)
                    self.assertIn(fix, err)
                    self.assertEqual(r.stdout, b"")
        # The --panels flag is checked the same way (no line: the command line).
        r = fl.run("run", "--tigo-tcp", "127.0.0.1", "--panels", "S 1:e1:4-A2346FZ,S-1:e2:4-A23471V", "--check")
        self.assertEqual(r.returncode, 2, r.stderr.decode())
        self.assertIn('both become "s_1"', r.stderr.decode())

    def test_http_flag_needs_a_port(self):
        for arg in ("-1", "localhost", "[::1]"):
            with self.subTest(arg=arg):
                r = fl.run("run", "--tigo-tcp", "127.0.0.1", "--http", arg, "--check")
                self.assertEqual(r.returncode, 2, r.stderr.decode())
                self.assertIn("--http %s: expected [ADDR:]PORT" % arg, r.stderr.decode())
        r = fl.run("run", "--tigo-tcp", "127.0.0.1", "--http", "127.0.0.1:0", "--check")
        self.assertEqual(r.returncode, 0, r.stderr.decode())


class StatePathsThatCannotWork(unittest.TestCase):
    def test_state_dir_that_is_a_file(self):
        with tempfile.NamedTemporaryFile() as f:
            for extra in (["--check"], []):
                with self.subTest(extra=extra):
                    r = fl.run("run", "--tigo-tcp", "127.0.0.1:1", "--state-dir", f.name, *extra, timeout=20)
                    err = r.stderr.decode()
                    self.assertEqual(r.returncode, 2, err)
                    self.assertIn("state_dir = %s is not a directory" % f.name, err)

    def test_config_that_is_a_directory(self):
        with tempfile.TemporaryDirectory() as tmp:
            for extra in (["--check"], []):
                with self.subTest(extra=extra):
                    r = fl.run("run", "--config", tmp, "--tigo-tcp", "127.0.0.1:1", *extra, timeout=20)
                    err = r.stderr.decode()
                    self.assertEqual(r.returncode, 2, err)
                    self.assertIn("%s: cannot read: it is a directory" % tmp, err)


if __name__ == "__main__":
    unittest.main()
