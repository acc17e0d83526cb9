// PhysicalMemoryRegion::from_bytes: free memory shrinks inward to whole
// frames, reserved memory grows outward; wrapping sizes are errors.
#include "test_support.hpp"

namespace framealloc::test {
namespace {

TEST(PhysicalMemoryRegion, FreeRegionShrinksToWholeFrames) {
    const auto r = free_bytes(0x1800, 0x3000);  // bytes 0x1800..0x47ff
    EXPECT_EQ(r.frames.start().number(), 2U);
    EXPECT_EQ(r.frames.end().number(), 3U);
    EXPECT_EQ(r.type, MemoryRegionType::kFree);
}

TEST(PhysicalMemoryRegion, ReservedRegionGrowsToWholeFrames) {
    const auto r = reserved_bytes(0x1800, 0x3000);
    EXPECT_EQ(r.frames.start().number(), 1U);
    EXPECT_EQ(r.frames.end().number(), 4U);
}

TEST(PhysicalMemoryRegion, FreeRegionSmallerThanAFrameIsEmpty) {
    EXPECT_TRUE(free_bytes(0x1800, 0x1000).frames.is_empty());
    EXPECT_TRUE(free_bytes(0, 0xfff).frames.is_empty());
    EXPECT_FALSE(reserved_bytes(0x1800, 0x10).frames.is_empty());
    EXPECT_TRUE(free_bytes(0x5000, 0).frames.is_empty());
}

TEST(PhysicalMemoryRegion, SizeThatWrapsPast2To64IsAnError) {
    auto r = PhysicalMemoryRegion::from_bytes(~0ULL - 10, 100, MemoryRegionType::kReserved);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.kind(), ErrorKind::kOverflow);
}

TEST(PhysicalMemoryRegion, BytesAboveThePhysicalTopAreClipped) {
    const auto r = reserved_bytes(PhysicalAddress::kMax - 0xfff, 0x10000);
    EXPECT_EQ(r.frames.end(), Frame<>::max());
    EXPECT_TRUE(free_bytes(1ULL << 60, 0x1000).frames.is_empty());
}

TEST(Result, CarriesAValueOrAnErrorWithKindAndMessage) {
    Result<int> good = 5;
    ASSERT_TRUE(good);
    EXPECT_EQ(good.value(), 5);
    Result<int> bad = make_error(ErrorKind::kOutOfMemory, "none left");
    ASSERT_FALSE(bad);
    EXPECT_EQ(bad.kind(), ErrorKind::kOutOfMemory);
    EXPECT_STREQ(bad.error().message, "none left");
    EXPECT_STREQ(to_string(ErrorKind::kAddressInUse), "address in use");
}

}  // namespace
}  // namespace framealloc::test
