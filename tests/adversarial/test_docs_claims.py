"""Claims of the documentation checked against the binary: the README's example pipeline runs
and fills every output column; a limits.threads above the CPUs keeps stderr pure JSON lines
and reports the threads the run really had; logging options shape how a bad option is
reported and name the right source; `inspect --help` lists its options; a fail-fast stray
quote is reported as one."""
import json
import os
import re
import unittest

from harness import TempDirTest, csv_rows, generate, json_lines, read, run, write

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")


class DocsClaimsTest(TempDirTest):
    def test_readme_example_runs_and_fills_every_column(self):
        readme = read(os.path.join(ROOT, "README.md")).decode()
        yaml = re.search(r"```yaml\n(pipeline: customers\n.*?)```", readme, re.S).group(1)
        os.makedirs(self.path("data"))
        os.makedirs(self.path("out"))
        generate(self.path("data", "customers.csv"), 500)
        p = self.pipeline(yaml)
        r = run(["run", p])
        self.assertEqual(r.code, 0, repr(r))
        rows = csv_rows(read(self.path("out", "customers.tsv")), delimiter="\t")
        self.assertEqual(rows[0], ["id", "full_name", "amount"])
        for row in rows[1:]:
            self.assertTrue(row[0] and row[1], row)

    def test_threads_above_the_cpus_keep_json_logs_and_report_real_threads(self):
        generate(self.path("in.csv"), 2000)
        p = self.pipeline("source: { path: in.csv }\nsink: { path: out.csv }\n"
                          "limits: { threads: 9 }\n")
        r = run(["run", p, "--summary", self.path("s.json")], env={"FLOWENGINE_LOG_FORMAT": "json"},
                check_accounting=False)
        self.assertEqual(r.code, 0, repr(r))
        for line in r.err.splitlines():
            json.loads(line)  # every stderr line is one JSON object (no TBB warning, no blank)
        self.assertEqual(json.loads(read(self.path("s.json")))["threads"], 9)

    def test_log_options_shape_the_report_of_a_bad_option(self):
        generate(self.path("in.csv"), 10)
        p = self.pipeline("source: { path: in.csv }\nsink: { path: out.csv }\n")
        r = run(["validate", p, "--log-level", "loud", "--log-format", "text"],
                env={"FLOWENGINE_LOG_FORMAT": "json"})
        self.assertEqual(r.code, 2)
        self.assertIn("flowengine: error FE-USAGE", r.err)       # text, as asked
        self.assertIn("Unknown --log-level 'loud'", r.err)
        self.assertNotIn("FLOWENGINE_LOG_LEVEL", r.err)          # the option, not the variable
        e = run(["validate", p, "--log-format", "text"], env={"FLOWENGINE_LOG_LEVEL": "loud"})
        self.assertEqual(e.code, 0, repr(e))
        self.assertEqual(e.err.count("Ignoring FLOWENGINE_LOG_LEVEL='loud'"), 1, e.err)
        self.assertFalse(e.err.lstrip().startswith("{"), e.err)  # text, as asked

    def test_inspect_help_lists_its_options(self):
        r = run(["inspect", "--help"])
        self.assertEqual(r.code, 0)
        for option in ["--format", "--set", "--log-level", "--log-format"]:
            self.assertIn(option, r.out)

    def test_fail_fast_stray_quote_without_a_later_quote(self):
        write(self.path("in.csv"), 'id,name\n1,x"y\n2,z\n')
        p = self.pipeline("source: { path: in.csv }\nsink: { path: out.csv }\n")
        r = run(["run", p])
        self.assertEqual(r.code, 1)
        self.assertIn("in.csv:2:4: error FE-INPUT-STRAY-QUOTE", r.err)
        self.assertNotIn("UNTERMINATED", r.err)

    def test_summary_of_a_failed_run_has_the_whole_error(self):
        write(self.path("in.csv"), "id,age\n1,5\n2,x\n")
        p = self.pipeline("source:\n  path: in.csv\n  columns: [{ name: age, type: int32 }]\n"
                          "sink: { path: out.csv }\n")
        r = run(["run", p, "--summary", self.path("s.json")])
        self.assertEqual(r.code, 1)
        s = json.loads(read(self.path("s.json")))
        self.assertEqual(s["rows"]["read"], 1)
        e = s["error"]
        self.assertEqual((e["code"], e["line"], e["column"], e["byte_offset"], e["field"]),
                         ("FE-SCHEMA-TYPE", 3, 3, 13, "age"))


if __name__ == "__main__":
    unittest.main()
