// The driver behind parse_memory_map(): it detects the format, hands each
// line to that format's reader (firmware_lines.cpp, dt_lines.cpp,
// pasted_lines.cpp) and turns a reader's complaint into a ParseError carrying
// the line number. Readers return an error string instead of throwing so a
// bad line is reported, not a crash.
#include <cctype>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <utility>

#include "memmap_text.hpp"
#include "text_util.hpp"

namespace framealloc::memmap_text {

using detail::classify_dt_line;
using detail::DtLine;
using detail::DtRanges;
using detail::emit_entries;
using detail::EntryParser;
using detail::iequals;
using detail::is_e820_line;
using detail::is_grub_line;
using detail::is_iomem_line;
using detail::is_multiboot_line;
using detail::is_table_line;
using detail::is_uefi_line;
using detail::parse_dt_blob;
using detail::RawEntry;
using detail::read_dt_line;
using detail::read_e820_line;
using detail::read_grub_line;
using detail::read_iomem_line;
using detail::read_multiboot_line;
using detail::read_table_row;
using detail::read_uefi_line;
using detail::resolve_table;
using detail::table_header;
using detail::TableRow;
using detail::trim;

namespace {

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
        case MapFormat::kGrub:
            return "grub";
        case MapFormat::kIomem:
            return "iomem";
        case MapFormat::kTable:
            return "table";
        case MapFormat::kSysfs:
            return "sysfs";
    }
    return "unknown";
}

std::optional<MapFormat> format_from_name(std::string_view name) {
    static constexpr std::pair<std::string_view, MapFormat> kNames[] = {
        {"auto", MapFormat::kAuto},           {"e820", MapFormat::kE820},
        {"uefi", MapFormat::kUefi},           {"efi", MapFormat::kUefi},
        {"multiboot", MapFormat::kMultiboot}, {"mb", MapFormat::kMultiboot},
        {"dt", MapFormat::kDeviceTree},       {"devicetree", MapFormat::kDeviceTree},
        {"fdt", MapFormat::kDeviceTree},      {"grub", MapFormat::kGrub},
        {"lsmmap", MapFormat::kGrub},         {"iomem", MapFormat::kIomem},
        {"table", MapFormat::kTable},         {"sysfs", MapFormat::kSysfs},
    };
    for (const auto& [text, format] : kNames) {
        if (iequals(name, text)) {
            return format;
        }
    }
    return std::nullopt;
}

const char* to_string(TableColumns columns) {
    switch (columns) {
        case TableColumns::kAuto:
            return "auto";
        case TableColumns::kBaseLength:
            return "base-length";
        case TableColumns::kStartEnd:
            return "start-end";
        case TableColumns::kStartEndExclusive:
            return "start-end-exclusive";
    }
    return "unknown";
}

std::optional<TableColumns> columns_from_name(std::string_view name) {
    for (const TableColumns c : {TableColumns::kAuto, TableColumns::kBaseLength,
                                 TableColumns::kStartEnd, TableColumns::kStartEndExclusive}) {
        if (iequals(name, to_string(c))) {
            return c;
        }
    }
    return std::nullopt;
}

namespace {

/// The format one line belongs to, if any. GRUB is tried before Multiboot
/// (both print base_addr; only Multiboot dumps have a size field).
std::optional<MapFormat> line_format(std::string_view line) {
    if (is_e820_line(line)) {
        return MapFormat::kE820;
    }
    if (is_uefi_line(line)) {
        return MapFormat::kUefi;
    }
    if (is_grub_line(line)) {
        return MapFormat::kGrub;
    }
    if (is_multiboot_line(line)) {
        return MapFormat::kMultiboot;
    }
    if (classify_dt_line(line) != DtLine::kNone) {
        return MapFormat::kDeviceTree;
    }
    if (is_iomem_line(line)) {
        return MapFormat::kIomem;
    }
    if (is_table_line(line)) {
        return MapFormat::kTable;
    }
    return std::nullopt;
}

bool is_pasted(MapFormat format) {
    return format == MapFormat::kGrub || format == MapFormat::kIomem || format == MapFormat::kTable;
}

/// detect_format() with the reason when there is no answer.
std::variant<MapFormat, ParseError> detect(std::string_view text) {
    std::optional<MapFormat> first;
    std::size_t first_line = 0;
    std::optional<std::pair<std::size_t, MapFormat>> other;  // first line of a second format
    bool pasted = false;
    bool seen[9] = {};
    for_each_line(text, [&](std::size_t number, std::string_view line) {
        const auto format = line_format(line);
        if (!format) {
            return true;
        }
        if (!first) {
            first = format;
            first_line = number;
        } else if (*format != *first && !other) {
            other = std::make_pair(number, *format);
        }
        pasted = pasted || is_pasted(*format);
        seen[static_cast<int>(*format)] = true;
        return true;
    });
    if (!first) {
        return ParseError{
            0, "no memory map lines found (not e820, UEFI, multiboot, DT, GRUB, iomem or a table)"};
    }
    if (pasted && other) {
        // A boot log may mix e820 and efi: lines; a pasted map is one thing.
        return ParseError{other->first, std::string("this is a ") + to_string(other->second) +
                                            " line, but line " + std::to_string(first_line) +
                                            " made this a " + to_string(*first) +
                                            " map: one file must hold one format"};
    }
    for (const MapFormat f :
         {MapFormat::kE820, MapFormat::kUefi, MapFormat::kMultiboot, MapFormat::kDeviceTree}) {
        if (seen[static_cast<int>(f)]) {
            return f;
        }
    }
    return *first;
}

}  // namespace

