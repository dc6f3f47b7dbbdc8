"""Values a script writes, each converted on its own, against a reference encoder: random
JavaScript strings (lone surrogates, U+2028, NUL, emoji, quotes, line breaks, long strings)
set into several columns of many rows, over many blocks and two threads — a lone surrogate
becomes U+FFFD and never disturbs the next value. Dates are ISO 8601 UTC whatever TZ says,
plain objects and arrays JSON, boxed primitives unboxed, functions and symbols an output
error; columns named like Object.prototype members read as their values."""
import csv
import datetime
import io
import json
import os
import random
import unittest

csv.field_size_limit(1 << 24)

from harness import TempDirTest, dead_letters, read, run, write


def random_js_string(rnd):
    """A JavaScript string as Python str (lone surrogates allowed)."""
    pieces = ["a", "Z", ",", '"', "\n", "\r\n", "\u2028", "\u2029", "\x00", "é", "日本",
              "\U0001F600", "\ud800", "\udfff", "\ud83d", "\ude00", " ", "\t", "\\", "'"]
    n = rnd.choice([0, 1, 2, 5, 20, 300])
    s = "".join(rnd.choice(pieces) for _ in range(n))
    if rnd.random() < 0.02:
        s = s * 200  # long
    return s


def reference(s):
    """What the output must hold: UTF-8 of s with every lone surrogate as U+FFFD."""
    return s.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")


def write_csv(path, rows):
    """Rows written the way Python's csv writes them (the oracle reads them back the same)."""
    buf = io.StringIO(newline="")
    csv.writer(buf, lineterminator="\n").writerows(rows)
    write(path, buf.getvalue())


def parse_output(data):
    return list(csv.reader(io.StringIO(data.decode("utf-8"), newline="")))


class StringValuesTest(TempDirTest):
    def test_random_strings_against_the_reference_encoder(self):
        rnd = random.Random(20261201)
        rows = 3000
        values = [random_js_string(rnd) for _ in range(rows * 3)]
        write(self.path("in.csv"), "i\n" + "".join(f"{i}\n" for i in range(rows)))
        script = ("const V = " + json.dumps(values, ensure_ascii=True) + ";\n"
                  "function process(context) {\n"
                  "  const i = context.input.getValue('i');\n"
                  "  context.output.setField('a', V[3 * i]);\n"
                  "  context.output.setField('b', V[3 * i + 1]);\n"
                  "  context.output.setField('c', V[3 * i + 2]);\n"
                  "  return true;\n}\n")
        write(self.path("t.js"), script)
        p = self.pipeline("""
source: { path: in.csv, columns: [{ name: i, type: int32 }] }
transform:
  - javascript: { file: t.js, output: [i, a, b, c] }
sink: { path: out.csv, outputMode: replace }
limits: { threads: 2, blockSize: 4096 }
""")
        r = run(["run", p])
        self.assertEqual(r.code, 0, repr(r))
        out = parse_output(read(self.path("out.csv")))[1:]
        self.assertEqual(len(out), rows)
        for row in out:
            i = int(row[0])
            for k in range(3):
                self.assertEqual(row[1 + k], reference(values[3 * i + k]), f"row {i} column {k}")

    def test_a_split_surrogate_pair_does_not_shift_later_values(self):
        write(self.path("in.csv"), "i\n1\n2\n3\n")
        write(self.path("t.js"), """
function process(context) {
  const s = 'ab\\u{1F600}cd';
  context.output.setField('left', s.slice(0, 3));
  context.output.setField('right', s.slice(3));
  context.output.setField('after', 'x' + context.input.getValue('i'));
  return true;
}
""")
        p = self.pipeline("""
source: { path: in.csv }
transform:
  - javascript: { file: t.js, output: [i, left, right, after] }
sink: { path: out.csv }
""")
        r = run(["run", p])
        self.assertEqual(r.code, 0, repr(r))
        self.assertEqual(parse_output(read(self.path("out.csv")))[1:],
                         [[str(i), "ab\ufffd", "\ufffdcd", f"x{i}"] for i in (1, 2, 3)])


