// The names the documentation's C++ examples use without defining them: the
// allocator, the regions and addresses a kernel would have at hand, and the
// kernel's own helpers (panic, kmalloc, a serial port). Declared only: the
// examples they serve are compiled, not run.
#pragma once

#include <cstddef>
#include <cstdint>

#include <framealloc/framealloc.hpp>
#include <framealloc/memmap.hpp>

using namespace framealloc;
namespace fa = framealloc;
namespace fm = framealloc::memmap;

// The kernel's helpers.
[[noreturn]] void panic(const char* message);
[[noreturn]] void halt_forever();
void serial_write(const char* text);
struct PerCpu {
    unsigned index;
};
PerCpu* this_cpu();
void* kmalloc_aligned(std::size_t bytes, std::size_t align);
void kfree(void* memory);
void* my_alloc(void* context, std::size_t bytes, std::size_t align);
void my_free(void* context, void* memory, std::size_t bytes, std::size_t align);
struct HeapLock {
    void lock();
    void unlock();
};
extern HeapLock heap_lock;

// What the firmware and the linker gave.
struct E820Entry {
    std::uint64_t base;
    std::uint64_t length;
    std::uint32_t type;
};
extern E820Entry e820_entries[32];
extern std::uint64_t kernel_start, kernel_size;
extern Span<const PhysicalMemoryRegion> free_regions, reserved_regions;
extern Span<const PhysicalMemoryRegion> node0_ram, node1_ram;
extern const void* map;
extern std::size_t map_size, descriptor_size;

// Allocators and the values the examples pass them.
extern FrameAllocator alloc;
extern FrameAllocator allocator;
extern std::uint64_t lo, hi;
extern PhysicalAddress addr_2m_plus_4k;
extern FrameRange<> dimm, bar;
extern VirtualAddress va, va_lo, va_hi;
extern std::size_t bytes;
extern PageRange<> sub_range;
extern HeapHooks hooks;
