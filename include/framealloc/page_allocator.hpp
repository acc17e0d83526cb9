// BasicPageAllocator: the virtual-page allocator (Theseus: page_allocator),
// built on the very engine the frame allocator uses. detail::RangeEngine works
// in abstract units and knows nothing of addresses; here the units are 4 KiB
// virtual pages, where BasicFrameAllocator makes them physical frames. This
// file adds only what is different about virtual space: canonical addresses
// instead of physical ones, no on-the-spot regions for unknown addresses (a
// virtual range nobody gave the allocator is simply not its to hand out), and
// no per-CPU caches (page allocations are rare next to frame allocations).
//
// Pools: general ranges serve any request; reserved ranges (e.g. a window the
// kernel keeps for fixed mappings) are handed out only by address.
//
// Locking: `lock_` guards the engine. Heap hooks are never called with it held.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

#include "framealloc/config.hpp"
#include "framealloc/detail/range_engine.hpp"
#include "framealloc/detail/request_rules.hpp"
#include "framealloc/frame.hpp"
#include "framealloc/hooks.hpp"
#include "framealloc/lock.hpp"
#include "framealloc/pages.hpp"
#include "framealloc/span.hpp"

namespace framealloc {

/// Everything a page allocation can ask for, in 4 KiB pages unless named in
/// bytes; the convenience functions fill in one or two fields.
struct PageRequest {
    std::uint64_t num_pages = 1;
    /// The first page's number is a multiple of this (a power of two).
    std::uint64_t align_pages = 1;
    /// If nonzero (a power of two >= num_pages), the run never crosses a
    /// multiple of this many pages.
    std::uint64_t boundary_pages = 0;
    /// Allocate exactly here (the page containing it); else anywhere allowed.
    Optional<VirtualAddress> at;
    /// Every byte of the run lies in [min_address, max_address].
    VirtualAddress min_address = VirtualAddress::zero();
    VirtualAddress max_address = VirtualAddress::new_canonical(VirtualAddress::kMax);
    /// Restricts an at-address request to one pool (unset: reserved, then
    /// general). Anywhere requests always use kGeneral.
    Optional<Pool> pool;

    [[nodiscard]] static constexpr PageRequest pages(std::uint64_t n) {
        PageRequest r;
        r.num_pages = n;
        return r;
    }
    [[nodiscard]] constexpr PageRequest aligned(std::uint64_t pages) const {
        PageRequest r = *this;
        r.align_pages = pages;
        return r;
    }
    [[nodiscard]] constexpr PageRequest not_crossing(std::uint64_t pages) const {
        PageRequest r = *this;
        r.boundary_pages = pages;
        return r;
    }
    [[nodiscard]] constexpr PageRequest within(VirtualAddress lo, VirtualAddress hi) const {
        PageRequest r = *this;
        r.min_address = lo;
        r.max_address = hi;
        return r;
    }
    [[nodiscard]] constexpr PageRequest at_address(VirtualAddress address) const {
        PageRequest r = *this;
        r.at = address;
        return r;
    }
};

/// Counts for one pool, in 4 KiB pages.
struct PagePoolStats {
    std::uint64_t total_pages = 0;
    std::uint64_t free_pages = 0;
    std::uint64_t allocated_pages = 0;
    std::uint64_t free_chunks = 0;
    std::uint64_t largest_free_chunk = 0;
};

/// A snapshot of a page allocator.
struct PageStats {
    PagePoolStats general;
    PagePoolStats reserved;
    std::uint32_t nodes_capacity = 0;
    std::uint32_t nodes_used = 0;
    std::uint32_t nodes_reserved = 0;
    bool heap_mode = false;

