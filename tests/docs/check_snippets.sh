#!/usr/bin/env bash
# Compiles every fenced C/C++ block of README.md and docs/*.md with -Werror,
# so documentation cannot drift from the code. A block is completed by the
# wrapper an HTML comment names on the line right before its fence:
#
#   <!-- snippet: wrap=NAME -->        tests/docs/snippets/NAME.{cpp,c}
#   <!-- snippet: skip REASON -->      not compilable on purpose (REASON required)
#   <!-- compiled: firmware-init -->   skipped here: firmware_snippets_test.cpp
#                                      extracts, compiles and runs these blocks
#   <!-- snippet: ldscript -->         (an ```ld block) a linker script: a kernel
#                                      built with the kernel flags is linked with it by ld
#
# Without a comment the block is a whole translation unit. `#include` lines of
# a block are moved to file scope; the rest replaces the wrapper's
# `@SNIPPET@` line. The wrapper's first line says what is checked:
#   // snippet-mode: compile   compiled to an object
#   // snippet-mode: run       linked with framealloc_hosted (and framealloc_c) and run; must exit 0
#   // snippet-mode: kernel    built with the kernel flags of docs/kernel.md and linked with
#                              -nostdlib: no symbol may stay undefined, no constructor emitted
# A bare block with a main() is run, otherwise compiled.
# Usage: check_snippets.sh SRC_DIR OUT_DIR CXX CC HOSTED_LIB C_LIB [LINK_FLAGS]
# (LINK_FLAGS: e.g. -fsanitize=... when the libraries were built with it)
set -uo pipefail
src=$1 out=$2 cxx=$3 cc=$4 hosted_lib=$5 c_lib=$6
read -r -a link_flags <<<"${7:-}"
rm -rf "$out" && mkdir -p "$out"
wrappers="$src/tests/docs/snippets"
common=(-Wall -Wextra -Wpedantic -Werror -I"$src/include" -I"$src/c/include" -I"$wrappers")
kernel_flags=(-ffreestanding -fno-exceptions -fno-rtti -mno-red-zone -mcmodel=kernel
              -fno-pic -fno-stack-protector -fno-threadsafe-statics -O2)
kernel_link_flags=(-nostdlib -static -Wl,-no-pie)
# No vector or x87 state, as docs/kernel.md says for each compiler.
if "$cxx" --version | grep -qi clang; then
  kernel_flags+=(-mno-sse -mno-sse2 -mno-mmx -mno-avx)
else
  kernel_flags+=(-mgeneral-regs-only)
fi

# 1. Extract: one file per block plus a line FILE, LINE, LANG, ANNOTATION, PATH (separated by \x1f) in index.
for md in "$src/README.md" "$src"/docs/*.md; do
  awk -v md="$md" -v rel="${md#"$src"/}" -v out="$out" '
    /^```/ {
      if (inside) { close(file); inside = 0; note = ""; next }
      if (other) { other = 0; note = ""; next }
      lang = substr($0, 4); gsub(/[ \t].*/, "", lang)
      if (lang == "c" || lang == "cpp" || lang == "c++" || lang == "ld") {
        inside = 1
        if (lang == "c++") lang = "cpp"
        name = rel; gsub(/[\/.]/, "_", name)
        file = sprintf("%s/%s_%d.%s", out, name, NR, lang)
        printf "" > file
        printf "%s\037%d\037%s\037%s\037%s\n", rel, NR, lang, note, file >> (out "/index")
      } else {
        other = 1
      }
      note = ""
      next
    }
    other { next }
    inside { print >> file; next }
    # Blocks another test extracts and runs as written (tests/docs/CMakeLists.txt).
    /^<!-- compiled: firmware-init -->/ { note = "skip compiled and run by docs.DocsFirmwareInit.* (firmware_snippets_test.cpp)"; next }
    /^<!-- snippet:/ { note = $0; sub(/^<!-- snippet:[ ]*/, "", note); sub(/[ ]*-->.*$/, "", note); next }
    /^[ \t]*$/ { next }
    { note = "" }
  ' "$md"
done
[ -s "$out/index" ] || { echo "no C/C++ block found: the extractor is broken"; exit 1; }

compiled=0 ran=0 skipped=0 failed=0
fail() { echo "FAIL $where: $1"; [ -f "$2" ] && sed 's/^/    /' "$2" | head -40; failed=$((failed + 1)); }

