// FrameBitmap: the free/allocated state of the general pool, one bit per
// frame, in memory the caller hands over at init and that never grows.
//
// Frames are grouped in 2 MiB areas of 512 frames (8 words of bits), areas
// in trees of 64 (128 MiB). A span is a run of areas covering one general
// region as it was at init (or as added later); beside its bits it keeps,
// per area, the free count and an upper bound on its longest free run, and
// per tree one cache line: an "entirely free" and a "partly free" word with
// one bit per area, the tree's free count, and the tree's lock. So:
//   - a single frame is a bit in a partly free area of some tree;
//   - a 2 MiB frame is one set bit of a tree's "entirely free" word;
//   - any other run is a walk in address order that jumps over full areas
//     with the two words, over entirely free ones in one step, and over
//     areas whose bound shows the run cannot start inside them.
// An entirely free area's bit words are never read: init leaves them
// unwritten (so init costs nothing per frame) and the first allocation in
// the area writes them. Bits outside the regions (span edges, frames taken
// offline) are set, as if allocated; which frames are in a region is the
// caller's knowledge, not this class's.
//
// Locking (the class takes the tree locks itself; the caller names their
// type): a tree's lock guards its line and its areas. The fast paths --
// allocate_fast() for runs that fit in one tree, release() -- lock one tree,
// or the few a run covers, so CPUs working in different trees share no
// written cache line. Everything else expects the caller to hold every tree
// (lock_all()) and, for the span table, the caller's own lock. Trees are
// always locked in one order (span table index, then tree), so any mix of
// the two never deadlocks. Spans are only ever appended, never moved or
// changed after they are published, so the fast paths read the table
// without a lock.
//
// Cost: 64 + 4 bytes per area plus one line per tree, i.e. about 1.08 bits
// per frame, plus one table entry per span.
#pragma once

#include <cstddef>
#include <cstdint>
#include <new>

#include "framealloc/detail/bit_runs.hpp"
#include "framealloc/detail/range_engine.hpp"
#include "framealloc/detail/run_walk.hpp"
#include "framealloc/result.hpp"

namespace framealloc::detail {

inline constexpr std::uint64_t kAreaFrames = 512;
inline constexpr std::uint64_t kAreaWords = kAreaFrames / 64;
inline constexpr std::uint64_t kTreeAreas = 64;
inline constexpr std::uint64_t kTreeFrames = kTreeAreas * kAreaFrames;

// Relaxed atomic access to a word some paths read without its lock.
[[nodiscard]] inline std::uint64_t load_relaxed(const std::uint64_t& v) {
    return __atomic_load_n(&v, __ATOMIC_RELAXED);
}
inline void store_relaxed(std::uint64_t& v, std::uint64_t x) {
    __atomic_store_n(&v, x, __ATOMIC_RELAXED);
}

/// The head of one tree's cache line; the tree's lock follows it.
struct BitmapTree {
    std::uint64_t whole = 0;    // per area: all 512 frames free
    std::uint64_t partial = 0;  // per area: some free, not all
    std::uint64_t free = 0;     // free frames; written under the lock, read without it
    std::uint64_t owner = 0;    // 1 + the CPU allocating here, or 0; a hint (relaxed atomics)
};

/// Size and alignment of the caller's lock type, and how to build one in place.
struct TreeLockShape {
    std::size_t size = 0;
    std::size_t align = 1;
    void (*make)(void*) = nullptr;

    template <typename Lock>
    [[nodiscard]] static constexpr TreeLockShape of() {
        return {sizeof(Lock), alignof(Lock), [](void* at) { ::new (at) Lock(); }};
    }
    /// Where the lock sits in a tree's record, and the record's size: whole
    /// cache lines, so no two trees share one.
    [[nodiscard]] constexpr std::size_t lock_offset() const {
        return (sizeof(BitmapTree) + align - 1) / align * align;
    }
    [[nodiscard]] constexpr std::size_t stride() const {
        return (lock_offset() + size + 63) / 64 * 64;
    }
};

/// Where one CPU's fast-path allocations start: the tree it last found room
/// in, and per size class the frame after its last run there. Read and
/// written with relaxed atomics (threads may share a CPU number).
struct alignas(64) BitmapCursor {
    std::uint64_t span = ~0ULL;
    std::uint64_t tree = 0;
    std::uint64_t next_fit[4] = {};
};

/// One span of areas and its bookkeeping. Immutable once published: what
/// changes lives behind its pointers, guarded by the tree locks.
struct BitmapSpan {
    std::uint64_t first = 0;  // first frame of the span
    std::uint64_t last = 0;   // last frame
    std::uint64_t area0 = 0;  // absolute number of its first area
    std::uint64_t areas = 0;
    std::uint64_t* bits = nullptr;        // kAreaWords per area; set = not free
    std::uint16_t* area_free = nullptr;   // free frames per area
    std::uint16_t* area_bound = nullptr;  // no free run inside the area is longer
    std::byte* trees = nullptr;           // one record of `stride` bytes per 64 areas
    std::size_t stride = 0;
    std::size_t lock_offset = 0;

