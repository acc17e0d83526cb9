// Readers for the maps people paste rather than boot logs: GRUB's `lsmmap`
// output and /proc/iomem dumps (bare tables are in table_lines.cpp), and
// emit_entries(), the step every pasted or live map ends with. Unlike
// boot-log lines these arrive with no kernel in between to sanitise them, so
// the rules are strict: an unknown type word, a range past 2^64 or two
// entries sharing a byte is an error naming the line. The entries are rebuilt
// as e820 or Multiboot 1 records and go through the same freestanding parsers
// as everything else.
#include <algorithm>
#include <array>
#include <cctype>
#include <limits>

#include "framealloc/memmap.hpp"
#include "text_util.hpp"

namespace framealloc::memmap_text::detail {
namespace {

constexpr std::uint64_t kMax = std::numeric_limits<std::uint64_t>::max();

std::string hex_string(std::uint64_t value) {
    static constexpr char kDigits[] = "0123456789abcdef";
    std::string out;
    do {
        out.insert(out.begin(), kDigits[value & 0xf]);
        value >>= 4;
    } while (value != 0);
    return "0x" + out;
}

std::string range_string(std::uint64_t first, std::uint64_t last) {
    return hex_string(first) + "-" + hex_string(last);
}

/// The comma-separated `key = value` fields of a GRUB or Multiboot line.
bool has_field(std::string_view line, std::string_view key) {
    while (!line.empty()) {
        const std::size_t comma = line.find(',');
        const std::string_view field = line.substr(0, comma);
        line = comma == std::string_view::npos ? std::string_view{} : line.substr(comma + 1);
        const std::size_t eq = field.find('=');
        if (eq != std::string_view::npos && trim(field.substr(0, eq)) == key) {
            return true;
        }
    }
    return false;
}

// GRUB's lsmmap names, by the GRUB memory type number they print (which is
// the e820 / Multiboot number). GRUB 2.02 and later print the long names;
// 1.98-2.00 printed the short ones, including the "reclamaible" typo.
constexpr std::array<TypeName, 16> kGrubNames = {{
    {"available RAM", 1},
    {"reserved RAM", 2},
    {"ACPI reclaimable RAM", 3},
    {"ACPI non-volatile storage RAM", 4},
    {"faulty RAM (BadRAM)", 5},
    {"persistent RAM", 7},
    {"persistent RAM (legacy)", 12},
    {"RAM holding coreboot tables", 16},
    {"RAM holding firmware code", 20},
    {"available", 1},
    {"reserved", 2},
    {"ACPI reclamaible", 3},
    {"ACPI reclaimable", 3},
    {"NVS", 4},
    {"BadRAM", 5},
    {"firmware code", 20},
}};

// Words hobby kernels print for the Multiboot types in bare tables, and

}  // namespace

// --- GRUB lsmmap ------------------------------------------------------------

bool is_grub_line(std::string_view line) {
    // Multiboot dumps print the same keys plus the entry's `size` field.
    return line.find("base_addr") != std::string_view::npos &&
           line.find("length") != std::string_view::npos && !has_field(line, "size");
}

std::optional<std::string> read_grub_line(std::string_view line, std::size_t number,
                                          std::vector<RawEntry>& out) {
    Cursor c(line.substr(line.find("base_addr")));
    auto base = (c.consume("base_addr") && c.consume("=")) ? c.hex() : std::nullopt;
    auto length =
        (base && c.consume(",") && c.consume("length") && c.consume("=")) ? c.hex() : std::nullopt;
    if (!length || !c.consume(",")) {
        return "expected base_addr = 0x..., length = 0x..., TYPE";
    }
    std::uint32_t type = 0;
    if (c.consume("type")) {
        auto value = c.consume("=") ? c.hex() : std::nullopt;
        if (!value || *value > 0xffffffffULL || !trim(c.rest()).empty()) {
            return "expected type = 0xN";
        }
        type = static_cast<std::uint32_t>(*value);
    } else if (auto named = lookup(kGrubNames, trim(c.rest()))) {
        type = *named;
    } else {
        return "unknown GRUB memory type '" + std::string(trim(c.rest())) + "'";
    }
    if (*length == 0) {
        return std::nullopt;
    }
    if (*base > kMax - (*length - 1)) {
        return "base_addr + length runs past 2^64";
    }
    out.push_back(RawEntry{*base, *base + (*length - 1), type, number});
    return std::nullopt;
}

// --- /proc/iomem --------------------------------------------------------------

bool is_iomem_line(std::string_view line) {
    Cursor c(line);
    return c.hex(true) && c.consume("-") && c.hex(true) && c.rest().substr(0, 3) == " : ";
}

std::optional<std::string> read_iomem_line(std::string_view line, std::size_t number,
                                           std::vector<RawEntry>& out, std::size_t& zero_lines) {
    const bool nested = !line.empty() && std::isspace(static_cast<unsigned char>(line[0])) != 0;
    Cursor c(line);
    auto start = c.hex(true);
    auto end = (start && c.consume("-")) ? c.hex(true) : std::nullopt;
    if (!end || !c.consume(":")) {
        return "expected START-END : NAME";
    }
    const std::string_view name = trim(c.rest());
    if (name.empty()) {
        return "resource without a name";
    }
    if (nested) {
        return std::nullopt;  // inside a top-level range: it does not change what that range is
    }
    if (*start == 0 && *end == 0) {
        // What Linux prints for every line to a reader without CAP_SYS_ADMIN,
        // and for unassigned windows ("PCI Bus") even to root.
        ++zero_lines;
        return std::nullopt;
    }
    if (*end < *start) {
        return "range ends before it starts";
    }
    const std::uint32_t type = name == "System RAM" ? memmap::kE820Usable : memmap::kE820Reserved;
    out.push_back(RawEntry{*start, *end, type, number});
    return std::nullopt;
}

// --- Entries to regions ---------------------------------------------------------

std::optional<ParseError> emit_entries(std::vector<RawEntry> entries, EntryParser parser,
                                       const char* unit, ParsedMap& map) {
    std::stable_sort(entries.begin(), entries.end(),
                     [](const RawEntry& x, const RawEntry& y) { return x.first < y.first; });
    for (std::size_t i = 1; i < entries.size(); ++i) {
        if (entries[i].first <= entries[i - 1].last) {
            const bool i_later = entries[i].line > entries[i - 1].line;
            const RawEntry& later = i_later ? entries[i] : entries[i - 1];
            const RawEntry& earlier = i_later ? entries[i - 1] : entries[i];
            return ParseError{later.line, range_string(later.first, later.last) + " overlaps " +
                                              unit + " " + std::to_string(earlier.line) + " (" +
                                              range_string(earlier.first, earlier.last) + ")"};
        }
    }
    // Two usable entries that touch are one run of RAM: joined, a frame
    // straddling their border stays usable (iomem splits RAM at setup_data).
    std::vector<RawEntry> joined;
    for (const RawEntry& e : entries) {
        const bool usable = e.type == 1;
        if (!joined.empty() && usable && joined.back().type == 1 && joined.back().last != kMax &&
            joined.back().last + 1 == e.first) {
            joined.back().last = e.last;
        } else {
            joined.push_back(e);
        }
    }
    for (const RawEntry& e : joined) {
        const std::uint64_t length = e.last - e.first + 1;  // 0 only for all 2^64 bytes
        if (length == 0) {
            return ParseError{e.line, "range covers the whole 64-bit space"};
        }
        std::optional<std::string> bad;
        if (parser == EntryParser::kE820) {
            std::array<unsigned char, memmap::kE820EntrySize> raw{};
            put_le(raw.data(), e.first, 8);
            put_le(raw.data() + 8, length, 8);
            put_le(raw.data() + 16, e.type, 4);
            bad =
                from_status(memmap::parse_e820(raw.data(), raw.size(), raw.size(), Collector{map}));
        } else {
            std::array<unsigned char, 24> raw{};
            put_le(raw.data(), 20, 4);
            put_le(raw.data() + 4, e.first, 8);
            put_le(raw.data() + 12, length, 8);
            put_le(raw.data() + 20, e.type, 4);
            bad =
                from_status(memmap::parse_multiboot1_mmap(raw.data(), raw.size(), Collector{map}));
        }
        if (bad) {
            return ParseError{e.line, *bad};
        }
    }
    return std::nullopt;
}

}  // namespace framealloc::memmap_text::detail
