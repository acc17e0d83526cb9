// Reader of the ACPI System Resource Affinity Table (SRAT): which memory
// ranges and which CPUs belong to which proximity domain (NUMA node). The
// table is checked as a whole first (acpi_table.hpp: header, length,
// checksum), then its affinity structures are read one by one, each checked
// to lie inside the table: Memory Affinity (type 1) gives memory ranges,
// Processor Local APIC/SAPIC Affinity (type 0) and Processor Local x2APIC
// Affinity (type 2) give CPUs. Entries without the Enabled flag are ignored,
// as the spec says; structure types this reader does not know (GICC, GIC
// ITS, Generic Initiator, later ones) are skipped by their length.
#pragma once

#include <cstddef>
#include <cstdint>

#include "framealloc/memmap/acpi_table.hpp"
#include "framealloc/memmap/common.hpp"
#include "framealloc/memmap/numa.hpp"

namespace framealloc::memmap {

/// The SRAT's header: the common 36 bytes, a reserved u32 (1) and 8 reserved bytes.
inline constexpr std::size_t kSratHeaderSize = 48;
/// Affinity structure types and their lengths.
inline constexpr std::uint8_t kSratLocalApic = 0;
inline constexpr std::uint8_t kSratMemory = 1;
inline constexpr std::uint8_t kSratX2Apic = 2;
inline constexpr std::size_t kSratLocalApicLength = 16;
inline constexpr std::size_t kSratMemoryLength = 40;
inline constexpr std::size_t kSratX2ApicLength = 24;
/// Flags of the affinity structures.
inline constexpr std::uint32_t kSratEnabled = 1U << 0;
inline constexpr std::uint32_t kSratHotPluggable = 1U << 1;
inline constexpr std::uint32_t kSratNonVolatile = 1U << 2;

/// Reads an SRAT of at most `size_bytes` readable bytes: each enabled Memory
/// Affinity structure of nonzero length goes to `memory`, each enabled
/// Local APIC or x2APIC affinity structure to `cpus`, in table order.
/// Revision 1 tables carried only 8 bits of proximity domain; their upper
/// bits are ignored, as Linux does.
///
/// Errors: those of acpi_open() (signature "SRAT"); kBadRegion for an
/// affinity structure shorter than 2 bytes or than its type's layout, or
/// running past the table; kOverflow for a memory range that wraps past
/// 2^64; any error a sink returns (the walk stops there).
template <typename MemorySink, typename CpuSink>
requires NumaMemorySink<MemorySink> && NumaCpuSink<CpuSink>
[[nodiscard]] constexpr Status parse_srat(const void* data, std::size_t size_bytes,
                                          MemorySink&& memory, CpuSink&& cpus) {
    auto table = acpi_open(data, size_bytes, "SRAT", kSratHeaderSize);
    if (!table) {
        return table.error();
    }
    const unsigned char* bytes = table->bytes;
    const std::size_t length = table->length;
    const bool narrow_domains = table->revision <= 1;
    for (std::size_t at = kSratHeaderSize; at < length;) {
        if (!detail::fits(length, at, 2)) {
            return make_error(ErrorKind::kBadRegion, "SRAT structure header runs past the table");
        }
        const std::uint8_t type = bytes[at];
        const std::size_t entry_length = bytes[at + 1];
        if (entry_length < 2) {
            return make_error(ErrorKind::kBadRegion, "SRAT structure length is below 2");
        }
        if (!detail::fits(length, at, entry_length)) {
            return make_error(ErrorKind::kBadRegion, "SRAT structure runs past the table");
        }
        if (type == kSratMemory) {
            if (entry_length < kSratMemoryLength) {
                return make_error(ErrorKind::kBadRegion,
                                  "SRAT memory affinity structure is too short");
            }
            const std::uint32_t flags = detail::le32(bytes, at + 28);
            const std::uint64_t base = detail::le64(bytes, at + 8);
            const std::uint64_t size = detail::le64(bytes, at + 16);
            std::uint32_t node = detail::le32(bytes, at + 2);
            if (narrow_domains) {
                node &= 0xffU;
            }
            if ((flags & kSratEnabled) != 0 && size != 0) {
                if (size - 1 > ~std::uint64_t{0} - base) {
                    return make_error(ErrorKind::kOverflow,
                                      "SRAT memory range wraps past the top of the address space");
                }
                FRAMEALLOC_TRY(static_cast<Status>(
                    memory(NumaMemoryRange{base, size, node, (flags & kSratHotPluggable) != 0,
                                           (flags & kSratNonVolatile) != 0})));
            }
        } else if (type == kSratLocalApic) {
            if (entry_length < kSratLocalApicLength) {
                return make_error(ErrorKind::kBadRegion,
                                  "SRAT local APIC affinity structure is too short");
            }
            const std::uint32_t flags = detail::le32(bytes, at + 4);
            std::uint32_t node = bytes[at + 2];
            if (!narrow_domains) {
                node |= static_cast<std::uint32_t>(detail::load_le(bytes, at + 9, 3)) << 8;
            }
            if ((flags & kSratEnabled) != 0) {
                FRAMEALLOC_TRY(static_cast<Status>(
                    cpus(NumaCpu{bytes[at + 3], node, NumaCpu::IdKind::kApic})));
            }
        } else if (type == kSratX2Apic) {
            if (entry_length < kSratX2ApicLength) {
                return make_error(ErrorKind::kBadRegion,
                                  "SRAT x2APIC affinity structure is too short");
            }
            const std::uint32_t flags = detail::le32(bytes, at + 12);
            if ((flags & kSratEnabled) != 0) {
                FRAMEALLOC_TRY(static_cast<Status>(
                    cpus(NumaCpu{detail::le32(bytes, at + 8), detail::le32(bytes, at + 4),
                                 NumaCpu::IdKind::kX2Apic})));
            }
        }
        at += entry_length;
    }
    return {};
}

}  // namespace framealloc::memmap
