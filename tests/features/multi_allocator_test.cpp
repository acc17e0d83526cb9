// Several allocators side by side, as a NUMA kernel has one per node: nothing
// is shared between them, handles go back to the allocator they came from, and
// two threads may each use their own allocator at once.
#include <gtest/gtest.h>

#include <thread>

#include "feature_test_util.hpp"

namespace framealloc::test {
namespace {

// Node 0 owns [0, 64 MiB), node 1 the 64 MiB right after: physically adjacent.
struct TwoNodes {
    std::unique_ptr<FrameAllocator> node0 = make_heap_allocator({free_region(0, 64 * kMiB)});
    std::unique_ptr<FrameAllocator> node1 =
        make_heap_allocator({free_region(64 * kMiB, 64 * kMiB)});
};

TEST(MultiAllocator, HandlesReturnToTheirOwnAllocator) {
    TwoNodes m;
    set_current_cpu(4);
    auto a = m.node0->allocate_frames(10);
    auto b = m.node1->allocate_frames(20);
    ASSERT_TRUE(a);
    ASSERT_TRUE(b);
    EXPECT_LT(a->start_address().value(), 64 * kMiB);
    EXPECT_GE(b->start_address().value(), 64 * kMiB);
    EXPECT_EQ(a->owner(), m.node0.get());
    EXPECT_EQ(b->owner(), m.node1.get());
    EXPECT_EQ(m.node0->stats().general.allocated_frames, 10U);
    EXPECT_EQ(m.node1->stats().general.allocated_frames, 20U);
    b = AllocatedFrames<>();
    EXPECT_EQ(m.node0->stats().general.allocated_frames, 10U);
    EXPECT_EQ(m.node1->stats().general.allocated_frames, 0U);
    a = AllocatedFrames<>();
    EXPECT_EQ(m.node0->stats().general.allocated_frames, 0U);
    EXPECT_CHECK_OK(*m.node0);
    EXPECT_CHECK_OK(*m.node1);
}

TEST(MultiAllocator, SingleFramesGoBackToTheirOwnPerCpuCache) {
    TwoNodes m;
    set_current_cpu(5);
    auto from1 = m.node1->allocate_frames(1);
    ASSERT_TRUE(from1);
    const std::uint64_t cached0 = m.node0->stats().cached_frames;
    const std::uint64_t cached1 = m.node1->stats().cached_frames;
    from1 = AllocatedFrames<>();
    EXPECT_EQ(m.node0->stats().cached_frames, cached0);
    EXPECT_EQ(m.node1->stats().cached_frames, cached1 + 1);
}

TEST(MultiAllocator, AdjacentHandlesOfDifferentAllocatorsDoNotMerge) {
    TwoNodes m;
    auto last0 = m.node0->allocate_frames_at(phys(64 * kMiB - kFrame), 1);
    auto first1 = m.node1->allocate_frames_at(phys(64 * kMiB), 1);
    ASSERT_TRUE(last0);
    ASSERT_TRUE(first1);
    EXPECT_EQ(last0->merge(first1.value()).kind(), ErrorKind::kForeignHandle);
    EXPECT_EQ(last0->size_in_frames(), 1U);
    EXPECT_EQ(first1->size_in_frames(), 1U);
    EXPECT_EQ(first1->owner(), m.node1.get());
}

TEST(MultiAllocator, EachAllocatorKnowsOnlyItsOwnMemory) {
    TwoNodes m;
    // Node 0 must not hand out node 1's RAM as general memory.
    AllocRequest req = AllocRequest::frames(1).at_address(phys(64 * kMiB));
    req.pool = Pool::kGeneral;
    EXPECT_EQ(m.node0->allocate(req).kind(), ErrorKind::kOutsideAllocator);
    auto all0 = m.node0->allocate_frames(64 * kMiB / kFrame);
    ASSERT_TRUE(all0);
    EXPECT_EQ(m.node0->allocate_frames(1).kind(), ErrorKind::kOutOfMemory);
    EXPECT_TRUE(m.node1->allocate_frames(1));
}

TEST(MultiAllocator, TwoThreadsEachWithTheirOwnAllocator) {
    TwoNodes m;
    const auto churn = [](FrameAllocator* alloc, unsigned cpu) {
        set_current_cpu(cpu);
        std::vector<AllocatedFrames<>> held;
        for (int i = 0; i < 2000; ++i) {
            auto f = alloc->allocate_frames(1 + static_cast<std::uint64_t>(i % 5));
            if (f) {
                held.push_back(std::move(f.value()));
            }
            if (held.size() > 50) {
                held.erase(held.begin(), held.begin() + 25);
            }
        }
    };
    std::thread t0(churn, m.node0.get(), 6U);
    std::thread t1(churn, m.node1.get(), 7U);
    t0.join();
    t1.join();
    EXPECT_EQ(m.node0->stats().general.allocated_frames, 0U);
    EXPECT_EQ(m.node1->stats().general.allocated_frames, 0U);
    EXPECT_CHECK_OK(*m.node0);
    EXPECT_CHECK_OK(*m.node1);
}

}  // namespace
}  // namespace framealloc::test