class OtherValuesTest(TempDirTest):
    def run_values(self, expressions, env=None, skip=False):
        write(self.path("in.csv"), "i\n" + "".join(f"{i}\n" for i in range(len(expressions))))
        cases = ",\n".join(f"  () => ({e})" for e in expressions)
        write(self.path("t.js"), "class Money { constructor(v) { this.v = v; } "
              "toString() { return this.v.toFixed(2) + ' EUR'; } }\n"
              f"const CASES = [\n{cases}\n];\n"
              "function process(context) {\n"
              "  context.output.setField('v', CASES[context.input.getValue('i')]());\n"
              "  return true;\n}\n")
        extra = "errorHandling: skip-row\ndeadLetter: { path: dead.csv, outputMode: replace }\n" if skip else ""
        p = self.pipeline("source: { path: in.csv, columns: [{ name: i, type: int32 }] }\n"
                          "transform:\n  - javascript: { file: t.js, output: [i, v] }\n"
                          "sink: { path: out.csv, outputMode: replace }\n" + extra)
        return run(["run", p], env=env)

    def test_dates_objects_and_boxed_values(self):
        cases = {
            "new Date(Date.UTC(2024, 0, 2, 3, 4, 5, 678))": "2024-01-02T03:04:05.678Z",
            "new Date(Date.UTC(10000, 0, 1))": "+010000-01-01T00:00:00.000Z",
            "new Date(Date.UTC(-1, 11, 31, 23, 59, 59))": "-000001-12-31T23:59:59.000Z",
            "{ a: 1, b: 'x', c: [true, null] }": '{"a":1,"b":"x","c":[true,null]}',
            "[1, 'a', null, { z: 2 }]": '[1,"a",null,{"z":2}]',
            "Object.create(null)": "{}",
            "new String('boxed')": "boxed",
            "new Number(12.5)": "12.5",
            "new Boolean(false)": "false",
            "new Money(3)": "3.00 EUR",
            "2n ** 64n": "18446744073709551616",
            "1e21": "1e+21",
            "0.1 + 0.2": "0.30000000000000004",
            "-0": "0",
            "null": "",
            "undefined": "",
            "({ toJSON() { return undefined; } })": "",
        }
        for tz in ["UTC", "Asia/Tokyo", "America/Los_Angeles"]:
            r = self.run_values(list(cases), env={"TZ": tz})
            self.assertEqual(r.code, 0, repr(r))
            out = parse_output(read(self.path("out.csv")))[1:]
            self.assertEqual([row[1] for row in out], list(cases.values()), tz)

    def test_functions_symbols_and_circular_objects_are_output_errors(self):
        cases = ["() => 1", "Symbol('s')", "(() => { const o = {}; o.self = o; return o; })()",
                 "new Date(NaN)", "'fine'"]
        r = self.run_values(cases)
        self.assertEqual(r.code, 1, repr(r))
        self.assertIn("FE-SCRIPT-OUTPUT", r.err)
        self.assertIn("a function cannot be written", r.err)
        s = self.run_values(cases, skip=True)
        self.assertEqual(s.code, 0, repr(s))
        dead = dead_letters(self.path("dead.csv"))
        self.assertEqual([d["error_code"] for d in dead], ["FE-SCRIPT-OUTPUT"] * 4)
        self.assertIn("symbol", dead[1]["message"])
        self.assertIn("circular", dead[2]["message"])
        self.assertIn("invalid Date", dead[3]["message"])
        self.assertEqual(parse_output(read(self.path("out.csv")))[1:], [["4", "fine"]])


