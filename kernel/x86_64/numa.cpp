// NUMA set-up: SRAT/SLIT -> dense nodes -> one allocator per node -> NodeSet.
#include "numa.hpp"

#include "acpi.hpp"
#include "console.hpp"
#include "framealloc/framealloc.hpp"
#include "framealloc/memmap/node_regions.hpp"
#include "framealloc/memmap/slit.hpp"
#include "framealloc/memmap/srat.hpp"

namespace kernel::numa {
namespace {

namespace fm = framealloc::memmap;
using framealloc::PhysicalAddress;

constexpr std::uint64_t kFourGiB = std::uint64_t{4} << 30;
constexpr std::size_t kMaxSratCpus = 64;

constinit KernelFrameAllocator node_allocator[kMaxNodes];
constinit NodeAllocators node_set;
constinit Layout the_layout;

// What the SRAT said, before the domains are made dense.
struct SratContents {
    fm::NumaMemoryRange ranges[kMaxRanges];
    std::size_t range_count = 0;
    fm::NumaCpu cpus[kMaxSratCpus];
    std::size_t cpu_count = 0;
};

[[noreturn]] void fail(const char* step, const framealloc::Error& error) {
    kpanic("numa: %s: %s (%s)", step, framealloc::to_string(error.kind), error.message);
}

void check(const framealloc::Status& status, const char* step) {
    if (!status) {
        fail(step, status.error());
    }
}

// The dense id of `domain`, adding it when new; kNoNode when the set is full.
std::uint8_t dense_node(std::uint32_t domain) {
    for (unsigned i = 0; i < the_layout.node_count; ++i) {
        if (the_layout.domain[i] == domain) {
            return static_cast<std::uint8_t>(i);
        }
    }
    if (the_layout.node_count == kMaxNodes) {
        return framealloc::kNoNode;
    }
    the_layout.domain[the_layout.node_count] = domain;
    return static_cast<std::uint8_t>(the_layout.node_count++);
}

std::uint32_t boot_cpu_apic_id() {
    std::uint32_t eax = 1;
    std::uint32_t ebx = 0;
    std::uint32_t ecx = 0;
    std::uint32_t edx = 0;
    asm volatile("cpuid" : "+a"(eax), "=b"(ebx), "+c"(ecx), "=d"(edx));
    return ebx >> 24;
}

void read_srat(SratContents& srat) {
    const acpi::TableHeader* table = acpi::find_table("SRAT");
    if (table == nullptr) {
        kpanic("numa: no ACPI SRAT (boot QEMU with -numa node,...)");
    }
    check(fm::parse_srat(
              table, table->length,
              [&](const fm::NumaMemoryRange& r) -> framealloc::Status {
                  if (srat.range_count == kMaxRanges) {
                      return framealloc::make_error(framealloc::ErrorKind::kCapacityExhausted,
                                                    "more SRAT memory ranges than kMaxRanges");
                  }
                  srat.ranges[srat.range_count++] = r;
                  return {};
              },
              [&](const fm::NumaCpu& c) -> framealloc::Status {
                  if (srat.cpu_count == kMaxSratCpus) {
                      return framealloc::make_error(framealloc::ErrorKind::kCapacityExhausted,
                                                    "more SRAT CPUs than this kernel reads");
                  }
                  srat.cpus[srat.cpu_count++] = c;
                  return {};
              }),
          "parsing the SRAT");
}

// Dense node ids in ascending domain order, then the ranges the node
// allocators own: each SRAT range cut to kBootPoolEnd and above.
void make_nodes_dense(const SratContents& srat) {
    std::uint32_t lowest_unseen = 0;
    for (;;) {
        bool found = false;
        std::uint32_t next = 0;
        auto consider = [&](std::uint32_t domain) {
            if (domain >= lowest_unseen && (!found || domain < next)) {
                next = domain;
                found = true;
            }
        };
        for (std::size_t i = 0; i < srat.range_count; ++i) {
            consider(srat.ranges[i].node);
        }
        for (std::size_t i = 0; i < srat.cpu_count; ++i) {
            consider(srat.cpus[i].node);
        }
        if (!found) {
            break;
        }
        if (dense_node(next) == framealloc::kNoNode) {
            kpanic("numa: more than %u proximity domains", kMaxNodes);
        }
        if (next == ~std::uint32_t{0}) {
            break;
        }
        lowest_unseen = next + 1;
    }
    for (std::size_t i = 0; i < srat.range_count; ++i) {
        fm::NumaMemoryRange r = srat.ranges[i];
        const std::uint64_t end = r.base + r.length;  // parse_srat rejects wrapping ranges
        if (end <= kBootPoolEnd) {
            continue;
        }
        if (r.base < kBootPoolEnd) {
            r.length = end - kBootPoolEnd;
            r.base = kBootPoolEnd;
        }
        if (end > kFourGiB) {
            // The boot identity map and the kernel's page tables (sized from
            // the kernel allocator's share) reach only 4 GiB in this mode.
            kpanic("numa: node memory above 4 GiB is not supported by the NUMA boot");
        }
        r.node = dense_node(r.node);
        the_layout.ranges[the_layout.range_count++] = r;
    }
}

// Kernel CPU indices in start-up order (smp::start_all_cpus): the boot CPU,
// then the MADT's CPUs in table order.
void map_cpus(const SratContents& srat) {
    acpi::MadtCpus madt;
    const char* why = nullptr;
    if (!acpi::read_madt_cpus(&madt, &why)) {
        kpanic("numa: %s", why);
    }
    auto node_of_apic = [&](std::uint32_t apic) -> std::uint8_t {
        for (std::size_t i = 0; i < srat.cpu_count; ++i) {
            if (srat.cpus[i].id == apic) {
                return dense_node(srat.cpus[i].node);
            }
        }
        return framealloc::kNoNode;
    };
    const std::uint32_t bsp = boot_cpu_apic_id();
    the_layout.cpu_apic[0] = bsp;
    the_layout.cpu_node[0] = node_of_apic(bsp);
    the_layout.cpu_count = 1;
    for (std::size_t i = 0; i < madt.count && the_layout.cpu_count < kMaxCpus; ++i) {
        const std::uint32_t apic = madt.apic_ids[i];
        if (apic == bsp || apic > 0xfe) {
            continue;  // the boot CPU, or one smp.cpp leaves off
        }
        the_layout.cpu_apic[the_layout.cpu_count] = apic;
        the_layout.cpu_node[the_layout.cpu_count] = node_of_apic(apic);
        ++the_layout.cpu_count;
    }
}

void read_slit() {
    const unsigned n = the_layout.node_count;
    for (unsigned i = 0; i < n; ++i) {
        for (unsigned j = 0; j < n; ++j) {
            the_layout.distance[i * n + j] =
                i == j ? framealloc::kLocalDistance : framealloc::kDefaultRemoteDistance;
        }
    }
    const acpi::TableHeader* table = acpi::find_table("SLIT");
    if (table == nullptr) {
        kprintf("framealloc-kernel: numa: no SLIT, remote distance %u assumed\n",
                framealloc::kDefaultRemoteDistance);
        return;
    }
    auto matrix = fm::parse_slit(table, table->length);
    if (!matrix) {
        fail("parsing the SLIT", matrix.error());
    }
    // The SLIT is indexed by proximity domain; the node set by dense id.
    for (unsigned i = 0; i < n; ++i) {
        for (unsigned j = 0; j < n; ++j) {
            if (the_layout.domain[i] >= matrix->localities ||
                the_layout.domain[j] >= matrix->localities) {
                kpanic("numa: SLIT has %lu localities, SRAT names domain %u",
                       static_cast<unsigned long>(matrix->localities),
                       the_layout.domain[i] > the_layout.domain[j] ? the_layout.domain[i]
                                                                   : the_layout.domain[j]);
            }
            the_layout.distance[i * n + j] =
                matrix->distance(the_layout.domain[i], the_layout.domain[j]);
        }
    }
    the_layout.have_slit = true;
}

void init_node(unsigned node, const BootRegions& regions) {
    static BootRegions mine;
    mine = BootRegions{};
    const framealloc::Span<const fm::NumaMemoryRange> ranges(the_layout.ranges,
                                                             the_layout.range_count);
    check(fm::regions_on_node(regions.free_regions(), ranges, node, mine),
          "splitting the free regions");
    check(fm::regions_on_node(regions.reserved_regions(), ranges, node, mine),
          "splitting the reserved regions");
    if (mine.free_regions().empty()) {
        kpanic("numa: node %u has no usable memory above the boot pool", node);
    }
    // The metadata comes from this node's own free frames (the only free
    // regions this allocator sees), below 4 GiB where the boot identity map
    // reaches.
    framealloc::MetadataPlacement placement;
    placement.direct_map_offset = 0;
    placement.lowest = PhysicalAddress::new_canonical(kBootPoolEnd);
    placement.highest = PhysicalAddress::new_canonical(kFourGiB - 1);
    auto init = node_allocator[node].init_carving_metadata(mine.free_regions(),
                                                           mine.reserved_regions(), placement);
    if (!init) {
        fail("node allocator init", init.error());
    }
    // The metadata was carved from the free regions this allocator was given,
    // all of them this node's: it shows up as its only allocated frames.
    const framealloc::FrameStats st = node_allocator[node].stats();
    if (st.general.allocated_frames != (st.metadata_bytes + 4095) / 4096) {
        kpanic("numa: node %u: %lu frames allocated after init, metadata is %lu bytes", node,
               st.general.allocated_frames, static_cast<unsigned long>(st.metadata_bytes));
    }
}

void print_cpu_list(unsigned node) {
    bool any = false;
    for (unsigned cpu = 0; cpu < the_layout.cpu_count; ++cpu) {
        if (the_layout.cpu_node[cpu] != node) {
            continue;
        }
        // Runs of consecutive indices as a-b.
        if (cpu > 0 && the_layout.cpu_node[cpu - 1] == node) {
            if (cpu + 1 == the_layout.cpu_count || the_layout.cpu_node[cpu + 1] != node) {
                kprintf("-%u", cpu);
            }
            continue;
        }
        kprintf("%s%u", any ? "," : "", cpu);
        any = true;
    }
    if (!any) {
        kprintf("none");
    }
}

void print_layout() {
    const unsigned n = the_layout.node_count;
    for (std::size_t i = 0; i < the_layout.range_count; ++i) {
        const fm::NumaMemoryRange& r = the_layout.ranges[i];
        kprintf("framealloc-kernel: numa: node %u (domain %u) owns [0x%lx - 0x%lx)%s\n", r.node,
                the_layout.domain[r.node], r.base, r.base + r.length,
                r.hot_pluggable ? " hot-pluggable" : "");
    }
    for (unsigned node = 0; node < n; ++node) {
        const framealloc::FrameStats st = node_allocator[node].stats();
        kprintf(
            "framealloc-kernel: numa: node %u: %lu frames (%lu free, metadata %lu bytes), cpus ",
            node, st.general.total_frames, st.general.free_frames,
            static_cast<unsigned long>(st.metadata_bytes));
        print_cpu_list(node);
        kprintf(", distances");
        for (unsigned j = 0; j < n; ++j) {
            kprintf(" %u", the_layout.distance[node * n + j]);
        }
        kprintf("\n");
    }
}

}  // namespace

void init(BootRegions& regions) {
    static SratContents srat;
    read_srat(srat);
    make_nodes_dense(srat);
    if (the_layout.node_count == 0) {
        kpanic("numa: the SRAT names no proximity domain");
    }
    map_cpus(srat);
    read_slit();
    kprintf(
        "framealloc-kernel: numa: SRAT: %zu memory ranges, %zu CPUs, %u nodes; SLIT %s; the "
        "kernel's allocator keeps RAM below 0x%lx\n",
        srat.range_count, srat.cpu_count, the_layout.node_count,
        the_layout.have_slit ? "read" : "absent", kBootPoolEnd);

    KernelFrameAllocator* per_node[kMaxNodes] = {};
    for (unsigned node = 0; node < the_layout.node_count; ++node) {
        init_node(node, regions);
        per_node[node] = &node_allocator[node];
    }
    const std::size_t n = the_layout.node_count;
    check(node_set.init(
              framealloc::Span<KernelFrameAllocator* const>(per_node, n),
              framealloc::Span<const std::uint8_t>(the_layout.distance, n * n),
              framealloc::Span<const std::uint8_t>(the_layout.cpu_node, the_layout.cpu_count)),
          "node set init");
    print_layout();

    // The kernel allocator's share: everything below kBootPoolEnd.
    static BootRegions kernel_share;
    const fm::NumaMemoryRange boot_pool{0, kBootPoolEnd, 0, false, false};
    const framealloc::Span<const fm::NumaMemoryRange> pool(&boot_pool, 1);
    check(fm::regions_on_node(regions.free_regions(), pool, 0, kernel_share),
          "cutting the boot pool's free regions");
    check(fm::regions_on_node(regions.reserved_regions(), pool, 0, kernel_share),
          "cutting the boot pool's reserved regions");
    regions = kernel_share;
}

NodeAllocators& nodes() {
    return node_set;
}

const Layout& layout() {
    return the_layout;
}

bool in_node(unsigned node, std::uint64_t first_byte, std::uint64_t last_byte) {
    for (std::size_t i = 0; i < the_layout.range_count; ++i) {
        const fm::NumaMemoryRange& r = the_layout.ranges[i];
        if (r.node == node && first_byte >= r.base && last_byte <= r.base + (r.length - 1)) {
            return true;
        }
    }
    return false;
}

void verify_cpus(unsigned online) {
    if (online != the_layout.cpu_count) {
        kpanic("numa: %u CPUs online, the MADT predicted %u", online, the_layout.cpu_count);
    }
    for (unsigned cpu = 0; cpu < online; ++cpu) {
        if (cpu_local(cpu).apic_id != the_layout.cpu_apic[cpu]) {
            kpanic("numa: cpu %u has APIC id %u, the node table assumed %u", cpu,
                   cpu_local(cpu).apic_id, the_layout.cpu_apic[cpu]);
        }
    }
}

}  // namespace kernel::numa
