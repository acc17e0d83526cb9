// The shared-pool side of BasicFrameAllocator, defined out of the class so
// its header stays a readable interface: initialisation, request validation,
// allocation from the shared pool (anywhere and at an address), node
// reservations for handles, the move to heap storage, and run-time regions.
// Included by allocator.hpp only.
#pragma once

#include "framealloc/allocator.hpp"

namespace framealloc {

template <BasicLockable Lock, std::size_t EarlyCapacity, bool kEternal>
Status BasicFrameAllocator<Lock, EarlyCapacity, kEternal>::move_to_heap(HeapHooks hooks)
    FRAMEALLOC_EXCLUDES(lock_) {
    if (!hooks.valid()) {
        return make_error(ErrorKind::kInvalidArgument, "heap hooks are null");
    }
    detail::Index count = 0;
    {
        LockGuard<Lock> guard(lock_);
        if (!engine_.initialized()) {
            return make_error(ErrorKind::kNotInitialized, "init() has not been called");
        }
        if (heap_mode_.load(std::memory_order_relaxed) || moving_) {
            return make_error(ErrorKind::kAlreadyInitialized, "already moved to the heap");
        }
        moving_ = true;
        count = detail::grown_count(engine_.nodes().capacity() + 1);
    }
    void* nodes =
        hooks.allocate(hooks.context, sizeof(detail::Node) * count, alignof(detail::Node));
    void* caches = nodes == nullptr
                       ? nullptr
                       : hooks.allocate(hooks.context, sizeof(Cache) * kMaxCpus, alignof(Cache));
    if (caches == nullptr) {
        if (nodes != nullptr) {
            hooks.deallocate(hooks.context, nodes, sizeof(detail::Node) * count,
                             alignof(detail::Node));
        }
        LockGuard<Lock> guard(lock_);
        moving_ = false;
        return make_error(ErrorKind::kHeapUnavailable, "the heap hook returned no memory");
    }
    auto* cache_array = static_cast<Cache*>(caches);
    for (unsigned i = 0; i < kMaxCpus; ++i) {
        new (&cache_array[i]) Cache();
    }
    {
        LockGuard<Lock> guard(lock_);
        // Early storage is fixed and moving_ kept any other mover out, so the
        // capacity read above still holds.
        engine_.nodes().relocate(static_cast<detail::Node*>(nodes), count);
        heap_.hooks = hooks;
        heap_.nodes = static_cast<detail::Node*>(nodes);
        heap_.node_count = count;
        heap_.caches = cache_array;
        moving_ = false;
        heap_mode_.store(true, std::memory_order_release);
    }
    return {};
}

template <BasicLockable Lock, std::size_t EarlyCapacity, bool kEternal>
Result<IntoUnmappedFrames>
BasicFrameAllocator<Lock, EarlyCapacity, kEternal>::init_carving_metadata(
    Span<const PhysicalMemoryRegion> free_regions,
    Span<const PhysicalMemoryRegion> reserved_regions, const MetadataPlacement& where)
    FRAMEALLOC_EXCLUDES(lock_) {
    constexpr std::uint64_t kFrameMask = Page4K::kBytes - 1;
    const std::uint64_t count =
        (metadata_bytes(free_regions, reserved_regions) + kFrameMask) >> Page4K::kShift;
    const std::uint64_t lowest = (where.lowest.value() + kFrameMask) >> Page4K::kShift;
    const std::uint64_t high = where.highest.value();
    if (high < kFrameMask) {
        return make_error(ErrorKind::kInvalidArgument, "the placement window holds no whole frame");
    }
    // The last frame lying entirely at or below `highest`.
    const std::uint64_t highest = (high - kFrameMask) >> Page4K::kShift;
    const auto home =
        detail::find_metadata_home(free_regions, reserved_regions, count, lowest, highest);
    if (!home) {
        return make_error(ErrorKind::kCapacityExhausted,
                          "no free run inside the placement window holds the metadata");
    }
    const std::uint64_t phys = *home << Page4K::kShift;
    auto* memory = reinterpret_cast<std::byte*>(  // NOLINT(performance-no-int-to-ptr)
        static_cast<std::uintptr_t>(phys + where.direct_map_offset));
    auto into =
        init(free_regions, reserved_regions, Span<std::byte>(memory, count << Page4K::kShift));
    if (!into) {
        return into;
    }
    bool claimed = false;
    {
        LockGuard<Lock> guard(lock_);
        const typename Engine::template TreesGuard<Lock> trees(engine_);
        claimed =
            engine_.allocate_at(*home, *home + count - 1, 1, Engine::kGeneralPool).has_value();
    }
    if (!claimed) {
        framealloc_panic("framealloc: the metadata's own frames could not be claimed");
    }
    return into;
}

template <BasicLockable Lock, std::size_t EarlyCapacity, bool kEternal>
Status BasicFrameAllocator<Lock, EarlyCapacity, kEternal>::add_region(
    const PhysicalMemoryRegion& region, Span<std::byte> metadata) FRAMEALLOC_EXCLUDES(lock_) {
    if (region.frames.is_empty()) {
        return make_error(ErrorKind::kZeroFrames, "the region is empty");
    }
    if (region.type == MemoryRegionType::kUnknown) {
        return make_error(ErrorKind::kBadRegion, "a region of unknown type cannot be added");
    }
    Status st = make_error(ErrorKind::kNotInitialized, "init() has not been called");
    for (int attempt = 0; attempt < 2; ++attempt) {
        {
            LockGuard<Lock> guard(lock_);
            const typename Engine::template TreesGuard<Lock> trees(engine_);
            if (engine_.initialized()) {
                st =
                    engine_.add_region(region.frames.start().number(), region.frames.end().number(),
                                       pool_of(region.type), metadata);
            }
        }
        // In heap mode bookkeeping can grow: out of nodes is not a refusal.
        if (st || st.kind() != ErrorKind::kCapacityExhausted || !heap_mode()) {
            break;
        }
        grow_or_wait_for_growth();
    }
    if (st && heap_mode_.load(std::memory_order_relaxed)) {
        deferred_action().run();
    }
    debug_check();
    return st;
}

template <BasicLockable Lock, std::size_t EarlyCapacity, bool kEternal>
Status BasicFrameAllocator<Lock, EarlyCapacity, kEternal>::take_offline(FrameRange<> range)
    FRAMEALLOC_EXCLUDES(lock_) {
    if (range.is_empty()) {
        return make_error(ErrorKind::kZeroFrames, "the range is empty");
    }
    drain_cpu_caches();
    for (int attempt = 0;; ++attempt) {
        Status st;
        {
            LockGuard<Lock> guard(lock_);
            if (!engine_.initialized()) {
                return make_error(ErrorKind::kNotInitialized, "init() has not been called");
            }
            const typename Engine::template TreesGuard<Lock> trees(engine_);
            st = engine_.remove_region(range.start().number(), range.end().number());
        }
        // In heap mode bookkeeping can grow: out of nodes is not a refusal.
        if (st || st.kind() != ErrorKind::kCapacityExhausted || attempt > 0 || !heap_mode()) {
            debug_check();
            return st;
        }
        grow_or_wait_for_growth();
    }
}

template <BasicLockable Lock, std::size_t EarlyCapacity, bool kEternal>
Status BasicFrameAllocator<Lock, EarlyCapacity, kEternal>::reserve_handles(std::uint32_t count,
                                                                           Pool pool)
    FRAMEALLOC_EXCLUDES(lock_) {
    if (pool == Pool::kGeneral) {
        return {};  // general handles hold no bookkeeping
    }
    {
        LockGuard<Lock> guard(lock_);
        if (engine_.nodes().try_reserve(count)) {
            return {};
        }
    }
    if (heap_mode()) {
        grow_or_wait_for_growth();
        LockGuard<Lock> guard(lock_);
        if (engine_.nodes().try_reserve(count)) {
            return {};
        }
    }
    return make_error(ErrorKind::kCapacityExhausted, "no bookkeeping node left for a new handle");
}

template <BasicLockable Lock, std::size_t EarlyCapacity, bool kEternal>
Result<Pool> BasicFrameAllocator<Lock, EarlyCapacity, kEternal>::adopt_frames(std::uint64_t first,
                                                                              std::uint64_t last)
    FRAMEALLOC_EXCLUDES(lock_) {
    drain_cpu_caches();
    for (int attempt = 0;; ++attempt) {
        {
            LockGuard<Lock> guard(lock_);
            const typename Engine::template TreesGuard<Lock> trees(engine_);
            bool covered = false;
            for (const Pool p : {Pool::kGeneral, Pool::kReserved}) {
                if (!engine_.regions(p).covers(first, last)) {
                    continue;
                }
                if (engine_.any_free(p, first, last)) {
                    return make_error(ErrorKind::kAddressInUse,
                                      "some of the frames are free, not unmapped");
                }
                if (p == Pool::kGeneral || engine_.nodes().try_reserve(1)) {
                    return p;
                }
                covered = true;
                break;
            }
            if (!covered) {
                return make_error(ErrorKind::kOutsideAllocator,
                                  "the frames are not in one known region");
            }
            // In heap mode bookkeeping can grow: out of nodes is not a refusal.
            if (attempt > 0 || !heap_mode()) {
                return make_error(ErrorKind::kCapacityExhausted, "no bookkeeping node left");
            }
        }
        grow_or_wait_for_growth();
    }
}

template <BasicLockable Lock, std::size_t EarlyCapacity, bool kEternal>
Status BasicFrameAllocator<Lock, EarlyCapacity, kEternal>::init_locked(
    Span<const PhysicalMemoryRegion> free_regions,
    Span<const PhysicalMemoryRegion> reserved_regions, Span<std::byte> metadata)
    FRAMEALLOC_REQUIRES(lock_) {
    FRAMEALLOC_TRY(engine_.begin_init(early_, EarlyCapacity + 1, metadata.data(), metadata.size(),
                                      detail::TreeLockShape::of<Lock>()));
    // Every region is checked before any is recorded, so malformed input is
    // reported as such even when it would also exceed the early capacity.
    for (const PhysicalMemoryRegion& r : reserved_regions) {
        if (r.type == MemoryRegionType::kFree) {
            return make_error(ErrorKind::kBadRegion, "a Free region in the reserved list");
        }
    }
    for (const PhysicalMemoryRegion& r : free_regions) {
        if (r.type == MemoryRegionType::kReserved) {
            return make_error(ErrorKind::kBadRegion, "a Reserved region in the free list");
        }
    }
    for (const PhysicalMemoryRegion& r : reserved_regions) {
        if (r.type == MemoryRegionType::kReserved && !r.frames.is_empty()) {
            FRAMEALLOC_TRY(
                engine_.init_reserved(r.frames.start().number(), r.frames.end().number()));
        }
    }
    for (const PhysicalMemoryRegion& r : free_regions) {
        if (r.type == MemoryRegionType::kFree && !r.frames.is_empty()) {
            FRAMEALLOC_TRY(engine_.init_free(r.frames.start().number(), r.frames.end().number()));
        }
    }
    return engine_.finish_init();
}

template <BasicLockable Lock, std::size_t EarlyCapacity, bool kEternal>
template <typename Attempt>
Result<detail::Taken> BasicFrameAllocator<Lock, EarlyCapacity, kEternal>::allocate_from_pool(
    Attempt&& attempt, bool& check_nodes, HeapUse heap_use) FRAMEALLOC_EXCLUDES(lock_) {
    const auto once = [&]() FRAMEALLOC_NO_TSA -> Result<detail::Taken> {
        LockGuard<Lock> guard(lock_);
        if (!engine_.initialized()) {
            return make_error(ErrorKind::kNotInitialized, "init() has not been called");
        }
        auto taken = attempt();
        check_nodes = nodes_low_locked();
        return taken;
    };
    auto taken = once();
    if (taken || !heap_mode()) {
        return taken;
    }
    // Another thread's growth may be under way: wait for it, then grow
    // again if its nodes are gone already. A few rounds, never forever.
    for (int round = 0; round < 4 && heap_use == HeapUse::kMayGrow && !taken &&
                        taken.kind() == ErrorKind::kCapacityExhausted;
         ++round) {
        grow_or_wait_for_growth();
        taken = once();
    }
    if (!taken && (taken.kind() == ErrorKind::kOutOfMemory ||
                   taken.kind() == ErrorKind::kNotEnoughContiguous ||
                   taken.kind() == ErrorKind::kAddressInUse)) {
        lock_all_caches();
        for (unsigned cpu = 0; cpu < kMaxCpus; ++cpu) {
            Cache& cache = heap_.caches[cpu];
            drain_small(cache, cache.small_count.load(std::memory_order_relaxed));
            drain_huge(cache, cache.huge_count.load(std::memory_order_relaxed));
        }
        taken = once();
        unlock_all_caches();
    }
    return taken;
}

template <BasicLockable Lock, std::size_t EarlyCapacity, bool kEternal>
Result<detail::Constraint> BasicFrameAllocator<Lock, EarlyCapacity, kEternal>::to_constraint(
    const AllocRequest& r) {
    return detail::to_constraint(r.num_frames, r.align_frames, r.boundary_frames,
                                 r.min_address.value(), r.max_address.value(), Frame<>::kMaxNumber);
}

template <BasicLockable Lock, std::size_t EarlyCapacity, bool kEternal>
Result<AllocatedFrames<>> BasicFrameAllocator<Lock, EarlyCapacity, kEternal>::allocate_impl(
    const AllocRequest& request, bool& check_nodes, HeapUse heap_use) FRAMEALLOC_EXCLUDES(lock_) {
    auto constraint = to_constraint(request);
    if (!constraint) {
        return constraint.error();
    }
    const detail::Constraint& c = constraint.value();
    if (request.at) {
        return allocate_at_impl(request, c, check_nodes, heap_use);
    }
    if (const CacheKind kind = cache_kind(c);
        kind != CacheKind::kNone && heap_mode_.load(std::memory_order_acquire)) {
        if (auto cached = take_cached(kind, check_nodes)) {
            return make_handle(detail::Taken{*cached, *cached + c.count - 1, Pool::kGeneral});
        }
    }
    // The fast path: a run inside one 128 MiB tree, under that tree's lock
    // only. What no single tree holds (large runs, runs across trees, or no
    // room at all) takes the pool's lock and every tree.
    if (c.count <= detail::kTreeFrames / 2) {
        const unsigned cpu = framealloc_cpu_id();
        const std::uint64_t s = fast_allocate(cpu, c);
        if (s != detail::kNoUnit) {
            count_op(false);
            return make_handle(detail::Taken{s, s + c.count - 1, Pool::kGeneral});
        }
    }
    count_op(true);
    auto taken = allocate_from_pool(
        [&]() FRAMEALLOC_NO_TSA {
            const typename Engine::template TreesGuard<Lock> trees(engine_);
            return engine_.allocate(c);
        },
        check_nodes, heap_use);
    if (!taken) {
        return taken.error();
    }
    return make_handle(taken.value());
}

template <BasicLockable Lock, std::size_t EarlyCapacity, bool kEternal>
Result<AllocatedFrames<>> BasicFrameAllocator<Lock, EarlyCapacity, kEternal>::allocate_at_impl(
    const AllocRequest& request, const detail::Constraint& c, bool& check_nodes, HeapUse heap_use)
    FRAMEALLOC_EXCLUDES(lock_) {
    auto run = detail::exact_run(Frame<>::containing_address(*request.at).number(), c,
                                 Frame<>::kMaxNumber);
    if (!run) {
        return run.error();
    }
    const std::uint64_t s = run->start;
    const std::uint64_t e = run->end;
    unsigned pools = Engine::kAnyPool;
    if (request.pool) {
        pools = *request.pool == Pool::kGeneral ? Engine::kGeneralPool : Engine::kReservedPool;
    }
    // A frame (or 2 MiB block) freed on this CPU waits in its cache, where
    // the shared pool would report it in use and cost a drain of every
    // cache and a second attempt: look there first.
    if ((pools & Engine::kGeneralPool) != 0 && heap_mode_.load(std::memory_order_acquire)) {
        const CacheKind kind = c.count == 1                           ? CacheKind::kSmall
                               : (c.count == kHuge && s % kHuge == 0) ? CacheKind::kHuge
                                                                      : CacheKind::kNone;
        if (kind != CacheKind::kNone && take_cached_at(kind, s)) {
            return make_handle(detail::Taken{s, e, Pool::kGeneral});
        }
    }
    count_op(true);
    auto taken = allocate_from_pool(
        [&]() FRAMEALLOC_NO_TSA {
            return engine_.template with_trees_of<Lock>(
                s, e, [&] { return engine_.allocate_at(s, e, 1, pools); });
        },
        check_nodes, heap_use);
    if (!taken) {
        return taken.error();
    }
    return make_handle(taken.value());
}

template <BasicLockable Lock, std::size_t EarlyCapacity, bool kEternal>
template <typename F>
Result<Optional<AllocatedFrames<>>>
BasicFrameAllocator<Lock, EarlyCapacity, kEternal>::inspect_then_allocate_free_frames(F&& func)
    FRAMEALLOC_EXCLUDES(lock_) {
    drain_cpu_caches();
    Result<detail::Taken> taken = make_error(ErrorKind::kInvalidArgument, "");
    bool allocate_requested = false;
    {
        LockGuard<Lock> guard(lock_);
        if (!engine_.initialized()) {
            return make_error(ErrorKind::kNotInitialized, "init() has not been called");
        }
        const typename Engine::template TreesGuard<Lock> trees(engine_);
        FramesIteratorRequest req;
        FrameRange<> chunk;
        engine_.for_each_free_run(Pool::kGeneral, [&](std::uint64_t s, std::uint64_t e) {
            chunk = FrameRange<>(frame_of(s), frame_of(e));
            req = func(chunk);
            return req.kind == FramesIteratorRequest::Kind::kNext;
        });
        if (req.kind == FramesIteratorRequest::Kind::kAllocateAt) {
            allocate_requested = true;
            if (req.num_frames == 0) {
                taken = make_error(ErrorKind::kZeroFrames, "AllocateAt with zero frames");
            } else {
                auto range = FrameRange<>::from_count(req.frame, req.num_frames);
                if (!range || !chunk.contains_range(range.value())) {
                    taken = make_error(ErrorKind::kOutOfRange,
                                       "AllocateAt outside the chunk that was inspected");
                } else {
                    taken = engine_.allocate_at(range->start().number(), range->end().number(), 1,
                                                detail::RangeEngine::kGeneralPool);
                }
            }
        }
    }
    if (!allocate_requested) {
        return Optional<AllocatedFrames<>>();
    }
    if (!taken) {
        return taken.error();
    }
    return Optional<AllocatedFrames<>>(make_handle(taken.value()));
}

}  // namespace framealloc
