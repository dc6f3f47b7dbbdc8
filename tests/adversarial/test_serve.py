"""flowengine serve (issue 15, DESIGN.md §8) against a real server on loopback: eight
concurrent runs of different pipelines whose outputs equal `flowengine run`'s (the oracle),
cancellation of running and queued runs with targets untouched, paths outside the data roots
refused however they are spelled (absolute, .., symlinked files and directories, standard
streams, scripts), bearer tokens, the bounded queue (429), one memory budget across runs,
SIGTERM drains (finish, or cancel at the deadline; exit 0), hostile request bodies, warm
isolates that leak no script state, and a short soak (descriptors, threads and RSS back to
their idle figures)."""
import concurrent.futures
import http.client
import json
import os
import shutil
import signal
import time

from harness import BIN, SANITIZED, TempDirTest, generate, read, run, snapshot, write
from serve_client import Server

CONFIGS = os.path.join(os.path.dirname(__file__), "../../configs")

SLOW = """pipeline: slow
source: { path: DATA/in/customers.csv }
transform:
  - javascript:
      code: |
        function process(context) {
          const t = Date.now();
          while (Date.now() - t < 1) {}
          return true;
        }
      output: [id, email]
sink: { path: DATA/out/slow.csv, outputMode: replace }
limits: { threads: 1, memory: 64MiB }
"""

STATE = """pipeline: state
source: { path: DATA/in/customers.csv }
transform:
  - javascript:
      code: |
        globalThis.loads = (globalThis.loads || 0) + 1;
        var seen = 0;
        function process(context) {
          seen++;
          context.output.setField('loads', String(globalThis.loads));
          context.output.setField('fresh', String(seen === 1 || seen > 1));
          return true;
        }
      output: [id, loads, fresh]
sink: { path: DATA/out/state.csv, outputMode: replace }
"""


class ServeTest(TempDirTest):
    def setUp(self):
        super().setUp()
        self.pipes = self.path("pipelines")
        self.data = self.path("data")
        os.makedirs(os.path.join(self.data, "in"))
        os.makedirs(os.path.join(self.data, "out"))
        shutil.copytree(os.path.join(CONFIGS, "scripts"), os.path.join(self.pipes, "scripts"))
        for name in os.listdir(CONFIGS):
            if name.endswith(".yaml"):
                shutil.copy(os.path.join(CONFIGS, name), self.pipes)
        # Relative paths in a pipeline file resolve beside it, as with `flowengine run`.
        write(os.path.join(self.pipes, "slow.yaml"), SLOW.replace("DATA", self.data))
        write(os.path.join(self.pipes, "state.yaml"), STATE.replace("DATA", self.data))
        generate(os.path.join(self.data, "in", "customers.csv"), 20000)
        shutil.copy(os.path.join(CONFIGS, "data", "customers-with-errors.csv"),
                    os.path.join(self.data, "in"))
        self.servers = []

    def tearDown(self):
        for s in self.servers:
            s.stop()
        super().tearDown()

    def start(self, *extra, token=None, roots=None):
        s = Server(BIN, self.pipes, roots or [self.data], extra,
                   log_path=self.path(f"serve{len(self.servers)}.log"), token=token)
        self.servers.append(s)
        return s

    def out(self, name):
        return os.path.join(self.data, "out", name)


