#!/usr/bin/env bash
# The whole test suite, as CI runs it (.ci/run calls this script):
#   1. dependencies (idempotent), 2. warning-clean build (-Werror) and every test (ctest),
#   3. the same tests under ASan+UBSan, 4. clang-format check.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
jobs=2

bash tools/setup.sh

echo "== release build (-Werror)"
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DFLOWENGINE_WERROR=ON >/dev/null
cmake --build build -j"$jobs"
echo "== tests"
ctest --test-dir build --output-on-failure -j"$jobs"

echo "== ASan+UBSan build"
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DFLOWENGINE_WERROR=ON \
  -DFLOWENGINE_SANITIZE=ON -DFLOWENGINE_BUILD_BENCH=OFF >/dev/null
cmake --build build-asan -j"$jobs"
echo "== tests under ASan+UBSan"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
  ctest --test-dir build-asan --output-on-failure -j"$jobs"

echo "== format"
files=$(git ls-files '*.cc' '*.h')
clang-format --dry-run --Werror $files
echo "== all checks passed"
