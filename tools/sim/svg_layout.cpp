// Segment widths: kMinWidth for anything so a one-frame firmware page stays
// visible, plus a share of the rest proportional to sqrt(frames) for detailed
// stretches and to log2(frames) for squeezed runs and holes. sqrt keeps a
// 12 TiB region from flattening its 4 KiB neighbours while still showing that
// it is bigger; log is for what carries no detail.
#include "svg_layout.hpp"

#include <algorithm>
#include <cmath>

namespace framealloc::sim {
namespace {

constexpr double kMinWidth = 6.0;
constexpr double kHoleWidth = 16.0;

double weight(const Segment& s) {
    const double n = static_cast<double>(s.frames.size());
    switch (s.kind) {
        case SegmentKind::kDetail:
            return std::sqrt(n);
        case SegmentKind::kUniform:
            return 6.0 * std::log2(n);
        case SegmentKind::kHole:
            return 0;
    }
    return 0;
}

void push_detail(std::vector<Segment>& out, const Snapshot& snap, std::size_t begin,
                 std::size_t end) {
    if (begin >= end) {
        return;
    }
    Segment s;
    s.kind = SegmentKind::kDetail;
    s.frames = FrameInterval{snap.runs[begin].frames.first, snap.runs[end - 1].frames.last};
    s.run_begin = begin;
    s.run_end = end;
    out.push_back(s);
}

}  // namespace

Layout make_layout(const Snapshot& snap, double row_width) {
    Layout layout;
    layout.row_width = row_width;
    std::vector<Segment>& segs = layout.segments;
    std::size_t detail_begin = 0;
    for (std::size_t i = 0; i < snap.runs.size(); ++i) {
        const StateRun& run = snap.runs[i];
        if (i > 0 && snap.runs[i - 1].frames.last + 1 < run.frames.first) {
            push_detail(segs, snap, detail_begin, i);
            detail_begin = i;
            Segment hole;
            hole.kind = SegmentKind::kHole;
            hole.frames = FrameInterval{snap.runs[i - 1].frames.last + 1, run.frames.first - 1};
            segs.push_back(hole);
        }
        if (run.frames.size() >= kSqueezeFrames) {
            push_detail(segs, snap, detail_begin, i);
            Segment s;
            s.kind = SegmentKind::kUniform;
            s.frames = run.frames;
            s.state = run.state;
            s.run_begin = i;
            s.run_end = i + 1;
            segs.push_back(s);
            detail_begin = i + 1;
        }
    }
    push_detail(segs, snap, detail_begin, snap.runs.size());

    // Enough rows that the fixed widths take at most a third of the strip.
    double fixed = 0;
    double total_weight = 0;
    for (const Segment& s : segs) {
        fixed += s.kind == SegmentKind::kHole ? kHoleWidth : kMinWidth;
        total_weight += weight(s);
    }
    layout.rows = std::clamp(static_cast<int>(std::ceil(fixed * 3 / row_width)), 4, 16);
    const double spare = std::max(0.0, layout.total_width() - fixed);
    double x = 0;
    for (Segment& s : segs) {
        s.x = x;
        s.width = s.kind == SegmentKind::kHole ? kHoleWidth : kMinWidth;
        if (total_weight > 0) {
            s.width += spare * weight(s) / total_weight;
        }
        x += s.width;
    }
    // Rounding can leave the last segment a hair short or long of the strip.
    if (!segs.empty() && x > 0) {
        const double scale = layout.total_width() / x;
        for (Segment& s : segs) {
            s.x *= scale;
            s.width *= scale;
        }
    }
    return layout;
}

double x_of_frame(const Layout& layout, std::uint64_t frame) {
    const auto it =
        std::upper_bound(layout.segments.begin(), layout.segments.end(), frame,
                         [](std::uint64_t f, const Segment& s) { return f < s.frames.first; });
    if (it == layout.segments.begin()) {
        return -1;
    }
    const Segment& s = *(it - 1);
    if (frame > s.frames.last || s.kind == SegmentKind::kHole) {
        return -1;
    }
    if (s.kind == SegmentKind::kUniform) {
        return s.x;
    }
    return s.x + s.width * static_cast<double>(frame - s.frames.first) /
                     static_cast<double>(s.frames.size());
}

}  // namespace framealloc::sim