    /// Fragmentation of the general pool, 0..1000, defined as for frames:
    /// 1000 * (1 - largest free chunk / free pages); 0 when nothing is free.
    [[nodiscard]] constexpr std::uint32_t fragmentation_permille() const {
        if (general.free_pages == 0) {
            return 0;
        }
        return static_cast<std::uint32_t>(1000 -
                                          (general.largest_free_chunk * 1000) / general.free_pages);
    }
};

/// A virtual-page allocator over the ranges given to init(). `Lock` guards
/// it; `EarlyCapacity` bookkeeping nodes live inside the object (one per free
/// chunk, range, or live handle) until move_to_heap() lets it grow.
template <BasicLockable Lock = SpinLock, std::size_t EarlyCapacity = FRAMEALLOC_EARLY_CAPACITY>
class BasicPageAllocator final : public PageOwner {
    static_assert(EarlyCapacity >= 4 && EarlyCapacity < (1U << 30), "unreasonable early capacity");

  public:
    /// In heap mode, storage grows once fewer spare nodes than this remain.
    static constexpr detail::Index kLowWater = 32;

    constexpr BasicPageAllocator() = default;
    BasicPageAllocator(const BasicPageAllocator&) = delete;
    BasicPageAllocator& operator=(const BasicPageAllocator&) = delete;
    ~BasicPageAllocator() {
        // Handles must not outlive their allocator; only storage is freed here.
        detail::Node* nodes = engine_.nodes().storage();
        if (heap_mode_.load(std::memory_order_acquire) && nodes != early_) {
            hooks_.deallocate(hooks_.context, nodes,
                              sizeof(detail::Node) * (engine_.nodes().capacity() + 1),
                              alignof(detail::Node));
        }
    }

    /// Builds the allocator from the virtual ranges it may hand out. Ranges may
    /// be unsorted, overlapping or duplicated; reserved wins where they overlap
    /// free ones. Errors: kAlreadyInitialized; kBadRegion (a range containing a
    /// non-canonical page, e.g. one spanning the x86_64 hole);
    /// kCapacityExhausted. On error nothing changes and init may be retried.
    [[nodiscard]] Status init(Span<const PageRange<>> free_ranges,
                              Span<const PageRange<>> reserved_ranges) FRAMEALLOC_EXCLUDES(lock_) {
        const auto all_canonical = [](Span<const PageRange<>> list) {
            for (const PageRange<>& r : list) {
                if (!r.is_empty() && !canonical(r)) {
                    return false;
                }
            }
            return true;
        };
        if (!all_canonical(free_ranges) || !all_canonical(reserved_ranges)) {
            return make_error(ErrorKind::kBadRegion,
                              "a range holds non-canonical virtual addresses");
        }
        LockGuard<Lock> guard(lock_);
        Status st = init_locked(free_ranges, reserved_ranges);
        if (!st && st.kind() != ErrorKind::kAlreadyInitialized) {
            engine_.abort_init();
        }
        return st;
    }

    [[nodiscard]] bool is_initialized() const FRAMEALLOC_EXCLUDES(lock_) {
        LockGuard<Lock> guard(lock_);
        return engine_.initialized();
    }

    /// The general form: any mix of count, alignment, boundary, window, exact
    /// address and pool (see PageRequest). Errors: kZeroFrames,
    /// kInvalidArgument (alignment or boundary not a power of two, boundary
    /// below the count, window without a whole page), kMisaligned (`at` breaks
    /// the alignment or boundary), kOutOfRange (`at` outside the window),
    /// kOverflow, kOutOfMemory, kNotEnoughContiguous, kAddressInUse,
    /// kOutsideAllocator, kCapacityExhausted, kNotInitialized.
    [[nodiscard]] Result<AllocatedPages<>> allocate(const PageRequest& request)
        FRAMEALLOC_EXCLUDES(lock_) {
        auto constraint = to_constraint(request);
        if (!constraint) {
            return constraint.error();
        }
        const detail::Constraint& c = constraint.value();
        detail::UnitRange at{0, 0};
        unsigned pools = detail::RangeEngine::kGeneralPool | detail::RangeEngine::kReservedPool;
        if (request.at) {
            auto range = at_range(request, c);
            if (!range) {
                return range.error();
            }
            at = range.value();
            if (request.pool) {
                pools = *request.pool == Pool::kGeneral ? detail::RangeEngine::kGeneralPool
                                                        : detail::RangeEngine::kReservedPool;
            }
        }
        for (int attempt = 0;; ++attempt) {
            Result<detail::Taken> taken = make_error(ErrorKind::kNotInitialized, "");
            bool low = false;
            {
                LockGuard<Lock> guard(lock_);
                if (!engine_.initialized()) {
                    return make_error(ErrorKind::kNotInitialized, "init() has not been called");
                }
                taken = request.at ? engine_.allocate_at(at.start, at.end, 1, pools)
                                   : engine_.allocate(c);
                low = engine_.nodes().spare() < kLowWater;
            }
            if (taken) {
                if (low) {
                    grow_nodes();  // after the lock: the heap may allocate pages from us
                }
                return AllocatedPages<>(detail::AdoptPagesTag{}, this,
                                        PageRange<>(page_of(taken->start), page_of(taken->end)),
                                        taken->pool);
            }
            if (attempt > 0 || taken.kind() != ErrorKind::kCapacityExhausted || !heap_mode()) {
                return taken.error();
            }
            grow_nodes();
        }
    }

