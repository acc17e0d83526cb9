// The picture's axis: proportional to frames except for holes (a fixed gap)
// and tiny segments (a minimum width), on whole pixels, with the rows filled
// exactly -- for a small VM and for a 12 TiB server alike.
#include <gtest/gtest.h>

#include <cmath>

#include "svg_layout.hpp"

namespace framealloc::sim {
namespace {

Snapshot snapshot_of(std::vector<StateRun> runs) {
    Snapshot s;
    s.runs = std::move(runs);
    return s;
}

void expect_well_formed(const Layout& layout) {
    ASSERT_FALSE(layout.segments.empty());
    EXPECT_GE(layout.rows, 4);
    double x = 0;
    for (const Segment& s : layout.segments) {
        EXPECT_NEAR(s.x, x, 1e-6);
        EXPECT_GE(s.width, 5.0) << "every segment stays visible";
        x += s.width;
    }
    EXPECT_NEAR(x, layout.total_width(), 1e-6);
}

TEST(SimLayout, HolesAndLongRunsBecomeTheirOwnSegments) {
    const Snapshot snap = snapshot_of({
        {{0, 99}, FrameState::kFree},
        {{100, 100}, FrameState::kReserved},
        {{0x1000, 0x1000 + kSqueezeFrames}, FrameState::kFree},  // after a hole, long
        {{0x1001 + kSqueezeFrames, 0x1010 + kSqueezeFrames}, FrameState::kAllocated},
    });
    const Layout layout = make_layout(snap, 1000);
    expect_well_formed(layout);
    ASSERT_EQ(layout.segments.size(), 4U);
    EXPECT_EQ(layout.segments[0].kind, SegmentKind::kDetail);
    EXPECT_EQ(layout.segments[0].frames.last, 100U);
    EXPECT_EQ(layout.segments[1].kind, SegmentKind::kHole);
    EXPECT_EQ(layout.segments[1].frames.first, 101U);
    EXPECT_EQ(layout.segments[1].frames.last, 0xFFFU);
    EXPECT_EQ(layout.segments[2].kind, SegmentKind::kUniform);
    EXPECT_EQ(layout.segments[3].kind, SegmentKind::kDetail);
}

TEST(SimLayout, A12TiBServerKeepsItsOneFrameRegionsVisible) {
    const std::uint64_t tib = 1ULL << 28;  // frames per TiB
    std::vector<StateRun> runs;
    runs.push_back({{0, 158}, FrameState::kFree});
    runs.push_back({{159, 159}, FrameState::kReserved});
    runs.push_back({{256, 0xBFFFF}, FrameState::kFree});
    runs.push_back({{0xFEE00, 0xFEE00}, FrameState::kReservedAllocated});
    std::uint64_t at = 0x100000;
    for (int node = 0; node < 12; ++node) {
        runs.push_back({{at, at + 1000}, FrameState::kAllocated});
        runs.push_back({{at + 1001, at + tib - 1}, FrameState::kFree});
        at += tib;
    }
    const Layout layout = make_layout(snapshot_of(runs), 1000);
    expect_well_formed(layout);
    double widest = 0;
    for (const Segment& s : layout.segments) {
        widest = std::max(widest, s.width);
    }
    EXPECT_LT(widest, layout.total_width() / 4) << "no single TiB run swallows the picture";
    // Positions grow with addresses everywhere a frame is drawn.
    double last = -1;
    for (const StateRun& r : runs) {
        const double x = x_of_frame(layout, r.frames.first);
        ASSERT_GE(x, 0);
        EXPECT_GT(x, last);
        last = x;
    }
    EXPECT_LT(x_of_frame(layout, 200), 0) << "frame 200 lies in a hole";
}

TEST(SimLayout, WidthsAreProportionalToFramesApartFromHolesAndMinimums) {
    // 1 GiB free, a one-frame MMIO page after a hole, 3 GiB allocated.
    const std::uint64_t gib = 1ULL << 18;
    const Snapshot snap = snapshot_of({
        {{0, gib - 1}, FrameState::kFree},
        {{gib + 100, gib + 100}, FrameState::kReservedAllocated},
        {{2 * gib, 5 * gib - 1}, FrameState::kAllocated},
    });
    const Layout layout = make_layout(snap, 1000);
    expect_well_formed(layout);
    ASSERT_EQ(layout.segments.size(), 5U);  // free, hole, page, hole, allocated
    const Segment& free = layout.segments[0];
    const Segment& page = layout.segments[2];
    const Segment& allocated = layout.segments[4];
    EXPECT_EQ(layout.segments[1].width, kHoleWidth);
    EXPECT_EQ(page.width, kMinSegmentWidth) << "one frame is drawn at the minimum width";
    // The rest is shared 1:3, to the pixel.
    const double rest = layout.total_width() - 2 * kHoleWidth - kMinSegmentWidth;
    EXPECT_NEAR(free.width, rest / 4, 1.0);
    EXPECT_NEAR(allocated.width, rest * 3 / 4, 1.0);
    for (const Segment& s : layout.segments) {
        EXPECT_EQ(s.x, std::round(s.x)) << "segments start on whole pixels";
        EXPECT_EQ(s.width, std::round(s.width));
    }
}

TEST(SimLayout, DetailIsLinearInsideASegment) {
    const Snapshot snap = snapshot_of({{{0, 999}, FrameState::kFree}});
    const Layout layout = make_layout(snap, 1000);
    ASSERT_EQ(layout.segments.size(), 1U);
    const double a = x_of_frame(layout, 0);
    const double b = x_of_frame(layout, 500);
    const double c = x_of_frame(layout, 999);
    EXPECT_NEAR(b - a, layout.total_width() / 2, 1e-6);
    EXPECT_LT(c, layout.total_width());
}

}  // namespace
}  // namespace framealloc::sim
