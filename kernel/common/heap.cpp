// First-fit heap implementation. Every block, free or allocated, is a multiple
// of 16 bytes and starts on a 16-byte boundary, so the gap an aligned
// allocation leaves in front of itself is always big enough to stay a free
// block; nothing is ever lost to padding. Allocated blocks carry a header with
// their size and a tag derived from their address, which catches double frees
// and foreign pointers.
#include "heap.hpp"

#include "console.hpp"

namespace kernel {
namespace {

constexpr std::uint64_t kTagSeed = 0x6a09e667f3bcc908;
constexpr std::size_t kAllocatedBit = 1;

std::uintptr_t align_up(std::uintptr_t value, std::size_t align) {
    return (value + align - 1) & ~static_cast<std::uintptr_t>(align - 1);
}

std::uint64_t tag_for(std::uintptr_t header) {
    return kTagSeed ^ header;
}

}  // namespace

void Heap::set_grow_function(GrowFunction grow, void* context, std::size_t low_water) {
    grow_ = grow;
    grow_context_ = context;
    low_water_ = low_water;
}

void Heap::add_arena(void* base, std::size_t bytes) {
    auto start = align_up(reinterpret_cast<std::uintptr_t>(base), kMinAlign);
    auto end = (reinterpret_cast<std::uintptr_t>(base) + bytes) & ~(kMinAlign - 1);
    if (end <= start) {
        return;
    }
    lowest_ = start < lowest_ ? start : lowest_;
    highest_ = end > highest_ ? end : highest_;
    stats_.arena_bytes += end - start;
    ++stats_.arenas;
    insert_free(start, end - start);
}

void* Heap::allocate(std::size_t bytes, std::size_t align) {
    if (align < kMinAlign) {
        align = kMinAlign;
    }
    if ((align & (align - 1)) != 0 || bytes > (std::size_t{1} << 40)) {
        return nullptr;
    }
    std::size_t payload = align_up(bytes == 0 ? 1 : bytes, kMinAlign);
    void* memory = take_first_fit(payload, align);
    if (memory == nullptr && grow(payload + align + sizeof(BlockHeader))) {
        memory = take_first_fit(payload, align);
    }
    if (memory != nullptr && stats_.free_bytes < low_water_) {
        // Failure here is not fatal: this allocation already succeeded, and
        // the next one will try again.
        (void)grow(low_water_);
    }
    return memory;
}

void* Heap::take_first_fit(std::size_t payload, std::size_t align) {
    for (FreeBlock** link = &free_list_; *link != nullptr; link = &(*link)->next) {
        FreeBlock* block = *link;
        auto start = reinterpret_cast<std::uintptr_t>(block);
        std::uintptr_t end = start + block->size;
        std::uintptr_t user = align_up(start + sizeof(BlockHeader), align);
        if (user > end || end - user < payload) {
            continue;
        }
        std::uintptr_t header = user - sizeof(BlockHeader);
        std::uintptr_t block_end = user + payload;

        // Replace the block in the list by its leftovers, keeping address order.
        FreeBlock* next = block->next;
        FreeBlock** at = link;
        if (header > start) {
            auto* lead = reinterpret_cast<FreeBlock*>(start);
            lead->size = header - start;
            *at = lead;
            at = &lead->next;
        }
        if (end > block_end) {
            auto* trail = reinterpret_cast<FreeBlock*>(block_end);
            trail->size = end - block_end;
            *at = trail;
            at = &trail->next;
        }
        *at = next;

        auto* head = reinterpret_cast<BlockHeader*>(header);
        head->size = (block_end - header) | kAllocatedBit;
        head->tag = tag_for(header);
        stats_.free_bytes -= block_end - header;
        ++stats_.live_allocations;
        ++stats_.total_allocations;
        return reinterpret_cast<void*>(user);
    }
    return nullptr;
}

void Heap::deallocate(void* memory, std::size_t bytes, std::size_t align) {
    (void)align;
    if (memory == nullptr) {
        return;
    }
    auto user = reinterpret_cast<std::uintptr_t>(memory);
    std::uintptr_t header = user - sizeof(BlockHeader);
    if (user % kMinAlign != 0 || header < lowest_ || user >= highest_) {
        kpanic("heap: free of %p, which the heap never handed out", memory);
    }
    auto* head = reinterpret_cast<BlockHeader*>(header);
    if (head->tag != tag_for(header) || (head->size & kAllocatedBit) == 0) {
        kpanic("heap: double free or corrupted block at %p", memory);
    }
    std::size_t size = head->size & ~kAllocatedBit;
    if (bytes > size - sizeof(BlockHeader)) {
        kpanic("heap: free of %p claims %zu bytes, block holds %zu", memory, bytes,
               size - sizeof(BlockHeader));
    }
    head->tag = 0;
    --stats_.live_allocations;
    insert_free(header, size);
}

void Heap::insert_free(std::uintptr_t start, std::size_t size) {
    stats_.free_bytes += size;
    FreeBlock* previous = nullptr;
    FreeBlock* next = free_list_;
    while (next != nullptr && reinterpret_cast<std::uintptr_t>(next) < start) {
        previous = next;
        next = next->next;
    }
    auto* block = reinterpret_cast<FreeBlock*>(start);
    block->size = size;
    block->next = next;
    if (next != nullptr && start + size == reinterpret_cast<std::uintptr_t>(next)) {
        block->size += next->size;
        block->next = next->next;
    }
    if (previous == nullptr) {
        free_list_ = block;
    } else if (reinterpret_cast<std::uintptr_t>(previous) + previous->size == start) {
        previous->size += block->size;
        previous->next = block->next;
    } else {
        previous->next = block;
    }
}

bool Heap::grow(std::size_t min_bytes) {
    // A grow that allocates from this heap must not start a second grow: the
    // first one has not added its arena yet, so the second would ask for the
    // same memory again, and so on without end.
    if (grow_ == nullptr || growing_) {
        return false;
    }
    growing_ = true;
    bool grew = grow_(grow_context_, min_bytes);
    growing_ = false;
    if (grew) {
        ++stats_.grows;
    }
    return grew;
}

HeapStats Heap::stats() const {
    HeapStats result = stats_;
    result.free_blocks = 0;
    for (const FreeBlock* block = free_list_; block != nullptr; block = block->next) {
        ++result.free_blocks;
    }
    return result;
}

bool Heap::check(const char** why) const {
    std::size_t free_total = 0;
    std::uintptr_t previous_end = 0;
    for (const FreeBlock* block = free_list_; block != nullptr; block = block->next) {
        auto start = reinterpret_cast<std::uintptr_t>(block);
        if (start % kMinAlign != 0 || block->size % kMinAlign != 0 || block->size == 0) {
            *why = "free block misaligned or of bad size";
            return false;
        }
        if (start < lowest_ || start + block->size > highest_) {
            *why = "free block outside every arena";
            return false;
        }
        if (previous_end != 0 && start <= previous_end) {
            *why = "free list unsorted, overlapping or not coalesced";
            return false;
        }
        previous_end = start + block->size;
        free_total += block->size;
    }
    if (free_total != stats_.free_bytes || free_total > stats_.arena_bytes) {
        *why = "free byte counter disagrees with the free list";
        return false;
    }
    return true;
}

}  // namespace kernel
