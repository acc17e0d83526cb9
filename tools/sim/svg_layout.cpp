// Segment widths: holes get kHoleWidth; memory shares the rest in proportion
// to its frames, except that a segment whose share would be narrower than
// kMinSegmentWidth gets that width and the others shrink to pay for it
// (water-filling, so the distortion is the least that keeps everything
// visible).
#include "svg_layout.hpp"

#include <algorithm>
#include <cmath>

namespace framealloc::sim {
namespace {

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

    // Enough rows that holes and minimum widths take at most a tenth of the
    // strip, so the proportions stay honest.
    double fixed = 0;
    std::uint64_t frames = 0;
    for (const Segment& s : segs) {
        fixed += s.kind == SegmentKind::kHole ? kHoleWidth : kMinSegmentWidth;
        frames += s.kind == SegmentKind::kHole ? 0 : s.frames.size();
    }
    layout.rows = std::clamp(static_cast<int>(std::ceil(fixed * 10 / row_width)), 4, 16);

    // Water-filling: segments below the minimum are pinned to it, and the
    // others share what is left in proportion to their frames.
    std::vector<bool> pinned(segs.size(), false);
    double holes = 0;
    for (const Segment& s : segs) {
        holes += s.kind == SegmentKind::kHole ? kHoleWidth : 0;
    }
    for (;;) {
        double spare = layout.total_width() - holes;
        std::uint64_t free_frames = frames;
        for (std::size_t i = 0; i < segs.size(); ++i) {
            if (pinned[i]) {
                spare -= kMinSegmentWidth;
                free_frames -= segs[i].frames.size();
            }
        }
        bool changed = false;
        for (std::size_t i = 0; i < segs.size(); ++i) {
            Segment& s = segs[i];
            if (s.kind == SegmentKind::kHole) {
                s.width = kHoleWidth;
            } else if (pinned[i]) {
                s.width = kMinSegmentWidth;
            } else {
                s.width = free_frames == 0
                              ? kMinSegmentWidth
                              : std::max(0.0, spare) * static_cast<double>(s.frames.size()) /
                                    static_cast<double>(free_frames);
                if (s.width < kMinSegmentWidth) {
                    pinned[i] = true;
                    changed = true;
                }
            }
        }
        if (!changed) {
            break;
        }
    }
    double x = 0;
    for (Segment& s : segs) {
        s.x = x;
        x += s.width;
    }
    // Whole-pixel boundaries (rounded cumulatively, so no width drifts and the
    // last segment ends exactly at the strip's end): a one-pixel column of
    // the picture then shows its own frames, never a blend with its
    // neighbour's, and the colours' areas stay what they mean.
    const double scale = x > 0 ? layout.total_width() / x : 1;
    for (std::size_t i = 0; i < segs.size(); ++i) {
        const double begin = std::round(segs[i].x * scale);
        const double end =
            i + 1 < segs.size() ? std::round(segs[i + 1].x * scale) : layout.total_width();
        segs[i].x = begin;
        segs[i].width = end - begin;
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
    return s.x + s.width * static_cast<double>(frame - s.frames.first) /
                     static_cast<double>(s.frames.size());
}

}  // namespace framealloc::sim
