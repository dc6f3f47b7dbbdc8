"""Libraries planted in the directory a user runs flowengine from are never loaded: the binary,
its JavaScript plugin and libflowengine.so carry no empty RPATH entry (which makes the dynamic
loader search the current directory), and a run from a directory holding a library of every
name they need (each one's constructor would leave a marker) succeeds without loading any."""
import os
import shutil
import subprocess
import unittest

from harness import BIN, TempDirTest, run, write

BUILD = os.path.dirname(os.path.abspath(BIN))
PLANT = r"""
#include <fcntl.h>
#include <unistd.h>
__attribute__((constructor)) static void planted(void) {
  int fd = open("PLANTED-LIBRARY-LOADED", O_WRONLY | O_CREAT, 0644);
  if (fd >= 0) close(fd);
}
"""


def needed_and_runpath(path):
    out = subprocess.run(["readelf", "-d", path], capture_output=True, text=True, check=True).stdout
    needed, runpath = [], None
    for line in out.splitlines():
        if "(NEEDED)" in line:
            needed.append(line.split("[", 1)[1].rstrip("]"))
        if "(RUNPATH)" in line or "(RPATH)" in line:
            runpath = line.split("[", 1)[1].rstrip("]")
    return needed, runpath


class LibraryPathTest(TempDirTest):
    def binaries(self):
        paths = [BIN, os.path.join(BUILD, "libflowengine_js.so"), os.path.join(BUILD, "libflowengine.so")]
        return [p for p in paths if os.path.exists(p)]

    def test_no_empty_runpath_entry(self):
        self.require(shutil.which("readelf") is not None, "readelf")
        for path in self.binaries():
            _, runpath = needed_and_runpath(path)
            if runpath is None:
                continue
            with self.subTest(binary=os.path.basename(path)):
                self.assertNotIn("", runpath.split(":"), f"{path}: RUNPATH [{runpath}]")
                for entry in runpath.split(":"):
                    self.assertTrue(entry.startswith("/") or entry.startswith("$ORIGIN"),
                                    f"{path}: relative RUNPATH entry {entry!r}")

    def test_planted_libraries_are_not_loaded(self):
        self.require(shutil.which("cc") is not None and shutil.which("readelf") is not None,
                     "cc and readelf")
        names = set()
        for path in self.binaries():
            names.update(needed_and_runpath(path)[0])
        names.discard("libc.so.6")  # the loader's own libc is mapped first either way
        names.discard("ld-linux-x86-64.so.2")
        src = self.path("plant.c")
        write(src, PLANT)
        planted = self.path("planted.so")
        subprocess.run(["cc", "-shared", "-fPIC", "-o", planted, src], check=True)
        work = self.path("work")
        os.mkdir(work)
        for name in sorted(names):
            shutil.copy(planted, os.path.join(work, name))
        write(os.path.join(work, "in.csv"), "id,name\n1,a\n2,b\n")
        write(os.path.join(work, "p.yaml"), """
source: { path: in.csv }
transform:
  - javascript:
      code: |
        function process(context) {
          context.output.setField('name', context.input.current().name.toUpperCase());
          return true;
        }
sink: { path: out.csv }
""")
        r = run(["run", "p.yaml"], cwd=work)
        self.assertEqual(r.code, 0, repr(r))
        with open(os.path.join(work, "out.csv")) as f:
            self.assertEqual(f.read(), "id,name\n1,A\n2,B\n")
        self.assertFalse(os.path.exists(os.path.join(work, "PLANTED-LIBRARY-LOADED")),
                         f"a library planted in the working directory was loaded ({sorted(names)})")


if __name__ == "__main__":
    unittest.main()
