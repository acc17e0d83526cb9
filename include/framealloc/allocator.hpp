// BasicFrameAllocator: the physical frame allocator a kernel instantiates --
// one per NUMA node if it likes, each a plain object. It wraps the
// FrameEngine (the general pool's bitmap, the reserved pool's nodes) with
// physical types, locks of the kernel's choosing, early (built-in) and
// heap-backed node storage, and per-CPU caches.
//
// Locking, all with the one Lock type (so an interrupt-masking Lock masks
// everywhere): per-CPU cache locks first, then `lock_` (the reserved pool,
// the region lists, node storage, and every slow path), then the bitmap's
// tree locks, one per 128 MiB, in the bitmap's fixed order. General-pool
// runs that fit in one tree, their frees, and cache refills and drains take
// only tree locks (docs/design.md). The heap hooks are never called with a
// lock held, so a heap that allocates frames from this same allocator while
// it grows cannot deadlock.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <type_traits>

#include "framealloc/allocator_types.hpp"
#include "framealloc/config.hpp"
#include "framealloc/detail/cpu_cache.hpp"
#include "framealloc/detail/format.hpp"
#include "framealloc/detail/frame_engine.hpp"
#include "framealloc/detail/metadata_home.hpp"
#include "framealloc/detail/request_rules.hpp"
#include "framealloc/frames.hpp"
#include "framealloc/hooks.hpp"
#include "framealloc/lock.hpp"
#include "framealloc/region.hpp"
#include "framealloc/span.hpp"

namespace framealloc {

namespace detail {

/// Heap-backed storage of an allocator. The owning variant frees it when the
/// allocator dies; the eternal one has a trivial destructor so a global
/// allocator needs no destructor registration (and so no run-time init code).
template <typename Cache>
struct HeapStorage {
    HeapHooks hooks;
    Node* nodes = nullptr;
    Index node_count = 0;
    Cache* caches = nullptr;

    void free_all() {
        if (nodes != nullptr) {
            hooks.deallocate(hooks.context, nodes, sizeof(Node) * node_count, alignof(Node));
            nodes = nullptr;
        }
        if (caches != nullptr) {
            for (unsigned i = 0; i < FRAMEALLOC_MAX_CPUS; ++i) {
                caches[i].~Cache();
            }
            hooks.deallocate(hooks.context, caches, sizeof(Cache) * FRAMEALLOC_MAX_CPUS,
                             alignof(Cache));
            caches = nullptr;
        }
    }
};
template <typename Cache>
struct OwningHeapStorage : HeapStorage<Cache> {
    constexpr OwningHeapStorage() = default;
    OwningHeapStorage(const OwningHeapStorage&) = delete;
    OwningHeapStorage& operator=(const OwningHeapStorage&) = delete;
    ~OwningHeapStorage() { this->free_all(); }
};

}  // namespace detail

/// A frame allocator. `Lock` guards the shared pool (anything with lock() and
/// unlock(), e.g. an interrupt-masking spinlock); `EarlyCapacity` is the
/// number of bookkeeping nodes built into the object for use before a heap
/// exists; `kEternal` gives a trivially destructible object for globals (its
/// heap storage is then never freed).
template <BasicLockable Lock = SpinLock, std::size_t EarlyCapacity = FRAMEALLOC_EARLY_CAPACITY,
          bool kEternal = false>
class BasicFrameAllocator final : public FrameOwner {
    static_assert(EarlyCapacity >= 4 && EarlyCapacity < (1U << 30), "unreasonable early capacity");

    // Whether an allocation may call the heap hooks to grow node storage:
    // the deferred functions never do (their caller may be the heap).
    enum class HeapUse : std::uint8_t { kMayGrow, kNever };

    // Each 128 MiB tree of the bitmap carries a Lock of its own.
    static constexpr std::size_t kTreeStride = detail::TreeLockShape::of<Lock>().stride();

  public:
    /// Nodes kept spare in heap mode; growth is triggered below this.
    static constexpr detail::Index kLowWater = 4 * detail::CpuCacheShape::kSmallBatch;

