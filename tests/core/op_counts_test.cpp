// Which operations take the allocator's pool-wide lock, counted by a build
// with FRAMEALLOC_COUNT_SHARED_OPS: the scaling claim of docs/design.md
// ("runs inside one tree, frees and cache refills lock only their trees")
// as behaviour a change can break.
#include <gtest/gtest.h>

#include <vector>

#include "framealloc/framealloc.hpp"
#include "framealloc/hosted.hpp"
#include "test_support.hpp"

static_assert(FRAMEALLOC_COUNT_SHARED_OPS != 0, "this test needs the counting build");

namespace framealloc::test {
namespace {

// Three 128 MiB trees of general memory from 1 GiB.
constexpr std::uint64_t kFirst = 0x40000;
constexpr std::uint64_t kFrames = 3ULL * 32768;

std::unique_ptr<FrameAllocator> make() {
    return make_allocator({frames(kFirst, kFirst + kFrames - 1)});
}

OpCounts since(const FrameAllocator& a, const OpCounts& before) {
    const OpCounts now = a.op_counts();
    return {now.pool_ops - before.pool_ops, now.shared_lock_ops - before.shared_lock_ops};
}

TEST(OpCounts, RunsThatFitInATreeAndTheirFreesTakeOnlyTreeLocks) {
    auto a = make();
    const OpCounts before = a->op_counts();
    std::vector<AllocatedFrames<>> held;
    for (std::uint64_t order = 0; order <= 9; ++order) {
        const std::uint64_t n = 1ULL << order;
        auto f = a->allocate(AllocRequest::frames(n).aligned(n));
        ASSERT_TRUE(f) << f.error().message;
        held.push_back(std::move(f.value()));
        auto g = a->allocate_frames(3 * n + 1);  // unaligned too
        ASSERT_TRUE(g);
        held.push_back(std::move(g.value()));
    }
    held.clear();
    const OpCounts c = since(*a, before);
    EXPECT_EQ(c.pool_ops, 40U) << "20 allocations and 20 frees";
    EXPECT_EQ(c.shared_lock_ops, 0U);
    EXPECT_CHECK_OK(*a);
}

TEST(OpCounts, LargeRunsAllocateAtAndRunsAcrossTreesTakeThePoolLock) {
    auto a = make();
    OpCounts before = a->op_counts();
    auto big = a->allocate_frames(40000);  // more than half a tree
    ASSERT_TRUE(big);
    EXPECT_EQ(since(*a, before).shared_lock_ops, 1U);

    before = a->op_counts();
    auto at = a->allocate_frames_at(
        Frame<>::from_number(kFirst + kFrames - 8).value().start_address(), 4);
    ASSERT_TRUE(at);
    EXPECT_EQ(since(*a, before).shared_lock_ops, 1U);

    // Leave free only 8 frames each side of the boundary between the last
    // two trees: 16 frames exist only as a run across them.
    big = AllocatedFrames<>();
    at = AllocatedFrames<>();
    const std::uint64_t boundary = kFirst + 2ULL * 32768;
    auto low = a->allocate_frames_at(Frame<>::from_number(kFirst).value().start_address(),
                                     boundary - 8 - kFirst);
    auto high = a->allocate_frames_at(Frame<>::from_number(boundary + 8).value().start_address(),
                                      kFirst + kFrames - boundary - 8);
    ASSERT_TRUE(low && high);
    before = a->op_counts();
    auto across = a->allocate_frames(16);
    ASSERT_TRUE(across) << across.error().message;
    EXPECT_EQ(across->start().number(), boundary - 8);
    const OpCounts c = since(*a, before);
    EXPECT_EQ(c.pool_ops, 1U);
    EXPECT_EQ(c.shared_lock_ops, 1U) << "no single tree held the run";
    before = a->op_counts();
    across = AllocatedFrames<>();
    EXPECT_EQ(since(*a, before).shared_lock_ops, 0U) << "its free locks two trees only";
    EXPECT_CHECK_OK(*a);
}

TEST(OpCounts, CacheHitsReachNoPoolAndRefillsTakeNoPoolLock) {
    auto a = make();
    ASSERT_TRUE(a->move_to_heap(hosted_heap_hooks()).ok());
    const OpCounts before = a->op_counts();
    std::vector<AllocatedFrames<>> held;
    for (int i = 0; i < 1000; ++i) {
        auto f = a->allocate_frames(1);
        ASSERT_TRUE(f);
        held.push_back(std::move(f.value()));
    }
    held.clear();
    const OpCounts c = since(*a, before);
    EXPECT_GT(c.pool_ops, 0U) << "refills and drains reach the pool";
    EXPECT_LT(c.pool_ops, 200U) << "most of 2000 operations are cache hits";
    EXPECT_EQ(c.shared_lock_ops, 0U);
    EXPECT_CHECK_OK(*a);
}

}  // namespace
}  // namespace framealloc::test