class ConcurrentRunsTest(ServeTest):
    JOBS = [
        ("customers-passthrough", {"source.path": "in/customers.csv", "limits.threads": 1},
         ["sink.path"]),
        ("customers-passthrough", {"source.path": "in/customers.csv", "limits.threads": 2,
                                   "limits.blockSize": "64KiB"}, ["sink.path"]),
        ("customer-enrichment", {"source.path": "in/customers.csv"},
         ["sink.path", "routes.review.path"]),
        ("customer-enrichment", {"source.path": "in/customers.csv", "limits.threads": 1},
         ["sink.path", "routes.review.path"]),
        ("customers-to-tsv", {"source.path": "in/customers.csv"}, ["sink.path"]),
        ("customers-skip-bad-rows", {"source.path": "in/customers-with-errors.csv"},
         ["sink.path", "deadLetter.path"]),
        ("customers-strict", {"source.path": "in/customers-with-errors.csv"}, ["sink.path"]),
        ("customers-passthrough", {"source.path": "in/customers.csv",
                                   "sink.compression": "gzip"}, ["sink.path"]),
    ]

    def test_eight_concurrent_runs_equal_the_cli(self):
        server = self.start("--max-runs", "4")
        os.makedirs(os.path.join(self.data, "cli"))
        ids = []
        for i, (pipeline, sets, outputs) in enumerate(self.JOBS):
            s = dict(sets)
            for key in outputs:
                s[key] = f"out/{i}-{key}.out"
            ids.append(server.submit(pipeline, s))
        # The oracle: the same pipeline and overrides through `flowengine run`.
        expected_states, cli_results = [], []
        for i, (pipeline, sets, outputs) in enumerate(self.JOBS):
            args = ["run", os.path.join(self.pipes, pipeline + ".yaml")]
            for k, v in sets.items():
                v = os.path.join(self.data, v) if k == "source.path" else v
                args += ["--set", f"{k}={v}"]
            for key in outputs:
                args += ["--set", f"{key}={self.data}/cli/{i}-{key}.out"]
            r = run(args, check_accounting=False)
            cli_results.append(r)
            expected_states.append("succeeded" if r.code == 0 else "failed")
        self.assertIn("failed", expected_states)  # customers-strict fails on its bad row
        for i, run_id in enumerate(ids):
            doc = server.wait(run_id)
            self.assertEqual(doc["state"], expected_states[i], doc)
            for key in self.JOBS[i][2]:
                ours, cli = self.out(f"{i}-{key}.out"), f"{self.data}/cli/{i}-{key}.out"
                self.assertEqual(os.path.exists(ours), os.path.exists(cli), (i, key, doc))
                if os.path.exists(cli):
                    self.assertEqual(read(ours), read(cli), (i, key))
            if doc["state"] == "succeeded":
                rows = doc["summary"]["rows"]
                self.assertEqual(doc["summary"]["ok"], True)
                self.assertGreater(rows["read"], 0)
            else:
                self.assertIn(doc["error"]["code"], cli_results[i].err)  # the CLI's error
        self.assertEqual(sorted(os.listdir(os.path.join(self.data, "out"))),
                         sorted(os.listdir(os.path.join(self.data, "cli"))))
        self.assertEqual(server.terminate(), 0)


class CancelTest(ServeTest):
    def test_cancel_running_and_queued_runs_leaves_targets_untouched(self):
        server = self.start("--max-runs", "1")
        write(self.out("a.csv"), "old a\n")
        write(self.out("b.csv"), "old b\n")
        before = snapshot(os.path.join(self.data, "out"))
        a = server.submit("slow", {"sink.path": "out/a.csv"})
        b = server.submit("slow", {"sink.path": "out/b.csv"})
        deadline = time.monotonic() + 30
        while server.run_state(a)["progress"]["rows_read"] == 0:
            self.assertLess(time.monotonic(), deadline)
            time.sleep(0.02)
        self.assertEqual(server.run_state(b)["state"], "queued")
        status, doc, _, _ = server.request("DELETE", "/runs/" + b)
        self.assertEqual(status, 202)
        self.assertEqual(doc["state"], "cancelled")  # a queued run ends at once
        status, _, _, _ = server.request("DELETE", "/runs/" + a)
        self.assertEqual(status, 202)
        doc = server.wait(a, timeout=30)
        self.assertEqual(doc["state"], "cancelled", doc)
        self.assertEqual(doc["error"]["code"], "FE-RESOURCE-INTERRUPTED")
        self.assertEqual(snapshot(os.path.join(self.data, "out")), before)  # no temp file either
        # Cancelling a finished run changes nothing.
        status, doc, _, _ = server.request("DELETE", "/runs/" + a)
        self.assertEqual((status, doc["state"]), (202, "cancelled"))
        self.assertEqual(server.request("DELETE", "/runs/run-999999999")[0], 404)
        self.assertEqual(server.terminate(), 0)