    /// `num_pages` pages anywhere in the general pool.
    [[nodiscard]] Result<AllocatedPages<>> allocate_pages(std::uint64_t num_pages)
        FRAMEALLOC_EXCLUDES(lock_) {
        return allocate(PageRequest::pages(num_pages));
    }
    /// `num_pages` pages starting at the page containing `address`.
    [[nodiscard]] Result<AllocatedPages<>> allocate_pages_at(VirtualAddress address,
                                                             std::uint64_t num_pages)
        FRAMEALLOC_EXCLUDES(lock_) {
        return allocate(PageRequest::pages(num_pages).at_address(address));
    }
    /// Enough pages for `num_bytes` bytes, anywhere.
    [[nodiscard]] Result<AllocatedPages<>> allocate_pages_by_bytes(std::uint64_t num_bytes)
        FRAMEALLOC_EXCLUDES(lock_) {
        auto count = pages_for_bytes(VirtualAddress::zero(), num_bytes);
        if (!count) {
            return count.error();
        }
        return allocate_pages(count.value());
    }
    /// The pages covering the `num_bytes` bytes from `address`.
    [[nodiscard]] Result<AllocatedPages<>> allocate_pages_by_bytes_at(VirtualAddress address,
                                                                      std::uint64_t num_bytes)
        FRAMEALLOC_EXCLUDES(lock_) {
        auto count = pages_for_bytes(address, num_bytes);
        if (!count) {
            return count.error();
        }
        return allocate_pages_at(address, count.value());
    }
    /// `num_pages` pages anywhere inside `range` (Theseus: allocate_pages_in_range).
    [[nodiscard]] Result<AllocatedPages<>> allocate_pages_in_range(std::uint64_t num_pages,
                                                                   PageRange<> range)
        FRAMEALLOC_EXCLUDES(lock_) {
        if (range.is_empty()) {
            return make_error(ErrorKind::kInvalidArgument, "the range is empty");
        }
        const VirtualAddress last = VirtualAddress::new_canonical(
            range.end().start_address().value() + (Page4K::kBytes - 1));
        return allocate(PageRequest::pages(num_pages).within(range.start_address(), last));
    }
    /// `count` naturally aligned huge pages (Page2M or Page1G), honouring the
    /// window of `constraints` (its count and alignment are ignored).
    template <PageSize P>
    [[nodiscard]] Result<AllocatedPages<P>> allocate_huge(std::uint64_t count = 1,
                                                          PageRequest constraints = {})
        FRAMEALLOC_EXCLUDES(lock_) {
        if (count == 0) {
            return make_error(ErrorKind::kZeroFrames, "zero huge pages requested");
        }
        if (count > (~0ULL / P::kFrames4K)) {
            return make_error(ErrorKind::kOverflow, "too many huge pages");
        }
        constraints.num_pages = count * P::kFrames4K;
        constraints.align_pages = P::kFrames4K;
        auto pages = allocate(constraints);
        if (!pages) {
            return pages.error();
        }
        return pages.value().template into_page_size<P>();
    }

