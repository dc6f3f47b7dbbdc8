#!/usr/bin/env python3
"""End-to-end throughput harness: runs the real `flowengine` binary on generated customers
files several times per scenario and reports median rows/s and MB/s, peak RSS and the
coefficient of variation (CV) of the wall times. Writes the results as JSON, fails when a
scenario's spread (robust CV, from the median absolute deviation) exceeds the variance
budget, and with --compare OLD.json fails when a
scenario's median MB/s dropped by more than the budget.

  bench/e2e/throughput.py [--build build] [--rows 1000000] [--runs 7] [--budget 10]
                          [--scenarios passthrough,csv2tsv] [--threads 0]
                          [--json out.json] [--compare old.json]

Every run starts with no target file (the previous run's output is removed first), so a
run's time is reading, parsing, formatting, writing, fsync and rename of its own data; one
warm-up run per scenario is discarded so that the input is in the page cache. MB/s counts
input bytes (10^6) per second of wall time of the whole process.
"""
import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

SCENARIOS = {
    # name: (source format, sink format, typed columns, transform YAML)
    "passthrough": ("csv", "csv", False, ""),
    "passthrough-typed": ("csv", "csv", True, ""),
    "csv2tsv": ("csv", "tsv", False, ""),
    # The JavaScript benchmark of issue 4: drop inactive rows, add full_name and
    # amount_with_tax = (amount * 1.2).toFixed(2).
    "js-enrich": ("csv", "csv", True, """transform:
  - javascript:
      code: |
        function process(context) {
          const row = context.input.current();
          if (!row.active) return false;
          context.output.setField('full_name', row.first_name + ' ' + row.last_name);
          context.output.setField('amount_with_tax', (row.amount * 1.2).toFixed(2));
          return true;
        }
      output: [id, first_name, last_name, email, city, age, amount, created_at, active, notes,
               full_name, amount_with_tax]
"""),
    # js-enrich as two steps: a filter, then the enrichment of the rows it kept (the same
    # output as js-enrich; the difference is the cost of a step boundary).
    "js-enrich-2-steps": ("csv", "csv", True, """transform:
  - javascript:
      code: |
        function process(context) { return context.input.getValue('active') === true; }
  - javascript:
      code: |
        function process(context) {
          const row = context.input.current();
          context.output.setField('full_name', row.first_name + ' ' + row.last_name);
          context.output.setField('amount_with_tax', (row.amount * 1.2).toFixed(2));
          return true;
        }
      output: [id, first_name, last_name, email, city, age, amount, created_at, active, notes,
               full_name, amount_with_tax]
"""),
    # Reads every column through current() and writes one value built from all of them.
    "js-all-columns": ("csv", "csv", True, """transform:
  - javascript:
      code: |
        function process(context) {
          const r = context.input.current();
          context.output.setField('summary', r.id + '|' + r.first_name + '|' + r.last_name + '|' +
              r.email + '|' + r.city + '|' + r.age + '|' + r.amount + '|' + r.created_at + '|' +
              r.active + '|' + r.notes.length);
          return true;
        }
      output: [id, summary]
"""),
    # String work: case changes, splitting, replacing, a template, several values set.
    "js-strings": ("csv", "csv", True, """transform:
  - javascript:
      code: |
        function process(context) {
          const r = context.input.current();
          const at = r.email.indexOf('@');
          context.output.setField('user', r.email.slice(0, at).toUpperCase());
          context.output.setField('domain', r.email.slice(at + 1).split('.').reverse().join('.'));
          context.output.setField('city', r.city.normalize('NFD').replace(/[\\u0300-\\u036f]/g, ''));
          context.output.setField('words', r.notes.split(' ').filter((w) => w.length > 5).join(';'));
          context.output.setField('label', `${r.last_name.toLowerCase()}, ${r.first_name} (${r.age})`);
          return true;
        }
      output: [id, user, domain, city, words, label]
"""),
    # Filter only: one typed column read, nothing set.
    "js-filter": ("csv", "csv", True, """transform:
  - javascript:
      code: |
        function process(context) { return context.input.getValue('active') === true; }
"""),
    # js-enrich where 1% of the rows throw an error built from their input (skip-row).
    "js-throw-1pct": ("csv", "csv", True, """transform:
  - javascript:
      code: |
        function process(context) {
          const row = context.input.current();
          if (row.id % 100 === 0) throw new Error('bad row ' + row.notes);
          if (!row.active) return false;
          context.output.setField('full_name', row.first_name + ' ' + row.last_name);
          context.output.setField('amount_with_tax', (row.amount * 1.2).toFixed(2));
          return true;
        }
      output: [id, first_name, last_name, email, city, age, amount, created_at, active, notes,
               full_name, amount_with_tax]
errorHandling: skip-row
deadLetter: { path: {workdir}/dead-letters.csv, outputMode: replace }
"""),
}

