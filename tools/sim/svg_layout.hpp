// Where each frame goes in the picture. The axis is proportional: every
// frame of memory the map describes gets the same width, so the areas of the
// colours are the shares of memory in each state. Only two things are not to
// scale: holes (address ranges no region describes) are drawn as a fixed gap,
// and a stretch too small to see gets a minimum width, paid for by the rest.
// Long runs of one state are kept as their own segments (drawn as one block,
// with their size written in). The strip is then wrapped into rows of equal
// width.
#pragma once

#include <cstdint>
#include <vector>

#include "snapshot.hpp"

namespace framealloc::sim {

enum class SegmentKind : std::uint8_t { kDetail, kUniform, kHole };

struct Segment {
    SegmentKind kind = SegmentKind::kDetail;
    FrameInterval frames;                  ///< For a hole: the frames no region describes.
    FrameState state = FrameState::kFree;  ///< kUniform only.
    std::size_t run_begin = 0;             ///< Snapshot runs [run_begin, run_end).
    std::size_t run_end = 0;
    double x = 0;  ///< Start on the unwrapped strip, in pixels.
    double width = 0;
};

struct Layout {
    std::vector<Segment> segments;
    double row_width = 0;
    int rows = 0;
    [[nodiscard]] double total_width() const { return row_width * rows; }
};

/// A run at least this long (64 MiB) and of one state is its own segment.
inline constexpr std::uint64_t kSqueezeFrames = 16384;
/// The gap a hole is drawn as, and the narrowest any memory segment gets.
inline constexpr double kHoleWidth = 14.0;
inline constexpr double kMinSegmentWidth = 5.0;

/// Lays out `snap` on rows of `row_width` pixels.
[[nodiscard]] Layout make_layout(const Snapshot& snap, double row_width);

/// The strip position of `frame`, or a negative number when no segment
/// covers it (it lies in a hole).
[[nodiscard]] double x_of_frame(const Layout& layout, std::uint64_t frame);

}  // namespace framealloc::sim
