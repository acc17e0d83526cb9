#!/usr/bin/env bash
# Boots the framealloc demo kernel under QEMU (TCG, no KVM) and passes only if
# QEMU exits with the kernel's success status (33: isa-debug-exit on x86_64,
# semihosting SYS_EXIT on AArch64) AND the serial log holds the self-test
# summary line. Either alone is not enough: a
# stray write to port 0xf4 could fake the status, and a log line means nothing
# if the kernel crashed afterwards. A triple fault under -no-reboot gives
# status 0, a timeout 124; both fail. With --expect-failure the verdict is
# inverted (used with a fault-injecting command line to test this harness),
# but a missing QEMU or kernel image still fails.
#
# --boot selects how the image is started:
#   multiboot (default)  qemu-system-x86_64 -kernel <kernel.elf32>
#   uefi                 qemu-system-x86_64 with OVMF; the image is a directory
#                        holding EFI/BOOT/BOOTX64.EFI, served as a FAT drive
#   aarch64              qemu-system-aarch64 -M virt -cpu cortex-a72 -kernel <elf>
#
# --smp N starts N CPUs (-smp N) and runs TCG with one host thread per CPU
# (-accel tcg,thread=multi), so the guest's CPUs really run in parallel.
#
# --qemu-arg ARG passes ARG to QEMU as it is (repeat it for several words),
# e.g. the -object/-numa options of a NUMA machine.
#
# --append passes a kernel command line: QEMU's -append for Multiboot and
# AArch64, the fw_cfg file opt/framealloc/cmdline for UEFI (the UEFI boot
# reads it there). --expect-line REGEX also requires a log line matching REGEX
# (grep -E) for a pass, for tests that force a rare path. With
# --expect-failure, --expect-line instead requires the kernel to have
# reported the failure itself (status 35) with a line matching REGEX: the
# run must be caught by the check it targets, not by a hang or a crash.
#
# usage: boot_test.sh [--boot KIND] [--append CMDLINE] [--expect-line REGEX]
#                     [--expect-failure] [--smp N] [--qemu-arg ARG]...
#                     <image> <memory> <serial log>
set -u

append=""
expect_failure=0
boot=multiboot
expect_line=""
smp=""
extra_args=()
while [[ $# -gt 0 && $1 == --* ]]; do
    case $1 in
        --append) append=$2; shift 2 ;;
        --boot) boot=$2; shift 2 ;;
        --expect-line) expect_line=$2; shift 2 ;;
        --expect-failure) expect_failure=1; shift ;;
        --smp) smp=$2; shift 2 ;;
        --qemu-arg) extra_args+=("$2"); shift 2 ;;
        *) echo "FAIL: unknown option $1" >&2; exit 2 ;;
    esac
done
image=${1:?kernel image}
memory=${2:?memory size}
log=${3:?serial log path}
timeout_seconds=${FRAMEALLOC_KERNEL_TIMEOUT:-90}
# Every boot exits with status 33 on success, 35 on failure.
success_status=33
summary='framealloc-kernel: selftest passed'

case $boot in
    multiboot | uefi) qemu=${QEMU:-qemu-system-x86_64}; qemu_package=qemu-system-x86 ;;
    aarch64) qemu=${QEMU:-qemu-system-aarch64}; qemu_package=qemu-system-arm ;;
    *) echo "FAIL: unknown --boot $boot" >&2; exit 2 ;;
esac
if ! command -v "$qemu" >/dev/null 2>&1; then
    echo "FAIL: $qemu not found; install QEMU (Debian/Ubuntu: apt-get install $qemu_package)" >&2
    exit 1
fi
if [[ ! -e $image ]]; then
    echo "FAIL: kernel image $image does not exist; build the framealloc-kernel targets" >&2
    exit 1
fi

