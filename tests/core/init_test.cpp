// init(): messy firmware input (unsorted, overlapping, duplicated, empty,
// unaligned) becomes clean non-overlapping pools; reserved wins over free; a
// second init and over-capacity input are errors that change nothing.
#include "test_support.hpp"

namespace framealloc::test {
namespace {

std::vector<FrameRange<>> free_chunks(FrameAllocator& a) {
    std::vector<FrameRange<>> out;
    auto r = a.inspect_then_allocate_free_frames([&](const FrameRange<>& c) {
        out.push_back(c);
        return FramesIteratorRequest::Next();
    });
    EXPECT_TRUE(r);
    return out;
}
FrameRange<> fr(std::uint64_t a, std::uint64_t b) {
    return FrameRange<>(frame(a), frame(b));
}

TEST(Init, QemuDefaultMapGivesTheHandCountedUsableFrames) {
    QemuMap map;
    auto a = make_allocator(map.free, map.reserved);
    const FrameStats st = a->stats();
    EXPECT_EQ(st.general.total_frames, QemuMap::kUsableFrames);
    EXPECT_EQ(st.general.free_frames, QemuMap::kUsableFrames);
    EXPECT_EQ(st.general.allocated_frames, 0U);
    // Reserved, grown outward: 1 + 16 + 32 + 64 frames.
    EXPECT_EQ(st.reserved.total_frames, 1U + 16 + 32 + 64);
    EXPECT_CHECK_OK(*a);
}

TEST(Init, UnsortedOverlappingAndDuplicatedRegionsAreMerged) {
    auto a = make_allocator({frames(50, 59), frames(0, 9), frames(5, 14), frames(0, 9),
                             frames(15, 19), frames(40, 49)});
    EXPECT_EQ(free_chunks(*a), (std::vector<FrameRange<>>{fr(0, 19), fr(40, 59)}));
    EXPECT_EQ(a->stats().general.total_frames, 40U);
    EXPECT_CHECK_OK(*a);
}

TEST(Init, ReservedWinsOverFreeWhereTheyOverlap) {
    auto a = make_allocator({frames(0, 99)}, {frames(10, 19, MemoryRegionType::kReserved),
                                              frames(95, 120, MemoryRegionType::kReserved)});
    EXPECT_EQ(free_chunks(*a), (std::vector<FrameRange<>>{fr(0, 9), fr(20, 94)}));
    EXPECT_EQ(a->stats().general.total_frames, 85U);
    EXPECT_EQ(a->stats().reserved.total_frames, 10U + 26);
    // A reserved frame is never handed out by a general allocation.
    std::vector<AllocatedFrames<>> all;
    while (auto f = a->allocate_frames(1)) {
        EXPECT_FALSE(f->start().number() >= 10 && f->start().number() <= 19);
        EXPECT_LT(f->start().number(), 95U);
        all.push_back(std::move(f.value()));
    }
    EXPECT_EQ(all.size(), 85U);
}

TEST(Init, EmptyUnknownAndUnalignedRegionsAreHandled) {
    std::vector<PhysicalMemoryRegion> free_regions{
        free_bytes(0x1800, 0x2000),  // shrinks to frame 2 only
        PhysicalMemoryRegion(FrameRange<>::empty(), MemoryRegionType::kFree),
        PhysicalMemoryRegion(fr(100, 200), MemoryRegionType::kUnknown)};
    auto a = make_allocator(free_regions, {reserved_bytes(0x10800, 0x10)});
    EXPECT_EQ(free_chunks(*a), (std::vector<FrameRange<>>{fr(2, 2)}));
    EXPECT_EQ(a->stats().reserved.total_frames, 1U);
}

TEST(Init, TypeContradictingItsListIsABadRegion) {
    FrameAllocator a;
    auto r = a.init(std::vector{frames(0, 9, MemoryRegionType::kReserved)}, {});
    ASSERT_FALSE(r);
    EXPECT_EQ(r.kind(), ErrorKind::kBadRegion);
    // Nothing was kept: a correct init still works.
    EXPECT_TRUE(a.init(std::vector{frames(0, 9)}, {}));
    EXPECT_EQ(a.stats().general.total_frames, 10U);
}

TEST(Init, BadRegionIsReportedEvenWhenCapacityWouldRunOutFirst) {
    // Found by the long differential run: the contradicting region comes last,
    // after more regions than the early capacity holds.
    std::vector<PhysicalMemoryRegion> reserved;
    for (std::uint64_t i = 0; i < 12; ++i) {
        reserved.push_back(frames(i * 10, i * 10 + 4, MemoryRegionType::kReserved));
    }
    BasicFrameAllocator<SpinLock, 8> a;
    auto r = a.init(std::vector{frames(500, 599), frames(700, 799, MemoryRegionType::kReserved)},
                    reserved);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.kind(), ErrorKind::kBadRegion);
}

TEST(Init, SecondInitIsAnErrorAndChangesNothing) {
    auto a = make_allocator({frames(0, 9)});
    auto r = a->init(std::vector{frames(100, 199)}, {});
    ASSERT_FALSE(r);
    EXPECT_EQ(r.kind(), ErrorKind::kAlreadyInitialized);
    EXPECT_EQ(a->stats().general.total_frames, 10U);
}

TEST(Init, MoreRegionsThanEarlyCapacityIsAnErrorNotALoss) {
    using Small = BasicFrameAllocator<SpinLock, 8>;
    std::vector<PhysicalMemoryRegion> many;
    for (std::uint64_t i = 0; i < 10; ++i) {
        many.push_back(frames(i * 10, i * 10 + 4));
    }
    Small a;
    auto r = a.init(many, {});
    ASSERT_FALSE(r);
    EXPECT_EQ(r.kind(), ErrorKind::kCapacityExhausted);
    EXPECT_FALSE(a.is_initialized());
    many.resize(4);  // 4 regions + 4 chunks = 8 nodes
    ASSERT_TRUE(a.init(many, {}));
    EXPECT_EQ(a.stats().general.total_frames, 20U);
    EXPECT_CHECK_OK(a);
}

TEST(Init, OperationsBeforeInitReportNotInitialized) {
    FrameAllocator a;
    EXPECT_EQ(a.allocate_frames(1).kind(), ErrorKind::kNotInitialized);
    EXPECT_EQ(a.allocate_frames_at(addr(0), 1).kind(), ErrorKind::kNotInitialized);
    EXPECT_EQ(a.move_to_heap(hosted_heap_hooks()).kind(), ErrorKind::kNotInitialized);
    EXPECT_EQ(a.add_region(frames(0, 1)).kind(), ErrorKind::kNotInitialized);
    EXPECT_TRUE(a.check());
}

}  // namespace
}  // namespace framealloc::test

