// The ACPI NUMA readers on tables laid out as the ACPI specification gives
// them (built by tools/memmap/acpi_builder): a two-socket SRAT with every
// structure type we read plus ones we skip, SLITs of two and four
// localities, and the ways firmware gets them wrong -- truncated buffers,
// bad checksums, lengths that overflow, structures that run past the table.
#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

#include "acpi_builder.hpp"
#include "framealloc/memmap/slit.hpp"
#include "framealloc/memmap/srat.hpp"

namespace framealloc::memmap {
namespace {

using memmap_text::acpi_seal;
using memmap_text::build_slit;
using memmap_text::SratBuilder;

constexpr std::uint64_t kGiB = 1ULL << 30;

struct Collected {
    std::vector<NumaMemoryRange> memory;
    std::vector<NumaCpu> cpus;
};

Status parse(const std::vector<std::uint8_t>& t, Collected& out, std::size_t size) {
    return parse_srat(
        t.data(), size,
        [&](const NumaMemoryRange& r) {
            out.memory.push_back(r);
            return Status{};
        },
        [&](const NumaCpu& c) {
            out.cpus.push_back(c);
            return Status{};
        });
}
Status parse(const std::vector<std::uint8_t>& t, Collected& out) {
    return parse(t, out, t.size());
}

// Two sockets: node 0 has the low 2 GiB (minus the legacy hole) and CPUs
// with APIC ids 0 and 1; node 1 has 4-6 GiB, a hot-pluggable range above
// it, and CPUs 2, 3 (one as x2APIC); a disabled CPU and a disabled memory
// range; a GICC (type 3) and a Generic Initiator (type 5) structure.
std::vector<std::uint8_t> two_sockets() {
    SratBuilder b;
    b.local_apic(0, 0);
    b.local_apic(1, 0);
    b.local_apic(2, 1);
    b.local_apic(7, 1, /*enabled=*/false);
    b.x2apic(0x103, 1);
    b.other(3, 18, 0xab);
    b.memory(0, 0xa0000, 0);
    b.memory(0x100000, 2 * kGiB - 0x100000, 0);
    b.memory(4 * kGiB, 2 * kGiB, 1);
    b.memory(6 * kGiB, kGiB, 1, /*enabled=*/true, /*hot_pluggable=*/true);
    b.memory(8 * kGiB, kGiB, 1, /*enabled=*/false, true);
    b.memory(9 * kGiB, 0, 1);  // empty: not reported
    b.other(5, 32, 0x5a);
    return b.finish();
}

TEST(Srat, LayoutMatchesTheSpecSizes) {
    SratBuilder b;
    EXPECT_EQ(b.finish().size(), kSratHeaderSize);
    b.local_apic(0, 0);
    EXPECT_EQ(b.finish().size(), kSratHeaderSize + 16);
    b.memory(0, 4096, 0);
    EXPECT_EQ(b.finish().size(), kSratHeaderSize + 16 + 40);
    b.x2apic(0, 0);
    EXPECT_EQ(b.finish().size(), kSratHeaderSize + 16 + 40 + 24);
}

TEST(Srat, ReadsMemoryAndCpusOfTwoSockets) {
    const auto table = two_sockets();
    Collected got;
    const Status st = parse(table, got);
    ASSERT_TRUE(st.ok()) << st.error().message;
    ASSERT_EQ(got.memory.size(), 4U);
    EXPECT_EQ(got.memory[0].base, 0U);
    EXPECT_EQ(got.memory[0].length, 0xa0000U);
    EXPECT_EQ(got.memory[0].node, 0U);
    EXPECT_EQ(got.memory[1].base, 0x100000U);
    EXPECT_EQ(got.memory[1].length, 2 * kGiB - 0x100000);
    EXPECT_EQ(got.memory[2].base, 4 * kGiB);
    EXPECT_EQ(got.memory[2].node, 1U);
    EXPECT_FALSE(got.memory[2].hot_pluggable);
    EXPECT_EQ(got.memory[3].base, 6 * kGiB);
    EXPECT_TRUE(got.memory[3].hot_pluggable);
    EXPECT_FALSE(got.memory[3].non_volatile);
    ASSERT_EQ(got.cpus.size(), 4U);
    const std::uint64_t ids[] = {0, 1, 2, 0x103};
    const std::uint32_t nodes[] = {0, 0, 1, 1};
    for (std::size_t i = 0; i < 4; ++i) {
        EXPECT_EQ(got.cpus[i].id, ids[i]);
        EXPECT_EQ(got.cpus[i].node, nodes[i]);
    }
    EXPECT_EQ(got.cpus[0].id_kind, NumaCpu::IdKind::kApic);
    EXPECT_EQ(got.cpus[3].id_kind, NumaCpu::IdKind::kX2Apic);
}

TEST(Srat, WideDomainsFromRevision2AndNarrowInRevision1) {
    for (const std::uint8_t rev : {std::uint8_t{1}, std::uint8_t{3}}) {
        SratBuilder b(rev);
        b.local_apic(4, 0x12345);
        b.memory(0, 4096, 0x12345);
        Collected got;
        ASSERT_TRUE(parse(b.finish(), got).ok());
        const std::uint32_t want = rev == 1 ? 0x45 : 0x12345;
        EXPECT_EQ(got.cpus.at(0).node, want);
        EXPECT_EQ(got.memory.at(0).node, want);
    }
}

TEST(Srat, NonVolatileFlag) {
    SratBuilder b;
    b.memory(kGiB, kGiB, 2, true, false, true);
    Collected got;
    ASSERT_TRUE(parse(b.finish(), got).ok());
    EXPECT_TRUE(got.memory.at(0).non_volatile);
}

TEST(Srat, EveryTruncationIsRefused) {
    const auto table = two_sockets();
    for (std::size_t n = 0; n < table.size(); ++n) {
        Collected got;
        const Status st = parse(table, got, n);
        ASSERT_FALSE(st.ok()) << n;
        EXPECT_EQ(st.kind(), ErrorKind::kBadRegion) << n;
        EXPECT_TRUE(got.memory.empty() && got.cpus.empty());
    }
}

TEST(Srat, BadChecksumIsRefused) {
    auto table = two_sockets();
    table[60] ^= 1;
    Collected got;
    const Status st = parse(table, got);
    EXPECT_EQ(st.kind(), ErrorKind::kBadRegion);
    EXPECT_STREQ(st.error().message, "ACPI table checksum does not sum to zero");
}

TEST(Srat, LengthPastTheBufferOrBelowTheHeaderIsRefused) {
    for (const std::uint32_t length : {0xffffffffU, 47U, 0U}) {
        auto table = two_sockets();
        for (unsigned i = 0; i < 4; ++i) {
            table[4 + i] = static_cast<std::uint8_t>(length >> (8 * i));
        }
        Collected got;
        EXPECT_EQ(parse(table, got).kind(), ErrorKind::kBadRegion) << length;
    }
}

TEST(Srat, WrongSignatureAndNullAreInvalidArguments) {
    auto table = two_sockets();
    Collected got;
    EXPECT_EQ(parse_srat(
                  nullptr, 100, [](const NumaMemoryRange&) { return Status{}; },
                  [](const NumaCpu&) { return Status{}; })
                  .kind(),
              ErrorKind::kInvalidArgument);
    table[0] = 'X';
    acpi_seal(table);
    EXPECT_EQ(parse(table, got).kind(), ErrorKind::kInvalidArgument);
    const auto slit = build_slit(1, {10});
    EXPECT_EQ(parse(slit, got).kind(), ErrorKind::kInvalidArgument);
}

TEST(Srat, StructureRunningPastTheTableIsRefused) {
    SratBuilder b;
    b.memory(0, 4096, 0);
    auto table = b.finish();
    table.resize(table.size() - 8);  // the last structure says 40 bytes, 32 are left
    acpi_seal(table);
    Collected got;
    const Status st = parse(table, got);
    EXPECT_EQ(st.kind(), ErrorKind::kBadRegion);
    EXPECT_STREQ(st.error().message, "SRAT structure runs past the table");
}

TEST(Srat, ZeroLengthStructureDoesNotLoop) {
    SratBuilder b;
    b.other(9, 2);
    auto table = b.finish();
    table[kSratHeaderSize + 1] = 0;
    acpi_seal(table);
    Collected got;
    EXPECT_EQ(parse(table, got).kind(), ErrorKind::kBadRegion);
    // One stray byte at the end: no room for a structure header.
    SratBuilder c;
    auto odd = c.finish();
    odd.push_back(1);
    acpi_seal(odd);
    EXPECT_EQ(parse(odd, got).kind(), ErrorKind::kBadRegion);
}

TEST(Srat, KnownTypesShorterThanTheirLayoutAreRefused) {
    for (const std::uint8_t type : {kSratLocalApic, kSratMemory, kSratX2Apic}) {
        SratBuilder b;
        b.other(type, 12);
        Collected got;
        EXPECT_EQ(parse(b.finish(), got).kind(), ErrorKind::kBadRegion) << int{type};
    }
}

TEST(Srat, UnknownTypesAreSkippedByLength) {
    SratBuilder b;
    b.other(3, 18, kSratMemory);  // bytes that would read as memory if misaligned
    b.other(0x7f, 255, 0xff);
    b.other(4, 12);
    b.memory(kGiB, kGiB, 3);
    Collected got;
    ASSERT_TRUE(parse(b.finish(), got).ok());
    ASSERT_EQ(got.memory.size(), 1U);
    EXPECT_EQ(got.memory[0].node, 3U);
    EXPECT_TRUE(got.cpus.empty());
}

TEST(Srat, RangeThatWrapsIsAnOverflow) {
    SratBuilder b;
    b.memory(~0ULL - 4095, 8192, 0);
    Collected got;
    EXPECT_EQ(parse(b.finish(), got).kind(), ErrorKind::kOverflow);
    SratBuilder top;
    top.memory(~0ULL - 4095, 4096, 0);  // ends exactly at 2^64 - 1
    EXPECT_TRUE(parse(top.finish(), got).ok());
}

TEST(Srat, SinkErrorStopsTheWalk) {
    const auto table = two_sockets();
    int seen = 0;
    const Status st = parse_srat(
        table.data(), table.size(),
        [&](const NumaMemoryRange&) {
            ++seen;
            return Status{make_error(ErrorKind::kCapacityExhausted, "full")};
        },
        [](const NumaCpu&) { return Status{}; });
    EXPECT_EQ(st.kind(), ErrorKind::kCapacityExhausted);
    EXPECT_EQ(seen, 1);
}

TEST(Slit, ReadsAFourSocketMatrix) {
    // A ring of four sockets: neighbours 21, across 31.
    const std::vector<std::uint8_t> m = {10, 21, 31, 21, 21, 10, 21, 31,
                                         31, 21, 10, 21, 21, 31, 21, 10};
    const auto table = build_slit(4, m);
    EXPECT_EQ(table.size(), kSlitHeaderSize + 16);
    auto slit = parse_slit(table.data(), table.size());
    ASSERT_TRUE(slit) << slit.error().message;
    EXPECT_EQ(slit->localities, 4U);
    EXPECT_EQ(slit->distance(0, 2), 31);
    EXPECT_EQ(slit->distance(3, 0), 21);
    std::uint8_t out[16] = {};
    ASSERT_TRUE(slit->copy_to(out).ok());
    EXPECT_EQ(std::vector<std::uint8_t>(out, out + 16), m);
    std::uint8_t small[9] = {};
    EXPECT_EQ(slit->copy_to(small).kind(), ErrorKind::kInvalidArgument);
    int entries = 0;
    ASSERT_TRUE(slit->for_each([&](const NumaDistance& d) {
                        EXPECT_EQ(d.distance, m[d.from * 4 + d.to]);
                        ++entries;
                        return Status{};
                    })
                    .ok());
    EXPECT_EQ(entries, 16);
}

TEST(Slit, UnreachableIsAllowed) {
    const auto table = build_slit(2, {10, 255, 255, 10});
    auto slit = parse_slit(table.data(), table.size());
    ASSERT_TRUE(slit);
    EXPECT_EQ(slit->distance(0, 1), 255);
}

TEST(Slit, BadMatricesAreRefused) {
    const std::vector<std::vector<std::uint8_t>> bad = {
        {0, 20, 20, 10},   // diagonal not 10
        {10, 10, 10, 10},  // remote as near as local
        {10, 5, 20, 10},   // reserved value
    };
    for (const auto& m : bad) {
        const auto table = build_slit(2, m);
        EXPECT_EQ(parse_slit(table.data(), table.size()).kind(), ErrorKind::kBadRegion);
    }
}

TEST(Slit, CountsThatDoNotFitAreRefused) {
    for (const std::uint64_t n : {0ULL, 3ULL, 1ULL << 32, (1ULL << 32) + 1, ~0ULL}) {
        const auto table = build_slit(n, {10, 20, 20, 10});
        const auto slit = parse_slit(table.data(), table.size());
        EXPECT_EQ(slit.kind(), ErrorKind::kBadRegion) << n;
    }
}

TEST(Slit, TruncationAndChecksum) {
    auto table = build_slit(2, {10, 20, 20, 10});
    for (std::size_t n = 0; n < table.size(); ++n) {
        EXPECT_EQ(parse_slit(table.data(), n).kind(), ErrorKind::kBadRegion) << n;
    }
    table[kSlitHeaderSize + 1] = 21;  // checksum now off by one
    EXPECT_EQ(parse_slit(table.data(), table.size()).kind(), ErrorKind::kBadRegion);
    table.resize(kSlitHeaderSize + 3);  // the matrix is cut short
    acpi_seal(table);
    EXPECT_EQ(parse_slit(table.data(), table.size()).kind(), ErrorKind::kBadRegion);
}

}  // namespace
}  // namespace framealloc::memmap
