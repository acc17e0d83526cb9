// Aligned, boundary-respecting and address-windowed allocation through the one
// AllocRequest type, alone and combined, in early mode (before move_to_heap)
// and heap mode (with per-CPU caches holding frames the request needs).
#include <gtest/gtest.h>

#include "feature_test_util.hpp"

namespace framealloc::test {
namespace {

TEST(Aligned, RunStartsOnTheRequestedMultipleNotAtTheChunkStart) {
    // Frames 1..1000: an unaligned request would start at frame 1.
    auto alloc = make_allocator({free_region(kFrame, 1000 * kFrame)});
    auto plain = alloc->allocate_frames(3);
    ASSERT_TRUE(plain);
    EXPECT_EQ(plain->start().number(), 1U);
    auto aligned = alloc->allocate(AllocRequest::frames(3).aligned(16));
    ASSERT_TRUE(aligned);
    EXPECT_EQ(aligned->start().number() % 16, 0U);
    EXPECT_EQ(aligned->size_in_frames(), 3U);
    EXPECT_CHECK_OK(*alloc);
}

TEST(Aligned, AlignmentLargerThanTheRunIsHonoured) {
    auto alloc = make_allocator({free_region(5 * kFrame, 4 * kMiB)});
    auto one = alloc->allocate(AllocRequest::frames(1).aligned(256));  // 1 MiB aligned
    ASSERT_TRUE(one);
    EXPECT_EQ(one->start_address().value() % kMiB, 0U);
    EXPECT_EQ(one->size_in_frames(), 1U);
}

TEST(Aligned, OnlyAlignedSpotIsFoundInAChunkTooSmallForTheFastPath) {
    // Chunk 20..35 (16 frames) is smaller than count + align - 1 = 19, so no
    // size bin vouches for it; only a walk finds the aligned run 32..35.
    auto alloc = make_allocator({PhysicalMemoryRegion(frames(20, 16), MemoryRegionType::kFree)});
    auto run = alloc->allocate(AllocRequest::frames(4).aligned(16));
    ASSERT_TRUE(run);
    EXPECT_EQ(run->start().number(), 32U);
    auto none = alloc->allocate(AllocRequest::frames(4).aligned(16));
    EXPECT_EQ(none.kind(), ErrorKind::kNotEnoughContiguous);
}

TEST(Aligned, BoundaryMovesARunThatWouldCrossIt) {
    // Frames 14..100: the first run of 4 is 14..17, crossing the 64 KiB line at 16.
    auto alloc = make_allocator({PhysicalMemoryRegion(frames(14, 87), MemoryRegionType::kFree)});
    auto run = alloc->allocate(AllocRequest::frames(4).not_crossing(16));
    ASSERT_TRUE(run);
    EXPECT_EQ(run->start().number() / 16, run->end().number() / 16);
    EXPECT_EQ(run->start().number(), 16U);
    // Frames 14 and 15 were skipped, not taken: they are still free.
    auto low = alloc->allocate_frames_at(frames(14, 1).start().start_address(), 2);
    ASSERT_TRUE(low) << low.error().message;
}

TEST(Aligned, IsaDmaBufferBelow16MiBWithin64KiBLines) {
    // Free RAM from 1 MiB + 12 KiB to 32 MiB; the ISA DMA rule: below 16 MiB,
    // not crossing a 64 KiB line. A 48 KiB buffer (12 frames) must fit one line.
    auto alloc = make_allocator({free_region(kMiB + 12 * kKiB, 31 * kMiB)});
    auto req = AllocRequest::frames(12).below(16 * kMiB).not_crossing(16);
    std::vector<AllocatedFrames<>> kept;
    for (int i = 0; i < 8; ++i) {
        auto buf = alloc->allocate(req);
        ASSERT_TRUE(buf);
        const std::uint64_t s = buf->start_address().value();
        const std::uint64_t last = s + buf->size_in_bytes() - 1;
        EXPECT_LT(last, 16 * kMiB);
        EXPECT_EQ(s / (64 * kKiB), last / (64 * kKiB));
        kept.push_back(std::move(buf.value()));
    }
    // The first line (1 MiB..1 MiB+64 KiB) has only 13 free frames after the
    // 12 KiB offset, so the first buffer starts 12 KiB in; the rest pack lines.
    EXPECT_EQ(kept[0].start_address().value(), kMiB + 12 * kKiB);
    EXPECT_CHECK_OK(*alloc);
}

TEST(Aligned, InvalidRequestsAreRefusedWithTheRightKind) {
    auto alloc = make_allocator({free_region(kMiB, kMiB)});
    EXPECT_EQ(alloc->allocate(AllocRequest::frames(0)).kind(), ErrorKind::kZeroFrames);
    EXPECT_EQ(alloc->allocate(AllocRequest::frames(1).aligned(3)).kind(),
              ErrorKind::kInvalidArgument);
    EXPECT_EQ(alloc->allocate(AllocRequest::frames(1).aligned(0)).kind(),
              ErrorKind::kInvalidArgument);
    EXPECT_EQ(alloc->allocate(AllocRequest::frames(8).not_crossing(4)).kind(),
              ErrorKind::kInvalidArgument);
    EXPECT_EQ(alloc->allocate(AllocRequest::frames(1).not_crossing(12)).kind(),
              ErrorKind::kInvalidArgument);
    // A window narrower than one whole frame.
    EXPECT_EQ(
        alloc->allocate(AllocRequest::frames(1).within(phys(kMiB + 1), phys(kMiB + 4096))).kind(),
        ErrorKind::kInvalidArgument);
    // At an address that breaks the requested alignment or window.
    EXPECT_EQ(
        alloc->allocate(AllocRequest::frames(1).aligned(2).at_address(phys(kMiB + kFrame))).kind(),
        ErrorKind::kMisaligned);
    EXPECT_EQ(alloc->allocate(AllocRequest::frames(1).below(kMiB).at_address(phys(kMiB))).kind(),
              ErrorKind::kOutOfRange);
    EXPECT_EQ(alloc
                  ->allocate(
                      AllocRequest::frames(2).not_crossing(16).at_address(phys(kMiB + 15 * kFrame)))
                  .kind(),
              ErrorKind::kMisaligned);
    // Nothing was taken by any of the refusals.
    EXPECT_EQ(alloc->stats().general.free_frames, 256U);
}

TEST(Aligned, WindowRoundsItsEndsInwardToWholeFrames) {
    auto alloc = make_allocator({free_region(0, 4 * kMiB)});
    // [0x1001, 0x3fff] holds only frames 2 and 3 whole.
    auto req = AllocRequest::frames(1).within(phys(0x1001), phys(0x3fff));
    auto a = alloc->allocate(req);
    auto b = alloc->allocate(req);
    ASSERT_TRUE(a);
    ASSERT_TRUE(b);
    EXPECT_EQ(a->start().number() + b->start().number(), 2U + 3U);
    EXPECT_FALSE(alloc->allocate(req).has_value());
}

TEST(Aligned, WindowAndLimitTakeByteAddressesAndPhysicalAddressesAlike) {
    // within() and below() accept the same two spellings: a plain byte
    // address (as the docs write them) and a PhysicalAddress.
    static_assert(AllocRequest{}.within(0x1001, 0x3fff).min_address ==
                  PhysicalAddress::new_canonical(0x1001));
    static_assert(AllocRequest{}.within(0x1001, 0x3fff).max_address ==
                  PhysicalAddress::new_canonical(0x3fff));
    static_assert(AllocRequest{}.below(PhysicalAddress::new_canonical(16 * kMiB)).max_address ==
                  AllocRequest{}.below(16 * kMiB).max_address);
    auto alloc = make_allocator({free_region(0, 4 * kMiB)});
    auto a = alloc->allocate(AllocRequest::frames(1).within(0x1001, 0x3fff));
    auto b = alloc->allocate(AllocRequest::frames(1).within(0x1001, 0x3fff));
    ASSERT_TRUE(a);
    ASSERT_TRUE(b);
    EXPECT_EQ(a->start().number() + b->start().number(), 2U + 3U);
    auto low = alloc->allocate(AllocRequest::frames(2).below(phys(0x8000)));
    ASSERT_TRUE(low);
    EXPECT_LT(low->end().number(), 8U);
    // A bound past the physical width is clamped, not wrapped to a small
    // address: a window starting there holds no whole frame.
    EXPECT_EQ(
        alloc->allocate(AllocRequest::frames(1).within(PhysicalAddress::kMax + 1 + 0x1000, ~0ULL))
            .kind(),
        ErrorKind::kInvalidArgument);
}

// Low memory holds one spot that fits; high memory is one big chunk the
// unconstrained fast path would pick. Frames 0x1000+30 .. 0x1000+129 (100
// frames) contain one 64-aligned run of 64 (0x1040..0x107f).
std::vector<PhysicalMemoryRegion> low_and_high() {
    return {PhysicalMemoryRegion(frames(0x1000 + 30, 100), MemoryRegionType::kFree),
            free_region(4 * kGiB, 8 * kGiB)};
}

TEST(Aligned, AlignedBelow4GiBInEarlyMode) {
    auto alloc = make_allocator(low_and_high());
    ASSERT_FALSE(alloc->heap_mode());
    auto low = alloc->allocate(AllocRequest::frames(64).aligned(64).below(4 * kGiB));
    ASSERT_TRUE(low);
    EXPECT_EQ(low->start().number(), 0x1040U);
    EXPECT_EQ(alloc->allocate(AllocRequest::frames(64).aligned(64).below(4 * kGiB)).kind(),
              ErrorKind::kNotEnoughContiguous);
    // Without the window the same request still succeeds, above 4 GiB.
    auto anywhere = alloc->allocate(AllocRequest::frames(64).aligned(64));
    ASSERT_TRUE(anywhere);
    EXPECT_GE(anywhere->start_address().value(), 4 * kGiB);
    EXPECT_EQ(anywhere->start().number() % 64, 0U);
    EXPECT_CHECK_OK(*alloc);
}

TEST(Aligned, AlignedWindowBoundaryInHeapModeDrainsCachesHoldingTheOnlySpot) {
    // The window [1 MiB, 1 MiB + 128 KiB) is one 32-frame chunk; high memory is
    // huge. The per-CPU cache refills a 32-frame batch from the smallest chunk
    // that fits, so after one single-frame allocation the whole window sits in
    // a cache. A windowed request must still succeed: free memory satisfies it.
    auto alloc =
        make_heap_allocator({free_region(kMiB, 32 * kFrame), free_region(4 * kGiB, 64 * kMiB)});
    set_current_cpu(0);
    {
        auto one = alloc->allocate_frames(1);
        ASSERT_TRUE(one);
    }
    const auto req = AllocRequest::frames(16).aligned(16).not_crossing(16).within(
        phys(kMiB), phys(kMiB + 128 * kKiB - 1));
    auto run = alloc->allocate(req);
    ASSERT_TRUE(run) << run.error().message;
    EXPECT_EQ(run->start_address().value() % (64 * kKiB), 0U);
    EXPECT_GE(run->start_address().value(), kMiB);
    EXPECT_LT(run->start_address().value() + run->size_in_bytes(), kMiB + 128 * kKiB + 1);
    EXPECT_CHECK_OK(*alloc);
}

TEST(Aligned, AtAddressRequestCombinesWithAlignmentWindowAndBoundary) {
    auto alloc = make_heap_allocator({free_region(0, 16 * kMiB)});
    auto req = AllocRequest::frames(16).aligned(16).not_crossing(16).below(16 * kMiB).at_address(
        phys(2 * kMiB));
    auto run = alloc->allocate(req);
    ASSERT_TRUE(run);
    EXPECT_EQ(run->start_address().value(), 2 * kMiB);
    // Taken: a second request for the same place fails.
    EXPECT_EQ(alloc->allocate(req).kind(), ErrorKind::kAddressInUse);
}

TEST(Aligned, BelowALimitPastThePhysicalWidthMeansNoLimit) {
    // A limit above every physical address must not wrap into a small window
    // (2^52 + 2 MiB masked to the physical width would be 2 MiB).
    auto alloc = make_allocator({free_region(4 * kGiB, kMiB)});
    const std::uint64_t past_top = PhysicalAddress::kMax + 1 + 2 * kMiB;
    auto f = alloc->allocate(AllocRequest::frames(1).below(past_top));
    ASSERT_TRUE(f) << f.error().message;
    EXPECT_EQ(f->start_address().value(), 4 * kGiB);
    auto g = alloc->allocate(AllocRequest::frames(1).below(~0ULL));
    EXPECT_TRUE(g);
}

}  // namespace
}  // namespace framealloc::test