# 2. Complete and check each block.
while IFS=$'\037' read -r md line lang note block; do
  where="$md:$line ($lang)"
  case "$note" in
    skip*)
      reason=${note#skip}; reason=${reason# }
      if [ -z "$reason" ]; then fail "'skip' needs a reason" /dev/null; continue; fi
      echo "skip $where: $reason"; skipped=$((skipped + 1)); continue ;;
    ldscript)
      # Link what the kernel wrapper builds (no example in it) with this script.
      [ "$lang" = ld ] || { fail "'ldscript' is for \`\`\`ld blocks" /dev/null; continue; }
      log="${block%.*}.log"
      sed 's|^// @SNIPPET@||' "$wrappers/kernel.cpp" > "${block}.cpp"
      if ! "$cxx" -std=c++20 "${common[@]}" "${kernel_flags[@]}" -c "${block}.cpp" -o "${block}.o" >"$log" 2>&1 ||
         ! ld -nostdlib -static -z max-page-size=0x1000 -T "$block" "${block}.o" -o "${block}.elf" >>"$log" 2>&1; then
        fail "a kernel does not link with this script" "$log"; continue
      fi
      if [ -n "$(nm -u "${block}.elf")" ]; then nm -u "${block}.elf" >"$log"; fail "undefined symbols" "$log"; continue; fi
      start=$(nm "${block}.elf" | awk '$3 == "_start" {print $1}')
      case "$start" in
        ffffffff8*) ;;
        *) fail "_start is at '$start', not in the top 2 GiB that -mcmodel=kernel needs" /dev/null; continue ;;
      esac
      compiled=$((compiled + 1)); echo "ok   $where [ld, _start at 0x$start]"; continue ;;
    wrap=*) wrapper=${note#wrap=} ;;
    "") wrapper=""
        [ "$lang" = ld ] && { fail "an \`\`\`ld block needs <!-- snippet: ldscript --> or skip" /dev/null; continue; } ;;
    *) fail "unknown snippet comment '$note'" /dev/null; continue ;;
  esac
  tu="${block%.*}.tu.$lang"
  if [ -n "$wrapper" ]; then
    wfile="$wrappers/$wrapper.$lang"
    [ -f "$wfile" ] || { fail "no wrapper $wfile" /dev/null; continue; }
    mode=$(sed -n '1s|^// snippet-mode: *||p' "$wfile")
    { grep '^#include' "$block"
      echo "#line 1 \"$wfile\""
      awk -v block="$block" -v md="$md" -v line="$line" '
        /@SNIPPET@/ {
          printf "#line %d \"%s\"\n", line + 1, md
          while ((getline l < block) > 0) if (l !~ /^#include/) print l; else print ""
          next
        }
        { print }' "$wfile"
    } > "$tu"
  else
    mode=compile
    grep -q 'main *(' "$block" && mode=run
    { echo "#line $((line + 1)) \"$md\""; cat "$block"; } > "$tu"
  fi
  if [ "$lang" = c ]; then compiler=$cc; std=-std=c11; else compiler=$cxx; std=-std=c++20; fi
  log="${block%.*}.log"
  case "$mode" in
    compile)
      "$compiler" $std "${common[@]}" -c "$tu" -o "${tu}.o" >"$log" 2>&1 || { fail "does not compile" "$log"; continue; }
      compiled=$((compiled + 1)) ;;
    run)
      "$compiler" $std "${common[@]}" -c "$tu" -o "${tu}.o" >"$log" 2>&1 || { fail "does not compile" "$log"; continue; }
      "$cxx" "${link_flags[@]}" "${tu}.o" "$c_lib" "$hosted_lib" -o "${tu}.exe" >"$log" 2>&1 || { fail "does not link" "$log"; continue; }
      "${tu}.exe" >"$log" 2>&1 || { fail "exits with $?" "$log"; continue; }
      compiled=$((compiled + 1)); ran=$((ran + 1)) ;;
    kernel)
      "$compiler" $std "${common[@]}" "${kernel_flags[@]}" "${kernel_link_flags[@]}" "$tu" -o "${tu}.elf" >"$log" 2>&1 ||
        { fail "does not build or link as a kernel would" "$log"; continue; }
      if [ -n "$(nm -u "${tu}.elf")" ]; then nm -u "${tu}.elf" >"$log"; fail "undefined symbols in a -nostdlib link" "$log"; continue; fi
      if readelf -S "${tu}.elf" | grep -qE 'init_array|\.ctors'; then fail "needs a run-time constructor" /dev/null; continue; fi
      compiled=$((compiled + 1)) ;;
    *) fail "wrapper $wrapper has no '// snippet-mode:' first line" /dev/null; continue ;;
  esac
  echo "ok   $where [$mode${wrapper:+, $wrapper}]"
done < "$out/index"

echo "doc snippets: $compiled compiled ($ran run), $skipped skipped on purpose, $failed failed"
[ "$failed" -eq 0 ]
