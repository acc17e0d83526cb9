// The built-in workloads: stylised kernel lives (boot, page-cache churn,
// huge pages, DMA, and all of them mixed). Each is an OpSource that scales
// its working set to the machine and draws every choice from a seeded Prng.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "ops.hpp"

namespace framealloc::sim {

struct WorkloadInfo {
    const char* name;
    const char* summary;
    std::uint64_t default_ops;
};

/// Every built-in workload, in the order --help lists them.
[[nodiscard]] const std::vector<WorkloadInfo>& workloads();

/// The workload called `name`, or nullptr for an unknown name.
/// How much memory a machine offers, which sizes the working sets.
struct MachineSize {
    std::uint64_t usable_frames = 0;
    std::uint64_t usable_below_4g = 0;  ///< What 32-bit DMA can reach.
    unsigned nodes = 1;                 ///< NUMA nodes (the numa workload aims at the last).
};

/// The workload called `name`, or nullptr for an unknown name.
[[nodiscard]] std::unique_ptr<OpSource> make_workload(const std::string& name, MachineSize size,
                                                      std::uint64_t seed);

/// The default op count of a built-in workload (0 for an unknown name).
[[nodiscard]] std::uint64_t default_ops(const std::string& name);

/// The address every DMA allocation stays below (32-bit devices).
inline constexpr std::uint64_t kDmaLimit = 4ULL << 30;
/// Frames in 64 KiB: the boundary ISA-style DMA engines cannot cross.
inline constexpr std::uint64_t kDmaBoundaryFrames = 16;

}  // namespace framealloc::sim
