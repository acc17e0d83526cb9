// The AArch64 and virt-board facts the AArch64 kernel relies on: system
// register access, barriers, the PL011 UART's address, and leaving QEMU
// through Arm semihosting.
#pragma once

#include <cstdint>

namespace kernel::arm64 {

#define FRAMEALLOC_READ_SYSREG(name)                  \
    [] {                                              \
        std::uint64_t value;                          \
        asm volatile("mrs %0, " #name : "=r"(value)); \
        return value;                                 \
    }()
#define FRAMEALLOC_WRITE_SYSREG(name, value) \
    asm volatile("msr " #name ", %0" : : "r"(static_cast<std::uint64_t>(value)) : "memory")

/// QEMU virt: the first PL011 UART and the GIC distributor (hw/arm/virt.c's
/// memory map, stable across QEMU versions).
inline constexpr std::uint64_t kPl011Base = 0x09000000;
inline constexpr std::uint64_t kGicDistributorBase = 0x08000000;

/// PSCI SYSTEM_OFF through the HVC conduit QEMU's virt board uses at EL1:
/// QEMU exits with status 0, which the harness treats as failure.
[[noreturn]] inline void psci_system_off() {
    register std::uint64_t function asm("x0") = 0x84000008;
    asm volatile("hvc #0" : "+r"(function) : : "memory");
    for (;;) {
        asm volatile("wfe");
    }
}

/// Arm semihosting SYS_EXIT with ADP_Stopped_ApplicationExit and a status:
/// QEMU, started with -semihosting, exits with that status. Without
/// semihosting the HLT is an undefined instruction, which the exception
/// handler turns into psci_system_off().
[[noreturn]] inline void semihosting_exit(std::uint64_t status) {
    const std::uint64_t block[2] = {0x20026, status};
    register std::uint64_t op asm("x0") = 0x18;
    register const std::uint64_t* parameter asm("x1") = block;
    asm volatile("hlt #0xf000" : "+r"(op) : "r"(parameter) : "memory");
    psci_system_off();
}

}  // namespace kernel::arm64
