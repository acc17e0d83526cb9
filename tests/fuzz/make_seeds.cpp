// Seed corpora for the parser fuzz targets, made from the real boot logs in
// ../shared/memmaps: each log is read with the text reader, and the regions
// it gives are written back out in every binary format a parser takes (e820
// with 20- and 24-byte entries, UEFI descriptors, a Multiboot 1 mmap buffer,
// a whole Multiboot 2 information structure, a device tree blob; for the
// NUMA readers an SRAT and a device tree with numa-node-id splitting the map
// into two nodes, and SLITs), plus the log itself for the text target. Each file starts the way its
// target reads it (e820 and UEFI targets take a selector byte first).
//   framealloc_fuzz_seeds MEMMAPS_DIR OUT_DIR
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "acpi_builder.hpp"
#include "fdt_builder.hpp"
#include "memmap_text.hpp"

namespace fs = std::filesystem;
using framealloc::MemoryRegionType;
using framealloc::PhysicalMemoryRegion;
using framealloc::memmap_text::FdtBuilder;

namespace {

class Out {
  public:
    void u8(std::uint8_t v) { bytes.push_back(v); }
    void u32(std::uint32_t v) { le(v, 4); }
    void u64(std::uint64_t v) { le(v, 8); }
    void pad_to(std::size_t multiple) {
        while (bytes.size() % multiple != 0) {
            bytes.push_back(0);
        }
    }
    void le(std::uint64_t v, unsigned width) {
        for (unsigned i = 0; i < width; ++i) {
            bytes.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
        }
    }
    std::vector<std::uint8_t> bytes;
};

struct Range {
    std::uint64_t start;
    std::uint64_t size;
    bool free;
};

std::vector<Range> ranges_of(const framealloc::memmap_text::ParsedMap& map) {
    std::vector<Range> out;
    for (const auto* list : {&map.free, &map.reserved}) {
        for (const PhysicalMemoryRegion& r : *list) {
            out.push_back(Range{r.frames.start().start_address().value(), r.frames.size_in_bytes(),
                                r.type == MemoryRegionType::kFree});
        }
    }
    return out;
}

void write(const fs::path& dir, const std::string& name, const std::vector<std::uint8_t>& bytes) {
    fs::create_directories(dir);
    std::ofstream(dir / name, std::ios::binary)
        .write(reinterpret_cast<const char*>(bytes.data()),
               static_cast<std::streamsize>(bytes.size()));
}

std::vector<std::uint8_t> e820(const std::vector<Range>& ranges, bool extended) {
    Out o;
    o.u8(extended ? 1 : 0);
    for (const Range& r : ranges) {
        o.u64(r.start);
        o.u64(r.size);
        o.u32(r.free ? 1 : 2);
        if (extended) {
            o.u32(1);  // ACPI 3.0 "enabled"
        }
    }
    return o.bytes;
}

std::vector<std::uint8_t> uefi(const std::vector<Range>& ranges) {
    Out o;
    o.u8(8);  // stride 48, what current firmware reports
    for (const Range& r : ranges) {
        o.u32(r.free ? 7 : 0);  // EfiConventionalMemory / EfiReservedMemoryType
        o.u32(0);
        o.u64(r.start);
        o.u64(0);
        o.u64(r.size / 4096);
        o.u64(0xF);  // UC | WC | WT | WB
        o.u64(0);
    }
    return o.bytes;
}

std::vector<std::uint8_t> multiboot1(const std::vector<Range>& ranges) {
    Out o;
    for (const Range& r : ranges) {
        o.u32(20);
        o.u64(r.start);
        o.u64(r.size);
        o.u32(r.free ? 1 : 2);
    }
    return o.bytes;
}

std::vector<std::uint8_t> multiboot2(const std::vector<Range>& ranges) {
    Out o;
    o.u32(0);  // total_size, patched below
    o.u32(0);
    o.u32(6);  // memory map tag
    o.u32(static_cast<std::uint32_t>(16 + 24 * ranges.size()));
    o.u32(24);
    o.u32(0);
    for (const Range& r : ranges) {
        o.u64(r.start);
        o.u64(r.size);
        o.u32(r.free ? 1 : 2);
        o.u32(0);
    }
    o.pad_to(8);
    o.u32(0);  // end tag
    o.u32(8);
    const auto total = static_cast<std::uint32_t>(o.bytes.size());
    for (unsigned i = 0; i < 4; ++i) {
        o.bytes[i] = static_cast<std::uint8_t>(total >> (8 * i));
    }
    return o.bytes;
}

std::vector<std::uint8_t> fdt(const std::vector<Range>& ranges) {
    FdtBuilder b;
    b.begin_node("");
    b.property_u32("#address-cells", 2);
    b.property_u32("#size-cells", 2);
    std::vector<std::uint32_t> reg;
    for (const Range& r : ranges) {
        if (r.free) {
            FdtBuilder::append_cells(reg, r.start, 2);
            FdtBuilder::append_cells(reg, r.size, 2);
        }
    }
    if (!reg.empty()) {
        b.begin_node("memory@0");
        b.property_string("device_type", "memory");
        b.property_cells("reg", reg);
        b.end_node();
    }
    b.begin_node("reserved-memory");
    b.property_u32("#address-cells", 2);
    b.property_u32("#size-cells", 2);
    b.property("ranges", {});
    int n = 0;
    for (const Range& r : ranges) {
        if (!r.free) {
            b.begin_node("region@" + std::to_string(n++));
            std::vector<std::uint32_t> cells;
            FdtBuilder::append_cells(cells, r.start, 2);
            FdtBuilder::append_cells(cells, r.size, 2);
            b.property_cells("reg", cells);
            b.end_node();
        }
    }
    b.end_node();
    return b.finish();
}

// The node of a range when a map is split in two at `boundary`.
std::uint32_t node_of(const Range& r, std::uint64_t boundary) {
    return r.start < boundary ? 0 : 1;
}

std::uint64_t middle(const std::vector<Range>& ranges) {
    std::uint64_t top = 0;
    for (const Range& r : ranges) {
        if (r.free && r.start + r.size > top) {
            top = r.start + r.size;
        }
    }
    return (top / 2) & ~std::uint64_t{0xfff};
}

std::vector<std::uint8_t> srat(const std::vector<Range>& ranges) {
    const std::uint64_t boundary = middle(ranges);
    framealloc::memmap_text::SratBuilder b;
    b.local_apic(0, 0);
    b.local_apic(1, 1);
    b.x2apic(0x100, 1);
    for (const Range& r : ranges) {
        if (r.free) {
            b.memory(r.start, r.size, node_of(r, boundary));
        }
    }
    b.memory(1ULL << 40, 1ULL << 30, 1, true, true);
    return b.finish();
}

std::vector<std::uint8_t> fdt_numa(const std::vector<Range>& ranges) {
    const std::uint64_t boundary = middle(ranges);
    FdtBuilder b;
    b.begin_node("");
    b.property_u32("#address-cells", 2);
    b.property_u32("#size-cells", 2);
    b.begin_node("cpus");
    b.property_u32("#address-cells", 1);
    b.property_u32("#size-cells", 0);
    for (std::uint32_t cpu = 0; cpu < 2; ++cpu) {
        b.begin_node("cpu@" + std::to_string(cpu));
        b.property_string("device_type", "cpu");
        b.property_cells("reg", {cpu});
        b.property_u32("numa-node-id", cpu);
        b.end_node();
    }
    b.end_node();
    for (std::uint32_t node = 0; node < 2; ++node) {
        std::vector<std::uint32_t> reg;
        for (const Range& r : ranges) {
            if (r.free && node_of(r, boundary) == node) {
                FdtBuilder::append_cells(reg, r.start, 2);
                FdtBuilder::append_cells(reg, r.size, 2);
            }
        }
        if (!reg.empty()) {
            b.begin_node("memory@" + std::to_string(node));
            b.property_string("device_type", "memory");
            b.property_cells("reg", reg);
            b.property_u32("numa-node-id", node);
            b.end_node();
        }
    }
    b.begin_node("distance-map");
    b.property_string("compatible", "numa-distance-map-v1");
    b.property_cells("distance-matrix", {0, 0, 10, 0, 1, 20, 1, 0, 20, 1, 1, 10});
    b.end_node();
    b.end_node();
    return b.finish();
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 3) {
        std::fprintf(stderr, "usage: %s MEMMAPS_DIR OUT_DIR\n", argv[0]);
        return 2;
    }
    const fs::path out = argv[2];
    int written = 0;
    for (const auto& entry : fs::directory_iterator(argv[1])) {
        if (entry.path().extension() != ".txt") {
            continue;
        }
        const auto parsed = framealloc::memmap_text::parse_memory_map_file(entry.path().string());
        if (!parsed.ok()) {
            std::fprintf(stderr, "%s: %s\n", entry.path().c_str(), parsed.error().message.c_str());
            return 1;
        }
        const std::string name = entry.path().stem().string();
        const auto ranges = ranges_of(parsed.map());
        fs::create_directories(out / "text");
        fs::copy_file(entry.path(), out / "text" / name, fs::copy_options::overwrite_existing);
        write(out / "e820", name, e820(ranges, false));
        write(out / "e820", name + "-ext", e820(ranges, true));
        write(out / "uefi", name, uefi(ranges));
        write(out / "multiboot1", name, multiboot1(ranges));
        write(out / "multiboot2", name, multiboot2(ranges));
        write(out / "fdt", name, fdt(ranges));
        write(out / "srat", name, srat(ranges));
        write(out / "fdt_numa", name, fdt_numa(ranges));
        ++written;
    }
    // SLITs do not depend on a map: one, two and four localities.
    write(out / "slit", "one", framealloc::memmap_text::build_slit(1, {10}));
    write(out / "slit", "two", framealloc::memmap_text::build_slit(2, {10, 20, 20, 10}));
    write(out / "slit", "four-ring",
          framealloc::memmap_text::build_slit(
              4, {10, 21, 31, 21, 21, 10, 21, 31, 31, 21, 10, 21, 21, 31, 21, 10}));
    std::printf("seed corpora from %d maps in %s\n", written, out.c_str());
    return written > 0 ? 0 : 1;
}
