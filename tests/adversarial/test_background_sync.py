"""Outputs synced to disk in the background while they are written (core/io/background_sync.h),
attacked: SIGTERM/SIGINT and kill -9 at several points of a run whose syncs are in flight
(the target is the old file or the complete new one, never part of one; the run stops
promptly; no temp file is left); a sync failing in the background on any of the sink, route
and dead-letter files (nothing of the set is published, although the fsync at commit would
no longer report the error); and the outputs of a run with syncs equal to Python's csv
model of the input."""
import csv
import io
import os
import shutil
import signal
import tempfile
import time
import unittest

from harness import SANITIZED, TempDirTest, csv_rows, generate, read, run, spawn, wait_for, write

SCRIPT = """
function process(context) {
  const row = context.input.current();
  if (row.id % 7 === 0) context.route.send('side');
  if (row.id % 11 === 0) throw new Error('bad row');
  return true;
}
"""

ROWS = 300000  # ~43 MB: several background syncs per file
# From the signal to the exit: the run stops promptly. Under ASan the exit itself (the leak
# check) takes seconds.
STOP_SECONDS = 15.0 if SANITIZED else 2.0


def leftovers(directory):
    return sorted(f for f in os.listdir(directory)
                  if ".flowengine-tmp." in f or f.endswith(".flowengine-journal"))


class BackgroundSyncTest(TempDirTest):
    cached_model = None

    @classmethod
    def setUpClass(cls):
        cls.data_dir = tempfile.mkdtemp(prefix="fe-adv-sync-")
        cls.input = os.path.join(cls.data_dir, "in.csv")
        generate(cls.input, ROWS)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.data_dir, ignore_errors=True)

    def setUp(self):
        super().setUp()
        os.symlink(self.input, self.path("in.csv"))
        write(self.path("t.js"), SCRIPT)
        for name in ("out.csv", "side.csv", "dead.csv"):
            write(self.path(name), "old " + name + "\n")
        self.yaml = self.pipeline("""
source:
  path: in.csv
  columns: [{ name: id, type: int64 }]
transform:
  - javascript: { file: t.js }
sink: { path: out.csv, outputMode: replace }
routes:
  side: { path: side.csv, outputMode: replace }
errorHandling: skip-row
deadLetter: { path: dead.csv, outputMode: replace }
limits: { threads: 2 }
""")

    def outputs(self):
        return {f: read(self.path(f)) for f in ("out.csv", "side.csv", "dead.csv")}

    def old(self):
        return {f: ("old " + f + "\n").encode() for f in ("out.csv", "side.csv", "dead.csv")}

    def model(self):
        """out.csv and side.csv as Python's csv reads the input (the oracle)."""
        if BackgroundSyncTest.cached_model is None:
            BackgroundSyncTest.cached_model = self.read_model()
        return BackgroundSyncTest.cached_model

    def read_model(self):
        with open(self.input, encoding="utf-8", newline="") as f:
            records = list(csv.reader(f))
        header, body = records[0], records[1:]
        out, side = [header], [header]
        for rec in body:
            i = int(rec[0])
            if i % 11 == 0:
                continue
            (side if i % 7 == 0 else out).append(rec)
        return out, side

    def test_outputs_equal_the_model(self):
        r = run(["run", self.yaml], timeout=300)
        self.assertEqual(r.code, 0, repr(r))
        out, side = self.model()
        self.assertEqual(csv_rows(self.path("out.csv")), out)
        self.assertEqual(csv_rows(self.path("side.csv")), side)
        dead = list(csv.DictReader(io.StringIO(read(self.path("dead.csv")).decode(), newline="")))
        self.assertEqual(len(dead), sum(1 for i in range(1, ROWS + 1) if i % 11 == 0))
        self.assertEqual(leftovers(self.dir), [])

    def test_a_failed_background_sync_of_any_file_publishes_nothing(self):
        # The n-th sync of the run fails: with three files synced every 8 MiB, the first
        # few fall on different files, all of them in the background.
        for n in (1, 2, 3, 5):
            with self.subTest(failing_sync=n):
                faults = f"sync:EIO:{n}"  # the first n syncs fail
                r = run(["run", self.yaml], env={"FLOWENGINE_TEST_FAULTS": faults}, timeout=300)
                self.assertEqual(r.code, 1, repr(r))
                self.assertIn("FE-OUTPUT-WRITE", r.err)
                self.assertIn("Flushing the output to disk failed: Input/output error", r.err)
                self.assertEqual(self.outputs(), self.old())
                self.assertEqual(leftovers(self.dir), [])

    def stop_at(self, sig, delay):
        """Sends `sig` `delay` seconds after the run took its output locks (its signal
        handlers are in place by then, however slowly the binary starts: ASan)."""
        proc = spawn(["run", self.yaml], stderr_path=self.path("err.txt"))
        locked = lambda: os.path.exists(self.path(".out.csv.flowengine-lock"))
        self.assertTrue(wait_for(lambda: locked() or proc.poll() is not None, 30))
        time.sleep(delay)
        sent = time.monotonic()
        proc.send_signal(sig)
        code = proc.wait(timeout=60)
        return code, time.monotonic() - sent

    def test_signals_while_syncs_are_in_flight(self):
        out, side = self.model()
        for sig, want in ((signal.SIGTERM, 143), (signal.SIGINT, 130), (signal.SIGKILL, -9)):
            for delay in (0.1, 0.2, 0.3, 0.4):
                with self.subTest(signal=sig.name, delay=delay):
                    code, seconds = self.stop_at(sig, delay)
                    err = read(self.path("err.txt")).decode("utf-8", "replace")
                    os.unlink(self.path("err.txt"))
                    got = self.outputs()
                    for name, data in self.old().items():  # the next case starts afresh
                        write(self.path(name), data)
                    if code == 0:  # finished before the signal: the complete new set
                        self.assertEqual(csv_rows(got["out.csv"]), out)
                        self.assertEqual(csv_rows(got["side.csv"]), side)
                        continue
                    self.assertEqual(code, want, err)
                    self.assertLess(seconds, STOP_SECONDS, err)
                    if sig == signal.SIGKILL:
                        # A kill -9 inside the commit leaves a journal: the next run (or
                        # validate) completes it. Before the commit it leaves nothing named
                        # (O_TMPFILE); it cannot remove its lock files.
                        journal = [f for f in os.listdir(self.dir) if f.endswith("-journal")]
                        if journal:
                            v = run(["validate", self.yaml])
                            self.assertEqual(v.code, 0, repr(v))
                            got = self.outputs()
                            for name, data in self.old().items():
                                write(self.path(name), data)
                        if got != self.old():
                            self.assertEqual(csv_rows(got["out.csv"]), out)
                            self.assertEqual(csv_rows(got["side.csv"]), side)
                        if leftovers(self.dir):
                            # Killed inside the commit before its journal was in place: the
                            # temps are named and the journal's own temp exists. Nothing was
                            # published (checked above); the next run removes them all.
                            self.assertEqual(got, self.old(), err)
                            v = run(["run", self.yaml], timeout=300)
                            self.assertEqual(v.code, 0, repr(v))
                            self.assertIn("a temp file left by an interrupted run", v.err)
                            for name, data in self.old().items():
                                write(self.path(name), data)
                    else:
                        self.assertEqual(got, self.old(), err)
                    self.assertEqual(leftovers(self.dir), [], err)
                    for f in os.listdir(self.dir):
                        if f.endswith("-lock"):
                            os.unlink(self.path(f))

if __name__ == "__main__":
    unittest.main()
