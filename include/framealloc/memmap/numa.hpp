// What the firmware NUMA readers report: a memory range and the node
// (proximity domain) it belongs to, a CPU and its node, and one entry of the
// distance matrix. The ACPI readers (srat.hpp, slit.hpp) and the device-tree
// reader (fdt_numa.hpp) feed the same three sinks, so a kernel builds its
// node set the same way whichever firmware booted it. Node ids are passed
// through as the firmware numbers them (ACPI proximity domains, device-tree
// numa-node-id); mapping them to dense NodeSet ids is the caller's choice.
#pragma once

#include <concepts>
#include <cstdint>

#include "framealloc/result.hpp"

namespace framealloc::memmap {

/// A range of physical memory on one node.
struct NumaMemoryRange {
    std::uint64_t base = 0;
    std::uint64_t length = 0;
    std::uint32_t node = 0;
    /// ACPI: the memory may be hot-added or removed at run time.
    bool hot_pluggable = false;
    /// ACPI: non-volatile memory (NVDIMM).
    bool non_volatile = false;
};

/// A CPU on one node. `id` is the CPU's hardware id: the local APIC id
/// (SRAT type 0), the x2APIC id (SRAT type 2), or the first cell(s) of the
/// cpu node's `reg` (device tree: an MPIDR on ARM, a hart id on RISC-V).
struct NumaCpu {
    std::uint64_t id = 0;
    std::uint32_t node = 0;
    /// Which of the above `id` is, for a kernel that keeps them apart.
    enum class IdKind : std::uint8_t { kApic, kX2Apic, kDeviceTree };
    IdKind id_kind = IdKind::kApic;
};

/// One distance-matrix entry: from `from` to `to` costs `distance` (10 = local).
struct NumaDistance {
    std::uint32_t from = 0;
    std::uint32_t to = 0;
    std::uint32_t distance = 0;
};

/// A sink of memory ranges: a callable taking a NumaMemoryRange, returning Status.
template <typename Sink>
concept NumaMemorySink = requires(Sink& sink, const NumaMemoryRange& range) {
    { sink(range) } -> std::convertible_to<Status>;
};
/// A sink of CPUs.
template <typename Sink>
concept NumaCpuSink = requires(Sink& sink, const NumaCpu& cpu) {
    { sink(cpu) } -> std::convertible_to<Status>;
};
/// A sink of distance entries.
template <typename Sink>
concept NumaDistanceSink = requires(Sink& sink, const NumaDistance& entry) {
    { sink(entry) } -> std::convertible_to<Status>;
};

/// The SLIT's (and device tree's) distance of a node to itself.
inline constexpr std::uint32_t kNumaLocalDistance = 10;

}  // namespace framealloc::memmap
