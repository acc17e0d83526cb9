// The generic engine: hands out runs of page-granular units (physical frames
// or virtual pages) from two pools -- general and reserved -- and takes them
// back. It knows nothing of addresses, locks, handles or heaps; the frame and
// page allocators wrap it with those. Every method here expects the caller's
// lock to be held.
//
// Cost model: an unconstrained allocation finds its chunk through SizeBins in
// O(1) and carves from the chunk's start without touching the tree; a free
// finds both neighbours in one O(log n) treap descent each and merges; only
// constrained requests (alignment without a fitting bin, address windows)
// walk chunks in address order.
#pragma once

#include <cstdint>

#include "framealloc/detail/interval_set.hpp"
#include "framealloc/detail/node_pool.hpp"
#include "framealloc/detail/size_bins.hpp"
#include "framealloc/result.hpp"

namespace framealloc {

/// Which pool a range of frames belongs to.
enum class Pool : std::uint8_t {
    kGeneral = 0,   ///< From Free regions; any allocation may use it.
    kReserved = 1,  ///< From Reserved regions; only allocation at an address uses it.
};

namespace detail {

/// An inclusive range of units.
struct UnitRange {
    std::uint64_t start;
    std::uint64_t end;
};

/// What an allocation asks of the general pool, in units.
struct Constraint {
    std::uint64_t count = 1;
    std::uint64_t align = 1;     // power of two
    std::uint64_t boundary = 0;  // power of two >= count, or 0: must not cross a multiple
    std::uint64_t min = 0;       // lowest unit allowed
    std::uint64_t max = ~0ULL;   // highest unit allowed

    [[nodiscard]] constexpr bool unconstrained() const {
        return align == 1 && boundary == 0 && min == 0 && max == ~0ULL;
    }
};

/// A run taken out of a pool.
struct Taken {
    std::uint64_t start;
    std::uint64_t end;
    Pool pool;
};

struct EnginePoolStats {
    std::uint64_t total = 0;    // units in this pool's regions
    std::uint64_t free = 0;     // units in free chunks
    std::uint64_t chunks = 0;   // free chunks
    std::uint64_t largest = 0;  // largest free chunk
};

class RangeEngine {
  public:
    static constexpr unsigned kGeneralPool = 1;
    static constexpr unsigned kReservedPool = 2;
    static constexpr unsigned kNewRegion = 4;
    static constexpr unsigned kAnyPool = 7;

    constexpr RangeEngine() = default;

    [[nodiscard]] bool initialized() const { return initialized_; }
    [[nodiscard]] NodePool& nodes() { return pool_; }
    [[nodiscard]] const NodePool& nodes() const { return pool_; }
    [[nodiscard]] const IntervalSet& chunks(Pool p) const { return chunks_[index(p)]; }
    [[nodiscard]] const IntervalSet& regions(Pool p) const { return regions_[index(p)]; }

    /// Building the pools takes four steps so the caller can feed regions in
    /// whatever form it has them, with no heap: begin_init(), then every
    /// reserved range, then every free range (reserved wins, so it must be
    /// known first), then finish_init(). Ranges may be unsorted, overlapping or
    /// duplicated. On any error, abort_init() forgets everything.
    [[nodiscard]] Status begin_init(Node* storage, Index storage_count) {
        if (initialized_) {
            return make_error(ErrorKind::kAlreadyInitialized,
                              "the allocator is already initialised");
        }
        pool_.attach(storage, storage_count);
        bins_ = SizeBins{};
        chunks_[0].attach(&pool_, &bins_);
        chunks_[1].attach(&pool_, nullptr);
        regions_[0].attach(&pool_, nullptr);
        regions_[1].attach(&pool_, nullptr);
        return {};
    }
    [[nodiscard]] Status init_reserved(std::uint64_t s, std::uint64_t e) {
        if (pool_.spare() < 1) {
            return init_capacity_error();
        }
        regions_[1].add_merging(s, e);
        return {};
    }
    [[nodiscard]] Status init_free(std::uint64_t s, std::uint64_t e) {
        return add_free_minus_reserved(s, e) ? Status() : init_capacity_error();
    }
    /// `general_chunks` false leaves the general pool without free chunks: a
    /// caller that keeps general free state elsewhere (the frame bitmap) uses
    /// only this engine's regions for it.
    [[nodiscard]] Status finish_init(bool general_chunks = true) {
        for (int p = general_chunks ? 0 : 1; p < 2; ++p) {
            const bool ok = regions_[p].for_each([&](const Node& n) {
                if (pool_.spare() < 1) {
                    return false;
                }
                chunks_[p].add(n.start, n.end);
                return true;
            });
            if (!ok) {
                return init_capacity_error();
            }
        }
        initialized_ = true;
        return {};
    }
    void abort_init() { (void)begin_init(pool_.storage(), pool_.capacity() + 1); }

