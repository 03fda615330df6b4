#!/usr/bin/env python3
"""Configuration input that used to be mangled silently is refused, with its line.

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


if __name__ == "__main__":
    unittest.main()
