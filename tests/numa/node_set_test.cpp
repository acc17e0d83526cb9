// NodeSet: requests land on the node they name (or the CPU's home node),
// fall back only when that node cannot serve them and then in distance
// order, and frames go back to the node that owns them whoever frees them.
// A differential test drives random requests against a per-node frame bitmap
// model that predicts, for each request, which node must serve it.
#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <random>
#include <vector>

#include "feature_test_util.hpp"
#include "framealloc/node_set.hpp"

namespace framealloc::test {
namespace {

constexpr std::uint64_t kNodeFrames = 256;
// Node i owns [16 MiB * (i + 1), + 1 MiB).
constexpr std::uint64_t node_base(unsigned i) {
    return 16 * kMiB * (i + 1);
}
constexpr std::uint64_t node_end(unsigned i) {
    return node_base(i) + kNodeFrames * kFrame;
}

// 0-1: 20, 0-2: 30, 1-2: 20. From 1, nodes 0 and 2 tie (lower id first).
constexpr std::uint8_t kDistances[9] = {10, 20, 30, 20, 10, 20, 30, 20, 10};
// CPUs 0-1 on node 0, 2-3 on node 1, 4 on node 2, 5 has none.
constexpr std::uint8_t kCpuNodes[6] = {0, 0, 1, 1, 2, kNoNode};

using Set = NodeSet<4>;

struct ThreeNodes {
    std::unique_ptr<FrameAllocator> alloc[3];
    FrameAllocator* ptrs[3] = {};
    Set set;

