#!/usr/bin/env bash
# Quick start: installs the dependencies, builds FlowEngine into build/ and runs the example
# pipeline configs/customers-passthrough.yaml (output in out/customers.csv).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash tools/setup.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j2 --target flowengine flowengine-gen
mkdir -p out
build/flowengine run configs/customers-passthrough.yaml
echo "quickstart: output in out/customers.csv; the CLI is build/flowengine"
