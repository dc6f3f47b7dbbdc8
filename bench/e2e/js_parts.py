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

  bench/e2e/js_parts.py [--build build] [--before /path/to/old/flowengine] [--rows 1000000]
                        [--runs 5]
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

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
TYPED = ("[{ name: id, type: int64, required: true }, { name: age, type: int32 }, "
         "{ name: amount, type: float64 }, { name: active, type: bool }]")


def transform_ns_per_row(binary, workdir, source, body, rows):
    script = os.path.join(workdir, "t.js")
    with open(script, "w") as f:
        f.write("function process(context) { " + body + " }\n")
    pipeline = os.path.join(workdir, "p.yaml")
    with open(pipeline, "w") as f:
        f.write(f"source: {{ path: {source}, columns: {TYPED} }}\n"
                f"transform:\n  - javascript: {{ file: {script}, output: {OUTPUT} }}\n"
                f"sink: {{ path: {os.path.join(workdir, 'out.csv')}, outputMode: replace }}\n"
                "limits: { threads: 1 }\n")
    summary = os.path.join(workdir, "s.json")
    subprocess.run([binary, "run", pipeline, "--summary", summary, "--log-level", "error"],
                   check=True)
    with open(summary) as f:
        return json.load(f)["busy_seconds"]["transform"] / rows * 1e9


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--build", default=os.path.join(ROOT, "build"))
    p.add_argument("--before", default="", help="an older flowengine binary to compare with")
    p.add_argument("--rows", type=int, default=1000000)
    p.add_argument("--runs", type=int, default=5)
    p.add_argument("--json", default="")
    args = p.parse_args()

    workdir = tempfile.mkdtemp(prefix="flowengine-js-parts-")
    source = os.path.join(workdir, "customers.csv")
    subprocess.run([os.path.join(args.build, "flowengine-gen"), "--rows", str(args.rows), "--out",
                    source], check=True)
    binaries = {"after": os.path.join(args.build, "flowengine")}
    if args.before:
        binaries = {"before": args.before, **binaries}
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
