// Argument parsing and the subcommands. Everything that can be wrong with
// the input -- options, map and trace files, output paths -- is reported
// here, before the allocator is touched, in one format: "framealloc-sim: "
// then either "FILE:LINE: what is wrong" or "cannot open 'FILE': OS reason".
#include "cli.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <sstream>

#include "json.hpp"
#include "machine_map.hpp"
#include "progress.hpp"
#include "report.hpp"
#include "simulator.hpp"
#include "svg.hpp"
#include "trace.hpp"
#include "workloads.hpp"

#if FRAMEALLOC_SIM_HAVE_MEMMAP
#include "memmap_text.hpp"
#endif

namespace framealloc::sim {
namespace {

constexpr const char* kDefaultSvg = "framealloc-sim.svg";
constexpr const char* kExitStatusText =
    "exit status: 0 ok, 1 an allocator invariant broke, 2 bad usage or input\n";

#ifndef FRAMEALLOC_SIM_VERSION
#define FRAMEALLOC_SIM_VERSION "unknown"
#endif

// "cannot open 'PATH': No such file or directory" from the errno of the failed call.
std::string cannot(const char* verb, const std::string& path, int error) {
    return std::string("cannot ") + verb + " '" + path + "': " + std::strerror(error);
}

void print_run_help(std::ostream& out) {
    out << "usage: framealloc-sim run [options]\n"
           "  Runs a workload or trace on framealloc, prints a summary and draws an SVG.\n"
           "\n"
           "options:\n"
           "  --map FILE        firmware memory map (e820 / UEFI / Multiboot / device-tree log,\n"
           "                    GRUB lsmmap, /proc/iomem dump, bare table); `this-machine`\n"
           "                    reads this machine's own; `two-node` is a built-in 2-node NUMA\n"
           "                    server; default: a built-in 16 GiB x86 desktop\n"
           "  --columns LAYOUT  how a bare table's columns read: base-length, start-end or\n"
           "                    start-end-exclusive\n"
           "  --workload NAME   built-in workload (default: mixed)\n"
           "  --trace FILE      replay a trace file instead of a workload\n"
           "  --ops N           number of operations (default: the workload's own; a trace\n"
           "                    runs to its end unless N is smaller)\n"
           "  --seed S          random seed (default 1); equal seeds give equal results\n"
           "  --svg OUT.svg     picture of physical memory (default ./"
        << kDefaultSvg
        << ")\n"
           "  --no-svg          do not write a picture\n"
           "  --json OUT.json   machine-readable results (no timings, so it is reproducible)\n"
           "  --quiet           no summary and no progress bar; errors only\n"
           "  -h, --help        this text\n"
           "\nworkloads:\n";
    for (const WorkloadInfo& w : workloads()) {
        out << "  " << w.name << std::string(12 - std::string(w.name).size(), ' ') << w.summary
            << " (" << w.default_ops << " ops)\n";
    }
    out << "\ntrace lines (counts in 4 KiB frames, or bytes with K/M/G; addresses in bytes):\n"
           "  alloc N [align=A] [below=ADDR] [boundary=B] [id=NAME] [cpu=C]\n"
           "  alloc-at ADDR N [id=NAME] [cpu=C]\n"
           "  alloc-huge N [id=NAME] [cpu=C]     N 2 MiB frames\n"
           "  free NAME [cpu=C]\n"
           "  heap                               the kernel heap is up (default: from the start)\n"
           "  # comment\n"
           "\n"
        << kExitStatusText;
}

void print_regions_help(std::ostream& out) {
    out << "usage: framealloc-sim regions [--columns LAYOUT] FILE\n"
           "       framealloc-sim regions --this-machine\n"
           "  Prints the free and reserved regions a memory-map file produces (e820, UEFI,\n"
           "  Multiboot or device-tree boot log, GRUB lsmmap, /proc/iomem dump or bare table;\n"
           "  detected from the content) and the frames the allocator could hand out.\n"
           "\n"
           "options:\n"
           "  --this-machine    read this machine's own map: /sys/firmware/memmap (world-\n"
           "                    readable), else /proc/iomem (addresses need root)\n"
           "  --columns LAYOUT  how a bare table's columns read: base-length, start-end or\n"
           "                    start-end-exclusive\n"
           "  -h, --help        this text\n"
           "\n"
        << kExitStatusText;
}

struct RunOptions {
    std::string map_path;
    std::string columns;
    std::string workload = "mixed";
    bool workload_given = false;
    std::string trace_path;
    std::optional<std::uint64_t> ops;
    std::uint64_t seed = 1;
    std::string svg_path = kDefaultSvg;
    bool svg = true;
    std::string json_path;
    bool quiet = false;
};

// Reads `path` whole; on failure `why` says so with the OS reason.
bool read_file(const std::string& path, std::string& text, std::string& why) {
    std::error_code ec;
    if (std::filesystem::is_directory(path, ec)) {
        why = cannot("read", path, EISDIR);
        return false;
    }
    errno = 0;
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        why = cannot("open", path, errno);
        return false;
    }
    std::ostringstream buffer;
    buffer << in.rdbuf();
    if (in.bad()) {
        why = cannot("read", path, errno);
        return false;
    }
    text = buffer.str();
    return true;
}

// Checks before the run that `path` can be written, without truncating an
// existing file or leaving a new one behind.
bool check_writable(const std::string& path, std::ostream& err) {
    std::error_code ec;
    const bool existed = std::filesystem::exists(path, ec);
    errno = 0;
    std::FILE* file = std::fopen(path.c_str(), "a");
    if (file == nullptr) {
        err << "framealloc-sim: " << cannot("open", path, errno) << "\n";
        return false;
    }
    std::fclose(file);
    if (!existed) {
        std::filesystem::remove(path, ec);
    }
    return true;
}

// Parses `run` options; on error writes to `err` and returns false.
bool parse_run_options(const std::vector<std::string>& args, RunOptions& o, std::ostream& err) {
    for (std::size_t i = 1; i < args.size(); ++i) {
        const std::string& a = args[i];
        const auto value = [&](std::string& into) {
            if (i + 1 >= args.size()) {
                err << "framealloc-sim: " << a << " needs a value\n";
                return false;
            }
            into = args[++i];
            return true;
        };
        const auto number = [&](std::uint64_t& into) {
            std::string text;
            bool unit = false;
            if (!value(text)) {
                return false;
            }
            if (!parse_number(text, into, unit) || unit) {
                err << "framealloc-sim: " << a << " needs a number, got '" << text << "'\n";
                return false;
            }
            return true;
        };
        std::uint64_t n = 0;
        if (a == "--map") {
            if (!value(o.map_path)) {
                return false;
            }
        } else if (a == "--columns") {
            if (!value(o.columns)) {
                return false;
            }
        } else if (a == "--workload") {
            if (!value(o.workload)) {
                return false;
            }
            o.workload_given = true;
        } else if (a == "--trace") {
            if (!value(o.trace_path)) {
                return false;
            }
        } else if (a == "--ops") {
            if (!number(n)) {
                return false;
            }
            o.ops = n;
        } else if (a == "--seed") {
            if (!number(o.seed)) {
                return false;
            }
        } else if (a == "--svg") {
            if (!value(o.svg_path)) {
                return false;
            }
            o.svg = true;
        } else if (a == "--no-svg") {
            o.svg = false;
        } else if (a == "--json") {
            if (!value(o.json_path)) {
                return false;
            }
        } else if (a == "--quiet" || a == "-q") {
            o.quiet = true;
        } else {
            err << "framealloc-sim: unknown option '" << a << "' for run (see run --help)\n";
            return false;
        }
    }
    if (o.workload_given && !o.trace_path.empty()) {
        err << "framealloc-sim: give --workload or --trace, not both\n";
        return false;
    }
    return true;
}

template <typename Writer>
bool write_output(const std::string& path, std::ostream& err, Writer&& writer) {
    errno = 0;
    std::ofstream file(path, std::ios::binary | std::ios::trunc);
    if (!file) {
        err << "framealloc-sim: " << cannot("open", path, errno) << "\n";
        return false;
    }
    writer(file);
    file.close();
    if (!file) {
        err << "framealloc-sim: " << cannot("write", path, errno) << "\n";
        return false;
    }
    return true;
}

bool wants_help(const std::vector<std::string>& args) {
    for (std::size_t i = 1; i < args.size(); ++i) {
        if (args[i] == "--help" || args[i] == "-h") {
            return true;
        }
    }
    return false;
}

int run_command(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
    if (wants_help(args)) {
        print_run_help(out);
        return kExitOk;
    }
    RunOptions o;
    if (!parse_run_options(args, o, err)) {
        return kExitUsage;
    }
    // Output paths first: a long run must not end in "cannot open".
    if ((o.svg && !check_writable(o.svg_path, err)) ||
        (!o.json_path.empty() && !check_writable(o.json_path, err))) {
        return kExitUsage;
    }
    MachineMap map = builtin_map();
    if (!o.map_path.empty()) {
        std::string why;
        if (!load_map(o.map_path, o.columns, map, why)) {
            err << "framealloc-sim: " << why << "\n";
            return kExitUsage;
        }
    }
    const std::uint64_t usable = usable_frames(map);
    if (usable == 0) {
        err << "framealloc-sim: the map " << map.description << " has no usable memory\n";
        return kExitUsage;
    }

    std::unique_ptr<OpSource> source;
    std::uint64_t max_ops = 0;
    if (!o.trace_path.empty()) {
        std::string text;
        std::string why;
        if (!read_file(o.trace_path, text, why)) {
            err << "framealloc-sim: " << why << "\n";
            return kExitUsage;
        }
        std::vector<Op> ops;
        TraceError bad_line;
        if (!parse_trace(text, ops, bad_line)) {
            err << "framealloc-sim: " << o.trace_path << ":" << bad_line.line << ": "
                << bad_line.message << "\n";
            return kExitUsage;
        }
        max_ops = o.ops.value_or(ops.size());
        source = std::make_unique<TraceSource>("trace " + o.trace_path, std::move(ops));
    } else {
        const MachineSize size{usable, usable_frames(map, kDmaLimit >> 12),
                               map.node_ranges.empty() ? 1U : map.node_count};
        source = make_workload(o.workload, size, o.seed);
        if (!source) {
            err << "framealloc-sim: unknown workload '" << o.workload << "'; known:";
            for (const WorkloadInfo& w : workloads()) {
                err << ' ' << w.name;
            }
            err << "\n";
            return kExitUsage;
        }
        max_ops = o.ops.value_or(default_ops(o.workload));
    }

    Simulator sim(std::move(map));
    std::string why;
    if (!sim.init(why)) {
        err << "framealloc-sim: " << why << "\n";
        return kExitUsage;
    }
    ProgressBar bar(!o.quiet);
    const RunReport report =
        sim.run(*source, max_ops,
                [&](std::uint64_t done, std::uint64_t total) { bar.update(done, total); });
    bar.finish();

    if (!o.quiet) {
        print_summary(report, o.seed, out);
    }
    bool written = true;
    if (o.svg) {
        written = write_output(o.svg_path, err,
                               [&](std::ostream& file) { write_svg(report, sim.map(), file); }) &&
                  written;
        if (written && !o.quiet) {
            out << "  picture                   " << o.svg_path << "\n";
        }
    }
    if (!o.json_path.empty()) {
        const bool ok = write_output(o.json_path, err,
                                     [&](std::ostream& file) { write_json(report, o.seed, file); });
        if (ok && !o.quiet) {
            out << "  json                      " << o.json_path << "\n";
        }
        written = written && ok;
    }
    if (!report.check_ok || !report.conserved) {
        err << "framealloc-sim: invariant broken -- check(): " << report.check_message
            << "; conservation: " << report.conservation_message << "\n";
        return kExitInvariant;
    }
    return written ? kExitOk : kExitUsage;
}

int regions_command(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
    if (wants_help(args)) {
        print_regions_help(out);
        return kExitOk;
    }
    std::string file;
    std::string columns;
    bool this_machine = false;
    bool usage = false;
    for (std::size_t i = 1; i < args.size(); ++i) {
        if (args[i] == "--this-machine") {
            this_machine = true;
        } else if (args[i] == "--columns" && i + 1 < args.size()) {
            columns = args[++i];
        } else if (file.empty() && !args[i].empty() && args[i][0] != '-') {
            file = args[i];
        } else {
            usage = true;
        }
    }
    if (usage || this_machine == !file.empty()) {
        err << "framealloc-sim: usage: framealloc-sim regions [--columns LAYOUT] FILE, or "
               "framealloc-sim regions --this-machine (see regions --help)\n";
        return kExitUsage;
    }
    // The map is checked here so its errors read like every other one; the
    // report below then cannot fail. A file named like the keyword is still
    // a file.
    const std::string spec = this_machine           ? kThisMachine
                             : file == kThisMachine ? "./" + file
                                                    : file;
    MachineMap map;
    std::string why;
    if (!load_map(spec, columns, map, why)) {
        err << "framealloc-sim: " << why << "\n";
        return kExitUsage;
    }
#if FRAMEALLOC_SIM_HAVE_MEMMAP
    std::ostringstream report_err;
    int status = 0;
    if (this_machine) {
        status = memmap_text::run_this_machine_command({}, out, report_err);
    } else {
        memmap_text::ParseOptions options;
        if (!columns.empty()) {
            options.columns = *memmap_text::columns_from_name(columns);  // load_map checked it
        }
        status = memmap_text::run_regions_command(file, options, out, report_err);
    }
    if (status != 0) {
        err << "framealloc-sim: " << report_err.str();
        return kExitUsage;
    }
    return kExitOk;
#else
    (void)out;
    return kExitUsage;
#endif
}

struct Command {
    const char* name;
    const char* synopsis;
    const char* summary;
    int (*run)(const std::vector<std::string>&, std::ostream&, std::ostream&);
};

constexpr Command kCommands[] = {
    {"run", "run [options]", "run a workload or trace, print a summary, draw an SVG", run_command},
    {"regions", "regions FILE", "print the regions a memory-map file produces", regions_command},
};

void print_help(std::ostream& out) {
    out << "framealloc-sim " FRAMEALLOC_SIM_VERSION
           ": replays a machine's memory life on framealloc and draws it.\n"
           "\n"
           "usage:\n";
    for (const Command& c : kCommands) {
        const std::string synopsis = c.synopsis;
        out << "  framealloc-sim " << synopsis << std::string(18 - synopsis.size(), ' ')
            << c.summary << "\n";
    }
    out << "  framealloc-sim regions --this-machine\n"
           "                                   the same for this machine's own map\n"
           "  framealloc-sim COMMAND --help   the options of one command\n"
           "  framealloc-sim --help           this text\n"
           "  framealloc-sim --version        the version\n"
           "\n";
    print_run_help(out);
}

}  // namespace

int sim_main(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
    if (args.empty()) {
        print_help(err);
        return kExitUsage;
    }
    if (args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
        // `help COMMAND` is `COMMAND --help`.
        if (args.size() > 1) {
            return sim_main({args[1], "--help"}, out, err);
        }
        print_help(out);
        return kExitOk;
    }
    if (args[0] == "--version" || args[0] == "-V") {
        out << "framealloc-sim " FRAMEALLOC_SIM_VERSION "\n";
        return kExitOk;
    }
    for (const Command& c : kCommands) {
        if (args[0] == c.name) {
            return c.run(args, out, err);
        }
    }
    err << "framealloc-sim: unknown command '" << args[0] << "' (try --help)\n";
    return kExitUsage;
}

}  // namespace framealloc::sim