class ValuesAsSetTest(TempDirTest):
    """An object or Date is written as it was when setField was called: changing or reusing
    it afterwards changes nothing (found by a hostile trial: one Date reused with setTime
    wrote the block's last value on every row, and the rows depended on blockSize)."""

    def test_reused_and_mutated_objects_are_written_as_they_were_set(self):
        rows = 3000
        write(self.path("in.csv"), "i\n" + "".join(f"{i}\n" for i in range(rows)))
        write(self.path("t.js"), """
const d = new Date(0);
const o = { v: 0 };
function process(context) {
  const i = context.input.getValue('i');
  d.setTime(Date.UTC(2020, 0, 1) + i * 86400000);
  context.output.setField('d', d);
  o.v = i;
  context.output.setField('o', o);
  o.v = -1;
  // toJSON runs when the value is set: it sees the row being processed.
  context.output.setField('j', { toJSON() { return context.input.getValue('i') * 10; } });
  return true;
}
""")
        outputs = []
        for block in ("4KiB", "1MiB"):
            p = self.pipeline("source: { path: in.csv, columns: [{ name: i, type: int32 }] }\n"
                              "transform:\n  - javascript: { file: t.js, output: [i, d, o, j] }\n"
                              "sink: { path: out.csv, outputMode: replace }\n"
                              f"limits: {{ blockSize: {block} }}\n")
            r = run(["run", p])
            self.assertEqual(r.code, 0, repr(r))
            out = parse_output(read(self.path("out.csv")))
            outputs.append(out)
            for row in out[1:]:
                i = int(row[0])
                self.assertEqual(row[2], '{"v":%d}' % i)
                self.assertEqual(row[3], str(i * 10))
                self.assertTrue(row[1].startswith("20"), row)
            expect = [(datetime.datetime(2020, 1, 1) + datetime.timedelta(days=int(row[0])))
                      .strftime("%Y-%m-%dT00:00:00.000Z") for row in out[1:]]
            self.assertEqual([row[1] for row in out[1:]], expect)
        self.assertEqual(outputs[0], outputs[1])


class InputValuesTest(TempDirTest):
    """Values a script reads equal Python's csv reading of the input: ASCII and non-ASCII
    blocks, quotes, line breaks, emoji, empty fields and fields far larger than one text
    window (native.window), with large and small blocks and two threads."""

    def test_values_read_match_pythons_csv(self):
        rnd = random.Random(1201)
        pieces = ["a", "Z", "1", " ", ",", '"', "\n", "\r\n", "é", "日本", "\U0001F600", "\u2028",
                  "ł", "x" * 40, "\u0080", "\u00ff", "\u0100", "\u00c3"]  # Latin-1's edges
        rows = []
        for i in range(12000):
            row = [str(i)]
            for c in range(3):
                n = rnd.choice([0, 1, 3, 12, 60])
                row.append("".join(rnd.choice(pieces) for _ in range(n)))
            rows.append(row)
        rows[5000][2] = "é" * 150000 + "end"   # one row larger than a window, non-ASCII
        rows[9000][3] = "q" * 300000           # and an ASCII one
        for ascii_only in (False, True):
            data = rows if not ascii_only else [
                [v.encode("ascii", "replace").decode() for v in row] for row in rows]
            write_csv(self.path("in.csv"), [["i", "a", "b", "c"]] + data)
            write(self.path("t.js"), """
function process(context) {
  const r = context.input.current();
  context.output.setField('got', JSON.stringify([r.a, r.b, r.c, context.input.getValue('b')]));
  return true;
}
""")
            write(self.path("first.js"), "function process(context) { return true; }\n")
            expected = {row[0]: [v or None for v in row[1:]] + [row[2] or None] for row in data}
            # Also as the second of two steps: its text is the first step's output, unescaped
            # and packed row after row (core/engine/step_fold.cc).
            for block, first in (("1MiB", ""), ("4096", ""), ("64KiB", "  - javascript: { file: first.js }\n")):
                p = self.pipeline(f"""
source: {{ path: in.csv, columns: [{{ name: i, type: int32 }}] }}
transform:
{first}  - javascript: {{ file: t.js, output: [i, got] }}
sink: {{ path: out.csv, outputMode: replace }}
limits: {{ threads: 2, blockSize: {block}, maxRecordSize: 2MiB }}
""")
                r = run(["run", p])
                self.assertEqual(r.code, 0, repr(r))
                out = parse_output(read(self.path("out.csv")))[1:]
                self.assertEqual(len(out), len(data))
                for i, got in out:
                    self.assertEqual(json.loads(got), expected[i], f"row {i}, block {block}")


