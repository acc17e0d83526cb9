// One step of a machine's memory life, as both the built-in workloads and
// trace files describe it, and the interface the simulator pulls steps from.
// Keeping workloads and traces on one representation means a trace written
// by hand exercises exactly the code paths the built-in workloads do.
#pragma once

#include <cstdint>
#include <string>

namespace framealloc::sim {

enum class OpKind : std::uint8_t {
    kAlloc,       ///< count frames anywhere, honouring align / below / boundary.
    kAllocAt,     ///< count frames at address `at` (MMIO, firmware tables, ...).
    kAllocHuge,   ///< count 2 MiB frames (allocate_huge<Page2M>).
    kFree,        ///< drop the allocation named `id`.
    kMoveToHeap,  ///< the kernel heap is up: move bookkeeping to it (per-CPU caches on).
};

/// Op::node when the request names no node: the CPU's home node serves it.
inline constexpr unsigned kHomeNode = ~0U;

/// The id of an allocation nobody frees (kernel image, page tables kept forever).
inline constexpr std::uint64_t kAnonymous = 0;

struct Op {
    OpKind kind = OpKind::kAlloc;
    std::uint64_t count = 1;     ///< Frames (2 MiB frames for kAllocHuge).
    std::uint64_t align = 1;     ///< In 4 KiB frames, a power of two.
    std::uint64_t boundary = 0;  ///< In 4 KiB frames; 0 = none.
    std::uint64_t below = 0;     ///< Every byte below this address; 0 = anywhere.
    std::uint64_t at = 0;        ///< Byte address for kAllocAt.
    std::uint64_t id = kAnonymous;
    unsigned cpu = 0;  ///< The CPU the operation runs on (selects a per-CPU cache).
    /// The NUMA node asked for (kHomeNode: the CPU's home node), and whether
    /// only that node may serve the request (else the nearest others may).
    unsigned node = kHomeNode;
    bool node_only = false;
    /// What kind of request this is, for the failure breakdown ("DMA rings
    /// (below 4 GiB)", ...); a static string, or nullptr for the verb's name.
    const char* category = nullptr;
};

/// Where the simulator's operations come from. on_result() tells a workload
/// whether its allocation succeeded, so it only ever frees what exists.
class OpSource {
  public:
    virtual ~OpSource() = default;
    /// Fills `op` and returns true, or returns false when the source is exhausted.
    virtual bool next(Op& op) = 0;
    virtual void on_result(const Op& op, bool succeeded) = 0;
    /// What is being replayed ("mixed", "trace boot.log", ...).
    [[nodiscard]] virtual std::string name() const = 0;
};

}  // namespace framealloc::sim
