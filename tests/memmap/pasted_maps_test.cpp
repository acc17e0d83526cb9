// Tests for the maps people paste: GRUB lsmmap (both forms), /proc/iomem
// dumps and bare hex tables. Each reading rule gets a small hand-made case;
// the real captures in captures/ then have to parse to usable totals worked
// out by hand from the files. Bad input must name its line.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>

#include "memmap_test_util.hpp"
#include "memmap_text.hpp"

#ifndef FRAMEALLOC_CAPTURES_DIR
#error "FRAMEALLOC_CAPTURES_DIR must name tests/memmap/captures"
#endif

namespace framealloc::memmap_test {
namespace {

using namespace framealloc::memmap_text;

TextParseResult parse_columns(const std::string& text, TableColumns columns) {
    ParseOptions options;
    options.columns = columns;
    return parse_memory_map(text, options);
}

std::string capture(const std::string& name) {
    return std::string(FRAMEALLOC_CAPTURES_DIR) + "/" + name;
}

// --- GRUB ---------------------------------------------------------------------

TEST(GrubLsmmap, NewerAndOlderFormsAndUnnamedTypeNumbersAreRead) {
    const TextParseResult r = parse_memory_map(
        "grub> lsmmap\n"
        "base_addr = 0x0, length = 0x9fc00, available RAM\n"
        "base_addr = 0x9fc00, length = 0x400, type = 0x2\n"
        "base_addr = 0x100000, length = 0x100000, type = 0x1\n"
        "base_addr = 0x200000, length = 0x1000, ACPI reclamaible\n"
        "base_addr = 0x201000, length = 0x1000, NVS\n"
        "base_addr = 0x202000, length = 0x1000, faulty RAM (BadRAM)\n"
        "base_addr = 0x203000, length = 0x1000, type = 0x14\n"
        "base_addr = 0x204000, length = 0x2000, available\n");
    ASSERT_TRUE(r.ok()) << r.error().line << ": " << r.error().message;
    EXPECT_EQ(r.map().format, MapFormat::kGrub);
    EXPECT_EQ(r.map().entries, 8U);
    EXPECT_EQ(frames_of(r.map().free),
              (std::vector<Frames>{{0, 0x9e}, {0x100, 0x1ff}, {0x204, 0x205}}));
    EXPECT_EQ(frames_of(r.map().reserved),
              (std::vector<Frames>{
                  {0x9f, 0x9f}, {0x200, 0x200}, {0x201, 0x201}, {0x202, 0x202}, {0x203, 0x203}}));
}

TEST(GrubLsmmap, ASizeFieldMakesItAMultibootDumpInstead) {
    EXPECT_EQ(detect_format("base_addr = 0x0, length = 0x1000, type = 0x1"), MapFormat::kGrub);
    EXPECT_EQ(detect_format("size = 0x14, base_addr = 0x0, length = 0x1000, type = 0x1"),
              MapFormat::kMultiboot);
}

TEST(GrubLsmmap, BadLinesNameTheirLine) {
    struct Case {
        const char* text;
        std::size_t line;
        const char* says;
    };
    for (const Case& c : {
             Case{"base_addr = 0x0, length = 0x1000, available RAM\n"
                  "base_addr = 0x1000, length = 0x1000, shiny RAM\n",
                  2, "unknown GRUB memory type 'shiny RAM'"},
             Case{"base_addr = 0x0, length = 0x2000, available RAM\n"
                  "base_addr = 0x1000, length = 0x1000, reserved RAM\n",
                  2, "overlaps line 1"},
             Case{"base_addr = 0xfffffffffffff000, length = 0x2000, reserved RAM\n", 1, "2^64"},
             Case{"base_addr = 0x0, length = , available RAM\n", 1, "expected base_addr"},
             Case{"base_addr = 0x0, length = 0x1000, type = 0x100000000\n", 1, "type = 0xN"},
         }) {
        const TextParseResult r = parse_memory_map(c.text);
        ASSERT_FALSE(r.ok()) << c.text;
        EXPECT_EQ(r.error().line, c.line) << c.text;
        EXPECT_NE(r.error().message.find(c.says), std::string::npos) << r.error().message;
    }
}

// --- /proc/iomem ----------------------------------------------------------------

TEST(ProcIomem, TopLevelRamIsFreeEverythingElseReservedAndNestedLinesChangeNothing) {
    const TextParseResult r = parse_memory_map(
        "00000000-00000fff : Reserved\n"
        "00001000-0009ffff : System RAM\n"
        "00100000-3fffffff : System RAM\n"
        "  01000000-01ffffff : Kernel code\n"
        "  20000000-27ffffff : Crash kernel\n"
        "    20000000-20000fff : System RAM\n"
        "fec00000-fec003ff : IOAPIC 0\n"
        "100000000-1ffffffff : PCI Bus 0000:00\n");
    ASSERT_TRUE(r.ok()) << r.error().line << ": " << r.error().message;
    EXPECT_EQ(r.map().format, MapFormat::kIomem);
    EXPECT_EQ(r.map().entries, 5U);
    EXPECT_EQ(frames_of(r.map().free), (std::vector<Frames>{{1, 0x9f}, {0x100, 0x3ffff}}));
    EXPECT_EQ(frames_of(r.map().reserved),
              (std::vector<Frames>{{0, 0}, {0xfec00, 0xfec00}, {0x100000, 0x1fffff}}));
}

TEST(ProcIomem, RamSplitInsideAFrameKeepsThatFrame) {
    // Linux splits RAM at setup_data blobs, mid-frame (a real pattern:
    // 00100000-7ecbc017 and 7ecbc018-7ece2e57). Joined, no frame is lost.
    const TextParseResult r = parse_memory_map(
        "00100000-7ecbc017 : System RAM\n"
        "7ecbc018-7ece2e57 : System RAM\n"
        "7ece2e58-7f8eefff : System RAM\n");
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_EQ(usable_frames(r.map()), 0x7f8efU - 0x100U);
}

TEST(ProcIomem, AllZeroAddressesMeanTheReaderWasNotRoot) {
    const TextParseResult r = parse_memory_map(
        "00000000-00000000 : Reserved\n"
        "00000000-00000000 : System RAM\n"
        "  00000000-00000000 : Kernel code\n");
    ASSERT_FALSE(r.ok());
    EXPECT_TRUE(r.error().unreadable);
    EXPECT_NE(r.error().message.find("CAP_SYS_ADMIN"), std::string::npos) << r.error().message;
}

TEST(ProcIomem, UnassignedZeroWindowsAmongRealLinesAreSkipped) {
    // Root sees some "PCI Bus" windows as 00000000-00000000 when unassigned.
    const TextParseResult r = parse_memory_map(
        "00000000-00000fff : Reserved\n"
        "00001000-0009ffff : System RAM\n"
        "00000000-00000000 : PCI Bus 0000:00\n"
        "00100000-00ffffff : System RAM\n");
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_EQ(usable_frames(r.map()), 0x9fU + 0xf00U);
}

TEST(ProcIomem, BadLinesNameTheirLine) {
    struct Case {
        const char* text;
        std::size_t line;
        const char* says;
    };
    for (const Case& c : {
             Case{"00000000-00000fff : Reserved\n00000800-00001fff : System RAM\n", 2,
                  "overlaps line 1"},
             Case{"00001000-00000fff : System RAM\n", 1, "ends before it starts"},
             Case{"00000000-00000fff : Reserved\n00001000-0009ffff : \n", 2, "without a name"},
         }) {
        const TextParseResult r = parse_memory_map(c.text);
        ASSERT_FALSE(r.ok()) << c.text;
        EXPECT_EQ(r.error().line, c.line) << c.text;
        EXPECT_NE(r.error().message.find(c.says), std::string::npos) << r.error().message;
    }
}

// --- Bare tables ----------------------------------------------------------------

TEST(BareTable, BaseLengthIsRecognisedWhenAnEndWouldFallBelowItsStart) {
    const TextParseResult r = parse_memory_map(
        "0x0000000000000000 0x000000000009fc00 1\n"
        "0x000000000009fc00 0x0000000000000400 2\n"
        "0x0000000000100000 0x0000000000f00000 1\n");
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_EQ(r.map().format, MapFormat::kTable);
    EXPECT_EQ(r.map().columns, TableColumns::kBaseLength);
    EXPECT_EQ(frames_of(r.map().free), (std::vector<Frames>{{0, 0x9e}, {0x100, 0xfff}}));
}

TEST(BareTable, InclusiveAndExclusiveEndsAreToldApartByTheirLastDigit) {
    // As base+length the second row would overlap the third.
    const TextParseResult inclusive = parse_memory_map(
        "0000000000000000 000000000009fbff usable\n"
        "000000000009fc00 00000000000fffff reserved\n"
        "0000000000100000 0000000000ffffff usable\n");
    ASSERT_TRUE(inclusive.ok()) << inclusive.error().message;
    EXPECT_EQ(inclusive.map().columns, TableColumns::kStartEnd);
    EXPECT_EQ(frames_of(inclusive.map().free), (std::vector<Frames>{{0, 0x9e}, {0x100, 0xfff}}));

    const TextParseResult exclusive = parse_memory_map(
        "0x0 0x9fc00 1 (usable)\n"
        "0x9fc00 0x100000 2 (reserved)\n"
        "0x100000 0x1000000 1 (usable)\n");
    ASSERT_TRUE(exclusive.ok()) << exclusive.error().message;
    EXPECT_EQ(exclusive.map().columns, TableColumns::kStartEndExclusive);
    EXPECT_EQ(frames_of(exclusive.map().free), (std::vector<Frames>{{0, 0x9e}, {0x100, 0xfff}}));
}

TEST(BareTable, AnAmbiguousTableAsksForAHeaderOrTheFlag) {
    const std::string text = "0x0 0x9fc00 1\n";  // 0x9fc00 bytes, or up to 0x9fc00
    const TextParseResult guessed = parse_memory_map(text);
    ASSERT_FALSE(guessed.ok());
    EXPECT_NE(guessed.error().message.find("ambiguous"), std::string::npos);
    EXPECT_NE(guessed.error().message.find("--columns"), std::string::npos);

    const TextParseResult forced = parse_columns(text, TableColumns::kBaseLength);
    ASSERT_TRUE(forced.ok()) << forced.error().message;
    EXPECT_EQ(usable_frames(forced.map()), 0x9fU);
    const TextParseResult headed = parse_memory_map("Base Address   Length   Type\n" + text);
    ASSERT_TRUE(headed.ok()) << headed.error().message;
    EXPECT_EQ(headed.map().columns, TableColumns::kBaseLength);
    const TextParseResult as_end = parse_memory_map("start | end | type\n" + text);
    ASSERT_TRUE(as_end.ok()) << as_end.error().message;
    EXPECT_EQ(as_end.map().columns, TableColumns::kStartEndExclusive);
}

TEST(BareTable, BadRowsNameTheirLine) {
    struct Case {
        const char* text;
        TableColumns columns;
        std::size_t line;
        const char* says;
    };
    for (const Case& c : {
             Case{"0x0 0x1000 1\n0x1000 0x1000 frobnicated\n", TableColumns::kAuto, 2,
                  "unknown memory type 'frobnicated'"},
             Case{"0x0 0x1000 1 (reserved)\n", TableColumns::kAuto, 1, "contradicts"},
             Case{"0xfffffffffffff000 0x2000 2\n", TableColumns::kBaseLength, 1, "2^64"},
             Case{"0x0 0x2000 1\n0x1000 0x2000 2\n", TableColumns::kBaseLength, 2,
                  "overlaps line 1"},
             Case{"0x0 0x1fff 1\n0x3000 0x2fff 2\n", TableColumns::kStartEnd, 2, "below start"},
             Case{"0x0 0x1000 0x100000000\n", TableColumns::kAuto, 1, "32 bits"},
         }) {
        const TextParseResult r = parse_columns(c.text, c.columns);
        ASSERT_FALSE(r.ok()) << c.text;
        EXPECT_EQ(r.error().line, c.line) << c.text << r.error().message;
        EXPECT_NE(r.error().message.find(c.says), std::string::npos) << r.error().message;
    }
}

TEST(BareTable, ColumnNamesRoundTrip) {
    for (TableColumns c : {TableColumns::kAuto, TableColumns::kBaseLength, TableColumns::kStartEnd,
                           TableColumns::kStartEndExclusive}) {
        EXPECT_EQ(columns_from_name(to_string(c)), c);
    }
    EXPECT_FALSE(columns_from_name("length-base").has_value());
    for (MapFormat f :
         {MapFormat::kGrub, MapFormat::kIomem, MapFormat::kTable, MapFormat::kSysfs}) {
        EXPECT_EQ(format_from_name(to_string(f)), f);
    }
    EXPECT_EQ(format_from_name("lsmmap"), MapFormat::kGrub);
}

// --- Mixed formats --------------------------------------------------------------

TEST(PastedMaps, APastedMapMixedWithAnotherFormatNamesTheIntruder) {
    struct Case {
        const char* text;
        std::size_t line;
    };
    for (const Case& c : {
             Case{"base_addr = 0x0, length = 0x9fc00, available RAM\n"
                  "# a comment\n"
                  "00100000-3fffffff : System RAM\n",
                  3},
             Case{"BIOS-e820: [mem 0x0000000000000000-0x000000000009fbff] usable\n"
                  "0x0000000000100000 0x0000000000f00000 1\n",
                  2},
             Case{"00000000-00000fff : Reserved\n"
                  "size = 0x14, base_addr = 0x1000, length = 0x1000, type = 0x1\n",
                  2},
         }) {
        EXPECT_EQ(detect_format(c.text), std::nullopt) << c.text;
        const TextParseResult r = parse_memory_map(c.text);
        ASSERT_FALSE(r.ok()) << c.text;
        EXPECT_EQ(r.error().line, c.line) << c.text;
        EXPECT_NE(r.error().message.find("one format"), std::string::npos) << r.error().message;
    }
    // A sysfs map is a directory; as text it is refused, not misread.
    EXPECT_FALSE(parse_memory_map("0x0 0x9fbff System RAM\n", MapFormat::kSysfs).ok());
}

// --- Real captures --------------------------------------------------------------

struct Expected {
    MapFormat format;
    std::size_t entries;
    std::uint64_t usable_frames;
};

// clang-format off
const std::map<std::string, Expected> kExpected = {
    // available: 0x0 + 0x9fc00 -> 0x9f = 159; 0x100000 + 0x7ee0000 ends at 0x7fdffff ->
    // 0x7fe0-0x100 = 0x7ee0 = 32480. 159+32480 = 32639
    {"grub-lsmmap-qemu-1.txt", {MapFormat::kGrub, 6, 32639}},
    // 0x1000-0x9ffff -> 0xa0-1 = 159; 0x140000-0x7fffffff -> 0x80000-0x140 = 0x7fec0 = 523968
    // (Kernel code/data/bss and Crash kernel are nested: still usable). 159+523968 = 524127
    {"iomem-cloud-hypervisor-1.txt", {MapFormat::kIomem, 11, 524127}},
    // 0x1000-0x9ffff -> 159; 0x100000-0x3eeecfff -> 0x3eeed-0x100 = 0x3eded = 257517;
    // 0x3ef1b000-0x3ff9afff -> 0x3ff9b-0x3ef1b = 0x1080 = 4224; 0x3ffff000-0x3fffffff -> 1;
    // 0x100000000-0x19fffffff -> 0xa0000 = 655360. 159+257517+4224+1+655360 = 917261
    {"iomem-hyperv-1.txt", {MapFormat::kIomem, 19, 917261}},
    // 0x1000-0x9fbff -> 1..0x9e = 158; 0x100000-0xbfffffff -> 0xc0000-0x100 = 0xbff00 = 786176;
    // 0x100000000-0x63fffffff -> 0x640000-0x100000 = 0x540000 = 5505024. 158+786176+5505024 = 6291358
    {"iomem-firecracker-1.txt", {MapFormat::kIomem, 9, 6291358}},
    // Inclusive ends (0x9fbff is odd; as base+length line 5 would overlap line 6):
    // 0x0-0x9fbff -> 159; then 786176 and 5505024 as above. 6291359
    {"table-firecracker-start-end-1.txt", {MapFormat::kTable, 5, 6291359}},
    // Header "Start address | Size": 0x0 + 0xbfdde000 -> 0xbfdde = 785886;
    // 0x100000000 + 0x40000000 -> 0x40000 = 262144. 785886+262144 = 1048030
    {"table-td-shim-1.txt", {MapFormat::kTable, 5, 1048030}},
};
// clang-format on

TEST(RealCaptures, EveryCaptureParsesToItsHandCountedTotal) {
    for (const auto& [name, expected] : kExpected) {
        const TextParseResult r = parse_memory_map_file(capture(name));
        ASSERT_TRUE(r.ok()) << name << ":" << r.error().line << ": " << r.error().message;
        EXPECT_EQ(r.map().format, expected.format) << name;
        EXPECT_EQ(r.map().entries, expected.entries) << name;
        EXPECT_EQ(usable_frames(r.map()), expected.usable_frames) << name;
    }
}

TEST(RealCaptures, AHeaderThatContradictsTheRowsIsAnErrorTheFlagOverrides) {
    // td-shim's QEMU table says "End address" over a column of sizes.
    const std::string path = capture("table-td-shim-2.txt");
    const TextParseResult guessed = parse_memory_map_file(path);
    ASSERT_FALSE(guessed.ok());
    EXPECT_EQ(guessed.error().line, 7U) << guessed.error().message;  // 0x2130000 < 0x7ddce000
    EXPECT_NE(guessed.error().message.find("header"), std::string::npos);
    ParseOptions options;
    options.columns = TableColumns::kBaseLength;
    const TextParseResult forced = parse_memory_map_file(path, options);
    ASSERT_TRUE(forced.ok()) << forced.error().message;
    // 0x0 + 0x7ddce000 -> 0x7ddce = 515534; 0x100000000 + 0x80000000 -> 0x80000 = 524288.
    EXPECT_EQ(usable_frames(forced.map()), 515534U + 524288U);
}

TEST(Docs, EveryExampleInMemmapMdParsesAsTheFormatItNames) {
    std::ifstream in(std::string(FRAMEALLOC_DOCS_DIR) + "/memmap.md");
    ASSERT_TRUE(in) << "docs/memmap.md";
    std::ostringstream text;
    text << in.rdbuf();
    const std::string doc = text.str();
    const std::string opening = "```text\n# format: ";
    std::set<MapFormat> shown;
    std::size_t blocks = 0;
    for (std::size_t at = doc.find(opening); at != std::string::npos;
         at = doc.find(opening, at + 1)) {
        const std::size_t body = at + 8;  // past "```text\n"
        const std::string block = doc.substr(body, doc.find("```", body) - body);
        const std::string name =
            block.substr(10, block.find_first_of(" \n", 10) - 10);  // "# format: "
        const auto expected = format_from_name(name);
        ASSERT_TRUE(expected.has_value()) << name;
        const TextParseResult r = parse_memory_map(block);
        ASSERT_TRUE(r.ok()) << block << r.error().line << ": " << r.error().message;
        EXPECT_EQ(r.map().format, *expected) << block;
        EXPECT_GT(usable_frames(r.map()), 0U) << block;
        shown.insert(*expected);
        ++blocks;
    }
    EXPECT_EQ(blocks, 11U);
    EXPECT_EQ(shown.size(), 7U) << "e820, uefi, multiboot, dt, grub, iomem and table";
}

TEST(RealCaptures, EveryFileInTheFolderIsCovered) {
    for (const auto& entry : std::filesystem::directory_iterator(FRAMEALLOC_CAPTURES_DIR)) {
        const std::string name = entry.path().filename().string();
        const bool covered = kExpected.count(name) != 0 || name == "table-td-shim-2.txt" ||
                             name.rfind("sysfs-", 0) == 0;  // sysfs: this_machine_test.cpp
        EXPECT_TRUE(covered) << name << " has no expected total";
    }
}

}  // namespace
}  // namespace framealloc::memmap_test
