// Readers for the x86 firmware map lines: Linux's BIOS-e820 and efi: memNN
// prints and the Multiboot dumps hobby kernels print. Each line becomes the
// binary entry the firmware produced (20-byte e820 entry, 48-byte UEFI
// descriptor, Multiboot 1 entry) and goes through the freestanding parser, so
// text and binary maps follow one set of rules.
#include <array>

#include "framealloc/memmap.hpp"
#include "text_util.hpp"

namespace framealloc::memmap_text::detail {
namespace {

// --- e820 -------------------------------------------------------------------

std::optional<std::uint32_t> e820_type_from_name(std::string_view name) {
    name = trim(name);
    if (iequals(name, "usable")) {
        return memmap::kE820Usable;
    }
    if (iequals(name, "reserved")) {
        return memmap::kE820Reserved;
    }
    if (iequals(name, "ACPI data")) {
        return memmap::kE820AcpiData;
    }
    if (iequals(name, "ACPI NVS")) {
        return memmap::kE820AcpiNvs;
    }
    if (iequals(name, "unusable")) {
        return memmap::kE820Unusable;
    }
    if (iequals(name, "soft reserved")) {
        return memmap::kE820SoftReserved;
    }
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

}  // namespace

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

namespace {

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

}  // namespace

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

}  // namespace framealloc::memmap_text::detail
