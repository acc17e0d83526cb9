// What the shared kernel code (console, memory bring-up, self-test) needs from
// the machine it runs on. Each port implements this once: x86_64/platform.cpp
// for the Multiboot and UEFI boots (COM1, isa-debug-exit, x86 page tables) and
// aarch64/platform.cpp for QEMU's virt board (PL011, semihosting, the MMU).
// Nothing in common/ uses inline assembly or a device address directly.
#pragma once

#include <cstddef>
#include <cstdint>

namespace kernel::platform {

/// Outcome of a run, as the test harness reads it. Every port maps these to
/// QEMU exit status 33 (success) and 35 (failure), so one script judges all
/// boots; 0 (a reset or triple fault under -no-reboot) is never success.
enum class ExitCode : std::uint8_t { kSuccess, kFailure };

inline constexpr int kQemuStatusSuccess = 33;
inline constexpr int kQemuStatusFailure = 35;

/// Brings up the debug UART; output before this call is lost.
void serial_init();

/// Writes one byte to the debug UART, waiting until the UART takes it.
void serial_write(char c);

/// Leaves QEMU with `code`; halts forever where there is no QEMU to leave.
[[noreturn]] void exit(ExitCode code);

/// Dense index of the running CPU: 0 for the boot CPU, 1..N-1 for the others
/// in start-up order. Always 0 on a port that runs on one CPU.
[[nodiscard]] unsigned cpu_index();

/// A device window the self-test allocates by address: it lies in no RAM
/// region, so framealloc must make a reserved region for it on the spot. The
/// frame is never read or written.
struct DeviceFrame {
    std::uint64_t address;
    const char* name;
};

/// The board's device frames the self-test claims; `*count` gets how many.
[[nodiscard]] const DeviceFrame* device_frames(std::size_t* count);

/// Supplies one 4 KiB frame for a translation table and returns its physical
/// address, or returns false.
using TableFrameSource = bool (*)(void* context, std::uint64_t* frame_phys);

struct MappingInfo {
    std::uint64_t mapped_bytes = 0;
    std::uint32_t table_frames = 0;
};

/// Identity-maps all RAM in [ram_base, ram_top) (and the devices the kernel uses)
/// with translation tables built from frames `source` hands out, and switches
/// to them. Called once, with framealloc in early mode and no heap yet. On
/// failure returns false with the reason in `*why`.
[[nodiscard]] bool map_memory(std::uint64_t ram_base, std::uint64_t ram_top,
                              TableFrameSource source, void* context, MappingInfo* info,
                              const char** why);

}  // namespace kernel::platform