    /// Adds a virtual range after init; its pages become free in `pool`.
    /// Errors: kBadRegion (overlaps a known range, or not canonical),
    /// kZeroFrames, kCapacityExhausted, kNotInitialized.
    [[nodiscard]] Status add_range(PageRange<> range, Pool pool = Pool::kGeneral)
        FRAMEALLOC_EXCLUDES(lock_) {
        if (range.is_empty()) {
            return make_error(ErrorKind::kZeroFrames, "the range is empty");
        }
        if (!canonical(range)) {
            return make_error(ErrorKind::kBadRegion,
                              "the range holds non-canonical virtual addresses");
        }
        LockGuard<Lock> guard(lock_);
        if (!engine_.initialized()) {
            return make_error(ErrorKind::kNotInitialized, "init() has not been called");
        }
        return engine_.add_region(range.start().number(), range.end().number(), pool);
    }

    /// Moves bookkeeping from the built-in array to storage from `hooks`, which
    /// then grows on demand. Errors: kNotInitialized, kAlreadyInitialized,
    /// kInvalidArgument (null hooks), kHeapUnavailable.
    [[nodiscard]] Status move_to_heap(HeapHooks hooks) FRAMEALLOC_EXCLUDES(lock_) {
        if (!hooks.valid()) {
            return make_error(ErrorKind::kInvalidArgument, "heap hooks are null");
        }
        detail::Index count = 0;
        {
            LockGuard<Lock> guard(lock_);
            if (!engine_.initialized()) {
                return make_error(ErrorKind::kNotInitialized, "init() has not been called");
            }
            if (heap_mode() || moving_) {
                return make_error(ErrorKind::kAlreadyInitialized, "already moved to the heap");
            }
            moving_ = true;
            count = detail::grown_count(engine_.nodes().capacity() + 1);
        }
        void* memory =
            hooks.allocate(hooks.context, sizeof(detail::Node) * count, alignof(detail::Node));
        LockGuard<Lock> guard(lock_);
        moving_ = false;
        if (memory == nullptr) {
            return make_error(ErrorKind::kHeapUnavailable, "the heap hook returned no memory");
        }
        engine_.nodes().relocate(static_cast<detail::Node*>(memory), count);
        hooks_ = hooks;
        heap_mode_.store(true, std::memory_order_release);
        return {};
    }
    [[nodiscard]] bool heap_mode() const { return heap_mode_.load(std::memory_order_acquire); }

    /// A consistent snapshot of both pools.
    [[nodiscard]] PageStats stats() const FRAMEALLOC_EXCLUDES(lock_) {
        PageStats st;
        LockGuard<Lock> guard(lock_);
        const auto g = engine_.stats(Pool::kGeneral);
        const auto r = engine_.stats(Pool::kReserved);
        st.general = PagePoolStats{g.total, g.free, g.total - g.free, g.chunks, g.largest};
        st.reserved = PagePoolStats{r.total, r.free, r.total - r.free, r.chunks, r.largest};
        st.nodes_capacity = engine_.nodes().capacity();
        st.nodes_used = engine_.nodes().used();
        st.nodes_reserved = engine_.nodes().reserved();
        st.heap_mode = heap_mode();
        return st;
    }
    /// Validates every engine invariant; kInvariantViolation names the first
    /// broken rule.
    [[nodiscard]] Status check() const FRAMEALLOC_EXCLUDES(lock_) {
        LockGuard<Lock> guard(lock_);
        return engine_.check();
    }

    // -------------------------------------------------- PageOwner (handles)

    void return_pages(std::uint64_t first, std::uint64_t last, Pool pool) override
        FRAMEALLOC_EXCLUDES(lock_) {
        bool ok = false;
        {
            LockGuard<Lock> guard(lock_);
            ok = engine_.release(first, last, pool);
        }
        if (!ok) {
            framealloc_panic("framealloc: pages returned twice (double free)");
        }
    }
    [[nodiscard]] Status reserve_page_handles(std::uint32_t count) override
        FRAMEALLOC_EXCLUDES(lock_) {
        for (int attempt = 0; attempt < 2; ++attempt) {
            {
                LockGuard<Lock> guard(lock_);
                if (engine_.nodes().try_reserve(count)) {
                    return {};
                }
            }
            if (!heap_mode()) {
                break;
            }
            grow_nodes();
        }
        return make_error(ErrorKind::kCapacityExhausted,
                          "no bookkeeping node left for a new handle");
    }
    void unreserve_page_handles(std::uint32_t count) override FRAMEALLOC_EXCLUDES(lock_) {
        LockGuard<Lock> guard(lock_);
        engine_.nodes().unreserve(count);
    }

