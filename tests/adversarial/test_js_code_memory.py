"""V8's code memory while scripts run (EngineOptions::trusted_scripts, core/js/v8_platform.cc):
`flowengine run` runs the pipeline author's own scripts and leaves V8's code pages writable
(rwx) between compiles, which its first blocks run faster for; `flowengine serve` runs its
clients' scripts and must keep them write-protected (not writable and executable at once),
with warm isolates and without. The oracle is the process's own memory map, read from
/proc/PID/maps every 10 ms while a script is running: `run` shows rwx code pages in nearly
every read, serve in none (V8 itself may leave one for an instant: at most a tenth)."""
import os
import subprocess
import time

from harness import BIN, TempDirTest, generate, write
from serve_client import Server

# A script that keeps the process running for a while, with compiled code in its isolate.
BUSY = """function process(context) {
  const t = Date.now();
  while (Date.now() - t < 150) {}
  context.output.setField('email', String(context.input.getValue('id')));
  return true;
}
"""


def writable_code_mappings(pid):
    """The process's mappings that are writable and executable at once (None once it has
    ended)."""
    try:
        with open(f"/proc/{pid}/maps") as f:
            return [line for line in f if line.split()[1].startswith("rwx")]
    except (FileNotFoundError, ProcessLookupError):
        return None


def watch(pid, while_running, timeout=30):
    """Reads the process's maps every 10 ms while `while_running()`: (how many reads, how
    many of them found a mapping both writable and executable)."""
    reads, writable = 0, 0
    deadline = time.monotonic() + timeout
    while while_running() and time.monotonic() < deadline:
        found = writable_code_mappings(pid)
        if found is None:
            break
        reads += 1
        writable += 1 if found else 0
        time.sleep(0.01)
    return reads, writable


class CodeMemoryTest(TempDirTest):
    def setUp(self):
        super().setUp()
        os.makedirs(self.path("data", "in"))
        os.makedirs(self.path("data", "out"))
        os.makedirs(self.path("pipelines"))
        generate(self.path("data", "in", "small.csv"), 12)
        write(self.path("pipelines", "busy.js"), BUSY)
        write(self.path("pipelines", "busy.yaml"),
              f"pipeline: busy\nsource: {{ path: {self.path('data', 'in', 'small.csv')} }}\n"
              "transform:\n  - javascript: { file: busy.js, output: [id, email] }\n"
              f"sink: {{ path: {self.path('data', 'out', 'busy.csv')}, outputMode: replace }}\n"
              "limits: { threads: 2 }\n")

    def test_run_leaves_code_writable_for_its_authors_scripts(self):
        p = subprocess.Popen([BIN, "run", self.path("pipelines", "busy.yaml")],
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        reads, writable = watch(p.pid, lambda: p.poll() is None)
        _, err = p.communicate(timeout=60)
        self.assertEqual(p.returncode, 0, err.decode())
        self.assertGreater(reads, 10, "the run ended before its memory map could be read")
        # Writable from the isolates' creation to the end (the first reads come before it).
        self.assertGreater(writable, reads // 2, f"flowengine run: {writable} of {reads} reads")

    def test_serve_keeps_code_write_protected(self):
        for extra in ([], ["--warm-isolates", "0"]):
            with self.subTest(extra=extra):
                server = Server(BIN, self.path("pipelines"), [self.path("data")], extra,
                                log_path=self.path(f"serve{len(extra)}.log"))
                try:
                    for _ in range(2):  # a cold isolate, then (with warm isolates) a warm one
                        run_id = server.submit("busy")
                        state = {"done": False}

                        def running():
                            if not state["done"]:
                                doc = server.run_state(run_id)
                                state["done"] = doc["state"] in ("succeeded", "failed",
                                                                 "cancelled")
                            return not state["done"]

                        reads, writable = watch(server.proc.pid, running)
                        self.assertEqual(server.wait(run_id)["state"], "succeeded")
                        self.assertGreater(reads, 10, "the run ended before it could be watched")
                        # V8 itself may leave a page rwx for an instant (seen in 1 of ~160
                        # reads); never for the run, as without the protection.
                        self.assertLess(writable, reads // 10,
                                        f"serve {extra}: {writable} of {reads} reads")
                finally:
                    server.stop()


if __name__ == "__main__":
    import unittest
    unittest.main()