    constexpr BasicFrameAllocator() = default;
    BasicFrameAllocator(const BasicFrameAllocator&) = delete;
    BasicFrameAllocator& operator=(const BasicFrameAllocator&) = delete;

    // ---------------------------------------------------------------- init

    /// Bytes of metadata init() needs for these regions (an upper bound):
    /// about 1.08 bits per usable frame plus a little per region. The general
    /// pool's bookkeeping lives there, fixed for the allocator's life.
    [[nodiscard]] static constexpr std::size_t metadata_bytes(
        Span<const PhysicalMemoryRegion> free_regions,
        Span<const PhysicalMemoryRegion> reserved_regions) {
        std::size_t bytes = metadata_bytes_fixed();
        for (const PhysicalMemoryRegion& r : free_regions) {
            bytes += metadata_bytes_of(r);
        }
        for (const PhysicalMemoryRegion& r : reserved_regions) {
            bytes += metadata_bytes_of(r);
        }
        return bytes;
    }
    /// metadata_bytes() piece by piece, for callers that hold regions in
    /// another form (the C interface): the fixed part, plus one term per region.
    [[nodiscard]] static constexpr std::size_t metadata_bytes_fixed() {
        return detail::FrameEngine::fixed_bytes();
    }
    [[nodiscard]] static constexpr std::size_t metadata_bytes_of(const PhysicalMemoryRegion& r) {
        if (r.frames.is_empty()) {
            return 0;
        }
        if (r.type == MemoryRegionType::kFree) {
            return detail::FrameEngine::piece_bytes(r.frames.start().number(),
                                                    r.frames.end().number(), kTreeStride);
        }
        return r.type == MemoryRegionType::kReserved ? detail::FrameEngine::split_bytes(kTreeStride)
                                                     : 0;
    }

    /// Builds the allocator from the firmware's view of memory. Regions may be
    /// unsorted, overlapping, duplicated, empty; kUnknown ones are ignored;
    /// reserved wins where they overlap free ones. `metadata` is the memory
    /// the allocator keeps its general-pool bookkeeping in, for its whole life
    /// (at least metadata_bytes(free_regions, reserved_regions) bytes; any
    /// surplus serves regions added later). Returns the function that turns
    /// just-unmapped frames back into UnmappedFrames.
    /// Errors: kAlreadyInitialized; kBadRegion (a region whose type contradicts
    /// its list); kCapacityExhausted (more distinct regions than EarlyCapacity
    /// allows, or `metadata` too small). On error nothing changes and init may
    /// be called again.
    [[nodiscard]] Result<IntoUnmappedFrames> init(Span<const PhysicalMemoryRegion> free_regions,
                                                  Span<const PhysicalMemoryRegion> reserved_regions,
                                                  Span<std::byte> metadata)
        FRAMEALLOC_EXCLUDES(lock_) {
        LockGuard<Lock> guard(lock_);
        Status st = init_locked(free_regions, reserved_regions, metadata);
        if (!st) {
            if (st.kind() != ErrorKind::kAlreadyInitialized) {
                engine_.abort_init();
            }
            return st.error();
        }
        return IntoUnmappedFrames(this);
    }
    /// init() with the metadata carved out of the usable memory itself: the
    /// lowest metadata_bytes() of free frames inside `where`'s window (clear
    /// of every reserved region) hold it, reached through `where`'s direct
    /// map, and stay allocated for the allocator's life. The way a kernel
    /// with a direct map sizes nothing by hand. Errors: those of init(), and
    /// kCapacityExhausted when no free run in the window is large enough.
    [[nodiscard]] Result<IntoUnmappedFrames> init_carving_metadata(
        Span<const PhysicalMemoryRegion> free_regions,
        Span<const PhysicalMemoryRegion> reserved_regions, const MetadataPlacement& where)
        FRAMEALLOC_EXCLUDES(lock_);

    /// init() with the metadata memory built into the allocator
    /// (FRAMEALLOC_BUILTIN_METADATA bytes: enough for small machines and for
    /// early boot; larger ones pass their own).
    [[nodiscard]] Result<IntoUnmappedFrames> init(Span<const PhysicalMemoryRegion> free_regions,
                                                  Span<const PhysicalMemoryRegion> reserved_regions)
        FRAMEALLOC_EXCLUDES(lock_) {
        return init(free_regions, reserved_regions,
                    Span<std::byte>(builtin_metadata_, sizeof(builtin_metadata_)));
    }

