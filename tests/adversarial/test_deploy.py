"""Deployment files of issue 15 (deploy/), checked where no container tool runs: the
Dockerfile's build steps are the ones CI runs (tools/setup.sh, cmake --install), its runtime
stage installs the Debian package of every library the installed binary and plugins load
(ldd + dpkg -S, the oracle), the systemd unit passes `systemd-analyze verify` against the
installed binary, and the unit's own command line starts a server that drains on SIGTERM."""
import os
import re
import shlex
import shutil
import signal
import subprocess
import time

from harness import BIN, TempDirTest, read

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "../..")
DOCKERFILE = os.path.join(ROOT, "deploy/Dockerfile")
UNIT = os.path.join(ROOT, "deploy/flowengine.service")
# In every debian:12 image (essential or required by apt itself).
BASE_IMAGE = {"libc6", "libgcc-s1", "libstdc++6"}


def dockerfile_text():
    return read(DOCKERFILE).decode()


def exec_start():
    text = read(UNIT).decode().replace("\\\n", " ")
    line = next(l for l in text.splitlines() if l.startswith("ExecStart="))
    return shlex.split(line[len("ExecStart="):])


class DeployTest(TempDirTest):
    def install(self):
        prefix = self.path("prefix")
        build_dir = os.path.dirname(os.path.abspath(BIN))
        subprocess.run(["cmake", "--install", build_dir, "--prefix", prefix], check=True,
                       capture_output=True)
        return prefix

    def test_docker_build_steps_are_the_ones_ci_runs(self):
        text = dockerfile_text()
        ci = read(os.path.join(ROOT, "tools/test.sh")).decode()
        self.assertIn("bash tools/setup.sh", text)
        self.assertIn("bash tools/setup.sh", ci)
        self.assertIn("cmake --install build --prefix /opt/flowengine", text)
        self.assertIn("cmake --install build --prefix", ci)
        self.assertRegex(text, r"(?m)^FROM debian:12 AS build$")
        self.assertRegex(text, r"(?m)^FROM debian:12$")
        self.assertRegex(text, r"(?m)^USER flowengine$")
        entry = re.search(r"ENTRYPOINT \[(.*?)\]", text, re.S).group(1)
        self.assertIn('"serve"', entry)
        self.assertIn('"--data-root"', entry)

    def test_runtime_stage_installs_every_library_the_binaries_load(self):
        prefix = self.install()
        runtime = dockerfile_text().split("FROM debian:12\n", 1)[1]
        install = re.search(r"apt-get install -y -qq --no-install-recommends(.*?)&&", runtime,
                            re.S).group(1)
        listed = set(install.replace("\\", " ").split())
        binaries = [os.path.join(prefix, "bin/flowengine"),
                    os.path.join(prefix, "lib/libflowengine.so"),
                    os.path.join(prefix, "lib/flowengine/libflowengine_js.so")]
        needed, libnode = set(), None
        for b in binaries:
            self.assertTrue(os.path.exists(b), b)
            out = subprocess.run(["ldd", b], capture_output=True, text=True, check=True).stdout
            self.assertNotIn("not found", out, b)
            for m in re.finditer(r"=> (/\S+)", out):
                lib = os.path.realpath(m.group(1))
                if "third_party/node" in lib:
                    libnode = lib
                    continue
                owner = subprocess.run(["dpkg", "-S", lib], capture_output=True, text=True)
                if owner.returncode != 0:  # merged /usr: ask for the /lib spelling too
                    owner = subprocess.run(["dpkg", "-S", lib.replace("/usr/lib/", "/lib/")],
                                           capture_output=True, text=True)
                self.assertEqual(owner.returncode, 0, lib)
                needed.add(owner.stdout.split(":")[0])
        # The sanitizer build links the sanitizers' runtimes; the image is a release build.
        needed = {p for p in needed if not p.startswith(("libasan", "libubsan"))}
        missing = needed - listed - BASE_IMAGE
        self.assertEqual(missing, set(), "add these to deploy/Dockerfile's runtime stage")
        # V8 comes from the build stage's third_party/node, copied to the same path.
        self.assertIsNotNone(libnode)
        self.assertIn("COPY --from=build /src/third_party/node/usr/lib/x86_64-linux-gnu", runtime)

    def test_systemd_unit_verifies(self):
        tool = shutil.which("systemd-analyze")
        self.require(tool is not None, "systemd-analyze")
        prefix = self.install()
        unit = read(UNIT).decode().replace("/opt/flowengine", prefix)
        path = self.path("flowengine.service")
        with open(path, "w") as f:
            f.write(unit)
        r = subprocess.run([tool, "verify", path], capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stderr.strip(), "")
        # ... and it can fail: a unit whose binary is missing does not verify.
        with open(path, "w") as f:
            f.write(unit.replace(prefix + "/bin/flowengine", prefix + "/bin/missing"))
        self.assertNotEqual(subprocess.run([tool, "verify", path], capture_output=True).returncode,
                            0)

    def test_units_command_line_serves_and_drains(self):
        args = exec_start()
        self.assertEqual(args[:2], ["/opt/flowengine/bin/flowengine", "serve"])
        pipes, data = self.path("pipelines"), self.path("data")
        os.makedirs(pipes)
        os.makedirs(data)
        args = [BIN] + args[1:]
        args[args.index("--pipelines") + 1] = pipes
        args[args.index("--data-root") + 1] = data
        args[args.index("--listen") + 1] = "127.0.0.1:0"
        timeout = int(args[args.index("--drain-timeout") + 1])
        stop = int(re.search(r"TimeoutStopSec=(\d+)", read(UNIT).decode()).group(1))
        self.assertGreater(stop, timeout)  # systemctl stop drains rather than kills
        log = self.path("serve.log")
        with open(log, "wb") as f:
            p = subprocess.Popen(args, stdout=f, stderr=f)
        deadline = time.monotonic() + 20
        while b"serving" not in read(log) and time.monotonic() < deadline:
            self.assertIsNone(p.poll(), read(log))
            time.sleep(0.02)
        self.assertIn(b"serving", read(log))
        p.send_signal(signal.SIGTERM)
        self.assertEqual(p.wait(timeout=30), 0, read(log))
        self.assertIn(b"stopped", read(log))
