"""Commit as a set, attacked: a kill -9 between the renames of the sink, route and dead-letter
files (the journal is completed by the next run or validate); a rename failing after another
succeeded (FE-OUTPUT-PARTIAL-COMMIT naming exactly what was replaced); a `create` target that
appears during the run (nothing replaced); the target directory renamed during the run; and
no temp file left anywhere by a failed or killed run."""
import os
import signal
import subprocess
import unittest

from harness import BIN, TempDirTest, read, run, snapshot, spawn, wait_for_lock, write

SCRIPT = """
function process(context) {
  const row = context.input.current();
  if (row.kind === 'route') context.route.send('side');
  if (row.kind === 'bad') throw new Error('bad row');
  return true;
}
"""


def rows(version, n=30):
    kinds = ["ok", "route", "bad"]
    return "id,kind,v\n" + "".join(f"{i},{kinds[i % 3]},{version}\n" for i in range(n))


def leftovers(directory):
    """Temp files and journals (locks aside: a kill -9 cannot remove its lock file)."""
    return sorted(f for f in os.listdir(directory)
                  if ".flowengine-tmp." in f or f.endswith(".flowengine-journal"))


class CommitSetTest(TempDirTest):
    def setUp(self):
        super().setUp()
        write(self.path("t.js"), SCRIPT)
        self.yaml = self.pipeline("""
source: { path: in.csv }
transform:
  - javascript: { file: t.js }
sink: { path: out.csv, outputMode: replace }
routes:
  side: { path: side.csv, outputMode: replace }
errorHandling: skip-row
deadLetter: { path: dead.csv, outputMode: replace }
""")

    def outputs(self):
        return {f: read(self.path(f)) for f in ("out.csv", "side.csv", "dead.csv")}

    def first_run(self):
        write(self.path("in.csv"), rows("v1"))
        r = run(["run", self.yaml])
        self.assertEqual(r.code, 0, repr(r))
        return self.outputs()

    def expected_v2(self):
        """The outputs of a clean v2 run, made in a scratch copy."""
        scratch = self.path("scratch")
        os.mkdir(scratch)
        write(os.path.join(scratch, "in.csv"), rows("v2"))
        write(os.path.join(scratch, "t.js"), SCRIPT)
        write(os.path.join(scratch, "p.yaml"), read(self.yaml))
        r = run(["run", os.path.join(scratch, "p.yaml")])
        self.assertEqual(r.code, 0, repr(r))
        # The dead letters name the script and input files: as if they ran here.
        out = {f: read(os.path.join(scratch, f)).replace(scratch.encode(), self.dir.encode())
               for f in ("out.csv", "side.csv", "dead.csv")}
        subprocess.run(["rm", "-rf", scratch], check=True)
        return out

    def test_kill_between_renames_is_completed_by_the_next_validate_or_run(self):
        v2 = self.expected_v2()
        for crash_after, completer in [(1, "validate"), (2, "run"), (1, "run"), (2, "validate")]:
            v1 = self.first_run()
            write(self.path("in.csv"), rows("v2"))
            r = run(["run", self.yaml], env={"FLOWENGINE_TEST_CRASH_AFTER_RENAMES": str(crash_after)})
            self.assertEqual(r.code, -signal.SIGKILL, repr(r))
            got = self.outputs()
            names = ["out.csv", "side.csv", "dead.csv"]
            # A mixed set on disk, and the journal that names the rest.
            self.assertEqual([got[n] == v2[n] for n in names],
                             [i < crash_after for i in range(3)])
            self.assertTrue(os.path.exists(self.path(".out.csv.flowengine-journal")))
            c = run([completer, self.yaml])
            self.assertEqual(c.code, 0, repr(c))
            self.assertIn("completed the commit of an interrupted run", c.err)
            self.assertEqual(self.outputs(), v2, f"crash after {crash_after}, {completer}")
            self.assertEqual(leftovers(self.dir), [])

    def test_a_failed_rename_after_another_reports_exactly_what_was_replaced(self):
        v1 = self.first_run()
        write(self.path("in.csv"), rows("v2"))
        r = run(["run", self.yaml], env={"FLOWENGINE_TEST_FAIL_RENAME": "2"})
        self.assertEqual(r.code, 1, repr(r))
        self.assertIn("FE-OUTPUT-PARTIAL-COMMIT", r.err)
        self.assertIn("replaced: " + self.path("out.csv"), r.err)
        self.assertIn("untouched: " + self.path("side.csv") + ", " + self.path("dead.csv"), r.err)
        self.assertNotIn("nothing was committed", r.err)
        self.assertIn("1 target was replaced before the failure", r.err)
        got = self.outputs()
        self.assertNotEqual(got["out.csv"], v1["out.csv"])
        self.assertEqual(got["side.csv"], v1["side.csv"])
        self.assertEqual(got["dead.csv"], v1["dead.csv"])
        self.assertEqual(leftovers(self.dir), [])

    def test_a_failed_first_rename_replaces_nothing(self):
        v1 = self.first_run()
        write(self.path("in.csv"), rows("v2"))
        r = run(["run", self.yaml], env={"FLOWENGINE_TEST_FAIL_RENAME": "1"})
        self.assertEqual(r.code, 1, repr(r))
        self.assertIn("FE-OUTPUT-COMMIT", r.err)
        self.assertEqual(self.outputs(), v1)
        self.assertEqual(leftovers(self.dir), [])