class PathTest(ServeTest):
    def test_paths_outside_the_data_roots_are_refused(self):
        outside = self.path("outside")
        os.makedirs(outside)
        write(os.path.join(outside, "secret.csv"), "id\n1\n")
        write(os.path.join(outside, "x.js"), "function process(c) { return true; }\n")
        os.symlink(outside, os.path.join(self.data, "out", "escape"))
        os.symlink(os.path.join(outside, "secret.csv"), os.path.join(self.data, "in", "link.csv"))
        # a dangling link: writing through it would create a file outside
        os.symlink(os.path.join(outside, "new.csv"), os.path.join(self.data, "out", "dangling.csv"))
        os.mkfifo(os.path.join(self.data, "in", "fifo.js"))
        other = self.path("other-root")
        os.makedirs(other)
        server = self.start(roots=[self.data, other])
        before = snapshot(outside)
        refused = [
            ("customers-passthrough", {"source.path": os.path.join(outside, "secret.csv"),
                                       "sink.path": "out/x.csv"}),
            ("customers-passthrough", {"source.path": "in/customers.csv",
                                       "sink.path": "../outside/x.csv"}),
            ("customers-passthrough", {"source.path": "in/customers.csv",
                                       "sink.path": "out/escape/x.csv"}),
            ("customers-passthrough", {"source.path": "in/link.csv", "sink.path": "out/x.csv"}),
            ("customers-passthrough", {"source.path": "-", "sink.path": "out/x.csv"}),
            ("customers-passthrough", {"source.path": "in/customers.csv", "sink.path": "-"}),
            ("customers-skip-bad-rows", {"source.path": "in/customers-with-errors.csv",
                                         "sink.path": "out/x.csv",
                                         "deadLetter.path": "out/escape/dl.csv"}),
            ("customer-enrichment", {"source.path": "in/customers.csv", "sink.path": "out/x.csv",
                                     "routes.review.path": "/tmp/review.csv"}),
            ("customer-enrichment", {"source.path": "in/customers.csv", "sink.path": "out/x.csv",
                                     "routes.review.path": "out/r.csv",
                                     "transform[0].javascript.file":
                                         os.path.join(outside, "x.js")}),
            ("customers-passthrough", {"source.path": "in/customers.csv",
                                       "sink.path": "out/dangling.csv"}),
            # scripts are checked before the loader reads them: no read of /dev/zero, no
            # wait on a FIFO on the server's one HTTP thread
            ("customer-enrichment", {"source.path": "in/customers.csv", "sink.path": "out/x.csv",
                                     "routes.review.path": "out/r.csv",
                                     "transform[0].javascript.file": "/dev/zero"}),
            ("customer-enrichment", {"source.path": "in/customers.csv", "sink.path": "out/x.csv",
                                     "routes.review.path": "out/r.csv",
                                     "transform[0].javascript.file": "in/fifo.js"}),
            ("customers-passthrough", {"source.path": "../outside/*.csv",
                                       "sink.path": "out/x.csv"}),
            # the pipeline's own relative paths resolve beside it, outside the data root
            ("customers-passthrough", None),
        ]
        for pipeline, sets in refused:
            status, doc = server.submit(pipeline, sets, expect=None)
            self.assertEqual(status, 403, (pipeline, sets, doc))
            self.assertEqual(doc["error"]["code"], "FE-SERVE-PATH")
            self.assertIn("--data-root", doc["error"]["message"] + doc["error"]["hint"])
        self.assertEqual(snapshot(outside), before)
        self.assertFalse(os.path.exists(self.out("x.csv")))
        self.assertEqual(server.request("GET", "/healthz")[0], 200)
        self.assertEqual(server.metrics()["flowengine_serve_requests_forbidden_total"],
                         len(refused))
        # A name no file can have is refused as too long, not as outside the roots.
        status, doc = server.submit("customers-passthrough",
                                    {"source.path": "in/customers.csv",
                                     "sink.path": "out/" + "a" * 300 + ".csv"}, expect=None)
        self.assertEqual((status, doc["error"]["code"]), (403, "FE-SERVE-PATH"))
        self.assertIn("too long to name a file", doc["error"]["message"])
        self.assertNotIn("outside", doc["error"]["message"])
        # A second data root works, and a link inside a root to inside a root is fine.
        os.symlink(os.path.join(self.data, "in", "customers.csv"),
                   os.path.join(other, "c.csv"))
        run_id = server.submit("customers-passthrough",
                               {"source.path": os.path.join(other, "c.csv"),
                                "sink.path": os.path.join(other, "copy.csv")})
        self.assertEqual(server.wait(run_id)["state"], "succeeded")
        self.assertEqual(read(os.path.join(other, "copy.csv")),
                         read(os.path.join(self.data, "in", "customers.csv")))
        self.assertEqual(server.terminate(), 0)


