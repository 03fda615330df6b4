#!/usr/bin/env python3
"""What each program links, as `ldd` shows it.

sunwire links every optional library its build enabled (none is loaded behind
ldd's back), while the persona programs taptap and rctclient link only the
protocol core and the I/O edges: none of the daemon's output libraries.
The enabled features come from `sunwire features`, and each feature's library
names from pkg-config, so the test follows whatever the build found.
"""
import os
import re
import shutil
import subprocess
import unittest

BIN = os.environ["SUNWIRE_BIN"]
BUILD = os.environ.get("SW_BUILD_DIR", os.path.dirname(BIN))

# The daemon's outputs: MQTT, the HTTP server, the SQLite history, InfluxDB over HTTP.
DAEMON_ONLY = ("libmosquitto", "libmicrohttpd", "libsqlite3", "libcurl")


def ldd(path):
    """The base names (without .so...) of the shared objects ldd lists for path."""
    out = subprocess.run(["ldd", path], capture_output=True, text=True, timeout=30, check=True).stdout
    names = set()
    for line in out.splitlines():
        m = re.match(r"\s*(\S+?)\.so[.\s]", line)
        if m:
            names.add(os.path.basename(m.group(1)))
    return names


def enabled_modules():
    """pkg-config modules of the features `sunwire features` reports enabled."""
    out = subprocess.run([BIN, "features"], capture_output=True, text=True, timeout=30, check=True).stdout
    mods = re.findall(r": enabled \((\S+) [^)]*\)$", out, re.M)
    disabled = re.findall(r": DISABLED \(install (\S+)\)$", out, re.M)
    return mods, disabled, out


def module_libs(module):
    out = subprocess.run(["pkg-config", "--libs-only-l", module], capture_output=True, text=True,
                         timeout=30, check=True).stdout
    return ["lib" + f[2:] for f in out.split() if f.startswith("-l")]


@unittest.skipUnless(shutil.which("ldd"), "ldd is not installed")
class Linking(unittest.TestCase):
    def test_features_name_a_module_or_a_package(self):
        mods, disabled, out = enabled_modules()
        lines = [l for l in out.splitlines() if l.strip()]
        self.assertEqual(len(mods) + len(disabled), len(lines), out)
        self.assertGreater(len(lines), 0)
        self.assertNotIn("loaded when used", out)
        for pkg in disabled:
            self.assertRegex(pkg, r"^[a-z0-9.+-]+-dev$")

    @unittest.skipUnless(shutil.which("pkg-config"), "pkg-config is not installed")
    def test_sunwire_lists_every_enabled_feature_library(self):
        mods, _, out = enabled_modules()
        if not mods:
            self.skipTest("this build has no optional feature enabled")
        linked = ldd(BIN)
        for mod in mods:
            libs = module_libs(mod)
            self.assertTrue(libs, mod)
            for lib in libs:
                self.assertIn(lib, linked, "%s (%s) is not linked: %s" % (lib, mod, sorted(linked)))

    def test_personas_are_programs_without_the_daemon_libraries(self):
        for persona in ("taptap", "rctclient"):
            path = os.path.join(BUILD, persona)
            self.assertTrue(os.path.isfile(path) and not os.path.islink(path), path)
            linked = ldd(path)
            self.assertIn("libc", linked)
            self.assertFalse(linked & set(DAEMON_ONLY), "%s links %s" % (persona, sorted(linked & set(DAEMON_ONLY))))
            # Smaller than the program that carries the daemon as well.
            self.assertLess(os.path.getsize(path), os.path.getsize(BIN))

    def test_personas_answer_like_the_sunwire_subcommands(self):
        for persona in ("taptap", "rctclient"):
            for args in (["--version"], ["--help"]):
                alone = subprocess.run([os.path.join(BUILD, persona)] + args, capture_output=True, timeout=30)
                sub = subprocess.run([BIN, persona] + args, capture_output=True, timeout=30)
                self.assertEqual(alone.returncode, sub.returncode, (persona, args))
                self.assertEqual(alone.stdout, sub.stdout, (persona, args))
                self.assertTrue(alone.stdout, (persona, args))


if __name__ == "__main__":
    unittest.main()
