// FrameEngine: the physical frame allocator's engine. The general pool -- the
// memory nearly every allocation comes from -- lives in a FrameBitmap whose
// size is fixed at init, so no general-pool allocation, free, split or merge
// ever needs bookkeeping memory. The reserved pool (firmware tables, device
// memory; few, large, handed out by address only) and the region lists of
// both pools stay in a RangeEngine: a handful of nodes from the allocator's
// fixed node array.
//
// It offers the allocator what RangeEngine offered, with the general pool's
// free state read from the bitmap instead of from free chunks. Locking: the
// methods marked "fast" lock the bitmap's trees themselves and need no other
// lock; every other method expects the caller's lock held, and those that
// read or change the general pool's frames also the trees involved (all of
// them: TreesGuard; a range's: with_trees_of).
#pragma once

#include <cstddef>
#include <cstdint>

#include "framealloc/detail/frame_bitmap.hpp"
#include "framealloc/detail/range_engine.hpp"
#include "framealloc/result.hpp"
#include "framealloc/span.hpp"

namespace framealloc::detail {

class FrameEngine {
  public:
    static constexpr unsigned kGeneralPool = RangeEngine::kGeneralPool;
    static constexpr unsigned kReservedPool = RangeEngine::kReservedPool;
    static constexpr unsigned kNewRegion = RangeEngine::kNewRegion;
    static constexpr unsigned kAnyPool = RangeEngine::kAnyPool;
    /// Span-table entries kept free for general regions added after init.
    static constexpr std::uint64_t kSpareSpans = 64;

    /// Metadata bytes a general piece [first, last] needs, with tree records
    /// of `tree_stride` bytes (TreeLockShape::stride()).
    [[nodiscard]] static constexpr std::size_t piece_bytes(std::uint64_t first, std::uint64_t last,
                                                           std::size_t tree_stride) {
        return FrameBitmap::span_bytes(first, last, tree_stride) + sizeof(BitmapSpan);
    }
    /// What cutting one more piece out of the general regions can add at most
    /// (a reserved region inside a free one splits it: one more span, one
    /// area and one tree counted twice).
    [[nodiscard]] static constexpr std::size_t split_bytes(std::size_t tree_stride) {
        return piece_bytes(0, 0, tree_stride);
    }
    /// Fixed part of the metadata: the spare table entries and alignment.
    [[nodiscard]] static constexpr std::size_t fixed_bytes() {
        return FrameBitmap::table_bytes(kSpareSpans);
    }

    [[nodiscard]] bool initialized() const { return ranges_.initialized(); }
    [[nodiscard]] NodePool& nodes() { return ranges_.nodes(); }
    [[nodiscard]] const NodePool& nodes() const { return ranges_.nodes(); }
    [[nodiscard]] const IntervalSet& regions(Pool p) const { return ranges_.regions(p); }
    [[nodiscard]] const FrameBitmap& bitmap() const { return bitmap_; }

    /// Every tree of the bitmap locked for the guard's life (lock order: the
    /// caller's own lock first).
    template <typename Lock>
    class TreesGuard {
      public:
        explicit TreesGuard(const FrameEngine& e)
            : bitmap_(e.bitmap_), spans_(bitmap_.lock_all<Lock>()) {}
        TreesGuard(const TreesGuard&) = delete;
        TreesGuard& operator=(const TreesGuard&) = delete;
        ~TreesGuard() { bitmap_.unlock_all<Lock>(spans_); }

      private:
        const FrameBitmap& bitmap_;
        std::uint64_t spans_;
    };
    /// f() with the trees of [s, e] locked.
    template <typename Lock, typename F>
    decltype(auto) with_trees_of(std::uint64_t s, std::uint64_t e, F&& f) {
        return bitmap_.with_trees_of<Lock>(s, e, static_cast<F&&>(f));
    }

    // ---- init: begin, every reserved range, every free range, finish.

