// Bad input on every public entry point: each call gets the documented
// ErrorKind, and afterwards check() passes and the frame counts show that
// nothing was lost or duplicated.
#include <gtest/gtest.h>

#include <vector>

#include "framealloc/framealloc.hpp"
#include "framealloc/hosted.hpp"

namespace framealloc {
namespace {

constexpr std::uint64_t kTop = Frame<>::kMaxNumber;  // 2^40 - 1

FrameRange<> frames(std::uint64_t first, std::uint64_t count) {
    return FrameRange<>::from_count(Frame<>::from_number(first).value(), count).value();
}
PhysicalAddress addr_of(std::uint64_t frame, std::uint64_t offset = 0) {
    return PhysicalAddress::create(frame * 4096 + offset).value();
}
PhysicalMemoryRegion free_region(std::uint64_t first, std::uint64_t count) {
    return {frames(first, count), MemoryRegionType::kFree};
}
PhysicalMemoryRegion reserved_region(std::uint64_t first, std::uint64_t count) {
    return {frames(first, count), MemoryRegionType::kReserved};
}

template <typename R>
ErrorKind kind_of(const R& r) {
    EXPECT_FALSE(r.has_value()) << "expected an error";
    return r.has_value() ? ErrorKind::kInvariantViolation : r.kind();
}

// The standard layout: general [0x100, 0x200) and [0x300, 0x340),
// reserved [0x200, 0x210).
template <typename A>
void init_standard(A& a) {
    const PhysicalMemoryRegion fr[] = {free_region(0x100, 0x100), free_region(0x300, 0x40)};
    const PhysicalMemoryRegion rr[] = {reserved_region(0x200, 0x10)};
    ASSERT_TRUE(a.init(fr, rr).has_value());
}
constexpr std::uint64_t kGeneral = 0x140;
constexpr std::uint64_t kReserved = 0x10;

// Nothing lost, nothing duplicated: invariants hold and free counts are as given.
template <typename A>
void expect_intact(A& a, std::uint64_t general_free, std::uint64_t reserved_free) {
    ASSERT_TRUE(a.check().ok()) << a.check().error().message;
    const FrameStats st = a.stats();
    EXPECT_EQ(st.general.free_frames, general_free);
    EXPECT_EQ(st.reserved.free_frames, reserved_free);
    EXPECT_EQ(st.general.free_frames + st.general.allocated_frames, st.general.total_frames);
}

TEST(BadInput, EveryOperationBeforeInitIsNotInitialized) {
    FrameAllocator a;
    EXPECT_EQ(kind_of(a.allocate_frames(1)), ErrorKind::kNotInitialized);
    EXPECT_EQ(kind_of(a.allocate_frames_at(addr_of(0x100), 1)), ErrorKind::kNotInitialized);
    EXPECT_EQ(kind_of(a.allocate_frames_by_bytes(4096)), ErrorKind::kNotInitialized);
    EXPECT_EQ(kind_of(a.allocate_frames_by_bytes_at(addr_of(0x100), 1)),
              ErrorKind::kNotInitialized);
    EXPECT_EQ(kind_of(a.allocate_frames_deferred({}, 1)), ErrorKind::kNotInitialized);
    EXPECT_EQ(kind_of(a.allocate_frames_by_bytes_deferred(addr_of(1), 10)),
              ErrorKind::kNotInitialized);
    EXPECT_EQ(kind_of(a.allocate(AllocRequest::frames(4).aligned(4))), ErrorKind::kNotInitialized);
    EXPECT_EQ(kind_of(a.allocate_huge<Page2M>()), ErrorKind::kNotInitialized);
    EXPECT_EQ(kind_of(a.add_region(free_region(0x100, 1))), ErrorKind::kNotInitialized);
    EXPECT_EQ(kind_of(a.take_offline(frames(0x100, 1))), ErrorKind::kNotInitialized);
    EXPECT_EQ(kind_of(a.move_to_heap(hosted_heap_hooks())), ErrorKind::kNotInitialized);
    EXPECT_EQ(kind_of(a.inspect_then_allocate_free_frames(
                  [](FrameRange<>) { return FramesIteratorRequest::Next(); })),
              ErrorKind::kNotInitialized);
    a.drain_cpu_caches();
    EXPECT_FALSE(a.is_initialized());
    expect_intact(a, 0, 0);
    // Argument errors still come first.
    EXPECT_EQ(kind_of(a.allocate_frames(0)), ErrorKind::kZeroFrames);
    // And init still works afterwards.
    init_standard(a);
    expect_intact(a, kGeneral, kReserved);
}

TEST(BadInput, SecondInitIsRefusedAndChangesNothing) {
    FrameAllocator a;
    init_standard(a);
    auto held = a.allocate_frames(3);
    ASSERT_TRUE(held.has_value());
    const PhysicalMemoryRegion other[] = {free_region(0x1000, 0x100)};
    EXPECT_EQ(kind_of(a.init(other, {})), ErrorKind::kAlreadyInitialized);
    expect_intact(a, kGeneral - 3, kReserved);
    EXPECT_EQ(a.stats().general.total_frames, kGeneral);
}

TEST(BadInput, ZeroSizesAreZeroFrames) {
    FrameAllocator a;
    init_standard(a);
    EXPECT_EQ(kind_of(a.allocate_frames(0)), ErrorKind::kZeroFrames);
    EXPECT_EQ(kind_of(a.allocate_frames_at(addr_of(0x100), 0)), ErrorKind::kZeroFrames);
    EXPECT_EQ(kind_of(a.allocate_frames_by_bytes(0)), ErrorKind::kZeroFrames);
    EXPECT_EQ(kind_of(a.allocate_frames_by_bytes_at(addr_of(0x100), 0)), ErrorKind::kZeroFrames);
    EXPECT_EQ(kind_of(a.allocate_frames_deferred({}, 0)), ErrorKind::kZeroFrames);
    EXPECT_EQ(kind_of(a.allocate_frames_by_bytes_deferred({}, 0)), ErrorKind::kZeroFrames);
    EXPECT_EQ(kind_of(a.allocate(AllocRequest::frames(0))), ErrorKind::kZeroFrames);
    EXPECT_EQ(kind_of(a.allocate_huge<Page2M>(0)), ErrorKind::kZeroFrames);
    EXPECT_EQ(kind_of(a.add_region({FrameRange<>::empty(), MemoryRegionType::kFree})),
              ErrorKind::kZeroFrames);
    EXPECT_EQ(kind_of(a.take_offline(FrameRange<>::empty())), ErrorKind::kZeroFrames);
    auto inspected = a.inspect_then_allocate_free_frames(
        [](FrameRange<> c) { return FramesIteratorRequest::AllocateAt(c.start(), 0); });
    EXPECT_EQ(kind_of(inspected), ErrorKind::kZeroFrames);
    // Empty regions in init are ignored, not errors.
    FrameAllocator b;
    const PhysicalMemoryRegion fr[] = {{FrameRange<>::empty(), MemoryRegionType::kFree},
                                       free_region(5, 5)};
    ASSERT_TRUE(b.init(fr, {}).has_value());
    expect_intact(b, 5, 0);
    expect_intact(a, kGeneral, kReserved);
}

TEST(BadInput, SizesPastTwoToTheSixtyFourOverflow) {
    FrameAllocator a;
    init_standard(a);
    EXPECT_EQ(kind_of(a.allocate_frames_by_bytes(~0ULL)), ErrorKind::kOverflow);
    EXPECT_EQ(kind_of(a.allocate_frames_by_bytes(~0ULL - 4094)), ErrorKind::kOverflow);
    EXPECT_EQ(kind_of(a.allocate_frames_by_bytes_at(addr_of(0x100, 5), ~0ULL - 4096)),
              ErrorKind::kOverflow);
    EXPECT_EQ(kind_of(a.allocate_frames_by_bytes_deferred(addr_of(0x100, 1), ~0ULL)),
              ErrorKind::kOverflow);
    EXPECT_EQ(kind_of(a.allocate_huge<Page2M>(~0ULL / 512 + 1)), ErrorKind::kOverflow);
    EXPECT_EQ(kind_of(a.allocate_huge<Page1G>(~0ULL)), ErrorKind::kOverflow);
    EXPECT_EQ(kind_of(PhysicalMemoryRegion::from_bytes(~0ULL - 10, 12, MemoryRegionType::kFree)),
              ErrorKind::kOverflow);
    // Frame counts larger than the whole physical space are out of memory.
    EXPECT_EQ(kind_of(a.allocate_frames(kTop + 2)), ErrorKind::kOutOfMemory);
    EXPECT_EQ(kind_of(a.allocate_frames(~0ULL)), ErrorKind::kOutOfMemory);
    expect_intact(a, kGeneral, kReserved);
}

TEST(BadInput, RangesPastThePhysicalTopOverflow) {
    FrameAllocator a;
    const PhysicalMemoryRegion fr[] = {free_region(kTop - 15, 16)};  // the last 16 frames
    ASSERT_TRUE(a.init(fr, {}).has_value());
    EXPECT_FALSE(PhysicalAddress::create(PhysicalAddress::kMax + 1).has_value());
    EXPECT_FALSE(Frame<>::from_number(kTop + 1).has_value());
    EXPECT_EQ(kind_of(FrameRange<>::from_count(Frame<>::max(), 2)), ErrorKind::kOverflow);
    EXPECT_EQ(kind_of(a.allocate_frames_at(addr_of(kTop), 2)), ErrorKind::kOverflow);
    EXPECT_EQ(kind_of(a.allocate_frames_at(addr_of(kTop - 15), 17)), ErrorKind::kOverflow);
    EXPECT_EQ(kind_of(a.allocate_frames_by_bytes_at(addr_of(kTop, 1), 4096)), ErrorKind::kOverflow);
    // Exactly up to the top works, and every frame comes back.
    {
        auto all = a.allocate_frames_at(addr_of(kTop - 15), 16);
        ASSERT_TRUE(all.has_value());
        EXPECT_EQ(all->end().number(), kTop);
        expect_intact(a, 0, 0);
    }
    // Regions past the top are clipped to it.
    auto clipped = PhysicalMemoryRegion::from_bytes(PhysicalAddress::kMax - 4095, 1ULL << 20,
                                                    MemoryRegionType::kReserved);
    ASSERT_TRUE(clipped.has_value());
    EXPECT_EQ(clipped->frames.end().number(), kTop);
    expect_intact(a, 16, 0);
}

TEST(BadInput, MalformedConstraintsAreRejected) {
    FrameAllocator a;
    init_standard(a);
    // An address not aligned as the request demands.
    EXPECT_EQ(kind_of(a.allocate(AllocRequest::frames(4).aligned(4).at_address(addr_of(0x101)))),
              ErrorKind::kMisaligned);
    EXPECT_EQ(kind_of(a.allocate(AllocRequest::frames(1).aligned(512).at_address(addr_of(0x180)))),
              ErrorKind::kMisaligned);
    // A run at an address that crosses the boundary.
    EXPECT_EQ(
        kind_of(a.allocate(AllocRequest::frames(4).not_crossing(16).at_address(addr_of(0x10e)))),
        ErrorKind::kMisaligned);
    EXPECT_EQ(kind_of(a.allocate(AllocRequest::frames(1).aligned(3))), ErrorKind::kInvalidArgument);
    EXPECT_EQ(kind_of(a.allocate(AllocRequest::frames(1).aligned(0))), ErrorKind::kInvalidArgument);
    EXPECT_EQ(kind_of(a.allocate(AllocRequest::frames(8).not_crossing(4))),
              ErrorKind::kInvalidArgument);
    EXPECT_EQ(kind_of(a.allocate(AllocRequest::frames(2).not_crossing(6))),
              ErrorKind::kInvalidArgument);
    // Windows holding no whole frame.
    EXPECT_EQ(kind_of(a.allocate(AllocRequest::frames(1).within(addr_of(0x150), addr_of(0x140)))),
              ErrorKind::kInvalidArgument);
    EXPECT_EQ(kind_of(a.allocate(
                  AllocRequest::frames(1).within(addr_of(0x150, 1), addr_of(0x151, 4094)))),
              ErrorKind::kInvalidArgument);
    EXPECT_EQ(kind_of(a.allocate(AllocRequest::frames(1).below(4095))),
              ErrorKind::kInvalidArgument);
    // An address outside its own window.
    EXPECT_EQ(
        kind_of(a.allocate(AllocRequest::frames(2).below(0x180 * 4096).at_address(addr_of(0x17f)))),
        ErrorKind::kOutOfRange);
    // A window with no free memory in it.
    EXPECT_EQ(kind_of(a.allocate(AllocRequest::frames(1).below(0x100 * 4096))),
              ErrorKind::kNotEnoughContiguous);
    expect_intact(a, kGeneral, kReserved);
}

TEST(BadInput, OverlappingDuplicatedUnsortedRegionsCountEachFrameOnce) {
    FrameAllocator a;
    // Free: [0x100,0x200) three times over in pieces, unsorted, plus an
    // unaligned byte range; reserved [0x180,0x190) twice, overlapping free.
    const PhysicalMemoryRegion fr[] = {
        free_region(0x150, 0xb0),
        free_region(0x100, 0x100),
        free_region(0x100, 0x100),
        free_region(0x120, 0x10),
        PhysicalMemoryRegion::from_bytes(0x100 * 4096 + 7, 0x20 * 4096, MemoryRegionType::kFree)
            .value(),
        {FrameRange<>::empty(), MemoryRegionType::kFree},
        {frames(0x5000, 4), MemoryRegionType::kUnknown}};
    const PhysicalMemoryRegion rr[] = {reserved_region(0x188, 0x8), reserved_region(0x180, 0x10),
                                       reserved_region(0x180, 0x10)};
    ASSERT_TRUE(a.init(fr, rr).has_value());
    const FrameStats st = a.stats();
    EXPECT_EQ(st.general.total_frames, 0x100U - 0x10U);
    EXPECT_EQ(st.reserved.total_frames, 0x10U);
    EXPECT_EQ(st.general.free_chunks, 2U);
    expect_intact(a, 0xf0, 0x10);
    // Reserved wins: anywhere allocation never returns a reserved frame.
    std::vector<AllocatedFrames<>> all;
    for (;;) {
        auto f = a.allocate_frames(1);
        if (!f) {
            EXPECT_EQ(f.kind(), ErrorKind::kOutOfMemory);
            break;
        }
        EXPECT_FALSE(f->start().number() >= 0x180 && f->start().number() < 0x190);
        all.push_back(std::move(f.value()));
    }
    EXPECT_EQ(all.size(), 0xf0U);
    all.clear();
    expect_intact(a, 0xf0, 0x10);
}

TEST(BadInput, MistypedRegionsAreBadRegionAndInitMayBeRetried) {
    FrameAllocator a;
    const PhysicalMemoryRegion fr[] = {free_region(0x100, 0x10), reserved_region(0x200, 1)};
    EXPECT_EQ(kind_of(a.init(fr, {})), ErrorKind::kBadRegion);
    const PhysicalMemoryRegion rr[] = {free_region(0x200, 1)};
    EXPECT_EQ(kind_of(a.init({}, rr)), ErrorKind::kBadRegion);
    EXPECT_FALSE(a.is_initialized());
    expect_intact(a, 0, 0);
    init_standard(a);
    expect_intact(a, kGeneral, kReserved);
}

TEST(BadInput, MoreRegionsThanEarlyCapacityIsAnErrorNotLostFrames) {
    BasicFrameAllocator<SpinLock, 8> a;
    std::vector<PhysicalMemoryRegion> many;
    for (std::uint64_t i = 0; i < 20; ++i) {
        many.push_back(free_region(0x100 + i * 0x10, 4));  // disjoint: 20 regions
    }
    EXPECT_EQ(kind_of(a.init(many, {})), ErrorKind::kCapacityExhausted);
    EXPECT_FALSE(a.is_initialized());
    EXPECT_EQ(kind_of(a.allocate_frames(1)), ErrorKind::kNotInitialized);
    // Two regions fit (a region and a chunk each).
    many.resize(2);
    ASSERT_TRUE(a.init(many, {}).has_value());
    expect_intact(a, 8, 0);
    // Fill the node pool with handles that split chunks, until refused.
    std::vector<AllocatedFrames<>> held;
    for (std::uint64_t f : {0x101, 0x111, 0x103, 0x113}) {
        auto r = a.allocate_frames_at(addr_of(f), 1);
        if (!r) {
            EXPECT_EQ(r.kind(), ErrorKind::kCapacityExhausted);
            continue;
        }
        held.push_back(std::move(r.value()));
    }
    const std::uint64_t taken = held.size();
    expect_intact(a, 8 - taken, 0);
    // Splitting a handle needs a node too: refused without change.
    auto big = a.allocate_frames(1);
    if (big) {
        auto split = big->split_at(big->start());  // at the start: no node needed
        ASSERT_TRUE(split.has_value());
    }
    held.clear();
    big = make_error(ErrorKind::kZeroFrames, "");
    expect_intact(a, 8, 0);
    EXPECT_EQ(a.stats().general.free_chunks, 2U);
}

TEST(BadInput, RequestsLargerThanMemoryFail) {
    FrameAllocator a;
    init_standard(a);
    EXPECT_EQ(kind_of(a.allocate_frames(kGeneral + 1)), ErrorKind::kOutOfMemory);
    EXPECT_EQ(kind_of(a.allocate_frames(0x101)), ErrorKind::kNotEnoughContiguous);
    EXPECT_EQ(kind_of(a.allocate_frames_by_bytes((kGeneral + 1) * 4096)), ErrorKind::kOutOfMemory);
    EXPECT_EQ(kind_of(a.allocate_huge<Page2M>()), ErrorKind::kOutOfMemory);
    EXPECT_EQ(kind_of(a.allocate_huge<Page1G>()), ErrorKind::kOutOfMemory);
    EXPECT_EQ(kind_of(a.allocate(AllocRequest::frames(0x40).aligned(0x200))),
              ErrorKind::kNotEnoughContiguous);
    expect_intact(a, kGeneral, kReserved);
}

TEST(BadInput, AddressesInNoRegion) {
    FrameAllocator a;
    init_standard(a);
    // Entirely in no region: becomes a new reserved region on the spot.
    {
        auto dev = a.allocate_frames_at(addr_of(0x800), 4);
        ASSERT_TRUE(dev.has_value());
        EXPECT_EQ(dev->pool(), Pool::kReserved);
        EXPECT_EQ(a.stats().reserved.total_frames, kReserved + 4);
        expect_intact(a, kGeneral, kReserved);
    }
    expect_intact(a, kGeneral, kReserved + 4);
    // Straddling a general region and a hole: refused.
    EXPECT_EQ(kind_of(a.allocate_frames_at(addr_of(0x1fe), 4 + 0x10 + 0x100)),
              ErrorKind::kOutsideAllocator);
    EXPECT_EQ(kind_of(a.allocate_frames_at(addr_of(0x33e), 4)), ErrorKind::kOutsideAllocator);
    // Straddling the general and reserved pools: refused.
    EXPECT_EQ(kind_of(a.allocate_frames_at(addr_of(0x1ff), 2)), ErrorKind::kOutsideAllocator);
    // Restricted to a pool that does not have it.
    AllocRequest general_only = AllocRequest::frames(1).at_address(addr_of(0x900));
    general_only.pool = Pool::kGeneral;
    EXPECT_EQ(kind_of(a.allocate(general_only)), ErrorKind::kOutsideAllocator);
    // IntoUnmappedFrames of frames in no region, and of free frames.
    auto into = a.init({}, {});
    EXPECT_EQ(kind_of(into), ErrorKind::kAlreadyInitialized);
    expect_intact(a, kGeneral, kReserved + 4);
}

TEST(BadInput, IntoUnmappedFramesRefusesFramesNotAllocated) {
    FrameAllocator a;
    const PhysicalMemoryRegion fr[] = {free_region(0x100, 0x100)};
    auto into = a.init(fr, {});
    ASSERT_TRUE(into.has_value());
    EXPECT_EQ(kind_of(into.value()(frames(0x120, 4))), ErrorKind::kAddressInUse);  // free frames
    EXPECT_EQ(kind_of(into.value()(frames(0x1000, 4))), ErrorKind::kOutsideAllocator);  // no region
    EXPECT_EQ(kind_of(into.value()(frames(0x1fe, 4))),
              ErrorKind::kOutsideAllocator);  // half outside
    EXPECT_EQ(kind_of(IntoUnmappedFrames()(frames(0x120, 1))), ErrorKind::kNotInitialized);
    expect_intact(a, 0x100, 0);
    // The real use: frames given to page tables come back, once.
    auto f = a.allocate_frames(4);
    ASSERT_TRUE(f.has_value());
    const FrameRange<> r = std::move(f.value()).into_mapped().into_page_table();
    expect_intact(a, 0x100 - 4, 0);
    {
        auto back = into.value()(r);
        ASSERT_TRUE(back.has_value());
    }
    expect_intact(a, 0x100, 0);
}

TEST(BadInput, MergeOfNonAdjacentOrForeignHandlesChangesNothing) {
    FrameAllocator a;
    FrameAllocator b;
    init_standard(a);
    init_standard(b);
    auto x = a.allocate_frames_at(addr_of(0x110), 4);
    auto y = a.allocate_frames_at(addr_of(0x120), 4);  // not adjacent to x
    auto z = a.allocate_frames_at(addr_of(0x1fc), 4);  // general, adjacent to reserved r
    auto r = a.allocate_frames_at(addr_of(0x200), 4);  // reserved pool
    auto w = b.allocate_frames_at(addr_of(0x114), 4);  // adjacent to x, other allocator
    ASSERT_TRUE(x && y && z && r && w);
    EXPECT_EQ(x->merge(y.value()).kind(), ErrorKind::kNotAdjacent);
    EXPECT_EQ(z->merge(r.value()).kind(), ErrorKind::kNotAdjacent);
    EXPECT_EQ(x->merge(w.value()).kind(), ErrorKind::kForeignHandle);
    EXPECT_EQ(x->start().number(), 0x110U);
    EXPECT_EQ(x->size_in_frames(), 4U);
    EXPECT_EQ(y->start().number(), 0x120U);
    EXPECT_EQ(r->pool(), Pool::kReserved);
    EXPECT_EQ(w->start().number(), 0x114U);
    expect_intact(a, kGeneral - 12, kReserved - 4);
    expect_intact(b, kGeneral - 4, kReserved);
}

TEST(BadInput, SplitOutsideTheRangeChangesNothing) {
    FrameAllocator a;
    init_standard(a);
    auto x = a.allocate_frames_at(addr_of(0x110), 4);
    ASSERT_TRUE(x.has_value());
    EXPECT_EQ(kind_of(x->split_at(Frame<>::from_number(0x10f).value())), ErrorKind::kOutOfRange);
    EXPECT_EQ(kind_of(x->split_at(Frame<>::from_number(0x115).value())), ErrorKind::kOutOfRange);
    EXPECT_EQ(kind_of(x->split_range(frames(0x112, 3))), ErrorKind::kOutOfRange);
    EXPECT_EQ(kind_of(x->split_range(FrameRange<>::empty())), ErrorKind::kOutOfRange);
    AllocatedFrames<> empty;
    EXPECT_EQ(kind_of(empty.split_at(Frame<>::from_number(0).value())), ErrorKind::kOutOfRange);
    EXPECT_EQ(x->start().number(), 0x110U);
    EXPECT_EQ(x->size_in_frames(), 4U);
    // Misaligned page-size conversion is refused without change too.
    EXPECT_EQ(kind_of(x->into_page_size<Page2M>()), ErrorKind::kMisaligned);
    EXPECT_EQ(x->size_in_frames(), 4U);
    expect_intact(a, kGeneral - 4, kReserved);
}

TEST(BadInput, RegionChangesThatConflictAreRefused) {
    FrameAllocator a;
    init_standard(a);
    EXPECT_EQ(kind_of(a.add_region(free_region(0x1f0, 0x20))),
              ErrorKind::kBadRegion);  // overlaps two
    EXPECT_EQ(kind_of(a.add_region(reserved_region(0x100, 1))), ErrorKind::kBadRegion);
    EXPECT_EQ(kind_of(a.add_region({frames(0x900, 1), MemoryRegionType::kUnknown})),
              ErrorKind::kBadRegion);
    auto x = a.allocate_frames_at(addr_of(0x150), 1);
    ASSERT_TRUE(x.has_value());
    EXPECT_EQ(kind_of(a.take_offline(frames(0x140, 0x20))), ErrorKind::kRegionBusy);
    EXPECT_EQ(kind_of(a.take_offline(frames(0x1f0, 0x20))), ErrorKind::kBadRegion);  // two regions
    EXPECT_EQ(kind_of(a.take_offline(frames(0x5000, 1))), ErrorKind::kBadRegion);    // no region
    expect_intact(a, kGeneral - 1, kReserved);
}

TEST(BadInput, MoveToHeapErrors) {
    FrameAllocator a;
    init_standard(a);
    EXPECT_EQ(kind_of(a.move_to_heap(HeapHooks{})), ErrorKind::kInvalidArgument);
    HeapHooks failing;
    failing.allocate = [](void*, std::size_t, std::size_t) -> void* { return nullptr; };
    failing.deallocate = [](void*, void*, std::size_t, std::size_t) {};
    EXPECT_EQ(kind_of(a.move_to_heap(failing)), ErrorKind::kHeapUnavailable);
    EXPECT_FALSE(a.heap_mode());
    expect_intact(a, kGeneral, kReserved);
    ASSERT_TRUE(a.move_to_heap(hosted_heap_hooks()).ok());
    EXPECT_EQ(kind_of(a.move_to_heap(hosted_heap_hooks())), ErrorKind::kAlreadyInitialized);
    expect_intact(a, kGeneral, kReserved);
}

TEST(BadInput, InspectAllocateAtOutsideTheChunkIsOutOfRange) {
    FrameAllocator a;
    init_standard(a);
    auto r = a.inspect_then_allocate_free_frames([](FrameRange<> c) {
        return FramesIteratorRequest::AllocateAt(c.start(), c.size_in_frames() + 1);
    });
    EXPECT_EQ(kind_of(r), ErrorKind::kOutOfRange);
    auto r2 = a.inspect_then_allocate_free_frames([](FrameRange<> c) {
        return FramesIteratorRequest::AllocateAt(
            Frame<>::from_number(c.start().number() - 1).value(), 1);
    });
    EXPECT_EQ(kind_of(r2), ErrorKind::kOutOfRange);
    expect_intact(a, kGeneral, kReserved);
}

// Regression: in heap mode, IntoUnmappedFrames, add_region and take_offline
// refused with kCapacityExhausted when no spare node was left, although the
// heap could grow the bookkeeping (allocations already grew it). Nodes are
// used up by splitting a reserved-pool handle (general handles hold none).
TEST(BadInput, HeapModeNeverRefusesForWantOfBookkeeping) {
    FrameAllocator a;
    const PhysicalMemoryRegion fr[] = {free_region(0x100, 100000)};
    const PhysicalMemoryRegion rr[] = {reserved_region(0x200000, 100000)};
    auto into = a.init(fr, rr);
    ASSERT_TRUE(into.has_value());
    ASSERT_TRUE(a.move_to_heap(hosted_heap_hooks()).ok());
    set_current_cpu(FRAMEALLOC_MAX_CPUS + 1);  // no per-CPU cache holding spare nodes
    auto pt = a.allocate_frames(1);
    ASSERT_TRUE(pt.has_value());
    const FrameRange<> in_tables = std::move(pt.value()).into_mapped().into_page_table();
    auto rest = a.allocate_frames_at(addr_of(0x200000), 50000);
    ASSERT_TRUE(rest.has_value());
    std::vector<AllocatedFrames<>> pieces;
    const auto spare = [&] {
        const FrameStats st = a.stats();
        return st.nodes_capacity - st.nodes_used - st.nodes_reserved;
    };
    const auto use_up = [&] {
        while (spare() != 0) {
            auto parts = rest->split_at(rest->start() + 1);
            ASSERT_TRUE(parts.has_value());
            pieces.push_back(std::move(parts->first));
            rest.value() = std::move(parts->second);
        }
    };
    use_up();
    {
        auto back = into.value()(in_tables);
        EXPECT_TRUE(back.has_value()) << back.error().message;
    }
    use_up();
    EXPECT_TRUE(a.add_region(free_region(0x900000, 16)).ok());
    use_up();
    EXPECT_TRUE(a.take_offline(frames(0x900004, 2)).ok());  // splits a region and a chunk
    pieces.clear();
    rest = make_error(ErrorKind::kZeroFrames, "");
    set_current_cpu(0);
    a.drain_cpu_caches();
    expect_intact(a, 100000 + 14, 100000);
}

const char* g_panic = nullptr;

TEST(BadInput, DestroyingMappedFramesPanicsAndNeverReusesThem) {
    const PanicHandler old = set_panic_handler([](const char* m) { g_panic = m; });
    FrameAllocator a;
    init_standard(a);
    {
        auto f = a.allocate_frames_at(addr_of(0x100), 2);
        ASSERT_TRUE(f.has_value());
        MappedFrames<> m = std::move(f.value()).into_mapped();
        (void)m;
    }
    set_panic_handler(old);
    ASSERT_NE(g_panic, nullptr);
    // The frames stay allocated (still mapped): leaked, never handed out twice.
    expect_intact(a, kGeneral - 2, kReserved);
    EXPECT_EQ(kind_of(a.allocate_frames_at(addr_of(0x100), 1)), ErrorKind::kAddressInUse);
}

}  // namespace
}  // namespace framealloc
