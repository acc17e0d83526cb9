// Tests for RegionList, the fixed-capacity sink: it splits regions by type,
// skips empty ones, and reports running out of room instead of dropping a
// region.
#include "framealloc/memmap/region_list.hpp"

#include <gtest/gtest.h>

namespace framealloc::memmap_test {
namespace {

PhysicalMemoryRegion region(std::uint64_t first, std::uint64_t last, MemoryRegionType type) {
    return PhysicalMemoryRegion(
        FrameRange<>(Frame<>::from_number(first).value(), Frame<>::from_number(last).value()),
        type);
}

TEST(RegionList, SplitsByTypeAndKeepsOrder) {
    memmap::RegionList<3> list;
    ASSERT_TRUE(list.add(region(10, 20, MemoryRegionType::kFree)).ok());
    ASSERT_TRUE(list(region(30, 30, MemoryRegionType::kReserved)).ok());
    ASSERT_TRUE(list.add(region(1, 2, MemoryRegionType::kFree)).ok());
    ASSERT_EQ(list.free_regions().size(), 2U);
    ASSERT_EQ(list.reserved_regions().size(), 1U);
    EXPECT_EQ(list.free_regions()[0].frames.start().number(), 10U);
    EXPECT_EQ(list.free_regions()[1].frames.start().number(), 1U);
    EXPECT_EQ(list.size(), 3U);
}

TEST(RegionList, FullListIsCapacityExhaustedPerType) {
    memmap::RegionList<1> list;
    ASSERT_TRUE(list.add(region(1, 1, MemoryRegionType::kFree)).ok());
    Status s = list.add(region(2, 2, MemoryRegionType::kFree));
    ASSERT_FALSE(s.ok());
    EXPECT_EQ(s.kind(), ErrorKind::kCapacityExhausted);
    EXPECT_TRUE(list.add(region(3, 3, MemoryRegionType::kReserved)).ok());  // other list has room
    EXPECT_EQ(list.free_regions().size(), 1U);
}

TEST(RegionList, EmptyRegionsAreSkippedAndUnknownOnesRejected) {
    memmap::RegionList<2> list;
    EXPECT_TRUE(
        list.add(PhysicalMemoryRegion(FrameRange<>::empty(), MemoryRegionType::kFree)).ok());
    EXPECT_TRUE(list.empty());
    EXPECT_EQ(list.add(region(1, 1, MemoryRegionType::kUnknown)).kind(), ErrorKind::kBadRegion);
    ASSERT_TRUE(list.add(region(1, 1, MemoryRegionType::kReserved)).ok());
    list.clear();
    EXPECT_TRUE(list.empty());
}

}  // namespace
}  // namespace framealloc::memmap_test