class InputValuesAroundRejectedRecordsTest(TempDirTest):
    """Non-ASCII bytes outside every string field the script reads: in records rejected by
    the schema (skip-row), which lie between the batch's rows in the block, and in a column
    the script's views read as numbers. The values read still equal Python's csv reading."""

    def test_values_read_match_pythons_csv_around_rejected_records(self):
        rnd = random.Random(2026)
        pieces = ["a", "é", "日本", "\U0001F600", "ł", "q" * 20, ",", '"', "\n", "\u00ff"]
        rows, kept = [], []
        for i in range(6000):
            vals = ["".join(rnd.choice(pieces) for _ in range(rnd.choice([0, 1, 4, 15])))
                    for _ in range(2)]
            bad = rnd.random() < 0.2
            # A rejected record: its int column holds non-ASCII text (and so may its others).
            rows.append([f"{i}é" if bad else str(i), vals[0], "9" if not bad else "ü", vals[1]])
            if not bad:
                kept.append(rows[-1])
        write_csv(self.path("in.csv"), [["i", "a", "n", "b"]] + rows)
        write(self.path("t.js"), """
function process(context) {
  const r = context.input.current();
  context.output.setField('got', JSON.stringify([r.a, r.n, r.b]));
  return true;
}
""")
        expected = {row[0]: [row[1] or None, 9, row[3] or None] for row in kept}
        for block in ("1MiB", "4096"):
            p = self.pipeline(f"""
source: {{ path: in.csv, columns: [{{ name: i, type: int32 }}, {{ name: n, type: int32 }}] }}
transform:
  - javascript: {{ file: t.js, output: [i, got] }}
sink: {{ path: out.csv, outputMode: replace }}
errorHandling: skip-row
deadLetter: {{ path: dead.csv }}
limits: {{ threads: 2, blockSize: {block} }}
""")
            r = run(["run", p])
            self.assertEqual(r.code, 0, repr(r))
            out = parse_output(read(self.path("out.csv")))[1:]
            self.assertEqual(len(out), len(kept))
            for i, got in out:
                self.assertEqual(json.loads(got), expected[i], f"row {i}, block {block}")


class EncodedInputValuesTest(TempDirTest):
    """Latin-1 and windows-1252 files (every byte 0x20-0xFF in the values) read by a script
    equal Python's decoding of the file: their characters reach the script through the one-byte
    text (U+0080-U+00FF) or the two-byte one (windows-1252's U+20AC and others)."""

    def test_values_read_match_pythons_decoding(self):
        rnd = random.Random(1204)
        for encoding in ("latin-1", "windows-1252"):
            alphabet = [bytes([b]) for b in range(0x20, 0x100)
                        if bytes([b]) not in (b",", b'"')]
            if encoding == "windows-1252":  # five bytes are undefined there
                alphabet = [b for b in alphabet if b not in (b"\x81", b"\x8d", b"\x8f", b"\x90", b"\x9d")]
            rows = [b"i,a,b"] + [b"%d,%s,%s" % (i, b"".join(rnd.choice(alphabet) for _ in range(rnd.choice([0, 1, 5, 20]))),
                                                b"".join(rnd.choice(alphabet) for _ in range(3)))
                                 for i in range(3000)]
            with open(self.path("in.csv"), "wb") as f:
                f.write(b"\n".join(rows) + b"\n")
            write(self.path("t.js"), """
function process(context) {
  const r = context.input.current();
  context.output.setField('got', JSON.stringify([r.a, r.b]));
  return true;
}
""")
            p = self.pipeline(f"""
source: {{ path: in.csv, encoding: {encoding}, columns: [{{ name: i, type: int32 }}] }}
transform:
  - javascript: {{ file: t.js, output: [i, got] }}
sink: {{ path: out.csv, outputMode: replace }}
limits: {{ threads: 2, blockSize: 16KiB }}
""")
            r = run(["run", p])
            self.assertEqual(r.code, 0, repr(r))
            out = parse_output(read(self.path("out.csv")))[1:]
            self.assertEqual(len(out), len(rows) - 1)
            for line, (i, got) in zip(rows[1:], out):
                _, a, b = line.decode(encoding).split(",")
                self.assertEqual(json.loads(got), [a or None, b], f"{encoding} row {i}")


