// The few x86_64 and QEMU-board facts the x86_64 kernels (Multiboot and UEFI)
// rely on: port I/O, control registers, halting, and leaving QEMU through the
// isa-debug-exit device. Everything here is inline so the rest of the kernel reads as plain
// C++ without inline assembly scattered through it.
#pragma once

#include <cstdint>

namespace kernel {

inline void outb(std::uint16_t port, std::uint8_t value) {
    asm volatile("outb %0, %1" : : "a"(value), "Nd"(port) : "memory");
}

inline void outl(std::uint16_t port, std::uint32_t value) {
    asm volatile("outl %0, %1" : : "a"(value), "Nd"(port) : "memory");
}

[[nodiscard]] inline std::uint8_t inb(std::uint16_t port) {
    std::uint8_t value;
    asm volatile("inb %1, %0" : "=a"(value) : "Nd"(port) : "memory");
    return value;
}

[[nodiscard]] inline std::uint64_t read_cr2() {
    std::uint64_t value;
    asm volatile("mov %%cr2, %0" : "=r"(value));
    return value;
}

[[nodiscard]] inline std::uint64_t read_cr3() {
    std::uint64_t value;
    asm volatile("mov %%cr3, %0" : "=r"(value));
    return value;
}

inline void write_cr3(std::uint64_t value) {
    asm volatile("mov %0, %%cr3" : : "r"(value) : "memory");
}

/// Time stamp counter; only used to report how long phases take.
[[nodiscard]] inline std::uint64_t read_tsc() {
    std::uint32_t low;
    std::uint32_t high;
    asm volatile("rdtsc" : "=a"(low), "=d"(high));
    return (static_cast<std::uint64_t>(high) << 32) | low;
}

[[noreturn]] inline void halt_forever() {
    for (;;) {
        asm volatile("cli; hlt");
    }
}

/// Values written to QEMU's isa-debug-exit port (iobase 0xf4). QEMU exits with
/// status (value << 1) | 1, so neither code can be confused with the 0 that a
/// triple fault under -no-reboot produces, or with QEMU's own error status 1.
inline constexpr std::uint16_t kDebugExitPort = 0xf4;
inline constexpr std::uint32_t kExitSuccess = 0x10;  // QEMU status 33
inline constexpr std::uint32_t kExitFailure = 0x11;  // QEMU status 35

/// Leaves QEMU with the given code. Without the debug-exit device (real
/// hardware, or QEMU started without it) the write is ignored and the CPU halts.
[[noreturn]] inline void qemu_exit(std::uint32_t code) {
    outl(kDebugExitPort, code);
    halt_forever();
}

}  // namespace kernel
