#!/usr/bin/env bash
# The README's test command: installs what is missing, builds, runs every test (unit and
# integration with real Kamailio registrars and SIPp phones on loopback).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh
cd "${BUILD_DIR:-build}"
ctest --output-on-failure -j2 "$@"