class TypedInputValuesTest(TempDirTest):
    """Typed columns read by a script equal a model of their conversion: booleans in every
    accepted spelling, integers with signs and leading zeros (beyond 2^53 a BigInt), floats
    in several notations, empty fields as null; 1 and 2 threads, small and large blocks. The
    parse stage keeps the values it validated for the first step (RowBatch::numbers): so
    also with bad rows set aside between good ones (skip-row: the kept values must move
    with their rows) and in a second step, after a first one filtered rows (which reads
    the text again)."""

    def test_typed_values_match_the_model(self):
        rnd = random.Random(1301)
        bools = {"1": True, "true": True, "TRUE": True, "True": True, "tRuE": True,
                 "0": False, "false": False, "FALSE": False, "False": False, "": None}
        rows, expected, bad = [], {}, set()
        for i in range(20000):
            b = rnd.choice(list(bools))
            n = rnd.choice([0, 7, -7, 2**53 - 1, -(2**53 - 1), 2**53, 2**53 + 1, -(2**53 + 5),
                            2**63 - 1, -(2**63), rnd.randint(-10**12, 10**12),
                            rnd.randint(-10**18, 10**18)])
            n_text = rnd.choice(["{}", "+{}", "{}"]).format(n) if n >= 0 else str(n)
            if n >= 0 and rnd.random() < 0.1:
                n_text = "00" + str(n)
            small = rnd.randint(-2**31, 2**31 - 1)
            f = rnd.choice(["1.5", "-2e10", "+3.25", "1e-300", "0.1", "12345.678",
                            "-0.0", "7", "1E5", str(rnd.uniform(-1e6, 1e6))])
            if rnd.random() < 0.05:
                n_text, f = "", ""
            row = [str(i), b, n_text, str(small), f]
            if rnd.random() < 0.03:  # a bad value in one typed column (only skip-row runs)
                k = rnd.randrange(1, 5)
                row[k] = rnd.choice({1: ["yes", "2"], 2: ["1.5", "+-1", "9223372036854775808"],
                                     3: ["2147483648", "x"], 4: ["1,5", "e"]}[k])
                bad.add(str(i))
            rows.append(row)
            expected[str(i)] = [bools.get(b), None if n_text == "" else
                                (["bigint", str(n)] if abs(n) > 2**53 - 1 else ["number", n]),
                                small,
                                None if f == "" else float(f)]
        buf = io.StringIO(newline="")
        csv.writer(buf, lineterminator="\n").writerows([["i", "b", "n", "s", "f"]] + rows)
        write(self.path("in.csv"), buf.getvalue())
        good = [r for r in rows if r[0] not in bad]
        buf = io.StringIO(newline="")
        csv.writer(buf, lineterminator="\n").writerows([["i", "b", "n", "s", "f"]] + good)
        write(self.path("good.csv"), buf.getvalue())
        write(self.path("t.js"), """
function process(context) {
  const r = context.input.current();
  const n = r.n === null ? null : [typeof r.n, typeof r.n === 'bigint' ? String(r.n) : r.n];
  context.output.setField('got', JSON.stringify([r.b, n, r.s, r.f]));
  return true;
}
""")
        write(self.path("drop.js"), "function process(context) {\n"
              "  return Number(context.input.current().i) % 3 !== 0;\n}\n")
        one_step = "  - javascript: { file: t.js, output: [i, got] }\n"
        two_steps = "  - javascript: { file: drop.js }\n" + one_step
        cases = [("good.csv", "fail-fast", one_step, 1, "1MiB"),
                 ("good.csv", "fail-fast", one_step, 2, "4096"),
                 ("in.csv", "skip-row", one_step, 2, "4096"),
                 ("in.csv", "skip-row", one_step, 1, "1MiB"),
                 ("in.csv", "skip-row", two_steps, 2, "4096")]
        for source, handling, steps, threads, block in cases:
            dead = ("deadLetter: { path: dead.csv, outputMode: replace }\n"
                    if handling == "skip-row" else "")
            with self.subTest(source=source, steps=steps.count("javascript"), threads=threads,
                              block=block):
                p = self.pipeline(f"""
source:
  path: {source}
  columns:
    - {{ name: i, type: int64 }}
    - {{ name: b, type: bool }}
    - {{ name: n, type: int64 }}
    - {{ name: s, type: int32 }}
    - {{ name: f, type: float64 }}
transform:
{steps}sink: {{ path: out.csv, outputMode: replace }}
errorHandling: {handling}
{dead}limits: {{ threads: {threads}, blockSize: {block} }}
""")
                r = run(["run", p])
                self.assertEqual(r.code, 0, repr(r))
                out = parse_output(read(self.path("out.csv")))[1:]
                want = [x[0] for x in good]
                if "drop.js" in steps:
                    want = [i for i in want if int(i) % 3 != 0]
                self.assertEqual([i for i, _ in out], want)
                for i, got in out:
                    self.assertEqual(json.loads(got), expected[i], f"row {i}")

