// Every built-in workload, run on the built-in machine: the allocator's
// checker passes, frames are conserved, and each workload really exercises
// what it claims (huge frames, DMA constraints, MMIO, per-CPU caches).
#include <gtest/gtest.h>

#include "simulator.hpp"
#include "workloads.hpp"

namespace framealloc::sim {
namespace {

struct Outcome {
    RunReport report;
    std::vector<Simulator::HeldRange> held;
};

Outcome run_workload(const std::string& name, std::uint64_t ops, std::uint64_t seed = 1) {
    Simulator sim(builtin_map());
    std::string error;
    EXPECT_TRUE(sim.init(error)) << error;
    const MachineSize size{usable_frames(sim.map()), usable_frames(sim.map(), kDmaLimit >> 12)};
    auto source = make_workload(name, size, seed);
    EXPECT_NE(source, nullptr) << name;
    Outcome o;
    o.report = sim.run(*source, ops);
    o.held = sim.held();
    return o;
}

void expect_invariants(const Outcome& o, const std::string& name) {
    const RunReport& r = o.report;
    EXPECT_TRUE(r.check_ok) << name << ": " << r.check_message;
    EXPECT_TRUE(r.conserved) << name << ": " << r.conservation_message;
    const FrameStats& s = r.stats;
    EXPECT_EQ(s.general.free_frames + s.general.allocated_frames, s.general.total_frames) << name;
    // The snapshot accounts for every frame of both pools exactly once.
    std::uint64_t pictured = 0;
    for (std::size_t i = 0; i < r.snapshot.runs.size(); ++i) {
        pictured += r.snapshot.runs[i].frames.size();
        if (i > 0) {
            EXPECT_GT(r.snapshot.runs[i].frames.first, r.snapshot.runs[i - 1].frames.last) << name;
        }
    }
    EXPECT_EQ(pictured, s.general.total_frames + s.reserved.total_frames) << name;
    EXPECT_EQ(frames_in_state(r.snapshot, FrameState::kFree) +
                  frames_in_state(r.snapshot, FrameState::kCached),
              s.general.free_frames)
        << name;
    EXPECT_EQ(r.live_allocations, o.held.size()) << name;
    EXPECT_LE(r.latency_ns.size(), r.ops) << "at most one latency per operation";
}

TEST(SimWorkloads, UnknownNameGivesNothing) {
    EXPECT_EQ(make_workload("nope", MachineSize{1000, 1000}, 1), nullptr);
    EXPECT_EQ(default_ops("nope"), 0U);
}

TEST(SimWorkloads, BootMapsFirmwareAndDevicesAndGrowsTheHeap) {
    const Outcome o = run_workload("boot", default_ops("boot"));
    expect_invariants(o, "boot");
    EXPECT_EQ(o.report.failures, 0U);
    EXPECT_TRUE(o.report.stats.heap_mode) << "the boot script moves to the heap";
    // local APIC, IOAPIC, HPET: reserved pool, held at their exact frames.
    for (const std::uint64_t mmio : {0xFEE00000ULL, 0xFEC00000ULL, 0xFED00000ULL}) {
        const bool found = std::any_of(o.held.begin(), o.held.end(), [&](const auto& h) {
            return h.frames.first == (mmio >> 12) && h.pool == Pool::kReserved;
        });
        EXPECT_TRUE(found) << std::hex << mmio;
    }
    const bool kernel_image = std::any_of(o.held.begin(), o.held.end(), [](const auto& h) {
        return h.frames.first == 0x100 && h.frames.size() == 1024;
    });
    EXPECT_TRUE(kernel_image);
    EXPECT_GE(o.report.stats.reserved.allocated_frames, 2048U + 3) << "framebuffer + MMIO";
}

TEST(SimWorkloads, ChurnUsesThePerCpuCaches) {
    const Outcome o = run_workload("churn", 30000);
    expect_invariants(o, "churn");
    EXPECT_EQ(o.report.failures, 0U);
    EXPECT_GT(o.report.stats.cached_frames, 0U);
    EXPECT_GT(frames_in_state(o.report.snapshot, FrameState::kCached), 0U);
    EXPECT_GT(o.report.frees, 5000U);
}

TEST(SimWorkloads, HugepagesHandsOutAligned2MiBFrames) {
    const Outcome o = run_workload("hugepages", 20000);
    expect_invariants(o, "hugepages");
    std::uint64_t huge = 0;
    for (const auto& h : o.held) {
        if (h.frames.size() % 512 == 0 && h.frames.size() >= 512) {
            EXPECT_EQ(h.frames.first % 512, 0U);
            ++huge;
        }
    }
    EXPECT_GT(huge, 1000U);
}

TEST(SimWorkloads, DmaBuffersHonourEveryConstraint) {
    const Outcome o = run_workload("dma", 20000);
    expect_invariants(o, "dma");
    ASSERT_FALSE(o.held.empty());
    for (const auto& h : o.held) {
        EXPECT_LE((h.frames.last + 1) * 4096, kDmaLimit) << "below 4 GiB";
        if (h.frames.size() <= kDmaBoundaryFrames) {
            // Descriptors: naturally aligned and inside one 64 KiB window.
            EXPECT_EQ(h.frames.first % h.frames.size(), 0U);
            EXPECT_EQ(h.frames.first / kDmaBoundaryFrames, h.frames.last / kDmaBoundaryFrames);
        } else {
            EXPECT_EQ(h.frames.first % 16, 0U) << "rings are 64 KiB aligned";
        }
    }
}

TEST(SimWorkloads, MixedRunsEverythingTogether) {
    const Outcome o = run_workload("mixed", 40000);
    expect_invariants(o, "mixed");
    EXPECT_GT(o.report.frees, 0U);
    EXPECT_GT(frames_in_state(o.report.snapshot, FrameState::kReservedAllocated), 0U);
    EXPECT_GT(o.report.series.size(), 100U);
    EXPECT_EQ(o.report.series.front().op, 0U);
    EXPECT_EQ(o.report.series.back().op, o.report.ops);
}

TEST(SimWorkloads, SameSeedSameLifeDifferentSeedDifferentLife) {
    const Outcome a = run_workload("mixed", 10000, 5);
    const Outcome b = run_workload("mixed", 10000, 5);
    const Outcome c = run_workload("mixed", 10000, 6);
    ASSERT_EQ(a.held.size(), b.held.size());
    for (std::size_t i = 0; i < a.held.size(); ++i) {
        EXPECT_EQ(a.held[i].frames.first, b.held[i].frames.first);
        EXPECT_EQ(a.held[i].frames.last, b.held[i].frames.last);
    }
    bool differs = a.held.size() != c.held.size();
    for (std::size_t i = 0; !differs && i < a.held.size(); ++i) {
        differs = a.held[i].frames.first != c.held[i].frames.first;
    }
    EXPECT_TRUE(differs);
}

TEST(SimWorkloads, UsableBelowALimitCountsOnlyLowFrames) {
    const MachineMap map = builtin_map();
    // Below 4 GiB the built-in map offers [0, 0x9f000), [1 MiB, 0xbeed8000)
    // and three small islands of 1, 0x288 and 0x14 frames.
    const std::uint64_t low = 0x9f + (0xbeed8 - 0x100) + 1 + 1 + 0x288 + 0x14;
    EXPECT_EQ(usable_frames(map, kDmaLimit >> 12), low);
    EXPECT_EQ(usable_frames(map), low + (0x440000 - 0x100000));
    EXPECT_EQ(usable_frames(map, 0x50), 0x50U) << "a limit inside the first region";
}

TEST(SimWorkloads, OpsLimitIsRespected) {
    const Outcome o = run_workload("churn", 1234);
    EXPECT_EQ(o.report.ops, 1234U);
}

}  // namespace
}  // namespace framealloc::sim