class PathSwapTest(ServeTest):
    def test_a_link_swapped_while_queued_is_caught_before_the_run_starts(self):
        outside = self.path("outside")
        os.makedirs(outside)
        os.makedirs(os.path.join(self.data, "out", "sub"))
        server = self.start("--max-runs", "1")
        a = server.submit("slow", {"sink.path": "out/a.csv"})
        b = server.submit("customers-to-tsv", {"source.path": "in/customers.csv",
                                               "sink.path": "out/sub/b.tsv"})
        self.assertEqual(server.run_state(b)["state"], "queued")
        os.rmdir(os.path.join(self.data, "out", "sub"))
        os.symlink(outside, os.path.join(self.data, "out", "sub"))
        server.request("DELETE", "/runs/" + a)
        doc = server.wait(b)
        self.assertEqual(doc["state"], "failed", doc)
        self.assertEqual(doc["error"]["code"], "FE-SERVE-PATH")
        self.assertEqual(os.listdir(outside), [])
        self.assertEqual(server.terminate(), 0)


class TokenTest(ServeTest):
    def test_bearer_token(self):
        token_file = self.path("token")
        write(token_file, "s3cret-token\n", mode=0o600)
        server = self.start("--token-file", token_file, token="")
        for tok in ("", "wrong", "s3cret-tokenX", "s3cret-toke"):
            for path in ("/healthz", "/runs", "/metrics", "/pipelines"):
                status, doc, _, headers = server.request("GET", path, token=tok)
                self.assertEqual(status, 401, (tok, path))
                self.assertEqual(doc["error"]["code"], "FE-SERVE-AUTH")
                self.assertEqual(headers.get("WWW-Authenticate"), "Bearer")
        status, doc, _, _ = server.request(
            "POST", "/runs", {"pipeline": "customers-to-tsv"}, token="nope")
        self.assertEqual(status, 401)
        self.assertEqual(os.listdir(os.path.join(self.data, "out")), [])
        server.token = "s3cret-token"
        self.assertEqual(server.request("GET", "/healthz")[0], 200)
        run_id = server.submit("customers-to-tsv", {"source.path": "in/customers.csv",
                                                    "sink.path": "out/t.tsv"})
        self.assertEqual(server.wait(run_id)["state"], "succeeded")
        self.assertEqual(server.terminate(), 0)

    def test_the_scheme_is_case_insensitive_and_one_authorization_header_counts(self):
        token_file = self.path("token")
        write(token_file, "s3cret-token\n", mode=0o600)
        server = self.start("--token-file", token_file, token="")

        def get(*auth):
            conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
            conn.putrequest("GET", "/healthz")
            for value in auth:
                conn.putheader("Authorization", value)
            conn.endheaders()
            resp = conn.getresponse()
            body = resp.read().decode()
            conn.close()
            return resp.status, body

        for scheme in ("Bearer", "bearer", "BEARER"):
            self.assertEqual(get(f"{scheme} s3cret-token")[0], 200, scheme)
        for pair in (("Bearer s3cret-token", "Bearer wrong"),
                     ("Bearer wrong", "Bearer s3cret-token")):
            status, body = get(*pair)
            self.assertEqual(status, 400, pair)
            self.assertEqual(json.loads(body)["error"]["code"], "FE-SERVE-AUTH")
            self.assertIn("2 Authorization headers", body)
        self.assertEqual(server.terminate(), 0)

    def test_unusable_token_file_is_a_usage_error(self):
        for content in ("", "two words\n"):
            write(self.path("token"), content, mode=0o600)
            r = run(["serve", "--pipelines", self.pipes, "--data-root", self.data,
                     "--listen", "127.0.0.1:0", "--token-file", self.path("token")],
                    check_accounting=False, timeout=30)
            self.assertEqual(r.code, 2, r)
            self.assertIn("--token-file", r.err)
        r = run(["serve", "--pipelines", self.pipes, "--data-root", self.path("missing")],
                check_accounting=False, timeout=30)
        self.assertEqual(r.code, 2, r)
        self.assertIn("--data-root", r.err)