class PassedThroughColumnsTest(TempDirTest):
    """Input columns passed through a script, in their order or not, around a value it sets:
    the output reads back (Python's csv) as the selected input values, and its bytes equal
    those of a run whose script sets every column from the row (each value then formatted
    on its own): the formatter copies runs of adjacent unquoted fields at once."""

    def test_passed_through_columns_match_the_values_set(self):
        rnd = random.Random(1202)
        pieces = ["a", "Z", "1", " ", ",", '"', "\n", "\r\n", "é", "日本", "\t", "|"]
        rows = []
        for i in range(6000):
            row = [str(i)]
            for c in range(4):
                n = rnd.choice([0, 0, 1, 3, 12, 70])
                row.append("".join(rnd.choice(pieces) for _ in range(n)))
            rows.append(row)
        for fmt, delim in (("csv", ","), ("psv", "|")):
            buf = io.StringIO(newline="")
            writer = csv.writer(buf, delimiter=delim, lineterminator="\n",
                                quoting=csv.QUOTE_MINIMAL if fmt == "csv" else csv.QUOTE_ALL)
            writer.writerows([["i", "a", "b", "c", "d"]] + rows)
            write(self.path(f"in.{fmt}"), buf.getvalue())
            for output in (["i", "a", "b", "c", "d", "x"], ["b", "c", "a"], ["d", "c", "b", "a", "i"],
                           ["a", "c", "x", "d"], ["x", "i", "a", "b"]):
                names = ", ".join(output)
                got = {}
                for mode in ("pass", "set"):
                    sets = "".join(f"context.output.setField('{n}', r.{n}); "
                                   for n in output if n != "x" and mode == "set")
                    write(self.path("t.js"), "function process(context) { const r = context.input.current(); "
                          + sets + ("if (r.i % 3 !== 0) context.output.setField('x', r.a + '|' + r.d); "
                                    if "x" in output else "") +
                          "return true; }\n")
                    p = self.pipeline(f"""
source: {{ path: in.{fmt}, format: {fmt}, columns: [{{ name: i, type: int32 }}] }}
transform:
  - javascript: {{ file: t.js, output: [{names}] }}
sink: {{ path: out.{fmt}, outputMode: replace }}
limits: {{ threads: 2, blockSize: 64KiB }}
""")
                    r = run(["run", p])
                    self.assertEqual(r.code, 0, repr(r))
                    got[mode] = read(self.path(f"out.{fmt}"))
                self.assertEqual(got["pass"], got["set"], f"{fmt} {output}")
                out = list(csv.reader(io.StringIO(got["pass"].decode("utf-8"), newline=""),
                                      delimiter=delim))
                self.assertEqual(out[0], output)
                self.assertEqual(len(out), len(rows) + 1)
                for row, line in zip(rows, out[1:]):
                    values = dict(zip(["i", "a", "b", "c", "d"], row))
                    values["x"] = "" if int(row[0]) % 3 == 0 else (
                        ("null" if row[1] == "" else row[1]) + "|" +
                        ("null" if row[4] == "" else row[4]))
                    self.assertEqual(line, [values[n] for n in output], f"{fmt} {output} row {row[0]}")