    /// Takes `c.count` units from the general pool and promises `handles` nodes
    /// to the handles that will own them.
    [[nodiscard]] Result<Taken> allocate(const Constraint& c, Index handles = 1) {
        if (c.unconstrained()) {
            const Index n = find_fit(c.count);
            if (n != kNil) {
                const std::uint64_t s = pool_[n].start;
                return take(Pool::kGeneral, n, s, s + c.count - 1, handles);
            }
            return shortage(c.count);
        }
        if (c.boundary == 0 && c.min == 0 && c.max == ~0ULL && c.count <= ~0ULL - c.align) {
            // Any chunk of count + align - 1 units holds an aligned run.
            const Index n = find_fit(c.count + c.align - 1);
            if (n != kNil) {
                const std::uint64_t s = align_up(pool_[n].start, c.align);
                return take(Pool::kGeneral, n, s, s + c.count - 1, handles);
            }
        }
        return allocate_by_walk(c, handles);
    }

    /// Takes exactly [s, e]: from the reserved pool, else the general pool, else,
    /// when no known region touches it, from a new reserved region made on the spot.
    /// `pools`: bit 0 allows the general pool, bit 1 the reserved pool, bit 2 a new region.
    [[nodiscard]] Result<Taken> allocate_at(std::uint64_t s, std::uint64_t e, Index handles = 1,
                                            unsigned pools = kAnyPool) {
        for (const Pool p : {Pool::kReserved, Pool::kGeneral}) {
            if ((pools & (1U << index(p))) == 0) {
                continue;
            }
            const Index n = chunks_[index(p)].containing(s);
            if (n != kNil && pool_[n].end >= e) {
                return take(p, n, s, e, handles);
            }
        }
        if ((pools & kNewRegion) != 0 && !regions_[0].overlaps(s, e) &&
            !regions_[1].overlaps(s, e)) {
            if (pool_.spare() < 1 + handles) {
                return make_error(ErrorKind::kCapacityExhausted,
                                  "no bookkeeping node left for a new reserved region");
            }
            regions_[1].add(s, e);
            (void)pool_.try_reserve(handles);
            return Taken{s, e, Pool::kReserved};
        }
        if (regions_[0].covers(s, e) || regions_[1].covers(s, e)) {
            return make_error(ErrorKind::kAddressInUse,
                              "some requested frames are already allocated");
        }
        return make_error(ErrorKind::kOutsideAllocator,
                          "the range is partly outside the regions this allocator manages");
    }

    /// Returns [s, e] to pool `p`, using the node its handle held in reserve.
    /// False (and no change) when any unit of it is already free: a double free.
    [[nodiscard]] bool release(std::uint64_t s, std::uint64_t e, Pool p, Index handles = 1) {
        // The handle's reserved node covers the one add may need; it is
        // released only once the add is known to happen.
        if (!chunks_[index(p)].add_if_disjoint(s, e)) {
            return false;
        }
        pool_.unreserve(handles);
        return true;
    }

    /// Adds a region after init (memory hot-plug, device memory); its units are free.
    [[nodiscard]] Status add_region(std::uint64_t s, std::uint64_t e, Pool p) {
        if (regions_[0].overlaps(s, e) || regions_[1].overlaps(s, e)) {
            return make_error(ErrorKind::kBadRegion, "the region overlaps an existing region");
        }
        if (pool_.spare() < 2) {
            return make_error(ErrorKind::kCapacityExhausted,
                              "no bookkeeping node left for the region");
        }
        regions_[index(p)].add(s, e);
        chunks_[index(p)].add(s, e);
        return {};
    }

