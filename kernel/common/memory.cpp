// Memory bring-up: takes the regions a boot path parsed from its firmware's
// map, claims the frames the kernel image uses, and builds page tables and the heap out of
// frames framealloc hands out while it still runs on its built-in early
// storage. The heap's grow path is where framealloc and the heap meet: the
// heap asks framealloc for frames with allocate_frames_deferred(), adds them
// as an arena, and only then lets the DeferredAllocAction run -- that action
// may grow framealloc's own bookkeeping from this very heap, which now has
// the room to serve it.
#include "memory.hpp"

#include <new>
#include <utility>

#include "console.hpp"
#include "frame_allocator.hpp"
#include "framealloc/framealloc.hpp"
#include "framealloc/memmap.hpp"
#include "platform.hpp"

namespace kernel {
namespace {

using framealloc::AllocRequest;
using framealloc::PhysicalAddress;
using framealloc::PhysicalMemoryRegion;

constexpr std::uint64_t kFourGiB = std::uint64_t{4} << 30;
// The first arena is deliberately smaller than what move_to_heap() asks for
// (node array plus per-CPU caches, about 80 KiB), so the heap already has to
// grow from inside framealloc's allocate hook during the move.
constexpr std::uint64_t kInitialHeapFrames = 8;
constexpr std::uint64_t kHeapGrowMinFrames = 32;
constexpr std::size_t kHeapLowWater = 16 * 1024;
// Room at the start of an arena for the handle that owns the arena's frames.
constexpr std::size_t kArenaHeaderBytes = 64;
static_assert(sizeof(framealloc::AllocatedFrames<>) <= kArenaHeaderBytes);

constinit KernelFrameAllocator allocator;
constinit Heap heap;
// Every CPU (and, on x86_64, the timer interrupt through framealloc's heap
// hooks) uses the heap. The holder may come back while it holds the lock: a
// heap grow asks framealloc for frames, whose deferred action may call the
// heap hook again on the same CPU.
constinit RecursiveIrqLock heap_lock;
constinit MemoryFacts facts;
std::uint64_t heap_frames = 0;
constinit HeapGrowthFacts growth;
// Depth of framealloc heap-hook calls in progress (they can nest once: a hook
// grows the heap, whose deferred action may call the hook again).
unsigned hook_depth = 0;
// The kernel image is in use from the first instruction; the handle says so
// to framealloc (nobody can allocate these frames, not even by address) and
// is never destroyed, as a mapped handle must not be. Raw storage plus
// placement new says so in code: a plain global would register a destructor
// with __cxa_atexit, i.e. need a global constructor, which the UEFI image
// (no .init_array) must not have.
alignas(framealloc::MappedFrames<>) unsigned char kernel_image[sizeof(framealloc::MappedFrames<>)];

[[noreturn]] void fail(const char* step, const framealloc::Error& error) {
    kpanic("%s: %s (%s)", step, framealloc::to_string(error.kind), error.message);
}

template <typename T>
T take(framealloc::Result<T>&& result, const char* step) {
    if (!result) {
        fail(step, result.error());
    }
    return std::move(result.value());
}

void check_status(const framealloc::Status& status, const char* step) {
    if (!status) {
        fail(step, status.error());
    }
}

void print_allocator_state(const char* when) {
    const framealloc::FrameStats st = frame_allocator().stats();
    kprintf(
        "framealloc-kernel: %s: %s mode, general free %lu/%lu frames in %lu chunks, "
        "reserved %lu frames, nodes %u used + %u reserved of %u\n",
        when, st.heap_mode ? "heap" : "early", st.general.free_frames, st.general.total_frames,
        st.general.free_chunks, st.reserved.total_frames, st.nodes_used, st.nodes_reserved,
        st.nodes_capacity);
}

// Page-table frames must be reachable through the boot mapping while the new
// tables are built (x86_64's boot tables cover 4 GiB; AArch64 builds them
// with the MMU off), hence below 4 GiB. They go to the page tables for good.
bool page_table_frame(void*, std::uint64_t* phys) {
    auto frames = frame_allocator().allocate(AllocRequest::frames(1).below(kFourGiB));
    if (!frames) {
        return false;
    }
    *phys = frames.value().start_address().value();
    (void)std::move(frames.value()).into_mapped().into_page_table();
    ++facts.page_table_frames;
    ++facts.early_allocations;
    return true;
}

// Takes `frames` frames from framealloc and gives them to the heap. Memory is
// identity-mapped, so a frame's physical address is the arena's pointer.
bool add_heap_arena(std::uint64_t frames) {
    auto allocation = frame_allocator().allocate_frames_deferred({}, frames);
    if (!allocation) {
        return false;
    }
    framealloc::DeferredAllocation deferred = std::move(allocation.value());
    if (!frame_allocator().heap_mode()) {
        ++facts.early_allocations;
    }
    auto* base = reinterpret_cast<char*>(deferred.frames.start_address().value());
    std::size_t bytes = deferred.frames.size_in_bytes();
    // The arena owns its frames through a handle stored in its own first bytes.
    new (base) framealloc::AllocatedFrames<>(std::move(deferred.frames));
    heap.add_arena(base + kArenaHeaderBytes, bytes - kArenaHeaderBytes);
    heap_frames += frames;
    if (hook_depth != 0) {
        ++growth.grows_inside_hook;
    }
    if (deferred.action.pending()) {
        ++growth.deferred_actions_pending;
    }
    // Only now may framealloc refill its bookkeeping from the heap.
    deferred.action.run();
    return true;
}

// Heap::GrowFunction: called from inside Heap::allocate(), which may itself be
// running inside one of framealloc's heap hooks.
bool grow_heap(void*, std::size_t min_bytes) {
    std::uint64_t frames = (min_bytes + kArenaHeaderBytes + 4095) / 4096;
    return add_heap_arena(frames < kHeapGrowMinFrames ? kHeapGrowMinFrames : frames);
}

void* heap_allocate(void*, std::size_t bytes, std::size_t align) {
    framealloc::LockGuard<RecursiveIrqLock> guard(heap_lock);
    ++hook_depth;
    void* memory = heap.allocate(bytes, align);
    --hook_depth;
    return memory;
}

void heap_deallocate(void*, void* memory, std::size_t bytes, std::size_t align) {
    framealloc::LockGuard<RecursiveIrqLock> guard(heap_lock);
    heap.deallocate(memory, bytes, align);
}

void print_regions(const BootRegions& regions) {
    kprintf("framealloc-kernel: firmware memory map:\n");
    for (const auto list : {regions.free_regions(), regions.reserved_regions()}) {
        for (const PhysicalMemoryRegion& r : list) {
            kprintf("  [0x%016lx - 0x%016lx) %s\n", r.frames.start_address().value(),
                    (r.frames.end().number() + 1) * 4096, framealloc::to_string(r.type));
        }
    }
}

}  // namespace

KernelFrameAllocator& frame_allocator() {
    return allocator;
}

void reserve_range(BootRegions& regions, std::uint64_t base, std::uint64_t length,
                   const char* what) {
    auto region = take(
        PhysicalMemoryRegion::from_bytes(base, length, framealloc::MemoryRegionType::kReserved),
        what);
    check_status(regions.add(region), what);
}

void memory_init(BootRegions& regions, std::uint64_t image_start, std::uint64_t image_bytes,
                 void (*after_init)()) {
    // 1. The firmware map, already parsed by the boot path with framealloc's
    // own parser, and what its loader or firmware still uses.
    facts.ram_base = ~std::uint64_t{0};
    for (const PhysicalMemoryRegion& r : regions.free_regions()) {
        std::uint64_t start = r.frames.start_address().value();
        std::uint64_t end = (r.frames.end().number() + 1) * 4096;
        facts.ram_top = end > facts.ram_top ? end : facts.ram_top;
        facts.ram_base = start < facts.ram_base ? start : facts.ram_base;
    }
    if (regions.free_regions().size() == 0) {
        kpanic("the firmware map has no usable RAM");
    }
    print_regions(regions);

    // 2. The kernel image, in use from the first instruction.
    facts.kernel_image_start = image_start;
    facts.kernel_image_frames = (image_bytes + 4095) / 4096;
    reserve_range(regions, image_start, facts.kernel_image_frames * 4096,
                  "reserving the kernel image");
    kprintf("framealloc-kernel: %zu free and %zu reserved regions, RAM 0x%lx-0x%lx\n",
            regions.free_regions().size(), regions.reserved_regions().size(), facts.ram_base,
            facts.ram_top);

    // 3. framealloc. Its bitmap (about 1.07 bits per usable frame) is carved
    // out of the lowest free frames the boot-time identity map reaches, above
    // the first megabyte, and stays allocated from then on.
    framealloc::MetadataPlacement placement;
    placement.direct_map_offset = 0;  // identity-mapped
    placement.lowest = PhysicalAddress::new_canonical(0x100000);
    placement.highest = PhysicalAddress::new_canonical((std::uint64_t{4} << 30) - 1);
    (void)take(frame_allocator().init_carving_metadata(regions.free_regions(),
                                                       regions.reserved_regions(), placement),
               "framealloc init");
    kprintf(
        "framealloc-kernel: metadata %lu bytes for %lu usable frames, carved from free memory\n",
        static_cast<unsigned long>(frame_allocator().stats().metadata_bytes),
        static_cast<unsigned long>(frame_allocator().stats().general.total_frames));
    new (kernel_image) framealloc::MappedFrames<>(
        take(frame_allocator().allocate_frames_at(
                 PhysicalAddress::new_canonical(facts.kernel_image_start),
                 facts.kernel_image_frames),
             "claiming the kernel image")
            .into_mapped());
    if (after_init != nullptr) {
        after_init();
    }
    print_allocator_state("after init");

    // 4. Translation tables from allocated frames, covering all RAM.
    platform::MappingInfo map{};
    const char* why = nullptr;
    if (!platform::map_memory(facts.ram_base, facts.ram_top, page_table_frame, nullptr, &map,
                              &why)) {
        kpanic("building page tables: %s", why);
    }
    kprintf(
        "framealloc-kernel: early mode: %u page-table frames allocated, identity map "
        "0-0x%lx installed\n",
        map.table_frames, map.mapped_bytes);

    // 5. The heap, from frames, still with framealloc in early mode.
    heap.set_grow_function(grow_heap, nullptr, kHeapLowWater);
    if (!add_heap_arena(kInitialHeapFrames)) {
        kpanic("no frames for the first heap arena");
    }
    kprintf("framealloc-kernel: early mode: heap arena of %lu frames allocated\n", heap_frames);
    print_allocator_state("before move_to_heap");

    // 6. framealloc moves its bookkeeping onto that heap.
    framealloc::HeapHooks hooks;
    hooks.allocate = heap_allocate;
    hooks.deallocate = heap_deallocate;
    check_status(frame_allocator().move_to_heap(hooks), "move_to_heap");
    const HeapStats hs = heap.stats();
    kprintf(
        "framealloc-kernel: moved to heap: heap %zu KiB in %zu arenas (%zu grows), "
        "%zu KiB free\n",
        hs.arena_bytes / 1024, hs.arenas, hs.grows, hs.free_bytes / 1024);
    print_allocator_state("after move_to_heap");
}

const MemoryFacts& memory_facts() {
    return facts;
}

void* heap_allocate_shared(std::size_t bytes, std::size_t align) {
    return heap_allocate(nullptr, bytes, align);
}

void heap_deallocate_shared(void* memory, std::size_t bytes, std::size_t align) {
    heap_deallocate(nullptr, memory, bytes, align);
}

Heap& kernel_heap() {
    return heap;
}

const HeapGrowthFacts& heap_growth_facts() {
    return growth;
}

std::uint64_t heap_frames_taken() {
    return heap_frames;
}

}  // namespace kernel
