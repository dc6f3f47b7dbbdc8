"""The files a run makes beside its targets (the lock ".NAME.flowengine-lock", the commit
journal ".NAME.flowengine-journal" and its temp file), attacked: links planted at their names
before the run (symbolic, dangling, hard), a file crafted to look like a journal, a target
named like one of them, and concurrent appends to a target that is missing at the start
(the header is decided under the lock). Oracle: the files outside are byte-identical (or
still absent), and the appended target holds one header and every row of every run."""
import os
import subprocess
import unittest

from harness import BIN, TempDirTest, read, run, slow_pipeline, wait_for, write
from serve_client import Server


def rows(tag, n):
    return "id,v\n" + "".join(f"{i},{tag}\n" for i in range(n))


class LockFileTest(TempDirTest):
    def setUp(self):
        super().setUp()
        write(self.path("in.csv"), rows("a", 10))
        os.mkdir(self.path("outside"))
        self.victim = self.path("outside", "victim.txt")
        write(self.victim, "precious data\n")
        self.yaml = self.pipeline("""
source: { path: in.csv }
sink: { path: out.csv, outputMode: replace }
""")

    def test_a_symlink_at_the_lock_name_is_refused_and_its_file_untouched(self):
        os.symlink(self.victim, self.path(".out.csv.flowengine-lock"))
        r = run(["run", self.yaml])
        self.assertCode(r, "FE-OUTPUT-OPEN", exit_code=1)
        self.assertIn("symbolic link", r.err)
        self.assertIn(".out.csv.flowengine-lock", r.err)
        self.assertEqual(read(self.victim), b"precious data\n")
        self.assertFalse(os.path.exists(self.path("out.csv")))

    def test_a_dangling_symlink_at_the_lock_name_creates_nothing(self):
        created = self.path("outside", "created.txt")
        os.symlink(created, self.path(".out.csv.flowengine-lock"))
        r = run(["run", self.yaml])
        self.assertCode(r, "FE-OUTPUT-OPEN", exit_code=1)
        self.assertFalse(os.path.exists(created))

    def test_a_hard_link_at_the_lock_name_is_refused_and_its_file_untouched(self):
        os.link(self.victim, self.path(".out.csv.flowengine-lock"))
        r = run(["run", self.yaml])
        self.assertCode(r, "FE-OUTPUT-OPEN", exit_code=1)
        self.assertIn("hard link", r.err)
        self.assertEqual(read(self.victim), b"precious data\n")

    def test_the_lock_left_by_a_killed_run_still_does_not_block(self):
        write(self.path(".out.csv.flowengine-lock"), "99999999\n")
        r = run(["run", self.yaml])
        self.assertEqual(r.code, 0, repr(r))
        self.assertEqual(read(self.path("out.csv")), rows("a", 10).encode())
        self.assertFalse(os.path.exists(self.path(".out.csv.flowengine-lock")))

    def test_a_target_named_like_a_working_file_is_refused(self):
        for name in [".x.csv.flowengine-lock", ".x.csv.flowengine-journal",
                     ".x.csv.flowengine-tmp.1.0"]:
            r = run(["run", self.yaml, "--set", f"sink.path={self.path(name)}"])
            self.assertCode(r, "FE-CONFIG-VALUE", exit_code=2)
            self.assertIn("named like the lock, temp and journal files", r.err)
            self.assertFalse(os.path.exists(self.path(name)), name)


