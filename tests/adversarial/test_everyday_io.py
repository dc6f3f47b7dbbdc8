"""Everyday CSV work (issue 16) through the real binary, each against an oracle (Python's csv
and gzip/zstd modules, the uncompressed run, 1 vs 2 threads): standard input and output
(`cat | flowengine | sort`, `| head` ending on EPIPE with nothing else committed), gzip and
zstd inputs (multi-member, truncated, damaged, trailing bytes, a decompression bomb) and
outputs, several input files (a list, a glob; a header that differs; a bad row in the second
file named by its own file and line), sink.columns (select, reorder, rename, after a script,
unknown names)."""
import csv
import gzip
import io
import os
import shutil
import subprocess
import time

from harness import (BIN, TempDirTest, csv_rows, dead_letters, generate, read, run, snapshot,
                     write)

ZSTD = shutil.which("zstd")


def python_rows(path_or_bytes):
    data = read(path_or_bytes) if isinstance(path_or_bytes, str) else path_or_bytes
    return list(csv.reader(io.StringIO(data.decode("utf-8"), newline="")))


class StdioTest(TempDirTest):
    def setUp(self):
        super().setUp()
        generate(self.path("in.csv"), 30000)
        self.p = self.pipeline('source: { path: "-" }\nsink: { path: "-" }\n')

    def pipe(self, args, stdin_path, threads=2):
        with open(stdin_path, "rb") as f:
            return subprocess.run([BIN, "run", self.p, "--set", f"limits.threads={threads}"] + args,
                                  stdin=f, capture_output=True, timeout=120,
                                  env=dict(os.environ, FLOWENGINE_LOG_FORMAT="text"))

    def test_cat_into_flowengine_into_sort(self):
        cmd = f'cat "{self.path("in.csv")}" | "{BIN}" run "{self.p}" | sort'
        p = subprocess.run(["sh", "-c", cmd], capture_output=True, timeout=120)
        self.assertEqual(p.returncode, 0, p.stderr.decode())
        expected = sorted(read(self.path("in.csv")).decode().splitlines())
        self.assertEqual(sorted(p.stdout.decode().splitlines()), expected)

    def test_stdin_pipe_and_redirect_agree_with_one_and_two_threads(self):
        outputs = set()
        for threads in (1, 2):
            r = self.pipe([], self.path("in.csv"), threads)
            self.assertEqual(r.returncode, 0, r.stderr.decode())
            outputs.add(r.stdout)
            p = subprocess.run(f'cat "{self.path("in.csv")}" | "{BIN}" run "{self.p}" '
                               f'--set limits.threads={threads}', shell=True,
                               capture_output=True, timeout=120)
            self.assertEqual(p.returncode, 0, p.stderr.decode())
            outputs.add(p.stdout)
        self.assertEqual(len(outputs), 1)
        self.assertEqual(python_rows(outputs.pop()), python_rows(self.path("in.csv")))

    def test_errors_name_stdin(self):
        write(self.path("bad.csv"), "id,name\n1,a\n2,b,c\n")
        r = self.pipe([], self.path("bad.csv"))
        self.assertEqual(r.returncode, 1)
        self.assertIn("<stdin>:3", r.stderr.decode())

    def test_head_ends_cleanly_and_commits_nothing_else(self):
        generate(self.path("big.csv"), 400000)
        p = self.pipeline('source: { path: "-" }\nsink: { path: "-" }\n'
                          "transform:\n  - javascript:\n      code: |\n"
                          "        function process(c) { c.route.sendCopy('r'); return true; }\n"
                          "routes:\n  r: { path: routed.csv }\n", "h.yaml")
        start = time.monotonic()
        cmd = f'"{BIN}" run "{p}" < "{self.path("big.csv")}" | head -3; echo "status ${{PIPESTATUS[0]}}"'
        out = subprocess.run(["bash", "-c", cmd], capture_output=True, timeout=120,
                             env=dict(os.environ, FLOWENGINE_LOG_FORMAT="text"))
        self.assertLess(time.monotonic() - start, 30)
        lines = out.stdout.decode().splitlines()
        self.assertEqual(len(lines), 4, out)
        self.assertEqual(lines[-1], "status 141")
        err = out.stderr.decode()
        self.assertNotIn("error", err)
        self.assertIn("standard output was closed by its reader", err)
        self.assertFalse(os.path.exists(self.path("routed.csv")))
        self.assertEqual([f for f in os.listdir(self.dir) if f.startswith(".")], [])

    def test_dash_is_only_for_source_and_sink(self):
        for extra in ['routes: { r: { path: "-" } }\n',
                      'errorHandling: skip-row\ndeadLetter: { path: "-" }\n']:
            p = self.pipeline('source: { path: in.csv }\nsink: { path: out.csv }\n' + extra, "d.yaml")
            r = run(["validate", p])
            self.assertEqual(r.code, 2, repr(r))
            self.assertIn("only for source.path and sink.path", r.err)
        r = run(["bench", self.p])
        self.assertEqual(r.code, 2, repr(r))
        self.assertIn("cannot be read again", r.err)


