// The driver behind parse_memory_map(): it detects the format, hands each
// line to that format's reader (firmware_lines.cpp, dt_lines.cpp) and turns a
// reader's complaint into a ParseError carrying the line number. Readers
// return an error string instead of throwing so a bad line is reported, not
// a crash.
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "memmap_text.hpp"
#include "text_util.hpp"

namespace framealloc::memmap_text {

using detail::classify_dt_line;
using detail::DtLine;
using detail::DtRanges;
using detail::iequals;
using detail::is_e820_line;
using detail::is_multiboot_line;
using detail::is_uefi_line;
using detail::parse_dt_blob;
using detail::read_dt_line;
using detail::read_e820_line;
using detail::read_multiboot_line;
using detail::read_uefi_line;
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
    }
    return "unknown";
}

std::optional<MapFormat> format_from_name(std::string_view name) {
    if (iequals(name, "auto")) {
        return MapFormat::kAuto;
    }
    if (iequals(name, "e820")) {
        return MapFormat::kE820;
    }
    if (iequals(name, "uefi") || iequals(name, "efi")) {
        return MapFormat::kUefi;
    }
    if (iequals(name, "multiboot") || iequals(name, "mb")) {
        return MapFormat::kMultiboot;
    }
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
    if (e820) {
        return MapFormat::kE820;
    }
    if (uefi) {
        return MapFormat::kUefi;
    }
    if (multiboot) {
        return MapFormat::kMultiboot;
    }
    if (dt) {
        return MapFormat::kDeviceTree;
    }
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
    std::error_code ec;
    if (std::filesystem::is_directory(path, ec)) {
        return ParseError{0, "cannot read '" + path + "': " + std::strerror(EISDIR), true};
    }
    errno = 0;
    std::ifstream file(path, std::ios::binary);
    if (!file) {
        return ParseError{0, "cannot open '" + path + "': " + std::strerror(errno), true};
    }
    std::ostringstream text;
    text << file.rdbuf();
    if (file.bad()) {
        return ParseError{0, "cannot read '" + path + "': " + std::strerror(errno), true};
    }
    return parse_memory_map(text.str(), format);
}

}  // namespace framealloc::memmap_text