    [[nodiscard]] bool is_initialized() const FRAMEALLOC_EXCLUDES(lock_) {
        LockGuard<Lock> guard(lock_);
        return engine_.initialized();
    }

    // ---------------------------------------------------------- allocation

    /// The core routine: `num_frames` frames anywhere (general pool), or at the
    /// frame containing `address` when given. The returned action grows the
    /// bookkeeping storage from the heap if it runs low; run it (or let it be
    /// destroyed) once the caller holds no lock the heap needs.
    [[nodiscard]] Result<DeferredAllocation> allocate_frames_deferred(
        Optional<PhysicalAddress> address, std::uint64_t num_frames) FRAMEALLOC_EXCLUDES(lock_) {
        AllocRequest req = AllocRequest::frames(num_frames);
        req.at = address;
        bool check_nodes = false;
        auto frames = allocate_impl(req, check_nodes, HeapUse::kNever);
        if (!frames) {
            return frames.error();
        }
        return DeferredAllocation{std::move(frames.value()),
                                  check_nodes ? deferred_action() : DeferredAllocAction()};
    }
    /// allocate_frames_deferred() sized in bytes (rounded up to whole frames,
    /// counting the offset of `address` inside its first frame).
    [[nodiscard]] Result<DeferredAllocation> allocate_frames_by_bytes_deferred(
        Optional<PhysicalAddress> address, std::uint64_t num_bytes) FRAMEALLOC_EXCLUDES(lock_) {
        auto count = frames_for_bytes(address, num_bytes);
        if (!count) {
            return count.error();
        }
        return allocate_frames_deferred(address, count.value());
    }
    /// `num_frames` frames anywhere in the general pool.
    [[nodiscard]] Result<AllocatedFrames<>> allocate_frames(std::uint64_t num_frames)
        FRAMEALLOC_EXCLUDES(lock_) {
        return allocate(AllocRequest::frames(num_frames));
    }
    /// `num_frames` frames starting at the frame containing `address`.
    [[nodiscard]] Result<AllocatedFrames<>> allocate_frames_at(PhysicalAddress address,
                                                               std::uint64_t num_frames)
        FRAMEALLOC_EXCLUDES(lock_) {
        return allocate(AllocRequest::frames(num_frames).at_address(address));
    }
    /// Enough frames for `num_bytes` bytes, anywhere.
    [[nodiscard]] Result<AllocatedFrames<>> allocate_frames_by_bytes(std::uint64_t num_bytes)
        FRAMEALLOC_EXCLUDES(lock_) {
        auto count = frames_for_bytes({}, num_bytes);
        if (!count) {
            return count.error();
        }
        return allocate_frames(count.value());
    }
    /// The frames covering the `num_bytes` bytes from `address`.
    [[nodiscard]] Result<AllocatedFrames<>> allocate_frames_by_bytes_at(PhysicalAddress address,
                                                                        std::uint64_t num_bytes)
        FRAMEALLOC_EXCLUDES(lock_) {
        auto count = frames_for_bytes(address, num_bytes);
        if (!count) {
            return count.error();
        }
        return allocate_frames_at(address, count.value());
    }

    /// The general form: any mix of count, alignment, boundary, address window,
    /// exact address and pool (see AllocRequest). Runs any deferred growth
    /// before returning. Errors: kZeroFrames, kInvalidArgument (alignment or
    /// boundary not a power of two, boundary smaller than the run, empty
    /// window), kMisaligned (`at` not aligned), kOverflow, kOutOfMemory,
    /// kNotEnoughContiguous, kAddressInUse, kOutsideAllocator,
    /// kCapacityExhausted, kNotInitialized.
    [[nodiscard]] Result<AllocatedFrames<>> allocate(const AllocRequest& request)
        FRAMEALLOC_EXCLUDES(lock_) {
        // The per-CPU fast path first: a request of a cacheable shape is valid
        // by construction and a general-pool handle holds no node, so a cache
        // hit needs neither validation nor any lock but its cache's.
        if (const CacheKind kind = plain_cache_kind(request); kind != CacheKind::kNone) {
            if (heap_mode_.load(std::memory_order_acquire)) {
                bool refilled = false;
                if (const auto first = take_cached(kind, refilled)) {
                    if (refilled) {
                        deferred_action().run();
                    }
                    return make_handle(
                        detail::Taken{*first, *first + request.num_frames - 1, Pool::kGeneral});
                }
            }
        }
        return allocate_shared(request);
    }

