// Helpers shared by the feature tests: sizes, region builders, and allocators
// made on the heap (an allocator object carries its early node array, so tests
// keep it off the stack). Expected values in the tests are computed by hand
// from the regions built here, never read back from the implementation.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <vector>

#include "framealloc/framealloc.hpp"
#include "framealloc/hosted.hpp"

namespace framealloc::test {

inline constexpr std::uint64_t kKiB = 1024;
inline constexpr std::uint64_t kMiB = 1024 * kKiB;
inline constexpr std::uint64_t kGiB = 1024 * kMiB;
inline constexpr std::uint64_t kFrame = Page4K::kBytes;

/// Whole frames of [start, start + bytes).
inline PhysicalMemoryRegion free_region(std::uint64_t start, std::uint64_t bytes) {
    return PhysicalMemoryRegion(
        FrameRange<>::from_address(PhysicalAddress::new_canonical(start), bytes).value(),
        MemoryRegionType::kFree);
}
inline PhysicalMemoryRegion reserved_region(std::uint64_t start, std::uint64_t bytes) {
    return PhysicalMemoryRegion(
        FrameRange<>::from_address(PhysicalAddress::new_canonical(start), bytes).value(),
        MemoryRegionType::kReserved);
}
/// Frames [first, first + count) as a range.
inline FrameRange<> frames(std::uint64_t first, std::uint64_t count) {
    return FrameRange<>::from_count(Frame<>::from_number(first).value(), count).value();
}
inline PhysicalAddress phys(std::uint64_t value) {
    return PhysicalAddress::new_canonical(value);
}

/// An initialised allocator (early mode) over the given regions.
template <typename Alloc = FrameAllocator>
std::unique_ptr<Alloc> make_allocator(std::vector<PhysicalMemoryRegion> free,
                                      std::vector<PhysicalMemoryRegion> reserved = {}) {
    auto alloc = std::make_unique<Alloc>();
    auto init = alloc->init(Span<const PhysicalMemoryRegion>(free),
                            Span<const PhysicalMemoryRegion>(reserved),
                            hosted_metadata(Alloc::metadata_bytes(free, reserved)));
    EXPECT_TRUE(init.has_value()) << (init ? "" : init.error().message);
    return alloc;
}

/// Metadata memory for hot-plugging `region` (kept until the test ends).
inline Span<std::byte> metadata_for(const PhysicalMemoryRegion& region) {
    return hosted_metadata(
        FrameAllocator::metadata_bytes(Span<const PhysicalMemoryRegion>(&region, 1), {}));
}

/// The same, moved to heap storage (per-CPU caches on).
template <typename Alloc = FrameAllocator>
std::unique_ptr<Alloc> make_heap_allocator(std::vector<PhysicalMemoryRegion> free,
                                           std::vector<PhysicalMemoryRegion> reserved = {}) {
    auto alloc = make_allocator<Alloc>(std::move(free), std::move(reserved));
    EXPECT_TRUE(alloc->move_to_heap(hosted_heap_hooks()).ok());
    return alloc;
}

/// Asserts the checker finds nothing wrong.
#define EXPECT_CHECK_OK(alloc)                                            \
    do {                                                                  \
        auto check_status_ = (alloc).check();                             \
        EXPECT_TRUE(check_status_.ok()) << check_status_.error().message; \
    } while (0)

}  // namespace framealloc::test
