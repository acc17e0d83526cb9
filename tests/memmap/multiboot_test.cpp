// Tests for the Multiboot parsers: the MB1 entry stride comes from each
// entry's own size field, the MB2 tag's from entry_size, the info walker
// honours 8-byte tag alignment, and every size field a loader could get wrong
// (zero, short, too long) is an error rather than a loop or an overread.
#include "framealloc/memmap/multiboot.hpp"

#include <gtest/gtest.h>

#include <array>
#include <initializer_list>
#include <ostream>

#include "memmap_test_util.hpp"

namespace framealloc::memmap_test {
namespace {

using namespace framealloc::memmap;

Bytes& mb1(Bytes& b, std::uint32_t size, std::uint64_t base, std::uint64_t length,
           std::uint32_t type) {
    b.le32(size).le64(base).le64(length).le32(type);
    return b.fill(0x55, size - 20);
}

TEST(Multiboot1, EntriesUseTheirOwnSizeFieldAsStrideAndOnlyType1IsFree) {
    Bytes b;
    mb1(b, 20, 0x0, 0x9fc00, 1);
    mb1(b, 24, 0x9fc00, 0x400, 2);  // 4 extra bytes this parser must skip
    mb1(b, 20, 0x100000, 0x6f0000, 1);
    mb1(b, 20, 0x7f0000, 0x10000, 3);
    mb1(b, 28, 0x800000, 0x1000, 4);
    mb1(b, 20, 0x801000, 0x1000, 5);
    Captured got;
    ASSERT_TRUE(parse_multiboot1_mmap(b.data().data(), b.size(), got).ok());
    EXPECT_EQ(frames_of(got.free), (std::vector<Frames>{{0, 0x9e}, {0x100, 0x7ef}}));
    EXPECT_EQ(frames_of(got.reserved),
              (std::vector<Frames>{{0x9f, 0x9f}, {0x7f0, 0x7ff}, {0x800, 0x800}, {0x801, 0x801}}));
}

TEST(Multiboot1, SizeFieldBelow20IsBadRegionSoAZeroSizeCannotLoopForever) {
    for (std::uint32_t size : {0U, 4U, 19U}) {
        Bytes b;
        b.le32(size).le64(0).le64(0x1000).le32(1);
        Captured got;
        Status s = parse_multiboot1_mmap(b.data().data(), b.size(), got);
        ASSERT_FALSE(s.ok());
        EXPECT_EQ(s.kind(), ErrorKind::kBadRegion) << size;
    }
}

TEST(Multiboot1, EntryRunningPastTheBufferIsBadRegion) {
    Bytes b;
    mb1(b, 20, 0x100000, 0x1000, 1);
    mb1(b, 20, 0x200000, 0x1000, 1);
    Captured got;
    for (std::size_t cut = 1; cut < 24; ++cut) {
        std::vector<std::uint8_t> truncated(b.data().begin(), b.data().end() - cut);
        Status s = parse_multiboot1_mmap(truncated.data(), truncated.size(), got);
        ASSERT_FALSE(s.ok()) << cut;
        EXPECT_EQ(s.kind(), ErrorKind::kBadRegion);
    }
    Bytes lying;
    lying.le32(0x1000).le64(0).le64(0x1000).le32(1);  // claims 4 KiB, has 20 bytes
    EXPECT_EQ(parse_multiboot1_mmap(lying.data().data(), lying.size(), got).kind(),
              ErrorKind::kBadRegion);
}

Bytes mb2_tag(std::uint32_t entry_size,
              std::initializer_list<std::array<std::uint64_t, 3>> entries) {
    Bytes b;
    b.le32(kMultiboot2TagMmap)
        .le32(static_cast<std::uint32_t>(16 + entry_size * entries.size()))
        .le32(entry_size)
        .le32(0);
    for (const auto& e : entries) {
        b.le64(e[0]).le64(e[1]).le32(static_cast<std::uint32_t>(e[2])).le32(0);
        b.fill(0x77, entry_size - 24);
    }
    return b;
}

TEST(Multiboot2, MmapTagEntriesAreReadWithEntrySizeStride) {
    for (std::uint32_t entry_size : {24U, 32U}) {
        Bytes tag = mb2_tag(entry_size, {{0x0, 0x9fc00, 1},
                                         {0x9fc00, 0x400, 2},
                                         {0x100000, 0x7ee0000, 1},
                                         {0x7fe0000, 0x20000, 2},
                                         {0xfffc0000, 0x40000, 2}});
        Captured got;
        ASSERT_TRUE(parse_multiboot2_mmap_tag(tag.data().data(), tag.size(), got).ok());
        EXPECT_EQ(frames_of(got.free), (std::vector<Frames>{{0, 0x9e}, {0x100, 0x7fdf}}));
        EXPECT_EQ(frames_of(got.reserved),
                  (std::vector<Frames>{{0x9f, 0x9f}, {0x7fe0, 0x7fff}, {0xfffc0, 0xfffff}}));
    }
}

TEST(Multiboot2, MalformedMmapTagsAreRejected) {
    Captured got;
    Bytes wrong_type = mb2_tag(24, {{0, 0x1000, 1}});
    wrong_type.raw()[0] = 4;
    EXPECT_EQ(parse_multiboot2_mmap_tag(wrong_type.data().data(), wrong_type.size(), got).kind(),
              ErrorKind::kInvalidArgument);

    Bytes small_entries = mb2_tag(24, {{0, 0x1000, 1}});
    small_entries.raw()[8] = 16;  // entry_size 16 < 24
    EXPECT_EQ(
        parse_multiboot2_mmap_tag(small_entries.data().data(), small_entries.size(), got).kind(),
        ErrorKind::kBadRegion);

    Bytes partial = mb2_tag(24, {{0, 0x1000, 1}, {0x1000, 0x1000, 1}});
    partial.raw()[4] = 16 + 24 + 8;  // tag size ends inside the second entry
    EXPECT_EQ(parse_multiboot2_mmap_tag(partial.data().data(), partial.size(), got).kind(),
              ErrorKind::kBadRegion);

    Bytes tag = mb2_tag(24, {{0, 0x1000, 1}, {0x1000, 0x1000, 1}});
    EXPECT_EQ(parse_multiboot2_mmap_tag(tag.data().data(), tag.size() - 8, got).kind(),
              ErrorKind::kBadRegion);  // tag claims more than is readable
    EXPECT_EQ(parse_multiboot2_mmap_tag(tag.data().data(), 12, got).kind(), ErrorKind::kBadRegion);
    EXPECT_TRUE(got.all.empty());
}

/// A Multiboot 2 info structure: a command-line tag of odd length (so the
/// next tag needs padding), the given mmap tag, and the end tag.
Bytes mb2_info(const Bytes& mmap_tag, bool with_end = true) {
    Bytes b;
    b.le32(0).le32(0);                                         // total_size patched below
    b.le32(1).le32(8 + 5).fill('x', 4).fill(0, 1).fill(0, 3);  // "xxxx\0" + padding to 8
    b.raw().insert(b.raw().end(), mmap_tag.data().begin(), mmap_tag.data().end());
    while (b.size() % 8 != 0) {
        b.fill(0, 1);
    }
    if (with_end) {
        b.le32(kMultiboot2TagEnd).le32(8);
    }
    const auto total = static_cast<std::uint32_t>(b.size());
    for (int i = 0; i < 4; ++i) {
        b.raw()[i] = static_cast<std::uint8_t>(total >> (8 * i));
    }
    return b;
}

TEST(Multiboot2, InfoWalkerFindsTheMmapTagPastAPaddedTag) {
    Bytes info = mb2_info(mb2_tag(24, {{0x100000, 0x100000, 1}, {0xfec00000, 0x1000, 2}}));
    auto tag = find_multiboot2_tag(info.data().data(), info.size(), kMultiboot2TagMmap);
    ASSERT_TRUE(tag.has_value());
    EXPECT_EQ(tag.value().size(), 16U + 2 * 24);
    Captured got;
    ASSERT_TRUE(parse_multiboot2_info(info.data().data(), info.size(), got).ok());
    EXPECT_EQ(frames_of(got.free), (std::vector<Frames>{{0x100, 0x1ff}}));
    EXPECT_EQ(frames_of(got.reserved), (std::vector<Frames>{{0xfec00, 0xfec00}}));
}

TEST(Multiboot2, InfoWithoutMmapTagIsInvalidArgument) {
    Bytes not_mmap = mb2_tag(24, {{0, 0x1000, 1}});
    not_mmap.raw()[0] = 4;  // a basic-meminfo tag instead
    Bytes info = mb2_info(not_mmap);
    Captured got;
    EXPECT_EQ(parse_multiboot2_info(info.data().data(), info.size(), got).kind(),
              ErrorKind::kInvalidArgument);
}

TEST(Multiboot2, CorruptInfoStructuresAreBadRegion) {
    Captured got;
    Bytes no_end = mb2_info(mb2_tag(24, {{0, 0x1000, 1}}), false);
    no_end.raw()[8 + 16] = 7;  // not the mmap tag any more, so the walk runs off the end
    EXPECT_EQ(parse_multiboot2_info(no_end.data().data(), no_end.size(), got).kind(),
              ErrorKind::kBadRegion);

    Bytes info = mb2_info(mb2_tag(24, {{0, 0x1000, 1}}));
    EXPECT_EQ(parse_multiboot2_info(info.data().data(), info.size() - 1, got).kind(),
              ErrorKind::kBadRegion);  // total_size larger than the buffer

    Bytes zero_tag = info;
    zero_tag.raw()[12] = 0;  // first tag's size 0
    EXPECT_EQ(parse_multiboot2_info(zero_tag.data().data(), zero_tag.size(), got).kind(),
              ErrorKind::kBadRegion);

    Bytes long_tag = info;
    long_tag.raw()[13] = 0x10;  // first tag claims 4 KiB
    EXPECT_EQ(parse_multiboot2_info(long_tag.data().data(), long_tag.size(), got).kind(),
              ErrorKind::kBadRegion);
    EXPECT_EQ(parse_multiboot2_info(nullptr, 64, got).kind(), ErrorKind::kInvalidArgument);
    EXPECT_TRUE(got.all.empty());
}

}  // namespace
}  // namespace framealloc::memmap_test
