// The physical memory map a simulation starts from: the built-in 16 GiB x86
// desktop, the built-in two-node server, or a firmware map read from a text
// file (through the parsers in tools/memmap). Besides the free/reserved lists init() takes, it
// keeps each entry's name so the picture can label "ACPI NVS" rather than "reserved".
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "framealloc/memmap/numa.hpp"
#include "framealloc/region.hpp"

namespace framealloc::sim {

/// One entry of the map as the firmware named it; bytes, inclusive.
struct NamedRange {
    std::uint64_t first = 0;
    std::uint64_t last = 0;
    MemoryRegionType type = MemoryRegionType::kUnknown;
    std::string name;
};

/// Most NUMA nodes a simulated machine has.
inline constexpr unsigned kMaxNodes = 4;

struct MachineMap {
    std::string description;
    std::vector<NamedRange> entries;  ///< Sorted by address.
    std::vector<PhysicalMemoryRegion> free;
    std::vector<PhysicalMemoryRegion> reserved;
    /// NUMA layout, as an SRAT or a device tree gives it: each node's address
    /// ranges (node ids 0 .. node_count - 1), the SLIT-style distance table
    /// (node_count x node_count, empty for the default) and each CPU's home
    /// node. No ranges: one node holding the whole map, home of every CPU.
    unsigned node_count = 1;
    std::vector<memmap::NumaMemoryRange> node_ranges;
    std::vector<std::uint8_t> distances;
    std::vector<std::uint8_t> cpu_nodes;
};

/// A typical 16 GiB x86 desktop with legacy BIOS: low 640 KiB, the legacy
/// VGA/ROM hole, ACPI tables below the PCI hole, the local APIC / IOAPIC /
/// HPET pages, and 12 GiB remapped above 4 GiB.
[[nodiscard]] MachineMap builtin_map();

/// The built-in 16 GiB desktop map on a two-socket machine: node 0 holds
/// everything below 9 GiB (the low 3 GiB and 5 GiB above 4 GiB), node 1 the
/// 8 GiB above; distance 21 between them; CPUs 0-1 on node 0, 2-3 on node 1
/// (and so on, in pairs).
[[nodiscard]] MachineMap builtin_two_node_map();
/// The `--map` name of builtin_two_node_map().
inline constexpr const char* kTwoNodeMap = "two-node";

/// The first CPU ids whose home nodes a map states (the workloads use 4).
inline constexpr unsigned kMapCpus = 64;

/// Reads a map file in any format tools/memmap understands. On failure
/// returns false and sets `error` to "path:line: reason".
[[nodiscard]] bool load_map_file(const std::string& path, MachineMap& map, std::string& error);

/// The `run --map` argument: kThisMachine reads this machine's own map
/// (/sys/firmware/memmap, else /proc/iomem), kTwoNodeMap is the built-in
/// two-node machine, anything else is a file read as load_map_file() does. `columns` ("" for auto)
/// says how a bare table's columns read.
[[nodiscard]] bool load_map(const std::string& spec, const std::string& columns, MachineMap& map,
                            std::string& error);
inline constexpr const char* kThisMachine = "this-machine";

/// True when the map-file readers were built in (tools/memmap present).
[[nodiscard]] bool map_files_supported();

/// Frames the allocator may hand out anywhere (free minus reserved), counting
/// only frames below `limit_frame` (e.g. 4 GiB for DMA32 budgets).
[[nodiscard]] std::uint64_t usable_frames(const MachineMap& map, std::uint64_t limit_frame = ~0ULL);

}  // namespace framealloc::sim
