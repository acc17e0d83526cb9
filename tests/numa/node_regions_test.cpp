// regions_on_node(): one map split by node ranges. Free memory keeps only
// frames wholly on the node, reserved memory every frame it touches, and
// memory outside every range goes to no node.
#include <gtest/gtest.h>

#include <vector>

#include "feature_test_util.hpp"
#include "framealloc/memmap/node_regions.hpp"

namespace framealloc::test {
namespace {

using memmap::NumaMemoryRange;

std::vector<PhysicalMemoryRegion> on_node(const std::vector<PhysicalMemoryRegion>& regions,
                                          const std::vector<NumaMemoryRange>& ranges,
                                          std::uint32_t node) {
    std::vector<PhysicalMemoryRegion> out;
    const Status st =
        memmap::regions_on_node(regions, ranges, node, [&](const PhysicalMemoryRegion& r) {
            out.push_back(r);
            return Status{};
        });
    EXPECT_TRUE(st.ok());
    return out;
}

TEST(NodeRegions, SplitsAMapAtTheNodeBoundary) {
    // One free region 0-4 GiB, a reservation straddling 2 GiB, the boundary.
    const std::vector<PhysicalMemoryRegion> map = {free_region(0, 4 * kGiB),
                                                   reserved_region(2 * kGiB - kFrame, 2 * kFrame)};
    const std::vector<NumaMemoryRange> ranges = {{0, 2 * kGiB, 0}, {2 * kGiB, 2 * kGiB, 1}};
    const auto n0 = on_node(map, ranges, 0);
    const auto n1 = on_node(map, ranges, 1);
    ASSERT_EQ(n0.size(), 2U);
    EXPECT_EQ(n0[0].frames, frames(0, 2 * kGiB / kFrame));
    EXPECT_EQ(n0[1].frames, frames(2 * kGiB / kFrame - 1, 1));
    EXPECT_EQ(n0[1].type, MemoryRegionType::kReserved);
    ASSERT_EQ(n1.size(), 2U);
    EXPECT_EQ(n1[0].frames, frames(2 * kGiB / kFrame, 2 * kGiB / kFrame));
    EXPECT_EQ(n1[1].frames, frames(2 * kGiB / kFrame, 1));
    EXPECT_TRUE(on_node(map, ranges, 2).empty());
}

TEST(NodeRegions, UnalignedBoundariesCostFreeFramesButNeverReservedOnes) {
    const std::vector<PhysicalMemoryRegion> map = {free_region(0, 64 * kFrame),
                                                   reserved_region(0, 64 * kFrame)};
    // Node 0 ends in the middle of frame 10, node 1 starts there.
    const std::vector<NumaMemoryRange> ranges = {{0, 10 * kFrame + 100, 0},
                                                 {10 * kFrame + 100, 54 * kFrame - 100, 1}};
    const auto n0 = on_node(map, ranges, 0);
    const auto n1 = on_node(map, ranges, 1);
    ASSERT_EQ(n0.size(), 2U);
    EXPECT_EQ(n0[0].frames, frames(0, 10));  // frame 10 is split: free on neither
    EXPECT_EQ(n0[1].frames, frames(0, 11));  // reserved on both
    ASSERT_EQ(n1.size(), 2U);
    EXPECT_EQ(n1[0].frames, frames(11, 53));
    EXPECT_EQ(n1[1].frames, frames(10, 54));
}

TEST(NodeRegions, MemoryOutsideEveryRangeBelongsToNoNodeAndEmptyRangesAreIgnored) {
    const std::vector<PhysicalMemoryRegion> map = {free_region(0, kGiB),
                                                   free_region(8 * kGiB, kGiB)};
    const std::vector<NumaMemoryRange> ranges = {{0, kGiB / 2, 0}, {kGiB, 0, 0}};
    const auto n0 = on_node(map, ranges, 0);
    ASSERT_EQ(n0.size(), 1U);
    EXPECT_EQ(n0[0].frames, frames(0, kGiB / 2 / kFrame));
}

TEST(NodeRegions, EachNodeInitialisesItsOwnAllocator) {
    const std::vector<PhysicalMemoryRegion> map = {free_region(kMiB, 63 * kMiB)};
    const std::vector<NumaMemoryRange> ranges = {{0, 32 * kMiB, 0}, {32 * kMiB, 32 * kMiB, 1}};
    std::uint64_t total = 0;
    for (std::uint32_t node = 0; node < 2; ++node) {
        auto alloc = make_allocator(on_node(map, ranges, node));
        total += alloc->stats().general.total_frames;
    }
    EXPECT_EQ(total, 63 * kMiB / kFrame);
}

TEST(NodeRegions, SinkErrorStops) {
    const std::vector<PhysicalMemoryRegion> map = {free_region(0, kGiB),
                                                   free_region(2 * kGiB, kGiB)};
    const std::vector<NumaMemoryRange> ranges = {{0, 4 * kGiB, 0}};
    int calls = 0;
    const Status st = memmap::regions_on_node(map, ranges, 0, [&](const PhysicalMemoryRegion&) {
        ++calls;
        return Status{make_error(ErrorKind::kCapacityExhausted, "full")};
    });
    EXPECT_EQ(st.kind(), ErrorKind::kCapacityExhausted);
    EXPECT_EQ(calls, 1);
}

}  // namespace
}  // namespace framealloc::test
