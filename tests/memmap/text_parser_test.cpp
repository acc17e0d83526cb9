// Tests for the hosted text readers: format detection and names, each line
// syntax (including the older kernel spellings), errors that name the line,
// and the `regions` report's output and exit codes.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "memmap_test_util.hpp"
#include "memmap_text.hpp"

namespace framealloc::memmap_test {
namespace {

using namespace framealloc::memmap_text;

TEST(MemmapText, FormatNamesRoundTripAndAliasesAreAccepted) {
    for (MapFormat f : {MapFormat::kAuto, MapFormat::kE820, MapFormat::kUefi, MapFormat::kMultiboot,
                        MapFormat::kDeviceTree}) {
        EXPECT_EQ(format_from_name(to_string(f)), f);
    }
    EXPECT_EQ(format_from_name("FDT"), MapFormat::kDeviceTree);
    EXPECT_EQ(format_from_name("efi"), MapFormat::kUefi);
    EXPECT_FALSE(format_from_name("bios").has_value());
}

TEST(MemmapText, DetectionPrefersE820WhenALogHoldsSeveralFormats) {
    const std::string efi = "efi: mem00: [Conventional|   |WB] range=[0x0-0xfff] (0MB)\n";
    const std::string e820 = "BIOS-e820: [mem 0x0000000000000000-0x000000000009efff] usable\n";
    EXPECT_EQ(detect_format(efi), MapFormat::kUefi);
    EXPECT_EQ(detect_format(efi + e820), MapFormat::kE820);
    EXPECT_EQ(detect_format("size = 0x14, base_addr = 0x0, length = 0x1000, type = 0x1"),
              MapFormat::kMultiboot);
    EXPECT_EQ(detect_format("  node   0: [mem 0x0000000040000000-0x000000007fffffff]"),
              MapFormat::kDeviceTree);
    EXPECT_EQ(detect_format("efi: memattr: Processing EFI Memory Attributes table\n"),
              std::nullopt);
    EXPECT_EQ(detect_format("# BIOS-e820: in a comment only\nhello\n"), std::nullopt);
}

TEST(MemmapText, E820TypesByNameNumberAndOldKernelSyntax) {
    const TextParseResult r = parse_memory_map(
        "[    0.000000] BIOS-e820: [mem 0x0000000000000000-0x000000000009fbff] usable\n"
        "BIOS-e820: [mem 0x0000000000100000-0x00000000001fffff] persistent (type 12)\n"
        "BIOS-e820: [mem 0x0000000000200000-0x00000000002fffff] type 20\n"
        "BIOS-e820: [mem 0x0000000000300000-0x00000000003fffff] soft reserved\n"
        "BIOS-e820: 0000000000400000 - 0000000000500000 (usable)\n"
        "BIOS-e820: 0000000000500000 - 0000000000501000 (ACPI NVS)\n"
        "e820: update [mem 0x00000000-0x00000fff] usable ==> reserved\n");
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_EQ(r.map().format, MapFormat::kE820);
    EXPECT_EQ(r.map().entries, 6U);
    // Old syntax has an exclusive end: 0x400000 - 0x500000 is frames 0x400..0x4ff.
    EXPECT_EQ(frames_of(r.map().free), (std::vector<Frames>{{0, 0x9e}, {0x400, 0x4ff}}));
    EXPECT_EQ(
        frames_of(r.map().reserved),
        (std::vector<Frames>{{0x100, 0x1ff}, {0x200, 0x2ff}, {0x300, 0x3ff}, {0x500, 0x500}}));
}

TEST(MemmapText, BadLinesAreReportedWithTheirLineNumber) {
    struct Case {
        const char* text;
        std::size_t line;
    };
    for (const Case& c : {
             Case{"# comment\nBIOS-e820: [mem 0x1000-0x1fff] usable\nBIOS-e820: [mem 0x2000] "
                  "usable\n",
                  3},
             Case{"BIOS-e820: [mem 0x2000-0x1000] usable\n", 1},
             Case{"BIOS-e820: [mem 0x1000-0x1fff] frobnicated\n", 1},
             Case{"BIOS-e820: [mem 0x0-0xffffffffffffffff] reserved\n", 1},
             Case{"BIOS-e820: [mem 0x1000-0x1ffffffffffffffffff] usable\n", 1},
             Case{"x\nefi: mem00: [Conventional|   |WB] range=[0x0-0x7ff] (0MB)\n", 2},
             Case{"efi: mem00: [Nonsense|   |WB] range=[0x0-0xfff] (0MB)\n", 1},
             Case{"efi: mem00: [Conventional|   |ZZ] range=[0x0-0xfff] (0MB)\n", 1},
             Case{"size = 0x14, base_addr = 0x0, length = 0x1000\n", 1},
             Case{"size = 0x10, base_addr = 0x0, length = 0x1000, type = 1\n", 1},
             Case{"node   0: [mem 0x1000-0x0fff]\n", 1},
         }) {
        const TextParseResult r = parse_memory_map(c.text);
        ASSERT_FALSE(r.ok()) << c.text;
        EXPECT_EQ(r.error().line, c.line) << c.text;
        EXPECT_FALSE(r.error().message.empty());
    }
}

TEST(MemmapText, TextWithoutMapLinesIsAnErrorOnNoLine) {
    const TextParseResult r = parse_memory_map("hello\nworld\n");
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().line, 0U);
    const TextParseResult explicit_format = parse_memory_map("hello\n", MapFormat::kUefi);
    ASSERT_FALSE(explicit_format.ok());
    EXPECT_EQ(explicit_format.error().line, 0U);
}

TEST(MemmapText, ExplicitFormatIgnoresLinesOfOtherFormats) {
    const std::string log =
        "BIOS-e820: [mem 0x0000000000000000-0x000000000009efff] usable\n"
        "efi: mem00: [Conventional Memory|   |  |  |  |  |  |  |   |WB|WT|WC|UC] "
        "range=[0x0000000000100000-0x00000000001fffff] (1MB)\n";
    const TextParseResult as_uefi = parse_memory_map(log, MapFormat::kUefi);
    ASSERT_TRUE(as_uefi.ok());
    EXPECT_EQ(frames_of(as_uefi.map().free), (std::vector<Frames>{{0x100, 0x1ff}}));
    const TextParseResult as_e820 = parse_memory_map(log, MapFormat::kE820);
    ASSERT_TRUE(as_e820.ok());
    EXPECT_EQ(frames_of(as_e820.map().free), (std::vector<Frames>{{0, 0x9e}}));
}

TEST(MemmapText, UefiAttributesDecideAndOldExclusiveRangesWork) {
    const TextParseResult r = parse_memory_map(
        "efi: mem00: [Conventional|   |  |  |  |  |  |  |  |  |   |  |  |  |UC] "
        "range=[0x0000000000000000-0x0000000000000fff] (0MB)\n"
        "efi: mem01: [Boot Data          |attr=0x000000000000000f] "
        "range=[0x0000000000001000-0x0000000000002fff] (0MB)\n"
        "efi: mem02: [Conventional Memory|   |  |  |  |  |  |   |WB|WT|WC|UC] "
        "range=[0x0000000000003000-0x0000000000005000) (0MB)\n"
        "efi: mem03: [type=99|RUN|WB] range=[0x6000-0x6fff] (0MB)\n"
        "efi: mem04: [Conventional|   |  |SP|  |  |  |  |  |  |   |WB|WT|WC|UC] "
        "range=[0x7000-0x7fff] (0MB)\n");
    ASSERT_TRUE(r.ok()) << r.error().line << ": " << r.error().message;
    EXPECT_EQ(frames_of(r.map().free), (std::vector<Frames>{{1, 2}, {3, 4}}));
    EXPECT_EQ(frames_of(r.map().reserved), (std::vector<Frames>{{0, 0}, {6, 6}, {7, 7}}));
}

TEST(MemmapText, DeviceTreeLogBecomesABlobWithMemoryReservedAndIgnoredRanges) {
    const TextParseResult r = parse_memory_map(
        "OF: fdt: Ignoring memory range 0x40000000 - 0x40200000\n"
        "OF: reserved mem: initialized node linux,cma, compatible id shared-dma-pool\n"
        "OF: reserved mem: 0x0000000040400000..0x00000000407fffff (4096 KiB) map reusable x\n"
        "Early memory node ranges\n"
        "  node   0: [mem 0x0000000040200000-0x000000007fffffff]\n"
        "  node   1: [mem 0x0000000100000000-0x0000000100000fff]\n");
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_EQ(r.map().entries, 4U);
    EXPECT_EQ(frames_of(r.map().free),
              (std::vector<Frames>{{0x40200, 0x7ffff}, {0x100000, 0x100000}}));
    EXPECT_EQ(frames_of(r.map().reserved),
              (std::vector<Frames>{{0x40000, 0x401ff}, {0x40400, 0x407ff}}));
    // 0x7ffff - 0x40200 + 1 = 0x3fe00 = 261632, plus 1, minus the 0x400 = 1024 reserved inside.
    EXPECT_EQ(usable_frames(r.map()), 261632U + 1 - 1024);
}

TEST(MemmapText, UsableFramesCountsOverlapsOnceAndLetsReservedWin) {
    ParsedMap map;
    auto region = [](std::uint64_t first, std::uint64_t last, MemoryRegionType type) {
        return PhysicalMemoryRegion(
            FrameRange<>(Frame<>::from_number(first).value(), Frame<>::from_number(last).value()),
            type);
    };
    map.free = {region(0, 99, MemoryRegionType::kFree), region(50, 149, MemoryRegionType::kFree),
                region(200, 299, MemoryRegionType::kFree)};
    map.reserved = {region(10, 19, MemoryRegionType::kReserved),
                    region(15, 24, MemoryRegionType::kReserved),
                    region(140, 210, MemoryRegionType::kReserved)};
    // free union: 0..149 (150) + 200..299 (100) = 250; reserved union inside it:
    // 10..24 (15) + 140..149 (10) + 200..210 (11) = 36; 250 - 36 = 214.
    EXPECT_EQ(usable_frames(map), 214U);
}

class RegionsCommand : public ::testing::Test {
  protected:
    std::string write(const std::string& name, const std::string& text) {
        const std::filesystem::path path =
            std::filesystem::temp_directory_path() /
            ("framealloc_memmap_" +
             std::to_string(::testing::UnitTest::GetInstance()->random_seed()) + "_" + name);
        std::ofstream(path) << text;
        paths_.push_back(path);
        return path.string();
    }
    void TearDown() override {
        for (const auto& p : paths_) {
            std::filesystem::remove(p);
        }
    }
    std::vector<std::filesystem::path> paths_;
};

TEST_F(RegionsCommand, PrintsRegionsSortedWithTypeSizeAndUsableTotal) {
    const std::string path =
        write("ok.txt",
              "BIOS-e820: [mem 0x0000000000100000-0x00000000001fffff] usable\n"
              "BIOS-e820: [mem 0x0000000000000000-0x000000000009efff] usable\n"
              "BIOS-e820: [mem 0x00000000fec00000-0x00000000fec00fff] reserved\n");
    std::ostringstream out;
    std::ostringstream err;
    ASSERT_EQ(run_regions_command(path, out, err), 0) << err.str();
    const std::string text = out.str();
    EXPECT_TRUE(err.str().empty());
    EXPECT_NE(text.find("e820 map, 3 entries"), std::string::npos) << text;
    const std::size_t low = text.find("0x0000000000000000-0x000000000009efff  free");
    const std::size_t mid = text.find("0x0000000000100000-0x00000000001fffff  free");
    const std::size_t high = text.find("0x00000000fec00000-0x00000000fec00fff  reserved");
    ASSERT_NE(low, std::string::npos) << text;
    ASSERT_NE(mid, std::string::npos) << text;
    ASSERT_NE(high, std::string::npos) << text;
    EXPECT_LT(low, mid);
    EXPECT_LT(mid, high);
    // 0x9f = 159 frames + 0x100 = 256 frames = 415 frames = 1699840 bytes.
    EXPECT_NE(text.find("usable: 415 frames, 1699840 bytes"), std::string::npos) << text;
}

TEST_F(RegionsCommand, BadFileGivesExitCode1AndTheLine) {
    const std::string path =
        write("bad.txt", "BIOS-e820: [mem 0x0-0xfff] usable\nBIOS-e820: junk\n");
    std::ostringstream out;
    std::ostringstream err;
    EXPECT_EQ(run_regions_command(path, out, err), 1);
    EXPECT_NE(err.str().find(path + ":2: error:"), std::string::npos) << err.str();
}

TEST_F(RegionsCommand, MissingFileGivesExitCode2) {
    std::ostringstream out;
    std::ostringstream err;
    EXPECT_EQ(run_regions_command("/nonexistent/framealloc/map.txt", out, err), 2);
    EXPECT_NE(err.str().find("cannot open"), std::string::npos);
}

TEST_F(RegionsCommand, ExplicitFormatOverridesDetection) {
    const std::string path =
        write("fmt.txt", "size = 0x14, base_addr = 0x0, length = 0x2000, type = 0x1\n");
    std::ostringstream out;
    std::ostringstream err;
    EXPECT_EQ(run_regions_command(path, MapFormat::kE820, out, err), 1);
    EXPECT_EQ(run_regions_command(path, MapFormat::kMultiboot, out, err), 0);
    EXPECT_NE(out.str().find("usable: 2 frames"), std::string::npos) << out.str();
}

}  // namespace
}  // namespace framealloc::memmap_test
