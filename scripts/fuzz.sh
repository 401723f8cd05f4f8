#!/usr/bin/env bash
# Builds the libFuzzer target over the receive path (clang, ASan + UBSan) into build-fuzz and runs
# it for SECONDS (default 120) on the seed corpus, with any extra arguments passed to libFuzzer.
#   scripts/fuzz.sh            # two minutes, as CI does
#   scripts/fuzz.sh 3600 -jobs=2 -workers=2   # an hour on both cores
# New inputs that reach new code go to build-fuzz/corpus (the committed seeds stay as they are).
# A crash leaves crash-* in build-fuzz/artifacts and the script exits non-zero: fix it, then
# copy the input to tests/fuzz/regressions/ so the unit tests replay it in every build.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-120}"
shift || true
build_dir="${FUZZ_BUILD_DIR:-build-fuzz}"
cmake -S . -B "$build_dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_COMPILER=clang++-14 \
  -DSWITCHBACK_FUZZ=ON -DSWITCHBACK_TESTS=OFF >/dev/null
cmake --build "$build_dir" -j"$(nproc)" --target switchback_fuzz_receive
mkdir -p "$build_dir/corpus" "$build_dir/artifacts"
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
"$build_dir/tests/fuzz/switchback_fuzz_receive" -max_total_time="$seconds" -max_len=8192 -timeout=10 \
  -rss_limit_mb=2048 -print_final_stats=1 -dict=tests/fuzz/sip.dict -artifact_prefix="$build_dir/artifacts/" \
  "$@" "$build_dir/corpus" tests/fuzz/corpus tests/fuzz/regressions
