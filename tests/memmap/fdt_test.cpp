// Tests for parse_fdt(): memory nodes become free and reservations (the
// reservation block and /reserved-memory children) reserved, cell counts come
// from the parent, and no truncated or corrupted blob is read out of bounds.
// Blobs are built with FdtBuilder and then damaged byte by byte; each test
// copies into an exactly-sized vector so a sanitizer build catches overreads.
#include "framealloc/memmap/fdt.hpp"

#include <gtest/gtest.h>

#include <ostream>

#include "fdt_builder.hpp"
#include "memmap_test_util.hpp"

namespace framealloc::memmap_test {
namespace {

using memmap::parse_fdt;
using memmap_text::FdtBuilder;

std::vector<std::uint32_t> reg(std::initializer_list<std::pair<std::uint64_t, std::uint64_t>> pairs,
                               unsigned address_cells, unsigned size_cells) {
    std::vector<std::uint32_t> cells;
    for (const auto& [address, size] : pairs) {
        FdtBuilder::append_cells(cells, address, address_cells);
        FdtBuilder::append_cells(cells, size, size_cells);
    }
    return cells;
}

/// A Raspberry-Pi-like tree: two reservation-block entries, a memory node with
/// two banks (2/2 cells), reserved-memory children (one disabled, one with
/// only a size), and distractors that must not count as memory.
std::vector<std::uint8_t> sample_blob() {
    FdtBuilder b;
    b.add_reservation(0x0, 0x1000);        // spin table
    b.add_reservation(0x3ef73340, 0x3ec);  // unaligned: grows to one frame
    b.begin_node("");
    b.property_u32("#address-cells", 2);
    b.property_u32("#size-cells", 2);
    b.property_string("model", "test board");
    b.begin_node("memory@0");
    b.property_string("device_type", "memory");
    b.property_cells("reg", reg({{0x0, 0x3b400000}, {0x40000000, 0xbc000000}}, 2, 2));
    b.end_node();
    b.begin_node("memory-controller@fe000000");  // name starts with "memory": not memory
    b.property_cells("reg", reg({{0xfe000000, 0x1000}}, 2, 2));
    b.end_node();
    b.begin_node("reserved-memory");
    b.property_u32("#address-cells", 2);
    b.property_u32("#size-cells", 2);
    b.property("ranges", {});
    b.begin_node("linux,cma");
    b.property_string("compatible", "shared-dma-pool");
    b.property_cells("size", {0, 0x4000000});  // dynamic: no reg, nothing to reserve
    b.end_node();
    b.begin_node("nvram@1");
    b.property_cells("reg", reg({{0x3ef73100, 0x200}}, 2, 2));
    b.end_node();
    b.begin_node("fw@e000000");
    b.property_cells("reg", reg({{0xe000000, 0x20000000}}, 2, 2));
    b.property_string("status", "okay");
    b.end_node();
    b.begin_node("off@20000000");
    b.property_string("status", "disabled");
    b.property_cells("reg", reg({{0x20000000, 0x100000}}, 2, 2));
    b.end_node();
    b.end_node();
    b.begin_node("soc");
    b.begin_node("memory@7e000000");  // not a child of the root: ignored
    b.property_string("device_type", "memory");
    b.property_cells("reg", reg({{0x7e000000, 0x1000}}, 2, 2));
    b.end_node();
    b.end_node();
    return b.finish();
}

TEST(Fdt, MemoryNodesAreFreeAndReservationsReserved) {
    const std::vector<std::uint8_t> blob = sample_blob();
    Captured got;
    ASSERT_TRUE(parse_fdt(blob.data(), blob.size(), got).ok());
    EXPECT_EQ(frames_of(got.free), (std::vector<Frames>{{0, 0x3b3ff}, {0x40000, 0xfbfff}}));
    EXPECT_EQ(
        frames_of(got.reserved),
        (std::vector<Frames>{{0, 0}, {0x3ef73, 0x3ef73}, {0x3ef73, 0x3ef73}, {0xe000, 0x2dfff}}));
}

TEST(Fdt, CellCountsComeFromTheParentAndRootDefaultsAre2And1) {
    FdtBuilder b;
    b.begin_node("");  // no #address-cells / #size-cells: defaults 2 and 1
    b.begin_node("memory");
    b.property_cells("reg", reg({{0x80000000, 0x10000000}, {0x100000000, 0x100000}}, 2, 1));
    b.end_node();
    b.begin_node("reserved-memory");
    b.property_u32("#address-cells", 1);
    b.property_u32("#size-cells", 1);
    b.begin_node("a@81000000");
    b.property_cells("reg", reg({{0x81000000, 0x2000}, {0x82000000, 0x1000}}, 1, 1));
    b.end_node();
    b.end_node();
    const std::vector<std::uint8_t> blob = b.finish();
    Captured got;
    ASSERT_TRUE(parse_fdt(blob.data(), blob.size(), got).ok());
    EXPECT_EQ(frames_of(got.free),
              (std::vector<Frames>{{0x80000, 0x8ffff}, {0x100000, 0x100100 - 1}}));
    EXPECT_EQ(frames_of(got.reserved),
              (std::vector<Frames>{{0x81000, 0x81001}, {0x82000, 0x82000}}));
}

TEST(Fdt, DeviceTypeMemoryCountsWhateverTheNodeIsCalledAndDisabledMemoryDoesNot) {
    FdtBuilder b;
    b.begin_node("");
    b.property_u32("#address-cells", 1);
    b.property_u32("#size-cells", 1);
    b.begin_node("dram@40000000");
    b.property_cells("reg", reg({{0x40000000, 0x1000000}}, 1, 1));  // reg before device_type
    b.property_string("device_type", "memory");
    b.end_node();
    b.begin_node("memory@80000000");
    b.property_string("device_type", "memory");
    b.property_string("status", "disabled");
    b.property_cells("reg", reg({{0x80000000, 0x1000000}}, 1, 1));
    b.end_node();
    const std::vector<std::uint8_t> blob = b.finish();
    Captured got;
    ASSERT_TRUE(parse_fdt(blob.data(), blob.size(), got).ok());
    EXPECT_EQ(frames_of(got.all), (std::vector<Frames>{{0x40000, 0x40fff}}));
}

TEST(Fdt, ThreeCellValuesWithZeroHighCellWorkAndWiderValuesOverflow) {
    for (bool wide : {false, true}) {
        FdtBuilder b;
        b.begin_node("");
        b.property_u32("#address-cells", 3);
        b.property_u32("#size-cells", 1);
        b.begin_node("memory@0");
        b.property_cells("reg", {wide ? 1U : 0U, 0x1, 0x0, 0x100000});
        b.end_node();
        const std::vector<std::uint8_t> blob = b.finish();
        Captured got;
        Status s = parse_fdt(blob.data(), blob.size(), got);
        if (wide) {
            EXPECT_EQ(s.kind(), ErrorKind::kOverflow);
        } else {
            ASSERT_TRUE(s.ok());
            EXPECT_EQ(frames_of(got.all), (std::vector<Frames>{{0x100000, 0x1000ff}}));
        }
    }
}

TEST(Fdt, RegWhoseLengthDoesNotMatchTheCellsIsBadRegion) {
    FdtBuilder b;
    b.begin_node("");
    b.property_u32("#address-cells", 2);
    b.property_u32("#size-cells", 2);
    b.begin_node("memory@0");
    b.property_cells("reg", {0, 0x1000, 0});  // 3 cells, pairs need 4
    b.end_node();
    const std::vector<std::uint8_t> blob = b.finish();
    Captured got;
    EXPECT_EQ(parse_fdt(blob.data(), blob.size(), got).kind(), ErrorKind::kBadRegion);
}

TEST(Fdt, PropertyAfterASubnodeIsBadRegion) {
    // Cell counts must be known before the children they describe are read.
    FdtBuilder b;
    b.begin_node("");
    b.begin_node("memory@0");
    b.property_string("device_type", "memory");
    b.property_cells("reg", {0, 0x100000, 0x100000});
    b.end_node();
    b.property_u32("#size-cells", 2);
    const std::vector<std::uint8_t> blob = b.finish();
    Captured got;
    EXPECT_EQ(parse_fdt(blob.data(), blob.size(), got).kind(), ErrorKind::kBadRegion);
}

TEST(Fdt, Version16BlobWithoutStructSizeStillParses) {
    std::vector<std::uint8_t> blob = sample_blob();
    blob[23] = 16;  // version 16: size_dt_struct is not there to be trusted
    Captured got;
    ASSERT_TRUE(parse_fdt(blob.data(), blob.size(), got).ok());
    EXPECT_EQ(got.free.size(), 2U);
}

TEST(Fdt, WrongMagicIsInvalidArgumentAndTinyBuffersAreBadRegion) {
    std::vector<std::uint8_t> blob = sample_blob();
    Captured got;
    EXPECT_EQ(parse_fdt(nullptr, blob.size(), got).kind(), ErrorKind::kInvalidArgument);
    EXPECT_EQ(parse_fdt(blob.data(), 8, got).kind(), ErrorKind::kBadRegion);
    blob[0] = 0xfe;
    EXPECT_EQ(parse_fdt(blob.data(), blob.size(), got).kind(), ErrorKind::kInvalidArgument);
}

TEST(Fdt, EveryTruncationOfTheBufferIsAnError) {
    const std::vector<std::uint8_t> blob = sample_blob();
    for (std::size_t n = 0; n < blob.size(); ++n) {
        std::vector<std::uint8_t> cut(blob.begin(), blob.begin() + static_cast<std::ptrdiff_t>(n));
        Captured got;
        Status s = parse_fdt(cut.empty() ? nullptr : cut.data(), n, got);
        ASSERT_FALSE(s.ok()) << n;
    }
}

void put_be32(std::vector<std::uint8_t>& blob, std::size_t at, std::uint32_t value) {
    for (int i = 0; i < 4; ++i) {
        blob[at + static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(value >> (24 - 8 * i));
    }
}

std::uint32_t get_be32(const std::vector<std::uint8_t>& blob, std::size_t at) {
    return (std::uint32_t{blob[at]} << 24) | (std::uint32_t{blob[at + 1]} << 16) |
           (std::uint32_t{blob[at + 2]} << 8) | blob[at + 3];
}

TEST(Fdt, TruncatedBlobWithConsistentlyShrunkHeaderIsAnErrorNotAnOverread) {
    // The harder case: the header itself claims the shorter size, so only
    // the structure walk can notice that the tree stops mid-node.
    const std::vector<std::uint8_t> blob = sample_blob();
    const std::uint32_t off_struct = get_be32(blob, 8);
    const std::uint32_t struct_size = get_be32(blob, 36);
    for (std::uint32_t keep = 0; keep + 4 <= struct_size; keep += 4) {
        std::vector<std::uint8_t> cut(blob.begin(), blob.begin() + off_struct + keep);
        put_be32(cut, 4, static_cast<std::uint32_t>(cut.size()));   // totalsize
        put_be32(cut, 12, static_cast<std::uint32_t>(cut.size()));  // strings at the end, empty
        put_be32(cut, 32, 0);
        put_be32(cut, 36, keep);
        Captured got;
        EXPECT_FALSE(parse_fdt(cut.data(), cut.size(), got).ok()) << keep;
    }
}

TEST(Fdt, CorruptHeaderFieldsAreBadRegion) {
    const std::vector<std::uint8_t> good = sample_blob();
    struct Patch {
        std::size_t at;
        std::uint32_t value;
    };
    const std::uint32_t size = static_cast<std::uint32_t>(good.size());
    for (Patch p : {Patch{4, size + 1},        // totalsize past the buffer
                    Patch{4, 20},              // totalsize smaller than the header
                    Patch{8, size},            // structure block at the very end
                    Patch{8, 42},              // misaligned structure block
                    Patch{12, size - 1},       // strings run past the end
                    Patch{16, 44},             // misaligned reservation map
                    Patch{16, size - 8},       // reservation map without terminator
                    Patch{20, 15},             // version too old
                    Patch{24, 18},             // needs a newer reader
                    Patch{32, 0xfffffff0},     // size_dt_strings absurd
                    Patch{36, 0xfffffff0}}) {  // size_dt_struct absurd
        std::vector<std::uint8_t> blob = good;
        put_be32(blob, p.at, p.value);
        Captured got;
        Status s = parse_fdt(blob.data(), blob.size(), got);
        ASSERT_FALSE(s.ok()) << p.at << "=" << p.value;
        EXPECT_EQ(s.kind(), ErrorKind::kBadRegion) << p.at << "=" << p.value;
    }
}

TEST(Fdt, CorruptStructureTokensAreBadRegion) {
    const std::vector<std::uint8_t> good = sample_blob();
    const std::uint32_t off_struct = get_be32(good, 8);
    const std::uint32_t struct_size = get_be32(good, 36);
    Captured got;

    std::vector<std::uint8_t> unknown = good;
    put_be32(unknown, off_struct, 0x77);
    EXPECT_EQ(parse_fdt(unknown.data(), unknown.size(), got).kind(), ErrorKind::kBadRegion);

    std::vector<std::uint8_t> no_end = good;
    put_be32(no_end, off_struct + struct_size - 4, memmap::kFdtNop);
    EXPECT_EQ(parse_fdt(no_end.data(), no_end.size(), got).kind(), ErrorKind::kBadRegion);

    std::vector<std::uint8_t> extra_close = good;
    put_be32(extra_close, off_struct + struct_size - 4, memmap::kFdtEndNode);
    EXPECT_EQ(parse_fdt(extra_close.data(), extra_close.size(), got).kind(), ErrorKind::kBadRegion);

    // Root property "#address-cells": token, len, nameoff at off_struct + 8.
    std::vector<std::uint8_t> bad_name = good;
    put_be32(bad_name, off_struct + 8 + 8, 0xffff);
    EXPECT_EQ(parse_fdt(bad_name.data(), bad_name.size(), got).kind(), ErrorKind::kBadRegion);

    std::vector<std::uint8_t> long_prop = good;
    put_be32(long_prop, off_struct + 8 + 4, 0x7ffffff0);
    EXPECT_EQ(parse_fdt(long_prop.data(), long_prop.size(), got).kind(), ErrorKind::kBadRegion);

    std::vector<std::uint8_t> bad_cells = good;
    put_be32(bad_cells, off_struct + 8 + 4, 8);  // #address-cells of 8 bytes
    EXPECT_EQ(parse_fdt(bad_cells.data(), bad_cells.size(), got).kind(), ErrorKind::kBadRegion);
}

TEST(Fdt, UnterminatedStringsAreBadRegion) {
    FdtBuilder b;
    b.begin_node("");
    b.property_u32("#size-cells", 1);
    b.end_node();
    std::vector<std::uint8_t> blob = b.finish();
    Captured got;
    ASSERT_TRUE(parse_fdt(blob.data(), blob.size(), got).ok());

    std::vector<std::uint8_t> name = blob;
    name.back() = 'x';  // the strings block's only NUL: "#size-cells" loses its end
    EXPECT_EQ(parse_fdt(name.data(), name.size(), got).kind(), ErrorKind::kBadRegion);
}

TEST(Fdt, RandomByteFlipsNeverCrashOrOverread) {
    const std::vector<std::uint8_t> good = sample_blob();
    std::uint32_t seed = 12345;
    auto next = [&seed] {
        seed = seed * 1664525U + 1013904223U;
        return seed >> 8;
    };
    int errors = 0;
    for (int round = 0; round < 4000; ++round) {
        std::vector<std::uint8_t> blob = good;
        const int flips = 1 + static_cast<int>(next() % 4);
        for (int i = 0; i < flips; ++i) {
            blob[next() % blob.size()] ^= static_cast<std::uint8_t>(1U << (next() % 8));
        }
        Captured got;
        errors += parse_fdt(blob.data(), blob.size(), got).ok() ? 0 : 1;
    }
    EXPECT_GT(errors, 0);  // corruption is noticed, not just survived
}

TEST(Fdt, SinkErrorsPropagate) {
    const std::vector<std::uint8_t> blob = sample_blob();
    int calls = 0;
    Status s = parse_fdt(blob.data(), blob.size(), [&](const PhysicalMemoryRegion&) -> Status {
        ++calls;
        return make_error(ErrorKind::kCapacityExhausted, "full");
    });
    EXPECT_EQ(s.kind(), ErrorKind::kCapacityExhausted);
    EXPECT_EQ(calls, 1);
}

}  // namespace
}  // namespace framealloc::memmap_test
