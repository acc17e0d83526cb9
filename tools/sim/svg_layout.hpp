// Where each frame goes in the picture. Physical address space is mostly
// holes and long stretches nobody touched, so a linear axis hides what
// matters; instead the axis is cut into segments -- detailed stretches drawn
// linearly, long uniform runs squeezed to a marked stub, holes to a fixed
// gap -- whose widths grow sublinearly with their size. The strip is then
// wrapped into rows of equal width.
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

/// A run at least this long (64 MiB) and of one state is drawn squeezed.
inline constexpr std::uint64_t kSqueezeFrames = 16384;

/// Lays out `snap` on rows of `row_width` pixels.
[[nodiscard]] Layout make_layout(const Snapshot& snap, double row_width);

/// The strip position of `frame`, or a negative number when no segment
/// covers it (it lies in a hole).
[[nodiscard]] double x_of_frame(const Layout& layout, std::uint64_t frame);

}  // namespace framealloc::sim
