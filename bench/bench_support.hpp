// What the benchmark cases and the instruction-count driver share: allocators
// set up in heap mode (the per-CPU fast path exists only there) over heap hooks
// that count their calls, the memory layouts of each scenario, and the one
// operation each scenario repeats. Keeping the operations here means the
// callgrind counts in BENCHMARKS.md measure exactly the code the timings do.
#pragma once

#include <pthread.h>
#include <sched.h>

#include <atomic>
#include <cstdint>
#include <ctime>
#include <memory>
#include <vector>

#include "framealloc/framealloc.hpp"
#include "framealloc/hosted.hpp"

namespace framealloc::bench {

/// Every scenario's memory starts here (1 GiB), away from frame 0.
inline constexpr std::uint64_t kBaseFrame = 0x40000;
/// 4 GiB of 4 KiB frames: the pool of every steady-state scenario.
inline constexpr std::uint64_t kPoolFrames = 1ULL << 20;

/// Heap hooks that count their calls, so a case can prove its loop never
/// reaches the heap.
struct HeapCounter {
    std::atomic<std::uint64_t> calls{0};
};

inline void* counting_allocate(void* context, std::size_t bytes, std::size_t align) {
    static_cast<HeapCounter*>(context)->calls.fetch_add(1, std::memory_order_relaxed);
    const HeapHooks base = hosted_heap_hooks();
    return base.allocate(base.context, bytes, align);
}
inline void counting_deallocate(void* context, void* memory, std::size_t bytes, std::size_t align) {
    static_cast<HeapCounter*>(context)->calls.fetch_add(1, std::memory_order_relaxed);
    const HeapHooks base = hosted_heap_hooks();
    base.deallocate(base.context, memory, bytes, align);
}

inline PhysicalMemoryRegion free_region(std::uint64_t first, std::uint64_t count) {
    auto range = FrameRange<>::from_count(Frame<>::from_number(first).value(), count);
    return PhysicalMemoryRegion(range.value(), MemoryRegionType::kFree);
}

/// An initialised allocator in heap mode over `frames` frames from kBaseFrame.
struct Setup {
    HeapCounter heap;
    std::unique_ptr<FrameAllocator> alloc = std::make_unique<FrameAllocator>();

    /// In heap mode unless `early` (no heap, no per-CPU caches).
    explicit Setup(std::uint64_t frames = kPoolFrames, bool early = false) {
        const PhysicalMemoryRegion region = free_region(kBaseFrame, frames);
        const Span<const PhysicalMemoryRegion> regions(&region, 1);
        if (!alloc->init(regions, {},
                         hosted_metadata(FrameAllocator::metadata_bytes(regions, {}))) ||
            (!early &&
             !alloc->move_to_heap(HeapHooks{counting_allocate, counting_deallocate, &heap}))) {
            framealloc_panic("bench: set-up failed");
        }
    }
    std::uint64_t heap_calls() const { return heap.calls.load(std::memory_order_relaxed); }

    /// Bits of bookkeeping per managed frame: the general pool's bitmap
    /// memory (fixed at init) plus every node the allocator holds, used or
    /// not; and the same counting only the nodes in use.
    double metadata_bits_per_frame() const {
        const FrameStats st = alloc->stats();
        return 8.0 *
               (static_cast<double>(st.metadata_bytes) +
                static_cast<double>(st.nodes_capacity + 1) * sizeof(detail::Node)) /
               static_cast<double>(st.general.total_frames + st.reserved.total_frames);
    }
    double used_bits_per_frame() const {
        const FrameStats st = alloc->stats();
        return 8.0 *
               (static_cast<double>(st.metadata_bytes) +
                static_cast<double>(st.nodes_used + st.nodes_reserved) * sizeof(detail::Node)) /
               static_cast<double>(st.general.total_frames + st.reserved.total_frames);
    }
};

/// The heap-mode allocator the multi-threaded cases share (one per process).
inline Setup& shared_setup() {
    static Setup s;
    return s;
}
/// The same before any heap exists (early mode: no per-CPU caches).
inline Setup& shared_early_setup() {
    static Setup s(kPoolFrames, /*early=*/true);
    return s;
}

/// Pins the calling thread to `core`, best effort (a case still runs unpinned).
inline void pin_to_core(unsigned core) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(core, &set);
    (void)pthread_setaffinity_np(pthread_self(), sizeof(set), &set);  // best effort
}

/// CPU time of the calling thread, in ns: unlike wall time it does not count
/// the slices other processes on this shared machine take, yet it does count
/// the stalls that sharing cache lines with another thread causes.
inline double thread_cpu_ns() {
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) * 1e9 + static_cast<double>(ts.tv_nsec);
}

