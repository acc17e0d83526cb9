// The in-kernel self-test of framealloc: thousands of mixed allocations whose
// frames are written and read back through the identity map, allocations at
// device addresses, expected failures, exhaustion of all RAM, and at the end
// the allocator's invariant checker and a frame count that must balance.
#pragma once

#include <cstdint>

namespace kernel {

struct SelftestSummary {
    std::uint64_t allocations = 0;
    std::uint64_t frames_verified = 0;
    std::uint64_t free_frames = 0;
    std::uint64_t total_frames = 0;
};

/// Runs the test against the kernel's frame allocator (already in heap
/// mode). Any failure panics; returning means every check passed.
[[nodiscard]] SelftestSummary run_selftest();

}  // namespace kernel
