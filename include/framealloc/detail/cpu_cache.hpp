// Per-CPU caches: the fast path for single frames and 2 MiB blocks. Each CPU
// has its own cache line(s) and its own small lock; the shared pool's lock is
// taken only to refill or drain a batch. The per-cache lock (not just the CPU
// id) guards a cache, so a stale id after migration, or an interrupt handler
// freeing on a CPU that is mid-allocation, merely falls back to the shared
// pool. Every cached entry keeps the bookkeeping node its handle held in
// reserve, so draining always succeeds.
#pragma once

#include <atomic>
#include <cstdint>

#include "framealloc/lock.hpp"

namespace framealloc::detail {

struct alignas(64) CpuCache {
    static constexpr std::uint32_t kSmallCapacity = 64;
    static constexpr std::uint32_t kSmallBatch = 32;
    static constexpr std::uint32_t kHugeCapacity = 8;
    static constexpr std::uint32_t kHugeBatch = 4;
    static constexpr std::uint64_t kHugeFrames = 512;

    SpinLock lock;
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
