#!/usr/bin/env bash
# Long runs of the parser and C-interface fuzz targets: builds them with clang
# (fuzzer + ASan + UBSan), makes the seed corpora from ../shared/memmaps, and
# fuzzes each target in turn for SECONDS seconds (default 600), one process,
# keeping each corpus in $build/tests/fuzz/corpus_NAME between runs. Prints
# the executions each target made. A failure leaves a crash-* reproducer in
# the current directory; replay it with
#   $build/tests/fuzz/framealloc_fuzz_NAME crash-<hash>
#   bash tests/fuzz/run_parsers.sh [SECONDS] [TARGET...]
# TARGET is one of e820 uefi multiboot1 multiboot2 fdt text c_api (default: all).
set -euo pipefail
cd "$(dirname "$0")/../.."
seconds=${1:-600}
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  targets=(e820 uefi multiboot1 multiboot2 fdt text c_api)
fi
build=${FRAMEALLOC_FUZZ_BUILD_DIR:-build-fuzz-clang}
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_C_COMPILER=clang \
  -DFRAMEALLOC_BUILD_KERNEL=OFF -DFRAMEALLOC_BUILD_BENCH=OFF >/dev/null
cmake --build "$build" --target framealloc_fuzz_all
dir="$build/tests/fuzz"
"$dir/framealloc_fuzz_seeds" ../shared/memmaps "$dir/seeds"
status=0
for name in "${targets[@]}"; do
  mkdir -p "$dir/corpus_$name"
  seeds=()
  if [ "$name" != c_api ] && [ -d "$dir/seeds/$name" ]; then
    seeds=("$dir/seeds/$name")
  fi
  log="$dir/long_$name.log"
  if "$dir/framealloc_fuzz_$name" -max_total_time="$seconds" -max_len=4096 -timeout=60 \
      -print_final_stats=1 "$dir/corpus_$name" "${seeds[@]}" >"$log" 2>&1; then
    result=ok
  else
    result=FAILED
    status=1
  fi
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  echo "$name: $result, ${execs:-?} executions in ${seconds}s (log: $log)"
done
exit $status