  private:
    static constexpr Page<> page_of(std::uint64_t number) {
        return Page<>::from_number(number).value();
    }

    // True when every page of `r` starts at a canonical address and the range
    // does not span the hole between the lower and upper halves.
    static constexpr bool canonical(const PageRange<>& r) {
        const std::uint64_t first = r.start().number() << Page4K::kShift;
        const std::uint64_t last = r.end().number() << Page4K::kShift;
        return VirtualAddress::create(first) && VirtualAddress::create(last) &&
               (first >> 63) == (last >> 63);
    }

    static Result<std::uint64_t> pages_for_bytes(VirtualAddress address, std::uint64_t bytes) {
        return detail::units_for_bytes(address.page_offset(), bytes);
    }

    // Validates a request and turns it into engine units (pages).
    static Result<detail::Constraint> to_constraint(const PageRequest& r) {
        return detail::to_constraint(r.num_pages, r.align_pages, r.boundary_pages,
                                     r.min_address.value(), r.max_address.value(),
                                     Page<>::kMaxNumber);
    }

    // The exact run an at-address request names, checked against its constraints.
    static Result<detail::UnitRange> at_range(const PageRequest& r, const detail::Constraint& c) {
        return detail::exact_run(Page<>::containing_address(*r.at).number(), c, Page<>::kMaxNumber);
    }

    Status init_locked(Span<const PageRange<>> free_ranges, Span<const PageRange<>> reserved)
        FRAMEALLOC_REQUIRES(lock_) {
        FRAMEALLOC_TRY(engine_.begin_init(early_, EarlyCapacity + 1));
        for (const PageRange<>& r : reserved) {
            if (!r.is_empty()) {
                FRAMEALLOC_TRY(engine_.init_reserved(r.start().number(), r.end().number()));
            }
        }
        for (const PageRange<>& r : free_ranges) {
            if (!r.is_empty()) {
                FRAMEALLOC_TRY(engine_.init_free(r.start().number(), r.end().number()));
            }
        }
        return engine_.finish_init();
    }

    // Doubles node storage from the heap, never with the lock held; one grower
    // at a time (a concurrent caller returns and retries or fails cleanly).
    void grow_nodes() FRAMEALLOC_EXCLUDES(lock_) {
        if (!heap_mode() || growing_.exchange(true, std::memory_order_acquire)) {
            return;
        }
        detail::Index old_count = 0;
        {
            LockGuard<Lock> guard(lock_);
            old_count = engine_.nodes().capacity() + 1;
        }
        const detail::Index count = detail::grown_count(old_count);
        void* memory = count > old_count
                           ? hooks_.allocate(hooks_.context, sizeof(detail::Node) * count,
                                             alignof(detail::Node))
                           : nullptr;
        if (memory != nullptr) {
            detail::Node* old = nullptr;
            {
                LockGuard<Lock> guard(lock_);
                old = engine_.nodes().relocate(static_cast<detail::Node*>(memory), count);
            }
            if (old != early_) {
                hooks_.deallocate(hooks_.context, old, sizeof(detail::Node) * old_count,
                                  alignof(detail::Node));
            }
        }
        growing_.store(false, std::memory_order_release);
    }

    mutable Lock lock_;
    detail::RangeEngine engine_ FRAMEALLOC_GUARDED_BY(lock_);
    detail::Node early_[EarlyCapacity + 1] = {};
    HeapHooks hooks_;  // written once, before heap_mode_ is published
    std::atomic<bool> heap_mode_{false};
    std::atomic<bool> growing_{false};
    bool moving_ FRAMEALLOC_GUARDED_BY(lock_) = false;
};

/// The page allocator most code wants: a spinlock and the configured early capacity.
using PageAllocator = BasicPageAllocator<>;

}  // namespace framealloc
