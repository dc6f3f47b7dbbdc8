#!/usr/bin/env python3
"""The js-enrich job of bench/e2e/throughput.py side by side with the same job in DuckDB's SQL.

  flowengine  the js-enrich scenario (drop inactive rows, add full_name and amount_with_tax
              = (amount * 1.2).toFixed(2)), typed columns, CSV to CSV
  duckdb      COPY (SELECT *, first_name || ' ' || last_name, printf('%.2f', amount * 1.2)
              FROM read_csv(...) WHERE active) TO a CSV file, through @duckdb/node-api with
              the same number of threads (--duckdb DIR: a directory where npm installed it)

Both write the same rows (checked: the row counts must agree); the wall time of the whole
process (DuckDB's includes starting Node, ~0.1 s) is the median of --runs after a warm-up,
alternating the two; peak RSS from wait4.

  bench/e2e/js_vs_duckdb.py --duckdb /tmp/duck [--build build] [--rows 1000000] [--runs 5]
                            [--threads 2] [--workdir DIR]
"""
import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import throughput  # noqa: E402

DUCKDB_SCRIPT = """
import { DuckDBInstance } from '@duckdb/node-api';
const [,, file, out, threads] = process.argv;
const db = await DuckDBInstance.create(':memory:', { threads });
const con = await db.connect();
await con.run(`COPY (SELECT *, first_name || ' ' || last_name AS full_name,
                      printf('%.2f', amount * 1.2) AS amount_with_tax
                    FROM read_csv('${file}', header = true, columns = {
                      'id': 'BIGINT', 'first_name': 'VARCHAR', 'last_name': 'VARCHAR',
                      'email': 'VARCHAR', 'city': 'VARCHAR', 'age': 'INTEGER',
                      'amount': 'DOUBLE', 'created_at': 'VARCHAR', 'active': 'BOOLEAN',
                      'notes': 'VARCHAR'})
                    WHERE active) TO '${out}' (HEADER)`);
"""


def run(cmd, cwd=None):
    os.sync()
    start = time.perf_counter()
    with tempfile.TemporaryFile() as log:
        proc = subprocess.Popen(cmd, cwd=cwd, stderr=log, stdout=subprocess.DEVNULL)
        _, status, usage = os.wait4(proc.pid, 0)
        elapsed = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode != 0:
            log.seek(0)
            raise SystemExit(f"failed ({proc.returncode}): {cmd}\n{log.read().decode()[-2000:]}")
    return elapsed, usage.ru_maxrss / 1024


def lines(path):
    with open(path, "rb") as f:
        return sum(1 for _ in f)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--build", default=os.path.join(throughput.ROOT, "build"))
    p.add_argument("--duckdb", required=True, help="directory with node_modules/@duckdb/node-api")
    p.add_argument("--rows", type=int, default=1000000)
    p.add_argument("--runs", type=int, default=5)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--workdir", default="")
    args = p.parse_args()
    if args.workdir:
        return compare(args, args.workdir)
    with tempfile.TemporaryDirectory(prefix="flowengine-duckdb-") as workdir:
        return compare(args, workdir)


def compare(args, workdir):
    source = throughput.generate(args.build, workdir, args.rows)
    fe_out = os.path.join(workdir, "js-enrich-fe.csv")
    pipeline = throughput.write_pipeline(workdir, "js-enrich", source, fe_out, args.threads)
    script = os.path.join(args.duckdb, "flowengine-bench-enrich.mjs")
    with open(script, "w") as f:
        f.write(DUCKDB_SCRIPT)
    db_out = os.path.join(workdir, "js-enrich-duckdb.csv")
    commands = {
        "flowengine": ([os.path.join(args.build, "flowengine"), "run", pipeline,
                        "--log-level", "error"], None, fe_out),
        "duckdb": (["node", script, source, db_out, str(args.threads)], args.duckdb, db_out),
    }
    samples = {name: [] for name in commands}
    for i in range(args.runs + 1):  # the first round warms up
        for name, (cmd, cwd, out) in commands.items():
            if os.path.exists(out):
                os.remove(out)
            result = run(cmd, cwd)
            if i > 0:
                samples[name].append(result)
    if lines(fe_out) != lines(db_out):
        raise SystemExit(f"the outputs differ in rows: {lines(fe_out)} vs {lines(db_out)}")
    print(f"js-enrich, {args.rows} rows, {args.threads} threads, median of {args.runs} "
          f"(output {lines(fe_out) - 1} rows each)")
    for name, runs in samples.items():
        times = [t for t, _ in runs]
        median = statistics.median(times)
        spread = statistics.median(abs(t - median) for t in times) * 1.4826 / median * 100
        print(f"  {name:10s} {median:6.3f} s  {args.rows / median / 1e6:5.2f} M rows/s  "
              f"spread {spread:4.1f}%  peak RSS {max(r for _, r in runs):6.1f} MiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
