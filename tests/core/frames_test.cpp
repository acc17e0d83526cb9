// Frame handles: uniqueness, RAII return by state, the allowed transitions,
// merge and split (including their failures, which must lose nothing),
// iteration, ordering, and page-size conversion.
#include <string>
#include <type_traits>

#include "test_support.hpp"

namespace framealloc::test {
namespace {

class FramesTest : public ::testing::Test {
  protected:
    void SetUp() override {
        alloc_ = make_allocator({frames(0x100, 0x1ff)},
                                {frames(0x400, 0x40f, MemoryRegionType::kReserved)});
    }
    void TearDown() override {
        EXPECT_CHECK_OK(*alloc_);
        EXPECT_EQ(alloc_->stats().general.free_frames, 0x100U) << "frames leaked";
        EXPECT_EQ(alloc_->stats().reserved.free_frames, 0x10U) << "frames leaked";
    }
    AllocatedFrames<> take(std::uint64_t first, std::uint64_t n) {
        auto r = alloc_->allocate_frames_at(frame(first).start_address(), n);
        EXPECT_TRUE(r) << (r ? "" : r.error().message);
        return std::move(r.value());
    }
    std::uint64_t free_now() { return alloc_->stats().general.free_frames; }

    std::unique_ptr<FrameAllocator> alloc_;
};

static_assert(!std::is_copy_constructible_v<AllocatedFrames<>>);
static_assert(!std::is_copy_assignable_v<AllocatedFrames<>>);
static_assert(std::is_nothrow_move_constructible_v<AllocatedFrames<>>);

TEST_F(FramesTest, DestroyingAllocatedFramesReturnsThem) {
    {
        auto f = take(0x100, 16);
        EXPECT_EQ(free_now(), 0x100U - 16);
    }
    EXPECT_EQ(free_now(), 0x100U);
}

TEST_F(FramesTest, MovingAHandleTransfersOwnershipWithoutReturningFrames) {
    auto a = take(0x100, 4);
    AllocatedFrames<> b = std::move(a);
    EXPECT_TRUE(
        a.is_empty());  // NOLINT(bugprone-use-after-move): the moved-from state is the point
    EXPECT_EQ(b.size_in_frames(), 4U);
    EXPECT_EQ(free_now(), 0x100U - 4);
    b = take(0x110, 2);  // assigning over a handle returns what it held
    EXPECT_EQ(free_now(), 0x100U - 2);
}

TEST_F(FramesTest, FullLifecycleReturnsFramesExactlyOnce) {
    auto allocated = take(0x120, 3);
    MappedFrames<> mapped = std::move(allocated).into_mapped();
    UnmappedFrames<> unmapped = std::move(mapped).into_unmapped();
    AllocatedFrames<> again = std::move(unmapped).into_allocated();
    FreeFrames free_frames = std::move(again).into_free();
    EXPECT_EQ(free_frames.size_in_frames(), 3U);
    EXPECT_EQ(free_now(), 0x100U - 3);
    free_frames = FreeFrames();  // destroying FreeFrames returns them
    EXPECT_EQ(free_now(), 0x100U);
}

TEST_F(FramesTest, FreeFramesBecomeAllocatedAgain) {
    FreeFrames f = take(0x130, 1).into_free();
    AllocatedFrames<> a = std::move(f).into_allocated();
    EXPECT_EQ(a.start().number(), 0x130U);
    EXPECT_EQ(free_now(), 0x100U - 1);
}

TEST_F(FramesTest, DestroyingUnmappedFramesReturnsThem) {
    { auto u = take(0x140, 2).into_mapped().into_unmapped(); }
    EXPECT_EQ(free_now(), 0x100U);
}

const char* g_last_panic = nullptr;

TEST_F(FramesTest, DestroyingNonEmptyMappedFramesPanicsAndKeepsThemAllocated) {
    g_last_panic = nullptr;
    const PanicHandler old = set_panic_handler([](const char* m) { g_last_panic = m; });
    { auto m = take(0x150, 2).into_mapped(); }
    set_panic_handler(old);
    ASSERT_NE(g_last_panic, nullptr);
    EXPECT_EQ(free_now(), 0x100U - 2) << "mapped frames must never be reused";
    // The page-table code gives them back through the function init() returned.
    alloc_.reset(new FrameAllocator());
    auto into_unmapped =
        alloc_->init(std::vector{frames(0x100, 0x1ff)},
                     std::vector{frames(0x400, 0x40f, MemoryRegionType::kReserved)});
    ASSERT_TRUE(into_unmapped);
    auto m = take(0x150, 2).into_mapped();
    const FrameRange<> in_tables = std::move(m).into_page_table();
    auto back = into_unmapped.value()(in_tables);
    ASSERT_TRUE(back);
    EXPECT_EQ(back->range(), in_tables);
}

TEST_F(FramesTest, DestroyingEmptyMappedFramesIsFine) {
    g_last_panic = nullptr;
    const PanicHandler old = set_panic_handler([](const char* m) { g_last_panic = m; });
    { MappedFrames<> empty; }
    set_panic_handler(old);
    EXPECT_EQ(g_last_panic, nullptr);
}

TEST_F(FramesTest, IntoUnmappedRefusesFramesThatAreFree) {
    auto fn = IntoUnmappedFrames(alloc_.get());
    auto r = fn(FrameRange<>(frame(0x180), frame(0x181)));
    ASSERT_FALSE(r);
    EXPECT_EQ(r.kind(), ErrorKind::kAddressInUse);
    auto outside = fn(FrameRange<>(frame(0x900), frame(0x900)));
    EXPECT_EQ(outside.kind(), ErrorKind::kOutsideAllocator);
}

TEST_F(FramesTest, MergeJoinsAdjacentHandlesInEitherOrder) {
    auto a = take(0x100, 4);
    auto b = take(0x104, 4);
    ASSERT_TRUE(b.merge(a));
    EXPECT_TRUE(a.is_empty());
    EXPECT_EQ(b.start().number(), 0x100U);
    EXPECT_EQ(b.size_in_frames(), 8U);
    auto c = take(0x108, 1);
    ASSERT_TRUE(b.merge(c));
    EXPECT_EQ(b.end().number(), 0x108U);
}

TEST_F(FramesTest, FailedMergeLeavesBothHandlesUnchanged) {
    auto a = take(0x100, 4);
    auto b = take(0x105, 4);  // gap at 0x104
    const Status st = a.merge(b);
    ASSERT_FALSE(st);
    EXPECT_EQ(st.kind(), ErrorKind::kNotAdjacent);
    EXPECT_EQ(a.size_in_frames(), 4U);
    EXPECT_EQ(b.start().number(), 0x105U);
    EXPECT_EQ(b.size_in_frames(), 4U);
}

TEST_F(FramesTest, MergeRefusesHandlesOfDifferentPoolsOrAllocators) {
    auto general = take(0x1ff, 1);
    auto reserved = take(0x400, 1);
    EXPECT_EQ(general.merge(reserved).kind(), ErrorKind::kNotAdjacent);
    auto other = make_allocator({frames(0x200, 0x2ff)});
    auto foreign = other->allocate_frames_at(frame(0x200).start_address(), 1);
    ASSERT_TRUE(foreign);
    const Status st = general.merge(foreign.value());
    EXPECT_EQ(st.kind(), ErrorKind::kForeignHandle);
    EXPECT_NE(std::string(st.error().message).find("different allocator"), std::string::npos);
    EXPECT_EQ(foreign->size_in_frames(), 1U);
}

TEST_F(FramesTest, MergeWithItselfIsAnInvalidArgumentAndChangesNothing) {
    auto a = take(0x100, 4);
    const Status st = a.merge(a);
    EXPECT_EQ(st.kind(), ErrorKind::kInvalidArgument);
    EXPECT_EQ(a.start().number(), 0x100U);
    EXPECT_EQ(a.size_in_frames(), 4U);
}

TEST_F(FramesTest, MergeWithEmptyHandlesSucceeds) {
    auto a = take(0x100, 2);
    AllocatedFrames<> empty;
    ASSERT_TRUE(a.merge(empty));
    EXPECT_EQ(a.size_in_frames(), 2U);
    ASSERT_TRUE(empty.merge(a));
    EXPECT_EQ(empty.size_in_frames(), 2U);
    EXPECT_TRUE(a.is_empty());
}

TEST_F(FramesTest, SplitAtTheMiddleGivesTwoAdjacentHandles) {
    auto a = take(0x100, 10);
    auto parts = a.split_at(frame(0x103));
    ASSERT_TRUE(parts);
    EXPECT_TRUE(a.is_empty());
    EXPECT_EQ(parts->first.range(), FrameRange<>(frame(0x100), frame(0x102)));
    EXPECT_EQ(parts->second.range(), FrameRange<>(frame(0x103), frame(0x109)));
    parts->first = AllocatedFrames<>();
    EXPECT_EQ(free_now(), 0x100U - 7);
}

TEST_F(FramesTest, SplitAtFirstOrOnePastLastLeavesOneSideEmpty) {
    auto a = take(0x100, 4);
    auto at_start = a.split_at(frame(0x100));
    ASSERT_TRUE(at_start);
    EXPECT_TRUE(at_start->first.is_empty());
    EXPECT_EQ(at_start->second.size_in_frames(), 4U);
    auto at_end = at_start->second.split_at(frame(0x104));
    ASSERT_TRUE(at_end);
    EXPECT_EQ(at_end->first.size_in_frames(), 4U);
    EXPECT_TRUE(at_end->second.is_empty());
}

TEST_F(FramesTest, SplitOutsideTheRangeFailsAndKeepsTheHandle) {
    auto a = take(0x100, 4);
    EXPECT_EQ(a.split_at(frame(0x105)).kind(), ErrorKind::kOutOfRange);
    EXPECT_EQ(a.split_at(frame(0xff)).kind(), ErrorKind::kOutOfRange);
    EXPECT_EQ(a.size_in_frames(), 4U);
    AllocatedFrames<> empty;
    EXPECT_EQ(empty.split_at(frame(0)).kind(), ErrorKind::kOutOfRange);
}

TEST_F(FramesTest, SplitRangeGivesBeforeRangeAfter) {
    auto a = take(0x100, 10);
    auto parts = a.split_range(FrameRange<>(frame(0x102), frame(0x104)));
    ASSERT_TRUE(parts);
    EXPECT_EQ(parts->before.range(), FrameRange<>(frame(0x100), frame(0x101)));
    EXPECT_EQ(parts->range.range(), FrameRange<>(frame(0x102), frame(0x104)));
    EXPECT_EQ(parts->after.range(), FrameRange<>(frame(0x105), frame(0x109)));
    auto b = take(0x120, 3);
    auto whole = b.split_range(b.range());
    ASSERT_TRUE(whole);
    EXPECT_TRUE(whole->before.is_empty());
    EXPECT_TRUE(whole->after.is_empty());
    EXPECT_EQ(b.split_range(FrameRange<>(frame(0x100), frame(0x100))).kind(),
              ErrorKind::kOutOfRange);
}

TEST_F(FramesTest, SplitPiecesReturnIndependentlyAndCoalesce) {
    auto a = take(0x100, 8);
    auto parts = a.split_range(FrameRange<>(frame(0x103), frame(0x103)));
    ASSERT_TRUE(parts);
    parts->range = AllocatedFrames<>();
    parts->before = AllocatedFrames<>();
    parts->after = AllocatedFrames<>();
    EXPECT_EQ(alloc_->stats().general.free_chunks, 1U) << "returned pieces must coalesce";
}

// Reserved-pool handles hold a bookkeeping node each; general ones none.
TEST_F(FramesTest, SplitOfAReservedHandleFailsCleanlyWhenNodesAreExhausted) {
    auto small = make_allocator<BasicFrameAllocator<SpinLock, 4>>(
        {}, {frames(0, 99, MemoryRegionType::kReserved)});
    auto h = small->allocate_frames_at(addr(0), 10);  // 1 region + 1 chunk + 1 handle = 3 of 4
    ASSERT_TRUE(h);
    EXPECT_EQ(h->pool(), Pool::kReserved);
    auto first = h->split_at(frame(5));  // needs a 4th node: fine
    ASSERT_TRUE(first);
    auto again = first->first.split_at(frame(2));  // a 5th: refused
    ASSERT_FALSE(again);
    EXPECT_EQ(again.kind(), ErrorKind::kCapacityExhausted);
    EXPECT_EQ(first->first.size_in_frames(), 5U);
    first->first = AllocatedFrames<>();
    first->second = AllocatedFrames<>();
    EXPECT_EQ(small->stats().reserved.free_frames, 100U);
    EXPECT_CHECK_OK(*small);
}

TEST_F(FramesTest, SplitOfAGeneralHandleNeverNeedsBookkeeping) {
    auto small = make_allocator<BasicFrameAllocator<SpinLock, 4>>({frames(0, 99)});
    auto h = small->allocate_frames_at(addr(0), 100);
    ASSERT_TRUE(h);
    std::vector<AllocatedFrames<>> pieces;
    for (std::uint64_t f = 1; f < 100; ++f) {  // 100 single-frame handles from 4 nodes
        auto parts = h->split_at(frame(f));
        ASSERT_TRUE(parts) << parts.error().message;
        pieces.push_back(std::move(parts->first));
        *h = std::move(parts->second);
    }
    EXPECT_EQ(small->stats().nodes_reserved, 0U);
    pieces.clear();
    *h = AllocatedFrames<>();
    EXPECT_EQ(small->stats().general.free_frames, 100U);
    EXPECT_EQ(small->stats().general.free_chunks, 1U);
    EXPECT_CHECK_OK(*small);
}

TEST_F(FramesTest, IterationYieldsEveryAllocatedFrame) {
    auto a = take(0x100, 3);
    std::vector<std::uint64_t> seen;
    for (AllocatedFrame<> f : a.iter()) {
        seen.push_back(f.number());
    }
    EXPECT_EQ(seen, (std::vector<std::uint64_t>{0x100, 0x101, 0x102}));
    EXPECT_EQ(a.get(2)->start_address().value(), 0x102000U);
    EXPECT_FALSE(a.get(3).has_value());
}

TEST_F(FramesTest, HandlesCompareByStartFrameOnly) {
    auto a = take(0x100, 1);
    auto b = take(0x101, 5);
    EXPECT_LT(a, b);
    EXPECT_FALSE(a == b);
    AllocatedFrames<> e1;
    AllocatedFrames<> e2;
    EXPECT_TRUE(e1 == e2);
}

TEST_F(FramesTest, ConvertingToHugeFramesIsExactOrGivesTheHandleBack) {
    auto other = make_allocator({frames(0, 2047)});
    auto aligned = other->allocate_frames_at(frame(512).start_address(), 512);
    ASSERT_TRUE(aligned);
    auto huge = aligned->into_page_size<Page2M>();
    ASSERT_TRUE(huge);
    EXPECT_EQ(huge->start().number(), 1U);
    EXPECT_TRUE(aligned->is_empty());
    auto odd = other->allocate_frames_at(frame(1030).start_address(), 512);
    ASSERT_TRUE(odd);
    auto refused = odd->into_page_size<Page2M>();
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.kind(), ErrorKind::kMisaligned);
    EXPECT_EQ(odd->size_in_frames(), 512U);
    huge = Result<AllocatedFrames<Page2M>>(AllocatedFrames<Page2M>());
    odd = Result<AllocatedFrames<>>(AllocatedFrames<>());
    EXPECT_EQ(other->stats().general.free_frames, 2048U);
}

}  // namespace
}  // namespace framealloc::test
