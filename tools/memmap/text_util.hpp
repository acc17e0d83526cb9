// Internals shared by the text readers (not installed, not public API): a
// cursor over one line of text, small string helpers, and the sink that
// collects what the freestanding parsers emit. Readers report problems as an
// error string so the driver can attach the line number.
#pragma once

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "framealloc/region.hpp"
#include "framealloc/result.hpp"
#include "memmap_text.hpp"

namespace framealloc::memmap_text::detail {

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

inline std::string_view trim(std::string_view s) {
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front())) != 0) {
        s.remove_prefix(1);
    }
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back())) != 0) {
        s.remove_suffix(1);
    }
    return s;
}

inline bool iequals(std::string_view a, std::string_view b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               return std::tolower(static_cast<unsigned char>(x)) ==
                      std::tolower(static_cast<unsigned char>(y));
           });
}

/// A type word a map prints and the firmware type number it stands for.
struct TypeName {
    std::string_view name;
    std::uint32_t type;
};

/// The number `word` names in `names` (case-insensitively), if any.
template <std::size_t N>
std::optional<std::uint32_t> lookup(const std::array<TypeName, N>& names, std::string_view word) {
    for (const TypeName& n : names) {
        if (iequals(n.name, word)) {
            return n.type;
        }
    }
    return std::nullopt;
}

inline void put_le(unsigned char* out, std::uint64_t value, unsigned width) {
    for (unsigned i = 0; i < width; ++i) {
        out[i] = static_cast<unsigned char>(value >> (8 * i));
    }
}

/// Length of the inclusive range [start, end]; an error when it is reversed
/// or covers all 2^64 bytes (which no u64 length can express).
inline std::optional<std::string> inclusive_length(std::uint64_t start, std::uint64_t end,
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

inline std::optional<std::string> from_status(const Status& status) {
    if (status.ok()) {
        return std::nullopt;
    }
    return std::string(to_string(status.kind())) + ": " + status.error().message;
}

// Per-format line readers. Each returns nothing on success or the reason the
// line is malformed; is_*_line() say whether a line belongs to that format.
[[nodiscard]] bool is_e820_line(std::string_view line);
[[nodiscard]] bool is_uefi_line(std::string_view line);
[[nodiscard]] bool is_multiboot_line(std::string_view line);
[[nodiscard]] std::optional<std::string> read_e820_line(std::string_view line, ParsedMap& map);
[[nodiscard]] std::optional<std::string> read_uefi_line(std::string_view line, ParsedMap& map);
[[nodiscard]] std::optional<std::string> read_multiboot_line(std::string_view line, ParsedMap& map);

/// The device-tree lines of a boot log, gathered into one blob at the end.
struct DtRanges {
    std::vector<std::pair<std::uint64_t, std::uint64_t>> memory;
    std::vector<std::pair<std::uint64_t, std::uint64_t>> reserved;
    std::vector<std::pair<std::uint64_t, std::uint64_t>> ignored;
};

enum class DtLine { kNone, kReserved, kMemoryNode, kIgnored };

[[nodiscard]] DtLine classify_dt_line(std::string_view line);
[[nodiscard]] std::optional<std::string> read_dt_line(std::string_view line, DtLine kind,
                                                      DtRanges& ranges);
/// Rebuilds the device tree the log came from and parses it with parse_fdt().
[[nodiscard]] std::optional<std::string> parse_dt_blob(const DtRanges& ranges, ParsedMap& map);

// --- Pasted maps: GRUB lsmmap, /proc/iomem (pasted_lines.cpp), bare tables
// (table_lines.cpp), and the entries both end in (pasted_lines.cpp) ---

/// One range of a GRUB, iomem, table or sysfs map before a binary parser sees
/// it: bytes [first, last] inclusive, the firmware type number (e820 and
/// Multiboot share the numbering: 1 is usable RAM), and the 1-based line (for
/// sysfs, the entry number) it came from.
struct RawEntry {
    std::uint64_t first = 0;
    std::uint64_t last = 0;
    std::uint32_t type = 0;
    std::size_t line = 0;
};

/// A bare-table row before its column layout is known.
struct TableRow {
    std::uint64_t a = 0;
    std::uint64_t b = 0;
    std::uint32_t type = 0;
    std::size_t line = 0;
};

[[nodiscard]] bool is_grub_line(std::string_view line);
/// Any /proc/iomem line, nested or not.
[[nodiscard]] bool is_iomem_line(std::string_view line);
[[nodiscard]] bool is_table_line(std::string_view line);

/// `base_addr = 0x.., length = 0x.., NAME` or `..., type = 0xN`.
[[nodiscard]] std::optional<std::string> read_grub_line(std::string_view line, std::size_t number,
                                                        std::vector<RawEntry>& out);
/// `START-END : NAME`; nested (indented) lines are checked and skipped.
/// `zero_lines` counts top-level lines whose addresses are both zero.
[[nodiscard]] std::optional<std::string> read_iomem_line(std::string_view line, std::size_t number,
                                                         std::vector<RawEntry>& out,
                                                         std::size_t& zero_lines);
[[nodiscard]] std::optional<std::string> read_table_row(std::string_view line, std::size_t number,
                                                        std::vector<TableRow>& out);
/// The layout a header line such as "base length type" or "| Start | End |"
/// names (kStartEnd stands for either start/end reading); nothing when the
/// line is not a header.
[[nodiscard]] std::optional<TableColumns> table_header(std::string_view line);
/// Turns table rows into entries. `requested` (from the caller) wins; else
/// the header's layout, else every layout, is tried and exactly one must fit.
/// `chosen` is the layout used.
[[nodiscard]] std::optional<ParseError> resolve_table(const std::vector<TableRow>& rows,
                                                      TableColumns requested, TableColumns header,
                                                      std::vector<RawEntry>& out,
                                                      TableColumns& chosen);

/// Which binary parser the entries are rebuilt for: e820 for Linux's own
/// views (iomem, sysfs), Multiboot 1 for GRUB and bare tables.
enum class EntryParser { kE820, kMultiboot };
/// Rejects two entries that share a byte (the later line is reported, with
/// the earlier one in the message; `unit` is "line" or "entry"), joins
/// touching usable entries so a frame split between two of them is not lost,
/// and feeds the result through the binary parser into `map`.
[[nodiscard]] std::optional<ParseError> emit_entries(std::vector<RawEntry> entries,
                                                     EntryParser parser, const char* unit,
                                                     ParsedMap& map);

}  // namespace framealloc::memmap_text::detail
