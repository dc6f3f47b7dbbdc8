"""Row conservation under skip-row: script, type and parse rejects spread over many blocks,
with chunks reused many times (small blocks), on 1 and 2 threads. The oracle is the input
itself: which rows are bad is known when the file is generated, so the written rows, the
dead letters and every figure of the summary are checked exactly, not only their sum."""
import os
import random
import unittest

from harness import TempDirTest, csv_rows, dead_letters, run, write


def make_input(path, rows, seed):
    """id,kind,value: kind says what the row will do (ok, type, field, quote, throw,
    filter, route). Returns the expected outcome of every row, by id."""
    rnd = random.Random(seed)
    kinds = ["ok"] * 90 + ["type", "field", "quote", "throw", "throw", "filter", "route", "copy"]
    lines = ["id,kind,value"]
    expected = {}
    for i in range(1, rows + 1):
        kind = rnd.choice(kinds)
        if kind == "type":
            lines.append(f"{i},{kind},notanumber")
        elif kind == "field":
            lines.append(f"{i},{kind},1,extra")
        elif kind == "quote":
            lines.append(f'{i},{kind},5" screw')
        else:
            lines.append(f"{i},{kind},{rnd.randint(0, 10**6)}")
        expected[i] = kind
    write(path, "\n".join(lines) + "\n")
    return expected


SCRIPT = """
function process(context) {
  const row = context.input.current();
  if (row.kind === 'throw') throw new Error('bad row ' + row.id + ' ' + row.value);
  if (row.kind === 'filter') return false;
  if (row.kind === 'route') context.route.send('side');
  if (row.kind === 'copy') context.route.sendCopy('side');
  return true;
}
"""


class AccountingTest(TempDirTest):
    def check(self, rows, threads, block, seed):
        src = self.path("in.csv")
        expected = make_input(src, rows, seed)
        write(self.path("t.js"), SCRIPT)
        p = self.pipeline(f"""
source:
  path: in.csv
  columns:
    - {{ name: id, type: int64, required: true }}
    - {{ name: value, type: int64 }}
transform:
  - javascript: {{ file: t.js }}
sink: {{ path: out.csv, outputMode: replace }}
routes:
  side: {{ path: side.csv, outputMode: replace }}
errorHandling: skip-row
deadLetter: {{ path: dead.csv }}
limits: {{ threads: {threads}, blockSize: {block} }}
""")
        r = run(["run", p])
        self.assertEqual(r.code, 0, repr(r))
        kinds = list(expected.values())
        n = lambda *ks: sum(kinds.count(k) for k in ks)
        rejected = n("type", "field", "quote", "throw")
        self.assertEqual(r.counts(), (rows, n("ok", "copy"), n("route"), n("filter"), rejected), r.err)
        out = csv_rows(self.path("out.csv"))[1:]
        self.assertEqual([int(x[0]) for x in out],
                         [i for i, k in expected.items() if k in ("ok", "copy")])
        side = csv_rows(self.path("side.csv"))[1:]
        self.assertEqual([int(x[0]) for x in side],
                         [i for i, k in expected.items() if k in ("route", "copy")])
        dead = dead_letters(self.path("dead.csv"))
        by_line = {int(d["line"]) - 1: d["error_code"] for d in dead}  # line 1 is the header
        want = {"type": "FE-SCHEMA-TYPE", "field": "FE-INPUT-FIELD-COUNT",
                "quote": "FE-INPUT-STRAY-QUOTE", "throw": "FE-SCRIPT-ERROR"}
        self.assertEqual(by_line, {i: want[k] for i, k in expected.items() if k in want})

    def test_many_small_blocks_two_threads(self):
        self.check(rows=60000, threads=2, block=4096, seed=1)

    def test_many_small_blocks_one_thread(self):
        self.check(rows=20000, threads=1, block=4096, seed=2)

    def test_default_blocks(self):
        self.check(rows=60000, threads=2, block=1 << 20, seed=3)


if __name__ == "__main__":
    unittest.main()
