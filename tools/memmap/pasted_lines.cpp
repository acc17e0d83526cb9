// Readers for the maps people paste rather than boot logs: GRUB's `lsmmap`
// output, /proc/iomem dumps and bare hex tables as hobby kernels print their
// Multiboot map. Unlike boot-log lines they arrive with no kernel in between
// to sanitise them, so the rules are strict: an unknown type word, a range
// past 2^64 or two entries sharing a byte is an error naming the line. The
// entries are rebuilt as e820 or Multiboot 1 records and go through the same
// freestanding parsers as everything else.
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
struct TypeName {
    std::string_view name;
    std::uint32_t type;
};
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
// Linux's "System RAM" for tables made from its maps.
constexpr std::array<TypeName, 23> kTableNames = {{
    {"usable", 1},
    {"system ram", 1},
    {"available", 1},
    {"free", 1},
    {"ram", 1},
    {"usable ram", 1},
    {"available ram", 1},
    {"reserved", 2},
    {"reserved ram", 2},
    {"acpi", 3},
    {"acpi data", 3},
    {"acpi reclaim", 3},
    {"acpi reclaimable", 3},
    {"acpi reclaimable ram", 3},
    {"acpi tables", 3},
    {"nvs", 4},
    {"acpi nvs", 4},
    {"acpi nvs ram", 4},
    {"acpi non-volatile storage", 4},
    {"bad", 5},
    {"bad memory", 5},
    {"badram", 5},
    {"unusable", 5},
}};

template <std::size_t N>
std::optional<std::uint32_t> lookup(const std::array<TypeName, N>& names, std::string_view word) {
    for (const TypeName& n : names) {
        if (iequals(n.name, word)) {
            return n.type;
        }
    }
    return std::nullopt;
}

/// A hex number as tables print it: 0x-prefixed, or bare with at least 8
/// digits (zero-padded), so that ordinary words like "add" or "bad" are not
/// taken for numbers.
std::optional<std::uint64_t> table_number(std::string_view token) {
    const bool prefixed =
        token.size() > 2 && token[0] == '0' && (token[1] == 'x' || token[1] == 'X');
    const std::string_view digits = prefixed ? token.substr(2) : token;
    if (!prefixed && digits.size() < 8) {
        return std::nullopt;
    }
    Cursor c(token);
    auto value = c.hex(true);
    if (!value || !c.rest().empty()) {
        return std::nullopt;
    }
    return value;
}

/// Splits a table line into cells: by '|' when the line has one (Markdown
/// tables), else by whitespace with the third cell taking the rest of the
/// line (type names can have spaces).
std::vector<std::string_view> table_cells(std::string_view line) {
    std::vector<std::string_view> cells;
    if (line.find('|') != std::string_view::npos) {
        for (std::string_view rest = line; !rest.empty();) {
            const std::size_t bar = rest.find('|');
            const std::string_view cell = trim(rest.substr(0, bar));
            rest = bar == std::string_view::npos ? std::string_view{} : rest.substr(bar + 1);
            if (!cell.empty()) {
                cells.push_back(cell);
            }
        }
        return cells;
    }
    std::string_view rest = trim(line);
    for (int i = 0; i < 2 && !rest.empty(); ++i) {
        std::size_t end = 0;
        while (end < rest.size() && std::isspace(static_cast<unsigned char>(rest[end])) == 0) {
            ++end;
        }
        cells.push_back(rest.substr(0, end));
        rest = trim(rest.substr(end));
    }
    if (!rest.empty()) {
        cells.push_back(rest);
    }
    return cells;
}

