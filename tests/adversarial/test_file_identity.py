"""File identity, attacked: every output kind aliased to every other path kind (inputs and
outputs) through every trick — the same name, `..`, an absolute path, a symlink (dangling
or not), a symlinked directory and a hard link — must be refused with FE-CONFIG-ALIAS by
`validate` and by `run` before anything is written (the directory is byte-for-byte the same
afterwards). Special files as targets are refused; a symlinked target is followed and the
link stays; owner, group and mode are kept on replace; new files honour the umask."""
import os
import socket
import stat
import subprocess
import unittest

from harness import BIN, TempDirTest, read, run, snapshot, write

SCRIPT = """
function process(context) {
  const row = context.input.current();
  if (row.id === '2') context.route.send('side');
  if (row.id === '3') throw new Error('bad');
  return true;
}
"""

# Every kind of path a run touches: name -> default path (relative to the test dir).
INPUTS = {"source": "in.csv", "script": "t.js", "pipeline": "p.yaml"}
OUTPUTS = {"sink": "out.csv", "route": "side.csv", "dead": "dead.csv", "summary": "summary.json",
           "trace": "trace.json", "metrics": "metrics.prom", "sample": "sd/source.csv"}
TRICKS = ["same", "dotdot", "abs", "symlink", "symdir", "hardlink"]


class FileIdentityMatrixTest(TempDirTest):
    def setUp(self):
        super().setUp()
        os.mkdir(self.path("sub"))
        os.mkdir(self.path("sd"))
        os.symlink(".", self.path("here"))

    def base_files(self):
        write(self.path("in.csv"), "id,name\n1,a\n2,b\n3,c\n4,d\n")
        write(self.path("t.js"), SCRIPT)

    def alias(self, trick, target):
        """A path naming `target` (relative) through `trick`, or None when not applicable."""
        if trick == "same":
            return target
        if trick == "dotdot":
            return "sub/../" + target
        if trick == "abs":
            return self.path(target)
        if trick == "symlink":
            link = self.path("alias_link")
            if os.path.lexists(link):
                os.unlink(link)
            os.symlink(os.path.basename(target) if "/" not in target else self.path(target), link)
            return "alias_link"
        if trick == "symdir":
            return "here/" + target
        if trick == "hardlink":
            full = self.path(target)
            if not os.path.exists(full):
                write(full, "existing\n")
            hard = self.path("hard_link")
            if os.path.lexists(hard):
                os.unlink(hard)
            os.link(full, hard)
            return "hard_link"
        raise ValueError(trick)

    def scenario(self, out_kind, target_kind, trick):
        """argv of a run whose `out_kind` output aliases `target_kind`'s path."""
        paths = dict(OUTPUTS)
        target = INPUTS.get(target_kind) or OUTPUTS[target_kind]
        if out_kind == "sample":
            # The sample files have fixed names inside --sample-dir: alias the file itself.
            if trick not in ("symlink", "hardlink"):
                return None
            link = self.path("sd", "source.csv")
            if trick == "symlink":
                os.symlink(self.path(target), link)
            else:
                if not os.path.exists(self.path(target)):
                    write(self.path(target), "existing\n")
                os.link(self.path(target), link)
        else:
            paths[out_kind] = self.alias(trick, target)
        yaml = f"""
source: {{ path: {INPUTS['source']} }}
transform:
  - javascript: {{ file: {INPUTS['script']} }}
sink: {{ path: "{paths['sink']}", outputMode: replace }}
routes:
  side: {{ path: "{paths['route']}", outputMode: replace }}
errorHandling: skip-row
deadLetter: {{ path: "{paths['dead']}", outputMode: replace }}
"""
        write(self.path("p.yaml"), yaml)
        return ["p.yaml", "--summary", paths["summary"], "--trace", paths["trace"],
                "--metrics-file", paths["metrics"], "--sample", "2", "--sample-dir", "sd"]

    def test_every_output_aliased_to_every_path_is_refused(self):
        tried = 0
        for out_kind in OUTPUTS:
            for target_kind in list(INPUTS) + list(OUTPUTS):
                if target_kind == out_kind:
                    continue
                for trick in TRICKS:
                    self.tearDown()
                    self.setUp()
                    self.base_files()
                    argv = self.scenario(out_kind, target_kind, trick)
                    if argv is None:
                        continue
                    tried += 1
                    what = f"{out_kind} -> {target_kind} via {trick}"
                    before = snapshot(self.dir)
                    r = run(["run"] + argv, cwd=self.dir)
                    self.assertEqual(r.code, 2, what + "\n" + repr(r))
                    self.assertIn("FE-CONFIG-ALIAS", r.err, what)
                    self.assertEqual(snapshot(self.dir), before, what + ": files changed")
                    # validate finds it too when the alias is among the pipeline's own paths.
                    if out_kind in ("sink", "route", "dead") and target_kind not in (
                            "summary", "trace", "metrics", "sample"):
                        v = run(["validate", "p.yaml"], cwd=self.dir)
                        self.assertEqual(v.code, 2, what + "\n" + repr(v))
                        self.assertIn("FE-CONFIG-ALIAS", v.err, what)
        self.assertGreater(tried, 250)

    def test_distinct_paths_run(self):
        self.base_files()
        argv = self.scenario("sink", "route", "same")  # then repair the alias
        write(self.path("p.yaml"), read(self.path("p.yaml")).decode().replace(
            'sink: { path: "side.csv"', 'sink: { path: "out.csv"'))
        r = run(["run"] + argv, cwd=self.dir)
        self.assertEqual(r.code, 0, repr(r))
        for f in ["out.csv", "side.csv", "dead.csv", "summary.json", "trace.json",
                  "metrics.prom", "sd/source.csv", "sd/transform.csv"]:
            self.assertTrue(os.path.isfile(self.path(f)), f)