    /// `count` naturally aligned huge frames (Page2M or Page1G), honouring the
    /// window of `constraints` (its count and alignment are ignored).
    template <PageSize P>
    [[nodiscard]] Result<AllocatedFrames<P>> allocate_huge(std::uint64_t count = 1,
                                                           AllocRequest constraints = {})
        FRAMEALLOC_EXCLUDES(lock_) {
        if (count == 0) {
            return make_error(ErrorKind::kZeroFrames, "zero huge frames requested");
        }
        if (count > (~0ULL / P::kFrames4K)) {
            return make_error(ErrorKind::kOverflow, "too many huge frames");
        }
        constraints.num_frames = count * P::kFrames4K;
        constraints.align_frames = P::kFrames4K;
        auto frames = allocate(constraints);
        if (!frames) {
            return frames.error();
        }
        return frames.value().template into_page_size<P>();
    }

    /// Calls `func(FrameRange<>)` on each free chunk of the general pool in
    /// address order; it answers with a FramesIteratorRequest. kAllocateAt
    /// allocates there (inside the chunk just shown) and returns the frames;
    /// kStop or the end returns no frames. `func` runs under the allocator's
    /// lock and must not call into the allocator.
    template <typename F>
    [[nodiscard]] Result<Optional<AllocatedFrames<>>> inspect_then_allocate_free_frames(F&& func)
        FRAMEALLOC_EXCLUDES(lock_);

    // ------------------------------------------------------------- storage

    /// Moves bookkeeping from the built-in early array to heap storage from
    /// `hooks`, and turns on the per-CPU caches. Call once the kernel heap
    /// works. Errors: kNotInitialized, kAlreadyInitialized (already moved),
    /// kInvalidArgument (null hooks), kHeapUnavailable.
    [[nodiscard]] Status move_to_heap(HeapHooks hooks) FRAMEALLOC_EXCLUDES(lock_);

    /// True once move_to_heap() succeeded.
    [[nodiscard]] bool heap_mode() const { return heap_mode_.load(std::memory_order_acquire); }

    // ------------------------------------------------------------- regions

    /// Adds a region at run time (memory hot-plug, a driver's device memory);
    /// its frames become free in the pool of its type. The bitmap of a Free
    /// region's frames comes from `metadata` when given (at least
    /// metadata_bytes() of the region alone; kept for the allocator's life),
    /// else from what init's metadata memory has left. Errors: kBadRegion
    /// (overlaps a known region, or type kUnknown), kZeroFrames (empty),
    /// kCapacityExhausted (no metadata or region node left), kNotInitialized.
    [[nodiscard]] Status add_region(const PhysicalMemoryRegion& region,
                                    Span<std::byte> metadata = {}) FRAMEALLOC_EXCLUDES(lock_);

    /// Takes `range` offline (hot-unplug): it must lie in one region and every
    /// frame of it must be free; otherwise nothing changes (kRegionBusy,
    /// kBadRegion). Frames in per-CPU caches count as free.
    [[nodiscard]] Status take_offline(FrameRange<> range) FRAMEALLOC_EXCLUDES(lock_);

    // ------------------------------------------------------------ per-CPU

