// The snapshot maths on hand-made inputs: reading the allocator's dump,
// deducing per-CPU cached frames by elimination, and counting the 2 MiB
// frames still available. Also the percentile helper of the summary.
#include <gtest/gtest.h>

#include "framealloc/framealloc.hpp"
#include "framealloc/hosted.hpp"
#include "report.hpp"
#include "snapshot.hpp"

namespace framealloc::sim {
namespace {

TEST(SimSnapshot, ParsesTheDumpOfARealAllocator) {
    FrameAllocator allocator;
    const PhysicalMemoryRegion free[] = {
        PhysicalMemoryRegion::from_bytes(0x100000, 0x400000, MemoryRegionType::kFree).value(),
    };
    const PhysicalMemoryRegion reserved[] = {
        PhysicalMemoryRegion::from_bytes(0xFEE00000, 0x1000, MemoryRegionType::kReserved).value(),
    };
    ASSERT_TRUE(allocator.init(Span<const PhysicalMemoryRegion>(free, 1),
                               Span<const PhysicalMemoryRegion>(reserved, 1)));
    auto hole = allocator.allocate_frames_at(PhysicalAddress::new_canonical(0x200000), 16);
    ASSERT_TRUE(hole);
    std::vector<std::string> lines;
    allocator.dump([&](const char* line) { lines.emplace_back(line); });
    const PoolView view = parse_dump(lines);
    ASSERT_EQ(view.general_regions.size(), 1U);
    EXPECT_EQ(view.general_regions[0].first, 0x100U);
    EXPECT_EQ(view.general_regions[0].last, 0x4FFU);
    ASSERT_EQ(view.general_free.size(), 2U) << "the allocation splits the only chunk";
    EXPECT_EQ(view.general_free[0].last, 0x1FFU);
    EXPECT_EQ(view.general_free[1].first, 0x210U);
    ASSERT_EQ(view.reserved_regions.size(), 1U);
    EXPECT_EQ(view.reserved_regions[0].first, 0xFEE00U);
    ASSERT_EQ(view.reserved_free.size(), 1U);
}

TEST(SimSnapshot, FramesNeitherFreeNorHeldAreCached) {
    PoolView view;
    view.general_regions = {{0, 99}};
    view.general_free = {{0, 9}, {50, 99}};
    view.reserved_regions = {{200, 203}};
    view.reserved_free = {{200, 201}};
    const Snapshot snap = make_snapshot(view, {{10, 19}}, {{202, 203}});
    EXPECT_EQ(frames_in_state(snap, FrameState::kFree), 60U);
    EXPECT_EQ(frames_in_state(snap, FrameState::kAllocated), 10U);
    EXPECT_EQ(frames_in_state(snap, FrameState::kCached), 30U) << "frames 20..49";
    EXPECT_EQ(frames_in_state(snap, FrameState::kReserved), 2U);
    EXPECT_EQ(frames_in_state(snap, FrameState::kReservedAllocated), 2U);
    ASSERT_EQ(snap.runs.size(), 6U);
    EXPECT_EQ(snap.runs[2].frames.first, 20U);
    EXPECT_EQ(snap.runs[2].state, FrameState::kCached);
}

TEST(SimSnapshot, AdjacentRunsOfOneStateMerge) {
    PoolView view;
    view.general_regions = {{0, 9}};
    view.general_free = {{0, 4}};
    const Snapshot snap = make_snapshot(view, {{5, 6}, {7, 9}}, {});
    ASSERT_EQ(snap.runs.size(), 2U);
    EXPECT_EQ(snap.runs[1].frames.first, 5U);
    EXPECT_EQ(snap.runs[1].frames.last, 9U);
}

TEST(SimSnapshot, HugeFramesCountOnlyWholeAlignedBlocks) {
    PoolView view;
    view.general_regions = {{0, 4095}};
    // Free 100..1535 holds block 512..1023 and 1024..1535 (two); cached
    // 1536..2047 joins the free run before it, adding a third; the run
    // 2100..3000 holds no whole aligned block.
    view.general_free = {{100, 1535}, {2100, 3000}};
    const Snapshot snap = make_snapshot(view, {{0, 99}, {2048, 2099}, {3001, 4095}}, {});
    EXPECT_EQ(frames_in_state(snap, FrameState::kCached), 512U);
    EXPECT_EQ(huge_frames_available(snap), 3U);
}

TEST(SimReport, PercentilesUseNearestRank) {
    std::vector<std::uint32_t> v;
    for (std::uint32_t i = 100; i >= 1; --i) {
        v.push_back(i);  // 1..100, shuffled order does not matter
    }
    const Percentiles p = percentiles(v);
    EXPECT_EQ(p.p50, 50U);
    EXPECT_EQ(p.p90, 90U);
    EXPECT_EQ(p.p99, 99U);
    EXPECT_EQ(percentiles({}).p99, 0U);
    EXPECT_EQ(percentiles({7}).p50, 7U);
}

TEST(SimReport, HumanBytesPicksTheLargestWholeUnit) {
    EXPECT_EQ(human_bytes(4096), "4 KiB");
    EXPECT_EQ(human_bytes(640 * 1024), "640 KiB");
    EXPECT_EQ(human_bytes(16ULL << 30), "16 GiB");
    EXPECT_EQ(human_bytes(3ULL << 29), "1.5 GiB");
    EXPECT_EQ(human_bytes(12ULL << 40), "12 TiB");
}

}  // namespace
}  // namespace framealloc::sim
