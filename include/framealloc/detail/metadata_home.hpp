// Where an allocator's metadata can live when the kernel has no memory set
// aside for it: the lowest run of usable frames, inside an address window
// the kernel can already reach, that no reserved region touches. The frames
// are found before the allocator exists, from the same region lists init()
// reads, so nothing else can have claimed them yet.
#pragma once

#include <cstdint>

#include "framealloc/region.hpp"
#include "framealloc/result.hpp"
#include "framealloc/span.hpp"

namespace framealloc::detail {

/// The lowest `count` frames inside [lowest, highest] (frame numbers) that lie
/// in one Free region and in no Reserved region, or nothing.
[[nodiscard]] constexpr Optional<std::uint64_t> find_metadata_home(
    Span<const PhysicalMemoryRegion> free_regions,
    Span<const PhysicalMemoryRegion> reserved_regions, std::uint64_t count, std::uint64_t lowest,
    std::uint64_t highest) {
    Optional<std::uint64_t> best;
    const auto clear_of_reserved = [&](std::uint64_t s, std::uint64_t e) {
        for (const PhysicalMemoryRegion& r : reserved_regions) {
            if (r.type == MemoryRegionType::kReserved && !r.frames.is_empty() &&
                r.frames.start().number() <= e && s <= r.frames.end().number()) {
                return false;
            }
        }
        return true;
    };
    const auto consider = [&](const PhysicalMemoryRegion& f, std::uint64_t s) {
        const std::uint64_t last =
            f.frames.end().number() < highest ? f.frames.end().number() : highest;
        if (s < lowest || s > last || last - s < count - 1 || (best && *best <= s)) {
            return;
        }
        if (clear_of_reserved(s, s + count - 1)) {
            best = s;
        }
    };
    if (count == 0) {
        return best;
    }
    for (const PhysicalMemoryRegion& f : free_regions) {
        if (f.type != MemoryRegionType::kFree || f.frames.is_empty()) {
            continue;
        }
        // A run starts at the region's (or window's) start or right after a
        // reserved region; those are the only candidates worth trying.
        const std::uint64_t first = f.frames.start().number();
        consider(f, first > lowest ? first : lowest);
        for (const PhysicalMemoryRegion& r : reserved_regions) {
            if (!r.frames.is_empty() && r.frames.end().number() < ~0ULL) {
                consider(f, r.frames.end().number() + 1);
            }
        }
    }
    return best;
}

}  // namespace framealloc::detail
