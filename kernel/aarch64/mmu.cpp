// The MMU set-up. MAIR attribute 0 is Device-nGnRnE, attribute 1 normal
// memory, inner and outer write-back with read/write allocation. TCR: T0SZ 25
// (39-bit addresses, walks start at level 1), 4 KiB granule, write-back
// inner-shareable table walks, TTBR1 walks disabled, 40-bit physical
// addresses.
#include "mmu.hpp"

#include "arm64.hpp"

namespace kernel::mmu {
namespace {

constexpr std::uint64_t kOneGiB = std::uint64_t{1} << 30;
constexpr std::uint64_t kBlock = 0b01;
constexpr std::uint64_t kAttrDevice = 0 << 2;
constexpr std::uint64_t kAttrNormal = 1 << 2;
constexpr std::uint64_t kInnerShareable = 3 << 8;
constexpr std::uint64_t kAccessFlag = 1 << 10;
constexpr std::uint64_t kPrivilegedNoExecute = std::uint64_t{1} << 53;
constexpr std::uint64_t kUnprivilegedNoExecute = std::uint64_t{1} << 54;

constexpr std::uint64_t kMair = 0x00 | (0xffu << 8);
constexpr std::uint64_t kTcr = 25                           // T0SZ
                               | (1u << 8) | (1u << 10)     // IRGN0, ORGN0: write-back
                               | (3u << 12)                 // SH0: inner shareable
                               | (0u << 14)                 // TG0: 4 KiB
                               | (1u << 23)                 // EPD1: no TTBR1 walks
                               | (std::uint64_t{2} << 32);  // IPS: 40 bits
constexpr std::uint64_t kSctlrMmu = 1u << 0;
constexpr std::uint64_t kSctlrDataCache = 1u << 2;
constexpr std::uint64_t kSctlrInstructionCache = 1u << 12;

}  // namespace

std::uint64_t fill_identity_table(std::uint64_t* table, std::uint64_t ram_base,
                                  std::uint64_t ram_top) {
    if (ram_top > kMaxMapped) {
        return 0;
    }
    std::uint64_t mapped = 0;
    for (std::uint64_t i = 0; i < 512; ++i) {
        const std::uint64_t start = i * kOneGiB;
        const std::uint64_t end = start + kOneGiB;
        std::uint64_t entry = 0;
        if (start < ram_top && end > ram_base) {
            entry = start | kBlock | kAttrNormal | kInnerShareable | kAccessFlag;
        } else if (i == 0) {
            entry = start | kBlock | kAttrDevice | kAccessFlag | kPrivilegedNoExecute |
                    kUnprivilegedNoExecute;
        }
        table[i] = entry;
        mapped = entry != 0 ? end : mapped;
    }
    return mapped;
}

void install(const std::uint64_t* table) {
    asm volatile("dsb ish" ::: "memory");
    FRAMEALLOC_WRITE_SYSREG(mair_el1, kMair);
    FRAMEALLOC_WRITE_SYSREG(tcr_el1, kTcr);
    FRAMEALLOC_WRITE_SYSREG(ttbr0_el1, reinterpret_cast<std::uintptr_t>(table));
    asm volatile("isb; tlbi vmalle1; dsb ish; isb" ::: "memory");
    std::uint64_t sctlr = FRAMEALLOC_READ_SYSREG(sctlr_el1);
    sctlr |= kSctlrMmu | kSctlrDataCache | kSctlrInstructionCache;
    FRAMEALLOC_WRITE_SYSREG(sctlr_el1, sctlr);
    asm volatile("isb" ::: "memory");
}

}  // namespace kernel::mmu
