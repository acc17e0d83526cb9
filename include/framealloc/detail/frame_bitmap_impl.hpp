// FrameBitmap's method bodies: spans, bit updates, tree locks and the
// checker (the searches are in frame_bitmap_search.hpp). Included by
// frame_bitmap.hpp only.
#pragma once

#include "framealloc/detail/frame_bitmap.hpp"

namespace framealloc::detail {

inline bool FrameBitmap::add_span(std::uint64_t first, std::uint64_t last, MetadataArena* arena) {
    if (!can_add_span(first, last, arena)) {
        return false;
    }
    MetadataArena& from = arena != nullptr ? *arena : arena_;
    BitmapSpan sp;
    sp.first = first;
    sp.last = last;
    sp.area0 = first / kAreaFrames;
    sp.areas = last / kAreaFrames - sp.area0 + 1;
    sp.bits = from.take<std::uint64_t>(sp.areas * kAreaWords, 64);
    sp.area_free = from.take<std::uint16_t>(sp.areas, 64);
    sp.area_bound = from.take<std::uint16_t>(sp.areas, 64);
    sp.stride = locks_.stride();
    sp.lock_offset = locks_.lock_offset();
    sp.trees = from.take<std::byte>(sp.tree_count() * sp.stride, 64);
    // Interior areas are entirely free: their counters and summary bits are
    // written in bulk, their bit words not at all. Only the (at most two)
    // edge areas are set up one by one below.
    for (std::uint64_t r = 0; r < sp.areas; ++r) {
        sp.area_free[r] = kAreaFrames;
        sp.area_bound[r] = kAreaFrames;
    }
    for (std::uint64_t j = 0; j < sp.tree_count(); ++j) {
        BitmapTree* t = ::new (sp.trees + j * sp.stride) BitmapTree();
        const std::uint64_t in_tree = sp.areas - j * kTreeAreas;
        t->whole = in_tree >= kTreeAreas ? kAllOnes : low_mask(static_cast<unsigned>(in_tree));
        t->free = (in_tree >= kTreeAreas ? kTreeAreas : in_tree) * kAreaFrames;
        if (locks_.make != nullptr) {
            locks_.make(sp.lock_of(j));
        }
    }
    for (const std::uint64_t r : {std::uint64_t{0}, sp.areas - 1}) {
        const std::uint64_t a0 = sp.area_start(r);
        const std::uint64_t lo = a0 > first ? a0 : first;
        const std::uint64_t hi = a0 + kAreaFrames - 1 < last ? a0 + kAreaFrames - 1 : last;
        const auto n = static_cast<std::uint16_t>(hi - lo + 1);
        if (sp.area_free[r] != n) {
            sp.tree(r / kTreeAreas).free -= kAreaFrames - n;
        }
        sp.area_free[r] = n;
        sp.area_bound[r] = n;
        if (n != kAreaFrames) {
            // An edge area: frames outside the span read as taken. Interior
            // areas are entirely free and their words are not written.
            for (std::uint64_t w = 0; w < kAreaWords; ++w) {
                const std::uint64_t base = a0 + w * 64;
                std::uint64_t inside = kAllOnes;
                if (base + 63 < lo || base > hi) {
                    inside = 0;
                } else {
                    if (base < lo) {
                        inside &= ~low_mask(static_cast<unsigned>(lo - base));
                    }
                    if (base + 63 > hi) {
                        inside &= low_mask(static_cast<unsigned>(hi - base + 1));
                    }
                }
                sp.bits[r * kAreaWords + w] = ~inside;
            }
        }
        refile(sp, r);
    }
    // Append and publish: readers that see the new count see the whole entry.
    const std::uint64_t n = count_;
    spans_[n] = sp;
    const std::uint64_t sorted = __atomic_load_n(&sorted_, __ATOMIC_RELAXED);
    if (sorted == n && (n == 0 || spans_[n - 1].last < first)) {
        __atomic_store_n(&sorted_, n + 1, __ATOMIC_RELAXED);
    }
    __atomic_store_n(&trees_, __atomic_load_n(&trees_, __ATOMIC_RELAXED) + sp.tree_count(),
                     __ATOMIC_RELAXED);
    __atomic_store_n(&count_, n + 1, __ATOMIC_RELEASE);
    return true;
}

inline std::uint64_t FrameBitmap::next_span(std::uint64_t frame) const {
    const std::uint64_t n = span_count();
    std::uint64_t sorted = __atomic_load_n(&sorted_, __ATOMIC_RELAXED);
    sorted = sorted < n ? sorted : n;
    std::uint64_t lo = 0;
    std::uint64_t hi = sorted;
    while (lo < hi) {  // first sorted span whose last frame is >= frame
        const std::uint64_t mid = lo + (hi - lo) / 2;
        if (spans_[mid].last < frame) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    std::uint64_t best = lo < sorted ? lo : kNoUnit;
    // Spans added after init are appended out of order: a few, seen one by one.
    for (std::uint64_t i = sorted; i < n; ++i) {
        if (spans_[i].last >= frame && (best == kNoUnit || spans_[i].first < spans_[best].first)) {
            best = i;
        }
    }
    return best;
}

inline std::uint64_t FrameBitmap::free() const {
    std::uint64_t total = 0;
    const std::uint64_t n = span_count();
    for (std::uint64_t i = 0; i < n; ++i) {
        for (std::uint64_t j = 0; j < spans_[i].tree_count(); ++j) {
            total += load_relaxed(spans_[i].tree(j).free);
        }
    }
    return total;
}

inline bool FrameBitmap::spans_cover(std::uint64_t s, std::uint64_t e) const {
    std::uint64_t next = s;
    for (std::uint64_t i = next_span(s); i != kNoUnit && spans_[i].first <= next;
         i = next_span(next)) {
        if (spans_[i].last >= e) {
            return true;
        }
        next = spans_[i].last + 1;
    }
    return false;
}

inline bool FrameBitmap::all_in_state(std::uint64_t s, std::uint64_t e, bool free) const {
    for (std::uint64_t i = next_span(s); i != kNoUnit && spans_[i].first <= e;
         i = spans_[i].last < e ? next_span(spans_[i].last + 1) : kNoUnit) {
        const BitmapSpan& sp = spans_[i];
        if (!span_in_state(sp, s > sp.first ? s : sp.first, e < sp.last ? e : sp.last, free)) {
            return false;
        }
    }
    return true;
}

inline bool FrameBitmap::span_in_state(const BitmapSpan& sp, std::uint64_t lo, std::uint64_t hi,
                                       bool free) {
    {
        for (std::uint64_t a = lo / kAreaFrames; a <= hi / kAreaFrames; ++a) {
            const std::uint64_t r = a - sp.area0;
            const std::uint16_t af = sp.area_free[r];
            if (af == (free ? kAreaFrames : 0)) {
                continue;  // the whole area is in that state
            }
            if (af == (free ? 0 : kAreaFrames)) {
                return false;
            }
            const std::uint64_t a0 = a * kAreaFrames;
            const std::uint64_t from = lo > a0 ? lo : a0;
            const std::uint64_t to = hi < a0 + kAreaFrames - 1 ? hi : a0 + kAreaFrames - 1;
            const std::uint64_t* words = &sp.bits[r * kAreaWords];
            const std::uint64_t first = (from - a0) / 64;
            const std::uint64_t last = (to - a0) / 64;
            const std::uint64_t head = ~low_mask(static_cast<unsigned>(from % 64));
            const std::uint64_t tail = low_mask(static_cast<unsigned>(to % 64) + 1);
            // In the wanted state, a word's bits under `mask` equal `want & mask`.
            const std::uint64_t want = free ? 0 : kAllOnes;
            const auto in_state = [&](std::uint64_t w, std::uint64_t mask) {
                return ((words[w] ^ want) & mask) == 0;
            };
            if (first == last) {
                if (!in_state(first, head & tail)) {
                    return false;
                }
                continue;
            }
            if (!in_state(first, head) || !in_state(last, tail)) {
                return false;
            }
            for (std::uint64_t w = first + 1; w < last; ++w) {
                if (words[w] != want) {
                    return false;
                }
            }
        }
    }
    return true;
}

inline void FrameBitmap::refile(const BitmapSpan& sp, std::uint64_t r) {
    const std::uint64_t bit = 1ULL << (r % 64);
    const std::uint16_t af = sp.area_free[r];
    BitmapTree& t = sp.tree(r / kTreeAreas);
    if (af == kAreaFrames) {
        t.whole |= bit;
        sp.area_bound[r] = kAreaFrames;
    } else {
        t.whole &= ~bit;
    }
    if (af != 0 && af != kAreaFrames) {
        t.partial |= bit;
    } else {
        t.partial &= ~bit;
    }
}

inline void FrameBitmap::set_area_state(const BitmapSpan& sp, std::uint64_t r, std::uint64_t lo,
                                        std::uint64_t hi, bool free) {
    std::uint64_t* words = &sp.bits[r * kAreaWords];
    const std::uint64_t a0 = sp.area_start(r);
    const std::uint64_t n = hi - lo + 1;
    if (n == kAreaFrames) {
        // A whole area changes state: an entirely free area's words are
        // never read, so freeing writes none; taking writes all eight.
        if (!free) {
            for (std::uint64_t w = 0; w < kAreaWords; ++w) {
                words[w] = kAllOnes;
            }
        }
        sp.area_free[r] = free ? kAreaFrames : 0;
        refile(sp, r);
        return;
    }
    if (!free && sp.is_whole(r)) {
        // First allocation in an entirely free area: its words were never
        // written (or are stale); they become exact now.
        for (std::uint64_t w = 0; w < kAreaWords; ++w) {
            words[w] = 0;
        }
    }
    // Masks only at the two end words; the words between change as a whole
    // (the caller checked they were all in the other state).
    const std::uint64_t first = (lo - a0) / 64;
    const std::uint64_t last = (hi - a0) / 64;
    const std::uint64_t head = ~low_mask(static_cast<unsigned>(lo % 64));
    const std::uint64_t tail = low_mask(static_cast<unsigned>(hi % 64) + 1);
    if (first == last) {
        const std::uint64_t mask = head & tail;
        words[first] = free ? (words[first] & ~mask) : (words[first] | mask);
    } else {
        words[first] = free ? (words[first] & ~head) : (words[first] | head);
        for (std::uint64_t w = first + 1; w < last; ++w) {
            words[w] = free ? 0 : kAllOnes;
        }
        words[last] = free ? (words[last] & ~tail) : (words[last] | tail);
    }
    if (free) {
        sp.area_free[r] = static_cast<std::uint16_t>(sp.area_free[r] + n);
        // Freeing n frames can join two runs across them: a run now is at
        // most two old ones plus the freed frames.
        const std::uint64_t bound = 2ULL * sp.area_bound[r] + n;
        sp.area_bound[r] = static_cast<std::uint16_t>(bound < kAreaFrames ? bound : kAreaFrames);
    } else {
        sp.area_free[r] = static_cast<std::uint16_t>(sp.area_free[r] - n);
    }
    refile(sp, r);
}

inline void FrameBitmap::set_state(std::uint64_t s, std::uint64_t e, bool free) {
    for (std::uint64_t i = next_span(s); i != kNoUnit && spans_[i].first <= e;
         i = spans_[i].last < e ? next_span(spans_[i].last + 1) : kNoUnit) {
        const BitmapSpan& sp = spans_[i];
        span_set_state(sp, s > sp.first ? s : sp.first, e < sp.last ? e : sp.last, free);
    }
}

inline void FrameBitmap::span_set_state(const BitmapSpan& sp, std::uint64_t lo, std::uint64_t hi,
                                        bool free) {
    {
        for (std::uint64_t j = sp.tree_of(lo); j <= sp.tree_of(hi); ++j) {
            const std::uint64_t tlo = lo > sp.tree_first(j) ? lo : sp.tree_first(j);
            const std::uint64_t thi = hi < sp.tree_last(j) ? hi : sp.tree_last(j);
            for (std::uint64_t a = tlo / kAreaFrames; a <= thi / kAreaFrames; ++a) {
                const std::uint64_t a0 = a * kAreaFrames;
                set_area_state(sp, a - sp.area0, tlo > a0 ? tlo : a0,
                               thi < a0 + kAreaFrames - 1 ? thi : a0 + kAreaFrames - 1, free);
            }
            BitmapTree& t = sp.tree(j);
            const std::uint64_t n = thi - tlo + 1;
            store_relaxed(t.free, free ? t.free + n : t.free - n);
        }
    }
}

inline const char* FrameBitmap::check() const {
    const std::uint64_t n = span_count();
    for (std::uint64_t i = 0; i < n; ++i) {
        const BitmapSpan& sp = spans_[i];
        if (sp.first > sp.last || (i > 0 && i < sorted_ && spans_[i - 1].last >= sp.first)) {
            return "bitmap: spans out of order";
        }
        for (std::uint64_t k = 0; k < i; ++k) {
            if (spans_[k].first <= sp.last && sp.first <= spans_[k].last) {
                return "bitmap: two spans overlap";
            }
        }
        if (sp.area0 != sp.first / kAreaFrames ||
            sp.areas != sp.last / kAreaFrames - sp.area0 + 1) {
            return "bitmap: a span's areas do not match its frames";
        }
        for (std::uint64_t j = 0; j < sp.tree_count(); ++j) {
            const BitmapTree& t = sp.tree(j);
            const std::uint64_t in_tree = sp.areas - j * kTreeAreas;
            const std::uint64_t valid =
                in_tree >= kTreeAreas ? kAllOnes : low_mask(static_cast<unsigned>(in_tree));
            if (((t.whole | t.partial) & ~valid) != 0 || (t.whole & t.partial) != 0) {
                return "bitmap: a tree's area words mark areas it does not have";
            }
            std::uint64_t tree_free = 0;
            for (std::uint64_t r = j * kTreeAreas; r < sp.areas && r < (j + 1) * kTreeAreas; ++r) {
                tree_free += sp.area_free[r];
            }
            if (tree_free != t.free) {
                return "bitmap: a tree's free count disagrees with its areas";
            }
        }
        for (std::uint64_t r = 0; r < sp.areas; ++r) {
            const std::uint16_t af = sp.area_free[r];
            const bool whole = sp.is_whole(r);
            const bool partial = ((sp.tree(r / kTreeAreas).partial >> (r % 64)) & 1U) != 0;
            if (whole != (af == kAreaFrames) || partial != (af != 0 && af != kAreaFrames)) {
                return "bitmap: an area's free count disagrees with the area bitmaps";
            }
            if (whole) {
                if (sp.area_bound[r] != kAreaFrames) {
                    return "bitmap: an entirely free area has a run bound below 512";
                }
                continue;
            }
            std::uint64_t taken = 0;
            std::uint64_t longest = 0;
            std::uint64_t run = 0;
            for (std::uint64_t w = 0; w < kAreaWords; ++w) {
                const std::uint64_t word = sp.bits[r * kAreaWords + w];
                taken += popcount(word);
                for (unsigned b = 0; b < 64; ++b) {
                    const std::uint64_t f = sp.area_start(r) + w * 64 + b;
                    const bool is_taken = ((word >> b) & 1U) != 0;
                    if (!sp.contains(f) && !is_taken) {
                        return "bitmap: a frame outside its span reads as free";
                    }
                    run = is_taken ? 0 : run + 1;
                    longest = run > longest ? run : longest;
                }
            }
            if (kAreaFrames - taken != af) {
                return "bitmap: an area's free count disagrees with its bits";
            }
            if (longest > sp.area_bound[r]) {
                return "bitmap: an area holds a free run longer than its bound";
            }
        }
    }
    return nullptr;
}

// ---- tree locks

inline bool FrameBitmap::trees_of(std::uint64_t s, std::uint64_t e, std::uint64_t* spans,
                                  std::uint64_t* trees, std::uint64_t& n) const {
    n = 0;
    for (std::uint64_t i = next_span(s); i != kNoUnit && spans_[i].first <= e;
         i = spans_[i].last < e ? next_span(spans_[i].last + 1) : kNoUnit) {
        const BitmapSpan& sp = spans_[i];
        const std::uint64_t lo = s > sp.first ? s : sp.first;
        const std::uint64_t hi = e < sp.last ? e : sp.last;
        for (std::uint64_t j = sp.tree_of(lo); j <= sp.tree_of(hi); ++j) {
            if (n == kMaxRangeTrees) {
                return false;
            }
            // Insert in lock order (span index, then tree).
            std::uint64_t at = n++;
            while (at > 0 && (spans[at - 1] > i || (spans[at - 1] == i && trees[at - 1] > j))) {
                spans[at] = spans[at - 1];
                trees[at] = trees[at - 1];
                --at;
            }
            spans[at] = i;
            trees[at] = j;
        }
    }
    return true;
}

template <typename Lock>
std::uint64_t FrameBitmap::lock_all() const {
    const std::uint64_t n = span_count();
    for (std::uint64_t i = 0; i < n; ++i) {
        for (std::uint64_t j = 0; j < spans_[i].tree_count(); ++j) {
            lock_of<Lock>(spans_[i], j).lock();
        }
    }
    return n;
}

template <typename Lock>
void FrameBitmap::unlock_all(std::uint64_t spans) const {
    for (std::uint64_t i = spans; i-- > 0;) {
        for (std::uint64_t j = spans_[i].tree_count(); j-- > 0;) {
            lock_of<Lock>(spans_[i], j).unlock();
        }
    }
}

template <typename Lock, typename F>
decltype(auto) FrameBitmap::with_trees_of(std::uint64_t s, std::uint64_t e, F&& f) {
    std::uint64_t spans[kMaxRangeTrees];
    std::uint64_t trees[kMaxRangeTrees];
    std::uint64_t n = 0;
    if (!trees_of(s, e, spans, trees, n)) {
        struct Unlock {
            const FrameBitmap& b;
            std::uint64_t spans;
            ~Unlock() { b.unlock_all<Lock>(spans); }
        } unlock{*this, lock_all<Lock>()};
        return f();
    }
    for (std::uint64_t k = 0; k < n; ++k) {
        lock_of<Lock>(spans_[spans[k]], trees[k]).lock();
    }
    struct Unlock {
        const FrameBitmap& b;
        const std::uint64_t* spans;
        const std::uint64_t* trees;
        std::uint64_t n;
        ~Unlock() {
            for (std::uint64_t k = n; k-- > 0;) {
                lock_of<Lock>(b.spans_[spans[k]], trees[k]).unlock();
            }
        }
    } unlock{*this, spans, trees, n};
    return f();
}

template <typename Lock>
FrameBitmap::Release FrameBitmap::release(std::uint64_t s, std::uint64_t e) {
    // Nearly every run lies in one tree of one span: one lock, one pass to
    // check, one to clear.
    if (const std::uint64_t i = next_span(s); i != kNoUnit) {
        const BitmapSpan& sp = spans_[i];
        if (sp.first <= s && e <= sp.last && sp.tree_of(s) == sp.tree_of(e)) {
            Lock& lock = lock_of<Lock>(sp, sp.tree_of(s));
            lock.lock();
            const bool taken = span_in_state(sp, s, e, false);
            if (taken) {
                span_set_state(sp, s, e, true);
            }
            lock.unlock();
            return taken ? Release::kDone : Release::kDoubleFree;
        }
    }
    return with_trees_of<Lock>(s, e, [&] {
        if (!spans_cover(s, e) || !none_free(s, e)) {
            return Release::kDoubleFree;
        }
        give(s, e);
        return Release::kDone;
    });
}

}  // namespace framealloc::detail