TYPED = """  columns:
    - { name: id, type: int64, required: true }
    - { name: age, type: int32 }
    - { name: amount, type: float64 }
    - { name: active, type: bool }
"""


def generate(build, workdir, rows):
    path = os.path.join(workdir, f"customers-{rows}.csv")
    if not os.path.exists(path):
        subprocess.run([os.path.join(build, "flowengine-gen"), "--rows", str(rows), "--out", path],
                       check=True)
    return path


def run_once(binary, pipeline, out_path, extra):
    if os.path.exists(out_path):
        os.remove(out_path)
    os.sync()  # the previous run's writeback must not land in this run's time
    start = time.perf_counter()
    env = dict(os.environ, FLOWENGINE_LOG_FORMAT="text")  # the summary lines parsed below
    # stderr goes to a file, not a pipe: a run that logs more than a pipe holds must not
    # block on it while this process waits for it to end.
    with tempfile.TemporaryFile() as log:
        proc = subprocess.Popen([binary, "run", pipeline] + extra, stderr=log, env=env)
        _, status, usage = os.wait4(proc.pid, 0)
        elapsed = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)  # reaped: Popen must not wait
        log.seek(0)
        err = log.read().decode()
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        raise SystemExit(f"flowengine failed ({code}):\n{err}")
    m = re.search(r"graph ([0-9.]+) s, commit ([0-9.]+) s; memory peak ([0-9.]+) MiB", err)
    busy = re.search(r"read ([0-9.]+) s, parse ([0-9.]+) s, transform ([0-9.]+) s, "
                     r"format ([0-9.]+) s, write ([0-9.]+) s", err)
    return {
        "seconds": elapsed,
        "cpu_seconds": usage.ru_utime + usage.ru_stime,
        "max_rss_kib": usage.ru_maxrss,
        "graph_seconds": float(m.group(1)) if m else None,
        "commit_seconds": float(m.group(2)) if m else None,
        "memory_peak_mib": float(m.group(3)) if m else None,
        "busy_seconds": dict(zip(["read", "parse", "transform", "format", "write"],
                                 [float(x) for x in busy.groups()])) if busy else None,
    }


def write_pipeline(workdir, name, source, out_path, threads):
    src_fmt, sink_fmt, typed, transform = SCENARIOS[name]
    pipeline = os.path.join(workdir, f"{name}.yaml")
    with open(pipeline, "w") as f:
        f.write(f"pipeline: bench-{name}\nsource:\n  path: {source}\n  format: {src_fmt}\n"
                + (TYPED if typed else "") + transform.replace("{workdir}", workdir)
                + f"sink:\n  path: {out_path}\n  format: {sink_fmt}\n  outputMode: create\n"
                + f"limits: {{ threads: {threads} }}\n")
    return pipeline


def measure(args, workdir, name, rows, threads):
    src_fmt, sink_fmt, typed, transform = SCENARIOS[name]
    source = generate(args.build, workdir, rows)
    out_path = os.path.join(workdir, f"out-{name}.{sink_fmt}")
    pipeline = write_pipeline(workdir, name, source, out_path, threads)
    binary = os.path.join(args.build, "flowengine")
    extra = [f"--set=limits.memory={args.memory}"] if args.memory else []
    run_once(binary, pipeline, out_path, extra)  # warm-up
    runs = [run_once(binary, pipeline, out_path, extra) for _ in range(args.runs)]
    size = os.path.getsize(source)
    times = [r["seconds"] for r in runs]
    median = statistics.median(times)
    cv = statistics.stdev(times) / statistics.mean(times) * 100 if len(times) > 1 else 0.0
    # Robust spread: median absolute deviation, scaled to estimate a standard deviation, over
    # the median. One run disturbed by the machine does not move it; a bimodal or drifting
    # set of runs does. This is what the variance budget applies to.
    mad = statistics.median(abs(t - median) for t in times) * 1.4826
    robust_cv = mad / median * 100
    return {
        "scenario": name,
        "rows": rows,
        "threads": threads,
        "input_bytes": size,
        "runs": len(runs),
        "median_seconds": median,
        "rows_per_second": rows / median,
        "mb_per_second": size / median / 1e6,
        "cv_percent": cv,
        "robust_cv_percent": robust_cv,
        "median_graph_seconds": statistics.median(
            [r["graph_seconds"] for r in runs if r["graph_seconds"] is not None] or [0]),
        "median_commit_seconds": statistics.median(
            [r["commit_seconds"] for r in runs if r["commit_seconds"] is not None] or [0]),
        "max_rss_mib": max(r["max_rss_kib"] for r in runs) / 1024,
        "memory_peak_mib": max((r["memory_peak_mib"] or 0) for r in runs),
        "cpu_seconds_median": statistics.median(r["cpu_seconds"] for r in runs),
        "busy_seconds_median": {
            stage: statistics.median(r["busy_seconds"][stage] for r in runs)
            for stage in ["read", "parse", "transform", "format", "write"]
        } if all(r["busy_seconds"] for r in runs) else None,
    }


