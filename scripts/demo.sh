#!/usr/bin/env bash
# The README's main job: installs what is missing, builds, then runs Switchback in front of a
# local Kamailio registrar with simulated SIPp phones registering and calling through it.
# --pair: two Switchback nodes sharing registrations through Redis, one killed, the other taking over.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh
if [ "${1:-}" = "--pair" ]; then
  shift
  exec python3 tests/integration/demo_pair.py --switchback build/proxy/switchback "$@"
fi
exec python3 tests/integration/demo.py --switchback build/proxy/switchback "$@"
