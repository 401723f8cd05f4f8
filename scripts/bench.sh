#!/usr/bin/env bash
# Switchback against Kamailio (dispatcher outbound proxy), side by side on loopback: installs
# what is missing, builds Release into ./build-release (or $BUILD_DIR), runs tests/bench/bench.py
# and prints the table (under 10 minutes; --quick for about 3). Extra arguments go to bench.py.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
build_dir="${BUILD_DIR:-build-release}"
cmake -S . -B "$build_dir" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$build_dir" -j"$(nproc)" --target switchback >/dev/null
exec python3 tests/bench/bench.py --switchback "$build_dir/proxy/switchback" "$@"
