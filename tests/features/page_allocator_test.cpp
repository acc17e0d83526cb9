// The virtual-page allocator: the frame allocator's capabilities, mirrored
// over canonical virtual addresses by the same engine -- init from ranges,
// allocation anywhere, at an address, by bytes, aligned, windowed, huge,
// statistics, heap growth, and several allocators side by side.
#include <gtest/gtest.h>

#include <thread>

#include "page_test_util.hpp"

namespace framealloc::test {
namespace {

constexpr std::uint64_t kGeneralPages = (kGiB + 64 * kMiB) / kPage;  // 278528
constexpr std::uint64_t kReservedPages = 2 * kMiB / kPage;           // 512

TEST(PageAllocator, InitCountsEveryRange) {
    auto alloc = kernel_space();
    const PageStats st = alloc->stats();
    EXPECT_EQ(st.general.total_pages, kGeneralPages);
    EXPECT_EQ(st.general.free_pages, kGeneralPages);
    EXPECT_EQ(st.general.free_chunks, 2U);
    EXPECT_EQ(st.general.largest_free_chunk, kGiB / kPage);
    EXPECT_EQ(st.reserved.total_pages, kReservedPages);
    EXPECT_FALSE(st.heap_mode);
    EXPECT_TRUE(alloc->check().ok());
}

TEST(PageAllocator, InitRefusesNonCanonicalRangesAndCanBeRetried) {
    PageAllocator alloc;
    // Spans the hole between 0x00007fffffffffff and 0xffff800000000000.
    const PageRange<> across = pages_by_number(0x7ffffffffULL, 0xffff800000000ULL);
    EXPECT_EQ(alloc.init(Span<const PageRange<>>(&across, 1), {}).kind(), ErrorKind::kBadRegion);
    // A page inside the hole (0x0000800000000000 is not canonical).
    const PageRange<> in_hole = pages_by_number(0x800000000ULL, 0x800000010ULL);
    EXPECT_EQ(alloc.init({}, Span<const PageRange<>>(&in_hole, 1)).kind(), ErrorKind::kBadRegion);
    EXPECT_FALSE(alloc.is_initialized());
    const PageRange<> ok = vrange(kHigherHalf, kMiB);
    ASSERT_TRUE(alloc.init(Span<const PageRange<>>(&ok, 1), {}).ok());
    EXPECT_EQ(alloc.init(Span<const PageRange<>>(&ok, 1), {}).kind(),
              ErrorKind::kAlreadyInitialized);
    EXPECT_EQ(alloc.stats().general.total_pages, 256U);
}

TEST(PageAllocator, OverlappingRangesMergeAndReservedWins) {
    auto alloc =
        make_page_allocator({vrange(kHigherHalf, kMiB), vrange(kHigherHalf + kMiB / 2, kMiB),
                             vrange(kHigherHalf, kPage)},
                            {vrange(kHigherHalf + kMiB, 16 * kPage)});
    const PageStats st = alloc->stats();
    // 1.5 MiB of free space, 16 pages of it reserved: 384 - 16 general pages.
    EXPECT_EQ(st.general.total_pages, 384U - 16U);
    EXPECT_EQ(st.reserved.total_pages, 16U);
    EXPECT_EQ(st.general.free_chunks, 2U);
    EXPECT_TRUE(alloc->check().ok());
}

TEST(PageAllocator, PagesReturnWhenTheHandleDies) {
    auto alloc = kernel_space();
    {
        auto pages = alloc->allocate_pages(10);
        ASSERT_TRUE(pages);
        EXPECT_EQ(pages->size_in_pages(), 10U);
        EXPECT_EQ(pages->pool(), Pool::kGeneral);
        EXPECT_EQ(pages->owner(), alloc.get());
        EXPECT_EQ(alloc->stats().general.allocated_pages, 10U);
    }
    EXPECT_EQ(alloc->stats().general.allocated_pages, 0U);
    EXPECT_EQ(alloc->stats().general.free_chunks, 2U);
    EXPECT_EQ(alloc->allocate_pages(0).kind(), ErrorKind::kZeroFrames);
    EXPECT_EQ(alloc->allocate_pages(kGeneralPages + 1).kind(), ErrorKind::kOutOfMemory);
}

TEST(PageAllocator, AtAddressFromEitherPoolButNeverOutsideTheRanges) {
    auto alloc = kernel_space();
    auto heap = alloc->allocate_pages_at(vaddr(kHigherHalf + 5 * kPage), 3);
    ASSERT_TRUE(heap);
    EXPECT_EQ(heap->start_address().value(), kHigherHalf + 5 * kPage);
    EXPECT_EQ(alloc->allocate_pages_at(vaddr(kHigherHalf + 7 * kPage), 1).kind(),
              ErrorKind::kAddressInUse);
    auto fixmap = alloc->allocate_pages_at(vaddr(kKernelBase + kPage), 2);
    ASSERT_TRUE(fixmap);
    EXPECT_EQ(fixmap->pool(), Pool::kReserved);
    // Unknown virtual space is not the allocator's: no region on the spot.
    const PageStats before = alloc->stats();
    EXPECT_EQ(alloc->allocate_pages_at(vaddr(0xffffc00000000000ULL), 1).kind(),
              ErrorKind::kOutsideAllocator);
    // Straddling the end of a range.
    EXPECT_EQ(alloc->allocate_pages_at(vaddr(kGiB + 64 * kMiB - kPage), 2).kind(),
              ErrorKind::kOutsideAllocator);
    const PageStats after = alloc->stats();
    EXPECT_EQ(after.reserved.total_pages, before.reserved.total_pages);
    EXPECT_EQ(after.general.total_pages, before.general.total_pages);
    // A pool restriction is honoured.
    PageRequest reserved_only = PageRequest::pages(1).at_address(vaddr(kHigherHalf + kMiB));
    reserved_only.pool = Pool::kReserved;
    EXPECT_FALSE(alloc->allocate(reserved_only));
}

TEST(PageAllocator, ReservedPagesAreNeverHandedOutAnywhere) {
    auto alloc = make_page_allocator({vrange(kHigherHalf, 8 * kPage)},
                                     {vrange(kHigherHalf + 8 * kPage, 8 * kPage)});
    auto all = alloc->allocate_pages(8);
    ASSERT_TRUE(all);
    EXPECT_EQ(alloc->allocate_pages(1).kind(), ErrorKind::kOutOfMemory);
    EXPECT_TRUE(alloc->allocate_pages_at(vaddr(kHigherHalf + 8 * kPage), 8));
}

TEST(PageAllocator, ByBytesCountsTheOffsetInTheFirstPage) {
    auto alloc = kernel_space();
    auto two = alloc->allocate_pages_by_bytes(kPage + 1);
    ASSERT_TRUE(two);
    EXPECT_EQ(two->size_in_pages(), 2U);
    // Two bytes straddling a page line need both pages.
    auto at = alloc->allocate_pages_by_bytes_at(vaddr(kHigherHalf + 64 * kPage - 1), 2);
    ASSERT_TRUE(at);
    EXPECT_EQ(at->start_address().value(), kHigherHalf + 63 * kPage);
    EXPECT_EQ(at->size_in_pages(), 2U);
    EXPECT_EQ(at->offset_of_address(vaddr(kHigherHalf + 64 * kPage)).value(), kPage);
    EXPECT_EQ(alloc->allocate_pages_by_bytes(0).kind(), ErrorKind::kZeroFrames);
    EXPECT_EQ(alloc->allocate_pages_by_bytes(~0ULL).kind(), ErrorKind::kOverflow);
}

TEST(PageAllocator, AlignedWindowedAndBoundedRequests) {
    // The lower-half range starts 12 KiB past 1 GiB so nothing is aligned by luck.
    auto alloc =
        make_page_allocator({vrange(kHigherHalf, kGiB), vrange(kGiB + 3 * kPage, 60 * kMiB)});
    auto aligned = alloc->allocate(PageRequest::pages(3).aligned(512));
    ASSERT_TRUE(aligned);
    EXPECT_EQ(aligned->start_address().value() % (2 * kMiB), 0U);
    // Only the lower half: the window decides, the fast path would pick either.
    const auto low = PageRequest::pages(16).aligned(16).not_crossing(16).within(
        vaddr(0), vaddr(0x00007fffffffffffULL));
    auto run = alloc->allocate(low);
    ASSERT_TRUE(run);
    EXPECT_EQ(run->start_address().value(), kGiB + 16 * kPage);
    // In the window of pages 40..63 past 1 GiB, 12 pages from 40 would cross the
    // 16-page line at 48; the boundary moves the run to 48..59.
    auto bounded = alloc->allocate(PageRequest::pages(12).not_crossing(16).within(
        vaddr(kGiB + 40 * kPage), vaddr(kGiB + 64 * kPage - 1)));
    ASSERT_TRUE(bounded);
    EXPECT_EQ(bounded->start_address().value(), kGiB + 48 * kPage);
    EXPECT_EQ(alloc->allocate(PageRequest::pages(1).aligned(6)).kind(),
              ErrorKind::kInvalidArgument);
    EXPECT_EQ(alloc->allocate(PageRequest::pages(4).not_crossing(2)).kind(),
              ErrorKind::kInvalidArgument);
    EXPECT_EQ(
        alloc->allocate(PageRequest::pages(1).within(vaddr(kGiB + 1), vaddr(kGiB + kPage))).kind(),
        ErrorKind::kInvalidArgument);
    EXPECT_EQ(alloc->allocate(PageRequest::pages(1).aligned(4).at_address(vaddr(kGiB + 5 * kPage)))
                  .kind(),
              ErrorKind::kMisaligned);
    EXPECT_TRUE(alloc->check().ok());
}

TEST(PageAllocator, WindowReachingTheTopOfTheAddressSpace) {
    auto alloc = make_page_allocator({vrange(kKernelBase, 2 * kGiB - kPage)});
    // max_address 2^64 - 1: the last page is whole, nothing overflows.
    auto top = alloc->allocate(
        PageRequest::pages(1).within(vaddr(0xfffffffffffff000ULL), vaddr(0xffffffffffffffffULL)));
    EXPECT_EQ(top.kind(), ErrorKind::kNotEnoughContiguous);  // that page was left out
    auto near_top = alloc->allocate(
        PageRequest::pages(1).within(vaddr(0xffffffffffffe000ULL), vaddr(0xffffffffffffffffULL)));
    ASSERT_TRUE(near_top);
    EXPECT_EQ(near_top->start_address().value(), 0xffffffffffffe000ULL);
}

TEST(PageAllocator, InRangeStaysInsideTheGivenRange) {
    auto alloc = kernel_space();
    const PageRange<> sub = vrange(kHigherHalf + 100 * kMiB, kMiB);
    std::vector<AllocatedPages<>> kept;
    for (int i = 0; i < 4; ++i) {
        auto p = alloc->allocate_pages_in_range(64, sub);
        ASSERT_TRUE(p);
        EXPECT_TRUE(sub.contains_range(p->range()));
        kept.push_back(std::move(p.value()));
    }
    EXPECT_EQ(alloc->allocate_pages_in_range(1, sub).kind(), ErrorKind::kNotEnoughContiguous);
    EXPECT_EQ(alloc->allocate_pages_in_range(1, PageRange<>::empty()).kind(),
              ErrorKind::kInvalidArgument);
}

TEST(PageAllocator, HugePagesAreTypedAlignedAndConvertExactly) {
    auto alloc = make_page_allocator({vrange(kHigherHalf + kPage, 4 * kGiB)});
    Result<AllocatedPages<Page2M>> two = alloc->allocate_huge<Page2M>(2);
    ASSERT_TRUE(two);
    EXPECT_EQ(two->start_address().value() % (2 * kMiB), 0U);
    EXPECT_EQ(two->size_in_pages(), 2U);
    EXPECT_EQ(alloc->stats().general.allocated_pages, 1024U);
    auto giga = alloc->allocate_huge<Page1G>();
    ASSERT_TRUE(giga);
    EXPECT_EQ(giga->start_address().value() % kGiB, 0U);
    // 4K back from huge always works; the reverse only when aligned.
    auto small = two->into_page_size<Page4K>();
    ASSERT_TRUE(small);
    EXPECT_EQ(small->size_in_pages(), 1024U);
    const std::uint64_t odd_start = kHigherHalf + 2 * kGiB + 3 * kPage;  // past the 1 GiB page
    auto odd = alloc->allocate_pages_at(vaddr(odd_start), 512);
    ASSERT_TRUE(odd);
    EXPECT_EQ(odd->into_page_size<Page2M>().kind(), ErrorKind::kMisaligned);
    EXPECT_EQ(odd->size_in_pages(), 512U);
    EXPECT_EQ(odd->start_address().value(), odd_start);
    odd = AllocatedPages<>();
    small = AllocatedPages<>();
    giga = AllocatedPages<Page1G>();
    EXPECT_EQ(alloc->stats().general.allocated_pages, 0U);
    EXPECT_EQ(alloc->stats().general.free_chunks, 1U);
    EXPECT_TRUE(alloc->check().ok());
}

TEST(PageAllocator, StatsExactAfterAKnownSequence) {
    // 100 pages and 256 pages, as in the frame statistics test.
    auto alloc = make_page_allocator({vrange(kHigherHalf, 100 * kPage), vrange(kGiB, kMiB)});
    auto mid = alloc->allocate_pages_at(vaddr(kGiB + 100 * kPage), 6);
    ASSERT_TRUE(mid);
    PageStats st = alloc->stats();
    EXPECT_EQ(st.general.free_pages, 350U);
    EXPECT_EQ(st.general.allocated_pages, 6U);
    EXPECT_EQ(st.general.free_chunks, 3U);
    EXPECT_EQ(st.general.largest_free_chunk, 150U);
    EXPECT_EQ(st.fragmentation_permille(), 572U);  // 1000 - 150000/350
    EXPECT_EQ(st.nodes_reserved, 1U);              // one live handle
    mid = AllocatedPages<>();
    st = alloc->stats();
    EXPECT_EQ(st.general.free_chunks, 2U);
    EXPECT_EQ(st.general.largest_free_chunk, 256U);
    EXPECT_EQ(st.nodes_reserved, 0U);
}

TEST(PageAllocator, EarlyCapacityIsAnErrorThenTheHeapLetsItGrow) {
    using Small = BasicPageAllocator<SpinLock, 16>;
    auto alloc = make_page_allocator<Small>({vrange(kHigherHalf, 64 * kMiB)});
    std::vector<AllocatedPages<>> held;
    Result<AllocatedPages<>> last = make_error(ErrorKind::kInvalidArgument, "");
    for (;;) {
        last = alloc->allocate_pages(1);
        if (!last) {
            break;
        }
        held.push_back(std::move(last.value()));
    }
    // One region node, one chunk node, one node promised per live handle.
    EXPECT_EQ(last.kind(), ErrorKind::kCapacityExhausted);
    EXPECT_EQ(held.size(), 16U - 2U);
    ASSERT_TRUE(alloc->move_to_heap(hosted_heap_hooks()).ok());
    EXPECT_EQ(alloc->move_to_heap(hosted_heap_hooks()).kind(), ErrorKind::kAlreadyInitialized);
    for (int i = 0; i < 5000; ++i) {
        auto p = alloc->allocate_pages(1 + static_cast<std::uint64_t>(i % 3));
        ASSERT_TRUE(p) << p.error().message;
        held.push_back(std::move(p.value()));
    }
    EXPECT_TRUE(alloc->stats().heap_mode);
    EXPECT_GE(alloc->stats().nodes_capacity, 5000U);
    // Free every other handle: thousands of chunks, still consistent.
    for (std::size_t i = 0; i < held.size(); i += 2) {
        held[i] = AllocatedPages<>();
    }
    EXPECT_TRUE(alloc->check().ok());
    held.clear();
    EXPECT_EQ(alloc->stats().general.allocated_pages, 0U);
    EXPECT_EQ(alloc->stats().general.free_chunks, 1U);
}

TEST(PageAllocator, AddedRangeServesLaterAllocations) {
    auto alloc = make_page_allocator({vrange(kHigherHalf, 4 * kPage)});
    auto all = alloc->allocate_pages(4);
    ASSERT_TRUE(all);
    EXPECT_EQ(alloc->allocate_pages(2).kind(), ErrorKind::kOutOfMemory);
    ASSERT_TRUE(alloc->add_range(vrange(kHigherHalf + kGiB, 8 * kPage)).ok());
    EXPECT_EQ(alloc->add_range(vrange(kHigherHalf, kPage)).kind(), ErrorKind::kBadRegion);
    EXPECT_EQ(alloc->add_range(pages_by_number(0x800000000ULL, 0x800000001ULL)).kind(),
              ErrorKind::kBadRegion);
    auto more = alloc->allocate_pages(2);
    ASSERT_TRUE(more);
    EXPECT_EQ(more->start_address().value(), kHigherHalf + kGiB);
}

TEST(PageAllocator, TwoPageAllocatorsAndAFrameAllocatorSideBySide) {
    // Two address spaces (say two processes) over the same virtual numbers.
    auto space_a = make_page_allocator({vrange(kGiB, kMiB)});
    auto space_b = make_page_allocator({vrange(kGiB, kMiB)});
    auto frames_alloc = make_allocator({free_region(kGiB, kMiB)});
    auto a = space_a->allocate_pages_at(vaddr(kGiB), 4);
    auto b = space_b->allocate_pages_at(vaddr(kGiB + 4 * kPage), 4);  // adjacent numbers
    auto f = frames_alloc->allocate_frames_at(phys(kGiB), 4);
    ASSERT_TRUE(a);
    ASSERT_TRUE(b);
    ASSERT_TRUE(f);
    EXPECT_EQ(a->owner(), space_a.get());
    EXPECT_EQ(b->owner(), space_b.get());
    EXPECT_EQ(a->merge(b.value()).kind(), ErrorKind::kForeignHandle);
    b = AllocatedPages<>();
    EXPECT_EQ(space_a->stats().general.allocated_pages, 4U);
    EXPECT_EQ(space_b->stats().general.allocated_pages, 0U);
    EXPECT_EQ(frames_alloc->stats().general.allocated_frames, 4U);
}

TEST(PageAllocator, UninitialisedAllocatorRefusesCleanly) {
    PageAllocator alloc;
    EXPECT_EQ(alloc.allocate_pages(1).kind(), ErrorKind::kNotInitialized);
    EXPECT_EQ(alloc.add_range(vrange(kGiB, kPage)).kind(), ErrorKind::kNotInitialized);
    EXPECT_EQ(alloc.move_to_heap(hosted_heap_hooks()).kind(), ErrorKind::kNotInitialized);
    EXPECT_EQ(alloc.move_to_heap(HeapHooks{}).kind(), ErrorKind::kInvalidArgument);
}

TEST(PageAllocator, TwoThreadsShareOneAllocator) {
    auto alloc = kernel_space();
    ASSERT_TRUE(alloc->move_to_heap(hosted_heap_hooks()).ok());
    const auto churn = [&alloc](std::uint64_t seed) {
        std::vector<AllocatedPages<>> held;
        for (int i = 0; i < 3000; ++i) {
            seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
            auto p = alloc->allocate_pages(1 + (seed >> 60));
            ASSERT_TRUE(p) << p.error().message;
            held.push_back(std::move(p.value()));
            if (held.size() > 64) {
                held.erase(held.begin() + static_cast<std::ptrdiff_t>((seed >> 20) % 64));
            }
        }
    };
    std::thread t0(churn, 1);
    std::thread t1(churn, 2);
    t0.join();
    t1.join();
    EXPECT_EQ(alloc->stats().general.allocated_pages, 0U);
    EXPECT_EQ(alloc->stats().general.free_chunks, 2U);
    EXPECT_TRUE(alloc->check().ok());
}

}  // namespace
}  // namespace framealloc::test
