#!/usr/bin/env bash
# Checks that the kernel flavour of the C library can run in a kernel that saves
# no vector state and takes interrupts on the current stack:
#  1. no SSE/AVX/MMX/x87 instruction or register in its code (objdump -d);
#  2. no access below %rsp (red-zone use);
#  3. no symbol needed beyond the two hooks and memcpy/memmove/memset/memcmp,
#     and no PIC (GOT) reference;
#  4. a C "kernel" built with the kernel flags links with it under -nostdlib
#     with no undefined symbol.
# A canary object built with hosted flags must fail checks 1 and 2, so the
# checks themselves are known to work.
# Usage: check.sh CC LIB INCLUDE_DIR OUT_DIR
set -uo pipefail
cc=$1 lib=$2 inc=$3 out=$4
here=$(cd "$(dirname "$0")" && pwd)
rm -rf "$out" && mkdir -p "$out"
failed=0
# A vector/x87 register anywhere, or an x87/SSE-state mnemonic (f..., ldmxcsr, ...)
# as the instruction (objdump -d --no-show-raw-insn: "  addr:<TAB>mnemonic operands").
vector_re='%[xyz]mm[0-9]+|%mm[0-7]\b|%st(\([0-7]\))?\b|^ *[0-9a-f]+:[[:space:]]+(f[a-z0-9]+|ldmxcsr|stmxcsr|xsave[a-z0-9]*|xrstor[a-z0-9]*|emms)([[:space:]]|$)'
redzone_re='-0x[0-9a-f]+\(%rsp\)'

count() {  # count REGEX FILE: matching lines of the disassembly
  objdump -d --no-show-raw-insn "$2" | grep -cE -- "$1"
}

vec=$(count "$vector_re" "$lib")
red=$(count "$redzone_re" "$lib")
echo "kernel flavour $lib: $vec vector/x87 instructions, $red accesses below %rsp"
if [ "$vec" -ne 0 ]; then
  echo "FAIL: vector or x87 instructions:"; objdump -d --no-show-raw-insn "$lib" | grep -E -- "$vector_re" | head -10
  failed=1
fi
if [ "$red" -ne 0 ]; then
  echo "FAIL: red-zone use:"; objdump -d --no-show-raw-insn "$lib" | grep -E -- "$redzone_re" | head -10
  failed=1
fi
extra=$(nm -u "$lib" | awk 'NF == 2 {print $2}' | grep -vxE 'framealloc_panic|framealloc_cpu_id|memcpy|memmove|memset|memcmp')
if [ -n "$extra" ]; then
  echo "FAIL: the library needs symbols a kernel does not have:"; echo "$extra"
  failed=1
fi

if [[ $("$cc" --version) == *clang* ]]; then novec=(-mno-sse -mno-sse2 -mno-mmx -mno-avx); else novec=(-mgeneral-regs-only); fi
if ! "$cc" -std=c11 -O2 -Wall -Wextra -Werror -ffreestanding -nostdlib -static -fno-pic -Wl,-no-pie \
     -mno-red-zone -mcmodel=kernel -fno-stack-protector "${novec[@]}" -I"$inc" \
     "$here/kernel_c_unit.c" "$lib" -o "$out/kernel_c_unit.elf" 2>"$out/link.log"; then
  echo "FAIL: a C kernel does not link with it under -nostdlib:"; cat "$out/link.log"
  failed=1
elif [ -n "$(nm -u "$out/kernel_c_unit.elf")" ]; then
  echo "FAIL: undefined symbols in the kernel link:"; nm -u "$out/kernel_c_unit.elf"
  failed=1
else
  echo "a C kernel links it with -nostdlib: no undefined symbol"
fi

"$cc" -std=c11 -O2 -c "$here/canary.c" -o "$out/canary.o"
cvec=$(count "$vector_re" "$out/canary.o")
cred=$(count "$redzone_re" "$out/canary.o")
echo "canary (hosted flags): $cvec vector/x87 instructions, $cred accesses below %rsp"
if [ "$cvec" -eq 0 ] || [ "$cred" -eq 0 ]; then
  echo "FAIL: the checks miss what they look for in the canary"
  failed=1
fi
exit $failed
