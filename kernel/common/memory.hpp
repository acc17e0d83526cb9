// Memory bring-up for the demo kernel, in the order a real kernel needs it:
// firmware map -> framealloc (early mode, fixed storage) -> page tables built
// from allocated frames -> a heap built from allocated frames -> framealloc
// moved onto that heap. Each boot path (Multiboot, UEFI, device tree) parses
// its firmware's map into BootRegions with framealloc::memmap, adds what its
// firmware or loader still uses as reserved regions, and hands over here. After memory_init()
// returns, the kernel's frame allocator is in heap mode and the kernel heap grows on demand by
// taking frames from it.
#pragma once

#include <cstdint>

#include "framealloc/memmap.hpp"
#include "heap.hpp"

namespace kernel {

/// Room for a firmware map: OVMF's UEFI map alone has around a hundred
/// descriptors, most of them reserved.
inline constexpr std::size_t kMaxBootRegions = 256;
using BootRegions = framealloc::memmap::RegionList<kMaxBootRegions>;

/// Adds [base, base + length) to `regions` as reserved; panics (naming
/// `what`) when the range is invalid or the list is full.
void reserve_range(BootRegions& regions, std::uint64_t base, std::uint64_t length,
                   const char* what);

/// What the rest of the kernel (the self-test) needs to know about memory.
struct MemoryFacts {
    /// First byte of the lowest usable RAM region (0 on a PC, 1 GiB on virt).
    std::uint64_t ram_base = 0;
    /// One past the last byte of usable RAM; everything below is mapped.
    std::uint64_t ram_top = 0;
    std::uint64_t kernel_image_start = 0;
    std::uint64_t kernel_image_frames = 0;
    /// Frames taken before the heap existed (page tables, first heap arena).
    std::uint64_t early_allocations = 0;
    std::uint32_t page_table_frames = 0;
};

/// How the heap and framealloc fed each other; evidence for the report.
struct HeapGrowthFacts {
    /// Heap grows that happened inside one of framealloc's heap hooks, i.e.
    /// framealloc asked the heap for bookkeeping memory and the heap had to
    /// take frames from framealloc to serve it.
    std::uint64_t grows_inside_hook = 0;
    /// DeferredAllocActions that still had work pending when the heap ran them
    /// after adding the new arena.
    std::uint64_t deferred_actions_pending = 0;
};

[[nodiscard]] const HeapGrowthFacts& heap_growth_facts();

/// Runs the whole sequence above on the firmware's regions; the kernel image
/// [image_start, image_start + image_bytes) is reserved here (and claimed
/// with allocate_frames_at once framealloc runs). Panics on any error.
/// `after_init`, if set, runs right after framealloc's init (the kernel image
/// claimed, nothing else allocated yet).
void memory_init(BootRegions& regions, std::uint64_t image_start, std::uint64_t image_bytes,
                 void (*after_init)() = nullptr);

[[nodiscard]] const MemoryFacts& memory_facts();

/// The kernel heap, backed by frames from framealloc. Direct use takes no
/// lock: only while a single CPU runs with interrupts off (the single-CPU
/// self-test, checks with the other CPUs parked).
[[nodiscard]] Heap& kernel_heap();

/// The kernel heap for code that may run on any CPU: allocate/deallocate under
/// the heap's interrupt-masking lock.
[[nodiscard]] void* heap_allocate_shared(std::size_t bytes, std::size_t align);
void heap_deallocate_shared(void* memory, std::size_t bytes, std::size_t align);

/// Frames the heap has taken from framealloc so far (they are never given
/// back: the heap does not shrink), so a caller can tell heap growth apart
/// from leaked frames when comparing allocator statistics.
[[nodiscard]] std::uint64_t heap_frames_taken();

}  // namespace kernel
