// Huge frames: 2 MiB and 1 GiB frames allocated directly as typed handles,
// naturally aligned, found even after heavy fragmentation, and exact
// conversion between 4K and huge handles (a misaligned one gives the handle
// back untouched).
#include <gtest/gtest.h>

#include "feature_test_util.hpp"

namespace framealloc::test {
namespace {

TEST(Huge, TwoMiBFrameIsNaturallyAlignedAndTyped) {
    // RAM starts 4 KiB past 1 MiB: the first 2 MiB-aligned frame is at 2 MiB.
    auto alloc = make_allocator({free_region(kMiB + kFrame, 16 * kMiB)});
    Result<AllocatedFrames<Page2M>> huge = alloc->allocate_huge<Page2M>();
    ASSERT_TRUE(huge);
    EXPECT_EQ(huge->start_address().value(), 2 * kMiB);
    EXPECT_EQ(huge->size_in_frames(), 1U);
    EXPECT_EQ(huge->size_in_bytes(), 2 * kMiB);
    EXPECT_EQ(alloc->stats().general.allocated_frames, 512U);
    huge = AllocatedFrames<Page2M>();  // destroying it returns all 512 frames
    EXPECT_EQ(alloc->stats().general.allocated_frames, 0U);
    EXPECT_CHECK_OK(*alloc);
}

TEST(Huge, SeveralHugeFramesAreOneContiguousAlignedRun) {
    auto alloc = make_allocator({free_region(kMiB, 64 * kMiB)});
    auto three = alloc->allocate_huge<Page2M>(3);
    ASSERT_TRUE(three);
    EXPECT_EQ(three->size_in_frames(), 3U);
    EXPECT_EQ(three->start_address().value() % (2 * kMiB), 0U);
    EXPECT_EQ(alloc->allocate_huge<Page2M>(0).kind(), ErrorKind::kZeroFrames);
}

TEST(Huge, HugeFrameHonoursAnAddressWindow) {
    auto alloc = make_allocator({free_region(kMiB, 31 * kMiB), free_region(4 * kGiB, kGiB)});
    auto low = alloc->allocate_huge<Page2M>(1, AllocRequest{}.below(4 * kGiB));
    ASSERT_TRUE(low);
    EXPECT_LT(low->start_address().value(), 4 * kGiB);
    auto high = alloc->allocate_huge<Page2M>(
        1, AllocRequest{}.within(phys(4 * kGiB), phys(PhysicalAddress::kMax)));
    ASSERT_TRUE(high);
    EXPECT_GE(high->start_address().value(), 4 * kGiB);
}

TEST(Huge, TwoMiBFrameFoundAfterHeavyFragmentation) {
    // 64 MiB = 32 blocks of 2 MiB. Allocate every frame singly, then free all
    // but frame 256 of each block -- except block 21, freed whole. Free runs
    // between kept frames are 511 frames: only block 21 holds a 2 MiB frame.
    constexpr std::uint64_t kBase = 64 * kMiB;
    constexpr std::uint64_t kBlocks = 32;
    auto alloc = make_heap_allocator({free_region(kBase, kBlocks * 2 * kMiB)});
    set_current_cpu(1);
    std::vector<AllocatedFrames<>> singles;
    for (std::uint64_t i = 0; i < kBlocks * 512; ++i) {
        auto f = alloc->allocate_frames(1);
        ASSERT_TRUE(f);
        singles.push_back(std::move(f.value()));
    }
    EXPECT_EQ(alloc->allocate_frames(1).kind(), ErrorKind::kOutOfMemory);
    std::vector<AllocatedFrames<>> kept;
    for (auto& f : singles) {
        const std::uint64_t offset = f.start_address().value() - kBase;
        const std::uint64_t block = offset / (2 * kMiB);
        if (block != 21 && (offset % (2 * kMiB)) == 256 * kFrame) {
            kept.push_back(std::move(f));
        }
    }
    singles.clear();
    ASSERT_EQ(kept.size(), kBlocks - 1);
    const FrameStats st = alloc->stats();
    EXPECT_EQ(st.general.free_frames, kBlocks * 512 - (kBlocks - 1));
    auto huge = alloc->allocate_huge<Page2M>();
    ASSERT_TRUE(huge) << huge.error().message;
    EXPECT_EQ(huge->start_address().value(), kBase + 21 * 2 * kMiB);
    EXPECT_EQ(alloc->allocate_huge<Page2M>().kind(), ErrorKind::kNotEnoughContiguous);
    // Yet 512 single frames are still there for the asking.
    EXPECT_EQ(alloc->stats().general.free_frames, kBlocks * 512 - (kBlocks - 1) - 512);
    EXPECT_CHECK_OK(*alloc);
}

TEST(Huge, OneGiBFramesOnAMachineWithMoreThanTwoGiB) {
    // 1 MiB..3 GiB and 4 GiB..5.5 GiB: 1 GiB frames fit at 1, 2 and 4 GiB only.
    auto alloc = make_allocator(
        {free_region(kMiB, 3 * kGiB - kMiB), free_region(4 * kGiB, kGiB + kGiB / 2)});
    auto two = alloc->allocate_huge<Page1G>(2);
    ASSERT_TRUE(two);
    EXPECT_EQ(two->start_address().value(), kGiB);
    EXPECT_EQ(two->size_in_bytes(), 2 * kGiB);
    auto third = alloc->allocate_huge<Page1G>();
    ASSERT_TRUE(third);
    EXPECT_EQ(third->start_address().value(), 4 * kGiB);
    // Over 1.4 GiB is still free, but in no aligned gigabyte.
    EXPECT_GT(alloc->stats().general.free_frames, Page1G::kFrames4K);
    EXPECT_EQ(alloc->allocate_huge<Page1G>().kind(), ErrorKind::kNotEnoughContiguous);
    EXPECT_CHECK_OK(*alloc);
}

TEST(Huge, OneGiBFrameInHeapMode) {
    auto alloc = make_heap_allocator({free_region(kMiB, 3 * kGiB - kMiB)});
    auto g = alloc->allocate_huge<Page1G>();
    ASSERT_TRUE(g);
    EXPECT_EQ(g->start_address().value() % kGiB, 0U);
    EXPECT_EQ(alloc->stats().general.allocated_frames, Page1G::kFrames4K);
}

TEST(Huge, AlignedHandleConvertsExactlyBothWays) {
    auto alloc = make_allocator({free_region(0, 16 * kMiB)});
    auto run = alloc->allocate(AllocRequest::frames(1024).aligned(512));
    ASSERT_TRUE(run);
    const std::uint64_t start = run->start_address().value();
    auto huge = run->into_page_size<Page2M>();
    ASSERT_TRUE(huge);
    EXPECT_TRUE(run->is_empty());  // consumed
    EXPECT_EQ(huge->size_in_frames(), 2U);
    EXPECT_EQ(huge->start_address().value(), start);
    auto back = huge->into_page_size<Page4K>();
    ASSERT_TRUE(back);
    EXPECT_EQ(back->size_in_frames(), 1024U);
    EXPECT_EQ(back->start_address().value(), start);
    EXPECT_EQ(alloc->stats().general.allocated_frames, 1024U);
}

TEST(Huge, UnalignedConversionFailsAndGivesTheHandleBack) {
    auto alloc = make_allocator({free_region(0, 16 * kMiB)});
    // 512 frames starting 4 KiB past 2 MiB: the right size, the wrong place.
    auto run = alloc->allocate_frames_at(phys(2 * kMiB + kFrame), 512);
    ASSERT_TRUE(run);
    auto huge = run->into_page_size<Page2M>();
    EXPECT_EQ(huge.kind(), ErrorKind::kMisaligned);
    EXPECT_EQ(run->start_address().value(), 2 * kMiB + kFrame);
    EXPECT_EQ(run->size_in_frames(), 512U);
    // Aligned start, but not a whole number of huge frames.
    auto short_run = alloc->allocate_frames_at(phys(6 * kMiB), 511);
    ASSERT_TRUE(short_run);
    EXPECT_EQ(short_run->into_page_size<Page2M>().kind(), ErrorKind::kMisaligned);
    EXPECT_EQ(short_run->size_in_frames(), 511U);
    EXPECT_EQ(alloc->stats().general.allocated_frames, 1023U);
    run = AllocatedFrames<>();
    short_run = AllocatedFrames<>();
    EXPECT_EQ(alloc->stats().general.allocated_frames, 0U);
    EXPECT_CHECK_OK(*alloc);
}

}  // namespace
}  // namespace framealloc::test
