"""Shared helpers of the adversarial suite: run the real flowengine binary on real files and
check the invariants every run must keep.

The suite attacks the engine the way a hostile (or just unlucky) user would: aliased paths,
special files, stray quotes, truncated inputs, kills between renames. Every test drives the
real binary (FLOWENGINE_BIN, set by CTest) and checks its result against an oracle: a
reference model, a differential run, or an invariant (row conservation, targets untouched).

Under CI=true nothing may be skipped: `require(condition, why)` fails the test instead.
"""
import csv
import io
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
import unittest

BIN = os.environ.get("FLOWENGINE_BIN", os.path.join(os.path.dirname(__file__), "../../build/flowengine"))
GEN = os.environ.get("FLOWENGINE_GEN_BIN", os.path.join(os.path.dirname(BIN), "flowengine-gen"))
IN_CI = os.environ.get("CI", "") == "true"
# An ASan+UBSan build (CI runs the suite under one too): its binary starts and exits several
# times slower, so bounds on wall time that include a process's start or exit are wider there.
SANITIZED = "libasan" in subprocess.run(["ldd", BIN], capture_output=True, text=True).stdout

SUMMARY_RE = re.compile(
    r"([0-9]+) rows read, ([0-9]+) rows written, ([0-9]+) routed, ([0-9]+) filtered, "
    r"([0-9]+) rejected")


class Result:
    def __init__(self, code, out, err):
        self.code = code
        self.out = out
        self.err = err

    def __repr__(self):
        return f"exit {self.code}\nstdout: {self.out[-2000:]}\nstderr: {self.err[-4000:]}"

    def counts(self):
        """(read, written, routed, filtered, rejected) from the text summary."""
        m = SUMMARY_RE.search(self.err)
        return tuple(int(x) for x in m.groups()) if m else None


def run(args, cwd=None, env=None, timeout=120, stdin=subprocess.DEVNULL, check_accounting=True):
    """Runs flowengine with `args` (text logs); checks the accounting of every successful run."""
    full_env = dict(os.environ)
    full_env.setdefault("FLOWENGINE_LOG_FORMAT", "text")
    if env:
        full_env.update(env)
    p = subprocess.run([BIN] + list(args), cwd=cwd, env=full_env, stdin=stdin,
                       capture_output=True, timeout=timeout)
    r = Result(p.returncode, p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace"))
    if check_accounting and args and args[0] == "run" and r.code == 0:
        c = r.counts()
        assert c is not None, f"no summary line: {r}"
        assert c[0] == c[1] + c[2] + c[3] + c[4], f"accounting broken: {c}\n{r}"
    return r


def spawn(args, cwd=None, env=None, stderr_path=None):
    full_env = dict(os.environ)
    full_env.setdefault("FLOWENGINE_LOG_FORMAT", "text")
    if env:
        full_env.update(env)
    err = open(stderr_path, "wb") if stderr_path else subprocess.DEVNULL
    try:
        return subprocess.Popen([BIN] + list(args), cwd=cwd, env=full_env,
                                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err)
    finally:
        if stderr_path:
            err.close()  # the child has its own descriptor


def generate(path, rows, seed=42, fmt="csv"):
    subprocess.run([GEN, "--rows", str(rows), "--seed", str(seed), "--format", fmt, "--out", path],
                   check=True, capture_output=True)


def write(path, data, mode=None):
    if isinstance(data, str):
        data = data.encode()
    with open(path, "wb") as f:
        f.write(data)
    if mode is not None:
        os.chmod(path, mode)


def read(path):
    with open(path, "rb") as f:
        return f.read()


def csv_rows(path_or_bytes, delimiter=","):
    data = read(path_or_bytes) if isinstance(path_or_bytes, str) else path_or_bytes
    return list(csv.reader(io.StringIO(data.decode("utf-8"), newline=""), delimiter=delimiter))


def dead_letters(path):
    """The dead-letter rows as dicts (read by column name, as consumers do)."""
    data = read(path).decode("utf-8")
    return list(csv.DictReader(io.StringIO(data, newline="")))


def snapshot(directory):
    """{relative path: (kind, bytes or link target, mode, uid, gid, inode)} of a tree."""
    out = {}
    for root, dirs, files in os.walk(directory):
        for name in dirs + files:
            p = os.path.join(root, name)
            rel = os.path.relpath(p, directory)
            st = os.lstat(p)
            if os.path.islink(p):
                out[rel] = ("link", os.readlink(p))
            elif os.path.isdir(p):
                out[rel] = ("dir", None, st.st_mode & 0o7777)
            elif os.path.isfile(p):
                out[rel] = ("file", read(p), st.st_mode & 0o7777, st.st_uid, st.st_gid, st.st_ino)
            else:
                out[rel] = ("special", None, st.st_mode)
    return out


class TempDirTest(unittest.TestCase):
    """A test with a scratch directory self.dir (removed afterwards)."""

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="fe-adv-")

    def tearDown(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def path(self, *parts):
        return os.path.join(self.dir, *parts)

    def pipeline(self, yaml_text, name="p.yaml"):
        p = self.path(name)
        write(p, yaml_text)
        return p

    def require(self, condition, why):
        """Skips locally when the machine cannot run this test; fails under CI=true."""
        if condition:
            return
        if IN_CI:
            self.fail("required by CI but not available: " + why)
        self.skipTest(why)

    def assertCode(self, result, code, exit_code=None):
        self.assertIn(code, result.err, repr(result))
        if exit_code is not None:
            self.assertEqual(result.code, exit_code, repr(result))


def wait_for(predicate, timeout=10.0, step=0.01):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(step)
    return False


def lock_file(target):
    """The lock file a run holds while it writes `target` (core/io/target_lock.cc)."""
    return os.path.join(os.path.dirname(target), "." + os.path.basename(target) + ".flowengine-lock")


def holds_lock(pid, target):
    """Whether process `pid` holds the lock on `target`: a run creates the lock file before it
    locks it and writes its pid into it only once it has the lock."""
    try:
        return read(lock_file(target)) == f"{pid}\n".encode()
    except OSError:
        return False


def wait_for_lock(proc, target, timeout=30.0):
    """Waits until the run `proc` holds the lock on `target` (its signal handlers are in place
    by then: they are installed before the run opens anything). False if it exited first or
    the wait timed out."""
    wait_for(lambda: proc.poll() is not None or holds_lock(proc.pid, target), timeout)
    return proc.poll() is None and holds_lock(proc.pid, target)


def json_lines(text):
    out = []
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("{"):
            out.append(json.loads(line))
    return out


def slow_pipeline(sink="out.csv"):
    """A pipeline of in.csv to `sink` whose script spends 1 ms on each row (1 thread): a run
    that lasts long enough to be signalled, killed or raced with."""
    return f"""
source: {{ path: in.csv }}
transform:
  - javascript:
      code: |
        function process(c) {{ const t = Date.now(); while (Date.now() - t < 1) {{}} return true; }}
sink: {{ path: {sink}, outputMode: replace }}
limits: {{ threads: 1 }}
"""


__all__ = [name for name in dir() if not name.startswith("_")] + ["signal"]