/// A table's type cell: a number ("1", "0x2"), a name ("Usable"), or both
/// ("1 (usable)", "2 reserved") when they agree on usable versus not.
std::optional<std::string> table_type(std::string_view cell, std::uint32_t& type) {
    Cursor c(cell);
    std::optional<std::uint64_t> number;
    if (!cell.empty() && std::isdigit(static_cast<unsigned char>(cell.front())) != 0) {
        number = c.number();
        if (!number || *number > 0xffffffffULL) {
            return "type number '" + std::string(cell) + "' does not fit 32 bits";
        }
    }
    std::string_view word = trim(number ? c.rest() : cell);
    if (word.size() >= 2 && word.front() == '(' && word.back() == ')') {
        word = trim(word.substr(1, word.size() - 2));
    }
    std::optional<std::uint32_t> named;
    if (!word.empty()) {
        named = lookup(kTableNames, word);
        if (!named) {
            return "unknown memory type '" + std::string(word) + "'";
        }
    }
    if (number && named && (*number == 1) != (*named == 1)) {
        return "type " + std::to_string(*number) + " contradicts its name '" + std::string(word) +
               "'";
    }
    type = number ? static_cast<std::uint32_t>(*number) : *named;
    return std::nullopt;
}

/// Reads `rows` as `columns`. `strict_parity` (only when guessing) also
/// rejects an inclusive end that is even or an exclusive end that is odd:
/// firmware ranges start and end on even addresses, so an inclusive end is
/// always ...1, 3, ..., f and an exclusive one ...0, 2, ..., e.
std::optional<ParseError> rows_to_entries(const std::vector<TableRow>& rows, TableColumns columns,
                                          bool strict_parity, std::vector<RawEntry>& out) {
    out.clear();
    for (const TableRow& row : rows) {
        RawEntry e{row.a, 0, row.type, row.line};
        switch (columns) {
            case TableColumns::kBaseLength:
                if (row.b == 0) {
                    continue;  // an empty entry describes nothing
                }
                if (row.a > kMax - (row.b - 1)) {
                    return ParseError{row.line, "base + length runs past 2^64"};
                }
                e.last = row.a + (row.b - 1);
                break;
            case TableColumns::kStartEnd:
                if (row.b < row.a) {
                    return ParseError{row.line, "end is below start"};
                }
                if (strict_parity && row.b % 2 == 0) {
                    return ParseError{row.line, "an inclusive end would be odd"};
                }
                e.last = row.b;
                break;
            case TableColumns::kStartEndExclusive:
                if (row.b < row.a) {
                    return ParseError{row.line, "end is below start"};
                }
                if (strict_parity && row.b % 2 == 1) {
                    return ParseError{row.line, "an exclusive end would be even"};
                }
                if (row.b == row.a) {
                    continue;
                }
                e.last = row.b - 1;
                break;
            case TableColumns::kAuto:
                return ParseError{row.line, "no column layout"};
        }
        out.push_back(e);
    }
    std::vector<RawEntry> sorted = out;
    std::sort(sorted.begin(), sorted.end(),
              [](const RawEntry& x, const RawEntry& y) { return x.first < y.first; });
    for (std::size_t i = 1; i < sorted.size(); ++i) {
        if (sorted[i].first <= sorted[i - 1].last) {
            const RawEntry& later = sorted[i].line > sorted[i - 1].line ? sorted[i] : sorted[i - 1];
            const RawEntry& earlier =
                sorted[i].line > sorted[i - 1].line ? sorted[i - 1] : sorted[i];
            return ParseError{later.line, "overlaps line " + std::to_string(earlier.line)};
        }
    }
    return std::nullopt;
}

const char* layout_words(TableColumns columns) {
    switch (columns) {
        case TableColumns::kBaseLength:
            return "base + length";
        case TableColumns::kStartEnd:
            return "start + inclusive end";
        case TableColumns::kStartEndExclusive:
            return "start + exclusive end";
        case TableColumns::kAuto:
            break;
    }
    return "auto";
}

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

// --- Bare tables --------------------------------------------------------------

bool is_table_line(std::string_view line) {
    const std::vector<std::string_view> cells = table_cells(line);
    return cells.size() >= 3 && table_number(cells[0]) && table_number(cells[1]);
}

