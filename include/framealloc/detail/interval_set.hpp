// A set of disjoint, inclusive unit ranges ordered by address: a treap of pool
// nodes. The engine keeps four of them (general and reserved free chunks,
// general and reserved regions). The free-chunk sets are always fully
// coalesced: add() merges a range with both neighbours, so two free chunks are
// never adjacent. Shrinking or growing a chunk in place never reorders the
// tree, so the common allocation (take from a chunk's start) touches no links.
#pragma once

#include <cstdint>

#include "framealloc/detail/node_pool.hpp"
#include "framealloc/detail/size_bins.hpp"

namespace framealloc::detail {

class IntervalSet {
  public:
    constexpr IntervalSet() = default;
    void attach(NodePool* pool, SizeBins* bins) {
        pool_ = pool;
        bins_ = bins;
        root_ = kNil;
        count_ = 0;
        units_ = 0;
    }

    [[nodiscard]] std::uint64_t count() const { return count_; }
    [[nodiscard]] std::uint64_t units() const { return units_; }
    [[nodiscard]] Index root() const { return root_; }
    [[nodiscard]] const Node& node(Index i) const { return (*pool_)[i]; }

    /// The range with the greatest start <= key, or kNil.
    [[nodiscard]] Index find_le(std::uint64_t key) const {
        Index best = kNil;
        Index t = root_;
        while (t != kNil) {
            const Node& n = (*pool_)[t];
            if (n.start <= key) {
                best = t;
                t = n.right;
            } else {
                t = n.left;
            }
        }
        return best;
    }
    /// The range with the smallest start > key, or kNil.
    [[nodiscard]] Index find_gt(std::uint64_t key) const {
        Index best = kNil;
        Index t = root_;
        while (t != kNil) {
            const Node& n = (*pool_)[t];
            if (n.start > key) {
                best = t;
                t = n.left;
            } else {
                t = n.right;
            }
        }
        return best;
    }
    /// The range containing `unit`, or kNil.
    [[nodiscard]] Index containing(std::uint64_t unit) const {
        const Index i = find_le(unit);
        return (i != kNil && (*pool_)[i].end >= unit) ? i : kNil;
    }
    /// True when any unit of [s, e] is in the set.
    [[nodiscard]] bool overlaps(std::uint64_t s, std::uint64_t e) const {
        if (containing(s) != kNil) {
            return true;
        }
        const Index next = find_gt(s);
        return next != kNil && (*pool_)[next].start <= e;
    }
    /// True when every unit of [s, e] is in the set (one range, as sets are coalesced).
    [[nodiscard]] bool covers(std::uint64_t s, std::uint64_t e) const {
        const Index i = containing(s);
        return i != kNil && (*pool_)[i].end >= e;
    }

    /// Adds [s, e], which must not overlap the set, merging with touching
    /// neighbours. Needs at most one node from the pool (none when it touches one).
    void add(std::uint64_t s, std::uint64_t e) {
        const Neighbours nb = neighbours(s);
        link_in(nb, s, e);
    }

    /// add(), unless some unit of [s, e] is already in the set (a double
    /// free): then false and no change. One descent finds both neighbours and
    /// answers the overlap question; overlaps() then add() took four.
    [[nodiscard]] bool add_if_disjoint(std::uint64_t s, std::uint64_t e) {
        const Neighbours nb = neighbours(s);
        if ((nb.before != kNil && (*pool_)[nb.before].end >= s) ||
            (nb.after != kNil && (*pool_)[nb.after].start <= e)) {
            return false;
        }
        link_in(nb, s, e);
        return true;
    }

  private:
    // The ranges either side of `key`: the greatest start <= key and the
    // smallest start > key, found in the same descent.
    struct Neighbours {
        Index before = kNil;
        Index after = kNil;
    };
    [[nodiscard]] Neighbours neighbours(std::uint64_t key) const {
        Neighbours nb;
        Index t = root_;
        while (t != kNil) {
            const Node& n = (*pool_)[t];
            if (n.start <= key) {
                nb.before = t;
                t = n.right;
            } else {
                nb.after = t;
                t = n.left;
            }
        }
        return nb;
    }
    // Adds [s, e], disjoint from the set, between its neighbours `nb`.
    void link_in(const Neighbours& nb, std::uint64_t s, std::uint64_t e) {
        units_ += e - s + 1;
        const Index before =
            (nb.before != kNil && s > 0 && (*pool_)[nb.before].end == s - 1) ? nb.before : kNil;
        const Index after = nb.after;
        const bool joins_after = after != kNil && (*pool_)[after].start == e + 1;
        if (before != kNil) {
            Node& b = (*pool_)[before];
            if (joins_after) {
                b.end = (*pool_)[after].end;
                erase(after);
            } else {
                b.end = e;
            }
            rebin(before);
            return;
        }
        if (joins_after) {
            (*pool_)[after].start = s;  // still between the same neighbours: order kept
            rebin(after);
            return;
        }
        insert(pool_->take(s, e));
    }

