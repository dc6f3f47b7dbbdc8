#!/usr/bin/env python3
"""Where a JavaScript transform's time goes, in ns per input row, by part.

Runs the js-enrich job of bench/e2e/throughput.py (drop inactive rows, add full_name and
amount_with_tax) with one thread, cut down step by step, and takes the transform stage's
busy time per input row (from --summary, median of N runs) for each:

  driver     `return true`: the batch set-up, the per-row loop and the hand-back of
             an untouched batch (no value read, none set)
  row build  + `context.input.current()`: the column views and the row objects
  script     + the job's own work (the filter, the concatenation, toFixed) with the values
             kept in local variables instead of set
  hand-back  + the two setField calls: the values set, handed back and written

Each part is the difference between two consecutive variants. With --before BIN, the same
variants run with that binary too (A/B, alternating), so a change's effect shows per part.

With --instructions, each part is counted in instructions per input row instead of timed:
the whole process runs under valgrind's callgrind with V8 single-threaded (no concurrent
compiler or GC threads, so the count repeats within ~0.3%), on N and 3N rows; the
difference divided by 2N removes start-up and compilation. On a VM whose speed changes by
the hour this is the figure that compares builds; it needs valgrind.

With --instructions --scenarios js-strings,js-all-columns, whole scenarios of
bench/e2e/throughput.py are counted the same way (instructions per input row, one thread),
for the scripts that read every column or do string work.

  bench/e2e/js_parts.py [--build build] [--before /path/to/old/flowengine] [--rows 1000000]
                        [--runs 5] [--instructions [--rows 30000] [--scenarios A,B]]
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import throughput  # noqa: E402

OUTPUT = ("[id, first_name, last_name, email, city, age, amount, created_at, active, notes, "
          "full_name, amount_with_tax]")
VARIANTS = [
    ("driver", "return true;"),
    ("row build", "const row = context.input.current(); return row !== null;"),
    ("script", "const row = context.input.current(); if (!row.active) return false;"
               " const f = row.first_name + ' ' + row.last_name;"
               " const a = (row.amount * 1.2).toFixed(2); return f.length + a.length > 0;"),
    ("hand-back", "const row = context.input.current(); if (!row.active) return false;"
                  " context.output.setField('full_name', row.first_name + ' ' + row.last_name);"
                  " context.output.setField('amount_with_tax', (row.amount * 1.2).toFixed(2));"
                  " return true;"),
]
NO_TRANSFORM = "no script"
TYPED = ("[{ name: id, type: int64, required: true }, { name: age, type: int32 }, "
         "{ name: amount, type: float64 }, { name: active, type: bool }]")


def write_pipeline(workdir, source, body):
    script = os.path.join(workdir, "t.js")
    with open(script, "w") as f:
        f.write("function process(context) { " + (body or "") + " }\n")
    pipeline = os.path.join(workdir, "p.yaml")
    transform = (f"transform:\n  - javascript: {{ file: {script}, output: {OUTPUT} }}\n"
                 if body is not None else "")
    with open(pipeline, "w") as f:
        f.write(f"source: {{ path: {source}, columns: {TYPED} }}\n" + transform +
                f"sink: {{ path: {os.path.join(workdir, 'out.csv')}, outputMode: replace }}\n"
                "limits: { threads: 1 }\n")
    return pipeline


def transform_ns_per_row(binary, workdir, source, body, rows):
    pipeline = write_pipeline(workdir, source, body)
    summary = os.path.join(workdir, "s.json")
    subprocess.run([binary, "run", pipeline, "--summary", summary, "--log-level", "error"],
                   check=True)
    with open(summary) as f:
        return json.load(f)["busy_seconds"]["transform"] / rows * 1e9


def instructions(binary, workdir, source, body, scenario=None):
    if scenario is None:
        pipeline = write_pipeline(workdir, source, body)
    else:
        out = os.path.join(workdir, "scenario-out.csv")
        if os.path.exists(out):
            os.remove(out)
        pipeline = throughput.write_pipeline(workdir, scenario, source, out, 1)
    # V8 on one thread for exact counts; flags already in FLOWENGINE_V8_FLAGS are kept
    # (to count what a V8 flag changes).
    env = dict(os.environ, FLOWENGINE_V8_FLAGS=(
        "--single-threaded " + os.environ.get("FLOWENGINE_V8_FLAGS", "")).strip())
    r = subprocess.run(["valgrind", "--tool=callgrind", "--smc-check=all-non-file",
                        "--callgrind-out-file=/dev/null", binary, "run", pipeline,
                        "--log-level", "error"], env=env, capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(f"{binary} failed ({r.returncode}):\n" + r.stderr[-3000:])
    for line in r.stderr.splitlines():
        if "Collected :" in line:
            return int(line.split(":")[-1].strip())
    raise RuntimeError("no instruction count from callgrind:\n" + r.stderr[-2000:])


def instructions_per_row(binaries, workdir, rows, scenarios=()):
    """Instructions per input row of each variant (or scenario): (count on 3N rows - count
    on N) / 2N; and its fixed cost (start-up, compilation, warm-up: what does not grow with
    the rows): count on N rows - N x per row."""
    small = os.path.join(workdir, "small.csv")
    large = os.path.join(workdir, "large.csv")
    with open(large) as f:
        lines = f.readlines()
    with open(small, "w") as f:
        f.writelines(lines[:rows + 1])
    result, fixed = {}, {}
    for b, binary in binaries.items():
        per, once = {}, {}
        if scenarios:
            for name in scenarios:
                n = instructions(binary, workdir, small, None, name)
                m = instructions(binary, workdir, large, None, name)
                per[name] = (m - n) / (2 * rows)
                once[name] = n - rows * per[name]
        else:
            for name, body in [(NO_TRANSFORM, None)] + VARIANTS:
                n = instructions(binary, workdir, small, body)
                m = instructions(binary, workdir, large, body)
                per[name] = (m - n) / (2 * rows)
                once[name] = n - rows * per[name]
        result[b], fixed[b] = per, once
    return result, fixed


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--build", default=os.path.join(ROOT, "build"))
    p.add_argument("--before", default="", help="an older flowengine binary to compare with")
    p.add_argument("--rows", type=int, default=1000000)
    p.add_argument("--runs", type=int, default=5)
    p.add_argument("--json", default="")
    p.add_argument("--instructions", action="store_true",
                   help="count instructions per row (callgrind) instead of timing")
    p.add_argument("--scenarios", default="",
                   help="with --instructions: whole throughput.py scenarios instead of parts")
    args = p.parse_args()
    with tempfile.TemporaryDirectory(prefix="flowengine-js-parts-") as workdir:
        return measure(args, workdir)


def measure(args, workdir):
    binaries = {"after": os.path.join(args.build, "flowengine")}
    if args.before:
        binaries = {"before": args.before, **binaries}
    if args.instructions:
        large = os.path.join(workdir, "large.csv")
        subprocess.run([os.path.join(args.build, "flowengine-gen"), "--rows", str(3 * args.rows),
                        "--out", large], check=True)
        scenarios = [x for x in args.scenarios.split(",") if x]
        report, fixed = instructions_per_row(binaries, workdir, args.rows, scenarios)
        for b, per in report.items():
            if scenarios:
                print(f"{b}: instructions per input row, 1 thread, V8 single-threaded "
                      f"({args.rows} and {3 * args.rows} rows); fixed: start-up, compilation "
                      "and warm-up (what does not grow with the rows)")
                for name in scenarios:
                    print(f"  {name:16s} {per[name]:7.0f}   fixed {fixed[b][name] / 1e6:6.1f}M")
                continue
            print(f"{b}: instructions per input row, 1 thread, V8 single-threaded "
                  f"({args.rows} and {3 * args.rows} rows)")
            print(f"  {NO_TRANSFORM:10s} {per[NO_TRANSFORM]:7.0f}   (the pipeline without the script)")
            previous = per[NO_TRANSFORM]
            for name, _ in VARIANTS:
                print(f"  {name:10s} {per[name] - previous:7.0f}   (cumulative {per[name]:7.0f})")
                previous = per[name]
        if args.json:
            with open(args.json, "w") as f:
                json.dump({"per_row": report, "fixed": fixed}, f, indent=2)
        return 0
    source = os.path.join(workdir, "customers.csv")
    subprocess.run([os.path.join(args.build, "flowengine-gen"), "--rows", str(args.rows), "--out",
                    source], check=True)
    samples = {b: {name: [] for name, _ in VARIANTS} for b in binaries}
    for _ in range(args.runs):
        for name, body in VARIANTS:
            for b, binary in binaries.items():  # alternating: drift hits both sides
                samples[b][name].append(
                    transform_ns_per_row(binary, workdir, source, body, args.rows))
    report = {}
    for b in binaries:
        medians = {name: statistics.median(v) for name, v in samples[b].items()}
        spreads = {name: statistics.median(abs(x - medians[name]) for x in v) * 1.4826 /
                   medians[name] * 100 for name, v in samples[b].items()}
        parts, previous = {}, 0.0
        for name, _ in VARIANTS:
            parts[name] = medians[name] - previous
            previous = medians[name]
        report[b] = {"cumulative_ns": medians, "part_ns": parts, "spread_percent": spreads}
        print(f"{b}: transform busy ns per input row, 1 thread, median of {args.runs} "
              f"({args.rows} rows)")
        for name, _ in VARIANTS:
            print(f"  {name:10s} {parts[name]:7.0f} ns   (cumulative {medians[name]:7.0f} ns, "
                  f"spread {spreads[name]:4.1f}%)")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(report, f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