    [[nodiscard]] constexpr std::uint64_t tree_count() const {
        return (areas + kTreeAreas - 1) / kTreeAreas;
    }
    [[nodiscard]] BitmapTree& tree(std::uint64_t j) const {
        return *std::launder(reinterpret_cast<BitmapTree*>(trees + j * stride));
    }
    [[nodiscard]] void* lock_of(std::uint64_t j) const { return trees + j * stride + lock_offset; }
    [[nodiscard]] constexpr std::uint64_t area_start(std::uint64_t r) const {
        return (area0 + r) * kAreaFrames;
    }
    /// The frames of tree j inside the span.
    [[nodiscard]] constexpr std::uint64_t tree_first(std::uint64_t j) const {
        const std::uint64_t a = area_start(j * kTreeAreas);
        return a > first ? a : first;
    }
    [[nodiscard]] constexpr std::uint64_t tree_last(std::uint64_t j) const {
        const std::uint64_t r = (j + 1) * kTreeAreas < areas ? (j + 1) * kTreeAreas : areas;
        const std::uint64_t a = area_start(r) - 1;
        return a < last ? a : last;
    }
    [[nodiscard]] constexpr std::uint64_t tree_of(std::uint64_t frame) const {
        return (frame / kAreaFrames - area0) / kTreeAreas;
    }
    [[nodiscard]] bool is_whole(std::uint64_t r) const {
        return ((tree(r / 64).whole >> (r % 64)) & 1U) != 0;
    }
    [[nodiscard]] constexpr bool contains(std::uint64_t f) const { return f >= first && f <= last; }
    // The free mask of word w (0..7) of area r.
    [[nodiscard]] std::uint64_t free_word(std::uint64_t r, std::uint64_t w) const {
        return is_whole(r) ? kAllOnes : ~bits[r * kAreaWords + w];
    }
};

/// Carves typed arrays out of the caller's metadata memory.
class MetadataArena {
  public:
    constexpr MetadataArena() = default;
    constexpr MetadataArena(std::byte* base, std::size_t bytes) : next_(base), end_(base + bytes) {}

    template <typename T>
    [[nodiscard]] T* take(std::uint64_t count, std::size_t align = alignof(T)) {
        const auto at = reinterpret_cast<std::uintptr_t>(next_);
        const std::uintptr_t aligned = (at + align - 1) & ~(std::uintptr_t{align} - 1);
        const std::uintptr_t room = reinterpret_cast<std::uintptr_t>(end_);
        if (aligned > room || (room - aligned) / sizeof(T) < count) {
            return nullptr;
        }
        std::byte* start = next_ + (aligned - at);  // pointer arithmetic, no int-to-pointer
        next_ = start + count * sizeof(T);
        return reinterpret_cast<T*>(start);
    }
    [[nodiscard]] std::size_t left() const { return static_cast<std::size_t>(end_ - next_); }

  private:
    std::byte* next_ = nullptr;
    std::byte* end_ = nullptr;
};

class FrameBitmap {
  public:
    /// What release() found.
    enum class Release : std::uint8_t { kDone, kDoubleFree };

    /// Metadata bytes for a span over frames [first, last], alignment
    /// included, with tree records of `tree_stride` bytes.
    [[nodiscard]] static constexpr std::size_t span_bytes(std::uint64_t first, std::uint64_t last,
                                                          std::size_t tree_stride) {
        const std::uint64_t areas = last / kAreaFrames - first / kAreaFrames + 1;
        const std::uint64_t trees = (areas + kTreeAreas - 1) / kTreeAreas;
        // Four arrays, each aligned to a cache line.
        return static_cast<std::size_t>(areas * (kAreaWords * 8 + 4) + trees * tree_stride +
                                        std::uint64_t{4} * 64);
    }
    /// Metadata bytes for a table of `spans` entries.
    [[nodiscard]] static constexpr std::size_t table_bytes(std::uint64_t spans) {
        return static_cast<std::size_t>(spans * sizeof(BitmapSpan) + alignof(BitmapSpan));
    }

