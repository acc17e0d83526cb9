// Readers for a device-tree boot log: `OF: reserved mem:` ranges, the
// `Early memory node ranges` banks and `Ignoring memory range` messages. The
// lines are rebuilt into a real flattened device tree (memory node,
// /reserved-memory children, reservation-block entries) which parse_fdt()
// then reads, so the text path exercises the binary FDT parser end to end.
#include <sstream>

#include "fdt_builder.hpp"
#include "framealloc/memmap.hpp"
#include "text_util.hpp"

namespace framealloc::memmap_text::detail {

// --- Device tree --------------------------------------------------------------

DtLine classify_dt_line(std::string_view line) {
    if (line.find("OF: reserved mem: 0x") != std::string_view::npos) {
        return DtLine::kReserved;
    }
    if (line.find("Ignoring memory range") != std::string_view::npos ||
        line.find("Ignoring memory block") != std::string_view::npos) {
        return DtLine::kIgnored;
    }
    Cursor c(line);
    if (c.consume("node") && c.number() && c.consume(":") && c.consume("[mem")) {
        return DtLine::kMemoryNode;
    }
    return DtLine::kNone;
}

std::optional<std::string> read_dt_line(std::string_view line, DtLine kind, DtRanges& ranges) {
    std::uint64_t length = 0;
    if (kind == DtLine::kReserved) {
        // OF: reserved mem: 0xSTART..0xEND (N KiB) flags name   (inclusive end)
        Cursor c(line.substr(line.find("OF: reserved mem:") + 17));
        auto s = c.hex();
        auto e = (s && c.consume("..")) ? c.hex() : std::nullopt;
        if (!e) {
            return "expected OF: reserved mem: 0xSTART..0xEND";
        }
        if (auto bad = inclusive_length(*s, *e, length)) {
            return bad;
        }
        ranges.reserved.emplace_back(*s, length);
    } else if (kind == DtLine::kIgnored) {
        // OF: fdt: Ignoring memory range 0xSTART - 0xEND   (exclusive end)
        Cursor c(line.substr(line.find("Ignoring memory ") + 16));
        c.consume("range");
        c.consume("block");
        auto s = c.hex();
        auto e = (s && c.consume("-")) ? c.hex() : std::nullopt;
        if (!e || *e < *s) {
            return "expected Ignoring memory range 0xSTART - 0xEND";
        }
        ranges.ignored.emplace_back(*s, *e - *s);
    } else {
        // node   N: [mem 0xSTART-0xEND]   (inclusive end)
        Cursor c(line);
        c.consume("node");
        (void)c.number();
        c.consume(":");
        c.consume("[mem");
        auto s = c.hex();
        auto e = (s && c.consume("-")) ? c.hex() : std::nullopt;
        if (!e || !c.consume("]")) {
            return "expected node N: [mem 0xSTART-0xEND]";
        }
        if (auto bad = inclusive_length(*s, *e, length)) {
            return bad;
        }
        ranges.memory.emplace_back(*s, length);
    }
    return std::nullopt;
}

/// Rebuilds the device tree the log came from: one memory node with every
/// bank, one /reserved-memory child per reservation, and the ranges the
/// kernel ignored as memory-reservation-block entries.
std::optional<std::string> parse_dt_blob(const DtRanges& ranges, ParsedMap& map) {
    FdtBuilder fdt;
    for (const auto& [start, length] : ranges.ignored) {
        fdt.add_reservation(start, length);
    }
    fdt.begin_node("");
    fdt.property_u32("#address-cells", 2);
    fdt.property_u32("#size-cells", 2);
    if (!ranges.memory.empty()) {
        std::ostringstream name;
        name << "memory@" << std::hex << ranges.memory.front().first;
        fdt.begin_node(name.str());
        fdt.property_string("device_type", "memory");
        std::vector<std::uint32_t> reg;
        for (const auto& [start, length] : ranges.memory) {
            FdtBuilder::append_cells(reg, start, 2);
            FdtBuilder::append_cells(reg, length, 2);
        }
        fdt.property_cells("reg", reg);
        fdt.end_node();
    }
    fdt.begin_node("reserved-memory");
    fdt.property_u32("#address-cells", 2);
    fdt.property_u32("#size-cells", 2);
    fdt.property("ranges", {});
    for (const auto& [start, length] : ranges.reserved) {
        std::ostringstream name;
        name << "region@" << std::hex << start;
        fdt.begin_node(name.str());
        std::vector<std::uint32_t> reg;
        FdtBuilder::append_cells(reg, start, 2);
        FdtBuilder::append_cells(reg, length, 2);
        fdt.property_cells("reg", reg);
        fdt.end_node();
    }
    fdt.end_node();
    const std::vector<std::uint8_t> blob = fdt.finish();
    return from_status(memmap::parse_fdt(blob.data(), blob.size(), Collector{map}));
}

}  // namespace framealloc::memmap_text::detail
