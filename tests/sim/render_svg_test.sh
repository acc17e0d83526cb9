#!/usr/bin/env bash
# Renders framealloc-sim's SVG for four very different machines (the
# built-in desktop, a small VM, a ~768 GiB server and the built-in two-node
# machine) with rsvg-convert and
# checks each result is a real, non-trivial PNG of the expected width.
# Usage: render_svg_test.sh path/to/framealloc-sim path/to/memmaps
set -euo pipefail
sim=$1
maps=$2
if ! command -v rsvg-convert >/dev/null; then
  echo "rsvg-convert is missing: apt-get install librsvg2-bin" >&2
  exit 1
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
render() {
  local name=$1
  shift
  "$sim" run --quiet --ops 20000 --svg "$work/$name.svg" "$@"
  rsvg-convert -o "$work/$name.png" "$work/$name.svg"
  # PNG signature, then the IHDR width (bytes 17-20, big-endian).
  local sig width
  sig=$(head -c 8 "$work/$name.png" | od -An -tx1 | tr -d ' \n')
  [ "$sig" = "89504e470d0a1a0a" ] || { echo "$name: not a PNG" >&2; exit 1; }
  width=$(od -An -tu1 -j16 -N4 "$work/$name.png" | awk '{print $1*16777216+$2*65536+$3*256+$4}')
  [ "$width" -eq 1200 ] || { echo "$name: width $width, expected 1200" >&2; exit 1; }
  [ "$(stat -c %s "$work/$name.png")" -gt 20000 ] || { echo "$name: PNG suspiciously small" >&2; exit 1; }
  echo "$name: ok"
}
render default
render vm --map "$maps/e820-vm-qemu-1.txt" --workload churn
render server --map "$maps/e820-server-2.txt" --workload hugepages
render two-node --map two-node --workload numa
