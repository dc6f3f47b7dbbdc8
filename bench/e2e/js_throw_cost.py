#!/usr/bin/env python3
"""The cost of a throwing row in a JavaScript transform, at three block sizes.

For each block size, the same 100,000-row job runs with no row throwing and with 1 row in 13
throwing an Error built from its input (skip-row); the transform stage's busy time (summed
over threads, from --summary) gives the cost of a normal row and the extra cost of a throwing
row. Issue 12's bound: a throwing row costs no more than ~20x a normal row, whatever the block
size (before the fix: 0.59 s at 64 KiB, 11.7 s at 1 MiB and 96 s at 8 MiB for the whole job).

  bench/e2e/js_throw_cost.py [--build build] [--rows 100000] [--runs 5]
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

SCRIPT = """
let n = 0;
function process(context) {
  const row = context.input.current();
  if (THROW && row.id % 13 === 0) throw new Error('bad row ' + context.input.getValue('notes'));
  context.output.setField('full_name', row.first_name + ' ' + row.last_name);
  return true;
}
"""


def run_job(build, workdir, source, block, throw):
    script = os.path.join(workdir, f"t-{int(throw)}.js")
    with open(script, "w") as f:
        f.write(f"const THROW = {'true' if throw else 'false'};\n" + SCRIPT)
    pipeline = os.path.join(workdir, "p.yaml")
    with open(pipeline, "w") as f:
        f.write(f"source: {{ path: {source}, columns: [{{ name: id, type: int64 }}] }}\n"
                f"transform:\n  - javascript: {{ file: {script}, output: [id, full_name] }}\n"
                f"sink: {{ path: {workdir}/out.csv, outputMode: replace }}\n"
                f"errorHandling: skip-row\ndeadLetter: {{ path: {workdir}/dead.csv, outputMode: replace }}\n"
                f"limits: {{ blockSize: {block}, memory: 1GiB, maxRecordSize: 16MiB }}\n")
    summary = os.path.join(workdir, "s.json")
    subprocess.run([os.path.join(build, "flowengine"), "run", pipeline, "--summary", summary,
                    "--log-level", "error"], check=True)
    with open(summary) as f:
        s = json.load(f)
    return s["busy_seconds"]["transform"], s["rows"]["rejected"]


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--build", default=os.path.join(ROOT, "build"))
    p.add_argument("--rows", type=int, default=100000)
    p.add_argument("--runs", type=int, default=5)
    args = p.parse_args()
    workdir = tempfile.mkdtemp(prefix="flowengine-throw-")
    source = os.path.join(workdir, "in.csv")
    subprocess.run([os.path.join(args.build, "flowengine-gen"), "--rows", str(args.rows),
                    "--out", source], check=True)
    print(f"{'block':>8} {'normal ns/row':>14} {'throwing ns/row':>16} {'ratio':>6} "
          f"{'job busy s (throwing)':>22}")
    worst = 0.0
    for block in ["64KiB", "1MiB", "8MiB"]:
        plain = statistics.median(run_job(args.build, workdir, source, block, False)[0]
                                  for _ in range(args.runs))
        runs = [run_job(args.build, workdir, source, block, True) for _ in range(args.runs)]
        with_throws = statistics.median(r[0] for r in runs)
        throwing = runs[0][1]
        normal_ns = plain / args.rows * 1e9
        extra_ns = max(0.0, with_throws - plain) / throwing * 1e9
        throwing_ns = normal_ns + extra_ns
        ratio = throwing_ns / normal_ns
        worst = max(worst, ratio)
        print(f"{block:>8} {normal_ns:>14.0f} {throwing_ns:>16.0f} {ratio:>6.1f} {with_throws:>22.3f}")
    print(f"worst ratio {worst:.1f} (bound ~20)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
