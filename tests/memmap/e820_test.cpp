// Tests for parse_e820(): which entries become free or reserved, how partial
// frames are rounded, the 24-byte ACPI 3.0 layout, and every error path
// (bad entry size, truncated buffer, wrapping range, a refusing sink).
#include "framealloc/memmap/e820.hpp"

#include <gtest/gtest.h>

#include <ostream>

#include "framealloc/memmap/region_list.hpp"
#include "memmap_test_util.hpp"

namespace framealloc::memmap_test {
namespace {

using memmap::parse_e820;

Bytes& e820(Bytes& b, std::uint64_t base, std::uint64_t length, std::uint32_t type) {
    return b.le64(base).le64(length).le32(type);
}

TEST(E820, UsableIsFreeAndEveryOtherTypeIsReservedIncludingUnknownNumbers) {
    Bytes b;
    e820(b, 0x0, 0x9fc00, 1);                 // usable, ends mid-frame
    e820(b, 0x9fc00, 0x400, 2);               // reserved, inside one frame
    e820(b, 0x100000, 0x7ff00000, 1);         // usable, aligned
    e820(b, 0xd9593000, 0xc0000, 20);         // vendor "type 20"
    e820(b, 0xfee00000, 0x1000, 0x12345678);  // nobody's type
    Captured got;
    ASSERT_TRUE(parse_e820(b.data().data(), b.size(), 20, got).ok());
    EXPECT_EQ(frames_of(got.free), (std::vector<Frames>{{0, 0x9e}, {0x100, 0x7ffff}}));
    EXPECT_EQ(frames_of(got.reserved),
              (std::vector<Frames>{{0x9f, 0x9f}, {0xd9593, 0xd9652}, {0xfee00, 0xfee00}}));
}

TEST(E820, UnalignedUsableShrinksInwardAndReservedGrowsOutward) {
    Bytes b;
    e820(b, 0x1800, 0x3000, 1);  // bytes 0x1800..0x47ff: only frames 2..3 are whole
    e820(b, 0x1800, 0x3000, 2);  // same bytes reserved: frames 1..4 are touched
    Captured got;
    ASSERT_TRUE(parse_e820(b.data().data(), b.size(), 20, got).ok());
    EXPECT_EQ(frames_of(got.free), (std::vector<Frames>{{2, 3}}));
    EXPECT_EQ(frames_of(got.reserved), (std::vector<Frames>{{1, 4}}));
}

TEST(E820, OverlappingAndUnsortedEntriesAreAllPassedOnForInitToResolve) {
    Bytes b;
    e820(b, 0x200000, 0x200000, 1);
    e820(b, 0x100000, 0x200000, 1);  // overlaps the first, comes after it
    e820(b, 0x250000, 0x10000, 2);   // reserved hole inside both
    Captured got;
    ASSERT_TRUE(parse_e820(b.data().data(), b.size(), 20, got).ok());
    EXPECT_EQ(frames_of(got.all),
              (std::vector<Frames>{{0x200, 0x3ff}, {0x100, 0x2ff}, {0x250, 0x25f}}));
}

TEST(E820, EmptyResultsAreSkippedNotPassedToTheSink) {
    Bytes b;
    e820(b, 0x5000, 0, 1);      // zero length
    e820(b, 0x5000, 0, 2);      // zero length reserved
    e820(b, 0x5100, 0x800, 1);  // usable but covers no whole frame
    Captured got;
    ASSERT_TRUE(parse_e820(b.data().data(), b.size(), 20, got).ok());
    EXPECT_TRUE(got.all.empty());
}

TEST(E820, ExtendedAttributesDisabledOrNonVolatileUsableMemoryStaysReserved) {
    Bytes b;
    e820(b, 0x100000, 0x100000, 1).le32(1);      // enabled: free
    e820(b, 0x200000, 0x100000, 1).le32(0);      // disabled: must not be handed out
    e820(b, 0x300000, 0x100000, 1).le32(1 | 2);  // non-volatile: not ordinary RAM
    e820(b, 0x400000, 0x1000, 2).le32(1);
    Captured got;
    ASSERT_TRUE(parse_e820(b.data().data(), b.size(), 24, got).ok());
    EXPECT_EQ(frames_of(got.free), (std::vector<Frames>{{0x100, 0x1ff}}));
    EXPECT_EQ(frames_of(got.reserved),
              (std::vector<Frames>{{0x200, 0x2ff}, {0x300, 0x3ff}, {0x400, 0x400}}));
}

TEST(E820, EntrySizeOtherThan20Or24IsInvalidArgument) {
    Bytes b;
    e820(b, 0, 0x1000, 1);
    Captured got;
    for (std::size_t size : {0U, 16U, 21U, 28U, 32U}) {
        Status s = parse_e820(b.data().data(), b.size(), size, got);
        ASSERT_FALSE(s.ok());
        EXPECT_EQ(s.kind(), ErrorKind::kInvalidArgument) << size;
    }
}

TEST(E820, BufferEndingInsideAnEntryIsBadRegionAndNothingIsRead) {
    Bytes b;
    e820(b, 0, 0x1000, 1);
    e820(b, 0x1000, 0x1000, 1);
    Captured got;
    Status s = parse_e820(b.data().data(), b.size() - 1, 20, got);
    ASSERT_FALSE(s.ok());
    EXPECT_EQ(s.kind(), ErrorKind::kBadRegion);
    EXPECT_TRUE(got.all.empty());
}

TEST(E820, NullBufferIsInvalidButAnEmptyMapIsFine) {
    Captured got;
    EXPECT_EQ(parse_e820(nullptr, 20, 20, got).kind(), ErrorKind::kInvalidArgument);
    EXPECT_TRUE(parse_e820(nullptr, 0, 20, got).ok());
}

TEST(E820, RangeWrappingPast2To64IsOverflow) {
    Bytes b;
    e820(b, 0xfffffffffffff000ULL, 0x2000, 2);
    Captured got;
    Status s = parse_e820(b.data().data(), b.size(), 20, got);
    ASSERT_FALSE(s.ok());
    EXPECT_EQ(s.kind(), ErrorKind::kOverflow);
}

TEST(E820, SinkErrorStopsTheParseAndIsReturnedUnchanged) {
    Bytes b;
    e820(b, 0x100000, 0x1000, 1);
    e820(b, 0x200000, 0x1000, 1);
    e820(b, 0x300000, 0x1000, 1);
    int calls = 0;
    Status s =
        parse_e820(b.data().data(), b.size(), 20, [&](const PhysicalMemoryRegion&) -> Status {
            if (++calls == 2) {
                return make_error(ErrorKind::kCapacityExhausted, "test sink full");
            }
            return {};
        });
    ASSERT_FALSE(s.ok());
    EXPECT_EQ(s.kind(), ErrorKind::kCapacityExhausted);
    EXPECT_STREQ(s.error().message, "test sink full");
    EXPECT_EQ(calls, 2);
}

TEST(E820, FeedsARegionListWhoseSpansInitAccepts) {
    Bytes b;
    e820(b, 0x0, 0x9fc00, 1);
    e820(b, 0x9fc00, 0x400, 2);
    e820(b, 0x100000, 0x100000, 1);
    memmap::RegionList<4> list;
    ASSERT_TRUE(parse_e820(b.data().data(), b.size(), 20, list).ok());
    Span<const PhysicalMemoryRegion> free = list.free_regions();
    Span<const PhysicalMemoryRegion> reserved = list.reserved_regions();
    ASSERT_EQ(free.size(), 2U);
    ASSERT_EQ(reserved.size(), 1U);
    EXPECT_EQ(free[1].frames.start().number(), 0x100U);
    EXPECT_EQ(reserved[0].type, MemoryRegionType::kReserved);
}

}  // namespace
}  // namespace framealloc::memmap_test
