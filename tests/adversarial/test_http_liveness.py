"""The --listen endpoints under hostile clients: hundreds of idle connections, slowloris
clients trickling a request byte by byte, clients that never read their answers, garbage
bytes and oversized headers, more connections than the server keeps. /healthz and /readyz
must keep answering within ~100 ms, and the run must finish normally."""
import json
import os
import random
import re
import resource
import socket
import statistics
import subprocess
import threading
import time
import unittest

from harness import BIN, SANITIZED, TempDirTest, read, spawn, wait_for, write


def get(port, path, timeout=5.0):
    """One request on a fresh connection: (status, seconds)."""
    start = time.monotonic()
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(f"GET {path} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n".encode())
        data = b""
        while True:
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
    status = int(data.split(b" ", 2)[1]) if data.startswith(b"HTTP/1.1 ") else 0
    return status, time.monotonic() - start


def logged_port(test, log_path):
    """The port a run logged it listens on (waiting up to 10 s for the line)."""
    found = {}

    def port_logged():
        m = re.search(r"http://127\.0\.0\.1:(\d+)", read(log_path).decode())
        if m:
            found["port"] = int(m.group(1))
        return bool(m)

    test.assertTrue(wait_for(port_logged, 10), read(log_path))
    return found["port"]


class HttpLivenessTest(TempDirTest):
    def setUp(self):
        super().setUp()
        os.mkfifo(self.path("in.fifo"))
        p = self.pipeline("source: { path: in.fifo }\nsink: { path: out.csv }\n")
        self.proc = spawn(["run", p, "--listen", "127.0.0.1:0"], stderr_path=self.path("err.txt"))
        self.fifo = open(self.path("in.fifo"), "w")
        self.fifo.write("id\n1\n")
        self.fifo.flush()
        self.port = logged_port(self, self.path("err.txt"))
        # The endpoint answers from the start; /readyz turns 200 once the graph runs, a
        # moment after the port is logged. The tests below measure a running engine.
        self.assertTrue(wait_for(lambda: get(self.port, "/readyz")[0] == 200, 10),
                        read(self.path("err.txt")))
        # How fast this machine answers with no hostile client (a loaded CI machine, an ASan
        # build): the bound on the slowest answer below scales with it.
        self.baseline = statistics.median(get(self.port, "/healthz")[1] for _ in range(10))
        self.sockets = []
        self.stop = threading.Event()

    def tearDown(self):
        self.stop.set()
        for s in self.sockets:
            s.close()
        self.fifo.write("2\n")
        self.fifo.close()
        code = self.proc.wait(timeout=30)
        self.assertEqual(code, 0, read(self.path("err.txt")))
        super().tearDown()

    def connect(self):
        s = socket.create_connection(("127.0.0.1", self.port), timeout=5)
        self.sockets.append(s)
        return s

    def assert_fast(self, what):
        times = []
        for path in ["/healthz", "/readyz"] * 10:
            status, seconds = get(self.port, path)
            self.assertEqual(status, 200, what)
            times.append(seconds)
        self.assertLess(statistics.median(times), 0.1, f"{what}: {times}")
        # One slow answer out of 20 may be the scheduler's (2 loaded cores, ASan), not the
        # server's: the slowest is held to 10 x the median before the hostile clients came, at
        # least 0.3 s (2 s under ASan); a server they hold up fails the median above.
        slowest = max(2.0 if SANITIZED else 0.3, 10 * self.baseline)
        self.assertLess(max(times), slowest, f"{what}: {times} (baseline {self.baseline:.4f} s)")

    def test_idle_connections(self):
        for _ in range(300):
            self.connect()
        self.assert_fast("300 idle connections")

    def test_slowloris_clients(self):
        conns = [self.connect() for _ in range(40)]
        for s in conns:
            s.sendall(b"GET /healthz HTTP/1.1\r\nHost: t\r\n")

        def trickle():
            while not self.stop.is_set():
                for s in conns:
                    try:
                        s.sendall(b"X")
                    except OSError:
                        pass
                time.sleep(0.05)

        t = threading.Thread(target=trickle, daemon=True)
        t.start()
        self.assert_fast("40 slowloris clients")
        self.stop.set()
        t.join()

    def test_clients_that_never_read(self):
        for _ in range(30):
            s = self.connect()
            s.sendall(b"GET /metrics HTTP/1.1\r\nHost: t\r\n\r\n" * 50)
        self.assert_fast("clients that never read")

    def test_more_connections_than_the_server_keeps(self):
        for _ in range(700):
            self.connect()
        self.assert_fast("700 connections (the server keeps 512)")

    def test_garbage_and_oversized_requests(self):
        rnd = random.Random(5)
        for i in range(100):
            s = self.connect()
            if i % 3 == 0:
                s.sendall(bytes(rnd.randrange(256) for _ in range(rnd.randrange(1, 300))) + b"\r\n\r\n")
            elif i % 3 == 1:
                s.sendall(b"GET / HTTP/1.1\r\n" + b"X-A: " + b"a" * 20000 + b"\r\n\r\n")
            else:
                s.sendall(b"POST /metrics HTTP/1.1\r\nContent-Length: 99999999\r\n\r\n")
        self.assert_fast("garbage requests")
        status, _ = get(self.port, "/nope")
        self.assertEqual(status, 404)

    def test_malformed_requests_get_a_json_error_at_once(self):
        cases = [
            (b"GET /healthz HTTP/1.1\nHost: t\nConnection: close\n\n", 400, "CRLF"),
            (b"POST /metrics HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 501,
             "Content-Length"),
            (b"GET / HTTP/1.1\r\nX-A: " + b"a" * 20000 + b"\r\n\r\n", 431, "headers"),
        ]
        for request, status, hint in cases:
            with socket.create_connection(("127.0.0.1", self.port), timeout=2) as s:
                s.sendall(request)
                data = b""
                while True:  # a timeout here is the bug: the answer must come at once
                    chunk = s.recv(4096)
                    if not chunk:
                        break
                    data += chunk
            head, _, body = data.partition(b"\r\n\r\n")
            self.assertTrue(head.startswith(f"HTTP/1.1 {status} ".encode()), data)
            self.assertIn(b"Content-Type: application/json", head)
            error = json.loads(body)["error"]
            self.assertEqual(error["code"], "FE-SERVE-REQUEST", error)
            self.assertIn(hint, error["message"] + error["hint"], error)


