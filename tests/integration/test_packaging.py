"""Issue #18, install: `make install` puts every file in its Debian place,
`scripts/mkdeb.sh` (what `make deb` runs) builds the outpost-node and
outpost-hub packages with dpkg-deb; they are unpacked into a temporary root
(dpkg-deb -x) where `systemd-analyze verify` checks both units (with the
unit's binaries and manual pages resolved inside that root) and their
hardening, lintian finds no error in either package, and the manual pages
render without a warning (groff -ww).

The packages are built from $OUTPOST_BIN (the binaries under test).  A
test skips, saying why, only when a tool is missing from this machine
(scripts/setup.sh test installs them all).
"""
import gzip
import os
import re
import shutil
import subprocess
import tempfile
import unittest

import harness
from harness import BIN, OUT, TOP


def version():
    with open(os.path.join(TOP, "Makefile")) as f:
        return re.search(r"^VERSION\s*:=\s*(\S+)", f.read(), re.M).group(1)


def need(tool):
    if shutil.which(tool) is None:
        raise unittest.SkipTest("%s is not installed (scripts/setup.sh test installs it)" % tool)


def run(args, **kw):
    return subprocess.run(args, capture_output=True, text=True, timeout=kw.pop("timeout", 120), **kw)


class PackagingTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        for t in ("dpkg-deb", "dpkg-shlibdeps"):
            need(t)
        cls.tmp = tempfile.mkdtemp(prefix="outpost-deb-")
        cls.out = os.path.join(cls.tmp, "deb")
        p = run(["sh", os.path.join(TOP, "scripts", "mkdeb.sh"), BIN, cls.out, version()], cwd=TOP)
        if p.returncode != 0:
            raise AssertionError("mkdeb.sh failed: %s %s" % (p.stdout, p.stderr))
        cls.debs = p.stdout.split()
        cls.root = os.path.join(cls.tmp, "root")
        os.makedirs(cls.root)
        for d in cls.debs:
            p = run(["dpkg-deb", "-x", d, cls.root])
            assert p.returncode == 0, p.stderr

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def test_packages_and_their_files(self):
        names = sorted(os.path.basename(d).split("_")[0] for d in self.debs)
        self.assertEqual(names, ["outpost-hub", "outpost-node"])
        for path in ("usr/bin/outpost-node", "usr/bin/outpost-sync", "usr/bin/outpost-hub",
                     "lib/systemd/system/outpost-node.service",
                     "lib/systemd/system/outpost-hub.service",
                     "usr/share/man/man8/outpost-node.8.gz", "usr/share/man/man8/outpost-hub.8.gz",
                     "usr/share/man/man1/outpost-sync.1.gz",
                     "etc/outpost/node.conf", "etc/outpost/hub.conf",
                     "usr/share/doc/outpost-node/examples/node.conf.example",
                     "usr/share/doc/outpost-hub/examples/hub.conf.example",
                     "usr/share/doc/outpost-node/copyright", "usr/share/doc/outpost-hub/changelog.gz"):
            self.assertTrue(os.path.exists(os.path.join(self.root, path)), path)
        for d in self.debs:
            info = run(["dpkg-deb", "-f", d, "Package", "Depends"]).stdout
            self.assertIn("libc6", info)
            self.assertIn("adduser", info)
            pkg = info.split()[1]
            ctl = os.path.join(self.tmp, "ctl-" + pkg)
            self.assertEqual(run(["dpkg-deb", "-e", d, ctl]).returncode, 0)
            with open(os.path.join(ctl, "postinst")) as f:
                post = f.read()
            # The system user, its data directory and the unit enabled, as
            # debhelper's snippets do it.
            self.assertIn("adduser --system", post)
            self.assertIn("deb-systemd-helper enable '%s.service'" % pkg, post)
            self.assertIn("/var/lib/outpost/%s" % pkg.split("-")[1], post)
            # The folders of the README's backup command, the hub's only.
            if pkg == "outpost-hub":
                self.assertIn("install -d -o outpost -g outpost -m 0700 \"$d\"", post)
                self.assertIn("/var/backups/outpost /var/backups/outpost-keys", post)
                self.assertIn('if [ "hub" = hub ]', post)
            for s in ("postinst", "prerm", "postrm"):
                self.assertEqual(run(["sh", "-n", os.path.join(ctl, s)]).returncode, 0, s)
            with open(os.path.join(ctl, "conffiles")) as f:
                self.assertIn("/etc/outpost/%s.conf" % pkg.split("-")[1], f.read())
        # Production settings: no demo data on a packaged daemon.
        for c in ("node", "hub"):
            with open(os.path.join(self.root, "etc/outpost/%s.conf" % c)) as f:
                self.assertRegex(f.read(), r"(?m)^demo = no$")

    def test_units_verify_and_are_hardened(self):
        need("systemd-analyze")
        # The root holds the packages' files and, for the targets the units
        # name, the host's unit directory.
        unitdir = os.path.join(self.root, "lib/systemd/system")
        for f in os.listdir("/lib/systemd/system"):
            dst = os.path.join(unitdir, f)
            if not os.path.lexists(dst):
                src = os.path.join("/lib/systemd/system", f)
                if os.path.islink(src):
                    os.symlink(os.readlink(src), dst)
                elif os.path.isfile(src):
                    shutil.copy(src, dst)
        env = dict(os.environ, MANPATH=os.path.join(self.root, "usr/share/man"))
        for unit in ("outpost-node.service", "outpost-hub.service"):
            with open(os.path.join(unitdir, unit)) as f:
                text = f.read()
            for want in ("User=outpost", "ProtectSystem=strict", "NoNewPrivileges=yes",
                         "PrivateTmp=yes", "StateDirectory=outpost/", "ConfigurationDirectory=outpost",
                         "StandardError=journal", "CapabilityBoundingSet=\n"):
                self.assertIn(want, text, unit)
            p = run(["systemd-analyze", "verify", "--root=" + self.root, "/lib/systemd/system/" + unit],
                    env=env)
            self.assertEqual(p.returncode, 0, "%s: %s%s" % (unit, p.stdout, p.stderr))
            self.assertEqual(p.stderr.strip(), "", unit)
            p = run(["systemd-analyze", "security", "--offline=yes", "--root=" + self.root, unit])
            m = re.search(r"Overall exposure level for \S+: ([0-9.]+)", p.stdout)
            self.assertIsNotNone(m, p.stdout + p.stderr)
            # systemd calls up to 3.9 "OK"; an unhardened service is 9.6.
            self.assertLess(float(m.group(1)), 4.0, unit)
        # verify does fail on a unit whose binary is missing.
        bad = os.path.join(unitdir, "outpost-broken.service")
        with open(os.path.join(unitdir, "outpost-node.service")) as f:
            text = f.read().replace("/usr/bin/outpost-node", "/usr/bin/outpost-missing")
        with open(bad, "w") as f:
            f.write(text)
        p = run(["systemd-analyze", "verify", "--root=" + self.root, "/lib/systemd/system/outpost-broken.service"],
                env=env)
        self.assertNotEqual(p.returncode, 0)
        os.unlink(bad)

    def test_lintian_finds_no_error(self):
        need("lintian")
        p = run(["lintian", "--fail-on", "error", "--no-tag-display-limit"] + self.debs, timeout=300)
        with open(os.path.join(OUT, "lintian.txt"), "w") as f:
            f.write(p.stdout + p.stderr)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertNotRegex(p.stdout, r"(?m)^E: ")

    def test_manual_pages_render_without_warnings(self):
        need("groff")
        for page in ("man8/outpost-node.8.gz", "man8/outpost-hub.8.gz", "man1/outpost-sync.1.gz"):
            with gzip.open(os.path.join(self.root, "usr/share/man", page), "rb") as f:
                src = f.read()
            p = subprocess.run(["groff", "-ww", "-z", "-man"], input=src, capture_output=True, timeout=60)
            self.assertEqual((p.returncode, p.stderr), (0, b""), page)
            p = subprocess.run(["groff", "-man", "-Tutf8"], input=src, capture_output=True, timeout=60)
            text = re.sub(rb".\x08", b"", p.stdout)
            for section in (b"NAME", b"SYNOPSIS", b"DESCRIPTION", b"EXIT STATUS", b"SEE ALSO"):
                self.assertIn(b"\n" + section + b"\n", text, page)