    [[nodiscard]] Status begin_init(Node* storage, Index storage_count, std::byte* metadata,
                                    std::size_t metadata_bytes, TreeLockShape locks) {
        FRAMEALLOC_TRY(ranges_.begin_init(storage, storage_count));
        metadata_ = metadata;
        metadata_bytes_ = metadata_bytes;
        locks_ = locks;
        return {};
    }
    [[nodiscard]] Status init_reserved(std::uint64_t s, std::uint64_t e) {
        return ranges_.init_reserved(s, e);
    }
    [[nodiscard]] Status init_free(std::uint64_t s, std::uint64_t e) {
        return ranges_.init_free(s, e);
    }
    [[nodiscard]] Status finish_init() {
        const IntervalSet& general = ranges_.regions(Pool::kGeneral);
        const std::uint64_t spans = general.count() + kSpareSpans;
        std::size_t need = FrameBitmap::table_bytes(spans);
        general.for_each([&](const Node& n) {
            need += FrameBitmap::span_bytes(n.start, n.end, locks_.stride());
            return true;
        });
        if (metadata_ == nullptr || metadata_bytes_ < need ||
            !bitmap_.attach(metadata_, metadata_bytes_, spans, locks_)) {
            return make_error(ErrorKind::kCapacityExhausted,
                              "the metadata memory is smaller than metadata_bytes() asks for");
        }
        general.for_each([&](const Node& n) { return bitmap_.add_span(n.start, n.end); });
        return ranges_.finish_init(/*general_chunks=*/false);
    }
    void abort_init() {
        ranges_.abort_init();
        bitmap_ = FrameBitmap();
    }

    // ---- allocation and release

    /// Fast: `c.count` frames from the general pool inside one tree of the
    /// bitmap, starting at `cursor`'s; kNoUnit when no tree has them alone.
    template <typename Lock>
    [[nodiscard]] std::uint64_t allocate_fast(BitmapCursor& cursor, const Constraint& c,
                                              unsigned cpu) {
        return bitmap_.allocate_fast<Lock>(cursor, c, cpu);
    }
    /// Fast: returns general-pool frames; false (nothing changed) on a double
    /// free.
    template <typename Lock>
    [[nodiscard]] bool release_general(std::uint64_t s, std::uint64_t e) {
        return bitmap_.release<Lock>(s, e) == FrameBitmap::Release::kDone;
    }

    /// Takes `c.count` frames from the general pool (every tree locked).
    /// `handles` is accepted for RangeEngine's signature; general handles
    /// need no bookkeeping.
    [[nodiscard]] Result<Taken> allocate(const Constraint& c, Index handles = 1) {
        (void)handles;
        const std::uint64_t s = bitmap_.allocate(c);
        if (s != kNoUnit) {
            return Taken{s, s + c.count - 1, Pool::kGeneral};
        }
        if (bitmap_.free() >= c.count) {
            return make_error(ErrorKind::kNotEnoughContiguous,
                              "free frames exist but no run satisfies the request");
        }
        return make_error(ErrorKind::kOutOfMemory, "not enough free frames");
    }

    /// Takes exactly [s, e]: from the reserved pool, else the general pool,
    /// else (no region touching it) from a new reserved region. `pools` as in
    /// RangeEngine::allocate_at.
    [[nodiscard]] Result<Taken> allocate_at(std::uint64_t s, std::uint64_t e, Index handles = 1,
                                            unsigned pools = kAnyPool) {
        if ((pools & kReservedPool) != 0) {
            const IntervalSet& chunks = ranges_.chunks(Pool::kReserved);
            const Index n = chunks.containing(s);
            if (n != kNil && chunks.node(n).end >= e) {
                return ranges_.allocate_at(s, e, handles, kReservedPool);
            }
        }
        if ((pools & kGeneralPool) != 0 && ranges_.regions(Pool::kGeneral).covers(s, e) &&
            bitmap_.all_free(s, e)) {
            bitmap_.take(s, e);
            return Taken{s, e, Pool::kGeneral};
        }
        if ((pools & kNewRegion) != 0 && !ranges_.regions(Pool::kGeneral).overlaps(s, e) &&
            !ranges_.regions(Pool::kReserved).overlaps(s, e)) {
            return ranges_.allocate_at(s, e, handles, kNewRegion);
        }
        if (ranges_.regions(Pool::kGeneral).covers(s, e) ||
            ranges_.regions(Pool::kReserved).covers(s, e)) {
            return make_error(ErrorKind::kAddressInUse,
                              "some requested frames are already allocated");
        }
        return make_error(ErrorKind::kOutsideAllocator,
                          "the range is partly outside the regions this allocator manages");
    }

