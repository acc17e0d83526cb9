// Bare tables of hex columns, as hobby kernels print their Multiboot map:
// `base length type` or `start end type`, with or without a header, cells
// split by spaces or by '|' as in a Markdown table. Which reading the columns
// take is decided from the data where only one fits (resolve_table()); when
// more than one does, the caller must say, and the error tells how.
#include <algorithm>
#include <array>
#include <cctype>
#include <limits>

#include "text_util.hpp"

namespace framealloc::memmap_text::detail {
namespace {

constexpr std::uint64_t kMax = std::numeric_limits<std::uint64_t>::max();

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

}  // namespace framealloc::memmap_text::detail
