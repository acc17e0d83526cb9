#!/usr/bin/env bash
# The main job: builds the simulator and runs it on its built-in default
# memory map and workload. Extra arguments go to the simulator.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh run
build=${FRAMEALLOC_BUILD_DIR:-build-run}
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DFRAMEALLOC_BUILD_TESTS=OFF \
  -DFRAMEALLOC_BUILD_BENCH=OFF -DFRAMEALLOC_BUILD_KERNEL=OFF
cmake --build "$build" -j "$(nproc)" --target framealloc-sim
"$build/tools/sim/framealloc-sim" run "$@"
