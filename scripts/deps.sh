#!/usr/bin/env bash
# Installs the Debian packages framealloc's build, tests and tools need, only
# when something is missing. Usage: scripts/deps.sh [run|test]
set -euo pipefail
mode=${1:-test}
pkgs=(cmake ninja-build g++ pkg-config)
if [ "$mode" = test ]; then
  pkgs+=(clang libclang-rt-14-dev libgtest-dev libgmock-dev libbenchmark-dev
         qemu-system-x86 librsvg2-bin libpng-dev doxygen binutils
         # The firmware boots of the demo kernel: UEFI (gnu-efi's crt0 and
         # OVMF) and AArch64 (Clang with lld, the AArch64 libstdc++ headers,
         # QEMU's virt board).
         gnu-efi ovmf lld g++-aarch64-linux-gnu qemu-system-arm)
fi
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
