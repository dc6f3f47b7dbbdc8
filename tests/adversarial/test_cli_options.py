"""Command-line options, attacked: an empty value (`--summary "$UNSET"`) must be an error,
not the option silently turned off; --sample is bounded (its rows are held in memory); a
value with line breaks or terminal escapes cannot forge a line of the text log."""
import json
import os
import signal
import subprocess
import time
import unittest

from harness import BIN, TempDirTest, read, run, slow_pipeline, wait_for, write


class OptionValueTest(TempDirTest):
    def setUp(self):
        super().setUp()
        write(self.path("in.csv"), "id,v\n1,a\n")
        self.yaml = self.pipeline("""
source: { path: in.csv }
sink: { path: out.csv, outputMode: replace }
""")

    def test_an_empty_value_is_a_usage_error(self):
        for option in ("--summary", "--trace", "--metrics-file", "--listen", "--sample-dir",
                       "--set", "--log-level"):
            for form in ([option, ""], [option + "="]):
                r = run(["run", self.yaml] + form)
                self.assertCode(r, "FE-USAGE", exit_code=2)
                self.assertIn(f"{option} needs a value, got an empty one", r.err)
                self.assertFalse(os.path.exists(self.path("out.csv")), form)

    def test_sample_is_bounded(self):
        for n in ("0", "10001", "99999999999999999999"):
            r = run(["run", self.yaml, "--sample", n])
            self.assertCode(r, "FE-USAGE", exit_code=2)
            self.assertIn("--sample needs a number of rows from 1 to 10000", r.err)
        r = run(["run", self.yaml, "--sample", "10000"])
        self.assertEqual(r.code, 0, repr(r))

    def test_values_cannot_forge_text_log_lines(self):
        r = run(["run", self.yaml, "--log-format", "text", "--set",
                 "pipeline=x\nflowengine: run 'forged' ok\x1b[31m\r"])
        self.assertEqual(r.code, 0, repr(r))
        for line in r.err.splitlines():  # every line is the engine's own
            self.assertTrue(line.startswith("flowengine: ") or line.startswith("  "), line)
        self.assertNotIn("\x1b", r.err)
        self.assertNotIn("\r", r.err)
        self.assertIn("x\\nflowengine: run 'forged' ok\\x1B[31m\\r", r.err)

    def test_an_existing_route_target_is_not_blamed_on_the_sink(self):
        yaml = self.pipeline("""
source: { path: in.csv }
transform:
  - javascript: { code: "function process(c) { c.route.send('r1'); return true; }" }
sink: { path: out.csv, outputMode: replace }
routes:
  r1: { path: r1.csv, outputMode: create }
""", name="routes.yaml")
        write(self.path("r1.csv"), "keep\n")
        r = run(["run", yaml])
        self.assertCode(r, "FE-OUTPUT-EXISTS", exit_code=1)
        self.assertIn("r1.csv", r.err)
        self.assertNotIn("sink.outputMode", r.err)

    def test_an_ipv6_listen_address_needs_brackets(self):
        r = run(["run", self.yaml, "--listen", "::1:0"])
        self.assertCode(r, "FE-OPS-LISTEN")
        self.assertIn("[HOST]:PORT", r.err)
        self.assertNotIn("0.0.0.0", r.err)
        self.assertFalse(os.path.exists(self.path("out.csv")))

    def test_an_interrupted_run_logs_the_rows_its_summary_counts(self):
        write(self.path("in.csv"), "id\n" + "".join(f"{i}\n" for i in range(3000)))
        yaml = self.pipeline(slow_pipeline(), name="slow.yaml")
        env = dict(os.environ, FLOWENGINE_LOG_FORMAT="text")
        p = subprocess.Popen([BIN, "run", yaml, "--summary", self.path("s.json")], env=env,
                             stderr=subprocess.PIPE)
        wait_for(lambda: os.path.exists(self.path(".out.csv.flowengine-lock")), timeout=30)
        time.sleep(0.5)
        p.send_signal(signal.SIGINT)
        _, err = p.communicate(timeout=60)
        self.assertEqual(p.returncode, 130, err.decode())
        read_rows = json.loads(read(self.path("s.json")))["rows"]["read"]
        self.assertGreater(read_rows, 0)
        self.assertIn(f"interrupted by SIGINT after {read_rows} rows read", err.decode())

    def test_a_failed_run_reports_the_bytes_it_read(self):
        write(self.path("in.csv"), "id\n" + "".join(f"{i}\n" for i in range(1000)))
        yaml = self.pipeline("""
source: { path: in.csv }
transform:
  - javascript: { code: "function process(c) { throw new Error('x'); }" }
sink: { path: out.csv, outputMode: replace }
""", name="fail.yaml")
        r = run(["run", yaml, "--summary", self.path("s.json"), "--metrics-file",
                 self.path("m.prom")])
        self.assertCode(r, "FE-SCRIPT-ERROR", exit_code=1)
        summary = json.loads(read(self.path("s.json")))
        metric = [line for line in read(self.path("m.prom")).decode().splitlines()
                  if line.startswith('flowengine_bytes_total{stage="read"}')]
        self.assertEqual(summary["rows"]["read"], 1000)
        # Every record's bytes (the header line is the source's own, not a block's).
        self.assertEqual(summary["bytes_read"], os.path.getsize(self.path("in.csv")) - len("id\n"))
        self.assertEqual(metric, [f'flowengine_bytes_total{{stage="read"}} {summary["bytes_read"]}'])


class SampleHeaderTest(TempDirTest):
    def test_sample_columns_never_repeat_a_column_name(self):
        write(self.path("in.csv"), "_line,_to,__line,x\n1,a,b,c\n")
        yaml = self.pipeline("""
source: { path: in.csv }
transform:
  - javascript: { code: "function process(c) { return true; }" }
sink: { path: out.csv, outputMode: replace }
""")
        os.mkdir(self.path("sd"))
        r = run(["run", yaml, "--sample", "5", "--sample-dir", self.path("sd")])
        self.assertEqual(r.code, 0, repr(r))
        with open(self.path("sd", "source.csv")) as f:
            self.assertEqual(f.read(), "___line,_line,_to,__line,x\n2,1,a,b,c\n")
        with open(self.path("sd", "transform.csv")) as f:
            self.assertEqual(f.read(), "___line,__to,_line,_to,__line,x\n2,main,1,a,b,c\n")
        # And FlowEngine reads them back (no two columns of one name).
        back = self.pipeline(f"""
source: {{ path: {self.path("sd", "transform.csv")} }}
sink: {{ path: back.csv, outputMode: replace }}
""", name="back.yaml")
        r = run(["run", back])
        self.assertEqual(r.code, 0, repr(r))


if __name__ == "__main__":
    unittest.main()
