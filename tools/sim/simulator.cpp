// The replay loop. Each operation is timed around the allocator call alone
// (handle bookkeeping in the simulator is not the allocator's cost). Every
// request goes through a NodeSet: one allocator per NUMA node of the map, or
// a single node for a map without NUMA layout.
#include "simulator.hpp"

#include <algorithm>
#include <chrono>

#include "framealloc/hosted.hpp"
#include "framealloc/memmap/node_regions.hpp"

namespace framealloc::sim {
namespace {

using Clock = std::chrono::steady_clock;

std::uint32_t elapsed_ns(Clock::time_point start) {
    const auto ns =
        std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - start).count();
    return static_cast<std::uint32_t>(std::min<long long>(ns, 0xffffffffLL));
}

std::size_t kind_index(ErrorKind kind) {
    const auto index = static_cast<std::size_t>(kind);
    return index < kErrorKinds ? index : 0;
}

void count_failure(RunReport& report, ErrorKind kind) {
    ++report.failures;
    ++report.failures_by_kind[kind_index(kind)];
}

const char* verb(OpKind kind) {
    switch (kind) {
        case OpKind::kAlloc:
            return "alloc";
        case OpKind::kAllocAt:
            return "alloc-at";
        case OpKind::kAllocHuge:
            return "alloc-huge";
        case OpKind::kFree:
            return "free";
        case OpKind::kMoveToHeap:
            return "heap";
    }
    return "?";
}

// Counts an allocation attempt of `op` in its category (and its failure).
void count_category(RunReport& report, const Op& op, bool failed, ErrorKind kind) {
    const std::string name = op.category != nullptr ? op.category : verb(op.kind);
    auto it = std::find_if(report.categories.begin(), report.categories.end(),
                           [&](const CategoryFailures& c) { return c.name == name; });
    if (it == report.categories.end()) {
        report.categories.push_back(CategoryFailures{name, 0, 0, {}, 0});
        it = report.categories.end() - 1;
    }
    ++it->attempts;
    if (failed) {
        ++it->failures;
        ++it->by_kind[kind_index(kind)];
        const std::uint64_t frames =
            op.kind == OpKind::kAllocHuge ? op.count * Page2M::kFrames4K : op.count;
        it->largest_failed_frames = std::max(it->largest_failed_frames, frames);
    }
}

}  // namespace

Simulator::Simulator(MachineMap map) : map_(std::move(map)) {}

Simulator::~Simulator() {
    held_.clear();  // return every frame before the allocators go away
}

bool Simulator::init(std::string& error) {
    const bool numa = !map_.node_ranges.empty();
    const unsigned count = numa ? map_.node_count : 1;
    if (count == 0 || count > kMaxNodes) {
        error = "the map has " + std::to_string(count) + " NUMA nodes; the simulator takes 1 to " +
                std::to_string(kMaxNodes);
        return false;
    }
    std::vector<FrameAllocator*> pointers;
    for (unsigned node = 0; node < count; ++node) {
        std::vector<PhysicalMemoryRegion> free = map_.free;
        std::vector<PhysicalMemoryRegion> reserved = map_.reserved;
        if (numa) {
            // Each node gets its share of the map (node_regions.hpp).
            free.clear();
            reserved.clear();
            const auto split = [&](const std::vector<PhysicalMemoryRegion>& from,
                                   std::vector<PhysicalMemoryRegion>& to) {
                return memmap::regions_on_node(from, map_.node_ranges, node,
                                               [&](const PhysicalMemoryRegion& r) {
                                                   to.push_back(r);
                                                   return Status{};
                                               });
            };
            if (!split(map_.free, free) || !split(map_.reserved, reserved)) {
                error = "splitting the map by node failed";
                return false;
            }
        }
        auto allocator = std::make_unique<FrameAllocator>();
        auto result =
            allocator->init(Span<const PhysicalMemoryRegion>(free.data(), free.size()),
                            Span<const PhysicalMemoryRegion>(reserved.data(), reserved.size()),
                            hosted_metadata(FrameAllocator::metadata_bytes(free, reserved)));
        if (!result) {
            error = "allocator init failed (node " + std::to_string(node) +
                    "): " + result.error().message;
            return false;
        }
        pointers.push_back(allocator.get());
        allocators_.push_back(std::move(allocator));
    }
    std::vector<std::uint8_t> cpu_nodes = map_.cpu_nodes;
    if (cpu_nodes.empty()) {
        cpu_nodes.assign(FRAMEALLOC_MAX_CPUS, 0);
    }
    const Status st =
        nodes_.init(Span<FrameAllocator* const>(pointers.data(), pointers.size()),
                    Span<const std::uint8_t>(map_.distances.data(), map_.distances.size()),
                    Span<const std::uint8_t>(cpu_nodes.data(), cpu_nodes.size()));
    if (!st) {
        error = std::string("node set init failed: ") + st.error().message;
        return false;
    }
    return true;
}