    explicit ThreeNodes(bool heap = false) {
        for (unsigned i = 0; i < 3; ++i) {
            alloc[i] = heap ? make_heap_allocator({free_region(node_base(i), kNodeFrames * kFrame)})
                            : make_allocator({free_region(node_base(i), kNodeFrames * kFrame)});
            ptrs[i] = alloc[i].get();
        }
        const Status st = set.init(Span<FrameAllocator* const>(ptrs), kDistances, kCpuNodes);
        EXPECT_TRUE(st.ok()) << st.error().message;
    }
};

bool on_node(const AllocatedFrames<>& f, unsigned node) {
    return f.start_address().value() >= node_base(node) &&
           f.start_address().value() + f.size_in_frames() * kFrame <= node_end(node);
}

TEST(NodeSet, FallbackOrderIsByDistanceThenId) {
    ThreeNodes m;
    const auto order = [&](unsigned n) {
        std::vector<unsigned> v;
        for (const std::uint8_t x : m.set.fallback_order(n)) {
            v.push_back(x);
        }
        return v;
    };
    EXPECT_EQ(order(0), (std::vector<unsigned>{0, 1, 2}));
    EXPECT_EQ(order(1), (std::vector<unsigned>{1, 0, 2}));
    EXPECT_EQ(order(2), (std::vector<unsigned>{2, 1, 0}));
    EXPECT_TRUE(m.set.fallback_order(3).empty());
    EXPECT_EQ(m.set.distance(0, 2).value(), 30);
}

TEST(NodeSet, UnnamedRequestUsesTheCallingCpusHomeNode) {
    ThreeNodes m;
    for (unsigned cpu = 0; cpu < 5; ++cpu) {
        set_current_cpu(cpu);
        auto f = m.set.allocate_frames(3);
        ASSERT_TRUE(f) << f.error().message;
        EXPECT_TRUE(on_node(f.value(), kCpuNodes[cpu])) << "cpu " << cpu;
        EXPECT_EQ(m.set.node_of(f.value()).value(), kCpuNodes[cpu]);
    }
    set_current_cpu(5);
    auto none = m.set.allocate_frames(1);
    EXPECT_EQ(none.kind(), ErrorKind::kNotInitialized);
    set_current_cpu(FRAMEALLOC_MAX_CPUS + 3);
    EXPECT_EQ(m.set.allocate_frames(1).kind(), ErrorKind::kNotInitialized);
    // A named node needs no home node.
    auto named = m.set.allocate_frames(1, NodeRequest::only(2));
    ASSERT_TRUE(named);
    EXPECT_TRUE(on_node(named.value(), 2));
    set_current_cpu(0);
}

TEST(NodeSet, SetHomeNodeMovesACpu) {
    ThreeNodes m;
    ASSERT_TRUE(m.set.set_home_node(5, 2).ok());
    set_current_cpu(5);
    auto f = m.set.allocate_frames(1);
    ASSERT_TRUE(f);
    EXPECT_TRUE(on_node(f.value(), 2));
    EXPECT_EQ(m.set.set_home_node(5, 3).kind(), ErrorKind::kInvalidArgument);
    EXPECT_EQ(m.set.set_home_node(FRAMEALLOC_MAX_CPUS, 0).kind(), ErrorKind::kInvalidArgument);
    EXPECT_EQ(m.set.home_node(5).value(), 2U);
    ASSERT_TRUE(m.set.set_home_node(5, kNoNode).ok());
    EXPECT_EQ(m.set.allocate_frames(1).kind(), ErrorKind::kNotInitialized);
    set_current_cpu(0);
}

TEST(NodeSet, OnlyPolicyNeverLeavesTheNode) {
    ThreeNodes m;
    auto all = m.set.allocate_frames(kNodeFrames, NodeRequest::only(1));
    ASSERT_TRUE(all);
    auto more = m.set.allocate_frames(1, NodeRequest::only(1));
    EXPECT_EQ(more.kind(), ErrorKind::kOutOfMemory);
    EXPECT_EQ(m.set.stats().node[0].general.allocated_frames, 0U);
    EXPECT_EQ(m.set.stats().node[2].general.allocated_frames, 0U);
}

TEST(NodeSet, PreferredFallsBackInDistanceOrderOnlyWhenExhausted) {
    ThreeNodes m;
    // Node 2 has room: it serves.
    auto a = m.set.allocate_frames(kNodeFrames - 1, NodeRequest::prefer(2));
    ASSERT_TRUE(a);
    EXPECT_TRUE(on_node(a.value(), 2));
    // 2 frames no longer fit on node 2: its nearest, node 1, serves.
    auto b = m.set.allocate_frames(2, NodeRequest::prefer(2));
    ASSERT_TRUE(b);
    EXPECT_TRUE(on_node(b.value(), 1));
    // One frame still fits on node 2 itself.
    auto c = m.set.allocate_frames(1, NodeRequest::prefer(2));
    ASSERT_TRUE(c);
    EXPECT_TRUE(on_node(c.value(), 2));
    // Fill node 1 too: node 0, the farthest, is next.
    auto d = m.set.allocate_frames(kNodeFrames - 2, NodeRequest::prefer(1));
    ASSERT_TRUE(d);
    EXPECT_TRUE(on_node(d.value(), 1));
    auto e = m.set.allocate_frames(5, NodeRequest::prefer(2));
    ASSERT_TRUE(e);
    EXPECT_TRUE(on_node(e.value(), 0));
    // More than any node holds: the first node's error, nothing taken.
    const auto before = m.set.stats().total.general.free_frames;
    auto f = m.set.allocate_frames(kNodeFrames + 1, NodeRequest::prefer(0));
    EXPECT_EQ(f.kind(), ErrorKind::kOutOfMemory);
    EXPECT_EQ(m.set.stats().total.general.free_frames, before);
    EXPECT_TRUE(m.set.check().ok());
}

TEST(NodeSet, HugeFramesFallBackLikeSmallOnes) {
    // 4 MiB nodes at 2 MiB-aligned bases: two 2 MiB frames each.
    std::unique_ptr<FrameAllocator> a[2];
    FrameAllocator* ptrs[2] = {};
    for (unsigned i = 0; i < 2; ++i) {
        a[i] = make_allocator({free_region(node_base(i), 4 * kMiB)});
        ptrs[i] = a[i].get();
    }
    Set set;
    ASSERT_TRUE(set.init(ptrs, {}, {}).ok());
    auto two = set.allocate_huge<Page2M>(2, {}, NodeRequest::prefer(1));
    ASSERT_TRUE(two) << two.error().message;
    EXPECT_EQ(set.node_of(two.value()).value(), 1U);
    auto spill = set.allocate_huge<Page2M>(1, {}, NodeRequest::prefer(1));
    ASSERT_TRUE(spill);
    EXPECT_EQ(set.node_of(spill.value()).value(), 0U);
    EXPECT_EQ(spill->start_address().value() % (2 * kMiB), 0U);
    EXPECT_FALSE(set.allocate_huge<Page2M>(1, {}, NodeRequest::only(1)));
    EXPECT_EQ(set.allocate_huge<Page2M>(0, {}, NodeRequest::prefer(1)).kind(),
              ErrorKind::kZeroFrames);
}

TEST(NodeSet, ErrorsThatAreNotExhaustionDoNotFallBack) {
    ThreeNodes m;
    EXPECT_EQ(m.set.allocate_frames(0, NodeRequest::prefer(0)).kind(), ErrorKind::kZeroFrames);
    auto bad_align = m.set.allocate(AllocRequest::frames(1).aligned(3), NodeRequest::prefer(0));
    EXPECT_EQ(bad_align.kind(), ErrorKind::kInvalidArgument);
    // The address is node 1's and in use there: kAddressInUse, not a try elsewhere.
    auto taken = m.set.allocate(AllocRequest::frames(1).at_address(phys(node_base(1))),
                                NodeRequest::only(1));
    ASSERT_TRUE(taken);
    auto again = m.set.allocate(AllocRequest::frames(1).at_address(phys(node_base(1))),
                                NodeRequest::prefer(0));
    EXPECT_EQ(again.kind(), ErrorKind::kAddressInUse);
    EXPECT_EQ(m.set.stats().total.general.allocated_frames, 1U);
}

TEST(NodeSet, AddressRequestFindsTheNodeThatManagesTheAddress) {
    ThreeNodes m;
    const PhysicalAddress in2 = phys(node_base(2) + 8 * kFrame);
    auto f = m.set.allocate(AllocRequest::frames(2).at_address(in2), NodeRequest::prefer(0));
    ASSERT_TRUE(f) << f.error().message;
    EXPECT_EQ(f->start_address(), in2);
    EXPECT_EQ(m.set.node_of(f.value()).value(), 2U);
    auto only0 = m.set.allocate(AllocRequest::frames(1).at_address(phys(node_base(2))),
                                NodeRequest::only(0));
    EXPECT_EQ(only0.kind(), ErrorKind::kOutsideAllocator);
    // An address no node manages becomes no node's new reserved region.
    auto nowhere = m.set.allocate(AllocRequest::frames(1).at_address(phys(node_base(8))),
                                  NodeRequest::prefer(0));
    EXPECT_EQ(nowhere.kind(), ErrorKind::kOutsideAllocator);
    const auto s = m.set.stats();
    EXPECT_EQ(s.total.reserved.total_frames, 0U);
    EXPECT_EQ(s.total.general.allocated_frames, 2U);
    // A reserved region is found in the node that holds it.
    auto r0 = make_allocator({free_region(node_base(0), kNodeFrames * kFrame)});
    auto r1 = make_allocator({free_region(node_base(1), kNodeFrames * kFrame)},
                             {reserved_region(node_base(1) + kNodeFrames * kFrame, 4 * kFrame)});
    FrameAllocator* two[2] = {r0.get(), r1.get()};
    Set set;
    ASSERT_TRUE(set.init(two, {}, {}).ok());
    const PhysicalAddress rsv = phys(node_base(1) + kNodeFrames * kFrame + kFrame);
    auto acpi = set.allocate(AllocRequest::frames(2).at_address(rsv), NodeRequest::prefer(0));
    ASSERT_TRUE(acpi) << acpi.error().message;
    EXPECT_EQ(acpi->pool(), Pool::kReserved);
    EXPECT_EQ(set.node_of(acpi.value()).value(), 1U);
    EXPECT_EQ(set.stats().node[0].reserved.total_frames, 0U);
}

TEST(NodeSet, FreesGoBackToTheOwningNodeWhicheverCpuFrees) {
    ThreeNodes m(/*heap=*/true);
    set_current_cpu(0);  // home node 0
    auto remote = m.set.allocate_frames(1, NodeRequest::only(2));
    auto run = m.set.allocate_frames(7, NodeRequest::only(1));
    ASSERT_TRUE(remote);
    ASSERT_TRUE(run);
    const auto before = m.set.stats();
    EXPECT_EQ(before.node[2].general.allocated_frames, 1U);
    EXPECT_EQ(before.node[1].general.allocated_frames, 7U);
    set_current_cpu(4);  // a CPU of node 2 frees the node-1 run, CPU 0 the node-2 frame
    run = AllocatedFrames<>();
    set_current_cpu(0);
    remote = AllocatedFrames<>();
    const auto after = m.set.stats();
    for (unsigned i = 0; i < 3; ++i) {
        EXPECT_EQ(after.node[i].general.allocated_frames, 0U) << "node " << i;
        EXPECT_EQ(after.node[i].general.free_frames, kNodeFrames) << "node " << i;
    }
    EXPECT_EQ(after.total.general.free_frames, 3 * kNodeFrames);
    EXPECT_TRUE(m.set.check().ok());
}

TEST(NodeSet, StatsSumTheNodes) {
    ThreeNodes m;
    auto a = m.set.allocate_frames(10, NodeRequest::only(0));
    auto b = m.set.allocate_frames(20, NodeRequest::only(2));
    ASSERT_TRUE(a && b);
    const auto s = m.set.stats();
    EXPECT_EQ(s.node_count, 3U);
    EXPECT_EQ(s.node[0].general.allocated_frames, 10U);
    EXPECT_EQ(s.node[1].general.allocated_frames, 0U);
    EXPECT_EQ(s.node[2].general.allocated_frames, 20U);
    EXPECT_EQ(s.total.general.allocated_frames, 30U);
    EXPECT_EQ(s.total.general.total_frames, 3 * kNodeFrames);
    EXPECT_EQ(s.total.general.free_frames, 3 * kNodeFrames - 30);
    EXPECT_EQ(s.total.general.largest_free_chunk, kNodeFrames);
}

TEST(NodeSet, BadInitLosesNothingAndCanBeRetried) {
    auto a0 = make_allocator({free_region(node_base(0), kNodeFrames * kFrame)});
    auto a1 = make_allocator({free_region(node_base(1), kNodeFrames * kFrame)});
    FrameAllocator uninitialised;
    FrameAllocator* two[2] = {a0.get(), a1.get()};
    FrameAllocator* dup[2] = {a0.get(), a0.get()};
    FrameAllocator* null[2] = {a0.get(), nullptr};
    FrameAllocator* raw[2] = {a0.get(), &uninitialised};
    FrameAllocator* five[5] = {a0.get(), a1.get(), a1.get(), a1.get(), a1.get()};
    const std::uint8_t ok_d[4] = {10, 20, 20, 10};
    const std::uint8_t short_d[3] = {10, 20, 20};
    const std::uint8_t diag_d[4] = {0, 20, 20, 10};
    const std::uint8_t near_d[4] = {10, 10, 10, 10};
    const std::uint8_t asym_d[4] = {10, 20, 21, 10};
    const std::uint8_t bad_cpu[2] = {0, 2};
    const std::uint8_t long_cpu[FRAMEALLOC_MAX_CPUS + 1] = {};
    Set set;
    struct Case {
        Span<FrameAllocator* const> nodes;
        Span<const std::uint8_t> d;
        Span<const std::uint8_t> cpus;
        ErrorKind kind;
    };
    const Case cases[] = {
        {{}, {}, {}, ErrorKind::kInvalidArgument},
        {five, {}, {}, ErrorKind::kInvalidArgument},
        {dup, {}, {}, ErrorKind::kInvalidArgument},
        {null, {}, {}, ErrorKind::kInvalidArgument},
        {raw, {}, {}, ErrorKind::kNotInitialized},
        {two, short_d, {}, ErrorKind::kInvalidArgument},
        {two, diag_d, {}, ErrorKind::kInvalidArgument},
        {two, near_d, {}, ErrorKind::kInvalidArgument},
        {two, asym_d, {}, ErrorKind::kInvalidArgument},
        {two, ok_d, bad_cpu, ErrorKind::kInvalidArgument},
        {two, ok_d, long_cpu, ErrorKind::kInvalidArgument},
    };
    for (const Case& c : cases) {
        const Status st = set.init(c.nodes, c.d, c.cpus);
        ASSERT_FALSE(st.ok());
        EXPECT_EQ(st.kind(), c.kind) << st.error().message;
        EXPECT_FALSE(set.is_initialized());
        EXPECT_EQ(set.node_count(), 0U);
    }
    EXPECT_EQ(set.allocate_frames(1, NodeRequest::only(0)).kind(), ErrorKind::kNotInitialized);
    EXPECT_EQ(set.check().kind(), ErrorKind::kNotInitialized);
    ASSERT_TRUE(set.init(two, ok_d, {}).ok());
    EXPECT_EQ(set.init(two, ok_d, {}).kind(), ErrorKind::kAlreadyInitialized);
    EXPECT_EQ(set.allocate_frames(1, NodeRequest::only(2)).kind(), ErrorKind::kInvalidArgument);
    EXPECT_EQ(set.node(2).kind(), ErrorKind::kInvalidArgument);
    EXPECT_EQ(set.node(1).value(), a1.get());
    // No CPU table: every unnamed request fails, nothing is taken anywhere.
    EXPECT_EQ(set.allocate_frames(1).kind(), ErrorKind::kNotInitialized);
    EXPECT_EQ(set.stats().total.general.allocated_frames, 0U);
}

TEST(NodeSet, UnreachableNodesAreNeverAFallback) {
    auto a0 = make_allocator({free_region(node_base(0), kNodeFrames * kFrame)});
    auto a1 = make_allocator({free_region(node_base(1), kNodeFrames * kFrame)});
    FrameAllocator* two[2] = {a0.get(), a1.get()};
    const std::uint8_t d[4] = {10, kUnreachableDistance, kUnreachableDistance, 10};
    Set set;
    ASSERT_TRUE(set.init(two, d, {}).ok());
    auto all = set.allocate_frames(kNodeFrames, NodeRequest::prefer(0));
    ASSERT_TRUE(all);
    EXPECT_EQ(set.allocate_frames(1, NodeRequest::prefer(0)).kind(), ErrorKind::kOutOfMemory);
    EXPECT_EQ(set.fallback_order(0).size(), 1U);
}

TEST(NodeSet, ForeignHandleHasNoNode) {
    ThreeNodes m;
    auto other = make_allocator({free_region(node_base(5), kNodeFrames * kFrame)});
    auto f = other->allocate_frames(1);
    ASSERT_TRUE(f);
    EXPECT_EQ(m.set.node_of(f.value()).kind(), ErrorKind::kForeignHandle);
    EXPECT_EQ(m.set.node_of(AllocatedFrames<>()).kind(), ErrorKind::kForeignHandle);
}

// The model: one bitmap per node. A request of n frames must be served by the
// first node of the fallback order with a free run of n frames (the engine
// may choose where inside that node).
struct Model {
    std::vector<bool> used[3];
    Model() {
        for (auto& u : used) {
            u.assign(kNodeFrames, false);
        }
    }
    [[nodiscard]] bool has_run(unsigned node, std::uint64_t n) const {
        std::uint64_t run = 0;
        for (const bool b : used[node]) {
            run = b ? 0 : run + 1;
            if (run >= n) {
                return true;
            }
        }
        return false;
    }
    void mark(unsigned node, std::uint64_t first, std::uint64_t n, bool value) {
        for (std::uint64_t i = first; i < first + n; ++i) {
            ASSERT_NE(used[node][i], value) << "frame " << i << " of node " << node;
            used[node][i] = value;
        }
    }
    [[nodiscard]] std::uint64_t free_count(unsigned node) const {
        std::uint64_t n = 0;
        for (const bool b : used[node]) {
            n += b ? 0 : 1;
        }
        return n;
    }
};

// In heap mode frees go to per-CPU caches, and a request the shared pool
// cannot serve drains them and retries before it fails: the prediction holds
// in both modes.
void run_differential(bool heap) {
    ThreeNodes m(heap);
    Model model;
    struct Live {
        AllocatedFrames<> frames;
        unsigned node;
    };
    std::vector<Live> live;
    std::mt19937_64 rng(16);
    int fallbacks = 0;
    int refusals = 0;
    for (int step = 0; step < 4000; ++step) {
        if (live.empty() || rng() % 100 < 55) {
            const std::uint64_t n = 1 + rng() % 24;
            const unsigned want = static_cast<unsigned>(rng() % 3);
            const bool only = rng() % 4 == 0;
            int expect = -1;
            for (const std::uint8_t node : m.set.fallback_order(want)) {
                if (model.has_run(node, n)) {
                    expect = node;
                    break;
                }
                if (only) {
                    break;
                }
            }
            auto f = m.set.allocate_frames(
                n, only ? NodeRequest::only(want) : NodeRequest::prefer(want));
            if (expect < 0) {
                ASSERT_FALSE(f) << "step " << step;
                ++refusals;
                continue;
            }
            fallbacks += expect != static_cast<int>(want) ? 1 : 0;
            ASSERT_TRUE(f) << "step " << step << ": " << f.error().message;
            const auto node = static_cast<unsigned>(expect);
            ASSERT_EQ(m.set.node_of(f.value()).value(), node) << "step " << step;
            ASSERT_TRUE(on_node(f.value(), node));
            model.mark(node, (f->start_address().value() - node_base(node)) / kFrame, n, true);
            live.push_back({std::move(f.value()), node});
        } else {
            const std::size_t k = rng() % live.size();
            set_current_cpu(static_cast<unsigned>(rng() % 6));
            const Live& l = live[k];
            model.mark(l.node, (l.frames.start_address().value() - node_base(l.node)) / kFrame,
                       l.frames.size_in_frames(), false);
            live.erase(live.begin() + static_cast<std::ptrdiff_t>(k));
        }
        if (step % 100 == 0) {
            const auto s = m.set.stats();
            for (unsigned i = 0; i < 3; ++i) {
                ASSERT_EQ(s.node[i].general.free_frames, model.free_count(i)) << "node " << i;
            }
            ASSERT_TRUE(m.set.check().ok());
        }
    }
    // The run went through both cases the policy decides between.
    EXPECT_GT(fallbacks, 50);
    EXPECT_GT(refusals, 50);
    set_current_cpu(0);
}

TEST(NodeSet, DifferentialAgainstPerNodeBitmapsEarlyMode) {
    run_differential(false);
}

TEST(NodeSet, DifferentialAgainstPerNodeBitmapsHeapMode) {
    run_differential(true);
}

}  // namespace
}  // namespace framealloc::test
