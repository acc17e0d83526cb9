// Tests for reading the map of the machine the program runs on: the
// /sys/firmware/memmap directory reader (on a fixture tree built from a real
// capture), the fallback to /proc/iomem and the errors when neither can be
// read, and the cross-check of the two views. Both views come from one boot
// of one machine, so their usable frames must agree except where Linux edits
// its own copy of the map: below 1 MiB it always does (trim_bios_range()
// reserves page 0 and drops RAM in 640 KiB-1 MiB), and anything else must be
// an edit the kernel logged ("e820: update ... usable ==> reserved",
// "e820: remove ... usable"). The live test runs on this machine; the
// fixture test runs the same check everywhere.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "memmap_text.hpp"

#ifndef FRAMEALLOC_CAPTURES_DIR
#error "FRAMEALLOC_CAPTURES_DIR must name tests/memmap/captures"
#endif

namespace framealloc::memmap_test {
namespace {

namespace fs = std::filesystem;
using namespace framealloc::memmap_text;
using Interval = std::pair<std::uint64_t, std::uint64_t>;  // frame numbers, inclusive

std::string capture(const std::string& name) {
    return std::string(FRAMEALLOC_CAPTURES_DIR) + "/" + name;
}

class Scratch {
  public:
    Scratch()
        : path_(fs::temp_directory_path() / ("framealloc-machine-" + std::to_string(getpid()) +
                                             "-" + std::to_string(counter_++))) {
        fs::create_directories(path_);
    }
    ~Scratch() {
        std::error_code ec;
        fs::remove_all(path_, ec);
    }
    Scratch(const Scratch&) = delete;
    Scratch& operator=(const Scratch&) = delete;
    [[nodiscard]] std::string path(const std::string& name) const {
        return (path_ / name).string();
    }
    void write(const std::string& name, const std::string& text) const {
        fs::create_directories((path_ / name).parent_path());
        std::ofstream(path_ / name, std::ios::binary) << text;
    }
    /// One /sys/firmware/memmap entry directory.
    void entry(const std::string& dir, int n, const std::string& start, const std::string& end,
               const std::string& type) const {
        const std::string base = dir + "/" + std::to_string(n) + "/";
        write(base + "start", start + "\n");
        write(base + "end", end + "\n");
        write(base + "type", type + "\n");
    }

