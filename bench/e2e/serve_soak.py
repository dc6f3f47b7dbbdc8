#!/usr/bin/env python3
"""Soak test of `flowengine serve` (issue 15; the short version runs in CI as
tests/adversarial/test_serve.py SoakTest): N sequential small runs (passthrough and
JavaScript alternately), then C concurrent JavaScript runs, against one server. Prints the
server's RSS, open descriptors and threads (from its /metrics, idle between checkpoints)
after every checkpoint, and checks the issue's bounds: RSS after the last sequential run
within --rss-budget of RSS after run --baseline-run, descriptors and threads back to their
idle count after the concurrent runs.

  bench/e2e/serve_soak.py --bin build/flowengine --runs 2000 --concurrent 200
"""
import argparse
import concurrent.futures
import os
import shutil
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "../../tests/adversarial"))
from serve_client import Server, prepare_service_dir  # noqa: E402



def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--bin", default=os.path.join(HERE, "../../build/flowengine"))
    ap.add_argument("--runs", type=int, default=2000)
    ap.add_argument("--baseline-run", type=int, default=500)
    ap.add_argument("--every", type=int, default=250)
    ap.add_argument("--concurrent", type=int, default=200)
    ap.add_argument("--rows", type=int, default=200)
    ap.add_argument("--rss-budget", type=float, default=5.0, help="percent")
    ap.add_argument("--max-runs", type=int, default=4)
    ap.add_argument("--warm-isolates", default=None, help="serve's --warm-isolates (default: its own)")
    args = ap.parse_args()

    work = tempfile.mkdtemp(prefix="fe-soak-")
    try:
        pipes, data, small = prepare_service_dir(work, args.bin, args.rows)
        server = Server(args.bin, pipes, [data],
                        ["--max-runs", str(args.max_runs), "--max-queue",
                         str(max(64, args.concurrent))] +
                        (["--warm-isolates", args.warm_isolates] if args.warm_isolates else []),
                        log_path=os.path.join(work, "serve.log"))
        jobs = [("customers-passthrough", {"source.path": "in/small.csv",
                                           "sink.path": "out/p.csv"}),
                ("customer-enrichment", {"source.path": "in/small.csv", "sink.path": "out/e.csv",
                                         "routes.review.path": "out/r.csv"})]

        def idle():
            while server.metrics()["flowengine_serve_runs_running"] > 0:
                time.sleep(0.01)
            m = server.metrics()
            return (int(m["process_resident_memory_bytes"]), int(m["process_open_fds"]),
                    int(m["process_threads"]))

        print(f"{'after run':>10} {'RSS MiB':>9} {'fds':>5} {'threads':>8} {'runs/s':>7}")
        points = {}
        t0 = time.monotonic()
        for i in range(1, args.runs + 1):
            pipeline, sets = jobs[i % 2]
            doc = server.wait(server.submit(pipeline, sets))
            if doc["state"] != "succeeded":
                sys.exit(f"run {i} {doc['state']}: {doc.get('error')}")
            if i % args.every == 0 or i == args.baseline_run or i == args.runs:
                rss, fds, threads = idle()
                points[i] = (rss, fds, threads)
                print(f"{i:>10} {rss / 2**20:>9.1f} {fds:>5} {threads:>8} "
                      f"{i / (time.monotonic() - t0):>7.1f}", flush=True)
        t1 = time.monotonic()
        with concurrent.futures.ThreadPoolExecutor(32) as pool:
            sets = [{"source.path": "in/small.csv", "sink.path": f"out/c{i}.csv",
                     "routes.review.path": f"out/cr{i}.csv"} for i in range(args.concurrent)]
            ids = list(pool.map(lambda s: server.submit("customer-enrichment", s), sets))
        states = [server.wait(i)["state"] for i in ids]
        rss, fds, threads = idle()
        print(f"{args.concurrent} concurrent JavaScript runs: {states.count('succeeded')} "
              f"succeeded in {time.monotonic() - t1:.2f} s; then RSS {rss / 2**20:.1f} MiB, "
              f"fds {fds}, threads {threads}")
        server.terminate()
        server.stop()

        base = points[min(args.baseline_run, args.runs)]
        last = points[args.runs]
        growth = 100.0 * (last[0] - base[0]) / base[0]
        ok = True
        print(f"RSS after run {args.runs} vs after run {args.baseline_run}: {growth:+.1f}% "
              f"(budget {args.rss_budget}%)")
        if growth > args.rss_budget:
            ok = False
        if states.count("succeeded") != args.concurrent:
            ok = False
        if fds != base[1] or threads > base[2] + 2:
            print(f"descriptors {base[1]} -> {fds}, threads {base[2]} -> {threads}")
            ok = False
        print("PASS" if ok else "FAIL")
        return 0 if ok else 1
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
