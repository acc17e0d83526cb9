// The `regions FILE` and `regions --this-machine` report: what a memory map
// turns into, region by region, and how much of it the allocator could hand
// out. The usable total
// applies the allocator's rule (reserved wins over free, overlaps counted
// once) so the number printed is the general pool init() would build.
#include <algorithm>
#include <iomanip>
#include <sstream>
#include <utility>

#include "memmap_text.hpp"

namespace framealloc::memmap_text {
namespace {

using Interval = std::pair<std::uint64_t, std::uint64_t>;  // inclusive frame numbers

std::vector<Interval> merged(const std::vector<PhysicalMemoryRegion>& regions) {
    std::vector<Interval> out;
    for (const auto& region : regions) {
        if (!region.frames.is_empty()) {
            out.emplace_back(region.frames.start().number(), region.frames.end().number());
        }
    }
    std::sort(out.begin(), out.end());
    std::vector<Interval> result;
    for (const auto& interval : out) {
        // Adjacent intervals merge too; end + 1 cannot wrap below 2^52 frames.
        if (!result.empty() && interval.first <= result.back().second + 1) {
            result.back().second = std::max(result.back().second, interval.second);
        } else {
            result.push_back(interval);
        }
    }
    return result;
}

std::string human_size(std::uint64_t bytes) {
    static constexpr const char* kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
    std::size_t unit = 0;
    std::uint64_t whole = bytes;
    while (whole >= 1024 && unit + 1 < std::size(kUnits) && whole % 1024 == 0) {
        whole /= 1024;
        ++unit;
    }
    std::ostringstream out;
    if (whole >= 1024ULL * 10) {
        // Not a round number: show one decimal in the largest sensible unit.
        double value = static_cast<double>(bytes);
        unit = 0;
        while (value >= 1024.0 && unit + 1 < std::size(kUnits)) {
            value /= 1024.0;
            ++unit;
        }
        out << std::fixed << std::setprecision(1) << value << ' ' << kUnits[unit];
    } else {
        out << whole << ' ' << kUnits[unit];
    }
    return out.str();
}

std::string hex(std::uint64_t value) {
    std::ostringstream out;
    out << "0x" << std::hex << std::setw(16) << std::setfill('0') << value;
    return out.str();
}

}  // namespace

std::uint64_t usable_frames(const ParsedMap& map) {
    const std::vector<Interval> free = merged(map.free);
    const std::vector<Interval> reserved = merged(map.reserved);
    std::uint64_t total = 0;
    std::size_t r = 0;
    for (const auto& [first, last] : free) {
        std::uint64_t count = last - first + 1;
        while (r < reserved.size() && reserved[r].second < first) {
            ++r;
        }
        // Subtract every reserved interval that overlaps this free one; the
        // reserved list is merged, so no frame is subtracted twice.
        for (std::size_t k = r; k < reserved.size() && reserved[k].first <= last; ++k) {
            const std::uint64_t lo = std::max(first, reserved[k].first);
            const std::uint64_t hi = std::min(last, reserved[k].second);
            count -= hi - lo + 1;
        }
        total += count;
    }
    return total;
}

namespace {

void print_regions(const ParsedMap& map, std::ostream& out) {
    std::vector<PhysicalMemoryRegion> all = map.free;
    all.insert(all.end(), map.reserved.begin(), map.reserved.end());
    std::stable_sort(all.begin(), all.end(), [](const auto& a, const auto& b) {
        return a.frames.start() < b.frames.start();
    });
    out << to_string(map.format) << " map, " << map.entries << " entries, " << map.free.size()
        << " free and " << map.reserved.size() << " reserved regions";
    if (map.format == MapFormat::kTable) {
        out << " (columns read as " << to_string(map.columns) << ")";
    }
    out << '\n';
    for (const auto& region : all) {
        const std::uint64_t first = region.frames.start_address().value();
        const std::uint64_t bytes = region.frames.size_in_bytes();
        out << "  " << hex(first) << '-' << hex(first + (bytes - 1)) << "  " << std::left
            << std::setw(8) << to_string(region.type) << std::right << std::setw(12)
            << region.frames.size_in_frames() << " frames  " << human_size(bytes) << '\n';
    }
    const std::uint64_t frames = usable_frames(map);
    const std::uint64_t bytes = frames * Page4K::kBytes;
    out << "usable: " << frames << " frames, " << bytes << " bytes (" << human_size(bytes) << ")\n";
}

}  // namespace

int run_regions_command(const std::string& path, std::ostream& out, std::ostream& err) {
    return run_regions_command(path, MapFormat::kAuto, out, err);
}

int run_regions_command(const std::string& path, MapFormat format, std::ostream& out,
                        std::ostream& err) {
    ParseOptions options;
    options.format = format;
    return run_regions_command(path, options, out, err);
}

int run_regions_command(const std::string& path, const ParseOptions& options, std::ostream& out,
                        std::ostream& err) {
    const TextParseResult result = parse_memory_map_file(path, options);
    if (!result.ok()) {
        const ParseError& error = result.error();
        if (error.io_error) {
            err << "error: " << error.message << '\n';  // names the file itself
            return 2;
        }
        err << path;
        if (error.line != 0) {
            err << ':' << error.line;
        }
        err << ": error: " << error.message << '\n';
        return error.unreadable ? 2 : 1;
    }
    out << path << ": ";
    print_regions(result.map(), out);
    return 0;
}

int run_this_machine_command(const MachinePaths& paths, std::ostream& out, std::ostream& err) {
    const TextParseResult result = read_this_machine(paths);
    if (!result.ok()) {
        err << "this machine: error: " << result.error().message << '\n';
        return result.error().unreadable ? 2 : 1;
    }
    const ParsedMap& map = result.map();
    out << "this machine, read from " << map.source;
    if (!map.note.empty()) {
        out << " because " << map.note;
    }
    out << ": ";
    print_regions(map, out);
    return 0;
}

}  // namespace framealloc::memmap_text
