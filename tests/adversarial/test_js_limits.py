"""Scripts that try to get around the limits, misuse the API, or throw a lot: SharedArrayBuffer
and Atomics.wait, WebAssembly memory, huge ArrayBuffers (refused within scriptHeap, with the
process staying small); API misuse reported at the user's line; console.* in the log with the
row's input line; 100,000 rows that each throw an error built from their input complete under
skip-row with a 64 MiB scriptHeap."""
import json
import os
import re
import subprocess
import tempfile
import unittest

from harness import BIN, TempDirTest, dead_letters, generate, read, run, write


class ScriptLimitsTest(TempDirTest):
    def pipeline_for(self, script, extra="", columns=""):
        write(self.path("t.js"), script)
        return self.pipeline(f"source: {{ path: in.csv{columns} }}\n"
                             "transform:\n  - javascript: { file: t.js }\n"
                             "sink: { path: out.csv, outputMode: replace }\n" + extra)

    def run_peak_rss(self, args):
        """Runs flowengine; returns (exit code, stderr, peak RSS in MiB of that child alone:
        wait4's usage, not RUSAGE_CHILDREN, which is the largest of every child this test
        process has reaped, earlier tests' runs included)."""
        with tempfile.TemporaryFile() as err:
            proc = subprocess.Popen([BIN] + args, stdout=subprocess.DEVNULL, stderr=err,
                                    env=dict(os.environ, FLOWENGINE_LOG_FORMAT="text"))
            _, status, usage = os.wait4(proc.pid, 0)
            proc.returncode = os.waitstatus_to_exitcode(status)  # reaped: Popen must not wait
            err.seek(0)
            return proc.returncode, err.read().decode(), usage.ru_maxrss / 1024

    def test_shared_memory_and_atomics_are_not_there(self):
        write(self.path("in.csv"), "id\n1\n")
        for code in ["Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0)",
                     "new SharedArrayBuffer(8)", "Atomics.add",
                     "new WebAssembly.Memory({ initial: 1, maximum: 65536 })"]:
            p = self.pipeline_for(f"function process(context) {{ {code}; return true; }}\n",
                                  "limits: { scriptTimeout: 200ms }\n")
            r = run(["run", p], timeout=30)
            self.assertEqual(r.code, 1, f"{code}: {r!r}")
            self.assertIn("FE-SCRIPT-ERROR", r.err, code)
            self.assertIn("is not defined", r.err, code)

    def test_huge_array_buffers_are_refused_within_script_heap(self):
        write(self.path("in.csv"), "id\n" + "".join(f"{i}\n" for i in range(1, 200)))
        p = self.pipeline_for(
            "function process(context) { const b = new ArrayBuffer(3 * 1024 * 1024 * 1024);"
            " return b.byteLength > 0; }\n", "limits: { scriptHeap: 64MiB }\n")
        code, err, _ = self.run_peak_rss(["run", p])
        self.assertEqual(code, 1, err)
        self.assertIn("FE-SCRIPT-ERROR", err)
        self.assertIn("RangeError", err)
        # Kept buffers add up to the limit, then allocation fails cleanly.
        p = self.pipeline_for(
            "const keep = [];\n"
            "function process(context) { keep.push(new ArrayBuffer(8 * 1024 * 1024)); return true; }\n",
            "limits: { scriptHeap: 64MiB, threads: 1 }\n")
        code, err, rss = self.run_peak_rss(["run", p])
        self.assertEqual(code, 1, err)
        self.assertIn("RangeError", err)
        self.assertLess(rss, 400, "peak RSS in MiB")

    def test_script_memory_peak_is_reported(self):
        """ArrayBuffers the script keeps show in the summary's script peak, under scriptHeap."""
        write(self.path("in.csv"), "id\n" + "".join(f"{i}\n" for i in range(1, 6)))
        p = self.pipeline_for(
            "const keep = [];\n"
            "function process(context) { keep.push(new ArrayBuffer(4 * 1024 * 1024)); return true; }\n",
            "limits: { scriptHeap: 64MiB, threads: 1 }\n")
        r = run(["run", p, "--summary", self.path("s.json")])
        self.assertEqual(r.code, 0, r)
        memory = json.loads(read(self.path("s.json")))["memory"]
        self.assertGreaterEqual(memory["script_peak_bytes"], 5 * 4 * 1024 * 1024)
        self.assertLess(memory["script_peak_bytes"], 64 * 1024 * 1024)
        self.assertIn("script memory peak", r.err)

    def test_api_misuse_is_reported_at_the_users_line(self):
        write(self.path("in.csv"), "id\n1\n")
        cases = {
            "context.output.setField('nope', 1);": "Unknown output column 'nope'",
            "context.input.getValue('nope');": "Unknown input column 'nope'",
            "context.route.send('nope');": "Unknown route 'nope'",
            "context.validate.required(['nope']);": "Unknown input column 'nope'",
        }
        for call, message in cases.items():
            script = "function helper(context) {\n  " + call + "\n}\n" \
                     "function process(context) {\n  helper(context);\n  return true;\n}\n"
            p = self.pipeline_for(script)
            r = run(["run", p])
            self.assertEqual(r.code, 1, repr(r))
            self.assertIn(message, r.err)
            self.assertRegex(r.err, re.escape(self.path("t.js")) + r":2:\d+", call)
            self.assertNotIn("flowengine:driver", r.err, call)
            self.assertIn("at helper (", r.err)
            self.assertIn("at process (", r.err)

    def test_console_goes_to_the_log_with_the_rows_line(self):
        write(self.path("in.csv"), "id\n1\n2\n")
        p = self.pipeline_for(
            "console.info('loaded');\n"
            "function process(context) {\n"
            "  console.log('row', context.input.getValue('id'), { a: [1] });\n"
            "  console.warn('careful');\n  console.error(null, undefined, 1.5);\n"
            "  return true;\n}\n")
        r = run(["run", p])
        self.assertEqual(r.code, 0, repr(r))
        self.assertIn("script info [" + self.path("in.csv") + ":0]: loaded", r.err)
        self.assertIn("script info [" + self.path("in.csv") + ':2]: row 1 {"a":[1]}', r.err)
        self.assertIn("script info [" + self.path("in.csv") + ":3]: row 2", r.err)
        self.assertIn("script warn [" + self.path("in.csv") + ":2]: careful", r.err)
        self.assertIn("script error [" + self.path("in.csv") + ":3]: null undefined 1.5", r.err)

    def test_a_stack_overflow_inside_set_field_fails_only_its_row(self):
        # The trial: a catch handler calling setField near the stack limit overflowed between
        # recording a value's length and handing over its text; the batch's text then no
        # longer matched and the whole run failed (FE-INTERNAL) under skip-row.
        rows = 600
        write(self.path("in.csv"), "i\n" + "".join(f"{i}\n" for i in range(rows)))
        write(self.path("t.js"), """
function deep(context, d, rethrow) {
  try { deep(context, d + 1, rethrow); } catch (e) {
    context.output.setField('b', 'Z');
    if (rethrow) throw e;
  }
}
function process(context) {
  const i = context.input.getValue('i');
  if (i % 50 === 1) deep(context, 0, true);    // the row fails
  if (i % 50 === 2) try { deep(context, 0, false); } catch (e) {}  // the row goes on
  context.output.setField('a', 'A' + i);
  context.output.setField('b', 'B' + i);
  return true;
}
""")
        p = self.pipeline("source: { path: in.csv, columns: [{ name: i, type: int32 }] }\n"
                          "transform:\n  - javascript: { file: t.js, output: [i, a, b] }\n"
                          "sink: { path: out.csv, outputMode: replace }\n"
                          "errorHandling: skip-row\n"
                          "deadLetter: { path: dead.csv, outputMode: replace }\n"
                          "limits: { threads: 2, blockSize: 4096 }\n")
        r = run(["run", p])
        self.assertEqual(r.code, 0, repr(r))
        failing = [i for i in range(rows) if i % 50 == 1]
        self.assertEqual(r.counts(), (rows, rows - len(failing), 0, 0, len(failing)))
        dead = dead_letters(self.path("dead.csv"))
        self.assertEqual([int(d["line"]) - 2 for d in dead], failing)
        self.assertEqual({d["error_code"] for d in dead}, {"FE-SCRIPT-ERROR"})
        out = [line.split(",") for line in read(self.path("out.csv")).decode().splitlines()[1:]]
        self.assertEqual(out, [[str(i), f"A{i}", f"B{i}"] for i in range(rows) if i % 50 != 1])

    def test_many_rows_throwing_errors_built_from_their_input(self):
        generate(self.path("in.csv"), 100000)
        p = self.pipeline_for(
            "function process(context) {\n"
            "  throw new Error('bad row ' + context.input.getValue('notes'));\n}\n",
            "errorHandling: skip-row\ndeadLetter: { path: dead.csv, outputMode: replace }\n"
            "limits: { scriptHeap: 64MiB, threads: 2 }\n")
        r = run(["run", p], timeout=600)
        self.assertEqual(r.code, 0, repr(r))
        dead = dead_letters(self.path("dead.csv"))
        self.assertEqual(len(dead), 100000)
        self.assertTrue(dead[-1]["message"].startswith("Script threw an exception: Uncaught Error: bad row "))


if __name__ == "__main__":
    unittest.main()