std::optional<MapFormat> detect_format(std::string_view text) {
    const auto detected = detect(text);
    if (const MapFormat* format = std::get_if<MapFormat>(&detected)) {
        return *format;
    }
    return std::nullopt;
}

TextParseResult parse_memory_map(std::string_view text, MapFormat format) {
    ParseOptions options;
    options.format = format;
    return parse_memory_map(text, options);
}

TextParseResult parse_memory_map(std::string_view text, const ParseOptions& options) {
    MapFormat format = options.format;
    if (format == MapFormat::kSysfs) {
        return ParseError{0, "a sysfs map is a directory, not text (use read_sysfs_memmap)"};
    }
    if (format == MapFormat::kAuto) {
        auto detected = detect(text);
        if (const ParseError* error = std::get_if<ParseError>(&detected)) {
            return *error;
        }
        format = std::get<MapFormat>(detected);
    }
    ParsedMap map;
    map.format = format;
    DtRanges dt;
    std::vector<RawEntry> raw;
    std::vector<TableRow> rows;
    TableColumns header = TableColumns::kAuto;
    std::size_t zero_lines = 0;
    std::optional<ParseError> failure;
    for_each_line(text, [&](std::size_t number, std::string_view line) {
        std::optional<std::string> bad;
        bool is_entry = false;
        switch (format) {
            case MapFormat::kE820:
                is_entry = is_e820_line(line);
                bad = is_entry ? read_e820_line(line, map) : std::nullopt;
                break;
            case MapFormat::kUefi:
                is_entry = is_uefi_line(line);
                bad = is_entry ? read_uefi_line(line, map) : std::nullopt;
                break;
            case MapFormat::kMultiboot:
                is_entry = is_multiboot_line(line);
                bad = is_entry ? read_multiboot_line(line, map) : std::nullopt;
                break;
            case MapFormat::kDeviceTree:
                if (const DtLine kind = classify_dt_line(line); kind != DtLine::kNone) {
                    is_entry = true;
                    bad = read_dt_line(line, kind, dt);
                }
                break;
            case MapFormat::kGrub:
                is_entry = is_grub_line(line);
                bad = is_entry ? read_grub_line(line, number, raw) : std::nullopt;
                break;
            case MapFormat::kIomem:
                // Nested lines belong to the dump but are not entries.
                if (is_iomem_line(line)) {
                    is_entry = std::isspace(static_cast<unsigned char>(line[0])) == 0;
                    bad = read_iomem_line(line, number, raw, zero_lines);
                }
                break;
            case MapFormat::kTable:
                is_entry = is_table_line(line);
                if (is_entry) {
                    bad = read_table_row(line, number, rows);
                } else if (auto named = rows.empty() ? table_header(line) : std::nullopt) {
                    header = *named;
                }
                break;
            case MapFormat::kAuto:
            case MapFormat::kSysfs:
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
    switch (format) {
        case MapFormat::kDeviceTree:
            if (auto bad = parse_dt_blob(dt, map)) {
                return ParseError{0, *bad};
            }
            break;
        case MapFormat::kIomem:
            if (raw.empty() && zero_lines != 0) {
                ParseError hidden{0,
                                  "every address is zero: Linux shows /proc/iomem that way to "
                                  "readers without CAP_SYS_ADMIN (read it as root)"};
                hidden.unreadable = true;
                return hidden;
            }
            if (auto bad = emit_entries(raw, EntryParser::kE820, "line", map)) {
                return *bad;
            }
            break;
        case MapFormat::kTable:
            if (auto bad = resolve_table(rows, options.columns, header, raw, map.columns)) {
                return *bad;
            }
            [[fallthrough]];
        case MapFormat::kGrub:
            if (auto bad = emit_entries(raw, EntryParser::kMultiboot, "line", map)) {
                return *bad;
            }
            break;
        default:
            break;
    }
    return map;
}

namespace {

// A file that cannot be opened or read: the message names the file and the
// OS reason.
ParseError file_error(std::string message) {
    ParseError error{0, std::move(message)};
    error.io_error = true;
    error.unreadable = true;
    return error;
}

}  // namespace

TextParseResult parse_memory_map_file(const std::string& path, MapFormat format) {
    ParseOptions options;
    options.format = format;
    return parse_memory_map_file(path, options);
}

TextParseResult parse_memory_map_file(const std::string& path, const ParseOptions& options) {
    std::error_code ec;
    if (std::filesystem::is_directory(path, ec)) {
        return file_error("cannot read '" + path + "': " + std::strerror(EISDIR));
    }
    errno = 0;
    std::ifstream file(path, std::ios::binary);
    if (!file) {
        return file_error("cannot open '" + path + "': " + std::strerror(errno));
    }
    std::ostringstream text;
    text << file.rdbuf();
    if (file.bad()) {
        return file_error("cannot read '" + path + "': " + std::strerror(errno));
    }
    return parse_memory_map(text.str(), options);
}

}  // namespace framealloc::memmap_text
