// A fixed-capacity sink for the memory-map parsers: it sorts what a parser
// emits into a free list and a reserved list, the two spans the allocator's
// init(free, reserved) takes. It lives wherever the caller puts it (a static,
// the boot stack), so a kernel can parse its firmware map before any heap
// exists; running out of room is an error, never a silently dropped region.
#pragma once

#include <cstddef>

#include "framealloc/memmap/common.hpp"
#include "framealloc/region.hpp"
#include "framealloc/result.hpp"
#include "framealloc/span.hpp"

namespace framealloc::memmap {

/// Holds up to N free and (separately) up to N reserved regions.
template <std::size_t N>
class RegionList {
  public:
    static constexpr std::size_t kCapacity = N;

    constexpr RegionList() = default;

    /// Appends `region` to the list of its type. Empty regions are skipped
    /// (they describe no frame). Errors: kCapacityExhausted when that list
    /// already holds N regions; kBadRegion for a region of type kUnknown.
    [[nodiscard]] constexpr Status add(const PhysicalMemoryRegion& region) {
        if (region.frames.is_empty()) {
            return {};
        }
        switch (region.type) {
            case MemoryRegionType::kFree:
                return push(free_, free_count_, region);
            case MemoryRegionType::kReserved:
                return push(reserved_, reserved_count_, region);
            case MemoryRegionType::kUnknown:
                break;
        }
        return make_error(ErrorKind::kBadRegion, "region of unknown type given to RegionList");
    }

    /// The sink interface the parsers call.
    [[nodiscard]] constexpr Status operator()(const PhysicalMemoryRegion& region) {
        return add(region);
    }

    [[nodiscard]] constexpr Span<const PhysicalMemoryRegion> free_regions() const {
        return Span<const PhysicalMemoryRegion>(free_, free_count_);
    }
    [[nodiscard]] constexpr Span<const PhysicalMemoryRegion> reserved_regions() const {
        return Span<const PhysicalMemoryRegion>(reserved_, reserved_count_);
    }
    [[nodiscard]] constexpr std::size_t size() const { return free_count_ + reserved_count_; }
    [[nodiscard]] constexpr bool empty() const { return size() == 0; }

    /// Forgets every region, e.g. to retry with a different map.
    constexpr void clear() {
        free_count_ = 0;
        reserved_count_ = 0;
    }

  private:
    [[nodiscard]] static constexpr Status push(PhysicalMemoryRegion (&array)[N], std::size_t& count,
                                               const PhysicalMemoryRegion& region) {
        if (count == N) {
            return make_error(ErrorKind::kCapacityExhausted, "RegionList is full");
        }
        array[count++] = region;
        return {};
    }

    PhysicalMemoryRegion free_[N] = {};
    PhysicalMemoryRegion reserved_[N] = {};
    std::size_t free_count_ = 0;
    std::size_t reserved_count_ = 0;
};

}  // namespace framealloc::memmap