class QueueTest(ServeTest):
    def test_full_queue_is_429_and_memory_is_one_budget(self):
        # Two runners, but each run reserves 600 MiB of a 1 GiB budget: one runs at a time.
        server = self.start("--max-runs", "2", "--max-queue", "1", "--memory", "1GiB")
        big = {"limits.memory": "600MiB"}
        a = server.submit("slow", dict(big, **{"sink.path": "out/a.csv"}))
        b = server.submit("slow", dict(big, **{"sink.path": "out/b.csv"}))
        deadline = time.monotonic() + 30
        while server.run_state(a)["state"] != "running":
            self.assertLess(time.monotonic(), deadline)
            time.sleep(0.02)
        time.sleep(0.3)
        self.assertEqual(server.run_state(b)["state"], "queued")  # memory, not --max-runs
        m = server.metrics()
        # limits.memory plus limits.scriptHeap (128 MiB) for its one thread
        self.assertEqual(m["flowengine_serve_memory_reserved_bytes"], (600 + 128) << 20)
        self.assertEqual(m["flowengine_serve_runs_running"], 1)
        # A runner is free, so one more may wait (--max-queue 1 beyond --max-runs 2) ...
        c = server.submit("slow", {"sink.path": "out/c.csv"})
        time.sleep(0.2)
        self.assertEqual(server.run_state(c)["state"], "queued")  # behind b (FIFO)
        # ... and the next is refused.
        status, doc, _, headers = server.request(
            "POST", "/runs", {"pipeline": "slow", "set": {"sink.path": "out/d.csv"}})
        self.assertEqual(status, 429)
        self.assertEqual(doc["error"]["code"], "FE-SERVE-QUEUE-FULL")
        self.assertIn("Retry-After", headers)
        status, doc, _, _ = server.request(
            "POST", "/runs", {"pipeline": "slow", "set": {"limits.memory": "2GiB"}})
        self.assertEqual((status, doc["error"]["code"]), (400, "FE-SERVE-MEMORY"))
        self.assertIn("limits.memory 2048 MiB", doc["error"]["message"])
        # A script heap too large is named as such, not blamed on limits.memory.
        status, doc, _, _ = server.request(
            "POST", "/runs", {"pipeline": "slow", "set": {"limits.scriptHeap": "16GiB"}})
        self.assertEqual((status, doc["error"]["code"]), (400, "FE-SERVE-MEMORY"))
        self.assertIn("limits.scriptHeap of each JavaScript step on each thread",
                      doc["error"]["message"])
        for run_id in (c, b, a):
            server.request("DELETE", "/runs/" + run_id)
        self.assertEqual(server.wait(a)["state"], "cancelled")
        self.assertEqual(server.metrics()["flowengine_serve_runs_refused_queue_full_total"], 1)
        for name in ("b.csv", "c.csv", "d.csv"):
            self.assertFalse(os.path.exists(self.out(name)))
        self.assertEqual(server.terminate(), 0)

    def test_max_queue_zero_runs_while_a_runner_is_free(self):
        server = self.start("--max-runs", "1", "--max-queue", "0")
        a = server.submit("slow", {"sink.path": "out/a.csv"})
        status, doc, _, _ = server.request("POST", "/runs", {"pipeline": "slow"})
        self.assertEqual((status, doc["error"]["code"]), (429, "FE-SERVE-QUEUE-FULL"))
        server.request("DELETE", "/runs/" + a)
        self.assertEqual(server.wait(a)["state"], "cancelled")
        b = server.submit("customers-to-tsv", {"source.path": "in/customers.csv",
                                               "sink.path": "out/t.tsv"})
        self.assertEqual(server.wait(b)["state"], "succeeded")
        self.assertEqual(server.terminate(), 0)