class DocsMatchTheProgramsTest(unittest.TestCase):
    """The manual pages and the README's settings tables name every setting,
    command and option that --help lists, and the hub's page names only
    metrics the README's table has."""

    def help_text(self, prog):
        p = run([os.path.join(BIN, prog), "--help"])
        self.assertEqual(p.returncode, 0, p.stderr)
        return p.stdout

    def read(self, *path):
        with open(os.path.join(TOP, *path)) as f:
            return f.read()

    def test_settings_documented(self):
        readme = self.read("README.md")
        for prog, page in (("outpost-node", "outpost-node.8"), ("outpost-hub", "outpost-hub.8")):
            text = self.help_text(prog)
            names = re.findall(r"(?m)^  --(\w+) ", text.split("Settings", 1)[1])
            self.assertIn("listen", names)
            man = self.read("man", page)
            settings = man.split(".SH SETTINGS", 1)[1].split("\n.SH ", 1)[0]
            table = readme.split("| %s setting |" % prog.split("-")[1], 1)[1].split("\n\n", 1)[0]
            for name in names:
                if name == "data":
                    continue  # an option of its own in both
                self.assertRegex(settings, r"(?m)^\.BR? .*\b%s\b" % re.escape(name),
                                 "%s(8) SETTINGS lacks %s" % (prog, name))
                self.assertRegex(table, r"`%s`" % name, "README's %s table lacks %s" % (prog, name))

    def test_sync_commands_and_options_documented(self):
        text = self.help_text("outpost-sync")
        man = self.read("man", "outpost-sync.1").replace("\\-", "-").replace("\\fP", "").replace(
            "\\fR", "").replace("\\fI", "")
        cmds = text.split("commands:", 1)[1].split("options:", 1)[0]
        for name in re.findall(r"(?m)^  ([a-z-]+) ", cmds):
            self.assertRegex(man, r"(?m)^\.B %s\b" % re.escape(name), "outpost-sync(1) lacks %s" % name)
        for opt in set(re.findall(r"--[a-z][a-z-]+", text)):
            self.assertIn(opt, man, "outpost-sync(1) lacks %s" % opt)

    def test_hub_metrics_are_the_readmes(self):
        readme = self.read("README.md")
        man = self.read("man", "outpost-hub.8")
        metrics = man.split(".B GET /metrics", 1)[1].split("\n.SH ", 1)[0]
        self.assertNotIn("pushes", metrics)
        named = re.findall(r"outpost_[a-z_*]+", metrics)
        self.assertGreater(len(named), 5)
        for m in named:
            pat = re.escape(m).replace(r"\*", "[a-z_]+")
            self.assertRegex(readme, "`%s[`{]" % pat, "README has no metric %s" % m)


