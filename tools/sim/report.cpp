// The summary table. Figures come straight from RunReport; the only
// arithmetic here is unit conversion and percentiles.
#include "report.hpp"

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <iomanip>
#include <sstream>
#include <string>
#include <vector>

namespace framealloc::sim {

std::string human_bytes(std::uint64_t bytes) {
    static constexpr const char* kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
    double value = static_cast<double>(bytes);
    std::size_t unit = 0;
    while (value >= 1024.0 && unit + 1 < std::size(kUnits)) {
        value /= 1024.0;
        ++unit;
    }
    char text[32];
    if (unit == 0 || value == static_cast<double>(static_cast<std::uint64_t>(value))) {
        std::snprintf(text, sizeof text, "%.0f %s", value, kUnits[unit]);
    } else {
        std::snprintf(text, sizeof text, "%.1f %s", value, kUnits[unit]);
    }
    return text;
}

std::string hex_address(std::uint64_t address) {
    char text[24];
    std::snprintf(text, sizeof text, "0x%016" PRIx64, address);
    return text;
}

std::string short_hex(std::uint64_t address) {
    char text[24];
    std::snprintf(text, sizeof text, "0x%" PRIx64, address);
    return text;
}

Percentiles percentiles(std::vector<std::uint32_t> samples) {
    Percentiles p;
    if (samples.empty()) {
        return p;
    }
    const auto rank = [&](std::uint32_t pct) {
        // Nearest rank: the smallest value with at least pct% at or below it.
        std::size_t k = (samples.size() * pct + 99) / 100;
        k = std::clamp<std::size_t>(k, 1, samples.size()) - 1;
        std::nth_element(samples.begin(), samples.begin() + static_cast<std::ptrdiff_t>(k),
                         samples.end());
        return samples[k];
    };
    p.p50 = rank(50);
    p.p90 = rank(90);
    p.p99 = rank(99);
    return p;
}

namespace {

void row(std::ostream& out, const std::string& label, const std::string& value) {
    out << "  " << std::left << std::setw(26) << label << value << '\n';
}

std::string frames_text(std::uint64_t frames) {
    return std::to_string(frames) + " frames (" + human_bytes(frames * 4096) + ")";
}

// " -- out of memory: 3, not enough contiguous frames: 2", or "" for none.
std::string by_kind(const std::array<std::uint64_t, kErrorKinds>& counts) {
    std::string text;
    for (std::size_t k = 0; k < kErrorKinds; ++k) {
        if (counts[k] != 0) {
            text += std::string(text.empty() ? " -- " : ", ") +
                    to_string(static_cast<ErrorKind>(k)) + ": " + std::to_string(counts[k]);
        }
    }
    return text;
}

// Free chunks by size class, as Linux's /proc/buddyinfo: "4 KiB 812, 8 KiB
// 240, ..." for the non-empty orders, wrapped under its label.
void print_histogram(std::ostream& out, std::string label, const PoolStats& p) {
    std::vector<std::string> items;
    for (std::size_t k = 0; k < kFreeChunkOrders; ++k) {
        if (p.free_chunks_by_order[k] != 0) {
            items.push_back(human_bytes(4096ULL << k) + (k + 1 == kFreeChunkOrders ? "+" : "") +
                            ": " + std::to_string(p.free_chunks_by_order[k]));
        }
    }
    std::string text;
    for (const std::string& item : items) {
        if (!text.empty() && text.size() + item.size() > 64) {
            row(out, label, text + ",");
            label.clear();
            text.clear();
        }
        text += (text.empty() ? "" : ", ") + item;
    }
    row(out, label, text.empty() ? "none" : text);
}

}  // namespace

void print_summary(const RunReport& r, std::uint64_t seed, std::ostream& out) {
    const FrameStats& s = r.stats;
    out << "framealloc-sim: " << r.source << " on " << r.map_description << ", seed " << seed
        << '\n';
    row(out, "operations",
        std::to_string(r.ops) + " (" + std::to_string(r.allocs) + " allocations, " +
            std::to_string(r.frees) + " frees)");
    if (r.heap_moves != 0) {
        row(out, "kernel heap",
            "moved to the heap " + std::to_string(r.heap_moves) +
                (r.heap_moves == 1 ? " time" : " times") + " (not counted as an operation)");
    }
    row(out, "failed operations", std::to_string(r.failures) + by_kind(r.failures_by_kind));
    // Which requests failed: a failure count means little without knowing
    // whether it was a 2 MiB page or a DMA buffer below 4 GiB.
    for (const CategoryFailures& c : r.categories) {
        if (c.failures != 0) {
            out << "    " << c.name << ": " << c.failures << " of " << c.attempts << " failed"
                << by_kind(c.by_kind) << "; largest failed request "
                << frames_text(c.largest_failed_frames) << '\n';
        }
    }
    if (r.frees_skipped != 0) {
        row(out, "frees of failed allocs", std::to_string(r.frees_skipped));
    }
    row(out, "live allocations", std::to_string(r.live_allocations));
    row(out, "general pool", frames_text(s.general.total_frames));
    row(out, "  free", frames_text(s.general.free_frames));
    row(out, "  allocated", frames_text(s.general.allocated_frames));
    row(out, "  in per-CPU caches", frames_text(s.cached_frames));
    row(out, "reserved pool",
        frames_text(s.reserved.total_frames) + ", " + std::to_string(s.reserved.allocated_frames) +
            " allocated");
    print_histogram(out, "  free chunks by size", s.reserved);
    row(out, "free chunks", std::to_string(s.general.free_chunks));
    row(out, "largest free chunk", frames_text(s.general.largest_free_chunk));
    print_histogram(out, "free chunks by size", s.general);
    char frag[32];
    std::snprintf(frag, sizeof frag, "%.1f%%", s.fragmentation_permille() / 10.0);
    row(out, "fragmentation", std::string(frag) + " (1 - largest chunk / free)");
    row(out, "2 MiB frames available", std::to_string(r.huge_available));
    if (r.nodes.size() > 1) {
        // Each NUMA node: its share of memory, and how many allocations it
        // served for requests that asked for another node first.
        std::uint64_t fallbacks = 0;
        for (const NodeReport& n : r.nodes) {
            fallbacks += n.fallbacks;
        }
        row(out, "NUMA nodes",
            std::to_string(r.nodes.size()) + ", " + std::to_string(fallbacks) +
                " allocations served off the node asked for");
        for (std::size_t i = 0; i < r.nodes.size(); ++i) {
            const NodeReport& n = r.nodes[i];
            row(out, "  node " + std::to_string(i),
                "free " + human_bytes(n.stats.general.free_frames * 4096) + " of " +
                    human_bytes(n.stats.general.total_frames * 4096) + ", largest free chunk " +
                    human_bytes(n.stats.general.largest_free_chunk * 4096) + ", " +
                    std::to_string(n.allocs) + " allocations (" + std::to_string(n.fallbacks) +
                    " fallbacks)");
        }
    }
    const Percentiles p = percentiles(r.latency_ns);
    row(out, "latency per op (ns)",
        "p50 " + std::to_string(p.p50) + "  p90 " + std::to_string(p.p90) + "  p99 " +
            std::to_string(p.p99));
    row(out, "allocator check()", r.check_ok ? "ok" : "FAILED: " + r.check_message);
    row(out, "frames conserved", r.conserved ? "ok" : "FAILED: " + r.conservation_message);
}

}  // namespace framealloc::sim
