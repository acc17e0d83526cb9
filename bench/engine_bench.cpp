// Benchmarks of the shared engine: the long random mix (and whether it slows
// down as it runs), allocation on fragmented versus clean memory, and init of
// large memory maps. FRAMEALLOC_BENCH_SMOKE=1 (set by the ctest smoke entry)
// shrinks the random mix so the suite stays quick; it never changes what runs.
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <optional>

#include "bench_support.hpp"

namespace framealloc::bench {
namespace {

bool smoke() {
    const char* v = std::getenv("FRAMEALLOC_BENCH_SMOKE");
    return v != nullptr && v[0] == '1';
}

// 10^7 operations per iteration, timed (thread CPU time) in tenths so the last tenth can be
// compared with the first: a slowdown would show fragmentation building up.
void BM_RandomMix(benchmark::State& state) {
    set_current_cpu(0);
    const std::uint64_t ops = smoke() ? 100000 : 10000000;
    for (auto _ : state) {
        state.PauseTiming();
        Setup s;
        std::optional<RandomMix> mix(std::in_place, *s.alloc, 42);
        const std::uint64_t before = s.heap_calls();
        state.ResumeTiming();
        double tenth[10] = {};
        for (int t = 0; t < 10; ++t) {
            const double t0 = thread_cpu_ns();
            for (std::uint64_t i = 0; i < ops / 10; ++i) {
                mix->step();
            }
            tenth[t] = thread_cpu_ns() - t0;
        }
        state.PauseTiming();
        double total = 0;
        for (const double t : tenth) {
            total += t;
        }
        const double per_tenth = static_cast<double>(ops / 10);
        state.counters["ns_per_op"] = total / static_cast<double>(ops);
        state.counters["first10_ns"] = tenth[0] / per_tenth;
        state.counters["last10_ns"] = tenth[9] / per_tenth;
        state.counters["last_over_first"] = tenth[9] / tenth[0];
        state.counters["failures"] = static_cast<double>(mix->failures());
        state.counters["heap_calls"] = static_cast<double>(s.heap_calls() - before);
        state.counters["meta_bits_per_frame"] = s.metadata_bits_per_frame();
        state.counters["used_bits_per_frame"] = s.used_bits_per_frame();
        mix.reset();
        state.ResumeTiming();
    }
}
BENCHMARK(BM_RandomMix)->Iterations(1)->Unit(benchmark::kMillisecond);

// Allocating 2..64 frames with and without 10^5 one-frame holes spread over
// the pool. The holes are free chunks the engine must step over; with no
// linear scan the time should hardly change.
void BM_Fragmented(benchmark::State& state) {
    set_current_cpu(0);
    Setup s;
    std::vector<AllocatedFrames<>> keep;
    punch_holes(*s.alloc, static_cast<std::uint64_t>(state.range(0)), keep);
    std::uint64_t count = 2;
    for (int i = 0; i < 1000; ++i) {
        benchmark::DoNotOptimize(sized_pair(*s.alloc, count));
        count = count == 64 ? 2 : count + 1;
    }
    const std::uint64_t before = s.heap_calls();
    for (auto _ : state) {
        benchmark::DoNotOptimize(sized_pair(*s.alloc, count));
        count = count == 64 ? 2 : count + 1;
    }
    state.counters["heap_calls"] = static_cast<double>(s.heap_calls() - before);
    state.counters["free_chunks"] = static_cast<double>(s.alloc->stats().general.free_chunks);
    state.counters["meta_bits_per_frame"] = s.metadata_bits_per_frame();
    state.counters["used_bits_per_frame"] = s.used_bits_per_frame();
}
BENCHMARK(BM_Fragmented)->Arg(0)->Arg(100000)->Arg(450000);  // 450000: every other frame free

// Constructing and initialising an allocator from a memory map: 70 regions
// over 12 TiB, and 4 GiB in the few regions a PC's e820 map has.
void BM_Init(benchmark::State& state, std::vector<PhysicalMemoryRegion> map) {
    const Span<const PhysicalMemoryRegion> regions(map.data(), map.size());
    std::uint64_t frames = 0;
    const Span<std::byte> metadata = hosted_metadata(FrameAllocator::metadata_bytes(regions, {}));
    for (auto _ : state) {
        std::optional<FrameAllocator> a(std::in_place);
        auto r = a->init(regions, {}, metadata);
        expect_ok(r);
        frames = a->stats().general.total_frames;
        benchmark::DoNotOptimize(frames);
    }
    state.counters["frames"] = static_cast<double>(frames);
    state.counters["regions"] = static_cast<double>(map.size());
}
BENCHMARK_CAPTURE(BM_Init, map_12TiB_70_regions, spread_map(12ULL << 28, 70))
    ->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_Init, map_4GiB_3_regions,
                  std::vector<PhysicalMemoryRegion>{free_region(1, 0x9e),
                                                    free_region(0x100, 0xbfe00),
                                                    free_region(0x100000, 0x40100)})
    ->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace framealloc::bench
