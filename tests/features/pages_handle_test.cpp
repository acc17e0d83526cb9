// AllocatedPages handles: unique ownership, merge and split that give the
// handles back unchanged on failure, split bookkeeping that can run out in
// early mode without losing pages, and ordering by start page.
#include <gtest/gtest.h>

#include <type_traits>

#include "page_test_util.hpp"

namespace framealloc::test {
namespace {

static_assert(!std::is_copy_constructible_v<AllocatedPages<>>);
static_assert(std::is_nothrow_move_constructible_v<AllocatedPages<>>);

TEST(PagesHandle, MoveTransfersOwnershipOnce) {
    auto alloc = make_page_allocator({vrange(kHigherHalf, kMiB)});
    auto p = alloc->allocate_pages(4);
    ASSERT_TRUE(p);
    AllocatedPages<> moved = std::move(p.value());
    EXPECT_TRUE(p->is_empty());  // NOLINT(bugprone-use-after-move): pinned behaviour
    EXPECT_EQ(moved.size_in_pages(), 4U);
    AllocatedPages<> other;
    other = std::move(moved);
    EXPECT_EQ(alloc->stats().general.allocated_pages, 4U);
    other = AllocatedPages<>();
    EXPECT_EQ(alloc->stats().general.allocated_pages, 0U);
}

TEST(PagesHandle, MergeJoinsAdjacentPagesInEitherOrder) {
    auto alloc = make_page_allocator({vrange(kHigherHalf, kMiB)});
    auto lo = alloc->allocate_pages_at(vaddr(kHigherHalf), 2);
    auto hi = alloc->allocate_pages_at(vaddr(kHigherHalf + 2 * kPage), 3);
    ASSERT_TRUE(lo);
    ASSERT_TRUE(hi);
    EXPECT_EQ(alloc->stats().nodes_reserved, 2U);
    ASSERT_TRUE(hi->merge(lo.value()).ok());
    EXPECT_TRUE(lo->is_empty());
    EXPECT_EQ(hi->start_address().value(), kHigherHalf);
    EXPECT_EQ(hi->size_in_pages(), 5U);
    EXPECT_EQ(alloc->stats().nodes_reserved, 1U);  // one handle, one promised node
}

TEST(PagesHandle, FailedMergeLeavesBothHandles) {
    auto alloc =
        make_page_allocator({vrange(kHigherHalf, kMiB)}, {vrange(kHigherHalf + kMiB, kMiB)});
    auto a = alloc->allocate_pages_at(vaddr(kHigherHalf), 2);
    auto gap = alloc->allocate_pages_at(vaddr(kHigherHalf + 3 * kPage), 1);
    auto general_end = alloc->allocate_pages_at(vaddr(kHigherHalf + kMiB - kPage), 1);
    auto reserved_start = alloc->allocate_pages_at(vaddr(kHigherHalf + kMiB), 1);
    ASSERT_TRUE(a && gap && general_end && reserved_start);
    EXPECT_EQ(a->merge(gap.value()).kind(), ErrorKind::kNotAdjacent);
    // Adjacent, but one general and one reserved.
    EXPECT_EQ(general_end->merge(reserved_start.value()).kind(), ErrorKind::kNotAdjacent);
    EXPECT_EQ(a->size_in_pages(), 2U);
    EXPECT_EQ(gap->size_in_pages(), 1U);
    EXPECT_EQ(reserved_start->pool(), Pool::kReserved);
    EXPECT_EQ(reserved_start->size_in_pages(), 1U);
}

TEST(PagesHandle, SplitAtTheMiddleAndAtEitherEnd) {
    auto alloc = make_page_allocator({vrange(kHigherHalf, kMiB)});
    auto p = alloc->allocate_pages_at(vaddr(kHigherHalf), 10);
    ASSERT_TRUE(p);
    auto parts = p->split_at(p->start() + 4);
    ASSERT_TRUE(parts);
    EXPECT_TRUE(p->is_empty());
    EXPECT_EQ(parts->first.size_in_pages(), 4U);
    EXPECT_EQ(parts->second.size_in_pages(), 6U);
    EXPECT_EQ(parts->second.start_address().value(), kHigherHalf + 4 * kPage);
    // One past the end: everything in `first`.
    auto whole = parts->second.split_at(parts->second.end() + 1);
    ASSERT_TRUE(whole);
    EXPECT_EQ(whole->first.size_in_pages(), 6U);
    EXPECT_TRUE(whole->second.is_empty());
    EXPECT_EQ(whole->first.split_at(whole->first.end() + 2).kind(), ErrorKind::kOutOfRange);
    EXPECT_EQ(whole->first.size_in_pages(), 6U);
    // Returning one part frees exactly those pages.
    parts->first = AllocatedPages<>();
    EXPECT_EQ(alloc->stats().general.allocated_pages, 6U);
    EXPECT_TRUE(alloc->check().ok());
}

TEST(PagesHandle, SplitThatNeedsANodeFailsCleanlyWhenEarlyCapacityIsGone) {
    using Tiny = BasicPageAllocator<SpinLock, 4>;
    auto alloc = make_page_allocator<Tiny>({vrange(kHigherHalf, kMiB)});
    // Region + chunk + two handles use all four nodes.
    auto a = alloc->allocate_pages(8);
    auto b = alloc->allocate_pages(8);
    ASSERT_TRUE(a && b);
    auto parts = a->split_at(a->start() + 2);
    EXPECT_EQ(parts.kind(), ErrorKind::kCapacityExhausted);
    EXPECT_EQ(a->size_in_pages(), 8U);
    a = AllocatedPages<>();
    b = AllocatedPages<>();
    EXPECT_EQ(alloc->stats().general.free_pages, 256U);
    EXPECT_TRUE(alloc->check().ok());
}

TEST(PagesHandle, HandlesOrderByStartPage) {
    auto alloc = make_page_allocator({vrange(kHigherHalf, kMiB)});
    auto x = alloc->allocate_pages_at(vaddr(kHigherHalf + 8 * kPage), 1);
    auto y = alloc->allocate_pages_at(vaddr(kHigherHalf + 2 * kPage), 5);
    ASSERT_TRUE(x && y);
    EXPECT_TRUE(y.value() < x.value());
    EXPECT_FALSE(x.value() == y.value());
    EXPECT_EQ(x->address_at_offset(kPage - 1).value().value(), kHigherHalf + 9 * kPage - 1);
    EXPECT_FALSE(x->address_at_offset(kPage).has_value());
}

}  // namespace
}  // namespace framealloc::test
