// Tests for parse_uefi(): the stride comes from descriptor_size (48 here, as
// real firmware reports), only loader/boot-services/conventional memory that
// is write-back cacheable is free, and malformed maps are rejected.
#include "framealloc/memmap/uefi.hpp"

#include <gtest/gtest.h>

#include <ostream>

#include "memmap_test_util.hpp"

namespace framealloc::memmap_test {
namespace {

using namespace framealloc::memmap;

constexpr std::uint64_t kWbFamily = kEfiMemoryWb | kEfiMemoryWt | kEfiMemoryWc | kEfiMemoryUc;

/// One descriptor of `stride` bytes; bytes past the 40 defined ones are
/// filled with 0xAA so that a parser reading them as data would notice.
Bytes& descriptor(Bytes& b, std::size_t stride, std::uint32_t type, std::uint64_t start,
                  std::uint64_t pages, std::uint64_t attribute) {
    b.le32(type)
        .le32(0xdeadbeef)
        .le64(start)
        .le64(0xffff800000000000ULL + start)
        .le64(pages)
        .le64(attribute);
    return b.fill(0xaa, stride - 40);
}

TEST(Uefi, Stride48IsHonouredAndUsableTypesWithWriteBackAreFree) {
    Bytes b;
    descriptor(b, 48, kEfiConventionalMemory, 0x0, 0x9f, kWbFamily);
    descriptor(b, 48, kEfiLoaderCode, 0x100000, 0x10, kWbFamily);
    descriptor(b, 48, kEfiLoaderData, 0x110000, 0x10, kWbFamily);
    descriptor(b, 48, kEfiBootServicesCode, 0x120000, 0x10, kWbFamily);
    descriptor(b, 48, kEfiBootServicesData, 0x130000, 0x10, kWbFamily);
    descriptor(b, 48, kEfiRuntimeServicesData, 0x140000, 0x10, kWbFamily | kEfiMemoryRuntime);
    descriptor(b, 48, kEfiAcpiReclaimMemory, 0x150000, 0x10, kWbFamily);
    descriptor(b, 48, kEfiMemoryMappedIo, 0xfec00000, 1, kEfiMemoryUc | kEfiMemoryRuntime);
    Captured got;
    ASSERT_TRUE(parse_uefi(b.data().data(), b.size(), 48, got).ok());
    EXPECT_EQ(frames_of(got.free),
              (std::vector<Frames>{
                  {0, 0x9e}, {0x100, 0x10f}, {0x110, 0x11f}, {0x120, 0x12f}, {0x130, 0x13f}}));
    EXPECT_EQ(frames_of(got.reserved),
              (std::vector<Frames>{{0x140, 0x14f}, {0x150, 0x15f}, {0xfec00, 0xfec00}}));
}

TEST(Uefi, ConventionalMemoryWithoutWriteBackIsReserved) {
    Bytes b;
    descriptor(b, 48, kEfiConventionalMemory, 0x1000000, 0x100, kEfiMemoryUc);
    descriptor(b, 48, kEfiConventionalMemory, 0x2000000, 0x100, 0);
    descriptor(b, 48, kEfiConventionalMemory, 0x3000000, 0x100, kEfiMemoryWb);
    Captured got;
    ASSERT_TRUE(parse_uefi(b.data().data(), b.size(), 48, got).ok());
    EXPECT_EQ(frames_of(got.free), (std::vector<Frames>{{0x3000, 0x30ff}}));
    EXPECT_EQ(frames_of(got.reserved), (std::vector<Frames>{{0x1000, 0x10ff}, {0x2000, 0x20ff}}));
}

TEST(Uefi, SpecificPurposeAndUnknownOemTypesAreReserved) {
    Bytes b;
    descriptor(b, 48, kEfiConventionalMemory, 0x100000000, 0x1000, kWbFamily | kEfiMemorySp);
    descriptor(b, 48, 0x70000001, 0x200000000, 0x10, kWbFamily);  // OEM range
    descriptor(b, 48, kEfiPersistentMemory, 0x300000000, 0x10, kWbFamily | kEfiMemoryNv);
    Captured got;
    ASSERT_TRUE(parse_uefi(b.data().data(), b.size(), 48, got).ok());
    EXPECT_TRUE(got.free.empty());
    EXPECT_EQ(got.reserved.size(), 3U);
}

TEST(Uefi, PlainFortyByteDescriptorsAndZeroPageDescriptorsWork) {
    Bytes b;
    descriptor(b, 40, kEfiConventionalMemory, 0x100000, 0, kWbFamily);  // empty: skipped
    descriptor(b, 40, kEfiConventionalMemory, 0x200000, 2, kWbFamily);
    Captured got;
    ASSERT_TRUE(parse_uefi(b.data().data(), b.size(), 40, got).ok());
    EXPECT_EQ(frames_of(got.all), (std::vector<Frames>{{0x200, 0x201}}));
}

TEST(Uefi, ReadingWith40ByteStrideA48ByteMapIsDetectedAsMalformed) {
    // 3 x 48 = 144 bytes is not a whole number of 40-byte descriptors: the
    // caller used sizeof instead of the firmware's DescriptorSize.
    Bytes b;
    for (int i = 0; i < 3; ++i) {
        descriptor(b, 48, kEfiConventionalMemory, 0x100000ULL * (i + 1), 1, kWbFamily);
    }
    Captured got;
    Status s = parse_uefi(b.data().data(), b.size(), 40, got);
    ASSERT_FALSE(s.ok());
    EXPECT_EQ(s.kind(), ErrorKind::kBadRegion);
}

TEST(Uefi, DescriptorSizeBelow40IsInvalidArgument) {
    Bytes b;
    descriptor(b, 40, kEfiConventionalMemory, 0, 1, kWbFamily);
    Captured got;
    EXPECT_EQ(parse_uefi(b.data().data(), b.size(), 32, got).kind(), ErrorKind::kInvalidArgument);
    EXPECT_EQ(parse_uefi(b.data().data(), b.size(), 0, got).kind(), ErrorKind::kInvalidArgument);
    EXPECT_EQ(parse_uefi(nullptr, 40, 40, got).kind(), ErrorKind::kInvalidArgument);
}

TEST(Uefi, PageCountsThatOverflowOrWrapAreOverflow) {
    Bytes huge;
    descriptor(huge, 48, kEfiConventionalMemory, 0, 1ULL << 53, kWbFamily);  // 2^65 bytes
    Bytes wraps;
    descriptor(wraps, 48, kEfiReservedMemoryType, 0xffffffffffff0000ULL, 0x20, 0);
    Captured got;
    EXPECT_EQ(parse_uefi(huge.data().data(), huge.size(), 48, got).kind(), ErrorKind::kOverflow);
    EXPECT_EQ(parse_uefi(wraps.data().data(), wraps.size(), 48, got).kind(), ErrorKind::kOverflow);
    EXPECT_TRUE(got.all.empty());
}

TEST(Uefi, IsUsableMatchesTheRules) {
    EXPECT_TRUE(uefi_is_usable(kEfiBootServicesData, kEfiMemoryWb));
    EXPECT_FALSE(uefi_is_usable(kEfiBootServicesData, kEfiMemoryUc));
    EXPECT_FALSE(uefi_is_usable(kEfiRuntimeServicesCode, kEfiMemoryWb));
    EXPECT_FALSE(uefi_is_usable(kEfiUnusableMemory, kEfiMemoryWb));
    EXPECT_FALSE(uefi_is_usable(kEfiUnacceptedMemory, kEfiMemoryWb));
}

}  // namespace
}  // namespace framealloc::memmap_test
