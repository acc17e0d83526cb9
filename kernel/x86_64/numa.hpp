// NUMA set-up of the Multiboot kernel (selected by framealloc.numa on the
// command line): the ACPI SRAT and SLIT, read with framealloc's own readers,
// give each proximity domain its memory ranges, CPUs and distances; the
// domains become dense node ids 0..n-1, the SRAT's APIC ids the kernel's CPU
// indices (predicted from the MADT list in start-up order, checked once the
// APs are up). The Multiboot map is cut per node with regions_on_node, and
// each node gets its own KernelFrameAllocator (constinit, the kernel's
// interrupt-masking lock, metadata carved from that node's own memory),
// gathered in one framealloc::NodeSet.
//
// The kernel's own allocator (frame_allocator(): page tables, heap, AP
// stacks, the single-CPU self-test) keeps the RAM below kBootPoolEnd; the
// node allocators get every node's memory from there up. No frame is managed
// by two allocators.
#pragma once

#include <cstddef>
#include <cstdint>

#include "cpu_local.hpp"
#include "frame_allocator.hpp"
#include "framealloc/memmap/numa.hpp"
#include "framealloc/node_set.hpp"
#include "memory.hpp"

namespace kernel::numa {

inline constexpr unsigned kMaxNodes = 4;
inline constexpr std::size_t kMaxRanges = 16;
/// RAM below this stays with the kernel's own allocator.
inline constexpr std::uint64_t kBootPoolEnd = std::uint64_t{64} << 20;

using NodeAllocators = framealloc::NodeSet<kMaxNodes, KernelFrameAllocator>;

struct Layout {
    unsigned node_count = 0;
    /// Proximity domain of each dense node id.
    std::uint32_t domain[kMaxNodes] = {};
    /// The SRAT's memory ranges, `node` rewritten to the dense id and cut
    /// to start at kBootPoolEnd or above: exactly what the node allocators own.
    framealloc::memmap::NumaMemoryRange ranges[kMaxRanges] = {};
    std::size_t range_count = 0;
    /// Home node of each kernel CPU index (framealloc::kNoNode: none) and
    /// the APIC id that index is expected to have.
    std::uint8_t cpu_node[kMaxCpus] = {};
    std::uint32_t cpu_apic[kMaxCpus] = {};
    unsigned cpu_count = 0;
    /// Row-major node_count x node_count, from the SLIT (20 off the diagonal
    /// without one).
    std::uint8_t distance[kMaxNodes * kMaxNodes] = {};
    bool have_slit = false;
};

/// Reads SRAT and SLIT, initialises the node allocators and the node set,
/// prints the layout, and cuts `regions` down to the kernel allocator's share
/// (below kBootPoolEnd). Panics on any error. Call before run_kernel().
void init(BootRegions& regions);

[[nodiscard]] NodeAllocators& nodes();
[[nodiscard]] const Layout& layout();

/// True when [first_byte, last_byte] lies inside one range of `node`.
[[nodiscard]] bool in_node(unsigned node, std::uint64_t first_byte, std::uint64_t last_byte);

/// After smp::start_all_cpus(): every CPU index got the APIC id the layout
/// predicted (so the node set's CPU table is right); panics otherwise.
void verify_cpus(unsigned online);

}  // namespace kernel::numa