    /// Returns every frame cached for `cpu` to the shared pool (CPU offline).
    void drain_cpu_cache(unsigned cpu) FRAMEALLOC_EXCLUDES(lock_) {
        if (!heap_mode() || cpu >= kMaxCpus) {
            return;
        }
        Cache& cache = heap_.caches[cpu];
        cache.lock.lock();
        drain_small(cache, cache.small_count.load(std::memory_order_relaxed));
        drain_huge(cache, cache.huge_count.load(std::memory_order_relaxed));
        cache.lock.unlock();
    }
    /// Drains every CPU's cache.
    void drain_cpu_caches() FRAMEALLOC_EXCLUDES(lock_) {
        if (!heap_mode()) {
            return;
        }
        for (unsigned cpu = 0; cpu < kMaxCpus; ++cpu) {
            if (heap_.caches[cpu].cached_frames() != 0) {
                drain_cpu_cache(cpu);
            }
        }
    }

    // ------------------------------------------------------- observation

    /// A consistent snapshot of the shared pool plus the per-CPU caches: taken
    /// with every cache lock and the pool's lock held, so no frame moving
    /// between the pool and a cache is counted twice or not at all.
    [[nodiscard]] FrameStats stats() const FRAMEALLOC_EXCLUDES(lock_) {
        return with_all_locked([&](bool caches) FRAMEALLOC_NO_TSA { return stats_locked(caches); });
    }

    /// With FRAMEALLOC_COUNT_SHARED_OPS (a benchmark build): general-pool
    /// operations that reached the pool, and how many of them took the
    /// pool-wide lock rather than only the locks of the trees they touched.
    /// Cache hits count as neither. Zeros in other builds.
    [[nodiscard]] OpCounts op_counts() const {
        OpCounts c;
        for (const CpuSlot& slot : cursors_) {
            c.pool_ops += __atomic_load_n(&slot.ops, __ATOMIC_RELAXED);
            c.shared_lock_ops += __atomic_load_n(&slot.shared_ops, __ATOMIC_RELAXED);
        }
        return c;
    }

    /// Validates every invariant of the shared pool and the caches: free
    /// chunks sorted, disjoint, fully coalesced, inside regions of their pool;
    /// size bins and counters consistent; cached frames in the general pool,
    /// not free in the shared pool, never cached twice. kInvariantViolation
    /// names the first broken rule.
    [[nodiscard]] Status check() const FRAMEALLOC_EXCLUDES(lock_);

    /// Writes a human-readable dump of the allocator's state, one line per
    /// call of `out(const char* line)`, all of it one snapshot (like stats()):
    /// `out` runs with the allocator's locks held and must not call into it.
    template <typename Sink>
    void dump(Sink&& out) const FRAMEALLOC_EXCLUDES(lock_);

    // -------------------------------------------------- FrameOwner (handles)

    void return_frames(std::uint64_t first, std::uint64_t last, Pool pool) override
        FRAMEALLOC_EXCLUDES(lock_) {
        if (pool != Pool::kGeneral || !heap_mode() || !try_cache(first, last)) {
            release_shared(first, last, pool);
        }
        debug_check();
    }
    [[nodiscard]] Status reserve_handles(std::uint32_t count, Pool pool) override
        FRAMEALLOC_EXCLUDES(lock_);
    void unreserve_handles(std::uint32_t count, Pool pool) override FRAMEALLOC_EXCLUDES(lock_) {
        if (pool == Pool::kGeneral) {
            return;  // general handles hold no bookkeeping
        }
        {
            LockGuard<Lock> guard(lock_);
            engine_.nodes().unreserve(count);
        }
        debug_check();
    }
    [[nodiscard]] Result<Pool> adopt_frames(std::uint64_t first, std::uint64_t last) override
        FRAMEALLOC_EXCLUDES(lock_);
    void run_deferred() override FRAMEALLOC_EXCLUDES(lock_) { grow_nodes(); }

  private:
    static constexpr unsigned kMaxCpus = FRAMEALLOC_MAX_CPUS;
    using Engine = detail::FrameEngine;
    // The cache locks are Locks too, so they mask whatever lock_ masks.
    using Cache = detail::BasicCpuCache<Lock>;

    static constexpr Frame<> frame_of(std::uint64_t number) {
        return Frame<>::from_number(number).value();
    }
    static constexpr Pool pool_of(MemoryRegionType type) {
        return type == MemoryRegionType::kReserved ? Pool::kReserved : Pool::kGeneral;
    }