  public:
    /// Adds [s, e] where it may overlap the set too (building regions at init).
    void add_merging(std::uint64_t s, std::uint64_t e) {
        for (;;) {
            Index hit = s > 0 ? containing(s - 1) : kNil;
            if (hit == kNil) {
                hit = find_le(e == ~0ULL ? e : e + 1);
                if (hit != kNil && (*pool_)[hit].end + 1 < s) {
                    hit = kNil;
                }
            }
            if (hit == kNil) {
                break;
            }
            const Node& n = (*pool_)[hit];
            s = n.start < s ? n.start : s;
            e = n.end > e ? n.end : e;
            units_ -= n.size();
            erase(hit);
        }
        add(s, e);
    }

    /// Removes [s, e] from range `i`, which holds it. Needs one node from the
    /// pool only when [s, e] is strictly inside `i` (the range splits in two).
    void remove(Index i, std::uint64_t s, std::uint64_t e) {
        units_ -= e - s + 1;
        Node& n = (*pool_)[i];
        if (n.start == s && n.end == e) {
            erase(i);
        } else if (n.start == s) {
            n.start = e + 1;
            rebin(i);
        } else if (n.end == e) {
            n.end = s - 1;
            rebin(i);
        } else {
            const std::uint64_t tail_end = n.end;
            n.end = s - 1;
            rebin(i);
            insert(pool_->take(e + 1, tail_end));
        }
    }

    /// Calls f(node) in address order while it returns true; false if stopped.
    template <typename F>
    bool for_each(F&& f) const {
        return walk(root_, f);
    }

    /// Drops every range (their nodes go back to the pool).
    void clear() {
        while (root_ != kNil) {
            erase(root_);
        }
        units_ = 0;
    }

  private:
    template <typename F>
    bool walk(Index t, F& f) const {
        if (t == kNil) {
            return true;
        }
        const Node& n = (*pool_)[t];
        return walk(n.left, f) && f(n) && walk(n.right, f);
    }

    void rebin(Index i) {
        if (bins_ != nullptr) {
            bins_->update(*pool_, i);
        }
    }

    void insert(Index i) {
        root_ = insert_at(root_, i);
        ++count_;
        if (bins_ != nullptr) {
            bins_->link(*pool_, i);
        }
    }
    Index insert_at(Index t, Index i) {
        if (t == kNil) {
            return i;
        }
        Node& n = (*pool_)[t];
        Node& x = (*pool_)[i];
        if (x.start < n.start) {
            n.left = insert_at(n.left, i);
            if ((*pool_)[n.left].priority > n.priority) {
                return rotate_right(t);
            }
        } else {
            n.right = insert_at(n.right, i);
            if ((*pool_)[n.right].priority > n.priority) {
                return rotate_left(t);
            }
        }
        (void)x;
        return t;
    }
    Index rotate_right(Index t) {
        const Index l = (*pool_)[t].left;
        (*pool_)[t].left = (*pool_)[l].right;
        (*pool_)[l].right = t;
        return l;
    }
    Index rotate_left(Index t) {
        const Index r = (*pool_)[t].right;
        (*pool_)[t].right = (*pool_)[r].left;
        (*pool_)[r].left = t;
        return r;
    }

    void erase(Index i) {
        if (bins_ != nullptr && (*pool_)[i].bin != 0) {
            bins_->unlink(*pool_, i);
        }
        root_ = erase_at(root_, (*pool_)[i].start);
        --count_;
        pool_->put(i);
    }
    Index erase_at(Index t, std::uint64_t key) {
        Node& n = (*pool_)[t];
        if (key < n.start) {
            n.left = erase_at(n.left, key);
            return t;
        }
        if (key > n.start) {
            n.right = erase_at(n.right, key);
            return t;
        }
        return join(n.left, n.right);
    }
    // Joins two treaps where every key of `a` is below every key of `b`.
    Index join(Index a, Index b) {
        if (a == kNil) {
            return b;
        }
        if (b == kNil) {
            return a;
        }
        if ((*pool_)[a].priority > (*pool_)[b].priority) {
            (*pool_)[a].right = join((*pool_)[a].right, b);
            return a;
        }
        (*pool_)[b].left = join(a, (*pool_)[b].left);
        return b;
    }

    NodePool* pool_ = nullptr;
    SizeBins* bins_ = nullptr;
    Index root_ = kNil;
    std::uint64_t count_ = 0;
    std::uint64_t units_ = 0;
};

}  // namespace framealloc::detail
