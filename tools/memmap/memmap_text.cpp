// The text readers behind parse_memory_map(): a tiny cursor over one line,
// one reader per format that rebuilds the firmware's binary entry from the
// printed line, and the driver that detects the format and collects regions.
// Readers return an error string instead of throwing so that a bad line is
// reported with its number rather than as a crash.
#include <algorithm>
#include <array>
#include <cctype>
#include <fstream>
#include <sstream>
#include <utility>

#include "fdt_builder.hpp"
#include "framealloc/memmap.hpp"
#include "memmap_text.hpp"

namespace framealloc::memmap_text {
namespace {

/// Reads numbers and literals from the front of one line.
class Cursor {
  public:
    explicit Cursor(std::string_view text) : rest_(text) {}

    void skip_space() {
        while (!rest_.empty() && std::isspace(static_cast<unsigned char>(rest_.front())) != 0) {
            rest_.remove_prefix(1);
        }
    }
    /// Consumes `literal` (after optional spaces) when it comes next.
    bool consume(std::string_view literal) {
        skip_space();
        if (rest_.substr(0, literal.size()) != literal) {
            return false;
        }
        rest_.remove_prefix(literal.size());
        return true;
    }
    /// A hexadecimal number; the 0x prefix is required unless `bare` is set.
    std::optional<std::uint64_t> hex(bool bare = false) {
        skip_space();
        if (rest_.size() >= 2 && rest_[0] == '0' && (rest_[1] == 'x' || rest_[1] == 'X')) {
            rest_.remove_prefix(2);
        } else if (!bare) {
            return std::nullopt;
        }
        return digits(16);
    }
    /// A number in C notation: 0x... hexadecimal, otherwise decimal.
    std::optional<std::uint64_t> number() {
        skip_space();
        if (rest_.size() >= 2 && rest_[0] == '0' && (rest_[1] == 'x' || rest_[1] == 'X')) {
            return hex();
        }
        return digits(10);
    }
    /// Everything up to (not including) the first `stop`, which is consumed.
    std::optional<std::string_view> until(char stop) {
        const std::size_t at = rest_.find(stop);
        if (at == std::string_view::npos) {
            return std::nullopt;
        }
        std::string_view taken = rest_.substr(0, at);
        rest_.remove_prefix(at + 1);
        return taken;
    }
    [[nodiscard]] std::string_view rest() const { return rest_; }

  private:
    std::optional<std::uint64_t> digits(unsigned base) {
        std::uint64_t value = 0;
        std::size_t count = 0;
        while (!rest_.empty()) {
            const char c = static_cast<char>(std::tolower(static_cast<unsigned char>(rest_[0])));
            unsigned digit = 0;
            if (c >= '0' && c <= '9') {
                digit = static_cast<unsigned>(c - '0');
            } else if (base == 16 && c >= 'a' && c <= 'f') {
                digit = static_cast<unsigned>(c - 'a' + 10);
            } else {
                break;
            }
            if (value > (~0ULL - digit) / base) {
                return std::nullopt;  // does not fit 64 bits
            }
            value = value * base + digit;
            rest_.remove_prefix(1);
            ++count;
        }
        if (count == 0) {
            return std::nullopt;
        }
        return value;
    }

    std::string_view rest_;
};

std::string_view trim(std::string_view s) {
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front())) != 0) {
        s.remove_prefix(1);
    }
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back())) != 0) {
        s.remove_suffix(1);
    }
    return s;
}

bool iequals(std::string_view a, std::string_view b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               return std::tolower(static_cast<unsigned char>(x)) ==
                      std::tolower(static_cast<unsigned char>(y));
           });
}

void put_le(unsigned char* out, std::uint64_t value, unsigned width) {
    for (unsigned i = 0; i < width; ++i) {
        out[i] = static_cast<unsigned char>(value >> (8 * i));
    }
}

/// Length of the inclusive range [start, end]; an error when it is reversed
/// or covers all 2^64 bytes (which no u64 length can express).
std::optional<std::string> inclusive_length(std::uint64_t start, std::uint64_t end,
                                            std::uint64_t& length) {
    if (end < start) {
        return "range ends before it starts";
    }
    length = end - start + 1;
    if (length == 0) {
        return "range covers the whole 64-bit space";
    }
    return std::nullopt;
}

