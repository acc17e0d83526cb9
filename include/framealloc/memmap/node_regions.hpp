// Splits one firmware memory map by NUMA node: given the regions a map
// parser produced and the node ranges the SRAT or the device tree gave, it
// hands a sink the part of each region that lies on one node, so each node's
// BasicFrameAllocator is initialised with exactly its own memory. Free
// memory keeps only the frames wholly inside a node range (a frame split
// between two nodes is usable by neither); reserved memory keeps every frame
// it touches, so a reservation is never lost at a node boundary. Memory that
// no range covers belongs to no node and is not passed on.
#pragma once

#include <cstdint>

#include "framealloc/memmap/common.hpp"
#include "framealloc/memmap/numa.hpp"
#include "framealloc/region.hpp"
#include "framealloc/span.hpp"

namespace framealloc::memmap {

/// Passes `sink` the part of each of `regions` that lies in a range of
/// `ranges` belonging to `node`, region by region and range by range.
/// Errors: any error the sink returns.
template <typename Sink>
requires RegionSink<Sink>
[[nodiscard]] constexpr Status regions_on_node(Span<const PhysicalMemoryRegion> regions,
                                               Span<const NumaMemoryRange> ranges,
                                               std::uint32_t node, Sink&& sink) {
    constexpr std::uint64_t kFrameBytes = Page4K::kBytes;
    for (const PhysicalMemoryRegion& region : regions) {
        if (region.frames.is_empty() || region.type == MemoryRegionType::kUnknown) {
            continue;
        }
        const bool free = region.type == MemoryRegionType::kFree;
        for (const NumaMemoryRange& range : ranges) {
            if (range.node != node || range.length == 0) {
                continue;
            }
            // The range's last byte; the parsers never report a range that wraps.
            const std::uint64_t last_byte = range.base + (range.length - 1);
            std::uint64_t first = range.base / kFrameBytes;
            std::uint64_t last = last_byte / kFrameBytes;
            if (free) {
                first += range.base % kFrameBytes != 0 ? 1 : 0;
                if (last_byte % kFrameBytes != kFrameBytes - 1) {
                    if (last == 0) {
                        continue;
                    }
                    --last;
                }
            }
            const std::uint64_t lo =
                first > region.frames.start().number() ? first : region.frames.start().number();
            const std::uint64_t hi =
                last < region.frames.end().number() ? last : region.frames.end().number();
            if (lo > hi || lo > Frame<>::kMaxNumber) {
                continue;
            }
            const PhysicalMemoryRegion part(
                FrameRange<>(Frame<>::from_number(lo).value(), Frame<>::from_number(hi).value()),
                region.type);
            FRAMEALLOC_TRY(static_cast<Status>(sink(part)));
        }
    }
    return {};
}

}  // namespace framealloc::memmap
