// Builds a Snapshot: parses the allocator's dump and overlays the
// simulator's own record of what it holds, walking both sorted lists once.
#include "snapshot.hpp"

#include <algorithm>
#include <cstdlib>
#include <string_view>

namespace framealloc::sim {
namespace {

// "  region 0x1000-0x9efff (158 frames)" -> frames 1..158.
bool parse_range_line(std::string_view line, std::string_view keyword, FrameInterval& out) {
    const std::size_t pos = line.find(keyword);
    if (pos == std::string_view::npos ||
        line.substr(0, pos).find_first_not_of(' ') != std::string_view::npos) {
        return false;
    }
    const std::string rest(line.substr(pos + keyword.size()));
    char* end = nullptr;
    const std::uint64_t lo = std::strtoull(rest.c_str(), &end, 16);
    if (end == nullptr || *end != '-') {
        return false;
    }
    const std::uint64_t hi = std::strtoull(end + 1, &end, 16);
    out = FrameInterval{lo >> 12, hi >> 12};
    return true;
}

void merge_push(std::vector<StateRun>& runs, FrameInterval frames, FrameState state) {
    if (!runs.empty() && runs.back().state == state &&
        runs.back().frames.last + 1 == frames.first) {
        runs.back().frames.last = frames.last;
        return;
    }
    runs.push_back(StateRun{frames, state});
}

// Lays `marked` (sorted, disjoint, each with a state) over `regions`;
// region frames not marked get `fallback`.
void overlay(std::vector<StateRun>& out, const std::vector<FrameInterval>& regions,
             const std::vector<StateRun>& marked, FrameState fallback) {
    std::size_t m = 0;
    for (const FrameInterval& region : regions) {
        std::uint64_t cursor = region.first;
        while (m < marked.size() && marked[m].frames.last < region.first) {
            ++m;
        }
        std::size_t k = m;
        while (k < marked.size() && marked[k].frames.first <= region.last) {
            const std::uint64_t lo = std::max(marked[k].frames.first, region.first);
            const std::uint64_t hi = std::min(marked[k].frames.last, region.last);
            if (lo > cursor) {
                merge_push(out, FrameInterval{cursor, lo - 1}, fallback);
            }
            merge_push(out, FrameInterval{lo, hi}, marked[k].state);
            cursor = hi + 1;
            if (marked[k].frames.last > region.last) {
                break;  // the next region may hold the rest of it
            }
            ++k;
        }
        m = k;
        if (cursor <= region.last) {
            merge_push(out, FrameInterval{cursor, region.last}, fallback);
        }
    }
}

std::vector<StateRun> tagged(const std::vector<FrameInterval>& a, FrameState sa,
                             const std::vector<FrameInterval>& b, FrameState sb) {
    std::vector<StateRun> out;
    out.reserve(a.size() + b.size());
    for (const FrameInterval& i : a) {
        out.push_back(StateRun{i, sa});
    }
    for (const FrameInterval& i : b) {
        out.push_back(StateRun{i, sb});
    }
    std::sort(out.begin(), out.end(),
              [](const StateRun& x, const StateRun& y) { return x.frames.first < y.frames.first; });
    return out;
}

}  // namespace

const char* to_string(FrameState state) {
    switch (state) {
        case FrameState::kFree:
            return "free";
        case FrameState::kAllocated:
            return "allocated";
        case FrameState::kCached:
            return "per-CPU cached";
        case FrameState::kReserved:
            return "reserved";
        case FrameState::kReservedAllocated:
            return "reserved, allocated";
    }
    return "?";
}

PoolView parse_dump(const std::vector<std::string>& lines) {
    PoolView view;
    bool general = true;
    for (const std::string& line : lines) {
        if (line.rfind("pool general", 0) == 0) {
            general = true;
            continue;
        }
        if (line.rfind("pool reserved", 0) == 0) {
            general = false;
            continue;
        }
        FrameInterval range;
        if (parse_range_line(line, "region ", range)) {
            (general ? view.general_regions : view.reserved_regions).push_back(range);
        } else if (parse_range_line(line, "free ", range)) {
            (general ? view.general_free : view.reserved_free).push_back(range);
        }
    }
    return view;
}

Snapshot make_snapshot(PoolView view, std::vector<FrameInterval> general_held,
                       std::vector<FrameInterval> reserved_held) {
    Snapshot snap;
    std::vector<StateRun> general;
    std::vector<StateRun> reserved;
    overlay(general, view.general_regions,
            tagged(view.general_free, FrameState::kFree, general_held, FrameState::kAllocated),
            FrameState::kCached);
    // Reserved frames neither free nor held were taken by address before the
    // simulator existed (none today), so they count as reserved-allocated.
    overlay(reserved, view.reserved_regions,
            tagged(view.reserved_free, FrameState::kReserved, reserved_held,
                   FrameState::kReservedAllocated),
            FrameState::kReservedAllocated);
    std::merge(general.begin(), general.end(), reserved.begin(), reserved.end(),
               std::back_inserter(snap.runs), [](const StateRun& x, const StateRun& y) {
                   return x.frames.first < y.frames.first;
               });
    snap.view = std::move(view);
    return snap;
}

std::uint64_t frames_in_state(const Snapshot& snap, FrameState state) {
    std::uint64_t total = 0;
    for (const StateRun& run : snap.runs) {
        if (run.state == state) {
            total += run.frames.size();
        }
    }
    return total;
}

std::uint64_t huge_frames_available(const Snapshot& snap) {
    constexpr std::uint64_t kHuge = 512;
    std::uint64_t count = 0;
    bool open = false;
    FrameInterval span;
    const auto flush = [&] {
        if (open) {
            const std::uint64_t first_block = (span.first + kHuge - 1) / kHuge;
            const std::uint64_t end_block = (span.last + 1) / kHuge;
            count += end_block > first_block ? end_block - first_block : 0;
        }
        open = false;
    };
    for (const StateRun& run : snap.runs) {
        const bool usable = run.state == FrameState::kFree || run.state == FrameState::kCached;
        if (!usable) {
            flush();
            continue;
        }
        if (open && span.last + 1 == run.frames.first) {
            span.last = run.frames.last;
        } else {
            flush();
            span = run.frames;
            open = true;
        }
    }
    flush();
    return count;
}

}  // namespace framealloc::sim