class ReportFileTest(TempDirTest):
    """Report files (--summary, --metrics-file, --trace, --sample-dir files) are checked at
    startup and written at the end: a link re-pointed in between must not redirect them."""

    def test_links_re_pointed_during_the_run_do_not_redirect_the_reports(self):
        write(self.path("in.csv"), rows("a", 1500))
        original = read(self.path("in.csv"))
        yaml = self.pipeline(slow_pipeline())
        os.mkdir(self.path("sd"))
        links = {"summary.json": "r-summary.json", "metrics.prom": "r-metrics.prom",
                 "trace.json": "r-trace.json", "sd/source.csv": "../r-source.csv",
                 "sd/transform.csv": "../r-transform.csv"}
        for link, target in links.items():
            write(self.path(os.path.normpath(os.path.join(os.path.dirname(link), target))), "old")
            os.symlink(target, self.path(link))
        proc = subprocess.Popen([BIN, "run", yaml, "--summary", self.path("summary.json"),
                                 "--metrics-file", self.path("metrics.prom"), "--trace",
                                 self.path("trace.json"), "--sample", "3", "--sample-dir",
                                 self.path("sd"), "--log-level", "error"],
                                stderr=subprocess.PIPE)
        wait_for(lambda: os.path.exists(self.path(".out.csv.flowengine-lock")), timeout=30)
        for link in links:  # now every one leads to the input
            tmp = self.path(link) + ".new"
            os.symlink(self.path("in.csv"), tmp)
            os.replace(tmp, self.path(link))
        _, err = proc.communicate(timeout=120)
        self.assertEqual(proc.returncode, 0, err.decode())
        self.assertEqual(read(self.path("in.csv")), original)
        self.assertIn(b'"rows"', read(self.path("r-summary.json")))
        self.assertIn(b"flowengine_", read(self.path("r-metrics.prom")))
        self.assertIn(b"traceEvents", read(self.path("r-trace.json")))
        self.assertTrue(read(self.path("r-source.csv")).startswith(b"_line,"))
        self.assertTrue(read(self.path("r-transform.csv")).startswith(b"_line,"))

    def test_a_report_in_a_missing_directory_fails_the_run_before_it_starts(self):
        write(self.path("in.csv"), rows("a", 20))
        yaml = self.pipeline("""
source: { path: in.csv }
sink: { path: out.csv, outputMode: replace }
""")
        for option in ("--summary", "--trace", "--metrics-file"):
            r = run(["run", yaml, option, self.path("nodir", "report")])
            self.assertCode(r, "FE-OUTPUT-OPEN", exit_code=1)
            self.assertIn(f"The directory of {option}", r.err)
            self.assertFalse(os.path.exists(self.path("out.csv")), option)

    def test_standard_input_read_from_a_file_is_an_input(self):
        write(self.path("in.csv"), rows("a", 20))
        original = read(self.path("in.csv"))
        yaml = self.pipeline("""
source: { path: "-" }
sink: { path: out.csv, outputMode: replace }
""")
        for extra in (["--summary", self.path("in.csv")],
                      ["--set", f"sink.path={self.path('in.csv')}"]):
            with open(self.path("in.csv"), "rb") as stdin:
                r = run(["run", yaml] + extra, stdin=stdin)
            self.assertCode(r, "FE-CONFIG-ALIAS", exit_code=2)
            self.assertIn("standard input", r.err)
            self.assertEqual(read(self.path("in.csv")), original)
        with open(self.path("in.csv"), "rb") as stdin:  # no alias: the run works
            r = run(["run", yaml], stdin=stdin)
        self.assertEqual(r.code, 0, repr(r))
        self.assertEqual(read(self.path("out.csv")), original)


class CraftedJournalTest(TempDirTest):
    """A file named like out.csv's journal whose entries rename files that are not out.csv's
    temp files: the completion must refuse it, not rename them."""

    def test_a_journal_naming_other_files_is_refused_and_nothing_renamed(self):
        write(self.path("in.csv"), rows("a", 5))
        os.mkdir(self.path("outside"))
        victim = self.path("outside", "victim.txt")
        write(victim, "precious data\n")
        write(self.path("evil.csv"), "attacker content\n")
        cases = {
            "replaces an outside file": f"R {self.path('evil.csv')} {victim}",
            "moves an outside file in": f"R {victim} {self.path('out.csv')}",
            "a temp of another target": f"R {self.path('.evil.csv.flowengine-tmp.1.0')} "
                                        f"{self.path('out.csv')}",
        }
        write(self.path(".evil.csv.flowengine-tmp.1.0"), "attacker content\n")
        yaml = self.pipeline("""
source: { path: in.csv }
sink: { path: out.csv, outputMode: replace }
""")
        for what, entry in cases.items():
            journal = self.path(".out.csv.flowengine-journal")
            write(journal, f"flowengine-commit-journal 1\npid 1\n{entry}\nend\n")
            r = run(["run", yaml])
            self.assertCode(r, "FE-OUTPUT-COMMIT", exit_code=1)
            self.assertIn("names files that no commit of flowengine renames", r.err, what)
            self.assertEqual(read(victim), b"precious data\n", what)
            self.assertEqual(read(self.path("evil.csv")), b"attacker content\n", what)
            self.assertFalse(os.path.exists(self.path("out.csv")), what)
            os.unlink(journal)
        r = run(["run", yaml])
        self.assertEqual(r.code, 0, repr(r))


