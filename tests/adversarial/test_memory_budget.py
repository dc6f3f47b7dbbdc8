"""limits.memory as a hard budget: a script whose output is far larger than its input, under
a small budget, fails cleanly with FE-RESOURCE-MEMORY (nothing committed, memory use bounded)
instead of growing; an ordinary transform under a small budget succeeds with its reported
peak — transform outputs, routes and dead letters included — within the budget."""
import json
import os
import unittest

from harness import TempDirTest, generate, read, run, write

GROW = """
function process(context) {
  context.output.setField('big', 'x'.repeat(200000));
  if (context.input.getValue('id') % 7 === 0) context.route.sendCopy('side');
  return true;
}
"""

ENRICH = """
function process(context) {
  const row = context.input.current();
  context.output.setField('full_name', row.first_name + ' ' + row.last_name);
  if (row.id % 50 === 0) throw new Error('bad ' + row.id);
  if (row.id % 7 === 0) context.route.sendCopy('side');
  return true;
}
"""


class MemoryBudgetTest(TempDirTest):
    def pipeline_for(self, script, output, memory):
        write(self.path("t.js"), script)
        return self.pipeline(f"""
source: {{ path: in.csv }}
transform:
  - javascript: {{ file: t.js, output: {output} }}
sink: {{ path: out.csv, outputMode: replace }}
routes:
  side: {{ path: side.csv, outputMode: replace }}
errorHandling: skip-row
deadLetter: {{ path: dead.csv, outputMode: replace }}
limits: {{ memory: {memory}, threads: 2, blockSize: 64KiB }}
""")

    def test_output_far_larger_than_input_fails_cleanly(self):
        generate(self.path("in.csv"), 20000)
        write(self.path("out.csv"), "old\n")
        p = self.pipeline_for(GROW, "[id, big]", "16MiB")
        r = run(["run", p, "--summary", self.path("s.json")])
        self.assertEqual(r.code, 1, repr(r))
        self.assertIn("FE-RESOURCE-MEMORY", r.err)
        self.assertIn("limits.memory (16 MiB) is spent", r.err)
        # The error names the input file and the line of the block (text: "file:line: error").
        self.assertIn(self.path("in.csv") + ":", r.err)
        self.assertEqual(read(self.path("out.csv")), b"old\n")
        summary = json.loads(read(self.path("s.json")))
        self.assertLessEqual(summary["memory"]["peak_bytes"], 16 << 20)

    def test_ordinary_transform_stays_within_a_small_budget(self):
        generate(self.path("in.csv"), 100000)
        p = self.pipeline_for(ENRICH, "[id, full_name, email, city]", "12MiB")
        r = run(["run", p, "--summary", self.path("s.json")])
        self.assertEqual(r.code, 0, repr(r))
        summary = json.loads(read(self.path("s.json")))
        peak = summary["memory"]["peak_bytes"]
        self.assertLessEqual(peak, 12 << 20)
        self.assertGreater(peak, 0)
        self.assertEqual(summary["rows"]["rejected"], 100000 // 50)


if __name__ == "__main__":
    unittest.main()
