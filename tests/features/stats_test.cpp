// Statistics: exact totals, free and allocated counts per pool, free chunks,
// largest free chunk and the fragmentation figure after known sequences. Every
// expected number is worked out by hand from the regions set up here.
#include <gtest/gtest.h>

#include "feature_test_util.hpp"

namespace framealloc::test {
namespace {

// General: frames 256..355 (100) and 4096..4351 (256). Reserved: 32 frames at
// 0xe0000 and one at 0xfee00000.
std::unique_ptr<FrameAllocator> machine() {
    return make_allocator({free_region(kMiB, 100 * kFrame), free_region(16 * kMiB, kMiB)},
                          {reserved_region(0xe0000, 128 * kKiB), reserved_region(0xfee00000, 1)});
}

TEST(Stats, FreshAllocatorCountsEveryRegion) {
    auto alloc = machine();
    const FrameStats st = alloc->stats();
    EXPECT_EQ(st.general.total_frames, 356U);
    EXPECT_EQ(st.general.free_frames, 356U);
    EXPECT_EQ(st.general.allocated_frames, 0U);
    EXPECT_EQ(st.general.free_chunks, 2U);
    EXPECT_EQ(st.general.largest_free_chunk, 256U);
    EXPECT_EQ(st.reserved.total_frames, 33U);
    EXPECT_EQ(st.reserved.free_frames, 33U);
    EXPECT_EQ(st.reserved.free_chunks, 2U);
    EXPECT_EQ(st.reserved.largest_free_chunk, 32U);
    EXPECT_EQ(st.cached_frames, 0U);
    EXPECT_FALSE(st.heap_mode);
    // 1000 * (1 - 256/356) = 1000 - 719 (integer division).
    EXPECT_EQ(st.fragmentation_permille(), 281U);
}

TEST(Stats, ExactAfterAKnownSequence) {
    auto alloc = machine();
    // Frames 4196..4201 out of the middle of the 256-frame chunk: 100 + 150 left.
    auto mid = alloc->allocate_frames_at(phys(16 * kMiB + 100 * kFrame), 6);
    ASSERT_TRUE(mid);
    auto lapic = alloc->allocate_frames_at(phys(0xfee00000), 1);
    ASSERT_TRUE(lapic);
    FrameStats st = alloc->stats();
    EXPECT_EQ(st.general.free_frames, 350U);
    EXPECT_EQ(st.general.allocated_frames, 6U);
    EXPECT_EQ(st.general.free_chunks, 3U);
    EXPECT_EQ(st.general.largest_free_chunk, 150U);
    EXPECT_EQ(st.fragmentation_permille(), 1000U - 150U * 1000U / 350U);  // 572
    EXPECT_EQ(st.reserved.free_frames, 32U);
    EXPECT_EQ(st.reserved.allocated_frames, 1U);
    EXPECT_EQ(st.reserved.free_chunks, 1U);

    // The whole 100-frame chunk: one chunk fewer.
    auto low = alloc->allocate_frames_at(phys(kMiB), 100);
    ASSERT_TRUE(low);
    st = alloc->stats();
    EXPECT_EQ(st.general.free_frames, 250U);
    EXPECT_EQ(st.general.free_chunks, 2U);
    EXPECT_EQ(st.general.largest_free_chunk, 150U);
    EXPECT_EQ(st.fragmentation_permille(), 400U);  // 1000 - 150000/250

    mid = AllocatedFrames<>();
    lapic = AllocatedFrames<>();
    low = AllocatedFrames<>();
    st = alloc->stats();
    EXPECT_EQ(st.general.free_frames, 356U);
    EXPECT_EQ(st.general.free_chunks, 2U);
    EXPECT_EQ(st.general.largest_free_chunk, 256U);
    EXPECT_EQ(st.reserved.free_frames, 33U);
    EXPECT_EQ(st.nodes_reserved, 0U);  // no handle alive, no node promised
}

TEST(Stats, CheckerboardIsNearlyFullyFragmented) {
    auto alloc = make_allocator({PhysicalMemoryRegion(frames(64, 64), MemoryRegionType::kFree)});
    auto all = alloc->allocate_frames(64);
    ASSERT_TRUE(all);
    // Keep every odd frame: split off singles and drop the even ones.
    std::vector<AllocatedFrames<>> odd;
    AllocatedFrames<> rest = std::move(all.value());
    for (int i = 0; i < 32; ++i) {
        auto even = rest.split_at(rest.start() + 1);
        ASSERT_TRUE(even);
        auto odd_rest = even->second.split_at(even->second.start() + 1);
        ASSERT_TRUE(odd_rest);
        odd.push_back(std::move(odd_rest->first));
        rest = std::move(odd_rest->second);
    }
    const FrameStats st = alloc->stats();
    EXPECT_EQ(st.general.free_frames, 32U);
    EXPECT_EQ(st.general.free_chunks, 32U);
    EXPECT_EQ(st.general.largest_free_chunk, 1U);
    EXPECT_EQ(st.fragmentation_permille(), 1000U - 1000U / 32U);  // 969
    odd.clear();
    EXPECT_EQ(alloc->stats().fragmentation_permille(), 0U);
    EXPECT_EQ(alloc->stats().general.free_chunks, 1U);
}

TEST(Stats, EmptyOrExhaustedPoolReportsZeroFragmentation) {
    auto alloc = make_allocator({free_region(kMiB, 8 * kFrame)});
    auto all = alloc->allocate_frames(8);
    ASSERT_TRUE(all);
    const FrameStats st = alloc->stats();
    EXPECT_EQ(st.general.free_frames, 0U);
    EXPECT_EQ(st.general.largest_free_chunk, 0U);
    EXPECT_EQ(st.fragmentation_permille(), 0U);
}

// Sums a histogram: it must account for every free chunk, no more.
std::uint64_t histogram_total(const PoolStats& p) {
    std::uint64_t n = 0;
    for (const std::uint64_t c : p.free_chunks_by_order) {
        n += c;
    }
    return n;
}

TEST(Stats, FreeChunkOrderIsFloorLog2CappedAtTheLastOrder) {
    static_assert(free_chunk_order(1) == 0);
    static_assert(free_chunk_order(2) == 1);
    static_assert(free_chunk_order(3) == 1);
    static_assert(free_chunk_order(511) == 8);
    static_assert(free_chunk_order(512) == 9);          // one 2 MiB frame's worth
    static_assert(free_chunk_order(1ULL << 18) == 18);  // 1 GiB
    static_assert(free_chunk_order(~0ULL) == kFreeChunkOrders - 1);
    EXPECT_EQ(free_chunk_order((1ULL << (kFreeChunkOrders - 1)) - 1), kFreeChunkOrders - 2);
    EXPECT_EQ(free_chunk_order(1ULL << (kFreeChunkOrders + 3)), kFreeChunkOrders - 1);
}

TEST(Stats, FreeChunksAreCountedBySizeClassPerPool) {
    auto alloc = machine();
    // General: 100 frames (order 6) and 256 (order 8). Reserved: 32 (order 5)
    // and 1 (order 0).
    FrameStats st = alloc->stats();
    EXPECT_EQ(st.general.free_chunks_by_order[6], 1U);
    EXPECT_EQ(st.general.free_chunks_by_order[8], 1U);
    EXPECT_EQ(histogram_total(st.general), st.general.free_chunks);
    EXPECT_EQ(st.reserved.free_chunks_by_order[5], 1U);
    EXPECT_EQ(st.reserved.free_chunks_by_order[0], 1U);
    EXPECT_EQ(histogram_total(st.reserved), 2U);

    // 6 frames out of the 256-frame chunk at offset 100 leave 100 (order 6)
    // and 150 (order 7); with the low 100-frame chunk, order 6 holds two.
    auto mid = alloc->allocate_frames_at(phys(16 * kMiB + 100 * kFrame), 6);
    ASSERT_TRUE(mid);
    auto lapic = alloc->allocate_frames_at(phys(0xfee00000), 1);
    ASSERT_TRUE(lapic);
    st = alloc->stats();
    EXPECT_EQ(st.general.free_chunks_by_order[6], 2U);
    EXPECT_EQ(st.general.free_chunks_by_order[7], 1U);
    EXPECT_EQ(st.general.free_chunks_by_order[8], 0U);
    EXPECT_EQ(histogram_total(st.general), 3U);
    EXPECT_EQ(st.reserved.free_chunks_by_order[0], 0U) << "the APIC page is taken";
    EXPECT_EQ(histogram_total(st.reserved), 1U);

    // Freeing merges the chunks back: the histogram follows.
    mid = AllocatedFrames<>();
    st = alloc->stats();
    EXPECT_EQ(st.general.free_chunks_by_order[8], 1U);
    EXPECT_EQ(st.general.free_chunks_by_order[7], 0U);
    EXPECT_EQ(histogram_total(st.general), 2U);
}

TEST(Stats, CheckerboardFillsOrderZero) {
    auto alloc = make_allocator({free_region(kMiB, 64 * kFrame)});
    std::vector<AllocatedFrames<>> keep;
    std::vector<AllocatedFrames<>> drop;
    for (int i = 0; i < 64; ++i) {
        auto f = alloc->allocate_frames_at(phys(kMiB + static_cast<std::uint64_t>(i) * kFrame), 1);
        ASSERT_TRUE(f);
        (i % 2 == 0 ? keep : drop).push_back(std::move(f.value()));
    }
    drop.clear();
    const FrameStats st = alloc->stats();
    EXPECT_EQ(st.general.free_chunks_by_order[0], 32U);
    EXPECT_EQ(histogram_total(st.general), 32U);
}

TEST(Stats, PerCpuCachedFramesCountAsFreeAndAsSplinters) {
    auto alloc = make_heap_allocator({free_region(kMiB, kMiB)});
    set_current_cpu(3);
    auto one = alloc->allocate_frames(1);
    ASSERT_TRUE(one);
    // The cache took one batch of kSmallBatch frames and handed one out.
    constexpr std::uint64_t kBatch = detail::CpuCache::kSmallBatch;
    FrameStats st = alloc->stats();
    EXPECT_TRUE(st.heap_mode);
    EXPECT_EQ(st.cached_frames, kBatch - 1);
    EXPECT_EQ(st.general.free_frames, 255U);
    EXPECT_EQ(st.general.allocated_frames, 1U);
    EXPECT_EQ(st.general.largest_free_chunk, 256U - kBatch);
    EXPECT_EQ(st.fragmentation_permille(), 1000U - (256U - kBatch) * 1000U / 255U);
    // Cached frames are free but not chunks of the shared pool.
    EXPECT_EQ(histogram_total(st.general), st.general.free_chunks);
    EXPECT_EQ(st.general.free_chunks_by_order[free_chunk_order(256U - kBatch)], 1U);
    alloc->drain_cpu_caches();
    st = alloc->stats();
    EXPECT_EQ(st.cached_frames, 0U);
    EXPECT_EQ(st.general.free_frames, 255U);
    EXPECT_EQ(st.general.free_chunks, 1U);
    EXPECT_EQ(st.general.free_chunks_by_order[7], 1U) << "255 frames: order 7";
    EXPECT_EQ(histogram_total(st.general), 1U);
    EXPECT_EQ(st.general.largest_free_chunk, 255U);
    EXPECT_EQ(st.fragmentation_permille(), 0U);
}

TEST(Stats, HotPlugAndOfflineMoveTheTotals) {
    auto alloc = machine();
    ASSERT_TRUE(alloc->add_region(free_region(64 * kMiB, 2 * kMiB)).ok());
    ASSERT_TRUE(alloc->add_region(reserved_region(0xd0000000, 16 * kFrame)).ok());
    FrameStats st = alloc->stats();
    EXPECT_EQ(st.general.total_frames, 356U + 512U);
    EXPECT_EQ(st.general.largest_free_chunk, 512U);
    EXPECT_EQ(st.reserved.total_frames, 33U + 16U);
    ASSERT_TRUE(alloc->take_offline(free_region(kMiB, 100 * kFrame).frames).ok());
    st = alloc->stats();
    EXPECT_EQ(st.general.total_frames, 256U + 512U);
    EXPECT_EQ(st.general.free_chunks, 2U);
}

TEST(Stats, LargestFreeChunkIsTheLargestNotTheFirstOfSimilarSize) {
    // Chunks of 17, 17 and 16 frames: close enough in size to share a size
    // class, so the figure must come from comparing them, not from any one
    // (the 16-frame chunk, made last, is the one a size-class list finds first).
    auto alloc = make_allocator({PhysicalMemoryRegion(frames(100, 17), MemoryRegionType::kFree),
                                 PhysicalMemoryRegion(frames(200, 17), MemoryRegionType::kFree),
                                 PhysicalMemoryRegion(frames(300, 16), MemoryRegionType::kFree)});
    EXPECT_EQ(alloc->stats().general.largest_free_chunk, 17U);
    auto a = alloc->allocate_frames_at(Frame<>::from_number(100).value().start_address(), 1);
    ASSERT_TRUE(a);
    EXPECT_EQ(alloc->stats().general.largest_free_chunk, 17U);  // the one at 200
    auto b = alloc->allocate_frames_at(Frame<>::from_number(216).value().start_address(), 1);
    ASSERT_TRUE(b);
    EXPECT_EQ(alloc->stats().general.largest_free_chunk, 16U);
    EXPECT_EQ(alloc->stats().general.free_chunks, 3U);
}

}  // namespace
}  // namespace framealloc::test
