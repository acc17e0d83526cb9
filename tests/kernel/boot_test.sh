#!/usr/bin/env bash
# Boots the framealloc demo kernel under QEMU (TCG, no KVM) and passes only if
# QEMU leaves through isa-debug-exit with the kernel's success code AND the
# serial log holds the self-test summary line. Either alone is not enough: a
# stray write to port 0xf4 could fake the status, and a log line means nothing
# if the kernel crashed afterwards. A triple fault under -no-reboot gives
# status 0, a timeout 124; both fail. With --expect-failure the verdict is
# inverted (used with a fault-injecting command line to test this harness),
# but a missing QEMU or kernel image still fails.
#
# usage: boot_test.sh [--append CMDLINE] [--expect-failure] <kernel.elf32> <memory> <serial log>
set -u

append=""
expect_failure=0
while [[ $# -gt 0 && $1 == --* ]]; do
    case $1 in
        --append) append=$2; shift 2 ;;
        --expect-failure) expect_failure=1; shift ;;
        *) echo "FAIL: unknown option $1" >&2; exit 2 ;;
    esac
done
image=${1:?kernel image}
memory=${2:?memory size}
log=${3:?serial log path}
qemu=${QEMU:-qemu-system-x86_64}
timeout_seconds=${FRAMEALLOC_KERNEL_TIMEOUT:-90}
# QEMU exits with (value << 1) | 1; the kernel writes 0x10 on success.
success_status=33
summary='framealloc-kernel: selftest passed'

if ! command -v "$qemu" >/dev/null 2>&1; then
    echo "FAIL: $qemu not found; install QEMU (Debian/Ubuntu: apt-get install qemu-system-x86)" >&2
    exit 1
fi
if [[ ! -f $image ]]; then
    echo "FAIL: kernel image $image does not exist; build the framealloc-kernel target" >&2
    exit 1
fi

rm -f "$log"
start_ns=$(date +%s%N)
timeout --kill-after=5 "$timeout_seconds" "$qemu" \
    -accel tcg \
    -m "$memory" \
    -no-reboot \
    -nographic \
    -monitor none \
    -serial "file:$log" \
    -device isa-debug-exit,iobase=0xf4,iosize=0x04 \
    -kernel "$image" \
    ${append:+-append "$append"} </dev/null
status=$?
end_ns=$(date +%s%N)

echo "---- serial log ($log) ----"
cat "$log" 2>/dev/null || echo "(no serial log)"
echo "---- end of serial log ----"
elapsed_ms=$(((end_ns - start_ns) / 1000000))
echo "QEMU exit status $status after ${elapsed_ms} ms (-m $memory${append:+, -append \"$append\"})"

verdict=""
case $status in
    "$success_status") ;;
    0) verdict="status 0: the kernel triple-faulted or QEMU reset" ;;
    35) verdict="the kernel reported failure (status 35)" ;;
    124 | 137) verdict="QEMU did not exit within ${timeout_seconds}s" ;;
    *) verdict="unexpected QEMU exit status $status" ;;
esac
if [[ -z $verdict ]] && ! grep -q "^$summary" "$log"; then
    verdict="success status but no '$summary' line in the serial log"
fi

if [[ $expect_failure == 1 ]]; then
    if [[ -z $verdict ]]; then
        echo "FAIL: the kernel passed, but this run expected it to fail" >&2
        exit 1
    fi
    echo "PASS: failure detected as expected: $verdict"
    exit 0
fi
if [[ -n $verdict ]]; then
    echo "FAIL: $verdict" >&2
    exit 1
fi
grep "^$summary" "$log"
echo "PASS"
