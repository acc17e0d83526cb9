// The instruction-count driver: sets up one scenario exactly as the benchmark
// does, then repeats its operation `ops` times. bench/opcount.sh runs it under
// callgrind with two values of `ops` and divides the difference in
// instructions by the difference in ops, which cancels the set-up and leaves
// the instructions of one operation -- a figure that, unlike time, does not
// move when the machine is busy.
//
// Usage: framealloc_opcount <scenario|all> <ops>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "bench_support.hpp"

namespace framealloc::bench {
namespace {

volatile std::uint64_t g_sink = 0;  // keeps the loops' results alive

struct Scenario {
    const char* name;
    void (*run)(std::uint64_t ops);
};

constexpr std::uint64_t kAtFrame = kBaseFrame + kPoolFrames / 2;

void warm(FrameAllocator& a, std::uint64_t (*op)(FrameAllocator&)) {
    for (int i = 0; i < 1000; ++i) {
        g_sink = g_sink + op(a);
    }
}

void run_single(std::uint64_t ops) {
    Setup s;
    warm(*s.alloc, single_pair);
    for (std::uint64_t i = 0; i < ops; ++i) {
        g_sink = g_sink + single_pair(*s.alloc);
    }
}
void run_huge(std::uint64_t ops) {
    Setup s;
    warm(*s.alloc, huge_pair);
    for (std::uint64_t i = 0; i < ops; ++i) {
        g_sink = g_sink + huge_pair(*s.alloc);
    }
}
void run_at(std::uint64_t ops, std::uint64_t count) {
    Setup s;
    for (std::uint64_t i = 0; i < 1000 + ops; ++i) {
        g_sink = g_sink + at_pair(*s.alloc, kAtFrame, count);
    }
}
void run_at1(std::uint64_t ops) {
    run_at(ops, 1);
}
void run_at512(std::uint64_t ops) {
    run_at(ops, 512);
}
void run_mix(std::uint64_t ops) {
    Setup s;
    RandomMix mix(*s.alloc, 42);
    for (std::uint64_t i = 0; i < ops; ++i) {
        mix.step();
    }
}
void run_sized(std::uint64_t ops, std::uint64_t holes) {
    Setup s;
    std::vector<AllocatedFrames<>> keep;
    punch_holes(*s.alloc, holes, keep);
    std::uint64_t count = 2;
    for (std::uint64_t i = 0; i < 1000 + ops; ++i) {
        g_sink = g_sink + sized_pair(*s.alloc, count);
        count = count == 64 ? 2 : count + 1;
    }
}
void run_clean(std::uint64_t ops) {
    run_sized(ops, 0);
}
void run_fragmented(std::uint64_t ops) {
    run_sized(ops, 100000);
}

constexpr Scenario kScenarios[] = {
    {"single", run_single},         {"huge", run_huge}, {"at1", run_at1},
    {"at512", run_at512},           {"mix", run_mix},   {"clean", run_clean},
    {"fragmented", run_fragmented},
};

}  // namespace
}  // namespace framealloc::bench

int main(int argc, char** argv) {
    using framealloc::bench::kScenarios;
    if (argc != 3) {
        std::fprintf(stderr, "usage: %s <scenario|all> <ops>\n", argv[0]);
        return 2;
    }
    const std::uint64_t ops = std::strtoull(argv[2], nullptr, 10);
    framealloc::set_current_cpu(0);
    bool found = false;
    for (const auto& s : kScenarios) {
        if (std::strcmp(argv[1], "all") == 0 || std::strcmp(argv[1], s.name) == 0) {
            s.run(ops);
            found = true;
        }
    }
    if (!found) {
        std::fprintf(stderr, "unknown scenario %s\n", argv[1]);
        return 2;
    }
    return 0;
}