class DrainTest(ServeTest):
    def test_sigterm_lets_running_runs_finish_and_cancels_queued_ones(self):
        server = self.start("--max-runs", "1")
        a = server.submit("customer-enrichment", {"source.path": "in/customers.csv",
                                                  "sink.path": "out/a.csv",
                                                  "routes.review.path": "out/ar.csv"})
        write(self.out("b.csv"), "old b\n")
        b = server.submit("slow", {"sink.path": "out/b.csv"})
        deadline = time.monotonic() + 30
        while server.run_state(a)["state"] == "queued":  # a queued run would be cancelled
            self.assertLess(time.monotonic(), deadline)
            time.sleep(0.005)
        server.proc.send_signal(signal.SIGTERM)
        # While draining: not ready, no new runs, the status still answers.
        deadline = time.monotonic() + 10
        while server.request("GET", "/readyz")[0] != 503:
            self.assertLess(time.monotonic(), deadline)
            time.sleep(0.01)
        try:
            status, doc, _, _ = server.request("POST", "/runs", {"pipeline": "slow"})
            self.assertEqual((status, doc["error"]["code"]), (503, "FE-SERVE-DRAINING"))
        except ConnectionError:
            self.assertIsNotNone(server.proc.poll())  # already drained and gone
        self.assertEqual(server.proc.wait(timeout=120), 0)
        log = server.log_text()
        self.assertIn("received SIGTERM: draining", log)
        self.assertRegex(log, r"run run-0+1 \(pipeline 'customer-enrichment'\) succeeded")
        self.assertIn("stopped: 1 runs succeeded, 0 failed, 1 cancelled", log)
        self.assertEqual(read(self.out("b.csv")), b"old b\n")
        cli = run(["run", os.path.join(self.pipes, "customer-enrichment.yaml"),
                   "--set", f"source.path={self.data}/in/customers.csv",
                   "--set", f"sink.path={self.path('cli.csv')}",
                   "--set", f"routes.review.path={self.path('clir.csv')}"])
        self.assertEqual(cli.code, 0, cli)
        self.assertEqual(read(self.out("a.csv")), read(self.path("cli.csv")))
        self.assertEqual(sorted(os.listdir(os.path.join(self.data, "out"))),
                         ["a.csv", "ar.csv", "b.csv"])
        del a, b

    def test_drain_deadline_cancels_and_leaves_nothing_half_written(self):
        server = self.start("--drain-timeout", "1")
        write(self.out("a.csv"), "old a\n")
        a = server.submit("slow", {"sink.path": "out/a.csv"})
        deadline = time.monotonic() + 30
        while server.run_state(a)["progress"]["rows_read"] == 0:
            self.assertLess(time.monotonic(), deadline)
            time.sleep(0.02)
        t0 = time.monotonic()
        self.assertEqual(server.terminate(), 0)
        self.assertLess(time.monotonic() - t0, 15)
        self.assertIn("1 cancelled", server.log_text())
        self.assertEqual(os.listdir(os.path.join(self.data, "out")), ["a.csv"])
        self.assertEqual(read(self.out("a.csv")), b"old a\n")


class HostileRequestTest(ServeTest):
    BODIES = [
        b"", b"{", b"[]", b"null", b"\"x\"", b"{\"pipeline\": 1}", b"{\"pipeline\": null}",
        b"{\"pipeline\": \"slow\", \"set\": []}", b"{\"pipeline\": \"slow\", \"set\": {\"a\": {}}}",
        b"{\"pipeline\": \"slow\", \"set\": {\"a\": [1]}}", b"{\"pipeline\": \"slow\", \"x\": 1}",
        b"{\"pipeline\": \"../slow\"}", b"{\"pipeline\": \".hidden\"}", b"{\"pipeline\": \"\"}",
        b"{\"pipeline\": \"slow\", \"set\": {\"=\": \"1\"}}",
        b"{\"pipeline\": \"slow\", \"set\": {\"limits.threads\": \"many\"}}",
        b"{\"pipeline\": \"slow\", \"set\": {\"no.such.key\": \"1\"}}",
        b"{\"pipeline\": \"sl\\u0000ow\"}", b"\xff\xfe{}", b"{\"pipeline\": \"slow\"}garbage",
        b"[" * 100 + b"]" * 100, b"{\"a\":" * 40 + b"1" + b"}" * 40,
        b"{\"pipeline\": \"slow\", \"set\": {\"source.path\": \"in/\\u0000x\"}}",
    ]

    def test_malformed_bodies_are_400_and_the_server_stays_up(self):
        server = self.start()
        for body in self.BODIES:
            status, doc, text, _ = server.request("POST", "/runs", raw=body)
            self.assertEqual(status, 400, (body, text))
            self.assertTrue(doc["error"]["code"].startswith("FE-"), (body, text))
            self.assertTrue(doc["error"]["message"], (body, text))
        status, doc, _, _ = server.request("POST", "/runs", {"pipeline": "nope"})
        self.assertEqual((status, doc["error"]["code"]), (404, "FE-SERVE-NOT-FOUND"))
        self.assertEqual(server.request("POST", "/runs", raw=b"{" + b" " * (70 << 10) + b"}")[0],
                         413)
        self.assertEqual(server.request("PUT", "/runs")[0], 405)
        self.assertEqual(server.request("GET", "/nowhere")[0], 404)
        self.assertEqual(server.request("GET", "/runs/../../etc/passwd")[0], 404)
        self.assertEqual(server.request("GET", "/healthz")[0], 200)
        self.assertEqual(os.listdir(os.path.join(self.data, "out")), [])
        self.assertEqual(server.request("GET", "/runs")[1], {"runs": []})
        self.assertEqual(server.terminate(), 0)


