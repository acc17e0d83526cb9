// The few ACPI tables the x86_64 kernel reads, with every length checked
// before a byte past a header is touched: the RSDP (found by the BIOS scan
// of the EBDA and 0xE0000-0xFFFFF), the RSDT or XSDT it points to, any table
// by signature (find_table: the MADT here; SRAT/SLIT for a NUMA kernel), and
// the MADT's list of local APIC ids. All memory is identity-mapped.
#pragma once

#include <cstddef>
#include <cstdint>

namespace kernel::acpi {

struct [[gnu::packed]] TableHeader {
    char signature[4];
    std::uint32_t length;
    std::uint8_t revision;
    std::uint8_t checksum;
    char oem_id[6];
    char oem_table_id[8];
    std::uint32_t oem_revision;
    std::uint32_t creator_id;
    std::uint32_t creator_revision;
};
static_assert(sizeof(TableHeader) == 36);

/// Physical address of a valid RSDP (signature and checksums checked), or 0.
[[nodiscard]] std::uint64_t find_rsdp();

/// The first table with signature `sig` (4 characters, not terminated) listed
/// by the XSDT (or the RSDT when there is none), with its length and checksum
/// checked; nullptr when there is none or no RSDP.
[[nodiscard]] const TableHeader* find_table(const char sig[4]);

inline constexpr std::size_t kMaxMadtCpus = 64;

struct MadtCpus {
    std::uint32_t apic_ids[kMaxMadtCpus];
    std::size_t count = 0;    // usable CPUs (enabled or online-capable)
    std::size_t dropped = 0;  // usable CPUs beyond kMaxMadtCpus
    std::uint64_t lapic_address = 0;
};

/// Reads the MADT's processor local APIC (type 0) and x2APIC (type 9)
/// entries. Returns false with `*why` set when the MADT is missing or
/// malformed.
[[nodiscard]] bool read_madt_cpus(MadtCpus* cpus, const char** why);

}  // namespace kernel::acpi
