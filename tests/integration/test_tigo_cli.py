"""The taptap persona's command line: help, version, usage errors, exit codes,
and the extras sunwire adds (--file, record, --json) in both personas."""
import os
import subprocess
import unittest

import tigolib as tl


class TaptapPersona(unittest.TestCase):
    def setUp(self):
        self.taptap = tl.taptap_path()

    def test_version(self):
        for flag in ("-V", "--version"):
            r = tl.run([self.taptap, flag])
            self.assertEqual(r.returncode, 0)
            self.assertEqual(r.stdout, b"taptap 0.2.0\n")
        r = tl.run([self.taptap, "observe", "-V"])
        self.assertEqual((r.returncode, r.stdout), (0, b"taptap 0.2.0\n"))
        r = tl.run([tl.BIN, "taptap", "--version"])
        self.assertEqual((r.returncode, r.stdout), (0, b"taptap 0.2.0\n"))
        r = tl.run([tl.BIN, "tigo", "--version"])
        self.assertEqual(r.returncode, 0)
        self.assertTrue(r.stdout.startswith(b"sunwire "))

    def test_no_subcommand_prints_help_to_stderr(self):
        r = tl.run([self.taptap])
        self.assertEqual(r.returncode, 2)
        self.assertEqual(r.stdout, b"")
        for sub in (b"list-serial-ports", b"observe", b"peek-bytes", b"peek-frames", b"peek-activity"):
            self.assertIn(sub, r.stderr)

    def test_help(self):
        for argv in (["--help"], ["-h"], ["help"]):
            r = tl.run([self.taptap] + argv)
            self.assertEqual(r.returncode, 0, argv)
            self.assertIn(b"Usage: taptap <COMMAND>", r.stdout)
            self.assertEqual(r.stderr, b"")
        r = tl.run([self.taptap, "help", "observe"])
        self.assertEqual(r.returncode, 0)
        for flag in (b"--serial", b"--tcp", b"--port", b"--reconnect-timeout", b"--reconnect-retry",
                     b"--reconnect-delay", b"--keepalive-idle", b"--keepalive-interval", b"--keepalive-count",
                     b"--persistent-file", b"--state-file", b"--file", b"--format"):
            self.assertIn(flag, r.stdout)
        r = tl.run([self.taptap, "peek-bytes", "--help"])
        self.assertEqual(r.returncode, 0)
        self.assertIn(b"--raw", r.stdout)
        r = tl.run([self.taptap, "help", "nonsense"])
        self.assertEqual(r.returncode, 2)

    def test_usage_errors_exit_2(self):
        cases = [
            (["frobnicate"], b"unrecognized subcommand"),
            (["observe"], b"required arguments were not provided"),
            (["observe", "--serial", "/dev/null", "--tcp", "127.0.0.1"], b"cannot be used with"),
            (["observe", "--serial", "/dev/null", "--port", "502"], b"cannot be used with '--port"),
            (["observe", "--serial", "/dev/null", "--keepalive-idle", "3"], b"--keepalive-idle"),
            (["observe", "--serial", "/dev/null", "--keepalive-interval", "3"], b"--keepalive-interval"),
            (["observe", "--serial", "/dev/null", "--keepalive-count", "3"], b"--keepalive-count"),
            (["observe", "--port", "502"], b"--tcp <DESTINATION>"),
            (["observe", "--tcp", "127.0.0.1", "--port", "x"], b"invalid digit"),
            (["observe", "--tcp", "127.0.0.1", "--port", "70000"], b"too large"),
            (["observe", "--tcp", "127.0.0.1", "--reconnect-delay", "-1"], b"a value is required"),
            (["observe", "--tcp", "127.0.0.1", "--tcp", "127.0.0.1"], b"cannot be used multiple times"),
            (["observe", "--tcp", "127.0.0.1", "--bogus"], b"unexpected argument '--bogus'"),
            (["peek-bytes", "--tcp", "127.0.0.1", "--persistent-file", "x"], b"unexpected argument"),
            (["list-serial-ports", "--raw"], b"unexpected argument"),
        ]
        for argv, needle in cases:
            r = tl.run([self.taptap] + argv)
            self.assertEqual(r.returncode, 2, argv)
            self.assertIn(needle, r.stderr, argv)
            self.assertIn(b"Usage: taptap", r.stderr, argv)
            self.assertEqual(r.stdout, b"", argv)

    def test_defaults_do_not_conflict(self):
        # --serial alone: the default --port and keepalive values must not count as given.
        # A nonexistent device with --reconnect-retry 1 then fails to open twice: exit 2.
        r = tl.run([self.taptap, "peek-bytes", "--serial", "/dev/sunwire-does-not-exist",
                    "--reconnect-retry", "1", "--reconnect-delay", "0"])
        self.assertEqual(r.returncode, 2)
        self.assertIn(b"/dev/sunwire-does-not-exist", r.stderr)
        self.assertIn(b"No such file or directory", r.stderr)

    def test_list_serial_ports_layout(self):
        # A made-up sysfs tree: one USB adapter, one legacy UART with hardware, one without, one pty-like tty.
        import tempfile
        root = tempfile.mkdtemp()
        self.addCleanup(lambda: subprocess.run(["rm", "-rf", root]))
        usb = os.path.join(root, "devices/pci0000:00/usb1/1-1")
        iface = os.path.join(usb, "1-1:1.0/ttyUSB0")
        os.makedirs(iface)
        for name, value in (("idVendor", "0403"), ("idProduct", "6001"), ("manufacturer", "FTDI"),
                            ("product", "FT232R USB UART")):
            with open(os.path.join(usb, name), "w") as f:
                f.write(value + "\n")
        serial0 = os.path.join(root, "devices/platform/serial8250/tty/ttyS0")
        os.makedirs(serial0)
        cls = os.path.join(root, "class/tty")
        os.makedirs(cls)
        for name, dev, typ in (("ttyUSB0", iface, None), ("ttyS0", serial0, "4"), ("ttyS1", serial0, "0"),
                               ("tty1", None, None)):
            os.makedirs(os.path.join(cls, name))
            if dev:
                os.symlink(dev, os.path.join(cls, name, "device"))
            if typ:
                with open(os.path.join(cls, name, "type"), "w") as f:
                    f.write(typ + "\n")
        r = tl.run([self.taptap, "list-serial-ports"], env=tl.quiet_env(SUNWIRE_SYSFS_ROOT=root))
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout.decode(),
                         "Detected:\n"
                         "    --serial /dev/ttyS0\n"
                         "    --serial /dev/ttyUSB0\n"
                         "      USB 0403:6001 (FTDI FT232R USB UART)\n")
        empty = tempfile.mkdtemp()
        self.addCleanup(lambda: subprocess.run(["rm", "-rf", empty]))
        os.makedirs(os.path.join(empty, "class/tty"))
        r = tl.run([self.taptap, "list-serial-ports"], env=tl.quiet_env(SUNWIRE_SYSFS_ROOT=empty))
        self.assertEqual((r.returncode, r.stdout), (0, b"No serial ports detected.\n"))
        r = tl.run([self.taptap, "list-serial-ports"], env=tl.quiet_env(SUNWIRE_SYSFS_ROOT=empty + "/nope"))
        self.assertEqual(r.returncode, 1)

    def test_log_level_from_rust_log(self):
        import tempfile
        fd, path = tempfile.mkstemp(suffix=".bin")
        with os.fdopen(fd, "wb") as f:
            f.write(bytes.fromhex("00FFFF7E0712010148000118830417447E08"))
        self.addCleanup(os.unlink, path)
        r = tl.run([self.taptap, "peek-bytes", "--file", path])
        self.assertRegex(r.stderr.decode(), r"^\[\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ INFO  taptap\] opening file ")
        for level in ("warn", "error", "off"):
            r = tl.run([self.taptap, "peek-bytes", "--file", path], env=tl.quiet_env(RUST_LOG=level))
            self.assertEqual((r.returncode, r.stderr), (0, b""), level)
            self.assertEqual(r.stdout, b"00 FF FF 7E 07 12 01 01 48 00 01 18 83 04 17 44 7E 08\n")
        r = tl.run([self.taptap, "peek-bytes", "--file", path + ".missing"], env=tl.quiet_env(RUST_LOG="error"))
        self.assertEqual(r.returncode, 2)
        self.assertIn(b" ERROR taptap] cannot open file", r.stderr)
        self.assertNotIn(b"INFO", r.stderr)

    def test_closed_stdout_is_a_clean_exit_1(self):
        blob = bytes.fromhex("00FFFF7E0712010148000118830417447E08") * 4000
        # The reader goes away before the first byte reaches the program (it comes on stdin afterwards).
        p = subprocess.Popen([self.taptap, "peek-bytes", "--file", "-"], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=tl.quiet_env())
        p.stdout.close()
        _, err = p.communicate(blob, timeout=30)
        self.assertEqual(p.returncode, 1)
        self.assertIn(b"standard output", err)
        p.stderr.close()


if __name__ == "__main__":
    unittest.main()
