#!/usr/bin/env bash
# Builds the benchmarks in Release (build-bench/) and runs every case five
# times, printing the medians and writing them to build-bench/bench.json;
# bench/summarize.py then turns that into the ratio-to-target table of
# BENCHMARKS.md. Extra arguments go to the benchmark binary (e.g. a filter).
set -euo pipefail
cd "$(dirname "$0")/.."
build=${FRAMEALLOC_BENCH_DIR:-build-bench}
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DFRAMEALLOC_BUILD_BENCH=ON -DFRAMEALLOC_BUILD_KERNEL=OFF -DFRAMEALLOC_BUILD_TESTS=OFF -DFRAMEALLOC_BUILD_TOOLS=OFF >/dev/null
cmake --build "$build" --target framealloc_bench framealloc_opcount
"$build/bench/framealloc_bench" --benchmark_repetitions=5 --benchmark_report_aggregates_only=true \
  --benchmark_out="$build/bench.json" --benchmark_out_format=json "$@"
python3 bench/summarize.py "$build/bench.json"
