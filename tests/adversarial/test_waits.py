"""Every wait ends on time: retry backoffs of reads and writes and the wait for another run's
lock end at limits.timeout (FE-RESOURCE-TIMEOUT) and at the first SIGTERM/SIGINT (exit
143/130), however long the configured delays; nothing is committed or left behind."""
import os
import signal
import time
import unittest

from harness import SANITIZED, TempDirTest, read, run, spawn, wait_for, wait_for_lock, write

HOUR = "retry: { attempts: 100, initialDelay: 1h, maxDelay: 1h }\n"
# What is ruled out is an hour-long backoff: the bounds below leave room for the process's
# start and exit, several times slower under ASan (with its leak check at exit).
TIMEOUT_RUN_SECONDS = 10.0 if SANITIZED else 3.0  # a whole run with limits.timeout 1s
SIGNAL_EXIT_SECONDS = 5.0 if SANITIZED else 1.0  # from the signal to the exit


class WaitsTest(TempDirTest):
    def setUp(self):
        super().setUp()
        write(self.path("in.csv"), "id\n" + "".join(f"{i}\n" for i in range(100)))
        write(self.path("out.csv"), "old\n")

    def pipeline_with(self, extra):
        return self.pipeline("source: { path: in.csv }\n"
                             "sink: { path: out.csv, outputMode: replace }\n" + HOUR + extra)

    def timed(self, args, env=None):
        start = time.monotonic()
        r = run(args, env=env, timeout=60)
        return r, time.monotonic() - start

    def assert_untouched(self):
        self.assertEqual(read(self.path("out.csv")), b"old\n")
        self.assertEqual(sorted(f for f in os.listdir(self.dir) if "flowengine" in f), [])

    def test_read_retries_end_at_the_job_timeout(self):
        p = self.pipeline_with("limits: { timeout: 1s }\n")
        r, seconds = self.timed(["run", p], env={"FLOWENGINE_TEST_FAULTS": "read:EIO:90"})
        self.assertEqual(r.code, 1, repr(r))
        self.assertIn("FE-RESOURCE-TIMEOUT", r.err)
        self.assertLess(seconds, TIMEOUT_RUN_SECONDS)
        self.assert_untouched()

    def test_write_retries_end_at_the_job_timeout(self):
        p = self.pipeline_with("limits: { timeout: 1s }\n")
        r, seconds = self.timed(["run", p], env={"FLOWENGINE_TEST_FAULTS": "write:EIO:90"})
        self.assertEqual(r.code, 1, repr(r))
        self.assertIn("FE-RESOURCE-TIMEOUT", r.err)
        self.assertLess(seconds, TIMEOUT_RUN_SECONDS)
        self.assert_untouched()

    def signal_during_retries(self, sig, want):
        p = self.pipeline_with("")
        proc = spawn(["run", p], env={"FLOWENGINE_TEST_FAULTS": "read:EIO:90"},
                     stderr_path=self.path("err.txt"))
        self.assertTrue(wait_for(lambda: b"retry 1/" in read(self.path("err.txt")), 10))
        start = time.monotonic()
        proc.send_signal(sig)
        code = proc.wait(timeout=30)
        self.assertLess(time.monotonic() - start, SIGNAL_EXIT_SECONDS)
        self.assertEqual(code, want, read(self.path("err.txt")))
        os.unlink(self.path("err.txt"))
        self.assert_untouched()

    def test_sigterm_ends_a_retry_wait(self):
        self.signal_during_retries(signal.SIGTERM, 143)

    def test_sigint_ends_a_retry_wait(self):
        self.signal_during_retries(signal.SIGINT, 130)

    def test_waiting_for_another_runs_lock_ends_at_the_timeout_and_at_a_signal(self):
        os.mkfifo(self.path("in.fifo"))
        holder_yaml = self.pipeline("source: { path: in.fifo }\n"
                                    "sink: { path: out.csv, outputMode: replace }\n", "holder.yaml")
        holder = spawn(["run", holder_yaml], stderr_path=self.path("holder.txt"))
        fifo = open(self.path("in.fifo"), "w")
        fifo.write("id\n1\n")
        fifo.flush()
        try:
            # The holder has the lock once its pid is in the lock file (the file is created
            # before it is locked).
            self.assertTrue(wait_for_lock(holder, self.path("out.csv")), read(self.path("holder.txt")))
            p = self.pipeline_with("limits: { timeout: 1s }\n")
            r, seconds = self.timed(["run", p])
            self.assertEqual(r.code, 1, repr(r))
            self.assertIn("FE-RESOURCE-TIMEOUT", r.err)
            self.assertLess(seconds, TIMEOUT_RUN_SECONDS)
            waiter = spawn(["run", self.pipeline_with("")], stderr_path=self.path("w.txt"))
            self.assertTrue(wait_for(lambda: b"retry 1/" in read(self.path("w.txt")), 10))
            start = time.monotonic()
            waiter.send_signal(signal.SIGTERM)
            self.assertEqual(waiter.wait(timeout=30), 143)
            self.assertLess(time.monotonic() - start, SIGNAL_EXIT_SECONDS)
        finally:
            fifo.close()
            self.assertEqual(holder.wait(timeout=30), 0, read(self.path("holder.txt")))


