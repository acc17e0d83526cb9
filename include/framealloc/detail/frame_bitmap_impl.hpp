// FrameBitmap's method bodies: spans, bit updates, the searches and the
// checker. Included by frame_bitmap.hpp only.
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
    sp.area_free = from.take<std::uint16_t>(sp.areas);
    sp.area_bound = from.take<std::uint16_t>(sp.areas);
    sp.whole = from.take<std::uint64_t>(sp.area_words());
    sp.partial = from.take<std::uint64_t>(sp.area_words());
    // Interior areas are entirely free: their counters and summary bits are
    // written in bulk, their bit words not at all. Only the (at most two)
    // edge areas are set up one by one below.
    for (std::uint64_t r = 0; r < sp.areas; ++r) {
        sp.area_free[r] = kAreaFrames;
        sp.area_bound[r] = kAreaFrames;
    }
    for (std::uint64_t w = 0; w < sp.area_words(); ++w) {
        sp.whole[w] = w + 1 < sp.area_words() || sp.areas % 64 == 0
                          ? kAllOnes
                          : low_mask(static_cast<unsigned>(sp.areas % 64));
        sp.partial[w] = 0;
    }
    for (const std::uint64_t r : {std::uint64_t{0}, sp.areas - 1}) {
        const std::uint64_t a0 = sp.area_start(r);
        const std::uint64_t lo = a0 > first ? a0 : first;
        const std::uint64_t hi = a0 + kAreaFrames - 1 < last ? a0 + kAreaFrames - 1 : last;
        const auto n = static_cast<std::uint16_t>(hi - lo + 1);
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
    sp.free = last - first + 1;
    sp.hint = 0;
    // Keep the table sorted by address.
    std::uint64_t at = count_;
    while (at > 0 && spans_[at - 1].first > first) {
        spans_[at] = spans_[at - 1];
        --at;
    }
    spans_[at] = sp;
    ++count_;
    free_ += sp.free;
    hint_span_ = 0;
    return true;
}