class SpecialTargetTest(TempDirTest):
    def pipeline_to(self, target, key="sink"):
        write(self.path("in.csv"), "id\n1\n2\n")
        sink = target if key == "sink" else "out.csv"
        dead = target if key == "dead" else "dead.csv"
        return self.pipeline(f"""
source: {{ path: in.csv }}
sink: {{ path: "{sink}", outputMode: replace }}
errorHandling: skip-row
deadLetter: {{ path: "{dead}", outputMode: replace }}
""")

    def check_refused(self, target, key="sink"):
        p = self.pipeline_to(target, key)
        before_kind = os.lstat(target).st_mode if os.path.lexists(target) else None
        for command in ("validate", "run"):
            r = run([command, p], cwd=self.dir)
            self.assertEqual(r.code, 2, f"{command} {target}\n{r!r}")
            self.assertIn("FE-CONFIG-NOT-REGULAR", r.err)
        if before_kind is not None:
            self.assertEqual(os.lstat(target).st_mode, before_kind, target)

    def test_fifo_target(self):
        os.mkfifo(self.path("fifo"))
        self.check_refused(self.path("fifo"))
        self.check_refused(self.path("fifo"), key="dead")

    def test_dev_stdout_and_dev_null(self):
        # /dev/stdout is a symlink to the process's stdout (a pipe here): never replaced.
        self.check_refused("/dev/stdout")
        self.check_refused("/dev/null")
        self.assertTrue(stat.S_ISCHR(os.stat("/dev/null").st_mode))

    def test_socket_and_directory_targets(self):
        s = socket.socket(socket.AF_UNIX)
        s.bind(self.path("sock"))
        try:
            self.check_refused(self.path("sock"))
        finally:
            s.close()
        os.mkdir(self.path("adir"))
        self.check_refused(self.path("adir"))

    def test_symlink_to_a_fifo_is_refused(self):
        os.mkfifo(self.path("fifo"))
        os.symlink("fifo", self.path("link"))
        self.check_refused(self.path("link"))


