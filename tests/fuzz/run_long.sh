#!/usr/bin/env bash
# The long differential run: builds the seeded driver in Release (g++, no
# sanitizers, full comparison every CHECK_EVERY operations and at the end of
# every episode) and runs OPS operations against the reference model.
#   bash tests/fuzz/run_long.sh [OPS=100000000] [SEED=1] [CHECK_EVERY=64]
# Exit status 0 when framealloc and the model agreed on every operation.
set -euo pipefail
cd "$(dirname "$0")/../.."
ops=${1:-100000000}
seed=${2:-1}
every=${3:-64}
build=${FRAMEALLOC_LONG_BUILD_DIR:-build-fuzz-long}
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DFRAMEALLOC_BUILD_KERNEL=OFF -DFRAMEALLOC_BUILD_BENCH=OFF >/dev/null
cmake --build "$build" --target framealloc_diff_long
exec "$build/tests/reliability/framealloc_diff_long" "$ops" "$seed" "$every"