    /// Returns [s, e] to pool `p` (the range's trees locked). False (and no
    /// change) when any frame of it is free already: a double free.
    [[nodiscard]] bool release(std::uint64_t s, std::uint64_t e, Pool p, Index handles = 1) {
        if (p == Pool::kReserved) {
            return ranges_.release(s, e, p, handles);
        }
        if (!bitmap_.spans_cover(s, e) || !bitmap_.none_free(s, e)) {
            return false;
        }
        bitmap_.give(s, e);
        return true;
    }

    // ---- regions at run time

    /// Adds region [s, e] of pool `p`; its frames are free. The bitmap of a
    /// general region's new frames comes from `metadata` when given, else
    /// from what init's metadata memory has left.
    [[nodiscard]] Status add_region(std::uint64_t s, std::uint64_t e, Pool p,
                                    Span<std::byte> metadata = {});
    /// Takes [s, e] offline; it must lie in one region and be entirely free.
    [[nodiscard]] Status remove_region(std::uint64_t s, std::uint64_t e);

    // ---- observation

    /// True when any frame of [s, e] is free in pool `p`.
    [[nodiscard]] bool any_free(Pool p, std::uint64_t s, std::uint64_t e) const {
        if (p == Pool::kReserved) {
            return ranges_.chunks(p).overlaps(s, e);
        }
        return bitmap_.any_free(s, e);
    }
    /// Calls f(first, last) on each maximal free run of pool `p` in address
    /// order while it returns true.
    template <typename F>
    void for_each_free_run(Pool p, F&& f) const {
        if (p == Pool::kReserved) {
            ranges_.chunks(p).for_each([&](const Node& n) { return f(n.start, n.end); });
            return;
        }
        bitmap_.for_each_run(0, ~0ULL,
                             [&](std::uint64_t s, std::uint64_t len) { return f(s, s + len - 1); });
    }

    [[nodiscard]] EnginePoolStats stats(Pool p) const {
        if (p == Pool::kReserved) {
            return ranges_.stats(p);
        }
        EnginePoolStats st;
        st.total = ranges_.regions(p).units();
        st.free = bitmap_.free();
        for_each_free_run(p, [&](std::uint64_t s, std::uint64_t e) {
            ++st.chunks;
            st.largest = e - s + 1 > st.largest ? e - s + 1 : st.largest;
            return true;
        });
        return st;
    }

    /// Validates both halves and that they agree.
    [[nodiscard]] Status check() const;

