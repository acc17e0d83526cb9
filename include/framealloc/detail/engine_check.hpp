// The engine's invariant checker, kept apart from the code it checks. It walks
// every structure and recomputes what the engine keeps incrementally: the
// treaps are ordered heaps, free chunks are disjoint and fully coalesced, each
// lies inside a region of its own pool, the two pools' regions never overlap,
// every general chunk sits in the right size bin, and the node counts add up.
#pragma once

#include "framealloc/detail/range_engine.hpp"

namespace framealloc::detail {

namespace check_detail {

// Checks BST order and heap order of priorities below t, counting nodes.
inline bool treap_ok(const NodePool& pool, Index t, std::uint64_t lo, std::uint64_t hi,
                     std::uint64_t& count, int depth) {
    if (t == kNil) {
        return true;
    }
    if (depth > 4096) {
        return false;  // a cycle, or a tree too degenerate to be a treap
    }
    const Node& n = pool[t];
    if (n.start < lo || n.start > hi || n.end < n.start) {
        return false;
    }
    for (const Index child : {n.left, n.right}) {
        if (child != kNil && pool[child].priority > n.priority) {
            return false;
        }
    }
    ++count;
    return treap_ok(pool, n.left, lo, n.start == 0 ? 0 : n.start - 1, count, depth + 1) &&
           (n.left == kNil || n.start > 0) &&
           treap_ok(pool, n.right, n.start + 1, hi, count, depth + 1);
}

}  // namespace check_detail

inline Status RangeEngine::check() const {
    if (!initialized_) {
        return {};
    }
    const IntervalSet* sets[] = {&chunks_[0], &chunks_[1], &regions_[0], &regions_[1]};
    std::uint64_t nodes_in_sets = 0;
    for (const IntervalSet* set : sets) {
        std::uint64_t count = 0;
        if (!check_detail::treap_ok(pool_, set->root(), 0, ~0ULL, count, 0) ||
            count != set->count()) {
            return make_error(ErrorKind::kInvariantViolation, "check: a treap is malformed");
        }
        nodes_in_sets += count;
        std::uint64_t units = 0;
        bool have_prev = false;
        std::uint64_t prev_end = 0;
        bool coalesced = true;
        set->for_each([&](const Node& n) {
            if (have_prev && n.start <= prev_end + 1) {
                coalesced = false;
            }
            have_prev = true;
            prev_end = n.end;
            units += n.size();
            return coalesced;
        });
        if (!coalesced) {
            return make_error(ErrorKind::kInvariantViolation,
                              "check: ranges overlap or two neighbours are not merged");
        }
        if (units != set->units()) {
            return make_error(ErrorKind::kInvariantViolation, "check: a unit counter is wrong");
        }
    }
    if (nodes_in_sets != pool_.used() ||
        static_cast<std::uint64_t>(pool_.used()) + pool_.reserved() > pool_.capacity()) {
        return make_error(ErrorKind::kInvariantViolation, "check: node accounting is wrong");
    }
    for (int p = 0; p < 2; ++p) {
        bool inside = true;
        chunks_[p].for_each([&](const Node& n) {
            inside = regions_[p].covers(n.start, n.end);
            return inside;
        });
        if (!inside) {
            return make_error(ErrorKind::kInvariantViolation,
                              "check: a free chunk lies outside its pool's regions");
        }
    }
    bool disjoint = true;
    regions_[0].for_each([&](const Node& n) {
        disjoint = !regions_[1].overlaps(n.start, n.end);
        return disjoint;
    });
    if (!disjoint) {
        return make_error(ErrorKind::kInvariantViolation,
                          "check: general and reserved regions overlap");
    }
    // Every general chunk is in the bin of its size, and the bins hold nothing else.
    bool binned = true;
    chunks_[0].for_each([&](const Node& n) {
        binned = n.bin == SizeBins::index_of(n.size()) + 1;
        return binned;
    });
    std::uint64_t in_bins = 0;
    for (unsigned b = 0; b < SizeBins::kCount && binned; ++b) {
        for (Index n = bins_.head(b); n != kNil; n = pool_[n].next) {
            ++in_bins;
            binned = binned && pool_[n].bin == b + 1 && in_bins <= chunks_[0].count();
            if (!binned) {
                break;
            }
        }
        if (binned && (bins_.head(b) != kNil) != (bins_.first_at_or_above(b) == b)) {
            binned = false;  // the bitmap disagrees with the list
        }
    }
    if (!binned || in_bins != chunks_[0].count()) {
        return make_error(ErrorKind::kInvariantViolation, "check: size bins are inconsistent");
    }
    return {};
}

}  // namespace framealloc::detail
