// The simulator on the built-in two-node machine: each node gets its share
// of the map, requests land on the node they ask for and fall back to the
// other only when it cannot serve them, the per-node figures agree with an
// independent count of what the simulator holds, and the summary and the
// picture name every node.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "simulator.hpp"
#include "test_util.hpp"
#include "trace.hpp"
#include "workloads.hpp"

namespace framealloc::sim::test {
namespace {

constexpr std::uint64_t kSplitFrame = (9ULL << 30) >> 12;

unsigned node_of_frame(std::uint64_t frame) {
    return frame < kSplitFrame ? 0 : 1;
}

TEST(SimNuma, TwoNodeMapDescribesTwoNodesAndTheirCpus) {
    const MachineMap map = builtin_two_node_map();
    ASSERT_EQ(map.node_count, 2U);
    ASSERT_EQ(map.node_ranges.size(), 2U);
    EXPECT_EQ(map.node_ranges[0].base + map.node_ranges[0].length, map.node_ranges[1].base);
    EXPECT_EQ(map.distances, (std::vector<std::uint8_t>{10, 21, 21, 10}));
    EXPECT_EQ(map.cpu_nodes.at(0), 0);
    EXPECT_EQ(map.cpu_nodes.at(3), 1);
    // Same memory as the desktop: only the layout is new.
    EXPECT_EQ(usable_frames(map), usable_frames(builtin_map()));
}

TEST(SimNuma, NodeStatsMatchWhatTheSimulatorHolds) {
    Simulator sim(builtin_two_node_map());
    std::string error;
    ASSERT_TRUE(sim.init(error)) << error;
    const MachineSize size{usable_frames(sim.map()), usable_frames(sim.map(), kDmaLimit >> 12), 2};
    auto source = make_workload("numa", size, 3);
    ASSERT_NE(source, nullptr);
    const RunReport r = sim.run(*source, 60000);
    EXPECT_TRUE(r.check_ok) << r.check_message;
    EXPECT_TRUE(r.conserved) << r.conservation_message;
    ASSERT_EQ(r.nodes.size(), 2U);
    std::uint64_t held[2] = {};
    for (const auto& h : sim.held()) {
        ASSERT_EQ(node_of_frame(h.frames.first), node_of_frame(h.frames.last))
            << "an allocation straddles the node boundary";
        if (h.pool == Pool::kGeneral) {
            held[node_of_frame(h.frames.first)] += h.frames.size();
        }
    }
    std::uint64_t total = 0;
    for (unsigned i = 0; i < 2; ++i) {
        EXPECT_EQ(r.nodes[i].stats.general.allocated_frames, held[i]) << "node " << i;
        total += r.nodes[i].stats.general.total_frames;
    }
    EXPECT_EQ(total, r.stats.general.total_frames);
    EXPECT_EQ(r.nodes[0].stats.general.total_frames, usable_frames(sim.map(), kSplitFrame));
    EXPECT_EQ(r.nodes[0].first_frame, 0U);
    EXPECT_EQ(r.nodes[1].first_frame, kSplitFrame);
    EXPECT_EQ(r.nodes[0].allocs + r.nodes[1].allocs, r.allocs - r.failures);
}

TEST(SimNuma, FallbackOnlyWhenTheNodeAskedForIsFull) {
    Simulator sim(builtin_two_node_map());
    std::string error;
    ASSERT_TRUE(sim.init(error)) << error;
    // Node 1 is one contiguous run: all of it, then one frame more.
    const std::uint64_t node1 = usable_frames(sim.map()) - usable_frames(sim.map(), kSplitFrame);
    std::vector<Op> ops;
    Op all;
    all.count = node1;
    all.node = 1;
    all.id = 1;
    ops.push_back(all);
    Op pinned = all;
    pinned.count = 1;
    pinned.node_only = true;
    pinned.id = 2;
    ops.push_back(pinned);
    Op spill = pinned;
    spill.node_only = false;
    spill.id = 3;
    ops.push_back(spill);
    Op local;
    local.cpu = 2;  // a node-1 CPU; its home node is full too
    local.id = 4;
    ops.push_back(local);
    TraceSource source("numa fallback", ops);
    const RunReport r = sim.run(source, ops.size());
    ASSERT_EQ(r.nodes.size(), 2U);
    EXPECT_EQ(r.failures, 1U) << "only the node-1-only request fails";
    EXPECT_EQ(r.nodes[1].allocs, 1U);
    EXPECT_EQ(r.nodes[1].stats.general.free_frames, 0U);
    EXPECT_EQ(r.nodes[0].allocs, 2U);
    EXPECT_EQ(r.nodes[0].fallbacks, 2U);
    for (const auto& h : sim.held()) {
        EXPECT_EQ(node_of_frame(h.frames.first), h.id == 1 ? 1U : 0U) << "id " << h.id;
    }
}

TEST(SimNuma, SummaryAndPictureShowEachNode) {
    ScratchDir dir;
    const auto svg = dir.file("numa.svg");
    const auto json = dir.file("numa.json");
    const CommandResult r = run_cli({"run", "--map", "two-node", "--workload", "numa", "--ops",
                                     "5000", "--svg", svg.string(), "--json", json.string()});
    ASSERT_EQ(r.code, kExitOk) << r.err;
    for (const char* text : {"NUMA nodes", "  node 0", "  node 1", "fallbacks"}) {
        EXPECT_NE(r.out.find(text), std::string::npos) << text;
    }
    std::ifstream in(svg);
    std::stringstream picture;
    picture << in.rdbuf();
    EXPECT_NE(picture.str().find(">node 0<"), std::string::npos);
    EXPECT_NE(picture.str().find(">node 1<"), std::string::npos);
    EXPECT_NE(picture.str().find("node 1: free"), std::string::npos);
    std::ifstream json_in(json);
    std::stringstream text;
    text << json_in.rdbuf();
    EXPECT_NE(text.str().find("{\"node\": 1, \"total_frames\": "), std::string::npos);
}

TEST(SimNuma, OneNodeMapsShowNoNodes) {
    const CommandResult r = run_cli({"run", "--ops", "2000", "--no-svg"});
    ASSERT_EQ(r.code, kExitOk) << r.err;
    EXPECT_EQ(r.out.find("NUMA nodes"), std::string::npos);
    // The numa workload still runs on one node: every request is local.
    const CommandResult one = run_cli({"run", "--workload", "numa", "--ops", "2000", "--no-svg"});
    ASSERT_EQ(one.code, kExitOk) << one.err;
    EXPECT_NE(one.out.find("frames conserved          ok"), std::string::npos) << one.out;
}

}  // namespace
}  // namespace framealloc::sim::test