class DuringTheRunTest(TempDirTest):
    """Things that happen while a run waits on a FIFO source."""

    def start(self, yaml):
        os.mkfifo(self.path("in.fifo"))
        p = self.pipeline(yaml)
        proc = spawn(["run", p], stderr_path=self.path("err.txt"))
        fifo = open(self.path("in.fifo"), "w")
        fifo.write("id\n" + "".join(f"{i}\n" for i in range(1000)))
        fifo.flush()
        return proc, fifo

    def wait_until_writing(self, proc, target):
        """Waits until the run holds the lock on `target` (its sinks are opened in order: sink,
        routes, dead letters), so what the test does next happens during the run."""
        if not wait_for_lock(proc, self.path(target)):
            proc.kill()
            proc.wait()
            self.fail(f"the run did not take the lock on {target}: " +
                      read(self.path("err.txt")).decode("utf-8", "replace"))

    def finish(self, proc, fifo):
        fifo.write("".join(f"{i}\n" for i in range(1000, 2000)))
        fifo.close()
        code = proc.wait(timeout=60)
        return code, read(self.path("err.txt")).decode()

    def test_create_target_appearing_during_the_run_replaces_nothing(self):
        write(self.path("out.csv"), "old main\n")
        proc, fifo = self.start("""
source: { path: in.fifo }
sink: { path: out.csv, outputMode: replace }
routes:
  r: { path: late.csv, outputMode: create }
""")
        self.wait_until_writing(proc, "late.csv")
        write(self.path("late.csv"), "someone else's\n")
        code, err = self.finish(proc, fifo)
        self.assertEqual(code, 1, err)
        self.assertIn("FE-OUTPUT-EXISTS", err)
        self.assertEqual(read(self.path("out.csv")), b"old main\n")
        self.assertEqual(read(self.path("late.csv")), b"someone else's\n")
        self.assertEqual(leftovers(self.dir), [])

    def test_target_directory_renamed_during_the_run(self):
        os.mkdir(self.path("outdir"))
        proc, fifo = self.start("source: { path: in.fifo }\nsink: { path: outdir/out.csv }\n")
        self.wait_until_writing(proc, "outdir/out.csv")
        os.rename(self.path("outdir"), self.path("moved"))
        code, err = self.finish(proc, fifo)
        self.assertEqual(code, 1, err)
        self.assertIn("FE-OUTPUT-COMMIT", err)
        self.assertIn("was moved", err)
        # Nothing left in the moved directory: no temp (it never had a name), no lock.
        self.assertEqual(os.listdir(self.path("moved")), [])
        self.assertFalse(os.path.exists(self.path("outdir")))

    def test_kill_during_the_run_leaves_no_temp_file(self):
        proc, fifo = self.start("""
source: { path: in.fifo }
sink: { path: out.csv }
errorHandling: skip-row
deadLetter: { path: dead.csv }
""")
        self.wait_until_writing(proc, "dead.csv")
        proc.kill()
        proc.wait(timeout=10)
        fifo.close()
        self.assertEqual(leftovers(self.dir), [])
        self.assertFalse(os.path.exists(self.path("out.csv")))

    def test_two_quick_signals_leave_no_lock_and_no_temp(self):
        proc, fifo = self.start("""
source: { path: in.fifo }
sink: { path: out.csv }
errorHandling: skip-row
deadLetter: { path: dead.csv }
""")
        self.wait_until_writing(proc, "dead.csv")
        proc.send_signal(signal.SIGINT)
        proc.send_signal(signal.SIGINT)
        code = proc.wait(timeout=10)
        fifo.close()
        self.assertIn(code, (130, -signal.SIGINT), read(self.path("err.txt")))
        self.assertEqual(sorted(f for f in os.listdir(self.dir) if "flowengine" in f), [])


if __name__ == "__main__":
    unittest.main()
