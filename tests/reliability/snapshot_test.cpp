// stats(), dump() and fa_get_stats() promise a consistent snapshot. One
// thread moves frames between the shared pool and its per-CPU cache as fast
// as it can (allocate 20 single frames, free them, drain the cache) while
// another reads the counts; every reading must add up: free never above
// total, cached never above free, allocated = total - free. Run with the
// default spinlock and with a lock that yields while it waits, and through
// the C interface. Loop counts are bounded; nothing depends on timing except
// how often a torn reading would be caught.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "framealloc.h"
#include "framealloc/framealloc.hpp"
#include "framealloc/hosted.hpp"

namespace framealloc {
namespace {

// A lock that gives the CPU away while it waits and after it lets go.
class FRAMEALLOC_CAPABILITY("mutex") YieldLock {
  public:
    constexpr YieldLock() = default;
    YieldLock(const YieldLock&) = delete;
    YieldLock& operator=(const YieldLock&) = delete;
    void lock() FRAMEALLOC_ACQUIRE() {
        while (held_.exchange(true, std::memory_order_acquire)) {
            std::this_thread::yield();
        }
    }
    [[nodiscard]] bool try_lock() FRAMEALLOC_TRY_ACQUIRE(true) {
        return !held_.exchange(true, std::memory_order_acquire);
    }
    // Yielding after every release lets the other thread in between any
    // two locked steps: a reading pieced together from two of them shows.
    void unlock() FRAMEALLOC_RELEASE() {
        held_.store(false, std::memory_order_release);
        std::this_thread::yield();
    }

  private:
    std::atomic<bool> held_{false};
};

constexpr std::uint64_t kFirst = 0x1000;
constexpr std::uint64_t kFrames = 64;

struct Reading {
    std::uint64_t total;
    std::uint64_t free;
    std::uint64_t allocated;
    std::uint64_t cached;
};

std::string bad_reading(const Reading& r) {
    if (r.free <= r.total && r.cached <= r.free && r.allocated == r.total - r.free &&
        r.total == kFrames) {
        return {};
    }
    char text[160];
    std::snprintf(text, sizeof text, "total=%llu free=%llu allocated=%llu cached=%llu",
                  static_cast<unsigned long long>(r.total), static_cast<unsigned long long>(r.free),
                  static_cast<unsigned long long>(r.allocated),
                  static_cast<unsigned long long>(r.cached));
    return text;
}

// Runs `churn` on CPU slot 0 for `rounds` rounds while `read` (CPU slot 1)
// samples, at least `min_reads` times; returns the first inconsistent
// reading, or "".
template <typename Churn, typename Read>
std::string race(int rounds, int min_reads, Churn churn, Read read) {
    std::atomic<bool> done{false};
    std::thread writer([&] {
        set_current_cpu(0);
        for (int round = 0; round < rounds; ++round) {
            churn();
        }
        done = true;
    });
    set_current_cpu(1);
    std::string first_bad;
    for (int reads = 0; (!done || reads < min_reads) && first_bad.empty(); ++reads) {
        first_bad = bad_reading(read());
    }
    writer.join();
    return first_bad;
}

template <typename Lock>
void snapshot_holds_under_churn(int rounds, int min_reads) {
    auto a = std::make_unique<BasicFrameAllocator<Lock>>();
    const PhysicalMemoryRegion map[] = {
        PhysicalMemoryRegion(FrameRange<>(Frame<>::from_number(kFirst).value(),
                                          Frame<>::from_number(kFirst + kFrames - 1).value()),
                             MemoryRegionType::kFree)};
    ASSERT_TRUE(a->init(map, {}));
    ASSERT_TRUE(a->move_to_heap(hosted_heap_hooks()));
    const auto churn = [&] {
        std::vector<AllocatedFrames<>> held;
        for (int i = 0; i < 20; ++i) {
            auto f = a->allocate_frames(1);
            if (f) {
                held.push_back(std::move(f.value()));
            }
        }
        held.clear();
        a->drain_cpu_cache(0);
    };
    int sample = 0;
    const std::string bad = race(rounds, min_reads, churn, [&] {
        if (++sample % 8 == 0) {
            // The dump's general-pool line carries the same counts.
            Reading r{};
            a->dump([&](const char* line) {
                unsigned long long t = 0, f = 0, al = 0;
                if (std::sscanf(line, "pool general: total %llu free %llu allocated %llu", &t, &f,
                                &al) == 3) {
                    r.total = t;
                    r.free = f;
                    r.allocated = al;
                }
            });
            return r;
        }
        const FrameStats st = a->stats();
        return Reading{st.general.total_frames, st.general.free_frames, st.general.allocated_frames,
                       st.cached_frames};
    });
    EXPECT_EQ(bad, "") << "a statistics reading that does not add up";
    EXPECT_TRUE(a->check());
    EXPECT_EQ(a->stats().general.free_frames, kFrames);
}

TEST(Snapshot, StatsAndDumpAddUpWhileFramesMoveSpinLock) {
    snapshot_holds_under_churn<SpinLock>(10000, 1000);
}

TEST(Snapshot, StatsAndDumpAddUpWhileFramesMoveYieldLock) {
    // Every unlock yields (and a reading takes 65 locks), so a few hundred
    // rounds catch a torn reading at once and keep the test short.
    snapshot_holds_under_churn<YieldLock>(200, 50);
}

TEST(Snapshot, CInterfaceStatsAddUpWhileFramesMove) {
    const std::size_t size = fa_allocator_size(64);
    void* memory = std::aligned_alloc(fa_allocator_align(), (size + 63) / 64 * 64);
    fa_allocator* fa = nullptr;
    ASSERT_EQ(fa_create(memory, size, &fa), FA_OK);
    const fa_region map[] = {{kFirst * FA_FRAME_SIZE, kFrames * FA_FRAME_SIZE, FA_REGION_FREE}};
    ASSERT_EQ(fa_init(fa, map, 1), FA_OK);
    const HeapHooks hooks = hosted_heap_hooks();
    const fa_heap_hooks c_hooks{hooks.allocate, hooks.deallocate, hooks.context};
    ASSERT_EQ(fa_move_to_heap(fa, &c_hooks), FA_OK);
    const auto churn = [&] {
        fa_frames held[20];
        int n = 0;
        for (auto& f : held) {
            n += fa_allocate_frames(fa, 1, &f) == FA_OK ? 1 : 0;
        }
        for (int i = 0; i < n; ++i) {
            (void)fa_free(fa, held[i]);
        }
        fa_drain_cpu_cache(fa, 0);
    };
    const std::string bad = race(10000, 1000, churn, [&] {
        fa_stats st{};
        (void)fa_get_stats(fa, &st);
        return Reading{st.general.total_frames, st.general.free_frames, st.general.allocated_frames,
                       st.cached_frames};
    });
    EXPECT_EQ(bad, "") << "an fa_get_stats() reading that does not add up";
    EXPECT_EQ(fa_check(fa), FA_OK);
    fa_destroy(fa);
    std::free(memory);
}

}  // namespace
}  // namespace framealloc
