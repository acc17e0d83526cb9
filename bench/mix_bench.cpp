// Benchmarks of the engine issue's targets beyond the fast paths: the
// power-of-two order mix (orders 0..9, naturally aligned, 1024 live blocks)
// on one and two threads, and taking all of memory one frame at a time.
// Each thread measures its own CPU time, so 1- and 2-thread results compare
// like with like on this shared machine.
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <memory>
#include <optional>

#include "bench_support.hpp"

namespace framealloc::bench {
namespace {

bool smoke() {
    const char* v = std::getenv("FRAMEALLOC_BENCH_SMOKE");
    return v != nullptr && v[0] == '1';
}

// One thread's share of the order mix: `kLive` blocks of 2^k frames
// (k uniform in 0..9, aligned to their size); each step frees a random one
// and allocates a new random order in its place.
class OrderMix {
  public:
    static constexpr std::size_t kLive = 1024;

    OrderMix(FrameAllocator& a, std::uint64_t seed) : alloc_(a), rng_(seed) {
        live_.reserve(kLive);
        while (live_.size() < kLive) {
            live_.push_back(take());
        }
    }
    void step() {
        AllocatedFrames<>& slot = live_[rng_.below(kLive)];
        slot = AllocatedFrames<>();  // the free
        slot = take();               // the allocation
    }

  private:
    AllocatedFrames<> take() {
        const std::uint64_t n = 1ULL << rng_.below(10);
        auto f = alloc_.allocate(AllocRequest::frames(n).aligned(n));
        expect_ok(f);
        return std::move(f.value());
    }

    FrameAllocator& alloc_;
    Rng rng_;
    std::vector<AllocatedFrames<>> live_;
};

// `early`: the allocator before any heap (no per-CPU caches).
void order_mix(benchmark::State& state, bool early) {
    const auto cpu = static_cast<unsigned>(state.thread_index());
    set_current_cpu(cpu);
    pin_to_core(cpu);
    Setup& setup = early ? shared_early_setup() : shared_setup();
    std::optional<OrderMix> mix(std::in_place, *setup.alloc, 7 + cpu);
    for (int i = 0; i < 10000; ++i) {
        mix->step();
    }
    const OpCounts before = setup.alloc->op_counts();
    const double t0 = thread_cpu_ns();
    for (auto _ : state) {
        mix->step();
    }
    const double ns = thread_cpu_ns() - t0;
    const OpCounts after = setup.alloc->op_counts();
    // Two operations per step: a free and an allocation.
    state.counters["ns_per_op"] = benchmark::Counter(
        ns / (2.0 * static_cast<double>(state.iterations())), benchmark::Counter::kAvgThreads);
    if (state.thread_index() == 0) {
        state.counters["meta_bits_per_frame"] = setup.metadata_bits_per_frame();
        // Of the operations that reached the pool while this thread ran, the
        // share that took the pool-wide lock (FRAMEALLOC_COUNT_SHARED_OPS).
        const auto ops = static_cast<double>(after.pool_ops - before.pool_ops);
        state.counters["shared_lock_pct"] =
            ops == 0
                ? 0.0
                : 100.0 * static_cast<double>(after.shared_lock_ops - before.shared_lock_ops) / ops;
    }
    mix.reset();
    set_current_cpu(0);
}
void BM_OrderMix(benchmark::State& state) {
    order_mix(state, false);
}

// The calibration: the same mix with an allocator per thread, so nothing at
// all is shared. Its 2-thread/1-thread ratio is what this machine gives a
// perfectly scaling allocator (two virtual CPUs may share a physical core).
void BM_OrderMixPrivate(benchmark::State& state) {
    const auto cpu = static_cast<unsigned>(state.thread_index());
    set_current_cpu(cpu);
    pin_to_core(cpu);
    auto setup = std::make_unique<Setup>();
    std::optional<OrderMix> mix(std::in_place, *setup->alloc, 7 + cpu);
    for (int i = 0; i < 10000; ++i) {
        mix->step();
    }
    const double t0 = thread_cpu_ns();
    for (auto _ : state) {
        mix->step();
    }
    const double ns = thread_cpu_ns() - t0;
    state.counters["ns_per_op"] = benchmark::Counter(
        ns / (2.0 * static_cast<double>(state.iterations())), benchmark::Counter::kAvgThreads);
    mix.reset();
    set_current_cpu(0);
}
BENCHMARK(BM_OrderMixPrivate)->Threads(1)->Threads(2)->UseRealTime();
void BM_OrderMixEarly(benchmark::State& state) {
    order_mix(state, true);
}
BENCHMARK(BM_OrderMix)->Threads(1)->Threads(2)->UseRealTime();
BENCHMARK(BM_OrderMixEarly)->Threads(1)->Threads(2)->UseRealTime();

// All of a 4 GiB pool, one frame at a time, then every frame back.
void BM_FillFrameByFrame(benchmark::State& state) {
    set_current_cpu(0);
    const std::uint64_t frames = smoke() ? (1ULL << 14) : kPoolFrames;
    for (auto _ : state) {
        state.PauseTiming();
        auto s = std::make_unique<Setup>(frames);
        std::vector<AllocatedFrames<>> held;
        held.reserve(frames);
        const std::uint64_t before = s->heap_calls();
        state.ResumeTiming();
        const double t0 = thread_cpu_ns();
        for (;;) {
            auto f = s->alloc->allocate_frames(1);
            if (!f) {
                break;
            }
            held.push_back(std::move(f.value()));
        }
        const double ns = thread_cpu_ns() - t0;
        state.PauseTiming();
        state.counters["ns_per_frame"] = ns / static_cast<double>(held.size());
        state.counters["frames"] = static_cast<double>(held.size());
        state.counters["heap_calls"] = static_cast<double>(s->heap_calls() - before);
        state.counters["meta_bits_per_frame"] = s->metadata_bits_per_frame();
        held.clear();
        s.reset();
        state.ResumeTiming();
    }
}
BENCHMARK(BM_FillFrameByFrame)->Iterations(1)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace framealloc::bench