template <typename Handle>
void Simulator::count_node(const Op& op, const Handle& frames, RunReport& report) const {
    const auto served = nodes_.node_of(frames);
    if (!served || served.value() >= report.nodes.size()) {
        return;  // device memory taken from a node's allocator directly counts as its node's
    }
    NodeReport& n = report.nodes[served.value()];
    ++n.allocs;
    const auto home = nodes_.home_node(op.cpu);
    const unsigned wanted = op.node != kHomeNode ? op.node : home ? home.value() : served.value();
    if (wanted != served.value()) {
        ++n.fallbacks;
    }
}

bool Simulator::store(const Op& op, Held held) {
    std::uint64_t id = op.id;
    if (id == kAnonymous) {
        id = next_anonymous_++;
    }
    // A trace may reuse a live name only if its parser let it; the old
    // allocation is then dropped, as the kernel would have lost it.
    held_[id] = std::move(held);
    return true;
}

bool Simulator::apply(const Op& op, RunReport& report) {
    set_current_cpu(op.cpu);
    const NodePolicy policy = op.node_only ? NodePolicy::kOnly : NodePolicy::kPreferred;
    const NodeRequest where =
        op.node == kHomeNode ? NodeRequest::local(policy) : NodeRequest{op.node, policy};
    switch (op.kind) {
        case OpKind::kMoveToHeap: {
            for (const auto& allocator : allocators_) {
                const Status st = allocator->move_to_heap(hosted_heap_hooks());
                if (!st && st.kind() != ErrorKind::kAlreadyInitialized) {
                    count_failure(report, st.kind());
                    return false;
                }
            }
            return true;
        }
        case OpKind::kFree: {
            ++report.frees;
            auto it = held_.find(op.id);
            if (it == held_.end()) {
                ++report.frees_skipped;
                return false;
            }
            const auto start = Clock::now();
            held_.erase(it);
            report.latency_ns.push_back(elapsed_ns(start));
            return true;
        }
        case OpKind::kAllocHuge: {
            ++report.allocs;
            const auto start = Clock::now();
            auto frames = nodes_.allocate_huge<Page2M>(op.count, {}, where);
            report.latency_ns.push_back(elapsed_ns(start));
            count_category(report, op, !frames, frames ? ErrorKind{} : frames.kind());
            if (!frames) {
                count_failure(report, frames.kind());
                return false;
            }
            count_node(op, frames.value(), report);
            return store(op, Held{AllocatedFrames<>(), std::move(frames.value())});
        }
        case OpKind::kAlloc:
        case OpKind::kAllocAt: {
            ++report.allocs;
            AllocRequest req = AllocRequest::frames(op.count).aligned(op.align);
            if (op.boundary != 0) {
                req = req.not_crossing(op.boundary);
            }
            if (op.below != 0) {
                req = req.below(op.below);
            }
            if (op.kind == OpKind::kAllocAt) {
                req = req.at_address(PhysicalAddress::new_canonical(op.at));
            }
            const auto start = Clock::now();
            auto frames = nodes_.allocate(req, where);
            if (!frames && frames.kind() == ErrorKind::kOutsideAllocator &&
                op.kind == OpKind::kAllocAt) {
                // Device memory no node manages (a BAR in the PCI hole): the
                // kernel takes it from one node's allocator directly, which
                // tracks it as a new reserved region.
                const auto home = nodes_.home_node(op.cpu);
                const unsigned node = op.node != kHomeNode ? op.node : home ? home.value() : 0;
                if (node < allocators_.size()) {
                    frames = allocators_[node]->allocate(req);
                }
            }
            report.latency_ns.push_back(elapsed_ns(start));
            count_category(report, op, !frames, frames ? ErrorKind{} : frames.kind());
            if (!frames) {
                count_failure(report, frames.kind());
                return false;
            }
            count_node(op, frames.value(), report);
            return store(op, Held{std::move(frames.value()), AllocatedFrames<Page2M>()});
        }
    }
    return false;
}

std::vector<Simulator::HeldRange> Simulator::held() const {
    std::vector<HeldRange> out;
    out.reserve(held_.size());
    for (const auto& [id, h] : held_) {
        if (!h.small.is_empty()) {
            out.push_back(
                HeldRange{id, {h.small.start().number(), h.small.end().number()}, h.small.pool()});
        } else if (!h.huge.is_empty()) {
            const std::uint64_t per = Page2M::kFrames4K;
            out.push_back(
                HeldRange{id,
                          {h.huge.start().number() * per, h.huge.end().number() * per + per - 1},
                          h.huge.pool()});
        }
    }
    // The map's order is unspecified; sorting makes everything built from
    // this deterministic.
    std::sort(out.begin(), out.end(), [](const HeldRange& a, const HeldRange& b) {
        return a.frames.first < b.frames.first;
    });
    return out;
}

