// The built-in machine and the bridge to tools/memmap's text readers. The
// built-in map is data, not generated: it is modelled on the e820 table a
// 16 GiB AMD desktop printed (shared/memmaps/e820-desktop-msi-1.txt), keeping
// the awkward parts real firmware has -- a one-frame usable island between
// reserved ranges, ACPI NVS/data, and RAM remapped above the PCI hole.
#include "machine_map.hpp"

#include <algorithm>

#if FRAMEALLOC_SIM_HAVE_MEMMAP
#include "memmap_text.hpp"
#endif

namespace framealloc::sim {
namespace {

struct BuiltinEntry {
    std::uint64_t first;
    std::uint64_t last;
    bool usable;
    const char* name;
};

// Gaps between entries are holes the firmware does not describe at all:
// 0xA0000-0xDFFFF (VGA window and option ROMs) and 0xBFF00000-0xFEBFFFFF
// (the PCI hole, where a framebuffer BAR such as 0xE0000000 lives).
constexpr BuiltinEntry kDesktop16G[] = {
    {0x0000000000000000, 0x000000000009EFFF, true, "low memory"},
    {0x000000000009F000, 0x000000000009FFFF, false, "EBDA"},
    {0x00000000000E0000, 0x00000000000FFFFF, false, "BIOS ROM"},
    {0x0000000000100000, 0x00000000BEED7FFF, true, "RAM below 4G"},
    {0x00000000BEED8000, 0x00000000BEF59FFF, false, "ACPI NVS"},
    {0x00000000BEF5A000, 0x00000000BF03AFFF, false, "firmware"},
    {0x00000000BF03B000, 0x00000000BF042FFF, false, "ACPI data"},
    {0x00000000BF043000, 0x00000000BF2A8FFF, false, "firmware"},
    {0x00000000BF2A9000, 0x00000000BF2A9FFF, true, "usable"},
    {0x00000000BF2AA000, 0x00000000BF2B9FFF, false, "firmware"},
    {0x00000000BF2BA000, 0x00000000BF2BAFFF, false, "ACPI NVS"},
    {0x00000000BF2BB000, 0x00000000BF2BBFFF, true, "usable"},
    {0x00000000BF2BC000, 0x00000000BF4F1FFF, false, "ACPI NVS"},
    {0x00000000BF4F2000, 0x00000000BF779FFF, true, "usable"},
    {0x00000000BF77A000, 0x00000000BFEEBFFF, false, "firmware"},
    {0x00000000BFEEC000, 0x00000000BFEFFFFF, true, "usable"},
    {0x00000000FEC00000, 0x00000000FEC00FFF, false, "IOAPIC"},
    {0x00000000FED00000, 0x00000000FED00FFF, false, "HPET"},
    {0x00000000FEE00000, 0x00000000FEE00FFF, false, "local APIC"},
    {0x00000000FF000000, 0x00000000FFFFFFFF, false, "BIOS flash"},
    {0x0000000100000000, 0x000000043FFFFFFF, true, "RAM above 4G"},
};

void add_region(MachineMap& map, std::uint64_t first, std::uint64_t last, bool usable) {
    const MemoryRegionType type = usable ? MemoryRegionType::kFree : MemoryRegionType::kReserved;
    auto region = PhysicalMemoryRegion::from_bytes(first, last - first + 1, type);
    if (region && !region.value().frames.is_empty()) {
        (usable ? map.free : map.reserved).push_back(region.value());
    }
}

}  // namespace

MachineMap builtin_map() {
    MachineMap map;
    map.description = "built-in 16 GiB x86 desktop (legacy BIOS e820)";
    for (const BuiltinEntry& e : kDesktop16G) {
        map.entries.push_back(
            NamedRange{e.first, e.last,
                       e.usable ? MemoryRegionType::kFree : MemoryRegionType::kReserved, e.name});
        add_region(map, e.first, e.last, e.usable);
    }
    return map;
}

MachineMap builtin_two_node_map() {
    MachineMap map = builtin_map();
    map.description = "built-in 2-node x86 server (the 16 GiB desktop map split at 9 GiB)";
    constexpr std::uint64_t kSplit = 9ULL << 30;
    constexpr std::uint64_t kTop = 0x440000000ULL;  // the end of RAM above 4G
    map.node_count = 2;
    map.node_ranges = {{0, kSplit, 0, false, false}, {kSplit, kTop - kSplit, 1, false, false}};
    map.distances = {10, 21, 21, 10};
    for (unsigned cpu = 0; cpu < kMapCpus; ++cpu) {
        map.cpu_nodes.push_back(static_cast<std::uint8_t>((cpu / 2) % 2));
    }
    return map;
}

bool map_files_supported() {
    return FRAMEALLOC_SIM_HAVE_MEMMAP != 0;
}

bool load_map_file(const std::string& path, MachineMap& map, std::string& error) {
    return load_map(path, "", map, error);
}

bool load_map(const std::string& spec, const std::string& columns, MachineMap& map,
              std::string& error) {
    if (spec == kTwoNodeMap) {
        map = builtin_two_node_map();
        return true;
    }
#if FRAMEALLOC_SIM_HAVE_MEMMAP
    memmap_text::ParseOptions options;
    if (!columns.empty()) {
        const auto layout = memmap_text::columns_from_name(columns);
        if (!layout) {
            error =
                "--columns '" + columns + "' is not base-length, start-end or start-end-exclusive";
            return false;
        }
        options.columns = *layout;
    }
    const bool this_machine = spec == kThisMachine;
    const memmap_text::TextParseResult parsed =
        this_machine ? memmap_text::read_this_machine()
                     : memmap_text::parse_memory_map_file(spec, options);
    if (!parsed.ok()) {
        // One format with the rest of the tool: the OS reason for a file that
        // cannot be read, FILE:LINE: for a line at fault, FILE: otherwise.
        const memmap_text::ParseError& e = parsed.error();
        if (this_machine) {
            error = "this machine: " + e.message;
        } else if (e.io_error) {
            error = e.message;
        } else if (e.line != 0) {
            error = spec + ":" + std::to_string(e.line) + ": " + e.message;
        } else {
            error = spec + ": " + e.message;
        }
        return false;
    }
    const memmap_text::ParsedMap& pm = parsed.map();
    map = MachineMap{};
    map.description = (this_machine ? "this machine, from " + pm.source : spec) + " (" +
                      memmap_text::to_string(pm.format) + ", " + std::to_string(pm.entries) +
                      " entries)";
    map.free = pm.free;
    map.reserved = pm.reserved;
    for (const auto* list : {&pm.free, &pm.reserved}) {
        for (const PhysicalMemoryRegion& r : *list) {
            if (r.frames.is_empty()) {
                continue;
            }
            const bool usable = r.type == MemoryRegionType::kFree;
            map.entries.push_back(NamedRange{r.frames.start().start_address().value(),
                                             r.frames.end().start_address().value() + 0xFFF, r.type,
                                             usable ? "usable" : "reserved"});
        }
    }
    std::sort(map.entries.begin(), map.entries.end(),
              [](const NamedRange& a, const NamedRange& b) { return a.first < b.first; });
    return true;
#else
    (void)map;
    (void)columns;
    error = spec + ": memory-map files are not supported in this build (tools/memmap missing)";
    return false;
#endif
}

std::uint64_t usable_frames(const MachineMap& map, std::uint64_t limit_frame) {
    // Frame-level set arithmetic on merged intervals: reserved wins over free.
    using Interval = std::pair<std::uint64_t, std::uint64_t>;
    const auto merged = [](const std::vector<PhysicalMemoryRegion>& regions) {
        std::vector<Interval> in;
        for (const auto& r : regions) {
            if (!r.frames.is_empty()) {
                in.emplace_back(r.frames.start().number(), r.frames.end().number());
            }
        }
        std::sort(in.begin(), in.end());
        std::vector<Interval> out;
        for (const Interval& i : in) {
            if (!out.empty() && i.first <= out.back().second + 1) {
                out.back().second = std::max(out.back().second, i.second);
            } else {
                out.push_back(i);
            }
        }
        return out;
    };
    const std::vector<Interval> free = merged(map.free);
    const std::vector<Interval> reserved = merged(map.reserved);
    std::uint64_t total = 0;
    for (Interval f : free) {
        if (f.first >= limit_frame) {
            break;
        }
        f.second = std::min(f.second, limit_frame - 1);
        std::uint64_t count = f.second - f.first + 1;
        for (const Interval& r : reserved) {
            const std::uint64_t lo = std::max(f.first, r.first);
            const std::uint64_t hi = std::min(f.second, r.second);
            if (lo <= hi) {
                count -= hi - lo + 1;
            }
        }
        total += count;
    }
    return total;
}

}  // namespace framealloc::sim
