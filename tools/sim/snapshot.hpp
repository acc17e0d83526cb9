// What physical memory looks like at one moment, frame by frame: free,
// allocated, parked in a per-CPU cache, reserved, or reserved and handed out.
// The picture, the "2 MiB frames left" figure and the conservation check are
// all computed from this one description, so they cannot disagree.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace framealloc::sim {

/// Inclusive 4 KiB frame numbers.
struct FrameInterval {
    std::uint64_t first = 0;
    std::uint64_t last = 0;
    [[nodiscard]] std::uint64_t size() const { return last - first + 1; }
};

enum class FrameState : std::uint8_t {
    kFree,               ///< In the general pool's free chunks.
    kAllocated,          ///< Held by a live allocation from the general pool.
    kCached,             ///< Free, but parked in a per-CPU cache.
    kReserved,           ///< Reserved memory nobody asked for.
    kReservedAllocated,  ///< Reserved memory handed out by address (MMIO, tables).
};

[[nodiscard]] const char* to_string(FrameState state);

struct StateRun {
    FrameInterval frames;
    FrameState state = FrameState::kFree;
};

/// The allocator's own view, as its dump() reports it: regions and free
/// chunks of both pools, in address order.
struct PoolView {
    std::vector<FrameInterval> general_regions;
    std::vector<FrameInterval> reserved_regions;
    std::vector<FrameInterval> general_free;
    std::vector<FrameInterval> reserved_free;
};

/// Reads the lines of BasicFrameAllocator::dump(). dump() is used rather
/// than inspect_then_allocate_free_frames() because the latter drains the
/// per-CPU caches first, which would erase what we want to show.
[[nodiscard]] PoolView parse_dump(const std::vector<std::string>& lines);

struct Snapshot {
    PoolView view;
    /// Every frame of every region, in address order, adjacent equal states merged.
    std::vector<StateRun> runs;
};

/// Combines the allocator's view with the allocations the simulator holds
/// (sorted, disjoint). General frames that are neither free nor held are,
/// by elimination, in a per-CPU cache.
[[nodiscard]] Snapshot make_snapshot(PoolView view, std::vector<FrameInterval> general_held,
                                     std::vector<FrameInterval> reserved_held);

/// Frames in runs of `state`.
[[nodiscard]] std::uint64_t frames_in_state(const Snapshot& snap, FrameState state);

/// Naturally aligned 2 MiB blocks lying wholly in free or cached memory:
/// what allocate_huge<Page2M> could still return.
[[nodiscard]] std::uint64_t huge_frames_available(const Snapshot& snap);

}  // namespace framealloc::sim
