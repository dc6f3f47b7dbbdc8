#!/usr/bin/env python3
"""Compressed input, side by side: the same CSV to CSV copy of the generated customers file
read as .csv, .csv.gz and .csv.zst by

  flowengine            source.path at the compressed file (decompressed on its own thread)
  zcat | flowengine     decompressed by gzip/zstd in a pipe, source.path: "-"
  duckdb                read_csv(...) -> COPY ... TO csv, through @duckdb/node-api (when
                        --duckdb DIR names a directory with it installed by npm)

Every command writes a CSV file; the wall time of the whole process (start-up included) is
measured N times after one warm-up run; medians and the robust spread (1.4826 x MAD /
median) are reported, rows/s and MB/s of the uncompressed input.

  bench/e2e/compressed_input.py [--build build] [--rows 1000000] [--runs 5] [--threads 2]
                                [--duckdb /tmp/duck] [--json out.json]
"""
import argparse
import gzip
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

DUCKDB_SCRIPT = """
import { DuckDBInstance } from '@duckdb/node-api';
const [,, file, out, threads] = process.argv;
const db = await DuckDBInstance.create(':memory:', { threads });
const con = await db.connect();
await con.run(`COPY (SELECT * FROM read_csv('${file}', all_varchar=true)) TO '${out}' (HEADER)`);
"""


def timed(cmd, cwd=None):
    os.sync()
    start = time.perf_counter()
    p = subprocess.run(cmd, shell=True, cwd=cwd, capture_output=True)
    elapsed = time.perf_counter() - start
    if p.returncode != 0:
        raise SystemExit(f"failed ({p.returncode}): {cmd}\n{p.stderr.decode()[-2000:]}")
    return elapsed


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--build", default=os.path.join(ROOT, "build"))
    p.add_argument("--rows", type=int, default=1000000)
    p.add_argument("--runs", type=int, default=5)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--duckdb", default="", help="directory with node_modules/@duckdb/node-api")
    p.add_argument("--json", default="")
    args = p.parse_args()

    work = tempfile.mkdtemp(prefix="flowengine-compressed-")
    src = os.path.join(work, "in.csv")
    subprocess.run([os.path.join(args.build, "flowengine-gen"), "--rows", str(args.rows), "--out",
                    src], check=True)
    size = os.path.getsize(src)
    subprocess.run(["gzip", "-k", "-6", src], check=True)
    subprocess.run(["zstd", "-q", "-3", src, "-o", src + ".zst"], check=True)
    fe = os.path.join(args.build, "flowengine")
    pipeline = os.path.join(work, "p.yaml")
    with open(pipeline, "w") as f:
        f.write("source: { path: in.csv }\nsink: { path: out.csv, outputMode: replace }\n"
                f"limits: {{ threads: {args.threads} }}\n")
    fe_cmd = f'"{fe}" run "{pipeline}" --log-level error'
    commands = {
        "flowengine .csv": fe_cmd + " --set source.path=in.csv",
        "flowengine .csv.gz": fe_cmd + " --set source.path=in.csv.gz",
        "zcat | flowengine": f"gzip -dc in.csv.gz | {fe_cmd} --set source.path=-",
        "flowengine .csv.zst": fe_cmd + " --set source.path=in.csv.zst",
        "zstd -dc | flowengine": f"zstd -dc in.csv.zst | {fe_cmd} --set source.path=-",
    }
    if args.duckdb:
        script = os.path.join(args.duckdb, "flowengine-bench-copy.mjs")
        with open(script, "w") as f:
            f.write(DUCKDB_SCRIPT)
        for ext in [".csv", ".csv.gz", ".csv.zst"]:
            commands[f"duckdb {ext}"] = (f'cd "{args.duckdb}" && node "{script}" '
                                         f'"{src}{ext[4:]}" "{work}/duck.csv" {args.threads}')
    results = []
    for name, cmd in commands.items():
        timed(cmd, cwd=work)  # warm-up: the input in the page cache
        times = [timed(cmd, cwd=work) for _ in range(args.runs)]
        median = statistics.median(times)
        spread = statistics.median(abs(t - median) for t in times) * 1.4826 / median * 100
        r = {"command": name, "median_seconds": median, "rows_per_second": args.rows / median,
             "mb_per_second": size / median / 1e6, "spread_percent": spread, "runs": len(times)}
        results.append(r)
        print(f"{name:24s} {median:7.3f} s  {r['rows_per_second']:>12,.0f} rows/s  "
              f"{r['mb_per_second']:7.1f} MB/s  spread {spread:4.1f}%", flush=True)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"rows": args.rows, "input_bytes": size, "threads": args.threads,
                       "gz_bytes": os.path.getsize(src + ".gz"),
                       "zst_bytes": os.path.getsize(src + ".zst"), "results": results}, f, indent=2)
    shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
