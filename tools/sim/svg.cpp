// The SVG itself: a header with the run's key figures, the memory strip
// (wrapped rows on a proportional axis, per-pixel-column stacked colours so a
// column that is 30% allocated looks 30% allocated, labels for firmware
// regions and MMIO blocks, marks for holes), a legend, and the over-time
// chart. The colours' areas are the shares of memory in each state
// (tests/sim/picture_proportions_test.sh measures them on the rendered PNG).
#include "svg.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <string>

#include "report.hpp"
#include "svg_layout.hpp"

namespace framealloc::sim {
namespace {

constexpr double kWidth = 1200;
constexpr double kGutter = 96;  // the chart's value axis
constexpr double kMargin = 16;
constexpr double kStripWidth = kWidth - 2 * kMargin;
// Average advance of a character of the label fonts (DejaVu Sans), per pixel
// of font size; hex digits are 0.636 em, so this errs on the wide side.
constexpr double kCharWidth = 0.64;
constexpr double kLabelBand = 40;  // three tiers of one-line labels
constexpr int kLabelTiers = 3;
constexpr double kTierHeight = 12;
constexpr double kStripHeight = 34;
constexpr double kBelowBand = 14;
constexpr double kRowHeight = kLabelBand + kStripHeight + kBelowBand + 6;
constexpr double kHeaderHeight = 74;
constexpr double kChartHeight = 240;
constexpr int kStates = 5;
constexpr const char* kNodeColour = "#c0392b";  // NUMA node marks (no state uses red)

constexpr std::array<const char*, kStates> kColours = {
    "#cdebc5",  // free
    "#2f6db5",  // allocated
    "#f29d38",  // per-CPU cached
    "#b4bcc8",  // reserved
    "#7a4bbf",  // reserved, allocated
};

std::string num(double v) {
    char text[32];
    std::snprintf(text, sizeof text, "%.1f", v);
    std::string s = text;
    if (s.size() > 2 && s.compare(s.size() - 2, 2, ".0") == 0) {
        s.resize(s.size() - 2);
    }
    return s;
}

std::string escaped(const std::string& text) {
    std::string out;
    for (const char c : text) {
        switch (c) {
            case '&':
                out += "&amp;";
                break;
            case '<':
                out += "&lt;";
                break;
            case '>':
                out += "&gt;";
                break;
            case '"':
                out += "&quot;";
                break;
            default:
                out += c;
        }
    }
    return out;
}

class Svg {
  public:
    explicit Svg(std::ostream& out) : out_(out) {}
    void rect(double x, double y, double w, double h, const char* fill, const char* extra = "") {
        out_ << "<rect x=\"" << num(x) << "\" y=\"" << num(y) << "\" width=\"" << num(w)
             << "\" height=\"" << num(h) << "\" fill=\"" << fill << "\"" << extra << "/>\n";
    }
    void text(double x, double y, double size, const std::string& s, const char* anchor = "start",
              const char* fill = "#222") {
        out_ << "<text x=\"" << num(x) << "\" y=\"" << num(y) << "\" font-size=\"" << num(size)
             << "\" text-anchor=\"" << anchor << "\" fill=\"" << fill << "\">" << escaped(s)
             << "</text>\n";
    }
    void line(double x1, double y1, double x2, double y2, const char* stroke, double width = 1) {
        out_ << "<line x1=\"" << num(x1) << "\" y1=\"" << num(y1) << "\" x2=\"" << num(x2)
             << "\" y2=\"" << num(y2) << "\" stroke=\"" << stroke << "\" stroke-width=\""
             << num(width) << "\"/>\n";
    }
    void raw(const std::string& s) { out_ << s; }
    std::ostream& stream() { return out_; }