inline std::uint64_t FrameBitmap::find_span(std::uint64_t frame) const {
    std::uint64_t lo = 0;
    std::uint64_t hi = count_;
    while (lo < hi) {  // first span whose last frame is >= frame
        const std::uint64_t mid = lo + (hi - lo) / 2;
        if (spans_[mid].last < frame) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return lo;
}

inline bool FrameBitmap::spans_cover(std::uint64_t s, std::uint64_t e) const {
    std::uint64_t i = find_span(s);
    std::uint64_t next = s;
    for (; i < count_ && spans_[i].first <= next; ++i) {
        if (spans_[i].last >= e) {
            return true;
        }
        next = spans_[i].last + 1;
    }
    return false;
}

inline bool FrameBitmap::all_in_state(std::uint64_t s, std::uint64_t e, bool free) const {
    for (std::uint64_t i = find_span(s); i < count_ && spans_[i].first <= e; ++i) {
        const BitmapSpan& sp = spans_[i];
        const std::uint64_t lo = s > sp.first ? s : sp.first;
        const std::uint64_t hi = e < sp.last ? e : sp.last;
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

inline void FrameBitmap::refile(BitmapSpan& sp, std::uint64_t r) {
    const std::uint64_t bit = 1ULL << (r % 64);
    const std::uint16_t af = sp.area_free[r];
    if (af == kAreaFrames) {
        sp.whole[r / 64] |= bit;
        sp.area_bound[r] = kAreaFrames;
    } else {
        sp.whole[r / 64] &= ~bit;
    }
    if (af != 0 && af != kAreaFrames) {
        sp.partial[r / 64] |= bit;
    } else {
        sp.partial[r / 64] &= ~bit;
    }
}

inline void FrameBitmap::set_area_state(BitmapSpan& sp, std::uint64_t r, std::uint64_t lo,
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
    for (std::uint64_t i = find_span(s); i < count_ && spans_[i].first <= e; ++i) {
        BitmapSpan& sp = spans_[i];
        const std::uint64_t lo = s > sp.first ? s : sp.first;
        const std::uint64_t hi = e < sp.last ? e : sp.last;
        for (std::uint64_t a = lo / kAreaFrames; a <= hi / kAreaFrames; ++a) {
            const std::uint64_t a0 = a * kAreaFrames;
            set_area_state(sp, a - sp.area0, lo > a0 ? lo : a0,
                           hi < a0 + kAreaFrames - 1 ? hi : a0 + kAreaFrames - 1, free);
        }
        const std::uint64_t n = hi - lo + 1;
        sp.free = free ? sp.free + n : sp.free - n;
        free_ = free ? free_ + n : free_ - n;
    }
}

inline std::uint64_t FrameBitmap::allocate_one() {
    for (std::uint64_t k = 0; k < count_; ++k) {
        const std::uint64_t i = (hint_span_ + k) % count_;
        BitmapSpan& sp = spans_[i];
        if (sp.free == 0) {
            continue;
        }
        // Partly free areas first (from the hint), so entirely free ones stay
        // whole for 2 MiB frames; then an entirely free one.
        const std::uint64_t words = sp.area_words();
        std::uint64_t r = kNoUnit;
        for (std::uint64_t j = 0; j < words && r == kNoUnit; ++j) {
            const std::uint64_t w = (sp.hint + j) % words;
            if (sp.partial[w] != 0) {
                r = w * 64 + static_cast<unsigned>(__builtin_ctzll(sp.partial[w]));
            }
        }
        std::uint64_t frame = kNoUnit;
        if (r != kNoUnit) {
            const std::uint64_t* words8 = &sp.bits[r * kAreaWords];
            for (std::uint64_t w = 0; w < kAreaWords; ++w) {
                if (~words8[w] != 0) {
                    frame = sp.area_start(r) + w * 64 +
                            static_cast<unsigned>(__builtin_ctzll(~words8[w]));
                    break;
                }
            }
        } else {
            for (std::uint64_t w = 0; w < words && r == kNoUnit; ++w) {
                if (sp.whole[w] != 0) {
                    r = w * 64 + static_cast<unsigned>(__builtin_ctzll(sp.whole[w]));
                }
            }
            frame = sp.area_start(r);
        }
        set_area_state(sp, r, frame, frame, false);
        --sp.free;
        --free_;
        sp.hint = r / 64;
        hint_span_ = i;
        return frame;
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
    for (std::uint64_t i = 0; i < count_ && !sink.done(); ++i) {
        const BitmapSpan& sp = spans_[i];
        for (std::uint64_t j = 0; j < sp.area_words() && !sink.done(); ++j) {
            const std::uint64_t base = sp.area0 + j * 64;
            std::uint64_t free = sp.whole[j];
            if (sp.areas - j * 64 < 64) {
                free &= low_mask(static_cast<unsigned>(sp.areas - j * 64));
            }
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
    for (std::uint64_t i = find_span(lo); i < count_ && spans_[i].first <= hi && !out.done(); ++i) {
        const BitmapSpan& sp = spans_[i];
        const std::uint64_t s = lo > sp.first ? lo : sp.first;
        const std::uint64_t e = hi < sp.last ? hi : sp.last;
        const std::uint64_t r_end = e / kAreaFrames - sp.area0;
        std::uint64_t r = s / kAreaFrames - sp.area0;
        while (r <= r_end && !out.done()) {
            // Jump to the next area with a free frame.
            std::uint64_t w = r / 64;
            std::uint64_t bits =
                (sp.whole[w] | sp.partial[w]) & ~low_mask(static_cast<unsigned>(r % 64));
            while (bits == 0 && ++w < sp.area_words() && w * 64 <= r_end) {
                bits = sp.whole[w] | sp.partial[w];
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
    out.flush();
}

inline const char* FrameBitmap::check() const {
    std::uint64_t total_free = 0;
    for (std::uint64_t i = 0; i < count_; ++i) {
        const BitmapSpan& sp = spans_[i];
        if (sp.first > sp.last || (i > 0 && spans_[i - 1].last >= sp.first)) {
            return "bitmap: spans out of order or overlapping";
        }
        if (sp.area0 != sp.first / kAreaFrames ||
            sp.areas != sp.last / kAreaFrames - sp.area0 + 1) {
            return "bitmap: a span's areas do not match its frames";
        }
        std::uint64_t span_free = 0;
        for (std::uint64_t r = 0; r < sp.areas; ++r) {
            const std::uint16_t af = sp.area_free[r];
            const bool whole = sp.is_whole(r);
            const bool partial = ((sp.partial[r / 64] >> (r % 64)) & 1U) != 0;
            span_free += af;
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
        if (span_free != sp.free) {
            return "bitmap: a span's free count disagrees with its areas";
        }
        total_free += span_free;
    }
    if (total_free != free_) {
        return "bitmap: the free total disagrees with the spans";
    }
    return nullptr;
}

}  // namespace framealloc::detail