/// xorshift64*: cheap enough not to blur a 50 ns operation.
class Rng {
  public:
    explicit Rng(std::uint64_t seed) : state_(seed) {}
    std::uint64_t next() {
        state_ ^= state_ >> 12;
        state_ ^= state_ << 25;
        state_ ^= state_ >> 27;
        return state_ * 0x2545f4914f6cdd1dULL;
    }
    /// Uniform in [0, bound), bound < 2^32 (multiply-shift; the bias is irrelevant here).
    std::uint64_t below(std::uint64_t bound) { return ((next() >> 32) * bound) >> 32; }

  private:
    std::uint64_t state_;
};

/// Takes a frame number back out of a result, or panics: a benchmark whose
/// allocation failed measures nothing.
template <typename R>
inline void expect_ok(const R& r) {
    if (!r) {
        framealloc_panic(r.error().message);
    }
}

// ------------------------------------------------------------------ operations

/// One single-frame allocate + free through the per-CPU cache.
inline std::uint64_t single_pair(FrameAllocator& a) {
    auto f = a.allocate_frames(1);
    expect_ok(f);
    return f->start().number();
}

/// One naturally aligned 2 MiB block allocate + free.
inline std::uint64_t huge_pair(FrameAllocator& a) {
    auto f = a.allocate_huge<Page2M>(1);
    expect_ok(f);
    return f->start().number();
}

/// One allocate-at + free of `count` frames at `frame`.
inline std::uint64_t at_pair(FrameAllocator& a, std::uint64_t frame, std::uint64_t count) {
    auto f = a.allocate_frames_at(Frame<>::from_number(frame).value().start_address(), count);
    expect_ok(f);
    return f->start().number();
}

/// One allocate + free of `count` (2..64) frames from the shared pool.
inline std::uint64_t sized_pair(FrameAllocator& a, std::uint64_t count) {
    auto f = a.allocate_frames(count);
    expect_ok(f);
    return f->start().number();
}

/// Frames of the pool the fragmentation scenario fills (with or without
/// holes); the rest, 148576 frames, stays one free chunk for the requests to
/// come from, so both variants carve from a chunk of the same size.
inline constexpr std::uint64_t kHoleSpan = 900000;

/// Allocates the first kHoleSpan frames of the pool (held in `keep`), leaving
/// `holes` one-frame holes evenly spread over them; with no holes, as one block.
inline void punch_holes(FrameAllocator& a, std::uint64_t holes,
                        std::vector<AllocatedFrames<>>& keep) {
    const auto at = [](std::uint64_t frame) {
        return Frame<>::from_number(frame).value().start_address();
    };
    if (holes == 0) {
        auto f = a.allocate_frames_at(at(kBaseFrame), kHoleSpan);
        expect_ok(f);
        keep.push_back(std::move(f.value()));
        return;
    }
    const std::uint64_t stride = kHoleSpan / holes;
    keep.reserve(holes);
    for (std::uint64_t i = 0; i < holes; ++i) {
        auto f = a.allocate_frames_at(at(kBaseFrame + i * stride + 1), stride - 1);
        expect_ok(f);
        keep.push_back(std::move(f.value()));
    }
}

/// The random mix: sizes uniform in 1..1024 frames, frees of a random live
/// block, allocating while under half the pool is allocated and freeing
/// otherwise, so the pool hovers around half full.
class RandomMix {
  public:
    static constexpr std::uint64_t kMaxFrames = 1024;

    RandomMix(FrameAllocator& a, std::uint64_t seed) : alloc_(a), rng_(seed) {
        live_.reserve(kPoolFrames / 2);
        while (allocated_ < kPoolFrames / 2) {
            step();  // fill to the steady state before anything is timed
        }
    }

    /// One allocation or one free.
    void step() {
        if (allocated_ < kPoolFrames / 2 || live_.empty()) {
            const std::uint64_t n = 1 + rng_.below(kMaxFrames);
            auto f = alloc_.allocate_frames(n);
            if (f) {
                allocated_ += n;
                live_.push_back(std::move(f.value()));
                return;
            }
            ++failures_;  // not enough contiguous memory: free instead
            if (live_.empty()) {
                return;
            }
        }
        const std::uint64_t i = rng_.below(live_.size());
        allocated_ -= live_[i].size_in_frames();
        if (i + 1 != live_.size()) {
            live_[i] = std::move(live_.back());  // move-assign frees the old block
        }
        live_.pop_back();
    }

    [[nodiscard]] std::uint64_t failures() const { return failures_; }

  private:
    FrameAllocator& alloc_;
    Rng rng_;
    std::vector<AllocatedFrames<>> live_;
    std::uint64_t allocated_ = 0;
    std::uint64_t failures_ = 0;
};

/// A memory map of `regions` free regions spread over `total_frames`, with
/// a reserved gap between each pair (as firmware maps have).
inline std::vector<PhysicalMemoryRegion> spread_map(std::uint64_t total_frames, unsigned regions) {
    std::vector<PhysicalMemoryRegion> out;
    const std::uint64_t span = total_frames / regions;
    for (unsigned i = 0; i < regions; ++i) {
        out.push_back(free_region(kBaseFrame + i * span, span - span / 16));
    }
    return out;
}

}  // namespace framealloc::bench
