// Every real firmware map in shared/memmaps must parse, with the number of
// entries its header declares and a usable total checked against arithmetic
// done by hand from the file (frames of 4 KiB; a free range [S, E] inclusive
// gives floor((E+1)/0x1000) - ceil(S/0x1000) frames). A map added to the
// folder without an entry here fails the suite, so none goes untested.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <string>

#include "framealloc/memmap/region_list.hpp"
#include "memmap_text.hpp"

#ifndef FRAMEALLOC_MEMMAPS_DIR
#error "FRAMEALLOC_MEMMAPS_DIR must name the shared/memmaps folder"
#endif

namespace framealloc::memmap_test {
namespace {

using namespace framealloc::memmap_text;

struct Expected {
    MapFormat format;
    std::uint64_t usable_frames;
};

// clang-format off
const std::map<std::string, Expected> kExpected = {
    // usable: 0x0-0x9ebff -> 0x9e = 158 (ends mid-frame); 0x100000-0xbeed7fff ->
    // 0xbeed8-0x100 = 0xbedd8 = 781784; 0xbf2a9000-0xbf2a9fff -> 1; 0xbf2bb000-0xbf2bbfff -> 1;
    // 0xbf4f2000-0xbf779fff -> 0xbf77a-0xbf4f2 = 0x288 = 648; 0xbfeec000-0xbfefffff -> 0x14 = 20;
    // 0x100001000-0x43fffffff -> 0x440000-0x100001 = 0x33ffff = 3407871.
    // 158+781784+1+1+648+20+3407871 = 4190483
    {"e820-desktop-msi-1.txt", {MapFormat::kE820, 4190483}},
    // 0x0-0x9efff -> 0x9f = 159; 0x100000-0x763fafff -> 0x763fb-0x100 = 0x762fb = 484091;
    // 0x7a40e000-0x7a40efff -> 1; 0x100000000-0x47dffffff -> 0x47e000-0x100000 = 0x37e000 = 3661824.
    // 159+484091+1+3661824 = 4146075
    {"e820-laptop-asus-1.txt", {MapFormat::kE820, 4146075}},
    // 0x0-0x9e7ff -> 0x9e = 158; 0x100000-0x1fffffff -> 0x20000-0x100 = 0x1ff00 = 130816;
    // 0x20200000-0x7a40efff -> 0x7a40f-0x20200 = 0x5a20f = 369167; 0x7bfff000-0x7bffffff -> 1;
    // 0x100000000-0x17fffffff -> 0x80000 = 524288. 158+130816+369167+1+524288 = 1024430
    {"e820-laptop-hp-1.txt", {MapFormat::kE820, 1024430}},
    // 0x0-0x57fff -> 0x58 = 88; 0x59000-0x9cfff -> 0x9d-0x59 = 0x44 = 68;
    // 0x100000-0xce45cfff -> 0xce45d-0x100 = 0xce35d = 844637;
    // 0xce45f000-0xd9592fff -> 0xd9593-0xce45f = 0xb134 = 45364; 0xdb4ff000-0xdb4fffff -> 1;
    // 0x100000000-0x41f7fffff -> 0x41f800-0x100000 = 0x31f800 = 3274752 ("type 20" is reserved).
    // 88+68+844637+45364+1+3274752 = 4164910
    {"e820-laptop-lenovo-1.txt", {MapFormat::kE820, 4164910}},
    // Below 4 GiB: 0x8f = 143; 0x90000-0x9ffff -> 16; 0x100000-0x59cccfff -> 0x59ccd-0x100 =
    // 0x59bcd = 367565; 0x59cd0000-0x677cefff -> 0x677cf-0x59cd0 = 0xdaff = 56063;
    // 0x6efff000-0x6effffff -> 1. Sum 424044 with 0xc07fc00000-0xc07fcfffff -> 0x100 = 256 added.
    // Above: 0x100000000-0x187fdfffff -> 0x187fe00-0x100000 = 0x177fe00 = 24641024;
    // five banks of 0x17ffe00 = 25165312 (0x18.., 0x30.., 0x60.., 0x78.., 0x90..) = 125826560;
    // 0x4880000000-0x607edfffff -> 0x607ee00-0x4880000 = 0x17fee00 = 25161216;
    // 0xa880000000-0xc07e7bffff -> 0xc07e7c0-0xa880000 = 0x17fe7c0 = 25159616.
    // 424044+24641024+125826560+25161216+25159616 = 201212460
    {"e820-server-2.txt", {MapFormat::kE820, 201212460}},
    // 0x0-0x9ffff -> 0xa0 = 160; 0x200000-0xf7ffffff -> 0xf8000-0x200 = 0xf7e00 = 1015296;
    // 0x100000000-0x2fe3fffff -> 0x2fe400-0x100000 = 0x1fe400 = 2089984. 160+1015296+2089984 = 3105440
    {"e820-vm-hyperv-1.txt", {MapFormat::kE820, 3105440}},
    // 0x0-0x9fbff -> 0x9f = 159; 0x100000-0x7ffddfff -> 0x7ffde-0x100 = 0x7fede = 523998;
    // 0x100000000-0x47fffffff -> 0x380000 = 3670016. 159+523998+3670016 = 4194173
    {"e820-vm-qemu-1.txt", {MapFormat::kE820, 4194173}},
    // 0x0-0x9fbff -> 159; 0x100000-0xdffeffff -> 0xdfff0-0x100 = 0xdfef0 = 917232;
    // 0x100000000-0x1559fffff -> 0x155a00-0x100000 = 0x55a00 = 350720. 159+917232+350720 = 1268111
    {"e820-vm-virtualbox-1.txt", {MapFormat::kE820, 1268111}},
    // base + length (not end): type 1 at 0x0 + 0x9fc00 -> 0x9f = 159 and 0x100000 + 0x6f0000 ->
    // 0x7f0-0x100 = 0x6f0 = 1776. 159+1776 = 1935
    {"multiboot-bochs-1.txt", {MapFormat::kMultiboot, 1935}},
    // Same ZenBook as e820-laptop-asus-1. Free (Conventional/Loader/Boot, all WB):
    // mem00-02 0x0-0x9efff -> 1+5+153 = 159; mem04-31 0x100000-0x763fafff, per entry
    // 3840+9370+369041+64+49778+9370+770+27+44+5+16+14+5212+14+37+23+40+52+16+2+24+28+6+9+34232
    // +411+1+1645 = 484091 (= 0x763fb-0x100, no gap); mem37 -> 1; mem38 0x100000000-0x47dffffff
    // -> 3661824. 159+484091+1+3661824 = 4146075, the e820 total of the same machine.
    {"uefi-2.txt", {MapFormat::kUefi, 4146075}},
    // Memory nodes: 0x0-0x3b3fffff -> 0x3b400 = 242688; 0x40000000-0x7fffffff -> 0x40000 =
    // 262144; 0x80000000-0xfbffffff -> 0xfc000-0x80000 = 0x7c000 = 507904; sum 1012736.
    // Reserved CMA 0xe000000..0x2dffffff lies inside the first bank: 0x20000 = 131072 frames
    // lost; the nvram reservations (frame 0x3ef73) lie in the hole between banks.
    // 1012736-131072 = 881664
    {"dt-rpi4b.txt", {MapFormat::kDeviceTree, 881664}},
    // Memory node 0x40200000-0x13fffffff -> 0x140000-0x40200 = 0xffe00 = 1048064; the
    // ignored 0x40000000-0x40200000 (reserved) lies just below it. 1048064
    {"dt-visionfive2.txt", {MapFormat::kDeviceTree, 1048064}},
};
// clang-format on

std::filesystem::path maps_dir() {
    return FRAMEALLOC_MEMMAPS_DIR;
}

/// The "# entries: N" a map file declares in its header.
std::size_t declared_entries(const std::filesystem::path& path) {
    std::ifstream in(path);
    std::string line;
    while (std::getline(in, line)) {
        const std::string key = "# entries: ";
        if (line.rfind(key, 0) == 0) {
            return std::stoul(line.substr(key.size()));
        }
    }
    return 0;
}

TEST(RealMaps, EveryMapInTheFolderHasAHandCheckedExpectation) {
    ASSERT_TRUE(std::filesystem::is_directory(maps_dir())) << maps_dir();
    std::set<std::string> found;
    for (const auto& entry : std::filesystem::directory_iterator(maps_dir())) {
        if (entry.path().extension() == ".txt") {
            found.insert(entry.path().filename().string());
        }
    }
    std::set<std::string> expected;
    for (const auto& [name, e] : kExpected) {
        expected.insert(name);
    }
    EXPECT_EQ(found, expected);
}

class RealMap : public ::testing::TestWithParam<std::string> {};

TEST_P(RealMap, ParsesWithDeclaredEntriesAndHandCheckedUsableFrames) {
    const std::filesystem::path path = maps_dir() / GetParam();
    const Expected& expected = kExpected.at(GetParam());
    const TextParseResult result = parse_memory_map_file(path.string());
    ASSERT_TRUE(result.ok()) << path << ":" << result.error().line << ": "
                             << result.error().message;
    const ParsedMap& map = result.map();
    EXPECT_EQ(map.format, expected.format);
    EXPECT_EQ(map.entries, declared_entries(path));
    EXPECT_EQ(usable_frames(map), expected.usable_frames);
    EXPECT_FALSE(map.free.empty());
    EXPECT_FALSE(map.reserved.empty());

    // The explicit format name gives the same answer as detection.
    const TextParseResult again = parse_memory_map_file(path.string(), expected.format);
    ASSERT_TRUE(again.ok());
    EXPECT_EQ(usable_frames(again.map()), expected.usable_frames);
}

TEST_P(RealMap, FitsAFixedCapacityRegionListAsAKernelWouldUseIt) {
    const TextParseResult result = parse_memory_map_file((maps_dir() / GetParam()).string());
    ASSERT_TRUE(result.ok());
    memmap::RegionList<64> list;
    for (const auto* regions : {&result.map().free, &result.map().reserved}) {
        for (const auto& region : *regions) {
            ASSERT_TRUE(list.add(region).ok());
        }
    }
    EXPECT_EQ(list.free_regions().size(), result.map().free.size());
    EXPECT_EQ(list.reserved_regions().size(), result.map().reserved.size());
}

TEST_P(RealMap, RegionsCommandReportsTheSameTotal) {
    const std::filesystem::path path = maps_dir() / GetParam();
    std::ostringstream out;
    std::ostringstream err;
    ASSERT_EQ(run_regions_command(path.string(), out, err), 0) << err.str();
    const std::uint64_t frames = kExpected.at(GetParam()).usable_frames;
    const std::string want = "usable: " + std::to_string(frames) + " frames, " +
                             std::to_string(frames * 4096) + " bytes";
    EXPECT_NE(out.str().find(want), std::string::npos) << out.str();
}

std::vector<std::string> map_names() {
    std::vector<std::string> names;
    for (const auto& [name, e] : kExpected) {
        names.push_back(name);
    }
    return names;
}

INSTANTIATE_TEST_SUITE_P(SharedMemmaps, RealMap, ::testing::ValuesIn(map_names()),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                             std::string name = info.param.substr(0, info.param.find('.'));
                             for (char& c : name) {
                                 if (c == '-') {
                                     c = '_';
                                 }
                             }
                             return name;
                         });

}  // namespace
}  // namespace framealloc::memmap_test
