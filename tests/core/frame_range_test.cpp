// FrameRange: inclusive ranges, the empty range, byte-based construction,
// containment, offsets, overlap, extension, iteration and exact conversion
// between page sizes.
#include "test_support.hpp"

namespace framealloc::test {
namespace {

FrameRange<> range(std::uint64_t a, std::uint64_t b) {
    return FrameRange<>(frame(a), frame(b));
}

TEST(FrameRange, EmptyRangeHasNoFramesAndContainsNothing) {
    const FrameRange<> e = FrameRange<>::empty();
    EXPECT_TRUE(e.is_empty());
    EXPECT_EQ(e.size_in_frames(), 0U);
    EXPECT_EQ(e.size_in_bytes(), 0U);
    EXPECT_FALSE(e.contains(frame(0)));
    EXPECT_FALSE(e.contains(frame(1)));
    EXPECT_TRUE(range(5, 4).is_empty());
    EXPECT_EQ(range(5, 4), e);
}

TEST(FrameRange, SizeCountsBothEnds) {
    EXPECT_EQ(range(3, 3).size_in_frames(), 1U);
    EXPECT_EQ(range(3, 10).size_in_frames(), 8U);
    EXPECT_EQ(range(3, 10).size_in_bytes(), 8U * 4096);
    const FrameRange<> all(Frame<>::min(), Frame<>::max());
    EXPECT_EQ(all.size_in_frames(), 1ULL << 40);
}

TEST(FrameRange, FromAddressCoversEveryTouchedFrame) {
    auto r = FrameRange<>::from_address(addr(0x1fff), 2);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->start().number(), 1U);
    EXPECT_EQ(r->end().number(), 2U);
    EXPECT_TRUE(FrameRange<>::from_address(addr(0x1000), 0)->is_empty());
}

TEST(FrameRange, FromAddressPastTheTopIsAnOverflowError) {
    auto r = FrameRange<>::from_address(addr(PhysicalAddress::kMax - 0xfff), 0x2000);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.kind(), ErrorKind::kOverflow);
    auto c = FrameRange<>::from_count(Frame<>::max(), 2);
    ASSERT_FALSE(c);
    EXPECT_EQ(c.kind(), ErrorKind::kOverflow);
    EXPECT_EQ(FrameRange<>::from_count(Frame<>::max(), 1)->size_in_frames(), 1U);
}

TEST(FrameRange, ContainsFramesAddressesAndRanges) {
    const FrameRange<> r = range(10, 20);
    EXPECT_TRUE(r.contains(frame(10)));
    EXPECT_TRUE(r.contains(frame(20)));
    EXPECT_FALSE(r.contains(frame(21)));
    EXPECT_TRUE(r.contains_address(addr(20 * 4096 + 4095)));
    EXPECT_FALSE(r.contains_address(addr(21 * 4096)));
    EXPECT_TRUE(r.contains_range(range(12, 20)));
    EXPECT_FALSE(r.contains_range(range(9, 12)));
    EXPECT_TRUE(r.contains_range(FrameRange<>::empty()));
}

TEST(FrameRange, OffsetOfAddressAndAddressAtOffsetAreInverse) {
    const FrameRange<> r = range(2, 3);
    EXPECT_EQ(*r.offset_of_address(addr(0x2010)), 0x10U);
    EXPECT_FALSE(r.offset_of_address(addr(0x1fff)).has_value());
    EXPECT_EQ(r.address_at_offset(0x1010)->value(), 0x3010U);
    EXPECT_FALSE(r.address_at_offset(0x2000).has_value());
}

TEST(FrameRange, OverlapIsTheSharedPart) {
    EXPECT_EQ(range(1, 10).overlap(range(5, 20)), range(5, 10));
    EXPECT_TRUE(range(1, 4).overlap(range(5, 20)).is_empty());
    EXPECT_TRUE(range(1, 4).overlap(FrameRange<>::empty()).is_empty());
}

TEST(FrameRange, ToExtendedGrowsJustEnough) {
    EXPECT_EQ(range(5, 6).to_extended(frame(9)), range(5, 9));
    EXPECT_EQ(range(5, 6).to_extended(frame(2)), range(2, 6));
    EXPECT_EQ(FrameRange<>::empty().to_extended(frame(7)), range(7, 7));
}

TEST(FrameRange, IterationVisitsEveryFrameInOrder) {
    std::vector<std::uint64_t> seen;
    for (Frame<> f : range(4, 7).iter()) {
        seen.push_back(f.number());
    }
    EXPECT_EQ(seen, (std::vector<std::uint64_t>{4, 5, 6, 7}));
    int n = 0;
    for (Frame<> f : FrameRange<>::empty().iter()) {
        (void)f;
        ++n;
    }
    EXPECT_EQ(n, 0);
}

TEST(FrameRange, ConvertsExactlyToHugePagesOnlyWhenAligned) {
    auto ok = range(512, 1535).convert<Page2M>();
    ASSERT_TRUE(ok);
    EXPECT_EQ(ok->start().number(), 1U);
    EXPECT_EQ(ok->end().number(), 2U);
    EXPECT_EQ(range(512, 1534).convert<Page2M>().kind(), ErrorKind::kMisaligned);
    EXPECT_EQ(range(513, 1536).convert<Page2M>().kind(), ErrorKind::kMisaligned);
    auto back = ok->convert<Page4K>();
    ASSERT_TRUE(back);
    EXPECT_EQ(*back, range(512, 1535));
    EXPECT_EQ(FrameRange<Page1G>(Frame<Page1G>::from_number(1).value(),
                                 Frame<Page1G>::from_number(1).value())
                  .convert<Page2M>()
                  ->size_in_frames(),
              512U);
}

}  // namespace
}  // namespace framealloc::test