std::optional<std::string> read_table_row(std::string_view line, std::size_t number,
                                          std::vector<TableRow>& out) {
    const std::vector<std::string_view> cells = table_cells(line);
    if (cells.size() < 3) {
        return "expected two hex columns and a type";
    }
    auto a = table_number(cells[0]);
    auto b = table_number(cells[1]);
    if (!a || !b) {
        return "expected two hex columns (0x..., or 8 or more digits) and a type";
    }
    TableRow row{*a, *b, 0, number};
    if (auto bad = table_type(cells[2], row.type)) {
        return bad;
    }
    out.push_back(row);
    return std::nullopt;
}

std::optional<TableColumns> table_header(std::string_view line) {
    // Words only: "Base Address  Length  Type", "| start | end | type |".
    std::vector<std::string> words;
    std::string word;
    for (const char ch : std::string(line) + " ") {
        if (std::isalpha(static_cast<unsigned char>(ch)) != 0) {
            word.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(ch))));
        } else if (std::isdigit(static_cast<unsigned char>(ch)) != 0) {
            return std::nullopt;
        } else if (!word.empty()) {
            if (word != "address" && word != "addr") {
                words.push_back(word);
            } else if (words.empty()) {
                words.push_back("base");  // "Address  Length  Type"
            }
            word.clear();
        }
    }
    if (words.size() < 3 || (words[0] != "base" && words[0] != "start" && words[0] != "begin") ||
        words[2] != "type") {
        return std::nullopt;
    }
    if (words[1] == "length" || words[1] == "len" || words[1] == "size") {
        return TableColumns::kBaseLength;
    }
    if (words[1] == "end") {
        return TableColumns::kStartEnd;
    }
    return std::nullopt;
}

std::optional<ParseError> resolve_table(const std::vector<TableRow>& rows, TableColumns requested,
                                        TableColumns header, std::vector<RawEntry>& out,
                                        TableColumns& chosen) {
    if (requested != TableColumns::kAuto) {
        chosen = requested;
        if (auto bad = rows_to_entries(rows, requested, false, out)) {
            bad->message = std::string("as ") + layout_words(requested) + ": " + bad->message;
            return bad;
        }
        return std::nullopt;
    }
    std::vector<TableColumns> candidates;
    if (header == TableColumns::kBaseLength) {
        candidates = {TableColumns::kBaseLength};
    } else if (header == TableColumns::kStartEnd) {
        candidates = {TableColumns::kStartEnd, TableColumns::kStartEndExclusive};
    } else {
        candidates = {TableColumns::kBaseLength, TableColumns::kStartEnd,
                      TableColumns::kStartEndExclusive};
    }
    std::vector<TableColumns> fits;
    std::vector<std::pair<TableColumns, ParseError>> misfits;
    std::vector<RawEntry> entries;
    for (const TableColumns layout : candidates) {
        if (auto bad = rows_to_entries(rows, layout, true, entries)) {
            misfits.emplace_back(layout, *bad);
        } else {
            fits.push_back(layout);
        }
    }
    const char* how =
        " (add a header line such as 'base length type' or 'start end type', or "
        "pass --columns base-length, start-end or start-end-exclusive)";
    if (fits.size() == 1) {
        chosen = fits.front();
        return rows_to_entries(rows, chosen, true, out);
    }
    if (fits.empty()) {
        // Report where the reading that got furthest broke, and why each failed.
        std::size_t line = 0;
        std::string message = header == TableColumns::kAuto
                                  ? "no column layout fits the table:"
                                  : "the table's header does not fit its rows:";
        for (const auto& [layout, error] : misfits) {
            line = std::max(line, error.line);
            message += std::string(" as ") + layout_words(layout) + ", line " +
                       std::to_string(error.line) + ": " + error.message + ";";
        }
        message.pop_back();
        return ParseError{line, message + how};
    }
    std::string message = "the table is ambiguous: every row reads as";
    for (std::size_t i = 0; i < fits.size(); ++i) {
        message += std::string(i == 0 ? " " : " and as ") + layout_words(fits[i]);
    }
    return ParseError{0, message + how};
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