RunReport Simulator::run(OpSource& source, std::uint64_t max_ops, const ProgressFn& progress) {
    RunReport report;
    report.source = source.name();
    report.nodes.resize(allocators_.size());
    report.map_description = map_.description;
    report.latency_ns.reserve(static_cast<std::size_t>(std::min<std::uint64_t>(max_ops, 1 << 24)));
    // About 400 points draw a smooth curve without bloating the SVG.
    const std::uint64_t every = std::max<std::uint64_t>(1, max_ops / 400);
    const auto sample = [&] {
        const FrameStats st = nodes_.stats().total;
        report.series.push_back(
            Sample{report.ops, st.general.free_frames, st.general.largest_free_chunk});
    };
    sample();
    Op op;
    while (report.ops < max_ops && source.next(op)) {
        const bool ok = apply(op, report);
        source.on_result(op, ok);
        if (op.kind == OpKind::kMoveToHeap) {
            ++report.heap_moves;  // a step of the kernel's life, not an allocation or free
            continue;
        }
        ++report.ops;
        if (report.ops % every == 0) {
            sample();
            if (progress) {
                progress(report.ops, max_ops);
            }
        }
    }
    if (report.series.back().op != report.ops) {
        sample();
    }
    finish(report);
    return report;
}

void Simulator::finish(RunReport& report) {
    // Each node's dump read on its own, then merged in address order: a
    // node's regions need not all lie below the next node's.
    PoolView view;
    for (std::size_t i = 0; i < allocators_.size(); ++i) {
        std::vector<std::string> lines;
        allocators_[i]->dump([&](const char* line) { lines.emplace_back(line); });
        PoolView one = parse_dump(lines);
        for (auto [into, from] : {std::pair{&view.general_regions, &one.general_regions},
                                  std::pair{&view.reserved_regions, &one.reserved_regions},
                                  std::pair{&view.general_free, &one.general_free},
                                  std::pair{&view.reserved_free, &one.reserved_free}}) {
            into->insert(into->end(), from->begin(), from->end());
        }
        NodeReport& n = report.nodes[i];
        n.first_frame = ~0ULL;
        for (const auto* list : {&one.general_regions, &one.reserved_regions}) {
            for (const FrameInterval& f : *list) {
                n.first_frame = std::min(n.first_frame, f.first);
            }
        }
    }
    for (auto* list :
         {&view.general_regions, &view.reserved_regions, &view.general_free, &view.reserved_free}) {
        std::sort(list->begin(), list->end(),
                  [](const FrameInterval& a, const FrameInterval& b) { return a.first < b.first; });
    }
    const NodeSetStats<kMaxNodes> per_node = nodes_.stats();
    report.stats = per_node.total;
    for (std::size_t i = 0; i < report.nodes.size(); ++i) {
        report.nodes[i].stats = per_node.node[i];
    }

    std::vector<FrameInterval> general_held;
    std::vector<FrameInterval> reserved_held;
    std::uint64_t general_frames = 0;
    std::uint64_t reserved_frames = 0;
    for (const HeldRange& h : held()) {
        (h.pool == Pool::kGeneral ? general_held : reserved_held).push_back(h.frames);
        (h.pool == Pool::kGeneral ? general_frames : reserved_frames) += h.frames.size();
    }
    report.live_allocations = held_.size();
    report.snapshot =
        make_snapshot(std::move(view), std::move(general_held), std::move(reserved_held));
    report.huge_available = huge_frames_available(report.snapshot);

    const Status st = nodes_.check();
    report.check_ok = static_cast<bool>(st);
    report.check_message = st ? "ok" : st.error().message;

    // Conservation: what the allocator counts as handed out is exactly what
    // the simulator holds, and the picture accounts for every frame.
    const FrameStats& s = report.stats;
    const bool general_ok =
        s.general.allocated_frames == general_frames &&
        s.general.free_frames + s.general.allocated_frames == s.general.total_frames;
    const bool reserved_ok = s.reserved.allocated_frames == reserved_frames;
    const bool picture_ok =
        frames_in_state(report.snapshot, FrameState::kCached) == s.cached_frames &&
        frames_in_state(report.snapshot, FrameState::kAllocated) == general_frames;
    report.conserved = general_ok && reserved_ok && picture_ok;
    report.conservation_message =
        report.conserved
            ? "ok"
            : "held general " + std::to_string(general_frames) + " vs allocator " +
                  std::to_string(s.general.allocated_frames) + ", held reserved " +
                  std::to_string(reserved_frames) + " vs allocator " +
                  std::to_string(s.reserved.allocated_frames) + ", cached in picture " +
                  std::to_string(frames_in_state(report.snapshot, FrameState::kCached)) +
                  " vs allocator " + std::to_string(s.cached_frames);
}

}  // namespace framealloc::sim