class ConcurrentAppendTest(TempDirTest):
    """Runs appending to a target that is missing when they start: each decides about the
    header once it holds the lock, so the target gets exactly one."""

    def test_concurrent_appends_to_a_missing_target_write_one_header(self):
        n, runs = 2000, 4
        for k in range(runs):
            write(self.path(f"in{k}.csv"), rows(f"r{k}", n))
        yaml = self.pipeline("""
source: { path: in0.csv }
sink: { path: out.csv, outputMode: append }
retry: { attempts: 100, initialDelay: 5ms, maxDelay: 20ms }
limits: { threads: 1 }
""")
        procs = [subprocess.Popen([BIN, "run", yaml, "--set",
                                   f"source.path={self.path(f'in{k}.csv')}", "--log-level",
                                   "error"], stderr=subprocess.PIPE)
                 for k in range(runs)]
        for p in procs:
            _, err = p.communicate(timeout=120)
            self.assertEqual(p.returncode, 0, err.decode())
        lines = read(self.path("out.csv")).decode().splitlines()
        self.assertEqual(lines.count("id,v"), 1, [i for i, l in enumerate(lines) if l == "id,v"])
        self.assertEqual(lines[0], "id,v")
        expected = sorted(f"{i},r{k}" for k in range(runs) for i in range(n))
        self.assertEqual(sorted(lines[1:]), expected)


class ServeJournalTempTest(TempDirTest):
    """serve's pid is known, so the name of a journal's temp file is too: a link planted
    there must not be written through."""

    def test_a_link_at_the_journal_temp_name_is_not_written_through(self):
        pipes, data = self.path("pipes"), self.path("data")
        os.makedirs(os.path.join(data, "out"))
        os.makedirs(pipes)
        os.mkdir(self.path("outside"))
        victim = self.path("outside", "victim.txt")
        write(victim, "precious data\n")
        write(os.path.join(data, "in.csv"), "id,v\n1,a\n2,b\n3,bad\n")
        write(os.path.join(pipes, "p.yaml"), f"""
pipeline: p
source: {{ path: {data}/in.csv }}
transform:
  - javascript:
      code: |
        function process(context) {{
          if (context.input.current().v === 'bad') throw new Error('bad row');
          return true;
        }}
sink: {{ path: {data}/out/o.csv, outputMode: replace }}
errorHandling: skip-row
deadLetter: {{ path: {data}/out/dead.csv, outputMode: replace }}
""")
        server = Server(BIN, pipes, [data], log_path=self.path("serve.log"))
        try:
            temp = os.path.join(data, "out", f".o.csv.flowengine-journal.flowengine-tmp."
                                f"{server.proc.pid}.journal")
            os.symlink(victim, temp)
            final = server.wait(server.submit("p"))
            self.assertEqual(final["state"], "succeeded", final)
        finally:
            server.stop()
        self.assertEqual(read(victim), b"precious data\n")
        self.assertEqual(read(os.path.join(data, "out", "o.csv")), b"id,v\n1,a\n2,b\n")
        self.assertFalse(os.path.lexists(temp))


if __name__ == "__main__":
    unittest.main()
