// Differential testing of framealloc against the reference model (model.hpp).
// One driver, fed by a Source, runs "episodes": a fresh allocator, calls made
// before init, an init from random messy regions, then a long random mix of
// every public operation -- every allocation form, frees in random order,
// handle splits, merges and state transitions, page-table hand-off and
// re-adoption, run-time regions, heap mode and per-CPU caches, inspection --
// and finally a teardown that must bring every frame back. Each answer is
// compared with the model's; the first difference ends the run with a
// message naming the operation, its index and both answers.
//
// The same driver runs under libFuzzer (tests/fuzz), in the unit suite
// (seeded, checking after every operation) and as the long run
// (tests/fuzz/run_long.sh, checking every N operations).
#pragma once

#include <cstdint>
#include <string>

#include "source.hpp"

namespace framealloc::reliability {

struct DiffOptions {
    /// Stop after this many operations (0: when the source runs dry).
    std::uint64_t max_ops = 0;
    /// Run the full comparison (check(), stats, chunk lists, node
    /// accounting) after every N operations; 1 = after each one. Every
    /// operation's own answer is always compared.
    std::uint64_t check_every = 1;
    /// Percentage of episodes that use a tiny early capacity (12 nodes), so
    /// that bookkeeping exhaustion is exercised too.
    unsigned small_capacity_percent = 15;
};

struct DiffResult {
    bool ok = true;
    std::string failure;  ///< The first difference, readable.
    std::uint64_t ops = 0;
    std::uint64_t episodes = 0;
    std::uint64_t full_checks = 0;
    std::uint64_t allocations = 0;        ///< Successful allocations of any form.
    std::uint64_t refusals = 0;           ///< Failures the model predicted.
    std::uint64_t capacity_refusals = 0;  ///< Early-mode kCapacityExhausted (allowed).
    std::uint64_t heap_episodes = 0;      ///< Episodes that reached heap mode.
};

/// Runs episodes until `options.max_ops` operations (or the source is dry).
[[nodiscard]] DiffResult run_differential(Source& source, const DiffOptions& options);

}  // namespace framealloc::reliability