class WarmIsolateTest(ServeTest):
    def test_no_script_state_passes_between_runs(self):
        server = self.start("--threads", "2", "--warm-isolates", "4")
        for i in range(4):
            run_id = server.submit("state", {"sink.path": f"out/s{i}.csv"})
            self.assertEqual(server.wait(run_id)["state"], "succeeded")
            rows = read(self.out(f"s{i}.csv")).decode().splitlines()[1:]
            self.assertEqual(len(rows), 20000)
            self.assertEqual({r.split(",")[1] for r in rows}, {"1"}, i)  # top level ran once
        m = server.metrics()
        self.assertGreaterEqual(m["flowengine_serve_isolates_reused_total"], 3)
        self.assertLessEqual(m["flowengine_serve_isolates_created_total"], 2)
        self.assertEqual(server.terminate(), 0)

    def test_an_isolate_whose_script_was_stopped_is_not_reused(self):
        write(os.path.join(self.pipes, "hang.yaml"),
              "pipeline: hang\nsource: { path: " + self.data + "/in/customers.csv }\n"
              "transform:\n  - javascript:\n      code: |\n"
              "        Promise.resolve().then(() => { for (;;) {} });\n"
              "        function process(c) { for (;;) {} }\n"
              "sink: { path: " + self.data + "/out/hang.csv }\n"
              "limits: { scriptTimeout: 200ms }\n")
        server = self.start("--threads", "1", "--warm-isolates", "2")
        doc = server.wait(server.submit("hang"), timeout=60)
        self.assertEqual((doc["state"], doc["error"]["code"]), ("failed", "FE-SCRIPT-TIMEOUT"))
        doc = server.wait(server.submit("state", {"sink.path": "out/s.csv"}), timeout=60)
        self.assertEqual(doc["state"], "succeeded", doc)  # the pending callback never ran
        m = server.metrics()
        self.assertEqual(m["flowengine_serve_isolates_reused_total"], 0)
        self.assertEqual(server.terminate(), 0)

    def test_promise_jobs_of_a_load_that_failed_never_run_in_the_next_run(self):
        # A hostile trial: a script whose top level queued a job and then threw went back to
        # the warm isolates with the job queued; it ran in the next run's load and failed it.
        for name, job in (("leftthrow", "throw new Error('left behind by the failed run')"),
                          ("leftloop", "for (;;) {}")):
            write(os.path.join(self.pipes, name + ".yaml"),
                  "pipeline: " + name + "\nsource: { path: " + self.data + "/in/customers.csv }\n"
                  "transform:\n  - javascript:\n      code: |\n"
                  "        Promise.resolve().then(() => { " + job + " });\n"
                  "        throw new Error('fails to load');\n"
                  "        function process(c) { return true; }\n"
                  "sink: { path: " + self.data + "/out/" + name + ".csv }\n"
                  "limits: { scriptTimeout: 200ms }\n")
        server = self.start("--threads", "1", "--warm-isolates", "2")
        for name in ("leftthrow", "leftloop"):
            with self.subTest(left=name):
                doc = server.wait(server.submit(name), timeout=60)
                self.assertEqual((doc["state"], doc["error"]["code"]), ("failed", "FE-SCRIPT-ERROR"))
                doc = server.wait(server.submit("state", {"sink.path": "out/s.csv"}), timeout=60)
                self.assertEqual(doc["state"], "succeeded", doc)
        self.assertEqual(server.terminate(), 0)

    def test_without_warm_isolates_every_run_makes_its_own(self):
        server = self.start("--threads", "1", "--warm-isolates", "0")
        for i in range(2):
            self.assertEqual(server.wait(server.submit(
                "state", {"sink.path": f"out/s{i}.csv"}))["state"], "succeeded")
        m = server.metrics()
        self.assertEqual(m["flowengine_serve_isolates_reused_total"], 0)
        self.assertEqual(m["flowengine_serve_isolates_created_total"], 2)
        self.assertEqual(server.terminate(), 0)


