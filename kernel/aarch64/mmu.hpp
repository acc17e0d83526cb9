// Identity mapping for the AArch64 kernel: one level-1 translation table of
// 1 GiB blocks (4 KiB granule, 39-bit addresses, so one table covers
// 512 GiB). The first GiB, where the virt board keeps its devices, is
// Device-nGnRnE; every GiB that holds RAM is normal write-back memory; the
// rest is unmapped.
#pragma once

#include <cstdint>

namespace kernel::mmu {

/// Bytes one level-1 table can map.
inline constexpr std::uint64_t kMaxMapped = std::uint64_t{512} << 30;

/// Fills the 512 entries of `table` for RAM [ram_base, ram_top) and returns
/// the bytes mapped (one past the last mapped byte); 0 if ram_top is beyond
/// kMaxMapped.
std::uint64_t fill_identity_table(std::uint64_t* table, std::uint64_t ram_base,
                                  std::uint64_t ram_top);

/// Loads `table` into TTBR0_EL1 and turns on the MMU and caches (or, if they
/// are already on, switches tables and flushes the TLB).
void install(const std::uint64_t* table);

}  // namespace kernel::mmu
