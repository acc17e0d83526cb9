// Hosted readers for memory maps as humans see them: the lines Linux prints
// at boot (BIOS-e820, efi: memNN, device-tree reserved-memory and memory-node
// ranges), the Multiboot dumps hobby kernels print, GRUB's `lsmmap`, saved
// /proc/iomem dumps and bare hex tables -- and the live map of the machine
// this runs on (/sys/firmware/memmap, else /proc/iomem). Each entry is turned
// back into the binary structure the firmware produced and fed through the
// freestanding parsers in framealloc/memmap, so a map read from text follows
// exactly the free/reserved rules a kernel would apply to the real thing.
// framealloc-sim's `regions` subcommand is built on run_regions_command()
// and run_this_machine_command().
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

/// The map formats understood. kAuto means "look at the content". kSysfs is
/// never text: it names maps read from a /sys/firmware/memmap directory.
enum class MapFormat {
    kAuto,
    kE820,
    kUefi,
    kMultiboot,
    kDeviceTree,
    kGrub,   ///< GRUB `lsmmap`: base_addr = 0x.., length = 0x.., TYPE NAME
    kIomem,  ///< /proc/iomem: top-level START-END : NAME lines
    kTable,  ///< bare hex columns: base length type, or start end type
    kSysfs,  ///< /sys/firmware/memmap/N/{start,end,type}
};

/// "auto", "e820", "uefi", "multiboot", "dt", "grub", "iomem", "table", "sysfs".
[[nodiscard]] const char* to_string(MapFormat format);
/// Accepts the names to_string() gives plus the aliases "efi", "mb",
/// "devicetree", "fdt" and "lsmmap"; nothing for an unknown name.
[[nodiscard]] std::optional<MapFormat> format_from_name(std::string_view name);
/// The format of `text`, judged by its recognisable lines. When a boot log
/// holds several (an EFI x86 boot prints both e820 and efi: lines), e820 wins
/// because it is what the kernel finally uses; then UEFI, Multiboot, DT.
/// Nothing when no line is recognised, or when a GRUB, iomem or table line
/// shares the text with a line of another format (parse_memory_map() names
/// the line).
[[nodiscard]] std::optional<MapFormat> detect_format(std::string_view text);

/// How the two number columns of a bare table are read. kAuto decides from a
/// header line or from the data, and fails when more than one reading fits.
enum class TableColumns {
    kAuto,
    kBaseLength,        ///< base, length
    kStartEnd,          ///< start, end (inclusive, as Linux prints)
    kStartEndExclusive  ///< start, end (one past the last byte)
};
/// "auto", "base-length", "start-end", "start-end-exclusive".
[[nodiscard]] const char* to_string(TableColumns columns);
/// The names to_string() gives; nothing for an unknown name.
[[nodiscard]] std::optional<TableColumns> columns_from_name(std::string_view name);

/// Everything a caller may say about a map before it is read.
struct ParseOptions {
    MapFormat format = MapFormat::kAuto;
    TableColumns columns = TableColumns::kAuto;  ///< Only for bare tables.
};

/// The regions one map produces.
struct ParsedMap {
    MapFormat format = MapFormat::kAuto;
    std::size_t entries = 0;  ///< Map lines read (one per firmware entry).
    std::string source;       ///< Where a live map was read from; empty for text.
    std::string note;         ///< Why a live map came from its second choice; usually empty.
    TableColumns columns = TableColumns::kAuto;  ///< How a bare table was read.
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
    /// The input could not be read at all (missing, permission denied,
    /// addresses hidden) rather than being malformed.
    bool unreadable = false;
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
/// GRUB, iomem and table maps are stricter than boot logs: entries that
/// overlap, a range past 2^64, an unknown type word, or lines of another
/// format in the same text are errors naming the line.
[[nodiscard]] TextParseResult parse_memory_map(std::string_view text,
                                               MapFormat format = MapFormat::kAuto);
/// As above with every option (the table's column layout).
[[nodiscard]] TextParseResult parse_memory_map(std::string_view text, const ParseOptions& options);
/// As parse_memory_map(), reading the file at `path` (line 0 error when it
/// cannot be read).
[[nodiscard]] TextParseResult parse_memory_map_file(const std::string& path,
                                                    MapFormat format = MapFormat::kAuto);
/// As above with every option.
[[nodiscard]] TextParseResult parse_memory_map_file(const std::string& path,
                                                    const ParseOptions& options);

/// Where the live map of this machine is looked for; tests point these at
/// fixtures.
struct MachinePaths {
    std::string sysfs_memmap = "/sys/firmware/memmap";
    std::string proc_iomem = "/proc/iomem";
};

/// Reads a /sys/firmware/memmap directory: entries N/{start,end,type}
/// (inclusive ends; types "System RAM", "Reserved", "ACPI Tables", "ACPI
/// Non-volatile Storage", "Unusable memory", "Persistent Memory", "Persistent
/// Memory (legacy)", "Soft Reserved", "Unknown E820 type"). Only "System RAM"
/// is free. Errors name the file at fault (line 0); an unknown type or two
/// entries that overlap are errors.
[[nodiscard]] TextParseResult read_sysfs_memmap(const std::string& directory);
/// Reads a /proc/iomem file: top-level "System RAM" lines are free, every
/// other top-level line reserved; nested lines (Kernel code, Crash kernel,
/// ...) are ignored. A file whose addresses are all zero (what Linux shows a
/// reader without CAP_SYS_ADMIN) is an error saying so.
[[nodiscard]] TextParseResult read_proc_iomem(const std::string& path);
/// This machine's firmware map: /sys/firmware/memmap when it exists and can
/// be read, else /proc/iomem. ParsedMap::source and ParsedMap::format say
/// which was used. When neither can be read the error says why for each.
[[nodiscard]] TextParseResult read_this_machine(const MachinePaths& paths = {});

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
/// As above with every option.
[[nodiscard]] int run_regions_command(const std::string& path, const ParseOptions& options,
                                      std::ostream& out, std::ostream& err);
/// The same report for this machine's own map (read_this_machine()); the
/// first line names the source read. Returns 0, or 2 when no map can be read
/// (the reasons go to `err`), or 1 when the map read is malformed.
[[nodiscard]] int run_this_machine_command(const MachinePaths& paths, std::ostream& out,
                                           std::ostream& err);

}  // namespace framealloc::memmap_text
