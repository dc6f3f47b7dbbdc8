#!/usr/bin/env python3
"""Load figures of `flowengine serve` (issue 15): runs/s and latency (POST /runs until the run
has succeeded, p50 and p99) for small files, sequential and with C clients at once, and the
same JavaScript pipeline as a cold `flowengine run` process per run, the saving that warm
isolates and a resident engine bring. Latency is measured by the client, polling
GET /runs/ID every millisecond. Each figure is repeated --repeat times; the table shows
the median and the spread (min-max) of runs/s.

  bench/e2e/serve_load.py --bin build/flowengine --runs 300 --clients 4 --repeat 3
"""
import argparse
import concurrent.futures
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "../../tests/adversarial"))
from serve_client import Server, prepare_service_dir  # noqa: E402



def percentile(values, p):
    values = sorted(values)
    k = (len(values) - 1) * p / 100.0
    lo, hi = int(k), min(int(k) + 1, len(values) - 1)
    return values[lo] + (values[hi] - values[lo]) * (k - lo)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--bin", default=os.path.join(HERE, "../../build/flowengine"))
    ap.add_argument("--runs", type=int, default=300)
    ap.add_argument("--cold-runs", type=int, default=50)
    ap.add_argument("--clients", type=int, default=4)
    ap.add_argument("--rows", type=int, default=1000)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()

    work = tempfile.mkdtemp(prefix="fe-load-")
    try:
        pipes, data, small = prepare_service_dir(work, args.bin, args.rows)
        js = ("customer-enrichment", {"source.path": "in/small.csv"})
        passthrough = ("customers-passthrough", {"source.path": "in/small.csv"})
        print(f"input: {args.rows} rows ({os.path.getsize(small)} bytes); "
              f"{os.cpu_count()} cores")

        def outputs(i, pipeline):
            s = {"sink.path": f"out/{i % 64}.csv"}
            if pipeline == "customer-enrichment":
                s["routes.review.path"] = f"out/{i % 64}-r.csv"
            return s

        def serve_figure(job, clients, warm):
            server = Server(args.bin, pipes, [data],
                            ["--max-runs", str(clients), "--max-queue", "1024",
                             "--warm-isolates", "4" if warm else "0"],
                            log_path=os.path.join(work, "serve.log"))
            try:
                # one untimed run: the JavaScript plugin is loaded once per process
                server.wait(server.submit(job[0], dict(job[1], **outputs(0, job[0]))))
                latencies = []

                def one(i):
                    t = time.monotonic()
                    doc = server.wait(server.submit(job[0], dict(job[1], **outputs(i, job[0]))),
                                      poll=0.001)
                    if doc["state"] != "succeeded":
                        raise SystemExit(f"run failed: {doc}")
                    latencies.append(time.monotonic() - t)

                t0 = time.monotonic()
                with concurrent.futures.ThreadPoolExecutor(clients) as pool:
                    list(pool.map(one, range(args.runs)))
                wall = time.monotonic() - t0
            finally:
                server.terminate()
                server.stop()
            return args.runs / wall, percentile(latencies, 50), percentile(latencies, 99)

        def cold_figure(job):
            latencies = []
            t0 = time.monotonic()
            for i in range(args.cold_runs):
                cmd = [args.bin, "run", os.path.join(pipes, job[0] + ".yaml"), "--log-level",
                       "warn"]
                for k, v in dict(job[1], **outputs(i, job[0])).items():
                    cmd += ["--set", f"{k}={os.path.join(data, v) if 'path' in k else v}"]
                t = time.monotonic()
                subprocess.run(cmd, check=True)
                latencies.append(time.monotonic() - t)
            wall = time.monotonic() - t0
            return args.cold_runs / wall, percentile(latencies, 50), percentile(latencies, 99)

        cases = [
            ("serve, JavaScript, warm isolates, 1 client", lambda: serve_figure(js, 1, True)),
            ("serve, JavaScript, no warm isolates, 1 client", lambda: serve_figure(js, 1, False)),
            (f"serve, JavaScript, warm, {args.clients} clients",
             lambda: serve_figure(js, args.clients, True)),
            ("serve, passthrough, 1 client", lambda: serve_figure(passthrough, 1, True)),
            (f"serve, passthrough, {args.clients} clients",
             lambda: serve_figure(passthrough, args.clients, True)),
            ("flowengine run process per run, JavaScript", lambda: cold_figure(js)),
            ("flowengine run process per run, passthrough", lambda: cold_figure(passthrough)),
        ]
        print(f"{'case':<48} {'runs/s':>8} {'(min-max)':>15} {'p50 ms':>8} {'p99 ms':>8}")
        for name, fn in cases:
            figures = [fn() for _ in range(args.repeat)]
            rates = [f[0] for f in figures]
            print(f"{name:<48} {statistics.median(rates):>8.1f} "
                  f"{'(%.1f-%.1f)' % (min(rates), max(rates)):>15} "
                  f"{1000 * statistics.median(f[1] for f in figures):>8.1f} "
                  f"{1000 * statistics.median(f[2] for f in figures):>8.1f}", flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
