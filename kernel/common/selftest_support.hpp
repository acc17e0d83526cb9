// Helpers of the self-test that do not depend on its state: its plain data
// (slots, counters), a deterministic random source, the per-frame memory
// pattern, and an independent check of whether a free chunk could hold a
// constrained request -- used to confirm an allocator's "no contiguous run"
// answer instead of just believing it.
#pragma once

#include <cstdint>

#include "console.hpp"
#include "framealloc/framealloc.hpp"

namespace kernel::selftest {

/// One live allocation of the test and the seed of the pattern in its frames.
template <typename P>
struct Slot {
    framealloc::AllocatedFrames<P> frames;
    std::uint64_t seed = 0;
};

struct Counters {
    std::uint64_t allocations = 0;
    std::uint64_t frames_verified = 0;
    std::uint64_t huge = 0;
    std::uint64_t unavailable = 0;
    std::uint64_t aligned = 0;
    std::uint64_t windowed = 0;
    std::uint64_t at_address = 0;
    std::uint64_t inspected = 0;
    std::uint64_t split_merge = 0;
    std::uint64_t device = 0;
    std::uint64_t above_4g = 0;
    std::uint64_t highest_address = 0;
    std::uint64_t expected_errors = 0;
};

inline const char* kind_name(framealloc::ErrorKind kind) {
    return framealloc::to_string(kind);
}

// xorshift64*: deterministic, so a failure reproduces on the next boot.
class Random {
  public:
    explicit Random(std::uint64_t seed) : state_(seed) {}
    std::uint64_t next() {
        state_ ^= state_ >> 12;
        state_ ^= state_ << 25;
        state_ ^= state_ >> 27;
        return state_ * 0x2545f4914f6cdd1dULL;
    }
    std::uint64_t below(std::uint64_t bound) { return next() % bound; }

  private:
    std::uint64_t state_;
};

inline std::uint64_t pattern_word(std::uint64_t address, std::uint64_t seed) {
    std::uint64_t x = (address ^ seed) * 0x9e3779b97f4a7c15ULL;
    return x ^ (x >> 29);
}

/// Writes the pattern into every `stride`-th word of each frame. Volatile, so
/// the compiler cannot skip the memory and hand the values to verify() itself.
inline void fill(std::uint64_t start, std::uint64_t frames, std::uint64_t seed, unsigned stride) {
    for (std::uint64_t f = 0; f < frames; ++f) {
        std::uint64_t base = start + f * 4096;
        auto* words = reinterpret_cast<volatile std::uint64_t*>(base);
        for (unsigned i = 0; i < 512; i += stride) {
            words[i] = pattern_word(base + i * 8, seed);
        }
    }
}

/// Checks what fill() wrote; panics at the first difference. Returns `frames`.
inline std::uint64_t verify(std::uint64_t start, std::uint64_t frames, std::uint64_t seed,
                            unsigned stride) {
    for (std::uint64_t f = 0; f < frames; ++f) {
        std::uint64_t base = start + f * 4096;
        auto* words = reinterpret_cast<volatile std::uint64_t*>(base);
        for (unsigned i = 0; i < 512; i += stride) {
            std::uint64_t expected = pattern_word(base + i * 8, seed);
            std::uint64_t found = words[i];
            if (found != expected) {
                kpanic(
                    "selftest: frame at 0x%lx word %u holds 0x%lx, expected 0x%lx: "
                    "memory missing or shared between allocations",
                    base, i, found, expected);
            }
        }
    }
    return frames;
}

inline std::uint64_t align_up(std::uint64_t value, std::uint64_t align) {
    return (value + align - 1) & ~(align - 1);
}

/// True when free frames [first, last] hold a run that satisfies `request`'s
/// count, alignment, window and boundary. Written from the request's
/// definition, independently of the allocator's own search.
inline bool run_fits(std::uint64_t first, std::uint64_t last,
                     const framealloc::AllocRequest& request) {
    const std::uint64_t min = request.min_address.value();
    const std::uint64_t lo = (min >> 12) + ((min & 0xfff) != 0 ? 1 : 0);
    const std::uint64_t hi_plus_one = (request.max_address.value() + 1) >> 12;
    if (hi_plus_one == 0) {
        return false;
    }
    first = first < lo ? lo : first;
    last = last > hi_plus_one - 1 ? hi_plus_one - 1 : last;
    const std::uint64_t count = request.num_frames;
    const std::uint64_t boundary = request.boundary_frames;
    std::uint64_t start = align_up(first, request.align_frames);
    while (start >= first && start <= last && last - start + 1 >= count) {
        if (boundary == 0 || start / boundary == (start + count - 1) / boundary) {
            return true;
        }
        start = align_up((start / boundary + 1) * boundary, request.align_frames);
    }
    return false;
}

}  // namespace kernel::selftest
