#!/usr/bin/env bash
# Line coverage of the receive path by a fuzz corpus: builds the fuzz target with clang's source
# coverage into build-fuzzcov, runs every input once, prints llvm-cov's report for core/.
#   scripts/fuzz-coverage.sh                       # the committed seeds and regressions
#   scripts/fuzz-coverage.sh build-fuzz/corpus     # what scripts/fuzz.sh has found so far
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir="${FUZZ_COVERAGE_BUILD_DIR:-build-fuzzcov}"
cmake -S . -B "$build_dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_COMPILER=clang++-14 -DSWITCHBACK_FUZZ=ON \
  -DSWITCHBACK_TESTS=OFF -DCMAKE_CXX_FLAGS="-fprofile-instr-generate -fcoverage-mapping" \
  -DCMAKE_EXE_LINKER_FLAGS="-fprofile-instr-generate" >/dev/null
cmake --build "$build_dir" -j"$(nproc)" --target switchback_fuzz_receive
binary="$build_dir/tests/fuzz/switchback_fuzz_receive"
rm -f "$build_dir"/*.profraw
ASAN_OPTIONS=detect_leaks=0 LLVM_PROFILE_FILE="$build_dir/fuzz-%p.profraw" \
  "$binary" -runs=0 tests/fuzz/corpus tests/fuzz/regressions "$@" 2>&1 | grep -E "INITED|DONE" || true
llvm-profdata-14 merge -sparse "$build_dir"/*.profraw -o "$build_dir/fuzz.profdata"
llvm-cov-14 report "$binary" -instr-profile="$build_dir/fuzz.profdata" \
  core/sip_message.cpp core/stream_framer.cpp core/guard.cpp core/rate_limiter.cpp core/proxy_engine.cpp \
  core/proxy_routing.cpp core/proxy_guard.cpp core/sip_builder.cpp core/flow_token.cpp core/sip_uri.cpp
