// A small hosted writer of ACPI SRAT and SLIT images laid out as the ACPI
// specification gives them (SRAT revision 3: the 36-byte common header, a
// reserved u32 of 1 and 8 reserved bytes, then affinity structures; SLIT:
// the header, an 8-byte locality count and the N x N byte matrix). The tests
// build real-layout tables with it (and then corrupt them byte by byte), and
// the fuzz seed generator turns the real maps into NUMA tables with it.
#pragma once

#include <cstdint>
#include <vector>

namespace framealloc::memmap_text {

class SratBuilder {
  public:
    explicit SratBuilder(std::uint8_t revision = 3);
    /// Type 0, 16 bytes: Processor Local APIC/SAPIC Affinity.
    void local_apic(std::uint8_t apic_id, std::uint32_t domain, bool enabled = true);
    /// Type 1, 40 bytes: Memory Affinity.
    void memory(std::uint64_t base, std::uint64_t length, std::uint32_t domain, bool enabled = true,
                bool hot_pluggable = false, bool non_volatile = false);
    /// Type 2, 24 bytes: Processor Local x2APIC Affinity.
    void x2apic(std::uint32_t x2apic_id, std::uint32_t domain, bool enabled = true);
    /// Any other structure: `type`, then `length` - 2 bytes of `fill`.
    void other(std::uint8_t type, std::uint8_t length, std::uint8_t fill = 0);
    /// The finished table: length and checksum filled in.
    [[nodiscard]] std::vector<std::uint8_t> finish() const;

  private:
    std::vector<std::uint8_t> bytes_;
};

/// A SLIT of `localities` x `localities` entries, row-major.
[[nodiscard]] std::vector<std::uint8_t> build_slit(std::uint64_t localities,
                                                   const std::vector<std::uint8_t>& matrix);

/// Writes the common header's length field and fixes the checksum byte so
/// that the table sums to zero again (after a test edited it).
void acpi_seal(std::vector<std::uint8_t>& table);

}  // namespace framealloc::memmap_text
