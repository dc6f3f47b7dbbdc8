"""Chained transform steps (transform: a list, each step its own graph node) against a Python
model of what the steps do: hostile values (quotes, delimiters, line breaks, CRLF, astral and
lone-surrogate characters, empty fields) cross step boundaries unchanged; a row filtered in
one step never reaches the next; a row that throws in a later step goes to the dead letters
with its original record and line; routes take the last step's rows. On 1 and 2 threads, with
4 KiB and 1 MiB blocks. Also: a step that redefines built-ins does not disturb the next; a
2 MiB value passes between steps; a small memory budget gives output or a clean error;
SIGTERM mid-run commits nothing."""
import csv
import os
import random
import signal
import time
import unittest

from harness import TempDirTest, csv_rows, dead_letters, read, run, spawn, wait_for_lock, write

csv.field_size_limit(1 << 30)
WORDS = ["alpha", "b,c", 'say "hi"', "two\nlines", "cr\r\nlf", "Dé", "日本", "𝄞", "", "x|y", " sp "]


def quote(text):
    if any(c in text for c in ',"\r\n') or text == "":
        return '"' + text.replace('"', '""') + '"'
    return text


def generate(seed, rows):
    """The file's bytes and, per record, (id, name, note, line, raw)."""
    rnd = random.Random(seed)
    out = ["id,name,note\r\n" if rnd.random() < 0.5 else "id,name,note\n"]
    line = 2
    records = []
    for i in range(1, rows + 1):
        name, note = rnd.choice(WORDS), rnd.choice(WORDS)
        raw = f"{i},{quote(name)},{quote(note)}"
        out.append(raw + rnd.choice(["\n", "\r\n"]))
        records.append((i, name, note, line, raw))
        line += raw.count("\n") + raw.count("\r") - raw.count("\r\n") + 1
    return "".join(out).encode(), records


def units(text):
    return len(text.encode("utf-16-le")) // 2


STEP0 = """
function process(c) {
  const r = c.input.current();
  if (r.id % 7 === 0) return false;
  const name = r.name ?? '', note = r.note ?? '';  // an empty field reads as null
  c.output.setField('a', name + '|' + note);
  c.output.setField('note', note.toUpperCase());
  return true;
}
"""
# Redefines built-ins the engine's own code might use; the next step must not notice.
STEP1 = """
String.prototype.toUpperCase = function () { return 'HIJACKED'; };
Array.prototype.join = null; JSON.stringify = null; Object.keys = null;
function process(c) {
  const r = c.input.current();
  if (r.id % 13 === 0) throw new Error('unlucky ' + r.id);
  c.output.setField('b', (r.a ?? '').length);
  return true;
}
"""
STEP2 = """
function process(c) {
  const r = c.input.current();
  if (r.id % 17 === 0) return false;
  c.output.setField('c', '\\ud800' + (r.name ?? '').toUpperCase());
  if (r.id % 5 === 0) c.route.sendCopy('review');
  return true;
}
"""


def model(records):
    """Expected main rows, review rows and dead letters (line, raw)."""
    main, review, dead = [], [], []
    for (i, name, note, line, raw) in records:
        if i % 7 == 0:
            continue
        a = name + "|" + note
        if i % 13 == 0:
            dead.append((line, raw))
            continue
        if i % 17 == 0:
            continue
        row = [str(i), name, note.upper(), a, str(units(a)), "\ufffd" + name.upper()]
        main.append(row)
        if i % 5 == 0:
            review.append(row)
    return main, review, dead


