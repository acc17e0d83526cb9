#!/usr/bin/env bash
# The whole test suite from a clean clone: installs what is missing, builds
# everything (core, tools, kernel, tests) and runs ctest, which also builds and
# runs the sanitizer suites and boots the demo kernel under QEMU.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh test
build=${FRAMEALLOC_BUILD_DIR:-build}
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DFRAMEALLOC_BUILD_BENCH=ON -DFRAMEALLOC_BUILD_KERNEL=ON
cmake --build "$build" -j "$(nproc)"
ctest --test-dir "$build" --output-on-failure -j "$(nproc)"