class CompressionTest(TempDirTest):
    def setUp(self):
        super().setUp()
        generate(self.path("in.csv"), 50000)
        self.plain = read(self.path("in.csv"))
        with gzip.open(self.path("in.csv.gz"), "wb") as f:
            f.write(self.plain)
        self.require(ZSTD is not None, "the zstd command-line tool (Debian package zstd)")
        subprocess.run([ZSTD, "-q", "-f", self.path("in.csv"), "-o", self.path("in.csv.zst")],
                       check=True)

    def convert(self, source, sink, extra="", threads=2, block="1MiB"):
        p = self.pipeline(f"source: {{ path: {source} }}\n"
                          f"sink: {{ path: {sink}, outputMode: replace{extra} }}\n"
                          f"limits: {{ threads: {threads}, blockSize: {block} }}\n", "c.yaml")
        return run(["run", p])

    def test_compressed_inputs_give_the_uncompressed_run(self):
        r = self.convert("in.csv", "plain.csv")
        self.assertEqual(r.code, 0, repr(r))
        expected = read(self.path("plain.csv"))
        for source in ["in.csv.gz", "in.csv.zst"]:
            for threads, block in [(1, "1MiB"), (2, "64KiB")]:
                r = self.convert(source, "out.csv", threads=threads, block=block)
                self.assertEqual(r.code, 0, f"{source}: {r!r}")
                self.assertEqual(read(self.path("out.csv")), expected, f"{source} {threads}")
        # Several gzip members and zstd frames are one input.
        write(self.path("two.gz"), read(self.path("in.csv.gz")) +
              gzip.compress(b"".join(self.plain.split(b"\n", 1)[1:])))
        r = self.convert("two.gz", "out.csv")
        self.assertEqual(r.code, 0, repr(r))
        self.assertEqual(len(python_rows(self.path("out.csv"))), 2 * 50000 + 1)

    def test_compressed_outputs_round_trip(self):
        for sink, extra, opener in [("out.csv.gz", "", gzip.decompress),
                                    ("out.csv.zst", "", None),
                                    ("out.gz", ", compression: none", lambda b: b),
                                    ("out.dat", ", compression: gzip", gzip.decompress)]:
            for threads in (1, 2):
                r = self.convert("in.csv", sink, extra, threads=threads, block="256KiB")
                self.assertEqual(r.code, 0, f"{sink}: {r!r}")
                data = read(self.path(sink))
                if opener is None:
                    data = subprocess.run([ZSTD, "-dc", self.path(sink)], capture_output=True,
                                          check=True).stdout
                else:
                    data = opener(data)
                self.assertEqual(data, self.plain, f"{sink} {threads} threads")
        # Without rows (header: false, a filter that drops all) the file is still valid.
        p = self.pipeline("source: { path: in.csv, maxRows: 1 }\n"
                          "sink: { path: empty.csv.gz, outputMode: replace, header: false }\n"
                          "transform:\n  - javascript: { code: 'function process() { return false; }' }\n",
                          "e.yaml")
        r = run(["run", p])
        self.assertEqual(r.code, 0, repr(r))
        self.assertEqual(gzip.decompress(read(self.path("empty.csv.gz"))), b"")
        # append cannot check a compressed target's header: refused.
        p = self.pipeline("source: { path: in.csv }\nsink: { path: x.csv.gz, outputMode: append }\n",
                          "a.yaml")
        r = run(["validate", p])
        self.assertEqual(r.code, 2, repr(r))
        self.assertIn("append cannot add to a gzip file", r.err)

    def test_damaged_inputs_are_errors_and_commit_nothing(self):
        gz = read(self.path("in.csv.gz"))
        zst = read(self.path("in.csv.zst"))
        flipped = bytearray(gz)
        flipped[len(gz) // 2] ^= 0xFF
        cases = {
            "cut.gz": gz[: len(gz) // 2],
            "cut.zst": zst[: len(zst) // 2],
            "tail.gz": gz + b"garbage\n",
            "flip.gz": bytes(flipped),
            "crc.gz": gz[:-8] + bytes(8),  # the trailer's CRC and size zeroed
            "header-only.gz": gz[:10],
        }
        write(self.path("out.csv"), "keep\n")
        for name, data in cases.items():
            write(self.path(name), data)
            r = self.convert(name, "out.csv")
            self.assertEqual(r.code, 1, f"{name}: {r!r}")
            # A flipped byte may decompress to rows that do not parse before the member's
            # checksum says so: either error stops the run.
            self.assertRegex(r.err, "FE-INPUT-COMPRESSED" if name != "flip.gz"
                             else "FE-INPUT-(COMPRESSED|FIELD-COUNT|STRAY-QUOTE|UNTERMINATED)", name)
            self.assertEqual(read(self.path("out.csv")), b"keep\n", name)
        # Under skip-row too: rows of a damaged member may be dead-lettered on the way, but
        # the checksum at its end fails the run; nothing is committed.
        p = self.pipeline("source: { path: flip.gz }\nsink: { path: out.csv, outputMode: replace }\n"
                          "errorHandling: skip-row\n"
                          "deadLetter: { path: dead.csv, outputMode: replace }\n", "s.yaml")
        r = run(["run", p])
        self.assertEqual(r.code, 1, repr(r))
        self.assertIn("FE-INPUT-COMPRESSED", r.err)
        self.assertEqual(read(self.path("out.csv")), b"keep\n")
        self.assertFalse(os.path.exists(self.path("dead.csv")))

    def test_a_decompression_bomb_is_bounded(self):
        # 256 MiB of one endless line, about 250 KiB compressed: the record limit stops it,
        # memory stays small.
        with gzip.open(self.path("bomb.gz"), "wb", compresslevel=9) as f:
            f.write(b"id\n")
            chunk = b"a" * (1 << 20)
            for _ in range(256):
                f.write(chunk)
        p = self.pipeline("source: { path: bomb.gz }\nsink: { path: out.csv, outputMode: replace }\n"
                          "limits: { maxRecordSize: 4MiB }\n", "b.yaml")
        r = subprocess.run(["/usr/bin/time", "-f", "%M", BIN, "run", p], capture_output=True,
                           timeout=120, env=dict(os.environ, FLOWENGINE_LOG_FORMAT="text"))
        err = r.stderr.decode()
        self.assertEqual(r.returncode, 1, err)
        self.assertIn("FE-INPUT-RECORD-TOO-LARGE", err)
        self.assertLess(int(err.strip().splitlines()[-1]) / 1024, 200, "peak RSS MiB")


class MultiFileTest(TempDirTest):
    def setUp(self):
        super().setUp()
        os.mkdir(self.path("daily"))
        self.files = []
        for day in range(1, 6):
            name = self.path("daily", f"2026-03-{day:02d}.csv")
            generate(name, 3000 + day, seed=day)
            self.files.append(name)
        write(self.path("daily", "notes.txt"), "not matched\n")

    def expected_rows(self, files):
        rows = [python_rows(files[0])[0]]
        for f in files:
            rows += python_rows(f)[1:]
        return rows

    def test_glob_and_list_read_in_order_as_one_input(self):
        for source in ['"daily/2026-03-*.csv"',
                       "[daily/2026-03-01.csv, \"daily/2026-03-0[2-4].csv\", daily/2026-03-05.csv]"]:
            for threads, block in [(1, "1MiB"), (2, "32KiB")]:
                p = self.pipeline(f"source: {{ path: {source} }}\n"
                                  "sink: { path: out.csv, outputMode: replace }\n"
                                  f"limits: {{ threads: {threads}, blockSize: {block} }}\n")
                r = run(["run", p])
                self.assertEqual(r.code, 0, repr(r))
                self.assertEqual(python_rows(self.path("out.csv")), self.expected_rows(self.files),
                                 f"{source} {threads}")

    def test_a_header_that_differs_names_its_file(self):
        bad = self.files[2]
        data = read(bad)
        write(bad, data.replace(b"first_name", b"firstname", 1))
        p = self.pipeline('source: { path: "daily/*.csv" }\nsink: { path: out.csv }\n')
        for cmd in ["validate", "run"]:
            r = run([cmd, p])
            self.assertEqual(r.code, 2, f"{cmd}: {r!r}")
            self.assertIn("FE-CONFIG-HEADER", r.err)
            self.assertIn(bad, r.err)
            self.assertIn("firstname", r.err)
        self.assertFalse(os.path.exists(self.path("out.csv")))

    def test_a_bad_row_in_the_second_file_names_that_file_and_line(self):
        lines = read(self.files[1]).split(b"\n")
        lines[7] = b"not,a,valid,row"  # record 7 of that file (no quoted line breaks before it)
        write(self.files[1], b"\n".join(lines))
        line_of_bad = 8
        for threads in (1, 2):
            p = self.pipeline('source: { path: "daily/*.csv" }\n'
                              "sink: { path: out.csv, outputMode: replace }\n"
                              "errorHandling: skip-row\n"
                              "deadLetter: { path: dead.csv, outputMode: replace }\n"
                              f"limits: {{ threads: {threads}, blockSize: 16KiB }}\n")
            r = run(["run", p])
            self.assertEqual(r.code, 0, repr(r))
            dead = dead_letters(self.path("dead.csv"))
            self.assertEqual(len(dead), 1, dead)
            self.assertEqual(dead[0]["file"], self.files[1])
            self.assertEqual(int(dead[0]["line"]), line_of_bad)
            self.assertEqual(dead[0]["raw"], "not,a,valid,row")
            self.assertIn(f"{self.files[1]}:{line_of_bad}", r.err)

    def test_glob_errors(self):
        for source, message in [('"nothing/*.csv"', "No file matches"),
                                ("[daily/2026-03-01.csv, daily/2026-03-0*.csv]", "listed twice"),
                                ("[]", "empty list")]:
            p = self.pipeline(f"source: {{ path: {source} }}\nsink: {{ path: out.csv }}\n")
            r = run(["validate", p])
            self.assertEqual(r.code, 2, f"{source}: {r!r}")
            self.assertIn(message, r.err)

    def test_an_output_among_the_globbed_inputs_is_refused(self):
        p = self.pipeline('source: { path: "daily/*.csv" }\n'
                          "sink: { path: daily/2026-03-05.csv, outputMode: replace }\n")
        before = snapshot(self.dir)
        r = run(["run", p])
        self.assertEqual(r.code, 2, repr(r))
        self.assertIn("FE-CONFIG-ALIAS", r.err)
        self.assertEqual(snapshot(self.dir), before)


class SinkColumnsTest(TempDirTest):
    def setUp(self):
        super().setUp()
        generate(self.path("in.csv"), 5000)
        self.rows = python_rows(self.path("in.csv"))

    def test_select_reorder_rename_with_and_without_a_script(self):
        header = self.rows[0]
        idx = {n: i for i, n in enumerate(header)}
        expected = [["email", "customer", "id"]] + [[r[idx["email"]], r[idx["first_name"]], r[idx["id"]]]
                                                      for r in self.rows[1:]]
        cols = "columns: [email, { name: customer, from: first_name }, id]"
        for threads in (1, 2):
            p = self.pipeline(f"source: {{ path: in.csv }}\nsink: {{ path: out.csv, outputMode: replace, {cols} }}\n"
                              f"limits: {{ threads: {threads}, blockSize: 64KiB }}\n")
            r = run(["run", p])
            self.assertEqual(r.code, 0, repr(r))
            self.assertEqual(python_rows(self.path("out.csv")), expected)
        p = self.pipeline("source: { path: in.csv }\n"
                          "transform:\n  - javascript:\n      code: |\n"
                          "        function process(c) { c.output.setField('tag', 'x' + c.input.getValue('id')); return true; }\n"
                          "      output: [id, first_name, tag]\n"
                          "sink: { path: out.csv, outputMode: replace, columns: [tag, { name: who, from: first_name }] }\n")
        r = run(["run", p])
        self.assertEqual(r.code, 0, repr(r))
        out = python_rows(self.path("out.csv"))
        self.assertEqual(out[0], ["tag", "who"])
        self.assertEqual(out[1:], [["x" + r[idx["id"]], r[idx["first_name"]]] for r in self.rows[1:]])

    def test_unknown_and_duplicate_names(self):
        p = self.pipeline("source: { path: in.csv }\n"
                          "sink: { path: out.csv, columns: [id, { name: x, from: frist_name }] }\n")
        r = run(["validate", p])
        self.assertEqual(r.code, 2, repr(r))
        self.assertIn("did you mean 'first_name'", r.err)
        self.assertIn(":2:", r.err)  # the YAML line of the entry
        p = self.pipeline("source: { path: in.csv }\nsink: { path: out.csv, columns: [id, { name: id, from: age }] }\n")
        r = run(["validate", p])
        self.assertEqual(r.code, 2, repr(r))
        self.assertIn("written twice", r.err)
