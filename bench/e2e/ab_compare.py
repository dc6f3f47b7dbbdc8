#!/usr/bin/env python3
"""A/B throughput comparison of two flowengine binaries (or one binary with and without
extra options) on the same scenario of bench/e2e/throughput.py. Runs A and B alternately,
after one warm-up each, so that drifts of the machine (other load, thermal state, page
cache) hit both equally; reports the median MB/s of each, the change of B against A, and
each side's robust spread (median absolute deviation over the median), and the change of
the median CPU time (user + system), which a busy machine disturbs less than wall time.

  bench/e2e/ab_compare.py --a OLD/flowengine --b build/flowengine [--b-args "--trace t.json"]
                          [--scenario passthrough] [--rows 1000000] [--runs 15] [--threads 2]

Used for the cost of metrics (old binary without them vs the current one) and of --trace
(the same binary with and without it); see docs/benchmarks.md.
"""
import argparse
import os
import shlex
import statistics
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import throughput  # noqa: E402


def spread(times):
    median = statistics.median(times)
    return statistics.median(abs(t - median) for t in times) * 1.4826 / median * 100


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--a", required=True, help="binary A")
    p.add_argument("--b", required=True, help="binary B")
    p.add_argument("--a-args", default="", help="extra options for A")
    p.add_argument("--b-args", default="", help="extra options for B")
    p.add_argument("--scenario", default="passthrough", choices=sorted(throughput.SCENARIOS))
    p.add_argument("--rows", type=int, default=1000000)
    p.add_argument("--runs", type=int, default=15, help="runs of each binary")
    p.add_argument("--threads", type=int, default=0)
    p.add_argument("--build", default=os.path.join(throughput.ROOT, "build"),
                   help="where flowengine-gen is")
    p.add_argument("--workdir", default="")
    args = p.parse_args()
    if args.workdir:
        os.makedirs(args.workdir, exist_ok=True)
        return compare(args, args.workdir)
    with tempfile.TemporaryDirectory(prefix="flowengine-ab-") as workdir:
        return compare(args, workdir)


def compare(args, workdir):
    source = throughput.generate(args.build, workdir, args.rows)
    sink_fmt = throughput.SCENARIOS[args.scenario][1]
    out_path = os.path.join(workdir, f"out-ab.{sink_fmt}")
    pipeline = throughput.write_pipeline(workdir, args.scenario, source, out_path, args.threads)
    sides = {"A": (args.a, shlex.split(args.a_args)), "B": (args.b, shlex.split(args.b_args))}
    times = {"A": [], "B": []}
    cpu = {"A": [], "B": []}
    for side, (binary, extra) in sides.items():
        throughput.run_once(binary, pipeline, out_path, extra)  # warm-up
    for _ in range(args.runs):
        for side, (binary, extra) in sides.items():
            r = throughput.run_once(binary, pipeline, out_path, extra)
            times[side].append(r["seconds"])
            cpu[side].append(r["cpu_seconds"])
    size = os.path.getsize(source)
    mbps = {s: size / statistics.median(t) / 1e6 for s, t in times.items()}
    for side, (binary, extra) in sides.items():
        print(f"{side}: {binary} {' '.join(extra)}\n   median {mbps[side]:8.1f} MB/s  "
              f"{args.rows / statistics.median(times[side]):>12,.0f} rows/s  "
              f"spread {spread(times[side]):4.1f}%  CPU {statistics.median(cpu[side]):.3f} s "
              f"(spread {spread(cpu[side]):4.1f}%)  ({args.runs} runs)")
    change = (mbps["B"] / mbps["A"] - 1) * 100
    cpu_change = (statistics.median(cpu["B"]) / statistics.median(cpu["A"]) - 1) * 100
    print(f"B vs A: {change:+.1f}% MB/s, {cpu_change:+.1f}% CPU time ({args.scenario}, "
          f"{args.rows} rows, threads {args.threads or 'all'})")


if __name__ == "__main__":
    main()