    constexpr FrameBitmap() = default;

    /// Takes `bytes` of metadata memory and room for `max_spans` spans in it;
    /// every tree gets a lock of `locks`' shape.
    [[nodiscard]] bool attach(std::byte* memory, std::size_t bytes, std::uint64_t max_spans,
                              TreeLockShape locks = {}) {
        *this = FrameBitmap();
        arena_ = MetadataArena(memory, bytes);
        spans_ = arena_.take<BitmapSpan>(max_spans);
        if (spans_ == nullptr || locks.align > 64 || (locks.size != 0 && locks.make == nullptr)) {
            return false;
        }
        capacity_ = max_spans;
        metadata_ = bytes;
        locks_ = locks;
        return true;
    }
    [[nodiscard]] std::size_t tree_stride() const { return locks_.stride(); }
    /// Spans published so far (safe without a lock).
    [[nodiscard]] std::uint64_t span_count() const {
        return __atomic_load_n(&count_, __ATOMIC_ACQUIRE);
    }
    [[nodiscard]] const BitmapSpan& span(std::uint64_t i) const { return spans_[i]; }
    /// Free frames: exact with every tree locked, a recent value otherwise.
    [[nodiscard]] std::uint64_t free() const;
    /// Metadata memory handed over at attach().
    [[nodiscard]] std::size_t metadata_bytes() const { return metadata_; }
    /// Bytes of it no span uses yet (room for regions added later).
    [[nodiscard]] std::size_t metadata_left() const { return arena_.left(); }
    [[nodiscard]] std::uint64_t spans_left() const { return capacity_ - count_; }
    [[nodiscard]] bool can_add_span(std::uint64_t first, std::uint64_t last,
                                    const MetadataArena* arena = nullptr) const {
        return count_ < capacity_ && (arena != nullptr ? arena : &arena_)->left() >=
                                         span_bytes(first, last, locks_.stride());
    }

    /// A new span over [first, last], all free, overlapping no span, its
    /// bookkeeping carved from `arena` (default: the memory given at attach).
    /// False (nothing changed) when the table or the memory is full. Callers
    /// after init hold every tree and their own lock.
    [[nodiscard]] bool add_span(std::uint64_t first, std::uint64_t last,
                                MetadataArena* arena = nullptr);

    /// The span holding `frame`, else the first one after it, in address
    /// order; kNoUnit when there is none.
    [[nodiscard]] std::uint64_t next_span(std::uint64_t frame) const;

    // ---- with every tree locked (or the trees of [s, e])

    /// True when every frame of [s, e] lies in some span.
    [[nodiscard]] bool spans_cover(std::uint64_t s, std::uint64_t e) const;
    /// True when every frame of [s, e] (inside spans) is free / not free.
    [[nodiscard]] bool all_free(std::uint64_t s, std::uint64_t e) const {
        return all_in_state(s, e, true);
    }
    [[nodiscard]] bool none_free(std::uint64_t s, std::uint64_t e) const {
        return all_in_state(s, e, false);
    }
    [[nodiscard]] bool any_free(std::uint64_t s, std::uint64_t e) const { return !none_free(s, e); }

    /// Marks [s, e] not free / free; the caller checked the opposite state.
    void take(std::uint64_t s, std::uint64_t e) { set_state(s, e, false); }
    void give(std::uint64_t s, std::uint64_t e) { set_state(s, e, true); }

    /// Finds and takes a run meeting `c` anywhere; kNoUnit when there is none.
    [[nodiscard]] std::uint64_t allocate(const Constraint& c);

    /// Calls f(start, length) on every maximal free run inside [lo, hi], in
    /// address order, until f returns false.
    template <typename F>
    void for_each_run(std::uint64_t lo, std::uint64_t hi, F&& f) const {
        RunSink<F> sink(f);
        walk(lo, hi, sink);
        sink.finish();
    }

    /// Recounts everything from the bits; the first inconsistency, or null.
    [[nodiscard]] const char* check() const;

    // ---- fast paths: they lock the trees they touch themselves

