"""`flowengine bench` through the real binary: the real targets are never touched (an existing
`create` target, a route, dead letters, a sink in a directory that does not exist), the
scratch directory is gone afterwards (also after SIGINT), the JSON result is consistent
(rows/s x median wall = rows; per-run figures; the machine), --compare fails against a
doctored baseline ten times as fast with FE-BENCH-REGRESSION naming a stage and passes against
its own result, --budget 0.001% fails with FE-BENCH-NOISY, a baseline from elsewhere is a
warning, a bad baseline exit 2, a failing pipeline's own error and exit code come through."""
import json
import os
import signal
import subprocess
import time

from harness import (BIN, TempDirTest, generate, read, run, slow_pipeline, snapshot, wait_for,
                     write)

ROWS = 20000

PIPELINE = """
source:
  path: in.csv
  columns: [{ name: id, type: int64, required: true }, { name: age, type: int32 }]
transform:
  - javascript:
      code: |
        function process(context) {
          const row = context.input.current();
          if (row.id % 1000 === 0) context.route.sendCopy('review');
          return true;
        }
routes:
  review: { path: out/review.csv, outputMode: create }
sink: { path: out/customers.csv, outputMode: create }
errorHandling: skip-row
deadLetter: { path: out/rejects.csv, outputMode: create }
"""