    Status init_locked(Span<const PhysicalMemoryRegion> free_regions,
                       Span<const PhysicalMemoryRegion> reserved_regions, Span<std::byte> metadata)
        FRAMEALLOC_REQUIRES(lock_);

    static Result<std::uint64_t> frames_for_bytes(Optional<PhysicalAddress> address,
                                                  std::uint64_t num_bytes) {
        return detail::units_for_bytes(address ? address->frame_offset() : 0, num_bytes);
    }

    DeferredAllocAction deferred_action() {
        if (!heap_mode()) {
            return DeferredAllocAction();
        }
        LockGuard<Lock> guard(lock_);
        return nodes_low_locked() ? DeferredAllocAction(this) : DeferredAllocAction();
    }

    // With FRAMEALLOC_CHECK_EVERY_OP, runs the checker after an operation
    // (no lock may be held) and panics on a violation; otherwise nothing.
    void debug_check() const FRAMEALLOC_EXCLUDES(lock_) {
        if constexpr (FRAMEALLOC_CHECK_EVERY_OP != 0) {
            if (const Status st = check(); !st) {
                framealloc_panic(st.error().message);
            }
        }
    }

    // Every allocation path ends here, outside every lock.
    AllocatedFrames<> make_handle(const detail::Taken& t) {
        debug_check();
        return AllocatedFrames<>(detail::AdoptTag{}, this,
                                 FrameRange<>(frame_of(t.start), frame_of(t.end)), t.pool);
    }

    // Validates a request and turns it into engine units.
    static Result<detail::Constraint> to_constraint(const AllocRequest& r);

    // allocate() past the per-CPU fast path; out of line so that fast path
    // stays small enough to inline into every caller.
    [[gnu::noinline]] Result<AllocatedFrames<>> allocate_shared(const AllocRequest& request)
        FRAMEALLOC_EXCLUDES(lock_) {
        bool check_nodes = false;
        auto frames = allocate_impl(request, check_nodes, HeapUse::kMayGrow);
        if (frames && check_nodes) {
            deferred_action().run();
        }
        return frames;
    }

    // `check_nodes` is set when the allocation may have left node storage
    // below the low-water mark (judged under the lock the allocation already
    // held), so callers take the lock again only when growth may be due.
    Result<AllocatedFrames<>> allocate_impl(const AllocRequest& request, bool& check_nodes,
                                            HeapUse heap_use) FRAMEALLOC_EXCLUDES(lock_);

    Result<AllocatedFrames<>> allocate_at_impl(const AllocRequest& request,
                                               const detail::Constraint& c, bool& check_nodes,
                                               HeapUse heap_use) FRAMEALLOC_EXCLUDES(lock_);

    // Runs `attempt` (an engine call) on the shared pool, then the fallbacks
    // that let a request fail only when free memory really cannot satisfy it:
    // more nodes from the heap (unless the caller may be the heap itself), and
    // every per-CPU cache drained. The caches stay locked from the drain until
    // the retry has run, so no other CPU can refill from the pool in between
    // and make the retry fail again.
    template <typename Attempt>
    Result<detail::Taken> allocate_from_pool(Attempt&& attempt, bool& check_nodes, HeapUse heap_use)
        FRAMEALLOC_EXCLUDES(lock_);

    // Frees general-pool frames under their trees' locks; false on a double free.
    bool release_general(std::uint64_t first, std::uint64_t last) FRAMEALLOC_NO_TSA {
        return engine_.template release_general<Lock>(first, last);
    }
    // allocate_fast on this CPU's cursor: a run inside one tree, or kNoUnit.
    std::uint64_t fast_allocate(unsigned cpu, const detail::Constraint& c) FRAMEALLOC_NO_TSA {
        return engine_.template allocate_fast<Lock>(cursor(cpu), c, cpu);
    }

    // Every per-CPU cache lock, in CPU order (the analysis cannot follow a
    // loop of locks, hence no annotations). Taken before lock_, like any
    // cache lock; released in the reverse order, so a lock that saves and
    // restores the interrupt state unmasks only when the last one goes.
    void lock_all_caches() const FRAMEALLOC_NO_TSA {
        for (unsigned cpu = 0; cpu < kMaxCpus; ++cpu) {
            heap_.caches[cpu].lock.lock();
        }
    }
    void unlock_all_caches() const FRAMEALLOC_NO_TSA {
        for (unsigned cpu = kMaxCpus; cpu-- > 0;) {
            heap_.caches[cpu].lock.unlock();
        }
    }