/// Where parsed regions go; also counts map lines.
struct Collector {
    ParsedMap& map;
    Status operator()(const PhysicalMemoryRegion& region) const {
        (region.type == MemoryRegionType::kFree ? map.free : map.reserved).push_back(region);
        return {};
    }
};

std::optional<std::string> from_status(const Status& status) {
    if (status.ok()) {
        return std::nullopt;
    }
    return std::string(to_string(status.kind())) + ": " + status.error().message;
}

// --- e820 -------------------------------------------------------------------

std::optional<std::uint32_t> e820_type_from_name(std::string_view name) {
    name = trim(name);
    if (iequals(name, "usable"))
        return memmap::kE820Usable;
    if (iequals(name, "reserved"))
        return memmap::kE820Reserved;
    if (iequals(name, "ACPI data"))
        return memmap::kE820AcpiData;
    if (iequals(name, "ACPI NVS"))
        return memmap::kE820AcpiNvs;
    if (iequals(name, "unusable"))
        return memmap::kE820Unusable;
    if (iequals(name, "soft reserved"))
        return memmap::kE820SoftReserved;
    // "type 20" (numbers Linux has no name for) and "persistent (type 12)".
    Cursor c(name);
    if (c.consume("persistent (type") || c.consume("type")) {
        auto number = c.number();
        c.consume(")");
        if (number && *number <= 0xffffffffULL && trim(c.rest()).empty()) {
            return static_cast<std::uint32_t>(*number);
        }
    }
    return std::nullopt;
}

/// `BIOS-e820: [mem 0xSTART-0xEND] TYPE` (inclusive end), or the pre-3.x
/// `BIOS-e820: START - END (TYPE)` with bare hex and an exclusive end.
std::optional<std::string> read_e820_line(std::string_view line, ParsedMap& map) {
    Cursor c(line.substr(line.find("BIOS-e820:") + 10));
    std::uint64_t start = 0;
    std::uint64_t length = 0;
    std::optional<std::uint32_t> type;
    if (c.consume("[mem")) {
        auto s = c.hex();
        auto e = (s && c.consume("-")) ? c.hex() : std::nullopt;
        if (!e || !c.consume("]")) {
            return "expected [mem 0xSTART-0xEND]";
        }
        if (auto bad = inclusive_length(*s, *e, length)) {
            return bad;
        }
        start = *s;
        type = e820_type_from_name(c.rest());
    } else {
        auto s = c.hex(true);
        auto e = (s && c.consume("-")) ? c.hex(true) : std::nullopt;
        if (!e || !c.consume("(")) {
            return "expected [mem 0xSTART-0xEND] TYPE or START - END (TYPE)";
        }
        if (*e < *s) {
            return "range ends before it starts";
        }
        start = *s;
        length = *e - *s;
        auto name = c.until(')');
        type = name ? e820_type_from_name(*name) : std::nullopt;
    }
    if (!type) {
        return "unknown e820 type '" + std::string(trim(c.rest())) + "'";
    }
    std::array<unsigned char, memmap::kE820EntrySize> entry{};
    put_le(entry.data(), start, 8);
    put_le(entry.data() + 8, length, 8);
    put_le(entry.data() + 16, *type, 4);
    return from_status(
        memmap::parse_e820(entry.data(), entry.size(), entry.size(), Collector{map}));
}

// --- UEFI -------------------------------------------------------------------