class SoakTest(ServeTest):
    """The short soak of CI (bench/e2e/serve_soak.py is the long one)."""

    def setUp(self):
        super().setUp()
        generate(os.path.join(self.data, "in", "small.csv"), 200)

    def idle(self, server):
        deadline = time.monotonic() + 10
        while server.metrics()["flowengine_serve_runs_running"] > 0:
            self.assertLess(time.monotonic(), deadline)
            time.sleep(0.01)
        m = server.metrics()
        return m["process_open_fds"], m["process_threads"], m["process_resident_memory_bytes"]

    def soak(self, warm):
        server = self.start("--max-runs", "4", "--max-queue", "64", "--warm-isolates", warm)
        jobs = [("customers-passthrough", {"source.path": "in/small.csv", "sink.path": "out/p.csv"}),
                ("customer-enrichment", {"source.path": "in/small.csv", "sink.path": "out/e.csv",
                                         "routes.review.path": "out/r.csv"})]

        def one(i):
            pipeline, sets = jobs[i % 2]
            return server.wait(server.submit(pipeline, sets))["state"]

        for i in range(50):
            self.assertEqual(one(i), "succeeded")
        fds0, threads0, rss0 = self.idle(server)
        for i in range(150):
            self.assertEqual(one(i), "succeeded")
        fds1, threads1, rss1 = self.idle(server)
        after_concurrent = []
        for batch in range(2):
            with concurrent.futures.ThreadPoolExecutor(20) as pool:
                sets = [{"source.path": "in/small.csv", "sink.path": f"out/c{i}.csv",
                         "routes.review.path": f"out/cr{i}.csv"} for i in range(20)]
                ids = list(pool.map(lambda s: server.submit("customer-enrichment", s), sets))
            self.assertEqual({server.wait(i)["state"] for i in ids}, {"succeeded"})
            after_concurrent.append(self.idle(server))
        (fds2, threads2, rss2), (fds3, threads3, rss3) = after_concurrent
        self.assertEqual(fds1, fds0)
        self.assertEqual(fds2, fds0)
        self.assertEqual(fds3, fds0)
        self.assertEqual(threads1, threads0)
        # oneTBB may keep a worker it woke, after either burst (seen: 9 threads after the
        # first, 10 after the second, in CI): bounded, not growing with the runs.
        self.assertLessEqual(threads2, threads0 + 2)
        self.assertLessEqual(threads3, threads0 + 2)
        self.assertEqual(server.terminate(), 0)  # with ASan: LeakSanitizer found no leak
        # Under ASan, freed memory sits in the quarantine, so RSS says nothing about leaks;
        # there LeakSanitizer checks the server at exit instead (a leak makes its exit code
        # non-zero).
        if SANITIZED:
            self.assertNotIn("LeakSanitizer", server.log_text())
            return 1, 1, 1, 1  # RSS is the quarantine's, not the service's
        return rss0, rss1, rss2, rss3

    def test_runs_without_warm_isolates_return_to_idle(self):
        # Every isolate disposed after its run. RSS still creeps up over the first ~1,000
        # runs as the allocators' arenas settle (54 -> 66.5 MiB, then flat to run 1,500:
        # bench/e2e/serve_soak.py --warm-isolates 0), so 150 runs cannot tell a small leak
        # from that: this bound (25%) catches ~100 KiB per run; the long soak is the oracle.
        rss0, rss1, rss2, rss3 = self.soak("0")
        self.assertLess(rss1, rss0 * 1.25, (rss0, rss1))
        self.assertLess(rss3, rss2 * 1.25, (rss2, rss3))

    def test_runs_with_warm_isolates_return_to_idle(self):
        # Warm isolates carry up to 8 MiB of their last runs' garbage each until the janitor
        # collects it (core/js/script_isolate.cc): two in use here (2 threads), so RSS may
        # rise by 16 MiB on top of the arenas' settling (above). The long soak in bench/ holds
        # 5% between runs 500 and 2,000.
        rss0, rss1, rss2, rss3 = self.soak("4")
        self.assertLess(rss1, rss0 * 1.25 + (16 << 20), (rss0, rss1))
        self.assertLess(rss3, rss2 * 1.25 + (16 << 20), (rss2, rss3))
