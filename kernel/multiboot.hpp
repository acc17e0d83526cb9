// What the kernel learns from the Multiboot1 loader: the physical memory map
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

/// One memory-map entry, in the loader's terms (type 1 = usable RAM).
struct MemoryMapEntry {
    std::uint64_t base = 0;
    std::uint64_t length = 0;
    std::uint32_t type = 0;
};

/// A byte range the loader put somewhere in RAM that must survive allocation.
struct BootRange {
    std::uint64_t base = 0;
    std::uint64_t length = 0;
    const char* what = "";
};

/// Everything parsed from the info block. Fixed arrays: there is no heap yet.
struct BootInfo {
    static constexpr std::size_t kMaxMemoryMapEntries = 64;
    static constexpr std::size_t kMaxBootRanges = 16;

    MemoryMapEntry memory_map[kMaxMemoryMapEntries];
    std::size_t memory_map_count = 0;
    /// Entries the array had no room for; nonzero means the map was truncated.
    std::size_t memory_map_dropped = 0;

    BootRange boot_ranges[kMaxBootRanges];
    std::size_t boot_range_count = 0;

    /// Raw address and size of the map, for parsers that take the buffer itself.
    std::uint64_t mmap_addr = 0;
    std::uint32_t mmap_length = 0;

    const char* command_line = nullptr;
    const char* loader_name = nullptr;
};

/// Human-readable name of a Multiboot1 memory type.
[[nodiscard]] const char* multiboot_type_name(std::uint32_t type);

/// Fills `out` from the info block at physical address `info_phys` (identity
/// mapped). Returns false, with a reason in `*error`, when the magic is wrong
/// or the loader gave no memory map (flags bit 6 clear).
[[nodiscard]] bool parse_multiboot_info(std::uint32_t magic, std::uint32_t info_phys, BootInfo& out,
                                        const char** error);

}  // namespace kernel
