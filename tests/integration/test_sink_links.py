#!/usr/bin/env python3
"""A sink's unit test links the model and that sink, and nothing else of sunwire.

Read from the build's own link lines (what `ninja -t commands` prints, or the
link.txt a Makefile build writes), so the check follows the CMake targets as
they are and not a list kept beside them. Each sink is a library of its own
(sw_sink_<name>); its test may link sw_core, sw_model, the loop and the log it
runs on (sw_loop, sw_log) and the test helpers, and never another sink, the
web server, the daemon, the rest of io or a protocol area.
"""
import os
import re
import shutil
import subprocess
import unittest

SRC = os.environ.get("SW_SOURCE_DIR", os.path.join(os.path.dirname(__file__), "..", ".."))
BUILD = os.environ["SW_BUILD_DIR"]

BASE = {"sw_core", "sw_model", "sw_loop", "sw_log", "sw_testutil"}
NEVER = {"sw_web", "sw_daemon", "sw_io", "sw_tigo", "sw_rct", "sw_rct_io", "sw_sim", "sw_sink"}


def test_libs():
    """{test name: sink library} as tests/CMakeLists.txt assigns them."""
    with open(os.path.join(SRC, "tests", "CMakeLists.txt")) as f:
        text = f.read()
    return dict(re.findall(r"^set\(SW_TEST_LIB_sink_(test_\w+) (sink_\w+)\)", text, re.M))


def link_line(exe):
    """The command that links tests/<exe>."""
    if os.path.exists(os.path.join(BUILD, "build.ninja")):
        out = subprocess.run(["ninja", "-C", BUILD, "-t", "commands", "tests/" + exe], capture_output=True,
                             text=True, timeout=60, check=True).stdout
        return out.strip().splitlines()[-1]
    with open(os.path.join(BUILD, "tests", "CMakeFiles", exe + ".dir", "link.txt")) as f:
        return f.read()


def sunwire_libs(line):
    """The sunwire static libraries a link line names (libsw_<x>.a -> sw_<x>)."""
    return {"sw_" + m for m in re.findall(r"(?:^|[/\s])libsw_(\w+)\.a\b", line)}


class SinkLinks(unittest.TestCase):
    def setUp(self):
        if os.path.exists(os.path.join(BUILD, "build.ninja")) and not shutil.which("ninja"):
            self.skipTest("ninja is not installed")

    def test_every_sink_test_names_its_sink(self):
        tests = {os.path.splitext(n)[0] for n in os.listdir(os.path.join(SRC, "tests", "unit", "sink"))
                 if re.match(r"test_\w+\.c$", n)}
        assigned = test_libs()
        # The one test of all outputs at once is the only one that links every sink.
        self.assertEqual(tests - set(assigned), {"test_fields_outputs"})
        self.assertGreaterEqual(len(set(assigned.values())), 4)

    def test_a_sink_test_links_the_model_and_that_sink(self):
        for test, sink in sorted(test_libs().items()):
            with self.subTest(test=test):
                line = link_line("unit_sink_" + test)
                libs = sunwire_libs(line)
                self.assertIn("sw_" + sink, libs, line)
                self.assertIn("sw_model", libs, line)
                self.assertEqual(libs - BASE - {"sw_" + sink}, set(), line)
                self.assertNotIn("microhttpd", line)

    def test_the_all_outputs_test_links_no_web_daemon_or_io(self):
        line = link_line("unit_sink_test_fields_outputs")
        libs = sunwire_libs(line)
        self.assertGreaterEqual(len({l for l in libs if l.startswith("sw_sink_")}), 4, line)
        self.assertEqual(libs & NEVER, set(), line)

    def test_the_check_sees_a_forbidden_library(self):
        # The parser must find a library where a link line names one, or the checks above prove nothing.
        self.assertEqual(sunwire_libs("cc -o t t.o src/libsw_sink_mqtt.a libsw_web.a -lm"),
                         {"sw_sink_mqtt", "sw_web"})


if __name__ == "__main__":
    unittest.main()