class DescriptorReserveTest(TempDirTest):
    """Connections may not take the file descriptors a run needs: with RLIMIT_NOFILE 64,
    a hundred idle clients must not make the run fail or lose its summary (EMFILE)."""

    def test_clients_cannot_starve_the_run_of_descriptors(self):
        os.mkfifo(self.path("in.fifo"))
        p = self.pipeline("source: { path: in.fifo }\nsink: { path: out.csv }\n")
        env = dict(os.environ, FLOWENGINE_LOG_FORMAT="text")
        with open(self.path("err.txt"), "wb") as err:
            proc = subprocess.Popen(
                [BIN, "run", p, "--listen", "127.0.0.1:0", "--summary", self.path("s.json")],
                stdin=subprocess.DEVNULL, stderr=err, env=env,
                preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_NOFILE, (64, 64)))
        fifo = open(self.path("in.fifo"), "w")
        fifo.write("id\n1\n")
        fifo.flush()
        port = logged_port(self, self.path("err.txt"))
        sockets = []
        try:
            for _ in range(100):
                try:
                    sockets.append(socket.create_connection(("127.0.0.1", port),
                                                            timeout=2))
                except OSError:
                    pass
            time.sleep(0.3)
            fifo.write("2\n")
            fifo.close()
            code = proc.wait(timeout=60)
        finally:
            for s in sockets:
                s.close()
            if proc.poll() is None:
                proc.kill()
        self.assertEqual(code, 0, read(self.path("err.txt")))
        self.assertEqual(read(self.path("out.csv")), b"id\n1\n2\n")
        self.assertIn(b'"ok":true', read(self.path("s.json")))


if __name__ == "__main__":
    unittest.main()