  private:
    static inline int counter_ = 0;
    fs::path path_;
};

/// Rebuilds the directory tree a `grep -r . /sys/firmware/memmap` capture
/// was taken from, under `dir` of `scratch`.
void materialize_sysfs(const Scratch& scratch, const std::string& dir, const std::string& file) {
    std::ifstream in(file);
    std::string line;
    const std::string prefix = "/sys/firmware/memmap/";
    while (std::getline(in, line)) {
        if (line.rfind(prefix, 0) != 0) {
            continue;
        }
        const std::size_t colon = line.find(':');
        scratch.write(dir + "/" + line.substr(prefix.size(), colon - prefix.size()),
                      line.substr(colon + 1) + "\n");
    }
}

// --- Frame-set arithmetic for the cross-check ---------------------------------

std::vector<Interval> merge(std::vector<Interval> in) {
    std::sort(in.begin(), in.end());
    std::vector<Interval> out;
    for (const Interval& i : in) {
        if (!out.empty() && i.first <= out.back().second + 1) {
            out.back().second = std::max(out.back().second, i.second);
        } else {
            out.push_back(i);
        }
    }
    return out;
}

std::vector<Interval> merged(const std::vector<PhysicalMemoryRegion>& regions) {
    std::vector<Interval> in;
    for (const auto& r : regions) {
        if (!r.frames.is_empty()) {
            in.emplace_back(r.frames.start().number(), r.frames.end().number());
        }
    }
    return merge(in);
}

/// `a` minus `b`; both sorted and merged.
std::vector<Interval> subtract(const std::vector<Interval>& a, const std::vector<Interval>& b) {
    std::vector<Interval> out;
    for (Interval piece : a) {
        for (const Interval& cut : b) {
            if (cut.second < piece.first || cut.first > piece.second) {
                continue;
            }
            if (cut.first > piece.first) {
                out.emplace_back(piece.first, cut.first - 1);
            }
            if (cut.second >= piece.second) {
                piece.first = 1;
                piece.second = 0;  // consumed
                break;
            }
            piece.first = cut.second + 1;
        }
        if (piece.first <= piece.second) {
            out.push_back(piece);
        }
    }
    return out;
}

std::vector<Interval> usable_set(const ParsedMap& map) {
    return subtract(merged(map.free), merged(map.reserved));
}

std::uint64_t count(const std::vector<Interval>& set) {
    std::uint64_t n = 0;
    for (const Interval& i : set) {
        n += i.second - i.first + 1;
    }
    return n;
}

std::string describe(const std::vector<Interval>& set) {
    std::ostringstream out;
    for (const Interval& i : set) {
        out << " [frame 0x" << std::hex << i.first << "-0x" << i.second << std::dec << "]";
    }
    return out.str();
}

struct CrossCheck {
    std::uint64_t sysfs_frames = 0;
    std::uint64_t iomem_frames = 0;
    std::vector<Interval> only_sysfs;   ///< usable in the firmware map only
    std::vector<Interval> only_iomem;   ///< usable in the kernel's view only: never allowed
    std::vector<Interval> unexplained;  ///< only_sysfs outside the edits Linux makes
};

/// Frames below 1 MiB that the firmware calls usable and Linux does not are
/// trim_bios_range()'s doing (arch/x86/kernel/setup.c); `logged` holds the
/// other ranges the kernel log says it took away.
CrossCheck cross_check(const ParsedMap& sysfs, const ParsedMap& iomem,
                       std::vector<Interval> logged) {
    CrossCheck c;
    const std::vector<Interval> s = usable_set(sysfs);
    const std::vector<Interval> i = usable_set(iomem);
    c.sysfs_frames = count(s);
    c.iomem_frames = count(i);
    c.only_sysfs = subtract(s, i);
    c.only_iomem = subtract(i, s);
    logged.emplace_back(0, 0xff);  // the first 1 MiB
    c.unexplained = subtract(c.only_sysfs, merge(logged));
    return c;
}

/// The frames of every "e820: update [mem S-E] usable ==> <not usable>" and
/// "e820: remove [mem S-E] usable" line in the kernel log, read from
/// /dev/kmsg. Empty, with `note` saying so, when the log cannot be read.
std::vector<Interval> kernel_e820_edits(std::string& note) {
    const int fd = ::open("/dev/kmsg", O_RDONLY | O_NONBLOCK);
    if (fd < 0) {
        note = "the kernel log (/dev/kmsg) is not readable, so only the first 1 MiB may differ";
        return {};
    }
    std::vector<Interval> edits;
    char record[8192];
    for (;;) {
        const ssize_t n = ::read(fd, record, sizeof record - 1);
        if (n < 0 && errno == EPIPE) {
            continue;  // records overwritten while reading; carry on with the next
        }
        if (n <= 0) {
            break;  // EAGAIN: the end of the log
        }
        const std::string text(record, static_cast<std::size_t>(n));
        for (const char* verb : {"e820: update [mem 0x", "e820: remove [mem 0x"}) {
            const std::size_t at = text.find(verb);
            if (at == std::string::npos) {
                continue;
            }
            const std::string rest = text.substr(at + std::string(verb).size() - 2);
            const std::size_t close = rest.find(']');
            const std::string after = rest.substr(close + 1);
            const bool takes_ram = verb[6] == 'u'
                                       ? after.rfind(" usable ==> ", 0) == 0 &&
                                             after.find("==> usable") == std::string::npos
                                       : after.rfind(" usable", 0) == 0;
            std::uint64_t first = 0;
            std::uint64_t last = 0;
            if (takes_ram &&
                std::sscanf(rest.c_str(), "%" SCNx64 "-%" SCNx64, &first, &last) == 2) {
                edits.emplace_back(first >> 12, last >> 12);
            }
        }
    }
    ::close(fd);
    return edits;
}

// --- The sysfs reader ---------------------------------------------------------

TEST(SysfsMemmap, ReadsARealCaptureWithInclusiveEnds) {
    Scratch scratch;
    const std::string dir = scratch.path("memmap");
    materialize_sysfs(scratch, "memmap", capture("sysfs-firecracker-1.txt"));
    const TextParseResult r = read_sysfs_memmap(dir);
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_EQ(r.map().format, MapFormat::kSysfs);
    EXPECT_EQ(r.map().entries, 5U);
    EXPECT_EQ(r.map().source, dir);
    // 0x0-0x9fbff -> 0x9f = 159; 0x100000-0xbfffffff -> 0xc0000-0x100 = 786176;
    // 0x100000000-0x63fffffff -> 0x540000 = 5505024. 159+786176+5505024 = 6291359
    EXPECT_EQ(usable_frames(r.map()), 6291359U);
    EXPECT_EQ(merged(r.map().reserved), (std::vector<Interval>{{0x9f, 0xff}, {0xeec00, 0xfebff}}));
}

TEST(SysfsMemmap, EntriesAreNamedByNumberNotByTextOrder) {
    Scratch scratch;
    for (int n = 0; n < 12; ++n) {  // "10" and "11" sort before "2" as text
        const std::uint64_t start = static_cast<std::uint64_t>(n) * 0x100000;
        std::ostringstream s;
        std::ostringstream e;
        s << "0x" << std::hex << (n == 10 ? 0x200000 + 0x1000 : start);
        e << "0x" << std::hex << start + 0xfffff;
        scratch.entry("memmap", n, s.str(), e.str(), n % 2 == 0 ? "System RAM" : "Reserved");
    }
    const TextParseResult r = read_sysfs_memmap(scratch.path("memmap"));
    ASSERT_FALSE(r.ok());
    EXPECT_FALSE(r.error().unreadable);
    EXPECT_NE(r.error().message.find("memmap/10: "), std::string::npos) << r.error().message;
    EXPECT_NE(r.error().message.find("overlaps entry 2 "), std::string::npos) << r.error().message;
}

TEST(SysfsMemmap, BadEntriesNameTheFileAtFault) {
    Scratch scratch;
    scratch.entry("a", 0, "0x0", "0x9fbff", "System RAM");
    scratch.entry("a", 1, "0x100000", "0xffffff", "Holographic RAM");
    const TextParseResult unknown = read_sysfs_memmap(scratch.path("a"));
    ASSERT_FALSE(unknown.ok());
    EXPECT_NE(unknown.error().message.find("a/1/type: unknown type 'Holographic RAM'"),
              std::string::npos)
        << unknown.error().message;

    scratch.entry("b", 0, "0x0", "9fbff", "System RAM");
    const TextParseResult bare = read_sysfs_memmap(scratch.path("b"));
    ASSERT_FALSE(bare.ok());
    EXPECT_NE(bare.error().message.find("b/0: start and end"), std::string::npos);

    scratch.entry("c", 0, "0x2000", "0x1fff", "System RAM");
    const TextParseResult reversed = read_sysfs_memmap(scratch.path("c"));
    ASSERT_FALSE(reversed.ok());
    EXPECT_NE(reversed.error().message.find("end is below start"), std::string::npos);

    scratch.write("d/0/start", "0x0\n");  // no end, no type
    const TextParseResult partial = read_sysfs_memmap(scratch.path("d"));
    ASSERT_FALSE(partial.ok());
    EXPECT_TRUE(partial.error().unreadable);
    EXPECT_NE(partial.error().message.find("d/0/end does not exist"), std::string::npos)
        << partial.error().message;
}

TEST(SysfsMemmap, OldAndRareTypeNamesAreReservedExceptSystemRam) {
    Scratch scratch;
    const char* names[] = {"reserved",        "ACPI Tables",       "ACPI Non-volatile Storage",
                           "Unusable memory", "Persistent Memory", "Persistent Memory (legacy)",
                           "Soft Reserved",   "Unknown E820 type"};
    int n = 0;
    for (const char* name : names) {
        std::ostringstream s;
        s << "0x" << std::hex << (n + 1) * 0x1000;
        std::ostringstream e;
        e << "0x" << std::hex << (n + 1) * 0x1000 + 0xfff;
        scratch.entry("m", n++, s.str(), e.str(), name);
    }
    scratch.entry("m", n, "0x100000", "0x1fffff", "System RAM");
    const TextParseResult r = read_sysfs_memmap(scratch.path("m"));
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_EQ(merged(r.map().free), (std::vector<Interval>{{0x100, 0x1ff}}));
    EXPECT_EQ(merged(r.map().reserved), (std::vector<Interval>{{1, 8}}));
}

// --- Choosing a source ----------------------------------------------------------

TEST(ThisMachine, SysfsIsPreferredAndNamed) {
    Scratch scratch;
    materialize_sysfs(scratch, "memmap", capture("sysfs-firecracker-1.txt"));
    MachinePaths paths{scratch.path("memmap"), capture("iomem-firecracker-1.txt")};
    std::ostringstream out;
    std::ostringstream err;
    ASSERT_EQ(run_this_machine_command(paths, out, err), 0) << err.str();
    EXPECT_EQ(out.str().rfind("this machine, read from " + paths.sysfs_memmap +
                                  ": sysfs map, 5 "
                                  "entries",
                              0),
              0U)
        << out.str();
    EXPECT_NE(out.str().find("usable: 6291359 frames"), std::string::npos) << out.str();
}

TEST(ThisMachine, WithoutSysfsIomemIsReadAndTheReasonGiven) {
    MachinePaths paths{"/nonexistent/firmware/memmap", capture("iomem-firecracker-1.txt")};
    const TextParseResult r = read_this_machine(paths);
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_EQ(r.map().format, MapFormat::kIomem);
    EXPECT_EQ(r.map().source, paths.proc_iomem);
    EXPECT_EQ(r.map().note, "/nonexistent/firmware/memmap does not exist");
    EXPECT_EQ(usable_frames(r.map()), 6291358U);
    std::ostringstream out;
    std::ostringstream err;
    ASSERT_EQ(run_this_machine_command(paths, out, err), 0) << err.str();
    EXPECT_NE(out.str().find("read from " + paths.proc_iomem + " because "), std::string::npos)
        << out.str();
}

TEST(ThisMachine, WhenNeitherCanBeReadBothReasonsAreGiven) {
    MachinePaths nowhere{"/nonexistent/sys/memmap", "/nonexistent/proc/iomem"};
    const TextParseResult missing = read_this_machine(nowhere);
    ASSERT_FALSE(missing.ok());
    EXPECT_TRUE(missing.error().unreadable);
    for (const char* part : {"/nonexistent/sys/memmap does not exist",
                             "/nonexistent/proc/iomem does not exist", "Linux"}) {
        EXPECT_NE(missing.error().message.find(part), std::string::npos)
            << part << " in " << missing.error().message;
    }
    std::ostringstream out;
    std::ostringstream err;
    EXPECT_EQ(run_this_machine_command(nowhere, out, err), 2);
    EXPECT_NE(err.str().find("this machine: error: cannot read"), std::string::npos) << err.str();

    Scratch scratch;  // what a non-root reader sees in /proc/iomem
    scratch.write("iomem", "00000000-00000000 : Reserved\n00000000-00000000 : System RAM\n");
    const TextParseResult hidden = read_this_machine({nowhere.sysfs_memmap, scratch.path("iomem")});
    ASSERT_FALSE(hidden.ok());
    EXPECT_TRUE(hidden.error().unreadable);
    EXPECT_NE(hidden.error().message.find("as root"), std::string::npos) << hidden.error().message;
}

TEST(ThisMachine, AMalformedSysfsMapIsReportedNotReplaced) {
    Scratch scratch;
    scratch.entry("memmap", 0, "0x0", "0x9fbff", "Warp Core");
    const TextParseResult r =
        read_this_machine({scratch.path("memmap"), capture("iomem-firecracker-1.txt")});
    ASSERT_FALSE(r.ok());
    EXPECT_FALSE(r.error().unreadable);
    EXPECT_NE(r.error().message.find("Warp Core"), std::string::npos);
}

// --- The cross-check ------------------------------------------------------------

TEST(CrossCheck, OneBootsCapturesAgreeExceptThePageLinuxReservesBelow1MiB) {
    Scratch scratch;
    materialize_sysfs(scratch, "memmap", capture("sysfs-firecracker-1.txt"));
    const TextParseResult sysfs = read_sysfs_memmap(scratch.path("memmap"));
    const TextParseResult iomem = read_proc_iomem(capture("iomem-firecracker-1.txt"));
    ASSERT_TRUE(sysfs.ok()) << sysfs.error().message;
    ASSERT_TRUE(iomem.ok()) << iomem.error().message;
    const CrossCheck c = cross_check(sysfs.map(), iomem.map(), {});
    EXPECT_EQ(c.sysfs_frames, 6291359U);
    EXPECT_EQ(c.iomem_frames, 6291358U);
    // The firmware says 0x0-0x9fbff is RAM; Linux reserved 0x0-0xfff for itself.
    EXPECT_EQ(c.only_sysfs, (std::vector<Interval>{{0, 0}}));
    EXPECT_TRUE(c.only_iomem.empty());
    EXPECT_TRUE(c.unexplained.empty());
}

TEST(CrossCheck, ADifferenceAbove1MiBThatNoLogExplainsIsCaught) {
    Scratch scratch;
    materialize_sysfs(scratch, "memmap", capture("sysfs-firecracker-1.txt"));
    scratch.write("iomem",
                  "00000000-00000fff : Reserved\n00001000-0009fbff : System RAM\n"
                  "00100000-00ffffff : System RAM\n01000000-01000fff : Reserved\n"
                  "01001000-bfffffff : System RAM\n100000000-63fffffff : System RAM\n");
    const TextParseResult sysfs = read_sysfs_memmap(scratch.path("memmap"));
    const TextParseResult iomem = read_proc_iomem(scratch.path("iomem"));
    ASSERT_TRUE(sysfs.ok() && iomem.ok());
    const CrossCheck silent = cross_check(sysfs.map(), iomem.map(), {});
    EXPECT_EQ(silent.unexplained, (std::vector<Interval>{{0x1000, 0x1000}}));
    const CrossCheck logged = cross_check(sysfs.map(), iomem.map(), {{0x1000, 0x1000}});
    EXPECT_TRUE(logged.unexplained.empty());
}

TEST(CrossCheck, ThisMachinesSysfsAndIomemAgree) {
    const MachinePaths live;
    const TextParseResult sysfs = read_sysfs_memmap(live.sysfs_memmap);
    if (!sysfs.ok() && sysfs.error().unreadable) {
        GTEST_SKIP() << "no firmware map to compare: " << sysfs.error().message;
    }
    ASSERT_TRUE(sysfs.ok()) << sysfs.error().message;
    const TextParseResult iomem = read_proc_iomem(live.proc_iomem);
    if (!iomem.ok() && iomem.error().unreadable) {
        GTEST_SKIP() << "no kernel view to compare: " << iomem.error().message;
    }
    ASSERT_TRUE(iomem.ok()) << iomem.error().message;
    std::ifstream cmdline("/proc/cmdline");
    const std::string args((std::istreambuf_iterator<char>(cmdline)), {});
    for (const char* option : {" mem=", " memmap=", " efi_fake_mem="}) {
        if ((" " + args).find(option) != std::string::npos) {
            GTEST_SKIP() << "the kernel command line edits the map (" << option + 1
                         << "), so its two views differ by design";
        }
    }
    std::string note;
    const std::vector<Interval> logged = kernel_e820_edits(note);
    const CrossCheck c = cross_check(sysfs.map(), iomem.map(), logged);
    std::cout << "sysfs usable " << c.sysfs_frames << " frames, /proc/iomem usable "
              << c.iomem_frames
              << " frames; usable in the firmware map only:" << describe(c.only_sysfs)
              << "; kernel-logged e820 edits: " << logged.size()
              << (note.empty() ? "" : " (" + note + ")") << "\n";
    RecordProperty("sysfs_usable_frames", std::to_string(c.sysfs_frames));
    RecordProperty("iomem_usable_frames", std::to_string(c.iomem_frames));
    EXPECT_TRUE(c.only_iomem.empty())
        << "Linux calls frames usable that the firmware did not:" << describe(c.only_iomem);
    EXPECT_TRUE(c.unexplained.empty())
        << "frames the firmware calls usable and Linux does not, above 1 MiB and in no logged "
           "e820 edit:"
        << describe(c.unexplained) << (note.empty() ? "" : " (" + note + ")");
}

}  // namespace
}  // namespace framealloc::memmap_test
