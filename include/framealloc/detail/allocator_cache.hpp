// The per-CPU fast path and heap growth of BasicFrameAllocator, defined out
// of the class so its header stays a readable interface. Included by
// allocator.hpp only.
#pragma once

#include "framealloc/allocator.hpp"

namespace framealloc {

template <BasicLockable Lock, std::size_t EarlyCapacity, bool kEternal>
void BasicFrameAllocator<Lock, EarlyCapacity, kEternal>::grow_nodes() FRAMEALLOC_EXCLUDES(lock_) {
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
                       ? heap_.hooks.allocate(heap_.hooks.context, sizeof(detail::Node) * count,
                                              alignof(detail::Node))
                       : nullptr;
    if (memory != nullptr) {
        detail::Node* old = nullptr;
        {
            LockGuard<Lock> guard(lock_);
            old = engine_.nodes().relocate(static_cast<detail::Node*>(memory), count);
            heap_.nodes = static_cast<detail::Node*>(memory);
            heap_.node_count = count;
        }
        if (old != early_) {
            heap_.hooks.deallocate(heap_.hooks.context, old, sizeof(detail::Node) * old_count,
                                   alignof(detail::Node));
        }
    }
    growing_.store(false, std::memory_order_release);
}

template <BasicLockable Lock, std::size_t EarlyCapacity, bool kEternal>
Optional<std::uint64_t> BasicFrameAllocator<Lock, EarlyCapacity, kEternal>::take_cached(
    CacheKind kind, bool& refilled) FRAMEALLOC_EXCLUDES(lock_) {
    const bool small = kind == CacheKind::kSmall;
    const unsigned cpu = framealloc_cpu_id();
    if (cpu >= kMaxCpus) {
        return {};
    }
    Cache& cache = heap_.caches[cpu];
    if (!detail::try_lock_cache(cache.lock)) {
        return {};
    }
    Optional<std::uint64_t> out;
    auto& count = small ? cache.small_count : cache.huge_count;
    if (FRAMEALLOC_UNLIKELY(count.load(std::memory_order_relaxed) == 0)) {
        small ? refill_small(cache) : refill_huge(cache);
        refilled = true;
    }
    const std::uint32_t n = count.load(std::memory_order_relaxed);
    if (n != 0) {
        out = small ? cache.small[n - 1] : cache.huge[n - 1];
        count.store(n - 1, std::memory_order_relaxed);
    }
    cache.lock.unlock();
    return out;
}

template <BasicLockable Lock, std::size_t EarlyCapacity, bool kEternal>
bool BasicFrameAllocator<Lock, EarlyCapacity, kEternal>::take_cached_at(CacheKind kind,
                                                                        std::uint64_t first)
    FRAMEALLOC_EXCLUDES(lock_) {
    const unsigned cpu = framealloc_cpu_id();
    if (cpu >= kMaxCpus) {
        return false;
    }
    Cache& cache = heap_.caches[cpu];
    if (!detail::try_lock_cache(cache.lock)) {
        return false;
    }
    const bool small = kind == CacheKind::kSmall;
    auto& count = small ? cache.small_count : cache.huge_count;
    std::uint64_t* const entries = small ? cache.small : cache.huge;
    const std::uint32_t n = count.load(std::memory_order_relaxed);
    bool found = false;
    // Bounded by the cache's capacity (64), not by anything that grows.
    for (std::uint32_t i = n; i-- > 0;) {
        if (entries[i] == first) {
            entries[i] = entries[n - 1];
            count.store(n - 1, std::memory_order_relaxed);
            found = true;
            break;
        }
    }
    cache.lock.unlock();
    return found;
}

template <BasicLockable Lock, std::size_t EarlyCapacity, bool kEternal>
bool BasicFrameAllocator<Lock, EarlyCapacity, kEternal>::try_cache(std::uint64_t first,
                                                                   std::uint64_t last)
    FRAMEALLOC_EXCLUDES(lock_) {
    const bool small = first == last;
    const bool huge = last - first + 1 == kHuge && first % kHuge == 0;
    if (!small && !huge) {
        return false;
    }
    const unsigned cpu = framealloc_cpu_id();
    if (cpu >= kMaxCpus) {
        return false;
    }
    Cache& cache = heap_.caches[cpu];
    if (!detail::try_lock_cache(cache.lock)) {
        return false;
    }
    if (small) {
        if (cache.small_count.load(std::memory_order_relaxed) == cache.kSmallCapacity) {
            drain_small(cache, cache.kSmallBatch);
        }
        const std::uint32_t n = cache.small_count.load(std::memory_order_relaxed);
        cache.small[n] = first;
        cache.small_count.store(n + 1, std::memory_order_relaxed);
    } else {
        if (cache.huge_count.load(std::memory_order_relaxed) == cache.kHugeCapacity) {
            drain_huge(cache, cache.kHugeBatch);
        }
        const std::uint32_t n = cache.huge_count.load(std::memory_order_relaxed);
        cache.huge[n] = first;
        cache.huge_count.store(n + 1, std::memory_order_relaxed);
    }
    cache.lock.unlock();
    return true;
}

template <BasicLockable Lock, std::size_t EarlyCapacity, bool kEternal>
void BasicFrameAllocator<Lock, EarlyCapacity, kEternal>::refill_small(Cache& cache)
    FRAMEALLOC_EXCLUDES(lock_) {
    // From this CPU's tree, under that tree's lock only: a run when one
    // fits, else single frames (a single frame fits any tree with one free).
    constexpr std::uint32_t kWant = detail::CpuCacheShape::kSmallBatch;
    const unsigned cpu = framealloc_cpu_id();
    std::uint32_t n = 0;
    detail::Constraint batch;
    batch.count = kWant;
    count_op(false);
    if (const std::uint64_t s = fast_allocate(cpu, batch); s != detail::kNoUnit) {
        for (std::uint64_t f = s + kWant; f-- > s;) {
            cache.small[n++] = f;  // pushed high to low, so pops ascend
        }
    } else {
        const detail::Constraint one;
        while (n < kWant) {
            const std::uint64_t f = fast_allocate(cpu, one);
            if (f == detail::kNoUnit) {
                break;
            }
            cache.small[n++] = f;
        }
    }
    cache.small_count.store(n, std::memory_order_relaxed);
}

template <BasicLockable Lock, std::size_t EarlyCapacity, bool kEternal>
void BasicFrameAllocator<Lock, EarlyCapacity, kEternal>::refill_huge(Cache& cache)
    FRAMEALLOC_EXCLUDES(lock_) {
    std::uint32_t n = 0;
    const unsigned cpu = framealloc_cpu_id();
    detail::Constraint block;
    block.count = kHuge;
    block.align = kHuge;
    count_op(false);
    while (n < detail::CpuCacheShape::kHugeBatch) {
        const std::uint64_t s = fast_allocate(cpu, block);
        if (s == detail::kNoUnit) {
            break;
        }
        cache.huge[n++] = s;
    }
    cache.huge_count.store(n, std::memory_order_relaxed);
}

template <BasicLockable Lock, std::size_t EarlyCapacity, bool kEternal>
void BasicFrameAllocator<Lock, EarlyCapacity, kEternal>::drain_small(Cache& cache,
                                                                     std::uint32_t count)
    FRAMEALLOC_EXCLUDES(lock_) {
    const std::uint32_t n = cache.small_count.load(std::memory_order_relaxed);
    count = count < n ? count : n;
    if (count == 0) {
        return;
    }
    std::uint64_t batch[detail::CpuCacheShape::kSmallCapacity];
    for (std::uint32_t i = 0; i < count; ++i) {
        batch[i] = cache.small[i];
    }
    for (std::uint32_t i = count; i < n; ++i) {
        cache.small[i - count] = cache.small[i];
    }
    cache.small_count.store(n - count, std::memory_order_relaxed);
    detail::sort_small(batch, count);
    bool ok = true;
    count_op(false);
    for (std::uint32_t i = 0; i < count;) {
        std::uint32_t j = i;
        while (j + 1 < count && batch[j + 1] == batch[j] + 1) {
            ++j;
        }
        ok = release_general(batch[i], batch[j]) && ok;
        i = j + 1;
    }
    if (!ok) {
        framealloc_panic("framealloc: a cached frame was already free (double free)");
    }
}

template <BasicLockable Lock, std::size_t EarlyCapacity, bool kEternal>
void BasicFrameAllocator<Lock, EarlyCapacity, kEternal>::drain_huge(Cache& cache,
                                                                    std::uint32_t count)
    FRAMEALLOC_EXCLUDES(lock_) {
    const std::uint32_t n = cache.huge_count.load(std::memory_order_relaxed);
    count = count < n ? count : n;
    if (count == 0) {
        return;
    }
    bool ok = true;
    count_op(false);
    for (std::uint32_t i = 0; i < count; ++i) {
        ok = release_general(cache.huge[i], cache.huge[i] + kHuge - 1) && ok;
    }
    for (std::uint32_t i = count; i < n; ++i) {
        cache.huge[i - count] = cache.huge[i];
    }
    cache.huge_count.store(n - count, std::memory_order_relaxed);
    if (!ok) {
        framealloc_panic("framealloc: a cached block was already free (double free)");
    }
}

}  // namespace framealloc