    // Runs `f(caches)` with every cache lock (in heap mode; `caches` says
    // so) and lock_ held: nothing moves between the pool and a cache while
    // it looks, so what it sees is one instant of the whole allocator. `f`
    // must return a value and must not call into the allocator.
    template <typename F>
    auto with_all_locked(F&& f) const FRAMEALLOC_NO_TSA;

    // The counts behind stats(); the caller holds lock_ and, when `caches`,
    // every cache lock.
    FrameStats stats_locked(bool caches) const FRAMEALLOC_REQUIRES(lock_);

    // Frees to the shared pool. Out of line (like the refills and drains
    // below) so the per-CPU fast paths that fall back to it stay small leaf
    // code: inlined, these bodies made every fast-path call save registers.
    [[gnu::noinline]] void release_shared(std::uint64_t first, std::uint64_t last, Pool pool)
        FRAMEALLOC_EXCLUDES(lock_) FRAMEALLOC_NO_TSA {
        bool ok = false;
        if (pool == Pool::kGeneral) {
            count_op(false);
            ok = release_general(first, last);
        } else {
            LockGuard<Lock> guard(lock_);
            ok = engine_.release(first, last, pool);
        }
        if (!ok) {
            framealloc_panic("framealloc: frames returned twice (double free)");
        }
    }

    // Grows node storage from the heap; never with the lock held, and one
    // grower at a time (a nested call from inside the heap hook returns).
    void grow_nodes() FRAMEALLOC_EXCLUDES(lock_);

    // grow_nodes(), or when another thread is growing already, a bounded wait
    // for it to finish. Only for callers that are not the heap: the heap
    // itself may be what the growing thread is calling into.
    void grow_or_wait_for_growth() FRAMEALLOC_EXCLUDES(lock_) {
        for (std::uint32_t spin = 0; growing_.load(std::memory_order_acquire) && spin < (1U << 22);
             ++spin) {
            cpu_relax();
        }
        grow_nodes();
    }

    static constexpr std::uint64_t kHuge = detail::CpuCacheShape::kHugeFrames;

    // Which per-CPU cache can serve a request: a single frame, or one 2 MiB
    // block (alignment at most 2 MiB, no boundary below it), with no window.
    enum class CacheKind : std::uint8_t { kNone, kSmall, kHuge };
    static constexpr CacheKind cache_kind(const detail::Constraint& c) {
        const bool window = c.min != 0 || c.max != ~0ULL;
        if (c.count == 1 && c.unconstrained()) {
            return CacheKind::kSmall;
        }
        if (c.count == kHuge && c.align <= kHuge && !window &&
            (c.boundary == 0 || c.boundary >= kHuge)) {
            return CacheKind::kHuge;
        }
        return CacheKind::kNone;
    }
    // The same decision on a raw request, for its two common shapes only
    // (default window and boundary, no address, alignment 1 or 2 MiB), in a
    // few compares; every other request goes through to_constraint().
    static constexpr CacheKind plain_cache_kind(const AllocRequest& r) {
        if (r.at || r.boundary_frames != 0 || r.min_address.value() != 0 ||
            r.max_address.value() != PhysicalAddress::kMax) {
            return CacheKind::kNone;
        }
        if (r.num_frames == 1 && r.align_frames == 1) {
            return CacheKind::kSmall;
        }
        if (r.num_frames == kHuge && (r.align_frames == 1 || r.align_frames == kHuge)) {
            return CacheKind::kHuge;
        }
        return CacheKind::kNone;
    }

    // One entry of this CPU's cache of `kind`, refilled in a batch when empty
    // (`refilled` is then set: the refill used nodes). Nothing when the cache
    // is busy (an interrupt on this CPU, or a migrated thread) or memory is short.
    Optional<std::uint64_t> take_cached(CacheKind kind, bool& refilled) FRAMEALLOC_EXCLUDES(lock_);