    /// Records region [s, e] of pool `p` without touching free chunks.
    [[nodiscard]] Status add_region_entry(std::uint64_t s, std::uint64_t e, Pool p) {
        if (regions_[0].overlaps(s, e) || regions_[1].overlaps(s, e)) {
            return make_error(ErrorKind::kBadRegion, "the region overlaps an existing region");
        }
        if (pool_.spare() < 1) {
            return make_error(ErrorKind::kCapacityExhausted,
                              "no bookkeeping node left for the region");
        }
        regions_[index(p)].add(s, e);
        return {};
    }

    /// Forgets [s, e], which lies inside one region of pool `p`, without
    /// touching free chunks (the caller knows the units are free).
    [[nodiscard]] Status remove_region_entry(std::uint64_t s, std::uint64_t e, Pool p) {
        IntervalSet& regions = regions_[index(p)];
        const Index r = regions.containing(s);
        if (r == kNil || pool_[r].end < e) {
            return make_error(ErrorKind::kBadRegion, "the range is not inside one known region");
        }
        if (pool_.spare() < splits_inside(r, s, e)) {
            return make_error(ErrorKind::kCapacityExhausted, "no bookkeeping node left to split");
        }
        regions.remove(r, s, e);
        return {};
    }

    /// Takes [s, e] out of the regions; refused unless every unit of it is free.
    [[nodiscard]] Status remove_region(std::uint64_t s, std::uint64_t e) {
        for (const Pool p : {Pool::kGeneral, Pool::kReserved}) {
            IntervalSet& regions = regions_[index(p)];
            IntervalSet& chunks = chunks_[index(p)];
            const Index r = regions.containing(s);
            if (r == kNil || pool_[r].end < e) {
                continue;
            }
            const Index c = chunks.containing(s);
            if (c == kNil || pool_[c].end < e) {
                return make_error(ErrorKind::kRegionBusy,
                                  "some frames of the region are allocated");
            }
            const Index need = splits_inside(c, s, e) + splits_inside(r, s, e);
            if (pool_.spare() < need) {
                return make_error(ErrorKind::kCapacityExhausted,
                                  "no bookkeeping node left to split");
            }
            chunks.remove(c, s, e);
            regions.remove(regions.containing(s), s, e);
            return {};
        }
        return make_error(ErrorKind::kBadRegion, "the range is not inside one known region");
    }

    [[nodiscard]] EnginePoolStats stats(Pool p) const {
        EnginePoolStats st;
        st.total = regions_[index(p)].units();
        st.free = chunks_[index(p)].units();
        st.chunks = chunks_[index(p)].count();
        if (p == Pool::kGeneral) {
            const unsigned top = bins_.highest();
            if (top < SizeBins::kCount) {
                for (Index n = bins_.head(top); n != kNil; n = pool_[n].next) {
                    st.largest = pool_[n].size() > st.largest ? pool_[n].size() : st.largest;
                }
            }
        } else {
            chunks_[1].for_each([&](const Node& n) {
                st.largest = n.size() > st.largest ? n.size() : st.largest;
                return true;
            });
        }
        return st;
    }

    /// Validates every internal invariant; the first violation is the error.
    [[nodiscard]] Status check() const;

  private:
    static constexpr int index(Pool p) { return static_cast<int>(p); }

    static constexpr std::uint64_t align_up(std::uint64_t v, std::uint64_t align) {
        return (v + align - 1) & ~(align - 1);
    }

    // 1 when [s, e] lies strictly inside node n, so removing it splits n.
    [[nodiscard]] Index splits_inside(Index n, std::uint64_t s, std::uint64_t e) const {
        return (pool_[n].start < s && e < pool_[n].end) ? 1 : 0;
    }

    [[nodiscard]] static Error init_capacity_error() {
        return make_error(ErrorKind::kCapacityExhausted,
                          "more regions than the early bookkeeping capacity holds");
    }

