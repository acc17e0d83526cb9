#!/usr/bin/env bash
# Instructions per operation of each scenario, under callgrind: runs the
# driver with N and 2N operations and divides the difference in instructions
# by N, which cancels set-up. Stable to a few instructions on a busy machine,
# unlike time. Usage: bash bench/opcount.sh [scenario...] (default: all).
set -euo pipefail
cd "$(dirname "$0")/.."
build=${FRAMEALLOC_BENCH_DIR:-build-bench}
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DFRAMEALLOC_BUILD_BENCH=ON -DFRAMEALLOC_BUILD_KERNEL=OFF -DFRAMEALLOC_BUILD_TESTS=OFF -DFRAMEALLOC_BUILD_TOOLS=OFF >/dev/null
cmake --build "$build" --target framealloc_opcount >/dev/null
n=${OPCOUNT_N:-20000}
scenarios=("$@")
if [ ${#scenarios[@]} -eq 0 ]; then
  scenarios=(single huge at1 at512 mix clean fragmented)
fi
total() {  # instructions executed by the driver for scenario $1, $2 ops
  local out
  out=$(mktemp)
  valgrind --tool=callgrind --callgrind-out-file="$out" \
    "$build/bench/framealloc_opcount" "$1" "$2" >/dev/null 2>&1
  awk '/^(summary|totals):/ {print $2; exit}' "$out"
  rm -f "$out"
}
printf '%-12s %12s\n' scenario instr/op
for s in "${scenarios[@]}"; do
  a=$(total "$s" "$n")
  b=$(total "$s" $((2 * n)))
  awk -v a="$a" -v b="$b" -v n="$n" -v s="$s" 'BEGIN {printf "%-12s %12.1f\n", s, (b - a) / n}'
done