std::optional<std::uint32_t> uefi_type_from_name(std::string_view name) {
    // Linux's long names (up to 5.x) and short names (later), by type number.
    static constexpr std::array<std::pair<std::string_view, std::string_view>, 16> kNames = {{
        {"Reserved", "Reserved"},
        {"Loader Code", "Loader Code"},
        {"Loader Data", "Loader Data"},
        {"Boot Code", "Boot Code"},
        {"Boot Data", "Boot Data"},
        {"Runtime Code", "Runtime Code"},
        {"Runtime Data", "Runtime Data"},
        {"Conventional Memory", "Conventional"},
        {"Unusable Memory", "Unusable"},
        {"ACPI Reclaim Memory", "ACPI Reclaim"},
        {"ACPI Memory NVS", "ACPI Mem NVS"},
        {"Memory Mapped I/O", "MMIO"},
        {"MMIO Port Space", "MMIO Port"},
        {"PAL Code", "PAL Code"},
        {"Persistent Memory", "Persistent"},
        {"Unaccepted Memory", "Unaccepted"},
    }};
    name = trim(name);
    for (std::size_t i = 0; i < kNames.size(); ++i) {
        if (iequals(name, kNames[i].first) || iequals(name, kNames[i].second)) {
            return static_cast<std::uint32_t>(i);
        }
    }
    Cursor c(name);
    if (c.consume("type=")) {
        auto number = c.number();
        if (number && *number <= 0xffffffffULL && trim(c.rest()).empty()) {
            return static_cast<std::uint32_t>(*number);
        }
    }
    return std::nullopt;
}

std::optional<std::uint64_t> uefi_attribute_from_name(std::string_view name) {
    static constexpr std::array<std::pair<std::string_view, std::uint64_t>, 14> kBits = {{
        {"RUN", memmap::kEfiMemoryRuntime},
        {"MR", memmap::kEfiMemoryMoreReliable},
        {"CC", memmap::kEfiMemoryCpuCrypto},
        {"SP", memmap::kEfiMemorySp},
        {"NV", memmap::kEfiMemoryNv},
        {"RO", memmap::kEfiMemoryRo},
        {"RP", memmap::kEfiMemoryRp},
        {"WP", memmap::kEfiMemoryWp},
        {"XP", memmap::kEfiMemoryXp},
        {"UCE", memmap::kEfiMemoryUce},
        {"WB", memmap::kEfiMemoryWb},
        {"WT", memmap::kEfiMemoryWt},
        {"WC", memmap::kEfiMemoryWc},
        {"UC", memmap::kEfiMemoryUc},
    }};
    for (const auto& [text, bit] : kBits) {
        if (name == text) {
            return bit;
        }
    }
    return std::nullopt;
}

/// `efi: memNN: [TYPE|attr|attr|...] range=[0xSTART-0xEND] (NMB)`; the end is
/// inclusive with `]` and exclusive with `)` (older kernels).
std::optional<std::string> read_uefi_line(std::string_view line, ParsedMap& map) {
    Cursor c(line.substr(line.find("efi: mem") + 8));
    if (!c.number() || !c.consume(":") || !c.consume("[")) {
        return "expected efi: memNN: [";
    }
    auto fields = c.until(']');
    if (!fields) {
        return "unterminated [type|attributes]";
    }
    Cursor f(*fields);
    auto type_name = f.until('|');
    auto type = uefi_type_from_name(type_name ? *type_name : *fields);
    if (!type) {
        return "unknown UEFI memory type '" + std::string(trim(type_name ? *type_name : *fields)) +
               "'";
    }
    std::uint64_t attribute = 0;
    for (std::string_view rest = type_name ? f.rest() : std::string_view{}; !rest.empty();) {
        const std::size_t bar = rest.find('|');
        const std::string_view field = trim(rest.substr(0, bar));
        rest = bar == std::string_view::npos ? std::string_view{} : rest.substr(bar + 1);
        if (field.empty()) {
            continue;
        }
        Cursor a(field);
        if (a.consume("attr=")) {
            auto value = a.hex();
            if (!value || !trim(a.rest()).empty()) {
                return "bad attr= value '" + std::string(field) + "'";
            }
            attribute |= *value;
        } else if (auto bit = uefi_attribute_from_name(field)) {
            attribute |= *bit;
        } else {
            return "unknown UEFI attribute '" + std::string(field) + "'";
        }
    }
    auto start = c.consume("range=[") ? c.hex() : std::nullopt;
    auto end = (start && c.consume("-")) ? c.hex() : std::nullopt;
    if (!end) {
        return "expected range=[0xSTART-0xEND]";
    }
    std::uint64_t length = 0;
    if (c.consume("]")) {
        if (auto bad = inclusive_length(*start, *end, length)) {
            return bad;
        }
    } else if (c.consume(")") && *end >= *start) {
        length = *end - *start;
    } else {
        return "expected ] or ) after the range";
    }
    if (*start % memmap::kEfiPageSize != 0 || length % memmap::kEfiPageSize != 0) {
        return "UEFI range is not made of whole 4 KiB pages";
    }
    // 48 bytes, as real firmware reports, so the stride is not assumed to be 40.
    std::array<unsigned char, 48> descriptor{};
    put_le(descriptor.data(), *type, 4);
    put_le(descriptor.data() + 8, *start, 8);
    put_le(descriptor.data() + 24, length / memmap::kEfiPageSize, 8);
    put_le(descriptor.data() + 32, attribute, 8);
    return from_status(memmap::parse_uefi(descriptor.data(), descriptor.size(), descriptor.size(),
                                          Collector{map}));
}

