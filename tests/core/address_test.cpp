// PhysicalAddress, VirtualAddress and Frame: creation is checked or
// canonicalised, arithmetic saturates or reports overflow instead of wrapping.
#include "test_support.hpp"

namespace framealloc::test {
namespace {

TEST(PhysicalAddress, CreateRejectsAddressesWiderThanThePhysicalWidth) {
    EXPECT_TRUE(PhysicalAddress::create(PhysicalAddress::kMax).has_value());
    EXPECT_FALSE(PhysicalAddress::create(PhysicalAddress::kMax + 1).has_value());
    EXPECT_FALSE(PhysicalAddress::create(~0ULL).has_value());
}

TEST(PhysicalAddress, NewCanonicalClearsBitsAboveThePhysicalWidth) {
    EXPECT_EQ(PhysicalAddress::new_canonical((1ULL << 60) | 0x1234).value(), 0x1234U);
}

TEST(PhysicalAddress, FrameOffsetIsTheLowTwelveBits) {
    EXPECT_EQ(addr(0x12345).frame_offset(), 0x345U);
    EXPECT_EQ(addr(0x12000).frame_offset(), 0U);
}

TEST(PhysicalAddress, CheckedAddFailsPastTheTop) {
    EXPECT_EQ(addr(0x1000).checked_add(0x1000)->value(), 0x2000U);
    EXPECT_FALSE(addr(PhysicalAddress::kMax).checked_add(1).has_value());
}

TEST(VirtualAddress, OnlyCanonicalAddressesAreCreated) {
    EXPECT_TRUE(VirtualAddress::create(0x00007fffffffffffULL).has_value());
    EXPECT_TRUE(VirtualAddress::create(0xffff800000000000ULL).has_value());
    EXPECT_FALSE(VirtualAddress::create(0x0000800000000000ULL).has_value());
    EXPECT_EQ(VirtualAddress::new_canonical(0x0000800000000000ULL).value(), 0xffff800000000000ULL);
}

TEST(Frame, ContainingAddressAndStartAddressRoundTrip) {
    const Frame<> f = Frame<>::containing_address(addr(0x5678));
    EXPECT_EQ(f.number(), 5U);
    EXPECT_EQ(f.start_address().value(), 0x5000U);
    const Frame<Page2M> h = Frame<Page2M>::containing_address(addr(0x500000));
    EXPECT_EQ(h.number(), 2U);
    EXPECT_EQ(h.start_address().value(), 0x400000U);
}

TEST(Frame, MinAndMaxSpanThePhysicalSpace) {
    EXPECT_EQ(Frame<>::min().number(), 0U);
    EXPECT_EQ(Frame<>::max().number(), PhysicalAddress::kMax >> 12);
    EXPECT_EQ(Frame<Page1G>::max().number(), PhysicalAddress::kMax >> 30);
    EXPECT_FALSE(Frame<>::from_number(Frame<>::kMaxNumber + 1).has_value());
}

TEST(Frame, ArithmeticSaturatesInsteadOfWrapping) {
    EXPECT_EQ((frame(10) + 5).number(), 15U);
    EXPECT_EQ((Frame<>::max() + 1), Frame<>::max());
    EXPECT_EQ((frame(3) - 10), Frame<>::min());
    EXPECT_FALSE(Frame<>::max().checked_add(1).has_value());
    EXPECT_FALSE(frame(0).checked_sub(1).has_value());
    EXPECT_EQ(frame(10) - frame(4), 6U);
    Frame<> f = frame(1);
    f += 2;
    EXPECT_EQ(f.number(), 3U);
}

TEST(PageSizes, KnowTheirSizeInBytesAndIn4KFrames) {
    EXPECT_EQ(Page4K::kBytes, 4096U);
    EXPECT_EQ(Page2M::kFrames4K, 512U);
    EXPECT_EQ(Page1G::kFrames4K, 262144U);
    EXPECT_EQ(Page1G::kBytes, 1ULL << 30);
}

}  // namespace
}  // namespace framealloc::test
