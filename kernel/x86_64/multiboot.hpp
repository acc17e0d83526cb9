// What the kernel learns from the Multiboot1 info block: where the memory-map
// buffer is (framealloc::memmap::parse_multiboot1_mmap turns it into regions)
// and where the loader's own structures (info block, memory-map buffer,
// command line, modules) lie, so that they can be reserved before the frame
// allocator hands their frames out. The layout facts come from the Multiboot
// 0.6.96 specification; the parsing is done here with no allocator and no heap.
#pragma once

#include <cstddef>
#include <cstdint>

namespace kernel {

/// The value a Multiboot1 loader leaves in EAX.
inline constexpr std::uint32_t kMultibootBootloaderMagic = 0x2BADB002;

/// A byte range the loader put somewhere in RAM that must survive allocation.
struct BootRange {
    std::uint64_t base = 0;
    std::uint64_t length = 0;
    const char* what = "";
};

/// Everything parsed from the info block. Fixed arrays: there is no heap yet.
struct BootInfo {
    static constexpr std::size_t kMaxBootRanges = 16;

    BootRange boot_ranges[kMaxBootRanges];
    std::size_t boot_range_count = 0;
    /// Ranges with no room left; nonzero means some loader data is unprotected.
    std::size_t boot_ranges_dropped = 0;

    /// The memory-map buffer: entries of {u32 size, u64 base, u64 length, u32 type}.
    std::uint64_t mmap_addr = 0;
    std::uint32_t mmap_length = 0;

    const char* command_line = nullptr;
    const char* loader_name = nullptr;
};

/// Fills `out` from the info block at physical address `info_phys` (identity
/// mapped). Returns false, with a reason in `*error`, when the magic is wrong
/// or the loader gave no memory map (flags bit 6 clear).
[[nodiscard]] bool parse_multiboot_info(std::uint32_t magic, std::uint32_t info_phys, BootInfo& out,
                                        const char** error);

}  // namespace kernel
