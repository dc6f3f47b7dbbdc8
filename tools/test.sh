#!/usr/bin/env bash
# The whole test suite, as CI runs it (.ci/run calls this script):
#   1. dependencies (idempotent), 2. clang-format, 3. warning-clean build (-Werror) and every
#   test (ctest), 4. the same tests under ASan+UBSan, 5. the parser fuzz target for 60 s.
# No ThreadSanitizer job: Debian's libtbb is not instrumented, so TSan reports TBB's own
# task hand-offs as races (tried: hundreds of reports, all inside oneTBB's flow graph).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
jobs=2

bash tools/setup.sh

echo "== format"
files=$(git ls-files '*.cc' '*.h')
clang-format --dry-run --Werror $files

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

echo "== fuzz (libFuzzer, 60 s on the seed corpus)"
CC=clang-14 CXX=clang++-14 cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DFLOWENGINE_FUZZ=ON -DFLOWENGINE_BUILD_TESTS=OFF -DFLOWENGINE_BUILD_BENCH=OFF >/dev/null
cmake --build build-fuzz -j"$jobs" --target parse_fuzzer
corpus=$(mktemp -d)
cp tests/fuzz/corpus/* "$corpus"/
build-fuzz/tests/fuzz/parse_fuzzer -max_total_time=60 -max_len=4096 -print_final_stats=1 \
  -artifact_prefix=build-fuzz/ "$corpus" 2>&1 | tail -n 3
rm -rf "$corpus"
echo "== all checks passed"
