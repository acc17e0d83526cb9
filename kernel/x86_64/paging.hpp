// The kernel's own page tables. boot.S maps only the first 4 GiB, from tables
// in .bss; with more RAM (QEMU -m 4G puts 1 GiB above 4 GiB) the kernel needs
// a bigger identity map before it touches that memory. This builds one sized
// from the memory map, out of frames the caller supplies (from framealloc, in
// its early mode, before any heap exists), and switches CR3 to it.
#pragma once

#include <cstdint>

namespace kernel {

/// Supplies one 4 KiB frame for a page table and returns its physical
/// address, or returns false. The frame need not be zeroed.
using PageTableFrameSource = bool (*)(void* context, std::uint64_t* frame_phys);

struct IdentityMapInfo {
    std::uint64_t mapped_bytes = 0;
    std::uint32_t table_frames = 0;
};

/// Identity-maps [0, top) rounded up to 1 GiB (at least 4 GiB, for the APIC
/// and other devices below 4 GiB) with 2 MiB pages and loads it into CR3.
/// Returns false with the reason in `*why` if a frame could not be had or
/// `top` exceeds what four-level paging reaches; CR3 is then unchanged
/// (frames already taken stay with the caller's source: boot cannot go on).
[[nodiscard]] bool install_identity_map(std::uint64_t top, PageTableFrameSource source,
                                        void* context, IdentityMapInfo* info, const char** why);

}  // namespace kernel