    // Adds free [s, e] minus every reserved region to the general regions.
    bool add_free_minus_reserved(std::uint64_t s, std::uint64_t e) {
        std::uint64_t cur = s;
        for (;;) {
            const Index r = regions_[1].containing(cur);
            if (r != kNil) {
                if (pool_[r].end >= e) {
                    return true;
                }
                cur = pool_[r].end + 1;
                continue;
            }
            const Index next = regions_[1].find_gt(cur);
            const std::uint64_t piece_end =
                (next != kNil && pool_[next].start <= e) ? pool_[next].start - 1 : e;
            if (pool_.spare() < 1) {
                return false;
            }
            regions_[0].add_merging(cur, piece_end);
            if (piece_end == e) {
                return true;
            }
            cur = piece_end + 1;
        }
    }

    // A general chunk of at least `size` units, or kNil. The bins give one in
    // O(1) unless only the bin straddling `size` has candidates; that bin alone
    // is then searched, so a request that free memory can satisfy never fails.
    [[nodiscard]] Index find_fit(std::uint64_t size) const {
        const unsigned b = bins_.first_at_or_above(SizeBins::fit_index(size));
        if (b < SizeBins::kCount) {
            return bins_.head(b);
        }
        const unsigned straddling = SizeBins::index_of(size);
        if (SizeBins::low_of(straddling) == size) {
            return kNil;
        }
        for (Index n = bins_.head(straddling); n != kNil; n = pool_[n].next) {
            if (pool_[n].size() >= size) {
                return n;
            }
        }
        return kNil;
    }

    // The first start inside chunk n meeting c, if any.
    [[nodiscard]] Optional<std::uint64_t> fit_in(const Node& n, const Constraint& c) const {
        const std::uint64_t lo = n.start > c.min ? n.start : c.min;
        const std::uint64_t hi = n.end < c.max ? n.end : c.max;
        if (lo > hi || lo > ~0ULL - (c.align - 1)) {
            return {};
        }
        std::uint64_t s = align_up(lo, c.align);
        if (c.boundary != 0 && s / c.boundary != (s + c.count - 1) / c.boundary) {
            s = (s / c.boundary + 1) * c.boundary;  // a multiple of boundary is aligned too
        }
        if (s > hi || hi - s < c.count - 1) {
            return {};
        }
        return s;
    }

    [[nodiscard]] Result<Taken> allocate_by_walk(const Constraint& c, Index handles) {
        const IntervalSet& set = chunks_[0];
        Index n = set.containing(c.min);
        if (n == kNil) {
            n = set.find_gt(c.min);
        }
        for (; n != kNil && pool_[n].start <= c.max; n = set.find_gt(pool_[n].start)) {
            if (pool_[n].size() < c.count) {
                continue;
            }
            if (const auto s = fit_in(pool_[n], c)) {
                return take(Pool::kGeneral, n, *s, *s + c.count - 1, handles);
            }
        }
        return shortage(c.count);
    }

    [[nodiscard]] Result<Taken> take(Pool p, Index n, std::uint64_t s, std::uint64_t e,
                                     Index handles) {
        if (pool_.spare() < splits_inside(n, s, e) + handles) {
            return make_error(ErrorKind::kCapacityExhausted,
                              "no bookkeeping node left (early capacity or heap exhausted)");
        }
        chunks_[index(p)].remove(n, s, e);
        (void)pool_.try_reserve(handles);
        return Taken{s, e, p};
    }

    [[nodiscard]] Error shortage(std::uint64_t count) const {
        if (chunks_[0].units() >= count) {
            return make_error(ErrorKind::kNotEnoughContiguous,
                              "free frames exist but no run satisfies the request");
        }
        return make_error(ErrorKind::kOutOfMemory, "not enough free frames");
    }

    NodePool pool_;
    SizeBins bins_;
    IntervalSet chunks_[2];   // free chunks: general (binned), reserved
    IntervalSet regions_[2];  // regions: general, reserved
    bool initialized_ = false;
};

}  // namespace detail
}  // namespace framealloc

#include "framealloc/detail/engine_check.hpp"
