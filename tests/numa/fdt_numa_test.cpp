// The device-tree NUMA reader on blobs built with the test FDT writer: the
// Raspberry Pi 4 layout of ../shared/memmaps/dt-rpi4b.txt split into two
// nodes as that boot log shows (numa=fake=2: node 0 below 2 GiB, node 1
// above), a 64-bit /cpus layout, and malformed numa-node-id and
// distance-map properties.
#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

#include "fdt_builder.hpp"
#include "framealloc/memmap/fdt.hpp"
#include "framealloc/memmap/fdt_numa.hpp"

namespace framealloc::memmap {
namespace {

using memmap_text::FdtBuilder;

struct Collected {
    std::vector<NumaMemoryRange> memory;
    std::vector<NumaCpu> cpus;
    std::vector<NumaDistance> distances;
};

Status parse(const std::vector<std::uint8_t>& blob, Collected& out, std::size_t size) {
    return parse_fdt_numa(
        blob.data(), size,
        [&](const NumaMemoryRange& r) {
            out.memory.push_back(r);
            return Status{};
        },
        [&](const NumaCpu& c) {
            out.cpus.push_back(c);
            return Status{};
        },
        [&](const NumaDistance& d) {
            out.distances.push_back(d);
            return Status{};
        });
}
Status parse(const std::vector<std::uint8_t>& blob, Collected& out) {
    return parse(blob, out, blob.size());
}

std::vector<std::uint32_t> reg2x1(
    std::initializer_list<std::pair<std::uint64_t, std::uint64_t>> r) {
    std::vector<std::uint32_t> cells;
    for (const auto& [base, size] : r) {
        FdtBuilder::append_cells(cells, base, 2);
        FdtBuilder::append_cells(cells, size, 1);
    }
    return cells;
}

void distance_map(FdtBuilder& b, const std::vector<std::uint32_t>& triplets) {
    b.begin_node("distance-map");
    b.property_string("compatible", "numa-distance-map-v1");
    b.property_cells("distance-matrix", triplets);
    b.end_node();
}

// Root #address-cells 2, #size-cells 1 as on the Pi 4.
std::vector<std::uint8_t> rpi4_two_nodes() {
    FdtBuilder b;
    b.add_reservation(0, 0x1000);
    b.begin_node("");
    b.property_u32("#address-cells", 2);
    b.property_u32("#size-cells", 1);
    b.begin_node("cpus");
    b.property_u32("#address-cells", 1);
    b.property_u32("#size-cells", 0);
    for (std::uint32_t cpu = 0; cpu < 4; ++cpu) {
        b.begin_node("cpu@" + std::to_string(cpu));
        b.property_string("device_type", "cpu");
        b.property_cells("reg", {cpu});
        b.property_u32("numa-node-id", cpu / 2);
        b.end_node();
    }
    b.begin_node("l2-cache0");  // not a cpu: ignored
    b.property_u32("numa-node-id", 7);
    b.end_node();
    b.end_node();
    b.begin_node("memory@0");
    b.property_string("device_type", "memory");
    b.property_cells("reg", reg2x1({{0, 0x3b400000}, {0x40000000, 0x40000000}}));
    b.property_u32("numa-node-id", 0);
    b.end_node();
    b.begin_node("memory@80000000");
    b.property_string("device_type", "memory");
    b.property_cells("reg", reg2x1({{0x80000000, 0x7c000000}}));
    b.property_u32("numa-node-id", 1);
    b.end_node();
    distance_map(b, {0, 0, 10, 0, 1, 20, 1, 0, 20, 1, 1, 10});
    b.end_node();
    return b.finish();
}

TEST(FdtNuma, ReadsThePi4SplitIntoTwoNodes) {
    const auto blob = rpi4_two_nodes();
    Collected got;
    const Status st = parse(blob, got);
    ASSERT_TRUE(st.ok()) << st.error().message;
    ASSERT_EQ(got.memory.size(), 3U);
    EXPECT_EQ(got.memory[0].base, 0U);
    EXPECT_EQ(got.memory[0].length, 0x3b400000U);
    EXPECT_EQ(got.memory[0].node, 0U);
    EXPECT_EQ(got.memory[1].base, 0x40000000U);
    EXPECT_EQ(got.memory[1].node, 0U);
    EXPECT_EQ(got.memory[2].base, 0x80000000U);
    EXPECT_EQ(got.memory[2].length, 0x7c000000U);
    EXPECT_EQ(got.memory[2].node, 1U);
    ASSERT_EQ(got.cpus.size(), 4U);
    for (std::uint32_t i = 0; i < 4; ++i) {
        EXPECT_EQ(got.cpus[i].id, i);
        EXPECT_EQ(got.cpus[i].node, i / 2);
        EXPECT_EQ(got.cpus[i].id_kind, NumaCpu::IdKind::kDeviceTree);
    }
    ASSERT_EQ(got.distances.size(), 4U);
    EXPECT_EQ(got.distances[1].from, 0U);
    EXPECT_EQ(got.distances[1].to, 1U);
    EXPECT_EQ(got.distances[1].distance, 20U);
}

TEST(FdtNuma, TheSameBlobStillGivesItsRegionsToParseFdt) {
    const auto blob = rpi4_two_nodes();
    std::uint64_t free_bytes = 0;
    std::uint64_t reserved_bytes = 0;
    ASSERT_TRUE(parse_fdt(blob.data(), blob.size(), [&](const PhysicalMemoryRegion& r) {
                    (r.type == MemoryRegionType::kFree ? free_bytes : reserved_bytes) +=
                        r.frames.size_in_bytes();
                    return Status{};
                }).ok());
    EXPECT_EQ(free_bytes, 0x3b400000U + 0x40000000U + 0x7c000000U);
    EXPECT_EQ(reserved_bytes, 0x1000U);
}

TEST(FdtNuma, SixtyFourBitCpuIdsAndDisabledOrUnnumberedNodes) {
    FdtBuilder b;
    b.begin_node("");
    b.property_u32("#address-cells", 2);
    b.property_u32("#size-cells", 2);
    b.begin_node("cpus");
    b.property_u32("#address-cells", 2);
    b.property_u32("#size-cells", 0);
    b.begin_node("cpu@10100");
    b.property_cells("reg", {0x1, 0x00010100});  // an MPIDR with Aff3 set
    b.property_u32("numa-node-id", 3);
    b.end_node();
    b.begin_node("cpu@0");
    b.property_cells("reg", {0, 0});
    b.property_u32("numa-node-id", 2);
    b.property_string("status", "disabled");
    b.end_node();
    b.begin_node("cpu@1");  // no numa-node-id
    b.property_cells("reg", {0, 1});
    b.end_node();
    b.end_node();
    b.begin_node("memory@100000000");
    b.property_string("device_type", "memory");
    b.property_cells("reg", {1, 0, 0, 0x40000000});
    b.property_u32("numa-node-id", 3);
    b.end_node();
    b.begin_node("memory@0");  // no numa-node-id
    b.property_string("device_type", "memory");
    b.property_cells("reg", {0, 0, 0, 0x40000000});
    b.end_node();
    b.begin_node("memory@200000000");
    b.property_cells("reg", {2, 0, 0, 0x40000000});
    b.property_u32("numa-node-id", 2);
    b.property_string("status", "disabled");
    b.end_node();
    b.end_node();
    Collected got;
    const auto blob = b.finish();
    ASSERT_TRUE(parse(blob, got).ok());
    ASSERT_EQ(got.cpus.size(), 1U);
    EXPECT_EQ(got.cpus[0].id, 0x100010100ULL);
    EXPECT_EQ(got.cpus[0].node, 3U);
    ASSERT_EQ(got.memory.size(), 1U);
    EXPECT_EQ(got.memory[0].base, 0x100000000ULL);
    EXPECT_EQ(got.memory[0].node, 3U);
    EXPECT_TRUE(got.distances.empty());
}

std::vector<std::uint8_t> one_memory_node(const std::vector<std::uint8_t>& node_id_value) {
    FdtBuilder b;
    b.begin_node("");
    b.begin_node("memory@0");
    b.property_string("device_type", "memory");
    b.property_cells("reg", {0, 0, 0x1000000});
    b.property("numa-node-id", node_id_value);
    b.end_node();
    b.end_node();
    return b.finish();
}

TEST(FdtNuma, NodeIdThatIsNotOneU32IsRefused) {
    Collected got;
    EXPECT_EQ(parse(one_memory_node({0, 0, 1}), got).kind(), ErrorKind::kBadRegion);
    EXPECT_EQ(parse(one_memory_node({}), got).kind(), ErrorKind::kBadRegion);
    ASSERT_TRUE(parse(one_memory_node({0, 0, 0, 5}), got).ok());
    ASSERT_EQ(got.memory.size(), 1U);
    EXPECT_EQ(got.memory[0].node, 5U);  // default cells: 2 address, 1 size
    EXPECT_EQ(got.memory[0].length, 0x1000000U);
}

TEST(FdtNuma, BadDistanceMatricesAreRefused) {
    const std::vector<std::vector<std::uint32_t>> bad = {
        {0, 1, 20, 1},  // not whole triplets
        {0, 0, 20},     // self distance not 10
        {0, 1, 10},     // remote as near as local
        {0, 1, 0},
    };
    for (const auto& triplets : bad) {
        FdtBuilder b;
        b.begin_node("");
        distance_map(b, triplets);
        b.end_node();
        Collected got;
        EXPECT_EQ(parse(b.finish(), got).kind(), ErrorKind::kBadRegion);
    }
}

TEST(FdtNuma, CpuWithoutUsableRegIsRefused) {
    FdtBuilder b;
    b.begin_node("");
    b.begin_node("cpus");
    b.property_u32("#address-cells", 2);
    b.begin_node("cpu@0");
    b.property_cells("reg", {0});
    b.property_u32("numa-node-id", 0);
    b.end_node();
    b.end_node();
    b.end_node();
    Collected got;
    EXPECT_EQ(parse(b.finish(), got).kind(), ErrorKind::kBadRegion);
}

TEST(FdtNuma, WrappingMemoryIsAnOverflow) {
    FdtBuilder b;
    b.begin_node("");
    b.property_u32("#size-cells", 2);
    b.begin_node("memory@0");
    b.property_cells("reg", {0xffffffff, 0xfffff000, 0, 0x2000});
    b.property_u32("numa-node-id", 0);
    b.end_node();
    b.end_node();
    Collected got;
    EXPECT_EQ(parse(b.finish(), got).kind(), ErrorKind::kOverflow);
}

TEST(FdtNuma, EveryTruncationAndSingleByteFlipIsSafe) {
    const auto blob = rpi4_two_nodes();
    for (std::size_t n = 0; n < blob.size(); ++n) {
        Collected got;
        EXPECT_FALSE(parse(blob, got, n).ok()) << n;
    }
    // Flips must never read out of bounds (the sanitizer build checks that);
    // whatever is accepted reports only ranges that do not wrap.
    for (std::size_t i = 0; i < blob.size(); ++i) {
        auto copy = blob;
        copy[i] ^= 0xff;
        Collected got;
        if (parse(copy, got).ok()) {
            for (const auto& r : got.memory) {
                EXPECT_LE(r.length - 1, ~0ULL - r.base);
            }
        }
    }
}

TEST(FdtNuma, NullAndBadMagic) {
    Collected got;
    auto blob = rpi4_two_nodes();
    EXPECT_EQ(
        parse_fdt_numa(
            nullptr, 64, [](const NumaMemoryRange&) { return Status{}; },
            [](const NumaCpu&) { return Status{}; }, [](const NumaDistance&) { return Status{}; })
            .kind(),
        ErrorKind::kInvalidArgument);
    blob[0] = 0;
    EXPECT_EQ(parse(blob, got).kind(), ErrorKind::kInvalidArgument);
}

}  // namespace
}  // namespace framealloc::memmap