case $boot in
    multiboot)
        machine=(-device isa-debug-exit,iobase=0xf4,iosize=0x04 -kernel "$image"
                 ${append:+-append "$append"})
        ;;
    uefi)
        ovmf_dir=${OVMF_DIR:-/usr/share/OVMF}
        if [[ ! -f $ovmf_dir/OVMF_CODE_4M.fd || ! -f $ovmf_dir/OVMF_VARS_4M.fd ]]; then
            echo "FAIL: OVMF not found in $ovmf_dir (Debian/Ubuntu: apt-get install ovmf)" >&2
            exit 1
        fi
        if [[ ! -f $image/EFI/BOOT/BOOTX64.EFI ]]; then
            echo "FAIL: $image/EFI/BOOT/BOOTX64.EFI does not exist" >&2
            exit 1
        fi
        # The firmware may write its variable store: give it a private copy.
        vars="$log.OVMF_VARS.fd"
        cp "$ovmf_dir/OVMF_VARS_4M.fd" "$vars"
        # QEMU's FAT emulation serves the directory read-only (fat:rw would let
        # the guest write into the build tree); snapshot=on gives the drive a
        # temporary writable overlay, which the firmware insists on.
        machine=(-net none
                 -device isa-debug-exit,iobase=0xf4,iosize=0x04
                 -drive "if=pflash,format=raw,readonly=on,file=$ovmf_dir/OVMF_CODE_4M.fd"
                 -drive "if=pflash,format=raw,file=$vars"
                 -drive "format=raw,file=fat:$image,snapshot=on"
                 ${append:+-fw_cfg "name=opt/framealloc/cmdline,string=$append"})
        ;;
    aarch64)
        machine=(-M virt -cpu cortex-a72 -semihosting -kernel "$image"
                 ${append:+-append "$append"})
        ;;
esac

accel=tcg
cpus=()
if [[ -n $smp ]]; then
    accel=tcg,thread=multi
    cpus=(-smp "$smp")
fi

rm -f "$log"
start_ns=$(date +%s%N)
timeout --kill-after=5 "$timeout_seconds" "$qemu" \
    -accel "$accel" \
    "${cpus[@]}" \
    -m "$memory" \
    -no-reboot \
    -nographic \
    -monitor none \
    -serial "file:$log" \
    "${machine[@]}" \
    "${extra_args[@]}" </dev/null
status=$?
end_ns=$(date +%s%N)

echo "---- serial log ($log) ----"
cat "$log" 2>/dev/null || echo "(no serial log)"
echo "---- end of serial log ----"
elapsed_ms=$(((end_ns - start_ns) / 1000000))
echo "QEMU exit status $status after ${elapsed_ms} ms ($boot, -m $memory${smp:+, -smp $smp}${extra_args[*]:+, ${extra_args[*]}}${append:+, -append \"$append\"})"

verdict=""
case $status in
    "$success_status") ;;
    0) verdict="status 0: the kernel triple-faulted, QEMU reset or powered off" ;;
    35) verdict="the kernel reported failure (status 35)" ;;
    124 | 137) verdict="QEMU did not exit within ${timeout_seconds}s" ;;
    *) verdict="unexpected QEMU exit status $status" ;;
esac
if [[ -z $verdict ]] && ! grep -a -q "^$summary" "$log"; then
    verdict="success status but no '$summary' line in the serial log"
fi
if [[ -z $verdict && -n $expect_line ]] && ! grep -a -q -E "$expect_line" "$log"; then
    verdict="no line matching '$expect_line' in the serial log"
fi

if [[ $expect_failure == 1 ]]; then
    if [[ -z $verdict ]]; then
        echo "FAIL: the kernel passed, but this run expected it to fail" >&2
        exit 1
    fi
    if [[ -n $expect_line ]]; then
        if [[ $status != 35 ]]; then
            echo "FAIL: expected the kernel to report the failure (status 35), got: $verdict" >&2
            exit 1
        fi
        if ! grep -a -q -E "$expect_line" "$log"; then
            echo "FAIL: the kernel failed, but no line matches '$expect_line'" >&2
            exit 1
        fi
    fi
    echo "PASS: failure detected as expected: $verdict"
    exit 0
fi
if [[ -n $verdict ]]; then
    echo "FAIL: $verdict" >&2
    exit 1
fi
grep -a "^$summary" "$log"
echo "PASS"