// --- Multiboot --------------------------------------------------------------

/// `size = 0x14, base_addr = 0x0, length = 0x9fc00, type = 0x1` (keys in any
/// order, `size` optional).
std::optional<std::string> read_multiboot_line(std::string_view line, ParsedMap& map) {
    std::optional<std::uint64_t> size;
    std::optional<std::uint64_t> base;
    std::optional<std::uint64_t> length;
    std::optional<std::uint64_t> type;
    std::string_view rest = line;
    while (!trim(rest).empty()) {
        const std::size_t comma = rest.find(',');
        Cursor c(rest.substr(0, comma));
        rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
        auto key = c.until('=');
        auto value = key ? c.number() : std::nullopt;
        if (!value || !trim(c.rest()).empty()) {
            return "expected key = number, got '" + std::string(trim(c.rest())) + "'";
        }
        const std::string_view name = trim(*key);
        if (name == "size") {
            size = value;
        } else if (name == "base_addr" || name == "addr") {
            base = value;
        } else if (name == "length" || name == "len") {
            length = value;
        } else if (name == "type") {
            type = value;
        } else {
            return "unknown multiboot field '" + std::string(name) + "'";
        }
    }
    if (!base || !length || !type) {
        return "a multiboot entry needs base_addr, length and type";
    }
    if (*type > 0xffffffffULL) {
        return "multiboot type does not fit 32 bits";
    }
    const std::uint64_t entry_size = size.value_or(memmap::kMultiboot1EntryMinSize);
    if (entry_size > 4096) {
        return "multiboot entry size is implausibly large";
    }
    // The leading size field does not count itself; a bad size is left for
    // the binary parser to reject, so both paths agree on what is an error.
    std::vector<unsigned char> entry(4 + std::max<std::uint64_t>(entry_size, 20), 0);
    put_le(entry.data(), entry_size, 4);
    put_le(entry.data() + 4, *base, 8);
    put_le(entry.data() + 12, *length, 8);
    put_le(entry.data() + 20, *type, 4);
    return from_status(memmap::parse_multiboot1_mmap(entry.data(), entry.size(), Collector{map}));
}

// --- Device tree --------------------------------------------------------------

/// The device-tree lines of a boot log, gathered into one blob at the end.
struct DtRanges {
    std::vector<std::pair<std::uint64_t, std::uint64_t>> memory;
    std::vector<std::pair<std::uint64_t, std::uint64_t>> reserved;
    std::vector<std::pair<std::uint64_t, std::uint64_t>> ignored;
};

enum class DtLine { kNone, kReserved, kMemoryNode, kIgnored };

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

// --- Driver -----------------------------------------------------------------

bool is_e820_line(std::string_view line) {
    return line.find("BIOS-e820:") != std::string_view::npos;
}

bool is_uefi_line(std::string_view line) {
    // "efi: mem12:" but not "efi: memattr:" and friends.
    const std::size_t at = line.find("efi: mem");
    if (at == std::string_view::npos) {
        return false;
    }
    Cursor c(line.substr(at + 8));
    return c.number().has_value() && c.consume(":");
}

bool is_multiboot_line(std::string_view line) {
    return line.find("base_addr") != std::string_view::npos;
}

template <typename Fn>
void for_each_line(std::string_view text, Fn&& fn) {
    std::size_t number = 0;
    while (!text.empty()) {
        const std::size_t newline = text.find('\n');
        std::string_view line = text.substr(0, newline);
        text = newline == std::string_view::npos ? std::string_view{} : text.substr(newline + 1);
        if (!line.empty() && line.back() == '\r') {
            line.remove_suffix(1);
        }
        ++number;
        if (trim(line).substr(0, 1) == "#") {
            continue;
        }
        if (!fn(number, line)) {
            return;
        }
    }
}

}  // namespace

