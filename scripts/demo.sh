#!/usr/bin/env bash
# The README's main job: installs what is missing, builds, then runs Switchback in front of a
# local Kamailio registrar with simulated SIPp phones registering and calling through it.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh
exec python3 tests/integration/demo.py --switchback build/proxy/switchback "$@"