class WideRowsTest(TempDirTest):
    """Rows of 999 to 1,500 columns (the row object's values reach it as arguments up to
    1,000 columns, as one array beyond): every value a script reads through current() equals
    Python's csv reading of the input, and Object.keys lists the columns in order."""

    def test_wide_rows_read_like_pythons_csv(self):
        rnd = random.Random(1203)
        for ncols in (999, 1000, 1001, 1500):
            names = [f"c{k}" for k in range(ncols)]
            rows = [[str(i)] + ["".join(rnd.choice("ab,é\"") for _ in range(rnd.choice([0, 1, 4])))
                                for _ in range(ncols - 1)] for i in range(40)]
            buf = io.StringIO(newline="")
            csv.writer(buf, lineterminator="\n").writerows([names] + rows)
            write(self.path("in.csv"), buf.getvalue())
            write(self.path("t.js"), """
function process(context) {
  const r = context.input.current();
  const keys = Object.keys(r);
  context.output.setField('got', JSON.stringify([keys.length, keys[0], keys[keys.length - 1],
                                                 keys.map((k) => r[k])]));
  return true;
}
""")
            p = self.pipeline("""
source: { path: in.csv, columns: [{ name: c0, type: int32 }] }
transform:
  - javascript: { file: t.js, output: [c0, got] }
sink: { path: out.csv, outputMode: replace }
""")
            r = run(["run", p])
            self.assertEqual(r.code, 0, repr(r))
            out = parse_output(read(self.path("out.csv")))[1:]
            self.assertEqual(len(out), len(rows))
            for row, (i, got) in zip(rows, out):
                values = [int(row[0])] + [v or None for v in row[1:]]
                self.assertEqual(json.loads(got), [ncols, "c0", f"c{ncols - 1}", values],
                                 f"{ncols} columns, row {i}")


class SpecialColumnNamesTest(TempDirTest):
    def test_object_prototype_names_are_plain_columns(self):
        write(self.path("in.csv"), "__proto__,constructor,toString,hasOwnProperty,valueOf\n"
                                   "p,c,t,h,v\n")
        write(self.path("t.js"), """
function process(context) {
  const row = context.input.current();
  context.output.setField('seen', [row.__proto__, row.constructor, row.toString,
      row.hasOwnProperty, row.valueOf, Object.keys(row).join('|'),
      typeof Object.getPrototypeOf(row)].join(','));
  return true;
}
""")
        p = self.pipeline("source: { path: in.csv }\n"
                          "transform:\n  - javascript: { file: t.js, output: [seen] }\n"
                          "sink: { path: out.csv }\n")
        r = run(["run", p])
        self.assertEqual(r.code, 0, repr(r))
        self.assertEqual(parse_output(read(self.path("out.csv")))[1],
                         ["p,c,t,h,v,__proto__|constructor|toString|hasOwnProperty|valueOf,object"])


