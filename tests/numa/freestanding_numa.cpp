// The NUMA pieces as a kernel builds them: NodeSet over two eternal
// allocators (a constinit global, no constructor run), the SRAT, SLIT and
// device-tree readers, and the split by node, compiled with -ffreestanding
// -fno-exceptions -fno-rtti and linked with no runtime by
// tests/core/freestanding/check.cmake. Only the documented hooks and the
// memory routines a compiler may call are defined here.
#include <framealloc/framealloc.hpp>
#include <framealloc/memmap.hpp>
#include <framealloc/node_set.hpp>

namespace {
framealloc::GlobalFrameAllocator g_node0;
framealloc::GlobalFrameAllocator g_node1;
constinit framealloc::NodeSet<2, framealloc::GlobalFrameAllocator> g_nodes;
// Filled by the boot code in a real kernel; a zero byte is "no table".
unsigned char g_srat[64];
unsigned char g_slit[48];
unsigned char g_dtb[64];
}  // namespace

#include "../core/freestanding/runtime.hpp"

extern "C" {
int kernel_main() {
    using namespace framealloc;
    const PhysicalMemoryRegion map[] = {
        PhysicalMemoryRegion::from_bytes(0x100000, 0x7f00000, MemoryRegionType::kFree).value()};
    memmap::NumaMemoryRange ranges[8] = {};
    unsigned count = 0;
    std::uint8_t cpu_nodes[4] = {kNoNode, kNoNode, kNoNode, kNoNode};
    int failures = 0;
    const auto memory = [&](const memmap::NumaMemoryRange& r) -> Status {
        if (count == 8) {
            return make_error(ErrorKind::kCapacityExhausted, "too many node ranges");
        }
        ranges[count++] = r;
        return {};
    };
    const auto cpu = [&](const memmap::NumaCpu& c) -> Status {
        if (c.id < 4 && c.node < 2) {
            cpu_nodes[c.id] = static_cast<std::uint8_t>(c.node);
        }
        return {};
    };
    failures += memmap::parse_srat(g_srat, sizeof(g_srat), memory, cpu) ? 0 : 1;
    failures += memmap::parse_fdt_numa(g_dtb, sizeof(g_dtb), memory, cpu,
                                       [](const memmap::NumaDistance&) { return Status{}; })
                    ? 0
                    : 1;
    std::uint8_t distances[4] = {};
    if (auto slit = memmap::parse_slit(g_slit, sizeof(g_slit))) {
        failures += slit->copy_to(distances) ? 0 : 1;
    }
    if (count == 0) {
        ranges[count++] = {0, 0x4000000, 0, false, false};
        ranges[count++] = {0x4000000, 0x4000000, 1, false, false};
    }
    GlobalFrameAllocator* nodes[2] = {&g_node0, &g_node1};
    for (std::uint32_t n = 0; n < 2; ++n) {
        memmap::RegionList<16> mine;
        failures += memmap::regions_on_node(map, Span<const memmap::NumaMemoryRange>(ranges, count),
                                            n, mine)
                        ? 0
                        : 1;
        failures += nodes[n]->init(mine.free_regions(), mine.reserved_regions()) ? 0 : 1;
    }
    failures += g_nodes.init(nodes, {}, cpu_nodes) ? 0 : 1;
    auto local = g_nodes.allocate_frames(4, NodeRequest::only(1));
    auto near = g_nodes.allocate(AllocRequest::frames(16).aligned(16));
    failures += local && near ? 0 : 1;
    failures += g_nodes.check() ? 0 : 1;
    return failures + static_cast<int>(g_nodes.stats().total.general.allocated_frames == 0);
}

void _start() {
    const int result = kernel_main();
    for (;;) {
        (void)result;
    }
}
}
