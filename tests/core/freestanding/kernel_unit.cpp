// A translation unit as a kernel would write it: the whole public core, built
// with -ffreestanding -fno-exceptions -fno-rtti -nostdlib and linked with no
// C or C++ runtime. Only the documented hooks (framealloc_panic,
// framealloc_cpu_id) and the four memory routines every freestanding C++
// compiler may emit calls to are defined here. If the core ever needs more,
// this link fails.
#include <framealloc/framealloc.hpp>

namespace {
// A second allocator besides the default one; eternal, so no destructor is registered.
framealloc::GlobalFrameAllocator g_local;

void* bump_allocate(void* context, std::size_t bytes, std::size_t align) {
    auto* cursor = static_cast<unsigned char**>(context);
    auto address = reinterpret_cast<unsigned long>(*cursor);
    address = (address + align - 1) & ~(align - 1);
    *cursor = reinterpret_cast<unsigned char*>(address + bytes);
    return reinterpret_cast<void*>(address);
}
void bump_deallocate(void*, void*, std::size_t, std::size_t) {}
alignas(64) unsigned char g_heap[1 << 20];
unsigned char* g_cursor = g_heap;
}  // namespace

#include "runtime.hpp"

extern "C" {
// Exercises every kind of call so that nothing is optimised away.
int kernel_main() {
    using namespace framealloc;
    PhysicalMemoryRegion free_regions[] = {
        PhysicalMemoryRegion::from_bytes(0x100000, 0x7f00000, MemoryRegionType::kFree).value()};
    PhysicalMemoryRegion reserved_regions[] = {
        PhysicalMemoryRegion::from_bytes(0xfee00000, 0x1000, MemoryRegionType::kReserved).value()};
    int failures = 0;
    for (auto* a : {&g_local}) {
        if (!a->init(free_regions, reserved_regions))
            ++failures;
    }
    if (!init(free_regions, reserved_regions))
        ++failures;
    {
        auto early = allocate_frames(4);
        auto at = allocate_frames_at(PhysicalAddress::new_canonical(0xfee00000), 1);
        auto deferred = allocate_frames_deferred({}, 2);
        auto huge = g_local.allocate_huge<Page2M>();
        failures += early && at && deferred && huge ? 0 : 1;
        auto split = early->split_at(early->start() + 1);
        failures += split ? 0 : 1;
        if (split)
            failures += split->first.merge(split->second) ? 0 : 1;
    }
    HeapHooks hooks{bump_allocate, bump_deallocate, &g_cursor};
    failures += g_local.move_to_heap(hooks) ? 0 : 1;
    {
        auto single = g_local.allocate_frames(1);
        auto dma = g_local.allocate(AllocRequest::frames(16).aligned(16).below(1ULL << 32));
        failures += single && dma ? 0 : 1;
    }
    unsigned long lines = 0;
    g_local.dump([&](const char*) { ++lines; });
    failures += g_local.check() ? 0 : 1;
    failures += default_frame_allocator().check() ? 0 : 1;
    return failures + (lines == 0 ? 1 : 0);
}

void _start() {
    const int result = kernel_main();
    for (;;) {
        (void)result;
    }
}
}
