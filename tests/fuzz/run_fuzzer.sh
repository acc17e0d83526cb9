#!/usr/bin/env bash
# Builds the libFuzzer target with clang (fuzzer + ASan + UBSan) and fuzzes
# the differential driver for SECONDS seconds (default 600), keeping the
# corpus in $build/corpus between runs. A difference from the reference
# model aborts and leaves a crash-* reproducer; replay it with
#   $build/tests/fuzz/framealloc_fuzz crash-<hash>
#   bash tests/fuzz/run_fuzzer.sh [SECONDS] [extra libFuzzer flags...]
set -euo pipefail
cd "$(dirname "$0")/../.."
seconds=${1:-600}
shift || true
build=${FRAMEALLOC_FUZZ_BUILD_DIR:-build-fuzz-clang}
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_C_COMPILER=clang \
  -DFRAMEALLOC_BUILD_KERNEL=OFF -DFRAMEALLOC_BUILD_BENCH=OFF >/dev/null
cmake --build "$build" --target framealloc_fuzz
mkdir -p "$build/corpus"
exec "$build/tests/fuzz/framealloc_fuzz" -max_total_time="$seconds" -max_len=4096 "$@" "$build/corpus"
