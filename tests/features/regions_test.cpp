// Regions at run time: memory hot-plugged after init and used by later
// allocations, device memory added as a reserved region, ranges taken offline
// (refused, changing nothing, while any frame is allocated), and reserved
// regions made on the spot for MMIO the firmware never described.
#include <gtest/gtest.h>

#include "feature_test_util.hpp"

namespace framealloc::test {
namespace {

TEST(Regions, HotPluggedRegionServesLaterAllocations) {
    auto alloc = make_allocator({free_region(kMiB, 64 * kFrame)});
    auto all = alloc->allocate_frames(64);
    ASSERT_TRUE(all);
    EXPECT_EQ(alloc->allocate_frames(8).kind(), ErrorKind::kOutOfMemory);

    const PhysicalMemoryRegion plugged = free_region(8 * kGiB, 128 * kFrame);
    ASSERT_TRUE(alloc->add_region(plugged, metadata_for(plugged)).ok());
    auto more = alloc->allocate_frames(8);
    ASSERT_TRUE(more);
    EXPECT_GE(more->start_address().value(), 8 * kGiB);
    const FrameStats st = alloc->stats();
    EXPECT_EQ(st.general.total_frames, 64U + 128U);
    EXPECT_EQ(st.general.free_frames, 120U);
    EXPECT_CHECK_OK(*alloc);
}

TEST(Regions, HotPlugInHeapModeAndAdjacentToAnExistingRegion) {
    auto alloc = make_heap_allocator({free_region(kMiB, kMiB)});
    // Directly after the first region: one free chunk of 512 frames results.
    const PhysicalMemoryRegion next = free_region(2 * kMiB, kMiB);
    ASSERT_TRUE(alloc->add_region(next, metadata_for(next)).ok());
    auto run = alloc->allocate_frames_at(phys(kMiB), 512);
    ASSERT_TRUE(run) << run.error().message;
    EXPECT_EQ(alloc->stats().general.total_frames, 512U);
    EXPECT_CHECK_OK(*alloc);
}

TEST(Regions, OverlappingOrEmptyOrUnknownRegionsAreRefusedWithoutChange) {
    auto alloc = make_allocator({free_region(kMiB, kMiB)}, {reserved_region(0xfee00000, kFrame)});
    const FrameStats before = alloc->stats();
    EXPECT_EQ(alloc->add_region(free_region(kMiB + kMiB / 2, kMiB)).kind(), ErrorKind::kBadRegion);
    EXPECT_EQ(alloc->add_region(free_region(0xfee00000, kFrame)).kind(), ErrorKind::kBadRegion);
    EXPECT_EQ(
        alloc->add_region(PhysicalMemoryRegion(FrameRange<>::empty(), MemoryRegionType::kFree))
            .kind(),
        ErrorKind::kZeroFrames);
    EXPECT_EQ(alloc->add_region(PhysicalMemoryRegion(frames(0x9000, 4), MemoryRegionType::kUnknown))
                  .kind(),
              ErrorKind::kBadRegion);
    const FrameStats after = alloc->stats();
    EXPECT_EQ(after.general.total_frames, before.general.total_frames);
    EXPECT_EQ(after.reserved.total_frames, before.reserved.total_frames);
    EXPECT_EQ(after.nodes_used, before.nodes_used);
}

TEST(Regions, AddedDeviceMemoryIsOnlyHandedOutByAddress) {
    auto alloc = make_allocator({free_region(kMiB, 16 * kFrame)});
    ASSERT_TRUE(alloc->add_region(reserved_region(0xc0000000, 64 * kFrame)).ok());
    auto general = alloc->allocate_frames(16);
    ASSERT_TRUE(general);
    EXPECT_EQ(alloc->allocate_frames(1).kind(), ErrorKind::kOutOfMemory);
    auto bar = alloc->allocate_frames_at(phys(0xc0000000 + 8 * kFrame), 4);
    ASSERT_TRUE(bar);
    EXPECT_EQ(bar->pool(), Pool::kReserved);
    EXPECT_EQ(alloc->stats().reserved.allocated_frames, 4U);
}

TEST(Regions, OfflineRefusedWhileAllocatedThenAcceptedAfterFreeing) {
    auto alloc = make_allocator({free_region(kMiB, kMiB), free_region(16 * kMiB, kMiB)});
    const FrameRange<> second = free_region(16 * kMiB, kMiB).frames;
    auto one = alloc->allocate_frames_at(phys(16 * kMiB + 100 * kFrame), 1);
    ASSERT_TRUE(one);
    const FrameStats before = alloc->stats();
    EXPECT_EQ(alloc->take_offline(second).kind(), ErrorKind::kRegionBusy);
    // Nothing changed: same counts, and the region's free frames still allocate.
    const FrameStats after = alloc->stats();
    EXPECT_EQ(after.general.total_frames, before.general.total_frames);
    EXPECT_EQ(after.general.free_frames, before.general.free_frames);
    EXPECT_EQ(after.general.free_chunks, before.general.free_chunks);
    {
        auto still = alloc->allocate_frames_at(phys(16 * kMiB), 1);
        EXPECT_TRUE(still);
    }
    one = AllocatedFrames<>();
    ASSERT_TRUE(alloc->take_offline(second).ok());
    EXPECT_EQ(alloc->stats().general.total_frames, 256U);
    AllocRequest gone = AllocRequest::frames(1).at_address(phys(16 * kMiB));
    gone.pool = Pool::kGeneral;
    EXPECT_EQ(alloc->allocate(gone).kind(), ErrorKind::kOutsideAllocator);
    {
        // Unplugged memory is unknown again: by address it is MMIO, never RAM.
        auto as_mmio = alloc->allocate_frames_at(phys(16 * kMiB), 1);
        ASSERT_TRUE(as_mmio);
        EXPECT_EQ(as_mmio->pool(), Pool::kReserved);
    }
    // What remains is the first region, whole.
    auto rest = alloc->allocate_frames(256);
    ASSERT_TRUE(rest);
    EXPECT_EQ(rest->start_address().value(), kMiB);
    EXPECT_CHECK_OK(*alloc);
}

TEST(Regions, OfflineOfTheMiddleOfARegionSplitsIt) {
    auto alloc = make_allocator({PhysicalMemoryRegion(frames(1000, 100), MemoryRegionType::kFree)});
    ASSERT_TRUE(alloc->take_offline(frames(1040, 20)).ok());
    const FrameStats st = alloc->stats();
    EXPECT_EQ(st.general.total_frames, 80U);
    EXPECT_EQ(st.general.free_chunks, 2U);
    EXPECT_EQ(st.general.largest_free_chunk, 40U);
    // Frames 1039..1040 straddle the end of the remaining general memory.
    EXPECT_EQ(
        alloc->allocate_frames_at(Frame<>::from_number(1039).value().start_address(), 2).kind(),
        ErrorKind::kOutsideAllocator);
    // A range not inside one region (it spans the hole) is refused.
    EXPECT_EQ(alloc->take_offline(frames(1030, 40)).kind(), ErrorKind::kBadRegion);
    EXPECT_CHECK_OK(*alloc);
}

TEST(Regions, OfflineCountsFramesInPerCpuCachesAsFree) {
    auto alloc = make_heap_allocator({free_region(kMiB, 64 * kFrame)});
    set_current_cpu(2);
    {
        auto one = alloc->allocate_frames(1);  // refills the cache from this region
        ASSERT_TRUE(one);
    }
    ASSERT_GT(alloc->stats().cached_frames, 0U);
    ASSERT_TRUE(alloc->take_offline(free_region(kMiB, 64 * kFrame).frames).ok());
    const FrameStats st = alloc->stats();
    EXPECT_EQ(st.general.total_frames, 0U);
    EXPECT_EQ(st.general.free_frames, 0U);
    EXPECT_EQ(st.cached_frames, 0U);
    EXPECT_EQ(alloc->allocate_frames(1).kind(), ErrorKind::kOutOfMemory);
    EXPECT_CHECK_OK(*alloc);
}

TEST(Regions, HotPlugThenOfflineRoundTrip) {
    auto alloc = make_heap_allocator({free_region(kMiB, kMiB)});
    const PhysicalMemoryRegion dimm = free_region(32 * kGiB, 2 * kGiB);
    ASSERT_TRUE(alloc->add_region(dimm, metadata_for(dimm)).ok());
    {
        auto huge = alloc->allocate_huge<Page1G>();
        ASSERT_TRUE(huge);
        EXPECT_EQ(huge->start_address().value(), 32 * kGiB);
        EXPECT_EQ(alloc->take_offline(dimm.frames).kind(), ErrorKind::kRegionBusy);
    }
    ASSERT_TRUE(alloc->take_offline(dimm.frames).ok());
    EXPECT_EQ(alloc->stats().general.total_frames, 256U);
    EXPECT_CHECK_OK(*alloc);
}

TEST(Regions, UnknownMmioBecomesAReservedRegionOnTheSpot) {
    auto alloc = make_allocator({free_region(kMiB, kMiB)});
    const PhysicalAddress ioapic = phys(0xfec00000);
    {
        auto mmio = alloc->allocate_frames_at(ioapic, 2);
        ASSERT_TRUE(mmio);
        EXPECT_EQ(mmio->pool(), Pool::kReserved);
        const FrameStats st = alloc->stats();
        EXPECT_EQ(st.reserved.total_frames, 2U);
        EXPECT_EQ(st.reserved.allocated_frames, 2U);
        EXPECT_EQ(st.general.total_frames, 256U);  // general memory untouched
        EXPECT_EQ(alloc->allocate_frames_at(ioapic, 1).kind(), ErrorKind::kAddressInUse);
    }
    // Freed, the frames stay a known reserved region: free, yet never general.
    const FrameStats st = alloc->stats();
    EXPECT_EQ(st.reserved.free_frames, 2U);
    EXPECT_EQ(st.general.free_frames, 256U);
    auto all = alloc->allocate_frames(256);
    ASSERT_TRUE(all);
    EXPECT_EQ(alloc->allocate_frames(1).kind(), ErrorKind::kOutOfMemory);
    auto again = alloc->allocate_frames_at(ioapic, 2);
    ASSERT_TRUE(again);
    EXPECT_EQ(again->pool(), Pool::kReserved);
    EXPECT_CHECK_OK(*alloc);
}

TEST(Regions, OnTheSpotRegionRefusedWhenItTouchesGeneralMemory) {
    auto alloc = make_allocator({free_region(kMiB, kMiB)});
    const FrameStats before = alloc->stats();
    // The last two frames of RAM plus two frames past its end.
    auto straddle = alloc->allocate_frames_at(phys(2 * kMiB - 2 * kFrame), 4);
    EXPECT_FALSE(straddle);
    EXPECT_EQ(straddle.kind(), ErrorKind::kOutsideAllocator);
    // The same when the general frames it touches are allocated.
    auto tail = alloc->allocate_frames_at(phys(2 * kMiB - kFrame), 1);
    ASSERT_TRUE(tail);
    EXPECT_FALSE(alloc->allocate_frames_at(phys(2 * kMiB - kFrame), 2));
    tail = AllocatedFrames<>();
    const FrameStats after = alloc->stats();
    EXPECT_EQ(after.reserved.total_frames, before.reserved.total_frames);
    EXPECT_EQ(after.general.free_frames, before.general.free_frames);
    // An explicit general-pool request never makes a region on the spot.
    AllocRequest general_only = AllocRequest::frames(1).at_address(phys(0xfed00000));
    general_only.pool = Pool::kGeneral;
    EXPECT_EQ(alloc->allocate(general_only).kind(), ErrorKind::kOutsideAllocator);
    EXPECT_CHECK_OK(*alloc);
}

TEST(Regions, RunsAcrossPoolsOrPartlyUnknownAreRefused) {
    // General RAM right below a reserved firmware table; unknown space above it.
    auto alloc = make_allocator({free_region(kMiB, kMiB)}, {reserved_region(2 * kMiB, 4 * kFrame)});
    const FrameStats before = alloc->stats();
    // Last general frame + first reserved frame: one handle cannot return to two pools.
    EXPECT_EQ(alloc->allocate_frames_at(phys(2 * kMiB - kFrame), 2).kind(),
              ErrorKind::kOutsideAllocator);
    // Last reserved frame + first unknown frame: the known region is not grown.
    EXPECT_EQ(alloc->allocate_frames_at(phys(2 * kMiB + 3 * kFrame), 2).kind(),
              ErrorKind::kOutsideAllocator);
    const FrameStats after = alloc->stats();
    EXPECT_EQ(after.reserved.total_frames, before.reserved.total_frames);
    EXPECT_EQ(after.reserved.free_frames, 4U);
    EXPECT_EQ(after.general.free_frames, 256U);
    // Each part alone is fine.
    EXPECT_TRUE(alloc->allocate_frames_at(phys(2 * kMiB + 3 * kFrame), 1));
    EXPECT_TRUE(alloc->allocate_frames_at(phys(2 * kMiB + 4 * kFrame), 1));
    EXPECT_CHECK_OK(*alloc);
}

}  // namespace
}  // namespace framealloc::test
