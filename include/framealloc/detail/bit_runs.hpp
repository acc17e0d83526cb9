// Bit tricks on 64-bit words of a free mask (bit i set = unit i free): the
// length of the free run at either end of a word, the starts of every run of
// at least n free units inside one word, and masks of start positions that an
// alignment or a boundary allows. The frame bitmap's searches are built from
// these; each is a handful of instructions and never loops per bit.
#pragma once

#include <cstdint>

namespace framealloc::detail {

inline constexpr std::uint64_t kAllOnes = ~0ULL;

/// Free units at the low end of `free` (0..64).
[[nodiscard]] constexpr unsigned low_run(std::uint64_t free) {
    return free == kAllOnes ? 64U : static_cast<unsigned>(__builtin_ctzll(~free));
}

/// Free units at the high end of `free` (0..64).
[[nodiscard]] constexpr unsigned high_run(std::uint64_t free) {
    return free == kAllOnes ? 64U : static_cast<unsigned>(__builtin_clzll(~free));
}

/// Set bits of `v`. Written out because __builtin_popcountll becomes a
/// libgcc call without a popcount instruction, and the core links no libgcc.
[[nodiscard]] constexpr unsigned popcount(std::uint64_t v) {
    v = v - ((v >> 1) & 0x5555555555555555ULL);
    v = (v & 0x3333333333333333ULL) + ((v >> 2) & 0x3333333333333333ULL);
    v = (v + (v >> 4)) & 0x0f0f0f0f0f0f0f0fULL;
    return static_cast<unsigned>((v * 0x0101010101010101ULL) >> 56);
}

/// Bits [0, n) set; n may be 0..64.
[[nodiscard]] constexpr std::uint64_t low_mask(unsigned n) {
    return n >= 64 ? kAllOnes : (1ULL << n) - 1;
}

/// Bit p is set when units p .. p + n - 1 of `free` are all free and all lie
/// inside this word (1 <= n <= 64). Doubling shifts: log2(n) steps.
[[nodiscard]] constexpr std::uint64_t run_starts(std::uint64_t free, unsigned n) {
    std::uint64_t x = free;
    unsigned have = 1;  // x marks starts of runs of at least `have` units
    while (have < n) {
        const unsigned step = have <= n - have ? have : n - have;
        x &= x >> step;
        have += step;
    }
    return x;
}

/// Rotates right; the masks below are periodic with a period dividing 64,
/// so a rotation moves their phase.
[[nodiscard]] constexpr std::uint64_t rotate_right(std::uint64_t v, unsigned r) {
    r &= 63U;
    return r == 0 ? v : (v >> r) | (v << (64 - r));
}

/// A mask with bits [0, width) set in every block of `period` bits
/// (period a power of two <= 64, width <= period).
[[nodiscard]] constexpr std::uint64_t periodic(unsigned period, unsigned width) {
    std::uint64_t m = low_mask(width);
    for (unsigned shift = period; shift < 64; shift *= 2) {
        m |= m << shift;
    }
    return m;
}

/// Start positions p of a word whose first unit is `base` with base + p a
/// multiple of `align` (a power of two).
[[nodiscard]] constexpr std::uint64_t aligned_starts(std::uint64_t base, std::uint64_t align) {
    if (align == 1) {
        return kAllOnes;
    }
    const std::uint64_t first = (align - base % align) % align;  // offset of the first multiple
    if (align >= 64) {
        return first < 64 ? 1ULL << first : 0ULL;
    }
    return rotate_right(periodic(static_cast<unsigned>(align), 1),
                        static_cast<unsigned>(base % align));
}

/// Start positions p of a word whose first unit is `base` such that a run of
/// `count` units (1..64) from p that stays inside the word crosses no
/// multiple of `boundary` (0: no rule).
[[nodiscard]] constexpr std::uint64_t boundary_starts(std::uint64_t base, std::uint64_t count,
                                                      std::uint64_t boundary) {
    if (boundary == 0) {
        return kAllOnes;
    }
    if (boundary < 64) {
        const std::uint64_t block =
            periodic(static_cast<unsigned>(boundary), static_cast<unsigned>(boundary - count + 1));
        return rotate_right(block, static_cast<unsigned>(base % boundary));
    }
    // At most one multiple lies at an offset d in [1, 63]; runs starting in
    // [d - count + 1, d - 1] would cross it.
    const std::uint64_t d = (boundary - base % boundary) % boundary;
    if (d == 0 || d >= 64) {
        return kAllOnes;
    }
    const std::uint64_t from = d >= count ? d - count + 1 : 0;
    return ~(low_mask(static_cast<unsigned>(d)) & ~low_mask(static_cast<unsigned>(from)));
}

}  // namespace framealloc::detail
