// FrameBitmap's searches: the fast path inside one tree, the full search
// with every tree locked, and the walk both use. Included by
// frame_bitmap.hpp only.
#pragma once

#include "framealloc/detail/frame_bitmap.hpp"

namespace framealloc::detail {

inline std::uint64_t FrameBitmap::one_in_tree(const BitmapSpan& sp, std::uint64_t j) {
    // Partly free areas first, so entirely free ones stay whole for 2 MiB
    // frames; then an entirely free one.
    const BitmapTree& t = sp.tree(j);
    if (t.partial != 0) {
        const std::uint64_t r = j * kTreeAreas + static_cast<unsigned>(__builtin_ctzll(t.partial));
        const std::uint64_t* words = &sp.bits[r * kAreaWords];
        for (std::uint64_t w = 0; w < kAreaWords; ++w) {
            if (~words[w] != 0) {
                return sp.area_start(r) + w * 64 +
                       static_cast<unsigned>(__builtin_ctzll(~words[w]));
            }
        }
    }
    if (t.whole != 0) {
        return sp.area_start(j * kTreeAreas + static_cast<unsigned>(__builtin_ctzll(t.whole)));
    }
    return kNoUnit;
}

inline std::uint64_t FrameBitmap::allocate_one() {
    const std::uint64_t n = span_count();
    for (std::uint64_t i = 0; i < n; ++i) {
        const BitmapSpan& sp = spans_[i];
        for (std::uint64_t j = 0; j < sp.tree_count(); ++j) {
            const std::uint64_t frame = one_in_tree(sp, j);
            if (frame != kNoUnit) {
                take(frame, frame);
                return frame;
            }
        }
    }
    return kNoUnit;
}

inline std::uint64_t FrameBitmap::allocate_whole_areas(const Constraint& c) {
    if (c.max != ~0ULL && (c.max + 1) / kAreaFrames == 0) {
        return kNoUnit;
    }
    Constraint ca;
    ca.count = c.count / kAreaFrames;
    ca.align = c.align / kAreaFrames;
    ca.boundary = c.boundary / kAreaFrames;
    ca.min = (c.min + kAreaFrames - 1) / kAreaFrames;
    ca.max = c.max == ~0ULL ? ~0ULL : (c.max + 1) / kAreaFrames - 1;
    FitSink sink(ca);
    for (std::uint64_t i = next_span(0); i != kNoUnit && !sink.done();
         i = next_span(spans_[i].last + 1)) {
        const BitmapSpan& sp = spans_[i];
        for (std::uint64_t j = 0; j < sp.tree_count() && !sink.done(); ++j) {
            const std::uint64_t base = sp.area0 + j * 64;
            std::uint64_t free = sp.tree(j).whole;
            if (base < ca.min) {
                free &= ca.min - base >= 64 ? 0 : ~low_mask(static_cast<unsigned>(ca.min - base));
            }
            if (base + 63 > ca.max) {
                free &= ca.max < base ? 0 : low_mask(static_cast<unsigned>(ca.max - base + 1));
            }
            sink.word(base, free);
        }
    }
    if (!sink.done()) {
        return kNoUnit;
    }
    const std::uint64_t s = sink.found() * kAreaFrames;
    take(s, s + c.count - 1);
    return s;
}

inline std::uint64_t FrameBitmap::allocate(const Constraint& c) {
    if (c.count == 1 && c.unconstrained()) {
        return allocate_one();
    }
    if (c.count % kAreaFrames == 0 && c.align % kAreaFrames == 0) {
        const std::uint64_t s = allocate_whole_areas(c);
        if (s != kNoUnit) {
            return s;
        }
        // An area split between two touching spans is entirely free in
        // neither; the frame-level walk below still finds it.
    }
    // Next fit: each size class resumes where its last run was found, so
    // memory that has no room for it is not walked again and again; only a
    // miss from there on wraps round to the window's start.
    std::uint64_t& hint = next_fit_[size_class(c.count)];
    const std::uint64_t start = hint < c.min ? c.min : hint > c.max ? c.min : hint;
    std::uint64_t found = kNoUnit;
    {
        FitSink sink(c);
        walk(start, c.max, sink);
        found = sink.found();
    }
    if (found == kNoUnit && start > c.min) {
        FitSink sink(c);
        const std::uint64_t reach = start + (c.count - 1) - 1;  // runs crossing `start`
        walk(c.min, reach < c.max ? reach : c.max, sink);
        found = sink.found();
    }
    if (found == kNoUnit) {
        return kNoUnit;
    }
    take(found, found + c.count - 1);
    hint = found + c.count;
    return found;
}

template <typename Merger>
void FrameBitmap::walk_area(const BitmapSpan& sp, std::uint64_t r, std::uint64_t lo,
                            std::uint64_t hi, Merger& out) const {
    const std::uint64_t a0 = sp.area_start(r);
    const std::uint64_t a1 = a0 + kAreaFrames - 1;
    const std::uint64_t from = lo > a0 ? lo : a0;
    const std::uint64_t to = hi < a1 ? hi : a1;
    const bool inside = from == a0 && to == a1;
    const std::uint64_t* words = &sp.bits[r * kAreaWords];
    if (inside && sp.is_whole(r)) {
        out.run(a0, kAreaFrames);
        return;
    }
    if (inside && out.sink().count() > sp.area_bound[r]) {
        // No run inside the area is long enough: only its two ends can join
        // runs of the neighbouring areas.
        std::uint64_t head = 0;
        for (std::uint64_t w = 0; w < kAreaWords; ++w) {
            head += low_run(~words[w]);
            if (~words[w] != kAllOnes) {
                break;
            }
        }
        std::uint64_t tail = 0;
        for (std::uint64_t w = kAreaWords; w-- > 0;) {
            tail += high_run(~words[w]);
            if (~words[w] != kAllOnes) {
                break;
            }
        }
        out.run(a0, head);
        out.run(a1 + 1 - tail, tail);
        return;
    }
    for (std::uint64_t base = from & ~63ULL; base <= to && !out.done(); base += 64) {
        std::uint64_t free = sp.is_whole(r) ? kAllOnes : ~words[(base - a0) / 64];
        if (base < from) {
            free &= ~low_mask(static_cast<unsigned>(from - base));
        }
        if (base + 63 > to) {
            free &= low_mask(static_cast<unsigned>(to - base + 1));
        }
        out.word(base, free);
    }
    if (inside && out.sink().teaches_bounds()) {
        out.flush();  // the area's words are its own: no other span shares them
        if (!out.done() && out.sink().count() - 1 < sp.area_bound[r]) {
            sp.area_bound[r] = static_cast<std::uint16_t>(out.sink().count() - 1);
        }
    }
}

template <typename Sink>
void FrameBitmap::walk(std::uint64_t lo, std::uint64_t hi, Sink& sink) const {
    WordMerger<Sink> out(sink);
    for (std::uint64_t i = next_span(lo); i != kNoUnit && spans_[i].first <= hi && !out.done();
         i = spans_[i].last < hi ? next_span(spans_[i].last + 1) : kNoUnit) {
        walk_span(spans_[i], lo, hi, out);
    }
    out.flush();
}

template <typename Merger>
void FrameBitmap::walk_span(const BitmapSpan& sp, std::uint64_t lo, std::uint64_t hi,
                            Merger& out) const {
    {
        const std::uint64_t s = lo > sp.first ? lo : sp.first;
        const std::uint64_t e = hi < sp.last ? hi : sp.last;
        const std::uint64_t r_end = e / kAreaFrames - sp.area0;
        std::uint64_t r = s / kAreaFrames - sp.area0;
        while (r <= r_end && !out.done()) {
            // Jump to the next area with a free frame.
            std::uint64_t w = r / 64;
            std::uint64_t bits =
                (sp.tree(w).whole | sp.tree(w).partial) & ~low_mask(static_cast<unsigned>(r % 64));
            while (bits == 0 && ++w < sp.tree_count() && w * 64 <= r_end) {
                bits = sp.tree(w).whole | sp.tree(w).partial;
            }
            if (bits == 0) {
                break;
            }
            r = w * 64 + static_cast<unsigned>(__builtin_ctzll(bits));
            if (r > r_end) {
                break;
            }
            walk_area(sp, r, s, e, out);
            ++r;
        }
    }
}

inline std::uint64_t FrameBitmap::allocate_in_tree(const BitmapSpan& sp, std::uint64_t j,
                                                   const Constraint& c, BitmapCursor& cursor) {
    if (sp.tree(j).free < c.count) {
        return kNoUnit;
    }
    if (c.count == 1 && c.unconstrained()) {
        const std::uint64_t frame = one_in_tree(sp, j);
        if (frame != kNoUnit) {
            span_set_state(sp, frame, frame, false);
        }
        return frame;
    }
    const std::uint64_t lo0 = sp.tree_first(j);
    const std::uint64_t hi0 = sp.tree_last(j);
    const std::uint64_t lo = lo0 > c.min ? lo0 : c.min;
    const std::uint64_t hi = hi0 < c.max ? hi0 : c.max;
    if (lo > hi || hi - lo < c.count - 1) {
        return kNoUnit;
    }
    std::uint64_t found = kNoUnit;
    if (c.count == kAreaFrames && (c.align == 1 || c.align == kAreaFrames) &&
        c.boundary % kAreaFrames == 0) {
        // One 2 MiB area: an entirely free one, inside the window.
        std::uint64_t areas = sp.tree(j).whole;
        while (areas != 0 && found == kNoUnit) {
            const std::uint64_t a =
                sp.area_start(j * kTreeAreas + static_cast<unsigned>(__builtin_ctzll(areas)));
            areas &= areas - 1;
            if (a >= lo && a + kAreaFrames - 1 <= hi) {
                found = a;
            }
        }
        if (found == kNoUnit && c.align == kAreaFrames) {
            return kNoUnit;  // an aligned area is whole or it is not free
        }
    }
    std::uint64_t& hint = cursor.next_fit[size_class(c.count)];
    const std::uint64_t h = load_relaxed(hint);
    const std::uint64_t start = h > lo && h <= hi ? h : lo;
    // [lo, hi] lies in this span: walk it directly.
    const auto walk_here = [&](std::uint64_t from, std::uint64_t to) {
        FitSink sink(c);
        WordMerger<FitSink> out(sink);
        walk_span(sp, from, to, out);
        out.flush();
        return sink.found();
    };
    if (found == kNoUnit) {
        found = walk_here(start, hi);
    }
    if (found == kNoUnit && start > lo) {
        const std::uint64_t reach = start + (c.count - 1) - 1;  // runs crossing `start`
        found = walk_here(lo, reach < hi ? reach : hi);
    }
    if (found == kNoUnit) {
        return kNoUnit;
    }
    span_set_state(sp, found, found + c.count - 1, false);
    store_relaxed(hint, found + c.count);
    return found;
}

template <typename Lock>
std::uint64_t FrameBitmap::allocate_fast(BitmapCursor& cursor, const Constraint& c, unsigned cpu) {
    const std::uint64_t n = span_count();
    const std::uint64_t total = __atomic_load_n(&trees_, __ATOMIC_RELAXED);
    if (n == 0 || c.count > kTreeFrames) {
        return kNoUnit;
    }
    std::uint64_t i = load_relaxed(cursor.span);
    std::uint64_t j = load_relaxed(cursor.tree);
    if (i >= n || j >= spans_[i].tree_count()) {
        // A CPU's first fast allocation: CPUs start far apart (CPU 0 at the
        // lowest tree), so they do not meet in one tree's lock.
        // The fraction cpu x golden ratio, scaled to the trees, spreads any
        // number of CPUs evenly (CPU 0 gets fraction 0, the lowest tree).
        const std::uint64_t fraction = (std::uint64_t{cpu} * 0x9E3779B97F4A7C15ULL) >> 32;
        std::uint64_t k = (fraction * total) >> 32;
        for (i = 0; i < n && k >= spans_[i].tree_count(); ++i) {
            k -= spans_[i].tree_count();
        }
        i = i < n ? i : 0;
        j = i < n && k < spans_[i].tree_count() ? k : 0;
    }
    // Two passes from the cursor: first only trees no other CPU has made its
    // own (so CPUs do not pile into the first tree with room, one behind the
    // other), then any tree. Ownership is a hint read and written without
    // the lock; a stale one only changes where a run is placed.
    const std::uint64_t me = std::uint64_t{cpu} + 1;
    const std::uint64_t home_i = i;
    const std::uint64_t home_j = j;
    for (int pass = 0; pass < 2; ++pass) {
        i = home_i;
        j = home_j;
        for (std::uint64_t step = 0; step < total; ++step) {
            const BitmapSpan& sp = spans_[i];
            BitmapTree& t = sp.tree(j);
            const std::uint64_t owner = load_relaxed(t.owner);
            if (load_relaxed(t.free) >= c.count && sp.tree_last(j) >= c.min &&
                sp.tree_first(j) <= c.max && (pass == 1 || owner == 0 || owner == me)) {
                Lock& lock = lock_of<Lock>(sp, j);
                lock.lock();
                const std::uint64_t found = allocate_in_tree(sp, j, c, cursor);
                lock.unlock();
                if (found != kNoUnit) {
                    if (i != home_i || j != home_j) {
                        // Moving on: the old tree is free for others to take.
                        BitmapTree& old = spans_[home_i].tree(home_j);
                        if (load_relaxed(old.owner) == me) {
                            store_relaxed(old.owner, 0);
                        }
                        store_relaxed(cursor.span, i);
                        store_relaxed(cursor.tree, j);
                    }
                    if (owner != me) {
                        store_relaxed(t.owner, me);
                    }
                    return found;
                }
            }
            if (++j == sp.tree_count()) {
                j = 0;
                i = i + 1 < n ? i + 1 : 0;
            }
        }
    }
    return kNoUnit;
}

}  // namespace framealloc::detail
