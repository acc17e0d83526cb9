// Benchmarks of the per-CPU fast path and of allocation at an address: the
// single-frame pair, the 2 MiB pair, allocate-at of 1 and 512 frames, and the
// two-thread scaling run. Each case also reports how many heap calls its timed
// loop made (must be 0) and its node storage in bits per managed frame.
#include <benchmark/benchmark.h>
#include <pthread.h>
#include <sched.h>

#include "bench_support.hpp"

namespace framealloc::bench {
namespace {

void report_memory(benchmark::State& state, const Setup& s, std::uint64_t heap_calls_in_loop) {
    state.counters["heap_calls"] = static_cast<double>(heap_calls_in_loop);
    state.counters["meta_bits_per_frame"] = s.metadata_bits_per_frame();
    state.counters["used_bits_per_frame"] = s.used_bits_per_frame();
}

void BM_SingleFramePair(benchmark::State& state) {
    set_current_cpu(0);
    Setup s;
    for (int i = 0; i < 1000; ++i) {
        benchmark::DoNotOptimize(single_pair(*s.alloc));  // reach the steady state
    }
    const std::uint64_t before = s.heap_calls();
    for (auto _ : state) {
        benchmark::DoNotOptimize(single_pair(*s.alloc));
    }
    report_memory(state, s, s.heap_calls() - before);
}
BENCHMARK(BM_SingleFramePair);

void BM_HugePair(benchmark::State& state) {
    set_current_cpu(0);
    Setup s;
    for (int i = 0; i < 1000; ++i) {
        benchmark::DoNotOptimize(huge_pair(*s.alloc));
    }
    const std::uint64_t before = s.heap_calls();
    for (auto _ : state) {
        benchmark::DoNotOptimize(huge_pair(*s.alloc));
    }
    report_memory(state, s, s.heap_calls() - before);
}
BENCHMARK(BM_HugePair);

// Allocate-at in the middle of the pool's one free chunk: a single frame
// splits it in two, a 2 MiB-aligned 512-frame run likewise.
void BM_AllocateAtPair(benchmark::State& state) {
    set_current_cpu(0);
    const auto count = static_cast<std::uint64_t>(state.range(0));
    const std::uint64_t frame = kBaseFrame + kPoolFrames / 2;  // 2 MiB aligned
    Setup s;
    for (int i = 0; i < 1000; ++i) {
        benchmark::DoNotOptimize(at_pair(*s.alloc, frame, count));
    }
    const std::uint64_t before = s.heap_calls();
    for (auto _ : state) {
        benchmark::DoNotOptimize(at_pair(*s.alloc, frame, count));
    }
    report_memory(state, s, s.heap_calls() - before);
}
BENCHMARK(BM_AllocateAtPair)->Arg(1)->Arg(512);

// Two threads (or one) on distinct CPU slots and distinct cores, each
// allocating and freeing a single frame and a 2 MiB block. Each thread
// measures its own CPU time per operation, so the 1- and 2-thread results
// compare like with like.
Setup& churn_setup() {
    return shared_setup();
}

void BM_Churn(benchmark::State& state) {
    const auto cpu = static_cast<unsigned>(state.thread_index());
    set_current_cpu(cpu);
    pin_to_core(cpu);
    FrameAllocator& a = *churn_setup().alloc;
    for (int i = 0; i < 1000; ++i) {
        benchmark::DoNotOptimize(single_pair(a) + huge_pair(a));
    }
    const std::uint64_t before = churn_setup().heap_calls();
    const double t0 = thread_cpu_ns();
    for (auto _ : state) {
        auto small = a.allocate_frames(1);
        auto huge = a.allocate_huge<Page2M>(1);
        expect_ok(small);
        expect_ok(huge);
        benchmark::DoNotOptimize(small->start().number() + huge->start().number());
    }
    const double ns = thread_cpu_ns() - t0;
    // Four operations per iteration: two allocations, two frees.
    state.counters["ns_per_op"] = benchmark::Counter(
        ns / (4.0 * static_cast<double>(state.iterations())), benchmark::Counter::kAvgThreads);
    if (state.thread_index() == 0) {
        state.counters["heap_calls"] = static_cast<double>(churn_setup().heap_calls() - before);
        state.counters["meta_bits_per_frame"] = churn_setup().metadata_bits_per_frame();
    }
    set_current_cpu(0);
}
BENCHMARK(BM_Churn)->Threads(1)->Threads(2)->UseRealTime();

}  // namespace
}  // namespace framealloc::bench