    /// A run meeting `c` inside one tree, starting from `cursor`'s tree and
    /// trying each tree once; kNoUnit when no single tree has one (a run
    /// across trees may still exist: the caller then locks everything and
    /// calls allocate()). `cpu` spreads the CPUs' first trees apart.
    template <typename Lock>
    [[nodiscard]] std::uint64_t allocate_fast(BitmapCursor& cursor, const Constraint& c,
                                              unsigned cpu);
    /// Frees [s, e]: kDoubleFree (nothing changed) when a frame of it is free
    /// already or outside every span.
    template <typename Lock>
    [[nodiscard]] Release release(std::uint64_t s, std::uint64_t e);
    /// Runs f() with the trees of [s, e] locked (every tree when there are
    /// many) and returns what it returns.
    template <typename Lock, typename F>
    decltype(auto) with_trees_of(std::uint64_t s, std::uint64_t e, F&& f);
    /// Every tree, in lock order; returns how many spans it covered, which
    /// unlock_all() takes to undo exactly that in reverse (a span added in
    /// between has locks nobody took).
    template <typename Lock>
    [[nodiscard]] std::uint64_t lock_all() const;
    template <typename Lock>
    void unlock_all(std::uint64_t spans) const;

  private:
    static constexpr std::uint64_t kMaxRangeTrees = 16;

    template <typename Lock>
    [[nodiscard]] static Lock& lock_of(const BitmapSpan& sp, std::uint64_t j) {
        return *std::launder(reinterpret_cast<Lock*>(sp.lock_of(j)));
    }
    [[nodiscard]] bool all_in_state(std::uint64_t s, std::uint64_t e, bool free) const;
    void set_state(std::uint64_t s, std::uint64_t e, bool free);
    // The same for [lo, hi] inside span `sp`.
    [[nodiscard]] static bool span_in_state(const BitmapSpan& sp, std::uint64_t lo,
                                            std::uint64_t hi, bool free);
    static void span_set_state(const BitmapSpan& sp, std::uint64_t lo, std::uint64_t hi, bool free);
    static void set_area_state(const BitmapSpan& sp, std::uint64_t r, std::uint64_t lo,
                               std::uint64_t hi, bool free);
    static void refile(const BitmapSpan& sp, std::uint64_t r);
    // Collects the trees of [s, e] as (span, tree) pairs in lock order;
    // false when there are more than kMaxRangeTrees.
    [[nodiscard]] bool trees_of(std::uint64_t s, std::uint64_t e, std::uint64_t* spans,
                                std::uint64_t* trees, std::uint64_t& n) const;

    [[nodiscard]] std::uint64_t allocate_one();
    [[nodiscard]] std::uint64_t allocate_whole_areas(const Constraint& c);
    // allocate_fast's work in tree j of span i, its lock held.
    [[nodiscard]] std::uint64_t allocate_in_tree(const BitmapSpan& sp, std::uint64_t j,
                                                 const Constraint& c, BitmapCursor& cursor);
    [[nodiscard]] static std::uint64_t one_in_tree(const BitmapSpan& sp, std::uint64_t j);
    template <typename Sink>
    void walk(std::uint64_t lo, std::uint64_t hi, Sink& sink) const;
    // walk()'s work inside one span.
    template <typename Merger>
    void walk_span(const BitmapSpan& sp, std::uint64_t lo, std::uint64_t hi, Merger& out) const;
    template <typename Merger>
    void walk_area(const BitmapSpan& sp, std::uint64_t r, std::uint64_t lo, std::uint64_t hi,
                   Merger& out) const;

    // Size classes for next-fit hints: 1 frame, up to a word, up to an
    // area, and larger.
    static constexpr unsigned size_class(std::uint64_t count) {
        return count == 1 ? 0U : count <= 64 ? 1U : count < kAreaFrames ? 2U : 3U;
    }

    MetadataArena arena_;
    TreeLockShape locks_;
    std::uint64_t next_fit_[4] = {};  // allocate()'s hints, under every tree
    BitmapSpan* spans_ = nullptr;     // disjoint; the first sorted_ by address
    std::uint64_t count_ = 0;         // published with release, read with acquire
    std::uint64_t sorted_ = 0;        // relaxed atomic
    std::uint64_t trees_ = 0;         // relaxed atomic: trees in all spans
    std::uint64_t capacity_ = 0;
    std::size_t metadata_ = 0;
};

}  // namespace framealloc::detail

#include "framealloc/detail/frame_bitmap_impl.hpp"
#include "framealloc/detail/frame_bitmap_search.hpp"