  private:
    std::ostream& out_;
};

// Stacked column heights, quantised to whole pixels so equal neighbours merge.
using Heights = std::array<int, kStates>;

struct Strip {
    const Layout& layout;
    double top = 0;  // y of the first row
    [[nodiscard]] double row_y(int row) const { return top + row * kRowHeight; }
    [[nodiscard]] double strip_y(int row) const { return row_y(row) + kLabelBand; }
    [[nodiscard]] int row_of(double x) const {
        return std::clamp(static_cast<int>(x / layout.row_width), 0, layout.rows - 1);
    }
    [[nodiscard]] double local_x(double x, int row) const {
        return kMargin + x - row * layout.row_width;
    }
};

// Draws a full-height rectangle on the unwrapped strip, split across rows.
void strip_rect(Svg& svg, const Strip& strip, double x, double width, const char* fill,
                const char* extra = "") {
    while (width > 0.01) {
        const int row = strip.row_of(x);
        const double row_end = (row + 1) * strip.layout.row_width;
        const double piece = std::min(width, row_end - x);
        svg.rect(strip.local_x(x, row), strip.strip_y(row), piece, kStripHeight, fill, extra);
        x += piece;
        width -= piece;
    }
}

void draw_detail(Svg& svg, const Strip& strip, const Snapshot& snap, const Segment& s) {
    // Segments start and end on whole pixels (svg_layout.cpp): one column per pixel.
    const int columns = std::max(1, static_cast<int>(std::lround(s.width)));
    const double col_w = s.width / columns;
    const std::uint64_t n = s.frames.size();
    std::size_t run = s.run_begin;
    // One pending stacked column, widened while the next has equal heights.
    Heights pending{};
    double pending_x = 0;
    double pending_w = 0;
    int pending_row = -1;
    const auto flush = [&] {
        if (pending_row < 0) {
            return;
        }
        double y = strip.strip_y(pending_row) + kStripHeight;
        const double x = strip.local_x(pending_x, pending_row);
        for (int k = 0; k < kStates; ++k) {
            if (pending[k] > 0) {
                y -= pending[k];
                svg.rect(x, y, pending_w, pending[k], kColours[k]);
            }
        }
        pending_row = -1;
    };
    for (int c = 0; c < columns; ++c) {
        const std::uint64_t lo = s.frames.first + n * static_cast<std::uint64_t>(c) / columns;
        std::uint64_t hi = s.frames.first + n * static_cast<std::uint64_t>(c + 1) / columns;
        hi = std::max(hi, lo + 1);  // [lo, hi)
        std::array<std::uint64_t, kStates> count{};
        while (run < s.run_end && snap.runs[run].frames.last < lo) {
            ++run;
        }
        for (std::size_t r = run; r < s.run_end && snap.runs[r].frames.first < hi; ++r) {
            const std::uint64_t a = std::max(lo, snap.runs[r].frames.first);
            const std::uint64_t b = std::min(hi - 1, snap.runs[r].frames.last);
            count[static_cast<int>(snap.runs[r].state)] += b - a + 1;
        }
        const std::uint64_t total = hi - lo;
        Heights h{};
        // Cumulative rounding: heights always sum to the strip height, and
        // any state present gets at least one pixel so a lone page shows.
        std::uint64_t cumulative = 0;
        int drawn = 0;
        for (int k = 0; k < kStates; ++k) {
            cumulative += count[k];
            const int upto = static_cast<int>(
                std::lround(static_cast<double>(cumulative) * kStripHeight / total));
            h[k] = std::max(upto - drawn, count[k] > 0 ? 1 : 0);
            drawn += h[k];
        }
        const double x = s.x + c * col_w;
        const int row = strip.row_of(x + col_w * 0.5);
        if (pending_row == row && pending == h) {
            pending_w += col_w;
            continue;
        }
        flush();
        pending = h;
        pending_x = std::max(x, row * strip.layout.row_width);
        pending_w = col_w;
        pending_row = row;
    }
    flush();
}

void draw_uniform(Svg& svg, const Strip& strip, const Segment& s) {
    const char* fill = kColours[static_cast<int>(s.state)];
    strip_rect(svg, strip, s.x, s.width, fill);
    // The run's size inside it, on the row piece with the most room.
    const std::string label = human_bytes(s.frames.size() * 4096) + " " + to_string(s.state);
    double best_room = 0;
    double mid = 0;
    int row = 0;
    for (int r = strip.row_of(s.x); r <= strip.row_of(s.x + s.width - 0.01); ++r) {
        const double lo = std::max(s.x, r * strip.layout.row_width);
        const double hi = std::min(s.x + s.width, (r + 1) * strip.layout.row_width);
        if (hi - lo > best_room) {
            best_room = hi - lo;
            mid = (lo + hi) / 2;
            row = r;
        }
    }
    if (best_room > static_cast<double>(label.size()) * 10 * kCharWidth + 12) {
        const bool dark =
            s.state == FrameState::kAllocated || s.state == FrameState::kReservedAllocated;
        svg.text(strip.local_x(mid, row), strip.strip_y(row) + kStripHeight / 2 + 4, 10, label,
                 "middle", dark ? "#ffffff" : "#333333");
    }
}

void draw_hole(Svg& svg, const Strip& strip, const Segment& s) {
    const int row = strip.row_of(s.x + 1);
    const double x = strip.local_x(s.x, row);
    const double y = strip.strip_y(row);
    std::string points;
    for (int i = 0; i <= 8; ++i) {
        points += num(x + s.width / 2 + ((i % 2) != 0 ? 3 : -3)) + "," +
                  num(y + i * kStripHeight / 8) + " ";
    }
    svg.raw("<polyline points=\"" + points +
            "\" fill=\"none\" stroke=\"#888\" stroke-width=\"1\"/>\n");
}

struct Label {
    double x = 0;  // unwrapped
    std::string name;
    std::string address;
    std::uint64_t size = 0;
    bool mmio = false;  ///< Reserved memory handed out by address: placed first.
};

// Firmware names above the strip, hole sizes below; bigger regions win
// when labels would overlap.
void draw_labels(Svg& svg, const Strip& strip, const MachineMap& map, const Snapshot& snap) {
    std::vector<Label> labels;
    for (const NamedRange& e : map.entries) {
        const double x = x_of_frame(strip.layout, e.first >> 12);
        if (x >= 0) {
            labels.push_back(Label{x, e.name, short_hex(e.first), e.last - e.first + 1});
        }
    }
    // Reserved regions no map entry describes were added at run time
    // (alloc-at in a hole, e.g. a framebuffer BAR).
    for (const FrameInterval& r : snap.view.reserved_regions) {
        const bool known = std::any_of(map.entries.begin(), map.entries.end(), [&](const auto& e) {
            return (e.first >> 12) <= r.last && (e.last >> 12) >= r.first;
        });
        if (!known) {
            labels.push_back(Label{x_of_frame(strip.layout, r.first), "alloc-at",
                                   short_hex(r.first << 12), r.size() * 4096});
        }
    }
    // MMIO blocks handed out by address (often one frame, so nearly invisible
    // on a proportional axis) are named unless a map entry already starts there.
    for (const StateRun& run : snap.runs) {
        if (run.state != FrameState::kReservedAllocated) {
            continue;
        }
        bool named = false;
        for (Label& l : labels) {
            if (l.address == short_hex(run.frames.first << 12)) {
                l.mmio = true;
                named = true;
            }
        }
        if (!named) {
            labels.push_back(Label{x_of_frame(strip.layout, run.frames.first), "MMIO",
                                   short_hex(run.frames.first << 12), run.frames.size() * 4096,
                                   true});
        }
    }
    // Who gets a label when there is no room for all: the big RAM regions
    // (a sixteenth of the memory or more), then MMIO blocks, then by size.
    std::uint64_t drawn_bytes = 0;
    for (const StateRun& run : snap.runs) {
        drawn_bytes += run.frames.size() * 4096;
    }
    const auto rank = [&](const Label& l) {
        return l.size >= drawn_bytes / 16 ? 0 : (l.mmio ? 1 : 2);
    };
    std::stable_sort(labels.begin(), labels.end(), [&](const Label& a, const Label& b) {
        return rank(a) != rank(b) ? rank(a) < rank(b) : a.size > b.size;
    });
    // taken[row][tier]: the x extents already used. The lowest tier sits
    // nearest the strip; a label climbs until it finds room.
    std::vector<std::array<std::vector<std::pair<double, double>>, kLabelTiers>> taken(
        strip.layout.rows);
    const auto fits = [&](int row, int tier, double lo, double hi) {
        for (const auto& [a, b] : taken[row][tier]) {
            if (lo < b && a < hi) {
                return false;
            }
        }
        return true;
    };
    // Where a label goes: the tier and side, or tier -1 when it does not fit.
    struct Spot {
        int tier = -1;
        bool left = false;
    };
    const auto find_spot = [&](int row, double x, double w) {
        // Highest tier first: a label placed high leaves the tiers below it
        // free for its neighbours except for its thin tick, so a cluster of
        // small regions (IOAPIC, HPET, APIC) becomes a staircase instead of
        // one label. Text to the right of the tick if there is room, else to
        // its left; never over another label or tick, never off the canvas.
        for (int tier = kLabelTiers - 1; tier >= 0; --tier) {
            bool tick_clear = true;
            for (int t = 0; t < tier; ++t) {
                tick_clear = tick_clear && fits(row, t, x - 1, x + 1);
            }
            if (!tick_clear) {
                continue;
            }
            if (x + w < kWidth - 4 && fits(row, tier, x - 1, x + w)) {
                return Spot{tier, false};
            }
            if (x - w > 4 && fits(row, tier, x - w, x + 1)) {
                return Spot{tier, true};
            }
        }
        return Spot{};
    };
    for (const Label& l : labels) {
        const int row = strip.row_of(l.x);
        const double x = strip.local_x(l.x, row);
        // The name and address; where that does not fit, the name alone.
        bool with_address = true;
        double w = static_cast<double>(l.name.size() + 1 + l.address.size()) * 9.5 * kCharWidth + 8;
        Spot spot = find_spot(row, x, w);
        if (spot.tier < 0) {
            with_address = false;
            w = static_cast<double>(l.name.size()) * 9.5 * kCharWidth + 8;
            spot = find_spot(row, x, w);
        }
        if (spot.tier < 0) {
            continue;
        }
        const bool left = spot.left;
        // The tick passes through lower tiers, so they must stay clear there.
        for (int t = 0; t < spot.tier; ++t) {
            taken[row][t].emplace_back(x - 1, x + 1);
        }
        taken[row][spot.tier].emplace_back(left ? x - w : x - 1, left ? x + 1 : x + w);
        const double base = strip.strip_y(row) - 3 - spot.tier * kTierHeight;
        svg.line(x, base - 9, x, strip.strip_y(row), "#555", 0.8);
        svg.raw("<text x=\"" + num(left ? x - 3 : x + 3) + "\" y=\"" + num(base) +
                "\" font-size=\"9.5\" text-anchor=\"" + (left ? "end" : "start") +
                "\" fill=\"#222\">" + escaped(l.name) +
                (with_address ? " <tspan fill=\"#777\">" + escaped(l.address) + "</tspan>" : "") +
                "</text>\n");
    }
    std::vector<std::vector<std::pair<double, double>>> below(strip.layout.rows);
    for (const Segment& s : strip.layout.segments) {
        if (s.kind != SegmentKind::kHole) {
            continue;
        }
        const std::string text = "hole " + human_bytes(s.frames.size() * 4096);
        const int row = strip.row_of(s.x + 1);
        const double mid = strip.local_x(s.x + s.width / 2, row);
        const double w = static_cast<double>(text.size()) * 9 * kCharWidth;
        bool clear = mid - w / 2 > 4 && mid + w / 2 < kWidth - 4;
        for (const auto& [a, b] : below[row]) {
            clear = clear && !(mid - w / 2 < b && a < mid + w / 2);
        }
        if (clear) {
            below[row].emplace_back(mid - w / 2 - 4, mid + w / 2 + 4);
            svg.text(mid, strip.strip_y(row) + kStripHeight + 11, 9, text, "middle", "#777");
        }
    }
}

// NUMA nodes: a red bar where each node's memory starts, named "node N"
// just under the strip (the hole labels' band).
void draw_nodes(Svg& svg, const Strip& strip, const RunReport& r) {
    if (r.nodes.size() < 2) {
        return;
    }
    for (std::size_t i = 0; i < r.nodes.size(); ++i) {
        const double x = x_of_frame(strip.layout, r.nodes[i].first_frame);
        if (x < 0) {
            continue;
        }
        const int row = strip.row_of(x);
        const double lx = strip.local_x(x, row);
        svg.rect(lx, strip.strip_y(row) - 3, 2, kStripHeight + 6, kNodeColour);
        svg.text(lx + 4, strip.strip_y(row) + kStripHeight + kBelowBand + 4, 10,
                 "node " + std::to_string(i), "start", kNodeColour);
    }
}

void draw_memory(Svg& svg, const RunReport& r, const MachineMap& map, const Layout& layout,
                 double top) {
    const Strip strip{layout, top};
    for (int row = 0; row < layout.rows; ++row) {
        svg.rect(kMargin, strip.strip_y(row), kStripWidth, kStripHeight, "#f4f4f4");
    }
    for (const Segment& s : layout.segments) {
        switch (s.kind) {
            case SegmentKind::kDetail:
                draw_detail(svg, strip, r.snapshot, s);
                break;
            case SegmentKind::kUniform:
                draw_uniform(svg, strip, s);
                break;
            case SegmentKind::kHole:
                draw_hole(svg, strip, s);
                break;
        }
    }
    draw_labels(svg, strip, map, r.snapshot);
    draw_nodes(svg, strip, r);
}

void draw_legend(Svg& svg, double y) {
    double x = kMargin;
    const char* names[kStates] = {"free", "allocated", "per-CPU cached", "reserved",
                                  "reserved, allocated (MMIO)"};
    for (int k = 0; k < kStates; ++k) {
        svg.rect(x, y, 14, 14, kColours[k], " stroke=\"#666\" stroke-width=\"0.5\"");
        svg.text(x + 19, y + 11, 11, names[k]);
        x += 30 + std::string(names[k]).size() * 6.2;
    }
    svg.text(x, y + 11, 11, "\xe2\x8c\x87 hole (not to scale)   areas are shares of memory",
             "start", "#555");
}

// A round step (1, 2, 2.5 or 5 times a power of ten) that cuts [0, range]
// into at most `ticks` intervals. For bytes the step is round in the unit
// human_bytes() prints (100 GiB, not 107374182400).
double nice_step(double range, int ticks, bool bytes) {
    double unit = 1;
    while (bytes && range / unit >= 1024 * 10) {
        unit *= 1024;
    }
    const double raw = std::max(range / unit / ticks, 1e-9);
    const double power = std::pow(10.0, std::floor(std::log10(raw)));
    for (const double m : {1.0, 2.0, 2.5, 5.0, 10.0}) {
        if (m * power >= raw) {
            return std::max(1.0, m * power) * unit;
        }
    }
    return 10 * power * unit;
}

void draw_chart(Svg& svg, const RunReport& r, double top) {
    const double x0 = kGutter;
    const double w = kWidth - kGutter - kMargin;
    const double y0 = top + 26;
    const double h = kChartHeight - 60;
    svg.text(kMargin, top + 12, 13, "Free memory over time (general pool)");
    const double total =
        static_cast<double>(std::max<std::uint64_t>(1, r.stats.general.total_frames));
    const double ops = static_cast<double>(std::max<std::uint64_t>(1, r.ops));
    svg.rect(x0, y0, w, h, "#fbfbfb", " stroke=\"#bbb\" stroke-width=\"0.8\"");
    // Round ticks (0, 100, 200 GiB; 0, 50000, 100000 operations).
    const double total_bytes = total * 4096;
    const double byte_step = nice_step(total_bytes, 4, true);
    const int byte_ticks = static_cast<int>(total_bytes * 1.0001 / byte_step);
    for (int i = 0; i <= byte_ticks; ++i) {
        const double v = i * byte_step;
        const double y = y0 + h - h * v / total_bytes;
        svg.line(x0, y, x0 + w, y, "#e2e2e2", 0.8);
        svg.text(x0 - 6, y + 4, 10, human_bytes(static_cast<std::uint64_t>(v)), "end", "#444");
    }
    const double op_step = nice_step(ops, 5, false);
    const int op_ticks = static_cast<int>(ops * 1.0001 / op_step);
    for (int i = 0; i <= op_ticks; ++i) {
        const double v = i * op_step;
        const double x = x0 + w * v / ops;
        // A label at the right edge ends there, so it stays on the canvas.
        const bool last = x + 30 > x0 + w;
        svg.text(x, y0 + h + 14, 10, std::to_string(static_cast<std::uint64_t>(v)),
                 last ? "end" : "middle", "#444");
    }
    svg.text(x0 + w / 2, y0 + h + 30, 11, "operation", "middle", "#444");
    const auto polyline = [&](auto value, const char* colour) {
        std::string points;
        for (const Sample& p : r.series) {
            points += num(x0 + w * static_cast<double>(p.op) / ops) + "," +
                      num(y0 + h - h * static_cast<double>(value(p)) / total) + " ";
        }
        svg.raw("<polyline points=\"" + points + "\" fill=\"none\" stroke=\"" + colour +
                "\" stroke-width=\"1.6\"/>\n");
    };
    polyline([](const Sample& p) { return p.free_frames; }, "#2e9e4f");
    polyline([](const Sample& p) { return p.largest_free_chunk; }, "#2f6db5");
    const double ly = y0 + 8;
    svg.line(x0 + w - 250, ly + 6, x0 + w - 226, ly + 6, "#2e9e4f", 2);
    svg.text(x0 + w - 220, ly + 10, 11, "free frames");
    svg.line(x0 + w - 140, ly + 6, x0 + w - 116, ly + 6, "#2f6db5", 2);
    svg.text(x0 + w - 110, ly + 10, 11, "largest free chunk");
}

}  // namespace

void write_svg(const RunReport& r, const MachineMap& map, std::ostream& out) {
    const Layout layout = make_layout(r.snapshot, kStripWidth);
    const double memory_top = kHeaderHeight;
    const double legend_top = memory_top + layout.rows * kRowHeight + 4;
    const double chart_top = legend_top + 34;
    const double height = chart_top + kChartHeight;
    Svg svg(out);
    svg.stream() << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << num(kWidth)
                 << "\" height=\"" << num(height) << "\" viewBox=\"0 0 " << num(kWidth) << ' '
                 << num(height) << "\" font-family=\"DejaVu Sans, Verdana, sans-serif\">\n";
    svg.rect(0, 0, kWidth, height, "#ffffff");
    svg.text(kMargin, 24, 17, "framealloc-sim: " + r.source);
    svg.text(kMargin, 43, 11.5, r.map_description, "start", "#444");
    const FrameStats& s = r.stats;
    char line[320];
    std::snprintf(
        line, sizeof line,
        "%llu ops, %llu failed  |  free %s of %s  |  %llu free chunks, largest %s  |  "
        "fragmentation %.1f%%  |  %llu x 2 MiB available",
        static_cast<unsigned long long>(r.ops), static_cast<unsigned long long>(r.failures),
        human_bytes(s.general.free_frames * 4096).c_str(),
        human_bytes(s.general.total_frames * 4096).c_str(),
        static_cast<unsigned long long>(s.general.free_chunks),
        human_bytes(s.general.largest_free_chunk * 4096).c_str(), s.fragmentation_permille() / 10.0,
        static_cast<unsigned long long>(r.huge_available));
    svg.text(kMargin, 62, 11.5, line, "start", "#222");
    if (r.nodes.size() > 1) {
        // Each NUMA node's free memory, right-aligned on the map line.
        std::string nodes;
        for (std::size_t i = 0; i < r.nodes.size(); ++i) {
            const PoolStats& g = r.nodes[i].stats.general;
            nodes += std::string(i == 0 ? "" : "  |  ") + "node " + std::to_string(i) + ": free " +
                     human_bytes(g.free_frames * 4096) + " of " +
                     human_bytes(g.total_frames * 4096);
        }
        svg.text(kWidth - kMargin, 43, 11.5, nodes, "end", kNodeColour);
    }
    draw_memory(svg, r, map, layout, memory_top);
    draw_legend(svg, legend_top);
    draw_chart(svg, r, chart_top);
    svg.raw("</svg>\n");
}

}  // namespace framealloc::sim