class InstallTest(unittest.TestCase):
    def test_make_install_debian_places(self):
        root = tempfile.mkdtemp(prefix="outpost-install-")
        try:
            p = run(["make", "--no-print-directory", "-s", "OUTPOST_SETUP_DONE=1", "install-node",
                     "install-hub", "DESTDIR=" + root, "PREFIX=/usr", "INSTALL_BIN=" + BIN], cwd=TOP)
            self.assertEqual(p.returncode, 0, p.stderr)
            for path in ("usr/bin/outpost-node", "usr/bin/outpost-hub", "usr/bin/outpost-sync",
                         "lib/systemd/system/outpost-node.service", "etc/outpost/hub.conf",
                         "usr/share/man/man8/outpost-hub.8", "usr/share/man/man1/outpost-sync.1"):
                self.assertTrue(os.path.exists(os.path.join(root, path)), path)
            with open(os.path.join(root, "lib/systemd/system/outpost-hub.service")) as f:
                self.assertIn("ExecStart=/usr/bin/outpost-hub serve --config /etc/outpost/hub.conf", f.read())
            # A settings file already there is not overwritten.
            with open(os.path.join(root, "etc/outpost/hub.conf"), "w") as f:
                f.write("listen = 0.0.0.0:8443\n")
            p = run(["make", "--no-print-directory", "-s", "OUTPOST_SETUP_DONE=1", "install-hub",
                     "DESTDIR=" + root, "PREFIX=/usr", "INSTALL_BIN=" + BIN], cwd=TOP)
            self.assertEqual(p.returncode, 0, p.stderr)
            with open(os.path.join(root, "etc/outpost/hub.conf")) as f:
                self.assertEqual(f.read(), "listen = 0.0.0.0:8443\n")
            # Elsewhere than /usr, everything stays under PREFIX.
            p = run(["make", "--no-print-directory", "-s", "OUTPOST_SETUP_DONE=1", "install-node",
                     "DESTDIR=" + root, "PREFIX=/opt/outpost", "INSTALL_BIN=" + BIN], cwd=TOP)
            self.assertEqual(p.returncode, 0, p.stderr)
            with open(os.path.join(root, "opt/outpost/lib/systemd/system/outpost-node.service")) as f:
                self.assertIn("ExecStart=/opt/outpost/bin/outpost-node --config /opt/outpost/etc/outpost/node.conf",
                              f.read())
        finally:
            shutil.rmtree(root, ignore_errors=True)

    def test_installed_hub_loads_the_code_lists(self):
        """An installed hub finds the lists in PREFIX/share/outpost/seed, with
        no seed/ near its binary: where the build's PREFIX put them, or, for
        a tree installed elsewhere (a .deb built from binaries compiled for
        another PREFIX, a DESTDIR root), beside its bin/."""
        root = tempfile.mkdtemp(prefix="outpost-install-")
        try:
            p = run(["make", "--no-print-directory", "-s", "OUTPOST_SETUP_DONE=1", "install-hub",
                     "DESTDIR=" + root, "PREFIX=/usr", "INSTALL_BIN=" + BIN], cwd=TOP)
            self.assertEqual(p.returncode, 0, p.stderr)
            self.assertTrue(os.path.exists(os.path.join(root, "usr/share/outpost/seed",
                                                        "employer_activity_codes.csv")))

            class Installed(harness.Daemon):
                binary = os.path.join(root, "usr/bin/outpost-hub")

            env = {"OUTPOST_HUB_DEMO": "no"}
            hub = Installed("hub", env=env)
            hub.env.pop("OUTPOST_SEED_DIR", None)
            try:
                hub.start()
                db = hub.db()
                try:
                    self.assertGreaterEqual(
                        db.execute("SELECT count(*) FROM employer_activity_codes").fetchone()[0], 74)
                finally:
                    db.close()
                self.assertNotIn("cannot find the seed folder", hub.read_log())
            finally:
                hub.stop()
                hub.cleanup()
        finally:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    unittest.main()
