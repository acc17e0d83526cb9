// FrameBitmap: the free/allocated state of the general pool, one bit per
// frame, in memory the caller hands over at init and that never grows.
//
// Frames are grouped in 2 MiB areas of 512 frames (8 words of bits). A span
// is a run of areas covering one general region as it was at init (or as
// added later); beside its bits it keeps, per area, the free count and an
// upper bound on its longest free run, and per span two bitmaps with one bit
// per area: "entirely free" and "partly free". So:
//   - a single frame is a bit in a partly free area found from a hint;
//   - a 2 MiB frame is one set bit of the "entirely free" bitmap;
//   - any other run is a walk in address order that jumps over full areas
//     with the two area bitmaps, over entirely free ones in one step, and
//     over areas whose bound shows the run cannot start inside them.
// An entirely free area's bit words are never read: init leaves them
// unwritten (so init costs nothing per frame) and the first allocation in
// the area writes them. Bits outside the regions (span edges, frames taken
// offline) are set, as if allocated; which frames are in a region is the
// caller's knowledge, not this class's.
//
// Cost: 64 + 4 bytes per area plus 2 bits per area, i.e. 1.07 bits per
// frame, plus one table entry per span. Every method expects the caller's
// lock to be held.
#pragma once

#include <cstddef>
#include <cstdint>

#include "framealloc/detail/bit_runs.hpp"
#include "framealloc/detail/range_engine.hpp"
#include "framealloc/detail/run_walk.hpp"
#include "framealloc/result.hpp"

namespace framealloc::detail {

inline constexpr std::uint64_t kAreaFrames = 512;
inline constexpr std::uint64_t kAreaWords = kAreaFrames / 64;

/// One span of areas and its bookkeeping.
struct BitmapSpan {
    std::uint64_t first = 0;  // first frame of the span
    std::uint64_t last = 0;   // last frame
    std::uint64_t area0 = 0;  // absolute number of its first area
    std::uint64_t areas = 0;
    std::uint64_t free = 0;
    std::uint64_t hint = 0;               // word of `partial` where single-frame searches start
    std::uint64_t* bits = nullptr;        // kAreaWords per area; set = not free
    std::uint16_t* area_free = nullptr;   // free frames per area
    std::uint16_t* area_bound = nullptr;  // no free run inside the area is longer
    std::uint64_t* whole = nullptr;       // per area: all 512 frames free
    std::uint64_t* partial = nullptr;     // per area: some free, not all

    [[nodiscard]] constexpr std::uint64_t area_words() const { return (areas + 63) / 64; }
    [[nodiscard]] constexpr std::uint64_t area_start(std::uint64_t r) const {
        return (area0 + r) * kAreaFrames;
    }
    [[nodiscard]] constexpr bool is_whole(std::uint64_t r) const {
        return ((whole[r / 64] >> (r % 64)) & 1U) != 0;
    }
    [[nodiscard]] constexpr bool contains(std::uint64_t f) const { return f >= first && f <= last; }
    // The free mask of word w (0..7) of area r.
    [[nodiscard]] constexpr std::uint64_t free_word(std::uint64_t r, std::uint64_t w) const {
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
        next_ = reinterpret_cast<std::byte*>(aligned + count * sizeof(T));
        return reinterpret_cast<T*>(aligned);
    }
    [[nodiscard]] std::size_t left() const { return static_cast<std::size_t>(end_ - next_); }

  private:
    std::byte* next_ = nullptr;
    std::byte* end_ = nullptr;
};

class FrameBitmap {
  public:
    /// Metadata bytes for a span over frames [first, last], alignment included.
    [[nodiscard]] static constexpr std::size_t span_bytes(std::uint64_t first, std::uint64_t last) {
        const std::uint64_t areas = last / kAreaFrames - first / kAreaFrames + 1;
        const std::uint64_t words = (areas + 63) / 64;
        return static_cast<std::size_t>(areas * (kAreaWords * 8 + 4) + words * 16 + 64 + 16);
    }
    /// Metadata bytes for a table of `spans` entries.
    [[nodiscard]] static constexpr std::size_t table_bytes(std::uint64_t spans) {
        return static_cast<std::size_t>(spans * sizeof(BitmapSpan) + alignof(BitmapSpan));
    }