def key(r):
    return f'{r["scenario"]}/rows={r["rows"]}/threads={r["threads"]}'


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--build", default=os.path.join(ROOT, "build"))
    p.add_argument("--rows", default="1000000", help="comma-separated row counts")
    p.add_argument("--runs", type=int, default=7)
    p.add_argument("--budget", type=float, default=10.0, help="variance budget, percent")
    p.add_argument("--scenarios", default="passthrough,csv2tsv")
    p.add_argument("--threads", default="0", help="comma-separated thread counts (0 = all)")
    p.add_argument("--memory", default="", help="limits.memory for every run (e.g. 64MiB)")
    p.add_argument("--workdir", default="", help="where data and outputs go (default: temp)")
    p.add_argument("--json", default="", help="write results here")
    p.add_argument("--compare", default="", help="fail on regressions against this JSON")
    args = p.parse_args()
    if args.workdir:
        os.makedirs(args.workdir, exist_ok=True)
        return measure_all(args, args.workdir)
    with tempfile.TemporaryDirectory(prefix="flowengine-bench-") as workdir:
        return measure_all(args, workdir)


def measure_all(args, workdir):
    results = []
    for rows in [int(r) for r in args.rows.split(",")]:
        for threads in [int(t) for t in args.threads.split(",")]:
            for name in args.scenarios.split(","):
                r = measure(args, workdir, name, rows, threads)
                results.append(r)
                print(f'{key(r):45s} {r["rows_per_second"]:>12,.0f} rows/s '
                      f'{r["mb_per_second"]:>8.1f} MB/s  spread {r["robust_cv_percent"]:4.1f}% '
                      f'(CV {r["cv_percent"]:4.1f}%)  '
                      f'RSS {r["max_rss_mib"]:6.1f} MiB  (graph {r["median_graph_seconds"]:.3f} s, '
                      f'commit {r["median_commit_seconds"]:.3f} s, median of {r["runs"]})',
                      flush=True)
                if r["busy_seconds_median"]:
                    b = r["busy_seconds_median"]
                    per_row = {k: v / rows * 1e9 for k, v in b.items()}
                    print("    busy ns/row (summed over threads): " +
                          ", ".join(f"{k} {v:.0f}" for k, v in per_row.items()), flush=True)
    report = {"budget_percent": args.budget, "results": results,
              "machine": {"cpus": os.cpu_count(), "uname": " ".join(os.uname())}}
    if args.json:
        with open(args.json, "w") as f:
            json.dump(report, f, indent=2)

    failed = False
    for r in results:
        if r["robust_cv_percent"] > args.budget:
            print(f'FAIL {key(r)}: spread {r["robust_cv_percent"]:.1f}% exceeds the '
                  f'{args.budget}% budget')
            failed = True
    if args.compare:
        with open(args.compare) as f:
            old = {key(r): r for r in json.load(f)["results"]}
        for r in results:
            o = old.get(key(r))
            if o is None:
                continue
            change = (r["mb_per_second"] / o["mb_per_second"] - 1) * 100
            verdict = "REGRESSION" if change < -args.budget else "ok"
            print(f'{verdict:10s} {key(r)}: {o["mb_per_second"]:.1f} -> {r["mb_per_second"]:.1f} '
                  f'MB/s ({change:+.1f}%)')
            failed |= verdict == "REGRESSION"
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
