#!/usr/bin/env bash
# Runs two framealloc_bench binaries alternately, ROUNDS rounds of three
# repetitions each, and prints each round's medians: on a shared, noisy
# machine only numbers from the same round compare (see BENCHMARKS.md).
#   bash bench/compare.sh BEFORE_BINARY AFTER_BINARY [ROUNDS=3] [FILTER]
set -euo pipefail
before=$1
after=$2
rounds=${3:-3}
filter=${4:-'BM_OrderMix|BM_RandomMix|BM_SingleFramePair|BM_HugePair|BM_AllocateAtPair|BM_Fragmented|BM_Churn|BM_FillFrameByFrame|BM_Init'}
for r in $(seq 1 "$rounds"); do
  for side in before after; do
    echo "== round $r $side"
    "${!side}" --benchmark_filter="$filter" --benchmark_repetitions=3 \
      --benchmark_report_aggregates_only=true 2>&1 | grep median
  done
done