namespace framealloc::test {
namespace {

// "Physical memory" for the carving tests: a host buffer standing in for RAM
// from physical address kRamBase, reached through a direct-map offset.
constexpr std::uint64_t kRamBase = 0x100000;
constexpr std::uint64_t kRamBytes = 64ULL << 20;

struct FakeRam {
    std::unique_ptr<std::byte[]> bytes{new std::byte[kRamBytes + Page4K::kBytes]};
    MetadataPlacement placement() const {
        // Page-aligned, like real memory, so frame offsets carry over.
        const auto host = (reinterpret_cast<std::uintptr_t>(bytes.get()) + Page4K::kBytes - 1) &
                          ~(std::uintptr_t{Page4K::kBytes} - 1);
        MetadataPlacement p;
        p.direct_map_offset = host - kRamBase;
        return p;
    }
};

TEST(InitCarvingMetadata, MetadataTakesTheLowestFreeFramesAndKeepsThem) {
    FakeRam ram;
    const std::vector free{free_bytes(kRamBase, kRamBytes)};
    const std::vector reserved{reserved_bytes(kRamBase, 0x3000)};  // the first three frames
    FrameAllocator a;
    ASSERT_TRUE(a.init_carving_metadata(free, reserved, ram.placement()));
    const std::uint64_t need = (FrameAllocator::metadata_bytes(free, reserved) + 4095) / 4096;
    const FrameStats st = a.stats();
    EXPECT_EQ(st.general.total_frames, kRamBytes / 4096 - 3);
    EXPECT_EQ(st.general.allocated_frames, need);  // the metadata's own frames
    // They follow the reserved frames directly and are not handed out again.
    EXPECT_EQ(a.allocate_frames_at(addr(kRamBase + 0x3000), 1).kind(), ErrorKind::kAddressInUse);
    EXPECT_EQ(a.allocate_frames_at(addr(kRamBase + 0x3000 + (need - 1) * 4096), 1).kind(),
              ErrorKind::kAddressInUse);
    auto after = a.allocate_frames_at(addr(kRamBase + 0x3000 + need * 4096), 1);
    EXPECT_TRUE(after);
    auto rest = a.allocate_frames(st.general.free_frames - 1);
    EXPECT_TRUE(rest) << "every other usable frame is still there";
    EXPECT_CHECK_OK(a);
}

TEST(InitCarvingMetadata, AWindowWithNoRoomIsRefusedAndLeavesTheAllocatorUntouched) {
    FakeRam ram;
    const std::vector free{free_bytes(kRamBase, kRamBytes)};
    MetadataPlacement tight = ram.placement();
    tight.lowest = addr(kRamBase);
    tight.highest = addr(kRamBase + 4095);  // one frame: far too small
    FrameAllocator a;
    auto r = a.init_carving_metadata(free, {}, tight);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.kind(), ErrorKind::kCapacityExhausted);
    EXPECT_FALSE(a.is_initialized());
    EXPECT_TRUE(a.init_carving_metadata(free, {}, ram.placement()));
}

TEST(InitMetadata, TooLittleMetadataIsRefusedAndInitCanBeRetried) {
    const std::vector free{free_bytes(0, 4ULL << 30)};
    FrameAllocator a;
    const std::size_t need = FrameAllocator::metadata_bytes(free, {});
    EXPECT_GT(need, std::size_t{FRAMEALLOC_BUILTIN_METADATA});
    auto r = a.init(free, {});  // the built-in memory is too small for 4 GiB
    ASSERT_FALSE(r);
    EXPECT_EQ(r.kind(), ErrorKind::kCapacityExhausted);
    EXPECT_FALSE(a.is_initialized());
    std::vector<std::byte> meta(need);
    ASSERT_TRUE(a.init(free, {}, meta));
    EXPECT_EQ(a.stats().general.free_frames, (4ULL << 30) / 4096);
    EXPECT_EQ(a.stats().metadata_bytes, need);
    // About 1.08 bits per frame, whatever the allocations do later.
    EXPECT_LT(static_cast<double>(need) * 8 / static_cast<double>((4ULL << 30) / 4096), 1.15);
    EXPECT_CHECK_OK(a);
}

}  // namespace
}  // namespace framealloc::test
