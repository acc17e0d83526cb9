// Regions of physical memory as the firmware describes them. A region is
// bookkeeping only: it says what kind of memory a frame range is, and grants
// no access to it.
#pragma once

#include <cstdint>

#include "framealloc/frame.hpp"

namespace framealloc {

/// What kind of physical memory a region is.
enum class MemoryRegionType : std::uint8_t {
    kFree = 0,      ///< General-purpose RAM, handed out by any allocation.
    kReserved = 1,  ///< Handed out only when asked for by address (MMIO, firmware tables).
    kUnknown = 2,   ///< A placeholder for an empty or invalid region; never allocated.
};

[[nodiscard]] constexpr const char* to_string(MemoryRegionType type) {
    switch (type) {
        case MemoryRegionType::kFree:
            return "free";
        case MemoryRegionType::kReserved:
            return "reserved";
        case MemoryRegionType::kUnknown:
            return "unknown";
    }
    return "unknown";
}

/// A range of frames plus its type.
struct PhysicalMemoryRegion {
    FrameRange<> frames;
    MemoryRegionType type = MemoryRegionType::kUnknown;

    constexpr PhysicalMemoryRegion() = default;
    constexpr PhysicalMemoryRegion(FrameRange<> range, MemoryRegionType region_type)
        : frames(range), type(region_type) {}

    /// The region of `size_bytes` bytes at `start`. Free memory shrinks inward
    /// to whole frames (a partial frame is not usable RAM); reserved memory
    /// grows outward (a partial frame is still not free). Bytes that wrap past
    /// 2^64 are kOverflow; bytes past the physical top are clipped to it.
    [[nodiscard]] static constexpr Result<PhysicalMemoryRegion> from_bytes(std::uint64_t start,
                                                                           std::uint64_t size_bytes,
                                                                           MemoryRegionType type) {
        if (size_bytes != 0 && size_bytes - 1 > ~0ULL - start) {
            return make_error(ErrorKind::kOverflow, "region wraps past 2^64");
        }
        if (size_bytes == 0 || start > PhysicalAddress::kMax) {
            return PhysicalMemoryRegion(FrameRange<>::empty(), type);
        }
        std::uint64_t last = start + (size_bytes - 1);
        if (last > PhysicalAddress::kMax) {
            last = PhysicalAddress::kMax;
        }
        constexpr std::uint64_t kMask = Page4K::kBytes - 1;
        std::uint64_t first_frame = start >> Page4K::kShift;
        std::uint64_t last_frame = last >> Page4K::kShift;
        if (type == MemoryRegionType::kFree) {
            if ((start & kMask) != 0) {
                ++first_frame;
            }
            if ((last & kMask) != kMask) {
                if (last_frame == 0) {
                    return PhysicalMemoryRegion(FrameRange<>::empty(), type);
                }
                --last_frame;
            }
        }
        if (first_frame > last_frame) {
            return PhysicalMemoryRegion(FrameRange<>::empty(), type);
        }
        return PhysicalMemoryRegion(FrameRange<>(Frame<>::from_number(first_frame).value(),
                                                 Frame<>::from_number(last_frame).value()),
                                    type);
    }
};

}  // namespace framealloc