    // Takes the entry for `first` out of this CPU's cache of `kind`, if it is
    // there (newest first: frames freed and asked for again sit on top).
    bool take_cached_at(CacheKind kind, std::uint64_t first) FRAMEALLOC_EXCLUDES(lock_);

    // True in heap mode when spare nodes fell below the low-water mark.
    // Spare nodes below an eighth of the storage (at least kLowWater) call
    // for growth: in proportion, so that many CPUs refilling at once while
    // one of them grows the storage do not run it dry.
    bool nodes_low_locked() const FRAMEALLOC_REQUIRES(lock_) {
        const detail::NodePool& nodes = engine_.nodes();
        const detail::Index low =
            nodes.capacity() / 8 > kLowWater ? nodes.capacity() / 8 : kLowWater;
        return nodes.spare() < low && heap_mode_.load(std::memory_order_relaxed);
    }

    // Parks returned frames in this CPU's cache when they qualify.
    bool try_cache(std::uint64_t first, std::uint64_t last) FRAMEALLOC_EXCLUDES(lock_);

    // Fills an empty small cache (its lock held): one contiguous batch when a
    // chunk has room, else whatever single frames there are.
    [[gnu::noinline]] void refill_small(Cache& cache) FRAMEALLOC_EXCLUDES(lock_);
    [[gnu::noinline]] void refill_huge(Cache& cache) FRAMEALLOC_EXCLUDES(lock_);

    // Returns the `count` oldest entries of a cache (its lock held) to the
    // shared pool, merged into runs so each run costs one tree update.
    [[gnu::noinline]] void drain_small(Cache& cache, std::uint32_t count)
        FRAMEALLOC_EXCLUDES(lock_);
    [[gnu::noinline]] void drain_huge(Cache& cache, std::uint32_t count) FRAMEALLOC_EXCLUDES(lock_);

    // This CPU's fast-path cursor into the bitmap (cpu ids past kMaxCpus share).
    detail::BitmapCursor& cursor(unsigned cpu) { return cursors_[cpu % kMaxCpus].cursor; }

    // Counts operations on the general pool and those of them that took the
    // pool-wide lock (FRAMEALLOC_COUNT_SHARED_OPS builds only; else nothing).
    void count_op(bool shared) {
        if constexpr (FRAMEALLOC_COUNT_SHARED_OPS != 0) {
            // Plain increments of this CPU's own line (no locked instruction,
            // so counting hardly changes what it counts); threads sharing a
            // CPU number may lose a count.
            auto& slot = cursors_[framealloc_cpu_id() % kMaxCpus];
            const auto bump = [](std::uint64_t& v) {
                __atomic_store_n(&v, __atomic_load_n(&v, __ATOMIC_RELAXED) + 1, __ATOMIC_RELAXED);
            };
            bump(slot.ops);
            if (shared) {
                bump(slot.shared_ops);
            }
        } else {
            (void)shared;
        }
    }

    mutable Lock lock_;
    detail::FrameEngine engine_ FRAMEALLOC_GUARDED_BY(lock_);
    struct alignas(64) CpuSlot {
        detail::BitmapCursor cursor;
        std::uint64_t ops = 0;
        std::uint64_t shared_ops = 0;
    };
    CpuSlot cursors_[kMaxCpus] = {};
    detail::Node early_[EarlyCapacity + 1] = {};
    alignas(64) std::byte builtin_metadata_[FRAMEALLOC_BUILTIN_METADATA] = {};
    std::conditional_t<kEternal, detail::HeapStorage<Cache>, detail::OwningHeapStorage<Cache>>
        heap_;
    std::atomic<bool> heap_mode_{false};
    std::atomic<bool> growing_{false};
    bool moving_ FRAMEALLOC_GUARDED_BY(lock_) = false;
};

/// The allocator most code wants: a spinlock and the configured early capacity.
using FrameAllocator = BasicFrameAllocator<>;

}  // namespace framealloc

#include "framealloc/detail/allocator_cache.hpp"
#include "framealloc/detail/allocator_check.hpp"
#include "framealloc/detail/allocator_shared.hpp"
