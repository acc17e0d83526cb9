// Helpers shared by the core tests: region builders, QEMU's default 128 MiB
// map, and a way to count what an allocator holds free.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <vector>

#include "framealloc/framealloc.hpp"
#include "framealloc/hosted.hpp"

namespace framealloc::test {

inline PhysicalMemoryRegion free_bytes(std::uint64_t start, std::uint64_t size) {
    return PhysicalMemoryRegion::from_bytes(start, size, MemoryRegionType::kFree).value();
}
inline PhysicalMemoryRegion reserved_bytes(std::uint64_t start, std::uint64_t size) {
    return PhysicalMemoryRegion::from_bytes(start, size, MemoryRegionType::kReserved).value();
}
/// Frames [first, last] (inclusive) as a region of `type`.
inline PhysicalMemoryRegion frames(std::uint64_t first, std::uint64_t last,
                                   MemoryRegionType type = MemoryRegionType::kFree) {
    return PhysicalMemoryRegion(
        FrameRange<>(Frame<>::from_number(first).value(), Frame<>::from_number(last).value()),
        type);
}
inline Frame<> frame(std::uint64_t n) {
    return Frame<>::from_number(n).value();
}
inline PhysicalAddress addr(std::uint64_t a) {
    return PhysicalAddress::new_canonical(a);
}

/// QEMU's default 128 MiB e820 map: usable 0-0x9fbff and 0x100000-0x7fdffff.
struct QemuMap {
    std::vector<PhysicalMemoryRegion> free{free_bytes(0, 0x9fc00),
                                           free_bytes(0x100000, 0x7fe0000 - 0x100000)};
    std::vector<PhysicalMemoryRegion> reserved{
        reserved_bytes(0x9fc00, 0x400), reserved_bytes(0xf0000, 0x10000),
        reserved_bytes(0x7fe0000, 0x20000), reserved_bytes(0xfffc0000, 0x40000)};
    // By hand: 0x9f = 159 whole frames below 0x9fc00 (0x9f000 is the last whole
    // one), and (0x7fe0000 - 0x100000) / 0x1000 = 0x7ee0 = 32480 above 1 MiB.
    static constexpr std::uint64_t kUsableFrames = 159 + 32480;
};

/// A fresh, initialised allocator on the heap (it is ~13 KiB).
template <typename A = FrameAllocator>
std::unique_ptr<A> make_allocator(const std::vector<PhysicalMemoryRegion>& free_regions,
                                  const std::vector<PhysicalMemoryRegion>& reserved_regions = {}) {
    auto a = std::make_unique<A>();
    auto r = a->init(free_regions, reserved_regions,
                     hosted_metadata(A::metadata_bytes(free_regions, reserved_regions)));
    EXPECT_TRUE(r.has_value()) << (r ? "" : r.error().message);
    return a;
}

/// Free general frames seen by walking the free chunks (drains caches first).
template <typename A>
std::uint64_t walk_free_frames(A& a) {
    std::uint64_t total = 0;
    auto r = a.inspect_then_allocate_free_frames([&](const FrameRange<>& chunk) {
        total += chunk.size_in_frames();
        return FramesIteratorRequest::Next();
    });
    EXPECT_TRUE(r.has_value());
    return total;
}

#define EXPECT_CHECK_OK(a)                                                \
    do {                                                                  \
        auto check_status_ = (a).check();                                 \
        EXPECT_TRUE(check_status_.ok()) << check_status_.error().message; \
    } while (0)

}  // namespace framealloc::test
