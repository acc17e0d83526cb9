// Drives one FrameAllocator through a stream of operations and records what
// happened: counts, failures by kind, per-operation latency, a time series of
// free memory, and the final snapshot with its invariant checks. This is the
// only part of the simulator that talks to the allocator.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "framealloc/framealloc.hpp"
#include "framealloc/node_set.hpp"
#include "machine_map.hpp"
#include "ops.hpp"
#include "snapshot.hpp"

namespace framealloc::sim {

/// One point of the over-time panel.
struct Sample {
    std::uint64_t op = 0;
    std::uint64_t free_frames = 0;  ///< General pool, per-CPU caches included.
    std::uint64_t largest_free_chunk = 0;
};

inline constexpr std::size_t kErrorKinds = 32;

/// Requests of one category (Op::category) and how many of them failed.
struct CategoryFailures {
    std::string name;
    std::uint64_t attempts = 0;
    std::uint64_t failures = 0;
    std::array<std::uint64_t, kErrorKinds> by_kind{};
    std::uint64_t largest_failed_frames = 0;  ///< The biggest failed request, in 4 KiB frames.
};

/// One NUMA node at the end of a run.
struct NodeReport {
    FrameStats stats;
    std::uint64_t allocs = 0;       ///< Allocations this node served.
    std::uint64_t fallbacks = 0;    ///< ... of which another node was asked for first.
    std::uint64_t first_frame = 0;  ///< The lowest frame of the node's memory.
};

struct RunReport {
    std::string source;
    std::string map_description;
    /// Allocations and frees; the kernel-heap step is counted apart (heap_moves).
    std::uint64_t ops = 0;
    std::uint64_t heap_moves = 0;  ///< move_to_heap() steps (implicit or `heap` lines).
    std::uint64_t allocs = 0;      ///< Allocation attempts of every kind.
    std::uint64_t frees = 0;
    std::uint64_t frees_skipped = 0;  ///< Frees of an allocation that had failed.
    std::uint64_t failures = 0;
    std::array<std::uint64_t, kErrorKinds> failures_by_kind{};
    /// Allocation attempts and failures per request category, in first-seen order.
    std::vector<CategoryFailures> categories;
    std::uint64_t live_allocations = 0;
    std::vector<std::uint32_t> latency_ns;  ///< One per operation; never in JSON/SVG.
    std::vector<Sample> series;
    FrameStats stats;  ///< All nodes together.
    /// Each NUMA node (one entry for a map without NUMA layout).
    std::vector<NodeReport> nodes;
    Snapshot snapshot;
    std::uint64_t huge_available = 0;
    bool check_ok = false;
    std::string check_message;
    bool conserved = false;
    std::string conservation_message;
};

/// Called now and then with (operations done, operations planned).
using ProgressFn = std::function<void(std::uint64_t, std::uint64_t)>;

class Simulator {
  public:
    explicit Simulator(MachineMap map);
    ~Simulator();
    Simulator(const Simulator&) = delete;
    Simulator& operator=(const Simulator&) = delete;

    /// Builds the allocator from the map. False (and `error`) when init() fails.
    [[nodiscard]] bool init(std::string& error);

    /// Runs up to `max_ops` operations from `source` (which may end sooner),
    /// then snapshots and checks the allocator.
    [[nodiscard]] RunReport run(OpSource& source, std::uint64_t max_ops,
                                const ProgressFn& progress = {});

    [[nodiscard]] const MachineMap& map() const { return map_; }

    /// A live allocation as the simulator holds it (tests check constraints with it).
    struct HeldRange {
        std::uint64_t id = 0;
        FrameInterval frames;
        Pool pool = Pool::kGeneral;
    };
    /// Every live allocation, sorted by address.
    [[nodiscard]] std::vector<HeldRange> held() const;

  private:
    struct Held {
        AllocatedFrames<> small;
        AllocatedFrames<Page2M> huge;
    };

    using NodeSetType = NodeSet<kMaxNodes>;

    bool apply(const Op& op, RunReport& report);
    bool store(const Op& op, Held held);
    void finish(RunReport& report);
    // Counts which node served a successful allocation of `op`.
    template <typename Handle>
    void count_node(const Op& op, const Handle& frames, RunReport& report) const;

    MachineMap map_;
    // One allocator per NUMA node, behind the node set every request goes through.
    std::vector<std::unique_ptr<FrameAllocator>> allocators_;
    NodeSetType nodes_;
    // Declared after the allocator so every handle is returned before it dies.
    std::unordered_map<std::uint64_t, Held> held_;
    std::uint64_t next_anonymous_ = 1ULL << 63;
};

}  // namespace framealloc::sim
