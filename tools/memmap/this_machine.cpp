// The map of the machine this program runs on. Linux keeps the firmware's
// own table, untouched by the kernel's later edits, in /sys/firmware/memmap
// (one directory per entry: start, end inclusive, type); /proc/iomem shows
// the kernel's edited view plus every device window, and is only the
// fallback, and it shows addresses only to root (CAP_SYS_ADMIN). Every way
// of failing to read them is reported as such rather than as a malformed map.
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include "framealloc/memmap.hpp"
#include "text_util.hpp"

namespace framealloc::memmap_text {
namespace {

using detail::Cursor;
using detail::emit_entries;
using detail::EntryParser;
using detail::iequals;
using detail::RawEntry;
using detail::trim;

ParseError unreadable(std::string message) {
    ParseError error{0, std::move(message)};
    error.unreadable = true;
    return error;
}

/// Why fopen() failed, in words a user can act on.
std::string open_failure(const std::string& path, int error) {
    if (error == ENOENT) {
        return path + " does not exist";
    }
    if (error == EACCES || error == EPERM) {
        return path + ": permission denied (run as root)";
    }
    return path + ": " + std::strerror(error);
}

/// Reads a whole (possibly size-0, as /proc and /sys files report) file.
std::optional<ParseError> read_file(const std::string& path, std::string& text) {
    std::FILE* file = std::fopen(path.c_str(), "rb");
    if (file == nullptr) {
        return unreadable(open_failure(path, errno));
    }
    text.clear();
    char buffer[4096];
    std::size_t got = 0;
    while ((got = std::fread(buffer, 1, sizeof buffer, file)) > 0) {
        text.append(buffer, got);
    }
    const bool failed = std::ferror(file) != 0;
    const int error = errno;
    std::fclose(file);
    if (failed) {
        return unreadable(open_failure(path, error));
    }
    return std::nullopt;
}

// The names Linux's e820_type_to_string() gives, as e820 type numbers.
std::optional<std::uint32_t> sysfs_type(std::string_view name) {
    static constexpr std::pair<std::string_view, std::uint32_t> kTypes[] = {
        {"System RAM", memmap::kE820Usable},
        {"Reserved", memmap::kE820Reserved},
        {"ACPI Tables", memmap::kE820AcpiData},
        {"ACPI Non-volatile Storage", memmap::kE820AcpiNvs},
        {"Unusable memory", memmap::kE820Unusable},
        {"Persistent Memory (legacy)", 12},
        {"Persistent Memory", 7},
        {"Soft Reserved", memmap::kE820SoftReserved},
        // A number Linux has no name for; any reserved number keeps its meaning.
        {"Unknown E820 type", memmap::kE820Reserved},
    };
    for (const auto& [text, type] : kTypes) {
        if (iequals(name, text)) {  // kernels before 2.6.28 wrote "reserved"
            return type;
        }
    }
    return std::nullopt;
}

std::optional<std::uint64_t> sysfs_address(std::string_view text) {
    Cursor c(text);
    auto value = c.hex();
    if (!value || !trim(c.rest()).empty()) {
        return std::nullopt;
    }
    return value;
}

}  // namespace

TextParseResult read_sysfs_memmap(const std::string& directory) {
    namespace fs = std::filesystem;
    std::error_code ec;
    const fs::file_status status = fs::status(directory, ec);
    if (!fs::exists(status)) {
        return unreadable(directory + " does not exist");
    }
    if (!fs::is_directory(status)) {
        return unreadable(directory + " is not a directory");
    }
    std::vector<std::uint64_t> numbers;
    for (fs::directory_iterator it(directory, ec), end; !ec && it != end; it.increment(ec)) {
        const std::string name = it->path().filename().string();
        Cursor c(name);
        if (auto n = c.number(); n && c.rest().empty()) {
            numbers.push_back(*n);
        }
    }
    if (ec) {
        return unreadable(open_failure(directory, ec.value()));
    }
    if (numbers.empty()) {
        return unreadable(directory + " has no entries");
    }
    std::sort(numbers.begin(), numbers.end());

    ParsedMap map;
    map.format = MapFormat::kSysfs;
    map.source = directory;
    std::vector<RawEntry> raw;
    for (const std::uint64_t n : numbers) {
        const std::string entry = directory + "/" + std::to_string(n);
        std::string start_text;
        std::string end_text;
        std::string type_text;
        for (auto [file, text] : {std::pair{"/start", &start_text}, std::pair{"/end", &end_text},
                                  std::pair{"/type", &type_text}}) {
            if (auto bad = read_file(entry + file, *text)) {
                return *bad;
            }
        }
        const auto start = sysfs_address(start_text);
        const auto last = sysfs_address(end_text);
        if (!start || !last) {
            return ParseError{0, entry + ": start and end must be 0x-prefixed hex numbers, got '" +
                                     std::string(trim(start_text)) + "' and '" +
                                     std::string(trim(end_text)) + "'"};
        }
        if (*last < *start) {
            return ParseError{0, entry + ": end is below start"};
        }
        const auto type = sysfs_type(trim(type_text));
        if (!type) {
            return ParseError{0,
                              entry + "/type: unknown type '" + std::string(trim(type_text)) + "'"};
        }
        raw.push_back(RawEntry{*start, *last, *type, static_cast<std::size_t>(n)});
    }
    map.entries = raw.size();
    if (auto bad = emit_entries(raw, EntryParser::kE820, "entry", map)) {
        return ParseError{0, directory + "/" + std::to_string(bad->line) + ": " + bad->message};
    }
    return map;
}

TextParseResult read_proc_iomem(const std::string& path) {
    std::string text;
    if (auto bad = read_file(path, text)) {
        return *bad;
    }
    ParseOptions options;
    options.format = MapFormat::kIomem;
    TextParseResult result = parse_memory_map(text, options);
    if (!result.ok()) {
        ParseError error = result.error();
        // Built piece by piece: GCC 12's -Wrestrict misfires on
        // `"literal" + std::string&&` inlined at -O3.
        std::string where = path;
        if (error.line != 0) {
            where += ':';
            where += std::to_string(error.line);
        }
        where += ": ";
        where += error.message;
        error.message = std::move(where);
        error.line = 0;
        return error;
    }
    ParsedMap map = result.map();
    map.source = path;
    return map;
}

TextParseResult read_this_machine(const MachinePaths& paths) {
    TextParseResult sysfs = read_sysfs_memmap(paths.sysfs_memmap);
    if (sysfs.ok() || !sysfs.error().unreadable) {
        return sysfs;  // a map that is there but malformed is not papered over
    }
    TextParseResult iomem = read_proc_iomem(paths.proc_iomem);
    if (iomem.ok()) {
        ParsedMap map = iomem.map();
        map.note = sysfs.error().message;
        return map;
    }
    ParseError both = iomem.error();
    const auto missing = [](const std::string& why) {
        return why.size() >= 15 && why.compare(why.size() - 15, 15, " does not exist") == 0;
    };
    const bool neither = missing(sysfs.error().message) && missing(both.message);
    both.message = "cannot read this machine's memory map: " + sysfs.error().message + "; " +
                   both.message + (neither ? " (is this Linux?)" : "");
    return both;
}

}  // namespace framealloc::memmap_text