const char* to_string(MapFormat format) {
    switch (format) {
        case MapFormat::kAuto:
            return "auto";
        case MapFormat::kE820:
            return "e820";
        case MapFormat::kUefi:
            return "uefi";
        case MapFormat::kMultiboot:
            return "multiboot";
        case MapFormat::kDeviceTree:
            return "dt";
    }
    return "unknown";
}

std::optional<MapFormat> format_from_name(std::string_view name) {
    if (iequals(name, "auto"))
        return MapFormat::kAuto;
    if (iequals(name, "e820"))
        return MapFormat::kE820;
    if (iequals(name, "uefi") || iequals(name, "efi"))
        return MapFormat::kUefi;
    if (iequals(name, "multiboot") || iequals(name, "mb"))
        return MapFormat::kMultiboot;
    if (iequals(name, "dt") || iequals(name, "devicetree") || iequals(name, "fdt")) {
        return MapFormat::kDeviceTree;
    }
    return std::nullopt;
}

std::optional<MapFormat> detect_format(std::string_view text) {
    bool e820 = false;
    bool uefi = false;
    bool multiboot = false;
    bool dt = false;
    for_each_line(text, [&](std::size_t, std::string_view line) {
        e820 = e820 || is_e820_line(line);
        uefi = uefi || is_uefi_line(line);
        multiboot = multiboot || is_multiboot_line(line);
        dt = dt || classify_dt_line(line) != DtLine::kNone;
        return true;
    });
    if (e820)
        return MapFormat::kE820;
    if (uefi)
        return MapFormat::kUefi;
    if (multiboot)
        return MapFormat::kMultiboot;
    if (dt)
        return MapFormat::kDeviceTree;
    return std::nullopt;
}

TextParseResult parse_memory_map(std::string_view text, MapFormat format) {
    if (format == MapFormat::kAuto) {
        auto detected = detect_format(text);
        if (!detected) {
            return ParseError{0, "no memory map lines found (not e820, UEFI, multiboot or DT)"};
        }
        format = *detected;
    }
    ParsedMap map;
    map.format = format;
    DtRanges dt;
    std::optional<ParseError> failure;
    for_each_line(text, [&](std::size_t number, std::string_view line) {
        std::optional<std::string> bad;
        bool is_entry = false;
        switch (format) {
            case MapFormat::kE820:
                if ((is_entry = is_e820_line(line)))
                    bad = read_e820_line(line, map);
                break;
            case MapFormat::kUefi:
                if ((is_entry = is_uefi_line(line)))
                    bad = read_uefi_line(line, map);
                break;
            case MapFormat::kMultiboot:
                if ((is_entry = is_multiboot_line(line)))
                    bad = read_multiboot_line(line, map);
                break;
            case MapFormat::kDeviceTree:
                if (const DtLine kind = classify_dt_line(line); kind != DtLine::kNone) {
                    is_entry = true;
                    bad = read_dt_line(line, kind, dt);
                }
                break;
            case MapFormat::kAuto:
                break;
        }
        map.entries += is_entry ? 1 : 0;
        if (bad) {
            failure = ParseError{number, *bad};
            return false;
        }
        return true;
    });
    if (failure) {
        return *failure;
    }
    if (map.entries == 0) {
        return ParseError{0, std::string("no ") + to_string(format) + " memory map lines found"};
    }
    if (format == MapFormat::kDeviceTree) {
        if (auto bad = parse_dt_blob(dt, map)) {
            return ParseError{0, *bad};
        }
    }
    return map;
}

TextParseResult parse_memory_map_file(const std::string& path, MapFormat format) {
    std::ifstream file(path, std::ios::binary);
    if (!file) {
        return ParseError{0, "cannot open file"};
    }
    std::ostringstream text;
    text << file.rdbuf();
    if (file.bad()) {
        return ParseError{0, "cannot read file"};
    }
    return parse_memory_map(text.str(), format);
}

}  // namespace framealloc::memmap_text
