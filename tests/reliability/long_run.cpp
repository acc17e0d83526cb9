// The long differential run: `framealloc_diff_long OPS [SEED] [CHECK_EVERY]`.
// Runs the seeded driver for OPS operations (full comparison every
// CHECK_EVERY operations, and at every episode's end), printing progress
// every 10^7 operations. Exit status 0 when framealloc and the model agreed
// throughout. tests/fuzz/run_long.sh builds and runs it.
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>

#include "differential.hpp"

int main(int argc, char** argv) {
    using namespace framealloc::reliability;
    const std::uint64_t total = argc > 1 ? std::strtoull(argv[1], nullptr, 0) : 100000000ULL;
    const std::uint64_t seed = argc > 2 ? std::strtoull(argv[2], nullptr, 0) : 1;
    const std::uint64_t every = argc > 3 ? std::strtoull(argv[3], nullptr, 0) : 64;
    const std::uint64_t chunk = 10000000ULL;
    const auto t0 = std::chrono::steady_clock::now();
    std::uint64_t done = 0;
    DiffResult sum;
    for (std::uint64_t part = 0; done < total; ++part) {
        PrngSource source(seed * 1000003ULL + part);
        DiffOptions options;
        options.max_ops = total - done < chunk ? total - done : chunk;
        options.check_every = every;
        const DiffResult r = run_differential(source, options);
        done += r.ops;
        sum.episodes += r.episodes;
        sum.full_checks += r.full_checks;
        sum.allocations += r.allocations;
        sum.refusals += r.refusals;
        sum.capacity_refusals += r.capacity_refusals;
        sum.heap_episodes += r.heap_episodes;
        const double secs =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        std::printf("[%8.1fs] %" PRIu64 " ops, %" PRIu64 " episodes (%" PRIu64 " heap), %" PRIu64
                    " full checks, %" PRIu64 " allocations, %" PRIu64
                    " predicted refusals, %" PRIu64 " capacity refusals\n",
                    secs, done, sum.episodes, sum.heap_episodes, sum.full_checks, sum.allocations,
                    sum.refusals, sum.capacity_refusals);
        std::fflush(stdout);
        if (!r.ok) {
            std::printf("MISMATCH (seed %" PRIu64 ", part %" PRIu64 "):\n%s\n", seed, part,
                        r.failure.c_str());
            return 1;
        }
    }
    std::printf("OK: %" PRIu64 " operations agreed with the reference model\n", done);
    return 0;
}
