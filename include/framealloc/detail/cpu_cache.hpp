// Per-CPU caches: the fast path for single frames and 2 MiB blocks. Each CPU
// has its own cache line(s) and its own small lock; the shared pool's lock is
// taken only to refill or drain a batch. The per-cache lock (not just the CPU
// id) guards a cache, so a stale id after migration merely falls back to the
// shared pool. The cache lock is of the allocator's own Lock type: a kernel
// lock that masks interrupts masks them here too, so an interrupt handler can
// never find its own CPU's cache held by the code it interrupted (the
// interrupt contract, docs/reliability.md). Every cached entry keeps the
// bookkeeping node its handle held in reserve, so draining always succeeds.
#pragma once

#include <atomic>
#include <concepts>
#include <cstdint>

#include "framealloc/lock.hpp"

namespace framealloc::detail {

/// The sizes of every per-CPU cache, whatever its lock.
struct CpuCacheShape {
    static constexpr std::uint32_t kSmallCapacity = 64;
    static constexpr std::uint32_t kSmallBatch = 32;
    static constexpr std::uint32_t kHugeCapacity = 8;
    static constexpr std::uint32_t kHugeBatch = 4;
    static constexpr std::uint64_t kHugeFrames = 512;
};

template <BasicLockable CacheLock>
struct alignas(64) BasicCpuCache : CpuCacheShape {
    CacheLock lock;
    // Atomic only so statistics may read them without the lock.
    std::atomic<std::uint32_t> small_count{0};
    std::atomic<std::uint32_t> huge_count{0};
    std::uint64_t small[kSmallCapacity] = {};  // 4K frame numbers
    std::uint64_t huge[kHugeCapacity] = {};    // first frame of each 512-frame block

    [[nodiscard]] std::uint64_t cached_frames() const {
        return small_count.load(std::memory_order_relaxed) +
               huge_count.load(std::memory_order_relaxed) * kHugeFrames;
    }
};

using CpuCache = BasicCpuCache<SpinLock>;

/// Takes a cache lock without waiting when the lock type can (the fast paths
/// then fall back to the shared pool); a lock without try_lock() is taken.
template <BasicLockable CacheLock>
[[nodiscard]] bool try_lock_cache(CacheLock& lock) {
    if constexpr (requires {
                      { lock.try_lock() } -> std::convertible_to<bool>;
                  }) {
        return lock.try_lock();
    } else {
        lock.lock();
        return true;
    }
}

/// Sorts a few frame numbers in place (drain batches are at most 64 long).
inline void sort_small(std::uint64_t* items, std::uint32_t count) {
    for (std::uint32_t i = 1; i < count; ++i) {
        const std::uint64_t v = items[i];
        std::uint32_t j = i;
        while (j > 0 && items[j - 1] > v) {
            items[j] = items[j - 1];
            --j;
        }
        items[j] = v;
    }
}

}  // namespace framealloc::detail
