// Real firmware memory maps (../shared/memmaps): each one initialises the
// allocator cleanly, and the allocator then hands out exactly the usable
// frames -- the whole 4 KiB frames inside usable entries that no reserved
// entry touches -- and never a reserved one. Frames are taken one at a time
// until the allocator says out of memory (above 8 Mi free frames they are
// taken in largest-chunk pieces first, to bound the run time), each one handed to
// "page tables" so no handle or node is held per frame, and the set taken is
// compared with the set computed here from the regions.
//
// With the text parsers (tools/memmap) every map in the folder is used; two
// maps are also written out by hand below, so the check does not depend on
// the parsers alone.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "framealloc/framealloc.hpp"
#include "framealloc/hosted.hpp"

#if FRAMEALLOC_HAVE_MEMMAP_TEXT
#include "memmap_text.hpp"
#endif

namespace framealloc {
namespace {

using Interval = std::pair<std::uint64_t, std::uint64_t>;  // inclusive frames

std::vector<Interval> merged(const std::vector<PhysicalMemoryRegion>& regions) {
    std::vector<Interval> v;
    for (const auto& r : regions) {
        if (!r.frames.is_empty()) {
            v.emplace_back(r.frames.start().number(), r.frames.end().number());
        }
    }
    std::sort(v.begin(), v.end());
    std::vector<Interval> out;
    for (const auto& i : v) {
        if (!out.empty() && i.first <= out.back().second + 1) {
            out.back().second = std::max(out.back().second, i.second);
        } else {
            out.push_back(i);
        }
    }
    return out;
}

// Free frames minus every reserved frame.
std::vector<Interval> usable(const std::vector<PhysicalMemoryRegion>& free_regions,
                             const std::vector<PhysicalMemoryRegion>& reserved) {
    const auto res = merged(reserved);
    std::vector<Interval> out;
    for (auto [s, e] : merged(free_regions)) {
        std::uint64_t cur = s;
        for (const auto& [rs, re] : res) {
            if (re < cur || rs > e) {
                continue;
            }
            if (rs > cur) {
                out.emplace_back(cur, rs - 1);
            }
            cur = re + 1;
            if (cur > e || re == ~0ULL) {
                break;
            }
        }
        if (cur <= e) {
            out.emplace_back(cur, e);
        }
    }
    return out;
}

std::uint64_t count(const std::vector<Interval>& v) {
    std::uint64_t n = 0;
    for (const auto& [s, e] : v) {
        n += e - s + 1;
    }
    return n;
}

// Runs taken from the allocator, merged as they come.
struct Taken {
    std::vector<Interval> runs;
    void add(std::uint64_t s, std::uint64_t e) {
        if (!runs.empty() && runs.back().second + 1 == s) {
            runs.back().second = e;
        } else {
            runs.emplace_back(s, e);
        }
    }
    // Sorted and merged; false if any frame was taken twice.
    bool normalise() {
        std::sort(runs.begin(), runs.end());
        std::vector<Interval> out;
        for (const auto& r : runs) {
            if (!out.empty() && r.first <= out.back().second) {
                return false;
            }
            if (!out.empty() && r.first == out.back().second + 1) {
                out.back().second = r.second;
            } else {
                out.push_back(r);
            }
        }
        runs = std::move(out);
        return true;
    }
};

void exhaust_and_compare(const std::string& name,
                         const std::vector<PhysicalMemoryRegion>& free_regions,
                         const std::vector<PhysicalMemoryRegion>& reserved) {
    SCOPED_TRACE(name);
    const auto expected = usable(free_regions, reserved);
    const std::uint64_t total = count(expected);
    FrameAllocator a;
    auto init = a.init(Span<const PhysicalMemoryRegion>(free_regions.data(), free_regions.size()),
                       Span<const PhysicalMemoryRegion>(reserved.data(), reserved.size()),
                       hosted_metadata(FrameAllocator::metadata_bytes(free_regions, reserved)));
    ASSERT_TRUE(init.has_value()) << "init: " << init.error().message;
    ASSERT_TRUE(a.check().ok());
    ASSERT_EQ(a.stats().general.total_frames, total);
    ASSERT_EQ(a.stats().general.free_frames, total);

    Taken taken;
    const auto take = [&](AllocatedFrames<>&& f) {
        taken.add(f.start().number(), f.end().number());
        (void)std::move(f).into_mapped().into_page_table();  // keep it allocated, hold nothing
    };
    // Big maps: large pieces first, then single frames for the last
    // FRAMEALLOC_MAP_SINGLES (8 Mi; fewer under sanitizers).
    while (a.stats().general.free_frames > FRAMEALLOC_MAP_SINGLES) {
        auto f = a.allocate_frames(a.stats().general.largest_free_chunk);
        ASSERT_TRUE(f.has_value()) << f.error().message;
        take(std::move(f.value()));
    }
    for (;;) {
        auto f = a.allocate_frames(1);
        if (!f) {
            EXPECT_EQ(f.kind(), ErrorKind::kOutOfMemory);
            break;
        }
        take(std::move(f.value()));
    }
    ASSERT_TRUE(taken.normalise()) << "a frame was handed out twice";
    EXPECT_EQ(count(taken.runs), total);
    EXPECT_EQ(taken.runs, expected) << "the frames handed out are not exactly the usable ones";
    // Never a reserved frame (implied by the equality; stated for the reader).
    for (const auto& [rs, re] : merged(reserved)) {
        for (const auto& [s, e] : taken.runs) {
            EXPECT_TRUE(e < rs || s > re) << "reserved frames handed out";
        }
    }
    EXPECT_TRUE(a.check().ok());
    EXPECT_EQ(a.stats().general.free_frames, 0U);
    EXPECT_EQ(a.stats().reserved.free_frames, a.stats().reserved.total_frames);
}

PhysicalMemoryRegion bytes(std::uint64_t first, std::uint64_t last_inclusive, MemoryRegionType t) {
    return PhysicalMemoryRegion::from_bytes(first, last_inclusive - first + 1, t).value();
}

TEST(RealMaps, QemuE820ByHand) {
    // e820-vm-qemu-1.txt, copied line by line.
    constexpr auto F = MemoryRegionType::kFree;
    constexpr auto R = MemoryRegionType::kReserved;
    const std::vector<PhysicalMemoryRegion> fr = {
        bytes(0x0, 0x9fbff, F), bytes(0x100000, 0x7ffddfff, F), bytes(0x100000000, 0x47fffffff, F)};
    const std::vector<PhysicalMemoryRegion> rr = {
        bytes(0x9fc00, 0x9ffff, R),       bytes(0xf0000, 0xfffff, R),
        bytes(0x7ffde000, 0x7fffffff, R), bytes(0xb0000000, 0xbfffffff, R),
        bytes(0xfed1c000, 0xfed1ffff, R), bytes(0xfeffc000, 0xfeffffff, R),
        bytes(0xfffc0000, 0xffffffff, R)};
    // 0x9f frames below 640 KiB (the last is partly reserved: not usable),
    // 0x7ffde - 0x100 below 2 GiB, 0x380000 above 4 GiB.
    EXPECT_EQ(count(usable(fr, rr)), 0x9fU + (0x7ffdeU - 0x100U) + 0x380000U);
    exhaust_and_compare("e820-vm-qemu-1 (by hand)", fr, rr);
}

TEST(RealMaps, BochsMultibootByHand) {
    // multiboot-bochs-1.txt: base + length entries; type 3 (ACPI) is not free.
    constexpr auto F = MemoryRegionType::kFree;
    constexpr auto R = MemoryRegionType::kReserved;
    const auto len = [](std::uint64_t base, std::uint64_t length, MemoryRegionType t) {
        return PhysicalMemoryRegion::from_bytes(base, length, t).value();
    };
    const std::vector<PhysicalMemoryRegion> fr = {len(0x0, 0x9fc00, F), len(0x100000, 0x6f0000, F)};
    const std::vector<PhysicalMemoryRegion> rr = {len(0x9fc00, 0x400, R), len(0xe8000, 0x18000, R),
                                                  len(0x7f0000, 0x10000, R),
                                                  len(0xfffc0000, 0x40000, R)};
    EXPECT_EQ(count(usable(fr, rr)), 0x9fU + 0x6f0U);
    exhaust_and_compare("multiboot-bochs-1 (by hand)", fr, rr);
}

#if FRAMEALLOC_HAVE_MEMMAP_TEXT
TEST(RealMaps, EveryMapInTheFolderHandsOutExactlyItsUsableFrames) {
    namespace fs = std::filesystem;
    std::vector<fs::path> files;
    for (const auto& entry : fs::directory_iterator(FRAMEALLOC_MEMMAPS_DIR)) {
        if (entry.path().extension() == ".txt") {
            files.push_back(entry.path());
        }
    }
    std::sort(files.begin(), files.end());
    ASSERT_GE(files.size(), 10U);
    for (const auto& path : files) {
        const auto parsed = memmap_text::parse_memory_map_file(path.string());
        ASSERT_TRUE(parsed.ok()) << path << ":" << parsed.error().line << ": "
                                 << parsed.error().message;
        const auto& map = parsed.map();
        EXPECT_EQ(count(usable(map.free, map.reserved)), memmap_text::usable_frames(map)) << path;
        exhaust_and_compare(path.filename().string(), map.free, map.reserved);
    }
}
#endif

}  // namespace
}  // namespace framealloc