class SymlinkedTargetTest(TempDirTest):
    def test_link_is_followed_and_stays(self):
        write(self.path("in.csv"), "id\n1\n")
        os.mkdir(self.path("real"))
        write(self.path("real", "data.csv"), "old\n")
        os.symlink("real/data.csv", self.path("out.csv"))
        p = self.pipeline("source: { path: in.csv }\nsink: { path: out.csv, outputMode: replace }\n")
        r = run(["run", p])
        self.assertEqual(r.code, 0, repr(r))
        self.assertTrue(os.path.islink(self.path("out.csv")))
        self.assertEqual(os.readlink(self.path("out.csv")), "real/data.csv")
        self.assertEqual(read(self.path("real", "data.csv")), b"id\n1\n")
        self.assertEqual(sorted(os.listdir(self.path("real"))), ["data.csv"])

    def test_dangling_link_creates_the_file_it_names(self):
        write(self.path("in.csv"), "id\n1\n")
        os.mkdir(self.path("real"))
        os.symlink("real/new.csv", self.path("out.csv"))
        p = self.pipeline("source: { path: in.csv }\nsink: { path: out.csv }\n")
        r = run(["run", p])
        self.assertEqual(r.code, 0, repr(r))
        self.assertTrue(os.path.islink(self.path("out.csv")))
        self.assertEqual(read(self.path("real", "new.csv")), b"id\n1\n")

    def test_symlink_loop_is_a_clear_error(self):
        write(self.path("in.csv"), "id\n1\n")
        os.symlink("b", self.path("a"))
        os.symlink("a", self.path("b"))
        p = self.pipeline("source: { path: in.csv }\nsink: { path: a, outputMode: replace }\n")
        r = run(["run", p])
        self.assertEqual(r.code, 2, repr(r))
        self.assertIn("symbolic links", r.err)


class OwnershipTest(TempDirTest):
    def test_replace_keeps_owner_group_and_mode(self):
        self.require(os.geteuid() == 0, "changing a file's owner needs root")
        write(self.path("in.csv"), "id,v\n1,x\n2,bad\n")
        targets = {"out.csv": 0o640, "dead.csv": 0o604, "summary.json": 0o600}
        for name, mode in targets.items():
            write(self.path(name), "old\n", mode)
            os.chown(self.path(name), 65534, 65534)
        p = self.pipeline("""
source:
  path: in.csv
  columns: [{ name: v, type: int64 }]
sink: { path: out.csv, outputMode: replace }
errorHandling: skip-row
deadLetter: { path: dead.csv, outputMode: replace }
""")
        r = run(["run", p, "--summary", self.path("summary.json")])
        self.assertEqual(r.code, 0, repr(r))
        for name, mode in targets.items():
            st = os.stat(self.path(name))
            self.assertEqual((st.st_uid, st.st_gid, stat.S_IMODE(st.st_mode)), (65534, 65534, mode),
                             name)
            self.assertNotEqual(read(self.path(name)), b"old\n", name)

    def test_new_files_get_0666_minus_umask(self):
        write(self.path("in.csv"), "id,v\n1,x\n2,bad\n")
        p = self.pipeline("""
source:
  path: in.csv
  columns: [{ name: v, type: int64 }]
sink: { path: out.csv }
errorHandling: skip-row
deadLetter: { path: dead.csv }
""")
        for umask, want in [(0o077, 0o600), (0o022, 0o644), (0o002, 0o664)]:
            for f in ["out.csv", "dead.csv", "s.json", "m.prom"]:
                if os.path.exists(self.path(f)):
                    os.unlink(self.path(f))
            r = subprocess.run(
                ["sh", "-c", f'umask {umask:o} && exec "$0" "$@"', BIN, "run", p, "--summary",
                 self.path("s.json"), "--metrics-file", self.path("m.prom")],
                capture_output=True)
            self.assertEqual(r.returncode, 0, r.stderr.decode())
            for f in ["out.csv", "dead.csv", "s.json", "m.prom"]:
                self.assertEqual(stat.S_IMODE(os.stat(self.path(f)).st_mode), want,
                                 f"{f} under umask {umask:o}")


if __name__ == "__main__":
    unittest.main()
