#!/usr/bin/env bash
# The picture tells the truth about proportions: framealloc-sim's SVG is
# rendered with rsvg-convert, the pixels of each state's colour are counted
# inside the memory strip, and each state's share of those pixels must be
# within 5 percentage points of its share of the memory drawn (the JSON's
# frames_by_state). The colours and the strip's rows are read from the SVG
# itself (legend swatches, in the same order as frames_by_state; the strip's
# row backgrounds), not assumed.
# Usage: picture_proportions_test.sh SIM PNG_SHARES MEMMAPS_DIR
set -uo pipefail
sim=$1 shares=$2 maps=$3
command -v rsvg-convert >/dev/null || { echo "rsvg-convert is missing: apt-get install librsvg2-bin"; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failed=0

check() {
  local name=$1
  shift
  if ! "$sim" run --quiet --svg "$work/$name.svg" --json "$work/$name.json" "$@"; then
    echo "$name: the simulator failed"; failed=1; return
  fi
  rsvg-convert -o "$work/$name.png" "$work/$name.svg" || { echo "$name: rsvg-convert failed"; failed=1; return; }
  # Legend swatches: 14x14 rects with a stroke, one per state, in state order.
  mapfile -t colours < <(grep -o '<rect [^>]*width="14" height="14" fill="#[0-9a-f]*" stroke' "$work/$name.svg" |
                         sed 's/.*fill="#\([0-9a-f]*\)".*/\1/')
  # The strip's rows: their light grey backgrounds.
  mapfile -t rows < <(grep -o '<rect x="[0-9.]*" y="[0-9.]*" width="[0-9.]*" height="[0-9.]*" fill="#f4f4f4"' "$work/$name.svg" |
                      sed 's/<rect x="\([0-9.]*\)" y="\([0-9.]*\)" width="\([0-9.]*\)" height="\([0-9.]*\)".*/\1 \2 \3 \4/')
  mapfile -t frames < <(grep -o '"frames_by_state": {[^}]*}' "$work/$name.json" | grep -o '": [0-9][0-9]*' | tr -d '": ')
  if [ ${#colours[@]} -ne 5 ] || [ ${#frames[@]} -ne 5 ] || [ ${#rows[@]} -lt 1 ]; then
    echo "$name: found ${#colours[@]} legend colours, ${#frames[@]} states, ${#rows[@]} strip rows"
    failed=1; return
  fi
  args=()
  for c in "${colours[@]}"; do args+=(--colour "$c"); done
  for r in "${rows[@]}"; do read -r x y w h <<<"$r"; args+=(--rect "$x" "$y" "$w" "$h"); done
  mapfile -t counts < <("$shares" "$work/$name.png" "${args[@]}" | awk '{print $2}')
  # counts[0..4] per state, counts[5] other pixels.
  if ! awk -v name="$name" -v c="${counts[*]}" -v f="${frames[*]}" '
    BEGIN {
      split("free allocated cached reserved mmio", label, " ")
      n = split(c, pix, " "); split(f, fr, " ")
      for (i = 1; i <= 5; ++i) { tp += pix[i]; tf += fr[i] }
      if (tp == 0 || tf == 0) { print name ": nothing drawn"; exit 1 }
      line = name ":"; bad = 0
      for (i = 1; i <= 5; ++i) {
        ps = 100 * pix[i] / tp; ms = 100 * fr[i] / tf; d = ps - ms
        line = line sprintf("  %s %.1f%% drawn / %.1f%% of memory", label[i], ps, ms)
        if (d > 5 || d < -5) { bad = 1; line = line " (OFF BY " sprintf("%.1f", d) ")" }
      }
      print line sprintf("  [%d state pixels, %d other]", tp, pix[6])
      exit bad
    }'; then
    failed=1
  fi
}

check desktop-mixed
check desktop-hugepages --workload hugepages --ops 50000
check server-mixed --map "$maps/e820-server-2.txt"
check server-dma --map "$maps/e820-server-2.txt" --workload dma --ops 50000
check vm-churn --map "$maps/e820-vm-qemu-1.txt" --workload churn --ops 50000
check rpi4-mixed --map "$maps/dt-rpi4b.txt" --ops 50000
check bochs-boot --map "$maps/multiboot-bochs-1.txt" --workload boot
check two-node-numa --map two-node --workload numa --ops 50000
exit $failed