class AppendTest(TempDirTest):
    def test_append_to_crlf_and_lf_targets_keeps_their_line_endings(self):
        write(self.path("in.csv"), "id,v\n3,c\n4,d\n")
        for ending in ["\r\n", "\n"]:
            for last_newline in [True, False]:
                body = ending.join(["id,v", "1,a", "2,b"]) + (ending if last_newline else "")
                write(self.path("out.csv"), body)
                p = self.pipeline("source: { path: in.csv }\n"
                                  "sink: { path: out.csv, outputMode: append }\n")
                r = run(["run", p])
                self.assertEqual(r.code, 0, repr(r))
                want = ending.join(["id,v", "1,a", "2,b", "3,c", "4,d"]) + ending
                self.assertEqual(read(self.path("out.csv")).decode(), want, repr((ending, last_newline)))

    def test_append_with_lineending_crlf_to_an_lf_target_follows_the_target(self):
        write(self.path("in.csv"), "id\n2\n")
        write(self.path("out.csv"), "id\n1\n")
        p = self.pipeline("source: { path: in.csv }\n"
                          "sink: { path: out.csv, outputMode: append, lineEnding: crlf }\n")
        r = run(["run", p])
        self.assertEqual(r.code, 0, repr(r))
        self.assertEqual(read(self.path("out.csv")), b"id\n1\n2\n")
        self.assertIn("appending with LF line endings", r.err)

    def test_append_to_a_lone_cr_target_is_refused(self):
        write(self.path("in.csv"), "id\n2\n")
        write(self.path("out.csv"), "id\r1\r")
        p = self.pipeline("source: { path: in.csv }\nsink: { path: out.csv, outputMode: append }\n")
        r = run(["run", p])
        self.assertEqual(r.code, 1, repr(r))
        self.assertIn("lone CR", r.err)
        self.assertEqual(read(self.path("out.csv")), b"id\r1\r")


class StrictYamlTest(TempDirTest):
    def test_duplicate_keys_everywhere(self):
        write(self.path("in.csv"), "id\n1\n")
        cases = {
            "top": "source: { path: in.csv }\nsink: { path: a.csv }\nsink: { path: b.csv }\n",
            "nested": "source: { path: in.csv, path: other.csv }\nsink: { path: a.csv }\n",
            "block": "source:\n  path: in.csv\n  header: true\n  header: false\nsink: { path: a.csv }\n",
            "limits": "source: { path: in.csv }\nsink: { path: a.csv }\n"
                      "limits: { threads: 1, threads: 2 }\n",
            "route": "source: { path: in.csv }\nsink: { path: a.csv }\nroutes:\n"
                     "  r: { path: r.csv }\n  r: { path: s.csv }\n",
        }
        for name, yaml in cases.items():
            p = self.pipeline(yaml)
            for command in ("validate", "run"):
                r = run([command, p])
                self.assertEqual(r.code, 2, f"{name} {command}: {r!r}")
                self.assertIn("FE-CONFIG-DUPLICATE-KEY", r.err, name)
                self.assertIn("(first at line", r.err, name)
            self.assertFalse(os.path.exists(self.path("a.csv")))


if __name__ == "__main__":
    unittest.main()