class BenchCommandTest(TempDirTest):
    def setUp(self):
        super().setUp()
        generate(self.path("in.csv"), ROWS)
        os.mkdir(self.path("out"))
        for name in ["customers.csv", "review.csv", "rejects.csv"]:
            write(self.path("out", name), "keep me\n")
        os.mkdir(self.path("tmp"))
        self.env = {"TMPDIR": self.path("tmp")}
        self.p = self.pipeline(PIPELINE)

    def bench(self, *args, env=None):
        return run(["bench", self.p, "--warmup", "0"] + list(args), env=dict(self.env, **(env or {})),
                   timeout=300)

    def test_targets_untouched_and_json_consistent(self):
        before = snapshot(self.path("out"))
        r = self.bench("--runs", "3", "--budget", "1000", "--json", self.path("b.json"))
        self.assertEqual(r.code, 0, repr(r))
        self.assertEqual(snapshot(self.path("out")), before)
        self.assertEqual(os.listdir(self.path("tmp")), [], "scratch directory left behind")
        self.assertIn("rows/s", r.err)  # the table
        b = json.loads(read(self.path("b.json")))
        self.assertEqual(b["flowengine_bench"], 1)
        self.assertEqual(b["rows"], ROWS)
        header = read(self.path("in.csv")).index(b"\n") + 1  # bytes_read counts the records
        self.assertEqual(b["input_bytes"], os.path.getsize(self.path("in.csv")) - header)
        self.assertEqual(b["runs"], 3)
        self.assertEqual(len(b["per_run"]), 3)
        self.assertEqual(b["mode"], "child-process")
        for key in ["cpu_model", "cores", "kernel", "threads"]:
            self.assertIn(key, b["machine"])
        self.assertTrue(b["version"])
        f = b["figures"]
        self.assertAlmostEqual(f["rows_per_second"]["median"] * f["wall_seconds"]["median"],
                               ROWS, delta=ROWS * 1e-4)
        self.assertAlmostEqual(f["mb_per_second"]["median"] * f["wall_seconds"]["median"] * 1e6,
                               b["input_bytes"], delta=b["input_bytes"] * 1e-4)
        walls = sorted(r["wall_seconds"] for r in b["per_run"])
        self.assertAlmostEqual(f["wall_seconds"]["median"], walls[1], places=5)
        self.assertEqual(f["wall_seconds"]["min"], min(walls))
        for stage in ["read", "parse", "transform", "format", "write"]:
            self.assertGreaterEqual(f["busy_ns_per_row"][stage]["median"], 0)
        self.assertGreater(f["busy_ns_per_row"]["transform"]["median"], 0)
        for run_ in b["per_run"]:
            self.assertGreater(run_["cpu_seconds"], 0)
            self.assertGreater(run_["peak_rss_bytes"], 1 << 20)
            self.assertEqual(run_["stage_rows"]["parse"]["in"], ROWS)
            self.assertEqual(run_["stage_rows"]["transform"]["out"], ROWS)
        self.assertFalse(b["verdict"]["noisy"])
        self.assertIsNone(b["verdict"]["regression"])

    def test_missing_target_directory_does_not_matter(self):
        p = self.pipeline(PIPELINE.replace("out/", "nowhere/"), "p2.yaml")
        r = run(["bench", p, "--runs", "2", "--warmup", "0", "--budget", "1000"], env=self.env,
                timeout=300)
        self.assertEqual(r.code, 0, repr(r))
        self.assertFalse(os.path.exists(self.path("nowhere")))

    def test_compare_fails_against_a_faster_baseline_and_passes_against_its_own(self):
        r = self.bench("--runs", "3", "--budget", "1000", "--json", self.path("b.json"))
        self.assertEqual(r.code, 0, repr(r))
        b = json.loads(read(self.path("b.json")))
        # Its own result passes (the path tested here, not the threshold's precision): 95% is
        # wide enough for a loaded CI machine's noise, also under ASan.
        same = self.bench("--runs", "3", "--budget", "1000", "--compare", self.path("b.json"),
                          "--threshold", "95%")
        self.assertEqual(same.code, 0, repr(same))
        self.assertIn("compared with", same.err)
        self.assertNotIn("measured elsewhere", same.err)
        # Ten times as fast, with every stage but parse far slower than now (so parse alone
        # grew): margins far beyond the noise between two benches on a loaded machine.
        fast = json.loads(json.dumps(b))
        fast["figures"]["rows_per_second"]["median"] *= 10
        for stage, figure in fast["figures"]["busy_ns_per_row"].items():
            figure["median"] = figure["median"] * 10 + 10000
        fast["figures"]["busy_ns_per_row"]["parse"]["median"] = 0
        write(self.path("fast.json"), json.dumps(fast))
        slow = self.bench("--runs", "3", "--budget", "1000", "--compare", self.path("fast.json"),
                          "--json", self.path("c.json"))
        self.assertEqual(slow.code, 1, repr(slow))
        self.assertIn("FE-BENCH-REGRESSION", slow.err)
        self.assertIn("grew most: parse (0 ->", slow.err)
        self.assertIn("below the baseline's", slow.err)
        c = json.loads(read(self.path("c.json")))
        self.assertIn("parse", c["verdict"]["regression"])

    def test_a_baseline_from_elsewhere_is_a_warning(self):
        r = self.bench("--runs", "2", "--budget", "1000", "--json", self.path("b.json"))
        self.assertEqual(r.code, 0, repr(r))
        b = json.loads(read(self.path("b.json")))
        b["machine"]["cpu_model"] = "Some Other CPU"
        b["version"] = "0.0.1"
        b["figures"]["rows_per_second"]["median"] /= 10
        write(self.path("other.json"), json.dumps(b))
        r = self.bench("--runs", "2", "--budget", "1000", "--compare", self.path("other.json"))
        self.assertEqual(r.code, 0, repr(r))
        self.assertIn("measured elsewhere", r.err)
        self.assertIn("Some Other CPU", r.err)
        self.assertIn("flowengine 0.0.1", r.err)

    def test_noisy_figures_fail(self):
        r = self.bench("--runs", "3", "--budget", "0.001%")
        self.assertEqual(r.code, 1, repr(r))
        self.assertIn("FE-BENCH-NOISY", r.err)
        self.assertIn("0.0% budget", r.err.replace("0.001", "0.0"))

    def test_bad_baselines_and_options(self):
        write(self.path("bad.json"), "{ not json")
        r = self.bench("--compare", self.path("bad.json"))
        self.assertEqual(r.code, 2, repr(r))
        self.assertIn("FE-BENCH-BASELINE", r.err)
        write(self.path("other.json"), '{"pipeline": "x"}')
        r = self.bench("--compare", self.path("other.json"))
        self.assertEqual(r.code, 2, repr(r))
        self.assertIn("not a flowengine bench result", r.err)
        r = self.bench("--compare", self.path("missing.json"))
        self.assertEqual(r.code, 2, repr(r))
        for bad in [["--runs", "0"], ["--budget", "x"], ["--threshold", "-1"], ["--warmup", "-1"]]:
            r = self.bench(*bad)
            self.assertEqual(r.code, 2, f"{bad}: {r!r}")
        self.assertEqual(os.listdir(self.path("tmp")), [])

    def test_the_json_result_may_not_overwrite_a_pipeline_file(self):
        os.symlink(self.path("in.csv"), self.path("link.json"))
        before = snapshot(self.dir)
        for target in [self.path("in.csv"), self.path("link.json"), self.p,
                       self.path("out", "customers.csv"), self.path("out", "../in.csv")]:
            r = self.bench("--json", target)
            self.assertEqual(r.code, 2, f"{target}: {r!r}")
            self.assertIn("FE-CONFIG-ALIAS", r.err)
        write(self.path("base.json"), "{}")
        r = self.bench("--json", self.path("base.json"), "--compare", self.path("base.json"))
        self.assertEqual(r.code, 2, repr(r))
        self.assertIn("FE-CONFIG-ALIAS", r.err)
        os.unlink(self.path("base.json"))
        self.assertEqual(snapshot(self.dir), before)

    def test_a_failing_pipeline_reports_its_own_error(self):
        p = self.pipeline(PIPELINE.replace("return true;", "throw new Error('boom');")
                          .replace("errorHandling: skip-row\n", "")
                          .replace("deadLetter: { path: out/rejects.csv, outputMode: create }\n",
                                   ""), "p3.yaml")
        before = snapshot(self.path("out"))
        r = run(["bench", p, "--runs", "2"], env=self.env, timeout=300)
        self.assertEqual(r.code, 1, repr(r))
        self.assertIn("FE-SCRIPT-ERROR", r.err)
        self.assertIn("boom", r.err)
        self.assertIn("run 1 of the pipeline failed", r.err)
        self.assertEqual(snapshot(self.path("out")), before)
        self.assertEqual(os.listdir(self.path("tmp")), [])
        # A configuration error is found before any run: exit 2.
        r = run(["bench", self.p, "--set", "sink.format=xml"], env=self.env)
        self.assertEqual(r.code, 2, repr(r))
        self.assertIn("FE-CONFIG-VALUE", r.err)

    def test_sigint_stops_the_bench_and_removes_the_scratch(self):
        generate(self.path("in.csv"), 400000)
        before = snapshot(self.path("out"))
        env = dict(os.environ, FLOWENGINE_LOG_FORMAT="text", **self.env)
        p = subprocess.Popen([BIN, "bench", self.p, "--runs", "50"], env=env,
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        # Wait until a run is under way (its scratch directory exists), then interrupt.
        self.assertTrue(wait_for(lambda: os.listdir(self.path("tmp")) != [], timeout=30))
        time.sleep(0.5)
        p.send_signal(signal.SIGINT)
        _, err = p.communicate(timeout=60)
        self.assertEqual(p.returncode, 130, err.decode())
        self.assertEqual(os.listdir(self.path("tmp")), [])
        self.assertEqual(snapshot(self.path("out")), before)

    def test_a_bench_killed_with_sigkill_takes_its_run_with_it(self):
        slow = self.pipeline(slow_pipeline("out/slow.csv"), name="slow.yaml")  # 20 s a run
        env = dict(os.environ, FLOWENGINE_LOG_FORMAT="text", **self.env)
        p = subprocess.Popen([BIN, "bench", slow, "--runs", "3", "--warmup", "0"], env=env,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.assertTrue(wait_for(lambda: os.listdir(self.path("tmp")) != [], timeout=30))
        children = []
        self.assertTrue(wait_for(lambda: children.extend(child_pids(p.pid)) or children,
                                 timeout=30))
        p.send_signal(signal.SIGKILL)
        p.wait(timeout=30)
        # The run (a child of the bench) ends too, rather than running on as an orphan.
        gone = wait_for(lambda: not any(alive(c) for c in children), timeout=5)
        for c in children:
            if alive(c):
                os.kill(c, signal.SIGKILL)
        self.assertTrue(gone, f"runs still alive 5 s after the bench was killed: {children}")


def child_pids(pid):
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return [int(x) for x in f.read().split()]
    except OSError:
        return []


def alive(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(") ")[-1].split()[0] != "Z"
    except OSError:
        return False