    constexpr FrameBitmap() = default;

    /// Takes `bytes` of metadata memory and room for `max_spans` spans in it.
    [[nodiscard]] bool attach(std::byte* memory, std::size_t bytes, std::uint64_t max_spans) {
        *this = FrameBitmap();
        arena_ = MetadataArena(memory, bytes);
        spans_ = arena_.take<BitmapSpan>(max_spans);
        if (spans_ == nullptr) {
            return false;
        }
        capacity_ = max_spans;
        metadata_ = bytes;
        return true;
    }
    [[nodiscard]] std::uint64_t span_count() const { return count_; }
    [[nodiscard]] const BitmapSpan& span(std::uint64_t i) const { return spans_[i]; }
    [[nodiscard]] std::uint64_t free() const { return free_; }
    /// Metadata memory handed over at attach().
    [[nodiscard]] std::size_t metadata_bytes() const { return metadata_; }
    /// Bytes of it no span uses yet (room for regions added later).
    [[nodiscard]] std::size_t metadata_left() const { return arena_.left(); }
    [[nodiscard]] std::uint64_t spans_left() const { return capacity_ - count_; }
    [[nodiscard]] bool can_add_span(std::uint64_t first, std::uint64_t last,
                                    const MetadataArena* arena = nullptr) const {
        return count_ < capacity_ &&
               (arena != nullptr ? arena : &arena_)->left() >= span_bytes(first, last);
    }

    /// A new span over [first, last], all free, overlapping no span, its
    /// bookkeeping carved from `arena` (default: the memory given at attach).
    /// False (nothing changed) when the table or the memory is full.
    [[nodiscard]] bool add_span(std::uint64_t first, std::uint64_t last,
                                MetadataArena* arena = nullptr);

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

    /// Finds and takes a run meeting `c`; kNoUnit when there is none.
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

  private:
    [[nodiscard]] std::uint64_t find_span(std::uint64_t frame) const;
    [[nodiscard]] bool all_in_state(std::uint64_t s, std::uint64_t e, bool free) const;
    void set_state(std::uint64_t s, std::uint64_t e, bool free);
    void set_area_state(BitmapSpan& sp, std::uint64_t r, std::uint64_t lo, std::uint64_t hi,
                        bool free);
    void refile(BitmapSpan& sp, std::uint64_t r);

    [[nodiscard]] std::uint64_t allocate_one();
    [[nodiscard]] std::uint64_t allocate_whole_areas(const Constraint& c);
    template <typename Sink>
    void walk(std::uint64_t lo, std::uint64_t hi, Sink& sink) const;
    template <typename Merger>
    void walk_area(const BitmapSpan& sp, std::uint64_t r, std::uint64_t lo, std::uint64_t hi,
                   Merger& out) const;

    // Size classes for next-fit hints: 1 frame, up to a word, up to an
    // area, and larger.
    static constexpr unsigned size_class(std::uint64_t count) {
        return count == 1 ? 0U : count <= 64 ? 1U : count < kAreaFrames ? 2U : 3U;
    }

    MetadataArena arena_;
    std::uint64_t next_fit_[4] = {};
    BitmapSpan* spans_ = nullptr;  // sorted by address, disjoint
    std::uint64_t count_ = 0;
    std::uint64_t capacity_ = 0;
    std::uint64_t free_ = 0;
    std::uint64_t hint_span_ = 0;
    std::size_t metadata_ = 0;
};

}  // namespace framealloc::detail

#include "framealloc/detail/frame_bitmap_impl.hpp"
