// The demo kernel's heap: a first-fit, address-ordered free list over arenas
// of physical frames that framealloc hands out (identity-mapped, so a frame's
// physical address is also its pointer). It exists to prove framealloc's heap
// hand-over: the allocator starts on its fixed early storage, then moves its
// bookkeeping onto this heap, and this heap in turn grows by asking the same
// allocator for frames from inside its own allocate path. The heap itself has
// no lock: memory.cpp serialises every use from framealloc's hooks and from
// other CPUs with one interrupt-masking lock its holder may re-take. It does
// have to be re-entrant across a grow, which is why it grows before it runs dry.
#pragma once

#include <cstddef>
#include <cstdint>

namespace kernel {

struct HeapStats {
    std::size_t arena_bytes = 0;
    std::size_t free_bytes = 0;
    std::size_t live_allocations = 0;
    std::size_t total_allocations = 0;
    std::size_t arenas = 0;
    std::size_t grows = 0;
    std::size_t free_blocks = 0;
};

class Heap {
  public:
    /// Adds at least `min_bytes` of fresh memory through add_arena(); returns
    /// false when no memory can be had. Called with the heap consistent, so it
    /// may allocate from this heap itself (e.g. framealloc bookkeeping).
    using GrowFunction = bool (*)(void* context, std::size_t min_bytes);

    static constexpr std::size_t kMinAlign = 16;

    constexpr Heap() = default;
    Heap(const Heap&) = delete;
    Heap& operator=(const Heap&) = delete;

    /// `low_water`: grow as soon as free bytes drop below it, so that the
    /// allocations a grow itself causes are served from what is left.
    void set_grow_function(GrowFunction grow, void* context, std::size_t low_water);

    /// Hands the memory [base, base + bytes) to the heap for good.
    void add_arena(void* base, std::size_t bytes);

    /// `bytes` bytes aligned to `align` (a power of two), or nullptr.
    [[nodiscard]] void* allocate(std::size_t bytes, std::size_t align);

    /// Frees memory from allocate(); `bytes` must not exceed what was asked
    /// for. A pointer the heap did not hand out, or a double free, panics.
    void deallocate(void* memory, std::size_t bytes, std::size_t align);

    [[nodiscard]] HeapStats stats() const;

    /// Validates the free list (sorted, coalesced, inside the arenas) and the
    /// byte counters; on failure returns false with the reason in `*why`.
    [[nodiscard]] bool check(const char** why) const;

  private:
    struct FreeBlock {
        std::size_t size;
        FreeBlock* next;
    };
    struct BlockHeader {
        std::size_t size;
        std::uint64_t tag;
    };
    static_assert(sizeof(FreeBlock) == kMinAlign && sizeof(BlockHeader) == kMinAlign);

    [[nodiscard]] void* take_first_fit(std::size_t payload, std::size_t align);
    void insert_free(std::uintptr_t start, std::size_t size);
    bool grow(std::size_t min_bytes);

    FreeBlock* free_list_ = nullptr;
    GrowFunction grow_ = nullptr;
    void* grow_context_ = nullptr;
    std::size_t low_water_ = 0;
    bool growing_ = false;
    std::uintptr_t lowest_ = ~std::uintptr_t{0};
    std::uintptr_t highest_ = 0;
    HeapStats stats_;
};

}  // namespace kernel