class TransformStepsTest(TempDirTest):
    def write_scripts(self):
        for k, text in enumerate([STEP0, STEP1, STEP2]):
            write(self.path(f"s{k}.js"), text)

    def three_steps(self, threads, block, extra=""):
        return self.pipeline(f"""
pipeline: steps
source: {{ path: in.csv, columns: [ {{ name: id, type: int64 }} ] }}
transform:
  - javascript: {{ file: s0.js, output: [id, name, note, a] }}
  - javascript: {{ file: s1.js, output: [id, name, note, a, b] }}
  - javascript: {{ file: s2.js, output: [id, name, note, a, b, c] }}
sink: {{ path: out.csv, outputMode: replace }}
routes: {{ review: {{ path: review.csv, outputMode: replace }} }}
errorHandling: skip-row
deadLetter: {{ path: dead.csv }}
limits: {{ threads: {threads}, blockSize: {block} }}
{extra}""")

    def test_three_steps_equal_the_model(self):
        data, records = generate(7, 6000)
        write(self.path("in.csv"), data)
        self.write_scripts()
        main, review, dead = model(records)
        header = ["id", "name", "note", "a", "b", "c"]
        for threads in (1, 2):
            for block in ("4KiB", "1MiB"):
                with self.subTest(threads=threads, block=block):
                    r = run(["run", self.three_steps(threads, block)])
                    self.assertEqual(r.code, 0, r)
                    self.assertEqual(csv_rows(self.path("out.csv")), [header] + main)
                    self.assertEqual(csv_rows(self.path("review.csv")), [header] + review)
                    got = [(int(d["line"]), d["raw"]) for d in dead_letters(self.path("dead.csv"))]
                    self.assertEqual(got, dead)
                    for d in dead_letters(self.path("dead.csv")):
                        self.assertEqual(d["error_code"], "FE-SCRIPT-ERROR")
                        self.assertIn("s1.js", d["script"])
                    read_, written, routed, filtered, rejected = r.counts()
                    self.assertEqual(read_, len(records))
                    self.assertEqual(written, len(main))
                    self.assertEqual(rejected, len(dead))
                    self.assertEqual(filtered, len(records) - len(main) - len(dead))

    def test_samples_of_a_multi_step_run_show_the_source_and_the_last_step(self):
        data, records = generate(11, 3000)
        write(self.path("in.csv"), data)
        self.write_scripts()
        os.mkdir(self.path("samples"))
        p = self.three_steps(2, "4KiB")
        r = run(["run", p, "--sample", "5", "--sample-dir", self.path("samples")])
        self.assertEqual(r.code, 0, r)
        source = csv_rows(self.path("samples", "source.csv"))
        self.assertEqual(source[0][:4], ["_line", "id", "name", "note"])
        self.assertEqual([row[:4] for row in source[1:]],
                         [[str(line), str(i), name, note] for (i, name, note, line, _) in records[:5]])
        transform = csv_rows(self.path("samples", "transform.csv"))
        self.assertEqual(transform[0][:8], ["_line", "_to", "id", "name", "note", "a", "b", "c"])
        main, _, _ = model(records)
        kept = [row[2:8] for row in transform[1:] if row[1] == "main"]
        self.assertEqual(kept, main[:len(kept)])
        self.assertGreater(len(kept), 0)

    def test_a_two_mib_value_passes_between_steps(self):
        write(self.path("in.csv"), "id,name\n1,a\n2,b\n")
        p = self.pipeline("""
source: { path: in.csv }
transform:
  - javascript:
      code: "function process(c) { c.output.setField('big', 'é,\\"'.repeat(700000)); return true; }"
      output: [id, big]
  - javascript:
      code: "function process(c) { c.output.setField('n', c.input.getValue('big').length); return true; }"
      output: [id, n, big]
sink: { path: out.csv, outputMode: replace }
""")
        r = run(["run", p])
        self.assertEqual(r.code, 0, r)
        rows = csv_rows(self.path("out.csv"))
        self.assertEqual([row[:2] for row in rows], [["id", "n"], ["1", "2100000"], ["2", "2100000"]])
        self.assertEqual(rows[1][2], 'é,"' * 700000)

    def test_small_memory_budget_gives_output_or_a_clean_error(self):
        data, records = generate(3, 20000)
        write(self.path("in.csv"), data)
        self.write_scripts()
        main, _, _ = model(records)
        for memory in ("2MiB", "4MiB", "16MiB"):
            with self.subTest(memory=memory):
                p = self.three_steps(2, "64KiB", extra=f"# memory\n").replace(
                    "blockSize: 64KiB }", f"blockSize: 64KiB, memory: {memory} }}")
                r = run(["run", p])
                if r.code == 0:
                    self.assertEqual(csv_rows(self.path("out.csv"))[1:], main)
                else:
                    self.assertIn("FE-RESOURCE-MEMORY", r.err, r)
                    self.assertNotIn("FE-INTERNAL", r.err, r)

    def test_sigterm_between_steps_commits_nothing(self):
        data, _ = generate(5, 20000)
        write(self.path("in.csv"), data)
        write(self.path("out.csv"), "before\n")
        p = self.pipeline("""
source: { path: in.csv }
transform:
  - javascript: { code: "function process(c) { return true; }" }
  - javascript:
      code: "function process(c) { const t = Date.now(); while (Date.now() - t < 1) {} return true; }"
sink: { path: out.csv, outputMode: replace }
limits: { blockSize: 4KiB }
""")
        proc = spawn(["run", p], stderr_path=self.path("err.log"))
        # The sink holds its lock (the signal handlers are in place by then, however slowly
        # the binary starts: ASan); a moment later rows are between the steps (20,000 rows
        # at 1 ms each in the second step: the run lasts seconds more).
        locked = wait_for_lock(proc, self.path("out.csv"))
        self.assertIsNone(proc.poll(), "the run ended before the signal")
        self.assertTrue(locked, "the run did not take its output lock within 30 s")
        time.sleep(0.3)
        proc.send_signal(signal.SIGTERM)
        self.assertEqual(proc.wait(timeout=30), 143)
        self.assertEqual(read(self.path("out.csv")), b"before\n")
        self.assertEqual(sorted(os.listdir(self.dir)), ["err.log", "in.csv", "out.csv", "p.yaml"])

    def test_many_steps_fit_the_smallest_memory_budget(self):
        # Found by a hostile trial: 12 steps at limits.memory 4MiB refused an 11-byte record
        # (the plan reserved a share per step; the fold's buffers are reused by every step).
        write(self.path("in.csv"), "c0,c1,c2,c3,c4,c5\nv,v,v,v,v,v\n")
        steps = "".join("  - javascript: { code: 'function process(c) { return true; }' }\n"
                        for _ in range(12))
        p = self.pipeline("source: { path: in.csv }\ntransform:\n" + steps +
                          "sink: { path: out.csv, outputMode: replace }\nlimits: { memory: 4MiB }\n")
        r = run(["run", p])
        self.assertEqual(r.code, 0, r)
        self.assertEqual(read(self.path("out.csv")), b"c0,c1,c2,c3,c4,c5\nv,v,v,v,v,v\n")

    def test_each_steps_errors_name_the_step(self):
        write(self.path("in.csv"), "id\n1\n2\n3\n")
        write(self.path("s1.js"), "function process(c) { return c.input.getValue('id') === '1' ? 5 : true; }")
        write(self.path("s2.js"), "function process(c) { return c.input.getValue('id') === '2' ? 'x' : true; }")
        p = self.pipeline("""
source: { path: in.csv }
transform:
  - javascript: { file: s1.js }
  - javascript: { file: s2.js }
sink: { path: out.csv, outputMode: replace }
errorHandling: skip-row
deadLetter: { path: dead.csv }
""")
        r = run(["run", p])
        self.assertEqual(r.code, 0, r)
        dead = dead_letters(self.path("dead.csv"))
        self.assertEqual([d["error_code"] for d in dead], ["FE-SCRIPT-RETURN"] * 2)
        self.assertTrue(dead[0]["message"].startswith("transform[0]: "), dead[0])
        self.assertTrue(dead[0]["script"].endswith("s1.js"), dead[0])
        self.assertTrue(dead[1]["message"].startswith("transform[1]: "), dead[1])
        self.assertTrue(dead[1]["script"].endswith("s2.js"), dead[1])
        # A step without process(), inline: the error names the step and its line.
        p = self.pipeline("""
source: { path: in.csv }
transform:
  - javascript: { code: "function process(c) { return true; }" }
  - javascript: { code: "function proces(c) { return true; }" }
sink: { path: out.csv, outputMode: replace }
""", name="np.yaml")
        r = run(["validate", p])
        self.assertEqual(r.code, 2, r)
        self.assertIn("np.yaml:5:5: error FE-SCRIPT-NO-PROCESS", r.err)
        self.assertIn("transform[1]: Script does not define", r.err)
        # An empty output list is an error, not "the input columns".
        p = self.pipeline("""
source: { path: in.csv }
transform:
  - javascript: { code: "function process(c) { return true; }", output: [] }
sink: { path: out.csv, outputMode: replace }
""", name="eo.yaml")
        r = run(["validate", p])
        self.assertEqual(r.code, 2, r)
        self.assertIn("FE-CONFIG-VALUE", r.err)
        self.assertIn("an empty list", r.err)

    def test_routes_in_an_earlier_step_are_a_clear_error(self):
        write(self.path("in.csv"), "id,name\n1,a\n")
        p = self.pipeline("""
source: { path: in.csv }
transform:
  - javascript: { code: "function process(c) { c.route.send('review'); return true; }" }
  - javascript: { code: "function process(c) { return true; }" }
sink: { path: out.csv }
routes: { review: { path: review.csv } }
""")
        r = run(["run", p])
        self.assertNotEqual(r.code, 0)
        self.assertIn("routes take rows from the last transform step only, transform[1]", r.err)
        self.assertFalse(os.path.exists(self.path("out.csv")))


if __name__ == "__main__":
    unittest.main()
