"""`cmake --install` gives a usable package: the program, its persona programs, the
library (shared and static), headers and a relocatable pkg-config file that a
third-party program can build against."""
import os
import shutil
import subprocess
import tempfile
import unittest

BUILD = os.environ["SW_BUILD_DIR"]


def sanitizer_flags():
    """A sanitizer build's library needs the program linked with the same runtime."""
    with open(os.path.join(BUILD, "CMakeCache.txt")) as f:
        cache = f.read()
    if "SUNWIRE_SANITIZE:BOOL=ON" in cache:
        return ["-fsanitize=address,undefined"]
    return []

PROGRAM = r"""
#include <stdio.h>
#include <sunwire/rct.h>
#include <sunwire/tigo.h>

int main(void)
{
    /* A Tigo barcode and an RCT registry lookup through the installed library. */
    static const uint8_t addr[8] = { 0x04, 0xC0, 0x5B, 0x40, 0x00, 0x9A, 0x57, 0xA2 };
    char bc[SW_TIGO_BARCODE_MAX];
    sw_tigo_barcode_format(addr, bc);
    const sw_rct_object *o = sw_rct_registry_find_name("battery.soc");
    printf("%s %s %zu\n", bc, o ? sw_err_name(SW_OK) : "missing", sw_rct_registry_count());
    return 0;
}
"""


class Install(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="sunwire-install-")
        self.addCleanup(shutil.rmtree, self.tmp, True)
        self.prefix = os.path.join(self.tmp, "prefix")
        r = subprocess.run(["cmake", "--install", BUILD, "--prefix", self.prefix], capture_output=True, timeout=120)
        self.assertEqual(r.returncode, 0, r.stderr.decode())

    def find(self, name):
        for root, _, files in os.walk(self.prefix):
            if name in files or os.path.islink(os.path.join(root, name)):
                return os.path.join(root, name)
        self.fail("%s not installed" % name)

    def test_personas_are_programs_that_behave(self):
        sunwire = self.find("sunwire")
        for persona, want in (("taptap", b"taptap 0.2.0"), ("rctclient", b"rctclient, version")):
            path = os.path.join(os.path.dirname(sunwire), persona)
            self.assertTrue(os.path.isfile(path) and not os.path.islink(path), path)
            self.assertTrue(os.access(path, os.X_OK))
            out = subprocess.run([path, "--version"], capture_output=True, timeout=30).stdout
            self.assertTrue(out.startswith(want), out)

    def test_man_pages_are_installed(self):
        # The pages tools/gen_man.py writes at build time, where man(1) looks for them.
        for section, page in (("1", "sunwire.1"), ("1", "sunwire-run.1"), ("1", "taptap.1"),
                              ("1", "rctclient.1"), ("5", "sunwire.ini.5")):
            path = os.path.join(self.prefix, "share", "man", "man" + section, page)
            self.assertTrue(os.path.isfile(path), path)
            with open(path, encoding="utf-8") as f:
                self.assertIn(".TH ", f.read())

    def test_only_public_headers_each_standing_alone(self):
        inc = os.path.dirname(self.find("tigo.h"))
        headers = sorted(os.listdir(inc))
        for public in ("api.h", "error.h", "loop.h", "rct.h", "tigo.h"):
            self.assertIn(public, headers)
        for private in ("daemon.h", "model.h", "http.h", "net.h", "sink_mqtt.h"):
            self.assertNotIn(private, headers)
        for h in headers:
            src = "#include <sunwire/%s>\ntypedef int header_probe;\n" % h
            r = subprocess.run(["cc", "-std=c11", "-Wall", "-Wextra", "-Werror", "-pedantic", "-fsyntax-only",
                                "-I", os.path.dirname(inc), "-x", "c", "-"], input=src, capture_output=True,
                               text=True, timeout=60)
            self.assertEqual(r.returncode, 0, "%s: %s" % (h, r.stderr))

    def test_pkg_config_builds_a_program_shared_and_static(self):
        pc_dir = os.path.dirname(self.find("sunwire.pc"))
        self.find("tigo.h")
        env = dict(os.environ, PKG_CONFIG_PATH=pc_dir)
        src = os.path.join(self.tmp, "prog.c")
        with open(src, "w") as f:
            f.write(PROGRAM)
        flags = subprocess.run(["pkg-config", "--cflags", "--libs", "sunwire"], env=env, capture_output=True,
                               text=True, check=True).stdout.split()
        libdir = [f[2:] for f in flags if f.startswith("-L")][0]
        self.assertTrue(os.path.realpath(libdir).startswith(os.path.realpath(self.prefix)), libdir)
        exe = os.path.join(self.tmp, "prog")
        r = subprocess.run(["cc", "-o", exe, src] + sanitizer_flags() + flags + ["-Wl,-rpath," + libdir],
                           capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stderr)
        out = subprocess.run([exe], capture_output=True, text=True, timeout=30).stdout.split()
        self.assertEqual(out, ["4-9A57A2L", "SW_OK", "895"])

        static = subprocess.run(["pkg-config", "--static", "--cflags", "--libs", "sunwire"], env=env,
                                capture_output=True, text=True, check=True).stdout.split()
        archive = os.path.join(libdir, "libsunwire.a")
        self.assertTrue(os.path.exists(archive))
        exe_s = os.path.join(self.tmp, "prog-static")
        cmd = ["cc", "-o", exe_s, src, archive] + sanitizer_flags() + [f for f in static if f != "-lsunwire"]
        r = subprocess.run(cmd, capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stderr)
        ldd = subprocess.run(["ldd", exe_s], capture_output=True, text=True).stdout
        self.assertNotIn("libsunwire", ldd)
        out = subprocess.run([exe_s], capture_output=True, text=True, timeout=30).stdout.split()
        self.assertEqual(out, ["4-9A57A2L", "SW_OK", "895"])


class BuildTree(unittest.TestCase):
    """sunwire-uninstalled.pc lets a program build against the build tree, no install needed."""

    def test_pkg_config_uninstalled_builds_a_program(self):
        tmp = tempfile.mkdtemp(prefix="sunwire-uninstalled-")
        self.addCleanup(shutil.rmtree, tmp, True)
        env = dict(os.environ, PKG_CONFIG_PATH=BUILD)
        flags = subprocess.run(["pkg-config", "--cflags", "--libs", "sunwire-uninstalled"], env=env,
                               capture_output=True, text=True, check=True).stdout.split()
        self.assertIn("-lsunwire", flags)
        libdir = [f[2:] for f in flags if f.startswith("-L")][0]
        self.assertEqual(os.path.realpath(libdir), os.path.realpath(BUILD))
        src = os.path.join(tmp, "prog.c")
        with open(src, "w") as f:
            f.write(PROGRAM)
        exe = os.path.join(tmp, "prog")
        r = subprocess.run(["cc", "-o", exe, src] + sanitizer_flags() + flags + ["-Wl,-rpath," + libdir],
                           capture_output=True, text=True, cwd=tmp)
        self.assertEqual(r.returncode, 0, r.stderr)
        ldd = subprocess.run(["ldd", exe], capture_output=True, text=True).stdout
        self.assertIn(os.path.realpath(BUILD), ldd)
        out = subprocess.run([exe], capture_output=True, text=True, timeout=30).stdout.split()
        self.assertEqual(out, ["4-9A57A2L", "SW_OK", "895"])


if __name__ == "__main__":
    unittest.main()
