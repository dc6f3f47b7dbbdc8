"""A `flowengine serve` process on loopback for tests and benchmarks: started on a free port,
its address read from its log, requests with http.client, runs waited for, and its idle
resource figures (open descriptors, threads, RSS) read from /metrics."""
import http.client
import json
import os
import re
import shutil
import signal
import subprocess
import time

CONFIGS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../configs")

URL_RE = re.compile(r"on http://127\.0\.0\.1:(\d+)")


class Server:
    def __init__(self, binary, pipelines, data_roots, extra=(), log_path=None, token=None):
        self.log_path = log_path or os.path.join(data_roots[0], "..", "serve.log")
        self.token = token
        args = [binary, "serve", "--listen", "127.0.0.1:0", "--pipelines", pipelines,
                "--log-format", "text"]
        for root in data_roots:
            args += ["--data-root", root]
        args += list(extra)
        self.log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=self.log,
                                     stderr=self.log)
        self.port = None
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and self.port is None:
            m = URL_RE.search(self.log_text())
            if m:
                self.port = int(m.group(1))
            elif self.proc.poll() is not None:
                raise RuntimeError("serve exited: " + self.log_text())
            else:
                time.sleep(0.02)
        if self.port is None:
            self.stop()
            raise RuntimeError("serve did not start: " + self.log_text())

    def log_text(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def request(self, method, path, body=None, token=None, raw=None, timeout=60):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        headers = {}
        tok = token if token is not None else self.token
        if tok:
            headers["Authorization"] = "Bearer " + tok
        data = raw if raw is not None else (json.dumps(body) if body is not None else None)
        if data is not None:
            headers["Content-Type"] = "application/json"
        conn.request(method, path, body=data, headers=headers)
        resp = conn.getresponse()
        text = resp.read().decode("utf-8", "replace")
        conn.close()
        try:
            doc = json.loads(text)
        except ValueError:
            doc = None
        return resp.status, doc, text, dict(resp.getheaders())

    def submit(self, pipeline, sets=None, expect=202):
        body = {"pipeline": pipeline}
        if sets is not None:
            body["set"] = sets
        status, doc, text, _ = self.request("POST", "/runs", body)
        if expect is not None and status != expect:
            raise AssertionError(f"POST /runs {body}: {status} {text}")
        return doc["id"] if status == 202 else (status, doc)

    def run_state(self, run_id):
        status, doc, text, _ = self.request("GET", "/runs/" + run_id)
        if status != 200:
            raise AssertionError(f"GET /runs/{run_id}: {status} {text}")
        return doc

    def wait(self, run_id, timeout=300, states=("succeeded", "failed", "cancelled"), poll=0.01):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            doc = self.run_state(run_id)
            if doc["state"] in states:
                return doc
            time.sleep(poll)
        raise AssertionError(f"run {run_id} did not reach {states}: {doc}")

    def metrics(self):
        status, _, text, _ = self.request("GET", "/metrics")
        assert status == 200, text
        out = {}
        for line in text.splitlines():
            if line and not line.startswith("#"):
                name, value = line.rsplit(" ", 1)
                out[name] = float(value)
        return out

    def terminate(self, timeout=120):
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout=timeout)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.log.close()


def prepare_service_dir(work, binary, rows):
    """For the bench scripts: WORK/pipelines with the passthrough and enrichment pipelines of
    configs/ and their scripts, WORK/data/in/small.csv (`rows` generated records) and an
    empty WORK/data/out. Returns (pipelines dir, data root, the input file)."""
    pipes, data = os.path.join(work, "pipelines"), os.path.join(work, "data")
    os.makedirs(os.path.join(data, "in"))
    os.makedirs(os.path.join(data, "out"))
    shutil.copytree(os.path.join(CONFIGS, "scripts"), os.path.join(pipes, "scripts"))
    for name in ("customers-passthrough.yaml", "customer-enrichment.yaml"):
        shutil.copy(os.path.join(CONFIGS, name), pipes)
    small = os.path.join(data, "in", "small.csv")
    gen = os.path.join(os.path.dirname(binary), "flowengine-gen")
    subprocess.run([gen, "--rows", str(rows), "--out", small], check=True, capture_output=True)
    return pipes, data, small
