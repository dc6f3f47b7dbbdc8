"""Stray quotes, misplaced quotes, quoted line breaks, wrong field counts and bad values at
random places in generated files, with LF, CRLF and lone-CR line endings mixed: the engine's
accepted rows and rejected lines must equal the reference model's (csv_model.py) exactly,
under skip-row on 1 and 2 threads with 4 KiB and 1 MiB blocks; under fail-fast the error
must be the model's first reject (code, line and column)."""
import os
import random
import unittest

import csv_model
from harness import TempDirTest, csv_rows, dead_letters, run, write

COLUMNS = [("id", "int64", True), ("name", "string", False), ("note", "string", False)]
WORDS = ["alpha", "beta", "5 screw", "x", "héllo", "日本", "a b", "Z"]
ENDINGS = [b"\n", b"\r\n", b"\r"]


def field(rnd, kind):
    w = rnd.choice(WORDS).encode()
    if kind == "plain":
        return w
    if kind == "empty":
        return b""
    if kind == "quoted":
        inner = rnd.choice([w, w + b",x", w + b'""y', w + rnd.choice(ENDINGS) + w, b""])
        return b'"' + inner + b'"'
    if kind == "stray":  # a quote inside an unquoted field (at a character boundary)
        t = w.decode()
        pos = rnd.randint(1, len(t))
        return (t[:pos] + '"' + t[pos:]).encode()
    if kind == "stray2":
        return w + b'"' + w + b'"'
    if kind == "after":  # text after a closing quote
        return b'"' + w + b'"' + rnd.choice([b"x", b" ", b'"z'])
    raise ValueError(kind)


def generate(seed, records):
    rnd = random.Random(seed)
    out = [b"id,name,note" + rnd.choice(ENDINGS)]
    for i in range(1, records + 1):
        r = rnd.random()
        ident = str(i).encode()
        if r < 0.01:
            ident = b"x" + ident  # bad int64
        elif r < 0.015:
            ident = b""  # required value missing
        kinds = [rnd.choice(["plain"] * 6 + ["quoted"] * 3 + ["empty"]) for _ in range(2)]
        p = rnd.random()
        if p < 0.03:
            kinds[rnd.randrange(2)] = "stray"
        elif p < 0.04:
            kinds[rnd.randrange(2)] = "stray2"
        elif p < 0.05:
            kinds[rnd.randrange(2)] = "after"
        fields = [ident] + [field(rnd, k) for k in kinds]
        q = rnd.random()
        if q < 0.01:
            fields.append(b"extra")
        elif q < 0.02:
            fields.pop()
        out.append(b",".join(fields) + rnd.choice(ENDINGS))
        if rnd.random() < 0.01:
            out.append(rnd.choice(ENDINGS))  # a blank line
    return b"".join(out)


PIPELINE = """
source:
  path: in.csv
  columns:
    - {{ name: id, type: int64, required: true }}
sink: {{ path: out.csv, outputMode: replace }}
errorHandling: {mode}
{dead}
limits: {{ threads: {threads}, blockSize: {block} }}
"""


class GrammarModelTest(TempDirTest):
    def run_skip_row(self, data, threads, block, kernel=None):
        write(self.path("in.csv"), data)
        p = self.pipeline(PIPELINE.format(mode="skip-row", threads=threads, block=block,
                                          dead="deadLetter: { path: dead.csv, outputMode: replace }"))
        r = run(["run", p], env={"FLOWENGINE_KERNEL": kernel} if kernel else None)
        self.assertEqual(r.code, 0, repr(r))
        rows = csv_rows(self.path("out.csv"))[1:]
        dead = [(int(d["line"]), d["error_code"], int(d["column"] or 0))
                for d in dead_letters(self.path("dead.csv"))]
        return rows, dead, r

    def check_file(self, data, label):
        accepted, rejected = csv_model.classify(data, COLUMNS)
        runs = [(1, 4096, None), (2, 4096, None), (2, 1 << 20, None), (2, 4096, "scalar"),
                (2, 4096, "sse42")]
        for threads, block, kernel in runs:
            rows, dead, r = self.run_skip_row(data, threads, block, kernel)
            what = f"{label}: threads {threads}, block {block}, kernel {kernel or 'best'}"
            self.assertEqual(dead, rejected, what + ": rejects differ")
            self.assertEqual(rows, accepted, what + ": rows differ")
            self.assertEqual(r.counts()[0], len(accepted) + len(rejected), r.err)
        # fail-fast stops at the model's first reject, with its code, line and column.
        p = self.pipeline(PIPELINE.format(mode="fail-fast", threads=2, block=4096, dead=""))
        r = run(["run", p])
        if not rejected:
            self.assertEqual(r.code, 0, repr(r))
            return
        line, code, column = rejected[0]
        self.assertEqual(r.code, 1, repr(r))
        self.assertIn(f"in.csv:{line}:{column}: error {code}", r.err, label)

    def test_random_files(self):
        for seed in range(12):
            data = generate(seed, 3000)
            self.check_file(data, f"seed {seed}")

    def test_unterminated_quote_at_the_end_swallows_only_what_follows_it(self):
        data = generate(99, 500) + b'501,"never closed\n502,a,b\n'
        self.check_file(data, "unterminated")
        accepted, rejected = csv_model.classify(data, COLUMNS)
        self.assertEqual(rejected[-1][1], csv_model.UNTERMINATED)

    def test_stray_quote_then_quote_at_field_start_later(self):
        # The stray quote must not pair with a later, legitimate opening quote.
        data = b'id,name,note\n1,5" screw,x\n2,"a,b",c\n3,"d\ne",f\n4,g,h\n'
        self.check_file(data, "pairing")
        _, rejected = csv_model.classify(data, COLUMNS)
        self.assertEqual(rejected, [(2, csv_model.STRAY, 4)])

    def test_many_stray_quotes_one_per_block(self):
        rows = [b"id,name,note"]
        for i in range(1, 20001):
            rows.append(b'%d,5" screw,x' % i if i % 97 == 0 else b"%d,plain,y" % i)
        self.check_file(b"\n".join(rows) + b"\n", "dense")


if __name__ == "__main__":
    unittest.main()
