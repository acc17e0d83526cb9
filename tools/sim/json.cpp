// Hand-written JSON: the schema is small and fixed, and a dependency for it
// would be heavier than the code.
#include "json.hpp"

#include <string>

#include "report.hpp"

namespace framealloc::sim {
namespace {

std::string quoted(const std::string& text) {
    std::string out = "\"";
    for (const char c : text) {
        if (c == '"' || c == '\\') {
            out += '\\';
            out += c;
        } else if (static_cast<unsigned char>(c) < 0x20) {
            char buf[8];
            std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(c));
            out += buf;
        } else {
            out += c;
        }
    }
    return out + "\"";
}

void pool(std::ostream& out, const char* name, const PoolStats& p) {
    out << "    " << quoted(name) << ": {\"total_frames\": " << p.total_frames
        << ", \"free_frames\": " << p.free_frames
        << ", \"allocated_frames\": " << p.allocated_frames
        << ", \"free_chunks\": " << p.free_chunks
        << ", \"largest_free_chunk\": " << p.largest_free_chunk << ", \"free_chunks_by_order\": [";
    for (std::size_t k = 0; k < kFreeChunkOrders; ++k) {
        out << (k == 0 ? "" : ", ") << p.free_chunks_by_order[k];
    }
    out << "]}";
}

}  // namespace

void write_json(const RunReport& r, std::uint64_t seed, std::ostream& out) {
    const FrameStats& s = r.stats;
    out << "{\n";
    out << "  \"source\": " << quoted(r.source) << ",\n";
    out << "  \"map\": " << quoted(r.map_description) << ",\n";
    out << "  \"seed\": " << seed << ",\n";
    out << "  \"operations\": " << r.ops << ",\n";
    out << "  \"heap_moves\": " << r.heap_moves << ",\n";
    out << "  \"allocations\": " << r.allocs << ",\n";
    out << "  \"frees\": " << r.frees << ",\n";
    out << "  \"frees_skipped\": " << r.frees_skipped << ",\n";
    out << "  \"live_allocations\": " << r.live_allocations << ",\n";
    out << "  \"failures\": {\"total\": " << r.failures;
    for (std::size_t k = 0; k < kErrorKinds; ++k) {
        if (r.failures_by_kind[k] != 0) {
            out << ", " << quoted(to_string(static_cast<ErrorKind>(k))) << ": "
                << r.failures_by_kind[k];
        }
    }
    out << "},\n";
    out << "  \"categories\": [";
    for (std::size_t i = 0; i < r.categories.size(); ++i) {
        const CategoryFailures& c = r.categories[i];
        out << (i == 0 ? "\n" : ",\n") << "    {\"name\": " << quoted(c.name)
            << ", \"attempts\": " << c.attempts << ", \"failures\": " << c.failures
            << ", \"largest_failed_frames\": " << c.largest_failed_frames << ", \"by_kind\": {";
        bool first = true;
        for (std::size_t k = 0; k < kErrorKinds; ++k) {
            if (c.by_kind[k] != 0) {
                out << (first ? "" : ", ") << quoted(to_string(static_cast<ErrorKind>(k))) << ": "
                    << c.by_kind[k];
                first = false;
            }
        }
        out << "}}";
    }
    out << (r.categories.empty() ? "],\n" : "\n  ],\n");
    out << "  \"stats\": {\n";
    pool(out, "general", s.general);
    out << ",\n";
    pool(out, "reserved", s.reserved);
    out << ",\n    \"cached_frames\": " << s.cached_frames
        << ",\n    \"fragmentation_permille\": " << s.fragmentation_permille()
        << ",\n    \"huge_2m_available\": " << r.huge_available << "\n  },\n";
    // One entry per NUMA node (one for a map without NUMA layout).
    out << "  \"nodes\": [";
    for (std::size_t i = 0; i < r.nodes.size(); ++i) {
        const NodeReport& n = r.nodes[i];
        out << (i == 0 ? "\n" : ",\n") << "    {\"node\": " << i
            << ", \"total_frames\": " << n.stats.general.total_frames
            << ", \"free_frames\": " << n.stats.general.free_frames
            << ", \"largest_free_chunk\": " << n.stats.general.largest_free_chunk
            << ", \"allocations\": " << n.allocs << ", \"fallbacks\": " << n.fallbacks << "}";
    }
    out << (r.nodes.empty() ? "],\n" : "\n  ],\n");
    out << "  \"check\": " << quoted(r.check_message) << ",\n";
    out << "  \"conserved\": " << (r.conserved ? "true" : "false") << ",\n";
    out << "  \"series\": [";
    for (std::size_t i = 0; i < r.series.size(); ++i) {
        const Sample& p = r.series[i];
        out << (i == 0 ? "\n" : ",\n") << "    [" << p.op << ", " << p.free_frames << ", "
            << p.largest_free_chunk << "]";
    }
    out << "\n  ],\n";
    // Per-state totals rather than every run: a churned machine has
    // hundreds of thousands of runs, which belong in the picture, not here.
    out << "  \"frames_by_state\": {";
    const FrameState states[] = {FrameState::kFree, FrameState::kAllocated, FrameState::kCached,
                                 FrameState::kReserved, FrameState::kReservedAllocated};
    for (std::size_t i = 0; i < std::size(states); ++i) {
        out << (i == 0 ? "" : ", ") << quoted(to_string(states[i])) << ": "
            << frames_in_state(r.snapshot, states[i]);
    }
    out << "},\n";
    out << "  \"memory_runs\": " << r.snapshot.runs.size() << "\n}\n";
}

}  // namespace framealloc::sim
