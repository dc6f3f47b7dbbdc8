#!/usr/bin/env bash
# Installs every build and test dependency of FlowEngine on a Debian 12 machine (run as root).
# Idempotent: when everything is present it only checks and returns within a second.
#   - Debian -dev packages via apt-get
#   - V8 10.2 from Debian's libnode108 + libnode-dev, unpacked with dpkg -x into
#     third_party/node (apt-get install libnode-dev conflicts with a preinstalled Node.js 20).
#   - promtool (tests lint /metrics with it) from Debian's prometheus package, unpacked into
#     third_party/prometheus: installing the package would also start a Prometheus server.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
prefix="${FLOWENGINE_NODE_PREFIX:-$root/third_party/node}"

packages=(
  build-essential cmake pkg-config clang-format clang-14 libclang-rt-14-dev
  libtbb-dev libsimdjson-dev libfast-float-dev libmimalloc-dev libyaml-cpp-dev
  libgtest-dev libgmock-dev libbenchmark-dev libcpp-httplib-dev zlib1g-dev libzstd-dev
  zstd python3-jsonschema python3-yaml
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

sudo_cmd=()
if [ "$(id -u)" -ne 0 ]; then sudo_cmd=(sudo); fi

if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends \
    "${missing[@]}"
fi

# V8 headers and libnode.so, unpacked locally.
if [ ! -f "$prefix/usr/include/node/v8.h" ] || ! ls "$prefix"/usr/lib/x86_64-linux-gnu/libnode.so* >/dev/null 2>&1; then
  echo "setup: unpacking libnode108 + libnode-dev into $prefix"
  tmp="$(mktemp -d)"
  trap 'rm -rf "$tmp"' EXIT
  if ! (cd "$tmp" && apt-get download libnode108 libnode-dev >/dev/null 2>&1); then
    "${sudo_cmd[@]}" apt-get update -qq
    (cd "$tmp" && apt-get download libnode108 libnode-dev)
  fi
  mkdir -p "$prefix"
  for deb in "$tmp"/*.deb; do dpkg -x "$deb" "$prefix"; done
  # libnode-dev ships the unversioned symlink; make sure it resolves inside the prefix.
  libdir="$prefix/usr/lib/x86_64-linux-gnu"
  if [ ! -e "$libdir/libnode.so" ]; then
    ln -sf "$(basename "$(ls "$libdir"/libnode.so.* | head -n1)")" "$libdir/libnode.so"
  fi
fi

# promtool only, unpacked locally.
promdir="$root/third_party/prometheus"
if [ ! -x "$promdir/usr/bin/promtool" ]; then
  echo "setup: unpacking promtool (Debian package prometheus) into $promdir"
  ptmp="$(mktemp -d)"
  if ! (cd "$ptmp" && apt-get download prometheus >/dev/null 2>&1); then
    "${sudo_cmd[@]}" apt-get update -qq
    (cd "$ptmp" && apt-get download prometheus)
  fi
  mkdir -p "$promdir/x"
  dpkg -x "$ptmp"/prometheus_*.deb "$promdir/x"
  mkdir -p "$promdir/usr/bin"
  mv "$promdir/x/usr/bin/promtool" "$promdir/usr/bin/promtool"
  rm -rf "$promdir/x" "$ptmp"
fi

# libnode108's own runtime dependencies (libuv, c-ares, ...), installed by name.
if ! dpkg-query -W -f='${Status}' libuv1 2>/dev/null | grep -q "install ok installed"; then
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq libuv1 libc-ares2 libbrotli1 libnghttp2-14 libicu72 zlib1g libssl3
fi
echo "setup: dependencies present"