  private:
    RangeEngine ranges_;
    FrameBitmap bitmap_;
    std::byte* metadata_ = nullptr;
    std::size_t metadata_bytes_ = 0;
    TreeLockShape locks_;
};

inline Status FrameEngine::add_region(std::uint64_t s, std::uint64_t e, Pool p,
                                      Span<std::byte> metadata) {
    if (p == Pool::kReserved) {
        return ranges_.add_region(s, e, p);
    }
    // The parts outside every span need spans of their own: check there is
    // room for all of them before changing anything.
    std::uint64_t pieces = 0;
    std::size_t bytes = 0;
    const auto for_each_uncovered = [&](auto&& f) {
        std::uint64_t cur = s;
        for (std::uint64_t i = bitmap_.next_span(cur); i != kNoUnit && cur <= e;
             i = bitmap_.next_span(cur)) {
            const BitmapSpan& sp = bitmap_.span(i);
            if (sp.first > e) {
                break;
            }
            if (sp.first > cur) {
                f(cur, sp.first - 1);
            }
            if (sp.last >= e) {
                return;
            }
            cur = sp.last + 1;
        }
        if (cur <= e) {
            f(cur, e);
        }
    };
    for_each_uncovered([&](std::uint64_t a, std::uint64_t b) {
        ++pieces;
        bytes += FrameBitmap::span_bytes(a, b, locks_.stride());
    });
    if (ranges_.regions(Pool::kGeneral).overlaps(s, e) ||
        ranges_.regions(Pool::kReserved).overlaps(s, e)) {
        return make_error(ErrorKind::kBadRegion, "the region overlaps an existing region");
    }
    MetadataArena extra(metadata.data(), metadata.size());
    MetadataArena* arena = metadata.empty() ? nullptr : &extra;
    const std::size_t room = arena != nullptr ? extra.left() : bitmap_.metadata_left();
    if (pieces > bitmap_.spans_left() || bytes > room) {
        return make_error(ErrorKind::kCapacityExhausted,
                          "no metadata memory left for the region's bitmap");
    }
    FRAMEALLOC_TRY(ranges_.add_region_entry(s, e, p));
    // Frames already inside spans were marked taken (outside any region):
    // they become free; the rest get new spans, free from the start.
    for (std::uint64_t i = 0; i < bitmap_.span_count(); ++i) {
        const BitmapSpan& sp = bitmap_.span(i);
        const std::uint64_t lo = s > sp.first ? s : sp.first;
        const std::uint64_t hi = e < sp.last ? e : sp.last;
        if (lo <= hi) {
            bitmap_.give(lo, hi);
        }
    }
    std::uint64_t new_first[kSpareSpans];
    std::uint64_t new_last[kSpareSpans];
    std::uint64_t n = 0;
    for_each_uncovered([&](std::uint64_t a, std::uint64_t b) {
        if (n < kSpareSpans) {
            new_first[n] = a;
            new_last[n] = b;
            ++n;
        }
    });
    for (std::uint64_t i = 0; i < n; ++i) {
        (void)bitmap_.add_span(new_first[i], new_last[i], arena);
    }
    return {};
}

inline Status FrameEngine::remove_region(std::uint64_t s, std::uint64_t e) {
    const IntervalSet& general = ranges_.regions(Pool::kGeneral);
    const Index r = general.containing(s);
    if (r == kNil || general.node(r).end < e) {
        return ranges_.remove_region(s, e);  // the reserved pool, or no region
    }
    if (!bitmap_.all_free(s, e)) {
        return make_error(ErrorKind::kRegionBusy, "some frames of the region are allocated");
    }
    FRAMEALLOC_TRY(ranges_.remove_region_entry(s, e, Pool::kGeneral));
    bitmap_.take(s, e);  // outside every region now: reads as taken
    return {};
}

inline Status FrameEngine::check() const {
    FRAMEALLOC_TRY(ranges_.check());
    if (const char* why = bitmap_.check()) {
        return make_error(ErrorKind::kInvariantViolation, why);
    }
    if (ranges_.chunks(Pool::kGeneral).count() != 0) {
        return make_error(ErrorKind::kInvariantViolation,
                          "check: the general pool has free chunks besides its bitmap");
    }
    const IntervalSet& general = ranges_.regions(Pool::kGeneral);
    bool ok = general.for_each([&](const Node& n) { return bitmap_.spans_cover(n.start, n.end); });
    if (!ok) {
        return make_error(ErrorKind::kInvariantViolation,
                          "check: a general region lies outside the bitmap's spans");
    }
    bitmap_.for_each_run(0, ~0ULL, [&](std::uint64_t s, std::uint64_t len) {
        ok = general.covers(s, s + len - 1);
        return ok;
    });
    if (!ok) {
        return make_error(ErrorKind::kInvariantViolation,
                          "check: a free frame of the bitmap lies outside the general regions");
    }
    return {};
}

}  // namespace framealloc::detail