class NumberFormatTest(TempDirTest):
    """context.utils.format of numbers past 2^53 against Python's exact integers: an int64
    reaches the script as a BigInt beyond 2^53 and keeps every digit; a number from 1e21 on
    is written with all its digits (the double's exact value), never as 1e+21. The trial found
    9007199254740993 written as ...992 and 1e21 as 000...1e+21."""

    @staticmethod
    def expected(n, pattern):
        kind, digits = pattern[0], int(pattern[1:])
        sign = "-" if n < 0 else ""
        mag = abs(n) * (100 if kind == "P" else 1)
        if kind == "P" and abs(n) < 2**53 and n != 0:
            # A number (not a BigInt) below 1e19: v * 100 is a double product, rounded.
            return sign + f"{abs(float(n)) * 100:.{digits}f}" + " %"
        if kind == "D":
            return sign + str(mag).zfill(digits)
        fraction = "." + "0" * digits if digits else ""
        body = f"{mag:,}" if kind == "N" else str(mag)
        return sign + body + fraction + (" %" if kind == "P" else "")

    def test_big_integers_keep_every_digit(self):
        ints = [0, 42, -42, 2**53 - 1, 2**53 + 1, -(2**53 + 1), 2**62 + 12345,
                9223372036854775807, -9223372036854775807, -9223372036854775808,
                1234567890123456789]
        doubles = [1e21, -1e21, 2.5e21, 1.5e300, -7e25, 1e19 * 3]
        patterns = ["D0", "D25", "N0", "N2", "F0", "F3", "P1", "P0"]
        # The int64 column's values, then (a row with it empty) the doubles.
        write(self.path("t.js"), """
const D = %s;
const P = %s;
function process(context) {
  const id = context.input.getValue('id');
  const values = id === null ? D : [id];
  const out = [];
  for (const v of values) for (const p of P) out.push(context.utils.format(v, p));
  context.output.setField('f', out.join('|'));
  return true;
}
""" % (json.dumps(doubles), json.dumps(patterns)))
        write(self.path("in.csv"), "id,k\n" + "".join(f"{v},i\n" for v in ints) + ",d\n")
        p = self.pipeline("source: { path: in.csv, columns: [{ name: id, type: int64 }] }\n"
                          "transform:\n  - javascript: { file: t.js, output: [id, f] }\n"
                          "sink: { path: out.csv }\n")
        r = run(["run", p])
        self.assertEqual(r.code, 0, repr(r))
        out = parse_output(read(self.path("out.csv")))[1:]
        self.assertEqual(len(out), len(ints) + 1)
        for n, row in zip(ints, out):
            self.assertEqual(row[0], str(n))
            self.assertEqual(row[1].split("|"), [self.expected(n, p) for p in patterns], n)
        got = out[-1][1].split("|")
        want = [self.expected(int(d), p) for d in doubles for p in patterns]
        self.assertEqual(got, want)


class ErrorTextTest(TempDirTest):
    def test_a_lone_surrogate_in_an_error_message_is_valid_utf8_in_the_dead_letters(self):
        # The trial: the message column held the raw bytes ED A0 BD, and FlowEngine refused
        # to read its own dead letters back (FE-ENCODING-UTF8).
        write(self.path("in.csv"), "i\n0\n1\n2\n")
        write(self.path("t.js"), """
function process(context) {
  const i = context.input.getValue('i');
  if (i === 1) throw new Error('bad \\ud83d half ' + 'é'.repeat(40) + '\\udfff end');
  if (i === 2) return 'x\\ud800' + 'ü'.repeat(80);   // a bad result, shown cut short
  return true;
}
""")
        p = self.pipeline("source: { path: in.csv, columns: [{ name: i, type: int32 }] }\n"
                          "transform:\n  - javascript: { file: t.js }\n"
                          "sink: { path: out.csv }\nerrorHandling: skip-row\n"
                          "deadLetter: { path: dead.csv }\n")
        r = run(["run", p])
        self.assertEqual(r.code, 0, repr(r))
        raw = read(self.path("dead.csv"))
        text = raw.decode("utf-8")  # raises on invalid UTF-8
        self.assertIn("bad \ufffd half " + "é" * 40 + "\ufffd end", text)
        dead = dead_letters(self.path("dead.csv"))
        self.assertEqual([d["error_code"] for d in dead], ["FE-SCRIPT-ERROR", "FE-SCRIPT-RETURN"])
        self.assertIn("x\ufffd" + "ü" * 10, dead[1]["message"])
        # FlowEngine reads its own dead letters back.
        again = self.pipeline("source: { path: dead.csv }\nsink: { path: again.csv }\n",
                              name="again.yaml")
        r = run(["run", again])
        self.assertEqual(r.code, 0, repr(r))
        self.assertEqual(read(self.path("again.csv")), raw)


if __name__ == "__main__":
    unittest.main()
