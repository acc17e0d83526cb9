// Hosted readers for memory maps as humans see them: the lines Linux prints
// at boot (BIOS-e820, efi: memNN, device-tree reserved-memory and memory-node
// ranges) and the Multiboot dumps hobby kernels print. Each line is turned
// back into the binary structure the firmware produced and fed through the
// freestanding parsers in framealloc/memmap, so a map read from text follows
// exactly the free/reserved rules a kernel would apply to the real thing.
// framealloc-sim's `regions FILE` subcommand is built on run_regions_command().
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "framealloc/region.hpp"

namespace framealloc::memmap_text {

/// The text formats understood. kAuto means "look at the content".
enum class MapFormat { kAuto, kE820, kUefi, kMultiboot, kDeviceTree };

/// "auto", "e820", "uefi", "multiboot", "dt".
[[nodiscard]] const char* to_string(MapFormat format);
/// Accepts the names to_string() gives plus the aliases "efi", "mb",
/// "devicetree" and "fdt"; nothing for an unknown name.
[[nodiscard]] std::optional<MapFormat> format_from_name(std::string_view name);
/// The format of `text`, judged by its first recognisable line type. When a
/// log holds several (an EFI x86 boot prints both e820 and efi: lines), e820
/// wins because it is what the kernel finally uses; then UEFI, Multiboot, DT.
[[nodiscard]] std::optional<MapFormat> detect_format(std::string_view text);

/// The regions one map produces.
struct ParsedMap {
    MapFormat format = MapFormat::kAuto;
    std::size_t entries = 0;  ///< Map lines read (one per firmware entry).
    std::vector<PhysicalMemoryRegion> free;
    std::vector<PhysicalMemoryRegion> reserved;
};

/// Why a map was rejected; `line` is 1-based, 0 when no single line is at fault.
struct ParseError {
    std::size_t line = 0;
    std::string message;
    /// The file could not be opened or read (the message then names the file
    /// and the OS reason: "cannot open 'x': No such file or directory").
    bool io_error = false;
};

/// A ParsedMap or the ParseError that stopped the parse.
class [[nodiscard]] TextParseResult {
  public:
    // NOLINTNEXTLINE(google-explicit-constructor): `return map;` / `return error;`.
    TextParseResult(ParsedMap map) : value_(std::move(map)) {}
    // NOLINTNEXTLINE(google-explicit-constructor)
    TextParseResult(ParseError error) : value_(std::move(error)) {}

    [[nodiscard]] bool ok() const { return std::holds_alternative<ParsedMap>(value_); }
    /// Only valid when ok().
    [[nodiscard]] const ParsedMap& map() const { return std::get<ParsedMap>(value_); }
    /// Only valid when !ok().
    [[nodiscard]] const ParseError& error() const { return std::get<ParseError>(value_); }

  private:
    std::variant<ParsedMap, ParseError> value_;
};

/// Parses a whole map given as text. With kAuto the format is detected; with
/// an explicit format, lines of other kinds are ignored as log noise. Lines
/// starting with '#' are comments. Fails on a malformed map line, on text with
/// no map lines, or when a freestanding parser rejects an entry.
[[nodiscard]] TextParseResult parse_memory_map(std::string_view text,
                                               MapFormat format = MapFormat::kAuto);
/// As parse_memory_map(), reading the file at `path` (line 0 error when it
/// cannot be read).
[[nodiscard]] TextParseResult parse_memory_map_file(const std::string& path,
                                                    MapFormat format = MapFormat::kAuto);

/// Frames the allocator could hand out from `map`: every frame of a free
/// region, counted once even when free regions overlap, minus every frame any
/// reserved region touches (reserved wins, as in the allocator's init()).
[[nodiscard]] std::uint64_t usable_frames(const ParsedMap& map);

/// Prints the regions the map at `path` produces (sorted by address, with
/// type and size) and the usable total in frames and bytes. Returns 0 on
/// success, 1 when the map is malformed, 2 when the file cannot be read; the
/// reason goes to `err` as "path:line: message".
[[nodiscard]] int run_regions_command(const std::string& path, std::ostream& out,
                                      std::ostream& err);
/// As above with an explicit format (MapFormat::kAuto to detect).
[[nodiscard]] int run_regions_command(const std::string& path, MapFormat format, std::ostream& out,
                                      std::ostream& err);

}  // namespace framealloc::memmap_text
