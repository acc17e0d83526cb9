// NUMA self-test, in four parts:
//  (a) node-local requests: every CPU at once makes NodeRequest::local() and
//      prefer(n) requests; each must come from the expected node's ranges;
//  (b) fallback only when a node is exhausted, in distance order: a CPU of
//      the victim node takes every free frame of it with only()/prefer()/
//      local() requests (none may fall back while the node has room), then
//      prefer(victim) and local() land on the nearest other node and only()
//      is refused with kOutOfMemory;
//  (c) frames go home: allocated on the victim node, freed on a CPU of
//      another node, they raise the victim's free count (node_of says where);
//  (d) the node set's check() passes and every node has all its frames back.
#include "numa_test.hpp"

#include <atomic>
#include <new>
#include <utility>

#include "console.hpp"
#include "cpu_local.hpp"
#include "framealloc/framealloc.hpp"
#include "numa.hpp"
#include "selftest_support.hpp"
#include "smp.hpp"

namespace kernel::numa_test {
namespace {

using framealloc::AllocatedFrames;
using framealloc::ErrorKind;
using framealloc::NodePolicy;
using framealloc::NodeRequest;
using selftest::Random;

constexpr unsigned kPerCpu = 96;       // allocations each CPU holds in part (a)
constexpr unsigned kMaxExhaust = 512;  // allocations that may take a whole node
constexpr unsigned kMaxFallback = 16;
constexpr unsigned kNoSecond = ~0U;
constexpr std::uint64_t kExhaustStep = 32768;  // frames per exhausting request, at most

struct State {
    AllocatedFrames<> held[kMaxCpus][kPerCpu];
    std::uint64_t seed[kMaxCpus][kPerCpu] = {};
    AllocatedFrames<> exhaust[kMaxExhaust];
    unsigned exhaust_count = 0;
    AllocatedFrames<> fallback[kMaxFallback];
    unsigned fallback_count = 0;
    unsigned victim = 0;                  // the node part (b) exhausts
    unsigned nearest = 0;                 // where its requests must go next
    unsigned second_nearest = kNoSecond;  // and after that (3 nodes or more)
    unsigned victim_cpu = 0;
    unsigned other_victim_cpu = kMaxCpus;  // a second CPU of the victim node, if any
    unsigned rescuer_cpu = 0;              // a CPU of another node, for part (c)
};

alignas(State) unsigned char state_storage[sizeof(State)];
State* state = nullptr;

constinit std::atomic<std::uint64_t> local_allocations{0};
constinit std::atomic<std::uint64_t> preferred_allocations{0};
constinit std::atomic<std::uint64_t> fallbacks{0};
constinit std::atomic<std::uint64_t> refusals{0};
constinit std::atomic<std::uint64_t> cross_node_frees{0};
constinit std::atomic<std::uint64_t> exhausting_allocations{0};
constinit std::atomic<std::uint64_t> second_level_fallbacks{0};

numa::NodeAllocators& nodes() {
    return numa::nodes();
}

unsigned home() {
    auto node = nodes().home_node(cpu_index());
    if (!node) {
        kpanic("numa: cpu %u has no home node: %s", cpu_index(), node.error().message);
    }
    return node.value();
}

std::uint64_t node_free(unsigned node) {
    return nodes().stats().node[node].general.free_frames;
}

// Allocates, then checks the handle's node and that the frames lie in it.
AllocatedFrames<> allocate_on(std::uint64_t frames, NodeRequest where, unsigned expected,
                              const char* what) {
    auto result = nodes().allocate_frames(frames, where);
    if (!result) {
        kpanic("numa: cpu %u: %s of %lu frames failed: %s (%s)", cpu_index(), what, frames,
               framealloc::to_string(result.error().kind), result.error().message);
    }
    AllocatedFrames<> handle = std::move(result.value());
    auto node = nodes().node_of(handle);
    const std::uint64_t first = handle.start_address().value();
    const std::uint64_t last = first + handle.size_in_bytes() - 1;
    if (!node || node.value() != expected || !numa::in_node(expected, first, last)) {
        kpanic("numa: cpu %u: %s gave [0x%lx - 0x%lx] from node %d, expected node %u", cpu_index(),
               what, first, last + 1, node ? static_cast<int>(node.value()) : -1, expected);
    }
    return handle;
}

void expect_refused(std::uint64_t frames, NodeRequest where, const char* what) {
    auto result = nodes().allocate_frames(frames, where);
    if (result) {
        kpanic("numa: cpu %u: %s succeeded at 0x%lx on an exhausted node", cpu_index(), what,
               result.value().start_address().value());
    }
    if (result.error().kind != ErrorKind::kOutOfMemory || result.error().message == nullptr) {
        kpanic("numa: cpu %u: %s failed with %s, expected out of memory", cpu_index(), what,
               framealloc::to_string(result.error().kind));
    }
    refusals.fetch_add(1, std::memory_order_relaxed);
}

// Eight words of every frame get an address- and seed-derived pattern.
constexpr unsigned kPatternStride = 64;

void write_pattern(const AllocatedFrames<>& frames, std::uint64_t seed) {
    selftest::fill(frames.start_address().value(), frames.size_in_frames(), seed, kPatternStride);
}

void check_pattern(const AllocatedFrames<>& frames, std::uint64_t seed) {
    (void)selftest::verify(frames.start_address().value(), frames.size_in_frames(), seed,
                           kPatternStride);
}

// Frees `frames` on the running CPU; counts it when they are another node's.
void free_here(AllocatedFrames<>& frames) {
    if (frames.is_empty()) {
        return;  // freed earlier (part (c))
    }
    auto node = nodes().node_of(frames);
    if (!node) {
        kpanic("numa: cpu %u: freeing a handle of no node: %s", cpu_index(), node.error().message);
    }
    if (node.value() != home()) {
        cross_node_frees.fetch_add(1, std::memory_order_relaxed);
    }
    frames = AllocatedFrames<>();
}

// (a) On every CPU: local() and prefer(n) requests, held, patterned.
void allocate_job(unsigned cpu, void*) {
    Random random(0x9e3779b97f4a7c15ULL ^ (std::uint64_t{cpu} + 1) * 0x100000001b3ULL);
    const unsigned count = numa::layout().node_count;
    const unsigned mine = home();
    for (unsigned k = 0; k < kPerCpu; ++k) {
        const std::uint64_t frames = 1 + random.below(8);
        AllocatedFrames<> handle;
        if (k % 2 == 0) {
            handle = allocate_on(frames, NodeRequest::local(), mine, "local()");
            local_allocations.fetch_add(1, std::memory_order_relaxed);
        } else {
            const unsigned node = (k / 2 + cpu) % count;
            handle = allocate_on(frames, NodeRequest::prefer(node), node, "prefer(n)");
            preferred_allocations.fetch_add(1, std::memory_order_relaxed);
        }
        state->seed[cpu][k] = random.next();
        write_pattern(handle, state->seed[cpu][k]);
        state->held[cpu][k] = std::move(handle);
    }
}

// (a), (c) On every CPU: free the allocations of a CPU half the machine away
// (on another node when the nodes split the CPUs evenly), checking patterns.
void free_job(unsigned cpu, void*) {
    const unsigned from = (cpu + smp::cpu_count() / 2) % smp::cpu_count();
    for (unsigned k = 0; k < kPerCpu; ++k) {
        check_pattern(state->held[from][k], state->seed[from][k]);
        free_here(state->held[from][k]);
    }
}

// Takes every free frame of `node` with requests of the kinds `kinds` lists
// (0: only(node), 1: prefer(node), 2: local()), in turn, into state->exhaust.
// Up to the largest free run each, so the node empties in a few steps; none
// may leave the node while it has room.
void exhaust_node(unsigned node, unsigned kinds) {
    unsigned step = 0;
    for (;;) {
        const framealloc::FrameStats st = nodes().stats().node[node];
        if (st.general.free_frames == 0) {
            break;
        }
        if (state->exhaust_count == kMaxExhaust) {
            kpanic("numa: node %u still has %lu free frames after %u allocations", node,
                   st.general.free_frames, kMaxExhaust);
        }
        const std::uint64_t frames = st.general.largest_free_chunk < kExhaustStep
                                         ? st.general.largest_free_chunk
                                         : kExhaustStep;
        const unsigned kind = step % kinds;
        const NodeRequest where = kind == 0   ? NodeRequest::only(node)
                                  : kind == 1 ? NodeRequest::prefer(node)
                                              : NodeRequest::local();
        state->exhaust[state->exhaust_count++] =
            allocate_on(frames, where, node, "exhausting request");
        exhausting_allocations.fetch_add(1, std::memory_order_relaxed);
        ++step;
    }
    expect_refused(1, NodeRequest::only(node), "only() on an exhausted node");
}

// (b) On a CPU of the victim node: take every free frame of it; then its
// requests go to the nearest node. With a third node: take the nearest
// node's frames too, and they go to the next one in distance order.
void exhaust_job(unsigned cpu, void*) {
    if (cpu != state->victim_cpu) {
        return;
    }
    const unsigned victim = state->victim;
    exhaust_node(victim, 3);
    expect_refused(1, NodeRequest::local(NodePolicy::kOnly), "local(kOnly)");
    state->fallback[state->fallback_count++] =
        allocate_on(1, NodeRequest::prefer(victim), state->nearest, "prefer(victim)");
    state->fallback[state->fallback_count++] =
        allocate_on(3, NodeRequest::local(), state->nearest, "local()");
    fallbacks.fetch_add(2, std::memory_order_relaxed);
    if (state->second_nearest == kNoSecond) {
        return;
    }
    const unsigned first_second = state->exhaust_count;
    exhaust_node(state->nearest, 1);  // only(nearest): this CPU's home is elsewhere
    AllocatedFrames<> further = allocate_on(2, NodeRequest::prefer(victim), state->second_nearest,
                                            "prefer(victim), 2nd level");
    fallbacks.fetch_add(1, std::memory_order_relaxed);
    further = AllocatedFrames<>();
    // The nearest node gets its frames back at once (the next step needs
    // room there), freed here, on a CPU of another node.
    for (unsigned i = first_second; i < state->exhaust_count; ++i) {
        free_here(state->exhaust[i]);
    }
    state->exhaust_count = first_second;
    second_level_fallbacks.fetch_add(1, std::memory_order_relaxed);
}

// (b) The victim node's other CPU falls back the same way; every other CPU
// still gets its own node.
void after_exhaustion_job(unsigned cpu, void*) {
    const unsigned mine = home();
    if (mine == state->victim) {
        if (cpu == state->victim_cpu) {
            return;
        }
        AllocatedFrames<> frames =
            allocate_on(2, NodeRequest::local(), state->nearest, "local() on the exhausted node");
        fallbacks.fetch_add(1, std::memory_order_relaxed);
        frames = AllocatedFrames<>();
        return;
    }
    AllocatedFrames<> frames = allocate_on(2, NodeRequest::local(), mine, "local()");
    local_allocations.fetch_add(1, std::memory_order_relaxed);
    frames = AllocatedFrames<>();
}

// (c) On a CPU of another node: free one allocation of the victim node and
// watch the victim's free count come back.
void give_back_job(unsigned cpu, void*) {
    if (cpu != state->rescuer_cpu) {
        return;
    }
    AllocatedFrames<>& frames = state->exhaust[0];
    auto node = nodes().node_of(frames);
    if (!node || node.value() != state->victim) {
        kpanic("numa: node_of an exhausting allocation is not node %u", state->victim);
    }
    const std::uint64_t size = frames.size_in_frames();
    const std::uint64_t before = node_free(state->victim);
    const std::uint64_t near_before = node_free(state->nearest);
    free_here(frames);
    const std::uint64_t after = node_free(state->victim);
    if (after != before + size || node_free(state->nearest) != near_before) {
        kpanic(
            "numa: freeing %lu frames of node %u on cpu %u: node %u free %lu -> %lu, node %u "
            "free %lu -> %lu",
            size, state->victim, cpu, state->victim, before, after, state->nearest, near_before,
            node_free(state->nearest));
    }
    kprintf(
        "framealloc-kernel: numa: %lu frames of node %u freed on cpu %u (node %u): node %u "
        "free %lu -> %lu\n",
        size, state->victim, cpu, home(), state->victim, before, after);
}

// (b) With room again, the victim's CPU is served at home, not by fallback.
void home_again_job(unsigned cpu, void*) {
    if (cpu != state->victim_cpu) {
        return;
    }
    AllocatedFrames<> frames =
        allocate_on(1, NodeRequest::prefer(state->victim), state->victim, "prefer(victim)");
    frames = AllocatedFrames<>();
    frames = allocate_on(1, NodeRequest::local(), state->victim, "local()");
    local_allocations.fetch_add(1, std::memory_order_relaxed);
}

// Everything else goes back: the i-th handle is freed by the (i mod k)-th
// of the k CPUs whose home is not the handle's node.
void free_share(AllocatedFrames<>* frames, unsigned count, unsigned cpu) {
    for (unsigned i = 0; i < count; ++i) {
        if (frames[i].is_empty()) {
            continue;
        }
        const unsigned owner = nodes().node_of(frames[i]).value();
        unsigned rank = 0;
        unsigned helpers = 0;
        for (unsigned other = 0; other < smp::cpu_count(); ++other) {
            if (numa::layout().cpu_node[other] != owner) {
                rank += other < cpu ? 1 : 0;
                ++helpers;
            }
        }
        if (numa::layout().cpu_node[cpu] != owner && i % helpers == rank) {
            free_here(frames[i]);
        }
    }
}

void release_job(unsigned cpu, void*) {
    free_share(state->exhaust, state->exhaust_count, cpu);
    free_share(state->fallback, state->fallback_count, cpu);
}

void choose_roles() {
    const numa::Layout& layout = numa::layout();
    state->victim = layout.node_count - 1;
    auto order = nodes().fallback_order(state->victim);
    if (order.size() < 2) {
        kpanic("numa: node %u has no fallback node", state->victim);
    }
    // The fallback order must follow the SLIT: non-decreasing distance.
    for (std::size_t i = 2; i < order.size(); ++i) {
        if (nodes().distance(state->victim, order[i - 1]).value() >
            nodes().distance(state->victim, order[i]).value()) {
            kpanic("numa: fallback order of node %u is not sorted by distance", state->victim);
        }
    }
    if (order[0] != state->victim) {
        kpanic("numa: fallback order of node %u does not start with itself", state->victim);
    }
    state->nearest = order[1];
    if (order.size() >= 3) {
        state->second_nearest = order[2];
    }
    // ... and its first fallback is the nearest other node by the firmware's
    // table (ties: the lower id), worked out here independently.
    const unsigned n = layout.node_count;
    unsigned nearest = state->victim == 0 ? 1 : 0;
    for (unsigned j = 0; j < n; ++j) {
        if (j != state->victim &&
            layout.distance[state->victim * n + j] < layout.distance[state->victim * n + nearest]) {
            nearest = j;
        }
    }
    if (state->nearest != nearest) {
        kpanic("numa: node %u falls back to node %u first, the SLIT's nearest is node %u",
               state->victim, state->nearest, nearest);
    }
    state->victim_cpu = kMaxCpus;
    state->rescuer_cpu = kMaxCpus;
    for (unsigned cpu = 0; cpu < smp::cpu_count(); ++cpu) {
        const unsigned node = layout.cpu_node[cpu];
        if (node == state->victim) {
            if (state->victim_cpu == kMaxCpus) {
                state->victim_cpu = cpu;
            } else if (state->other_victim_cpu == kMaxCpus) {
                state->other_victim_cpu = cpu;
            }
        } else if (node == state->nearest && state->rescuer_cpu == kMaxCpus) {
            state->rescuer_cpu = cpu;
        }
    }
    if (state->victim_cpu == kMaxCpus || state->rescuer_cpu == kMaxCpus) {
        kpanic("numa: the test needs a CPU on node %u and one on node %u", state->victim,
               state->nearest);
    }
    kprintf("framealloc-kernel: numa: fallback order of node %u:", state->victim);
    for (std::uint8_t node : order) {
        kprintf(" %u (distance %u)", node, nodes().distance(state->victim, node).value());
    }
    kprintf("; cpu %u exhausts node %u, cpu %u frees its frames\n", state->victim_cpu,
            state->victim, state->rescuer_cpu);
}

}  // namespace

void run() {
    const unsigned online = smp::start_all_cpus();
    numa::verify_cpus(online);
    const unsigned node_count = numa::layout().node_count;
    if (node_count < 2) {
        kpanic("numa: the test needs 2 nodes, the SRAT gives %u", node_count);
    }
    state = new (state_storage) State;
    framealloc::NodeSetStats<numa::kMaxNodes> before = nodes().stats();

    smp::run_on_all_cpus(allocate_job, nullptr);
    smp::run_on_all_cpus(free_job, nullptr);
    for (unsigned node = 0; node < node_count; ++node) {
        if (node_free(node) != before.node[node].general.free_frames) {
            kpanic("numa: node %u has %lu free frames after part (a), %lu before", node,
                   node_free(node), before.node[node].general.free_frames);
        }
    }
    kprintf(
        "framealloc-kernel: numa: part (a): %lu local() and %lu prefer(n) allocations on %u "
        "CPUs, each in its node's ranges; freed on other CPUs, every node's free count back\n",
        local_allocations.load(), preferred_allocations.load(), online);

    choose_roles();
    smp::run_on_all_cpus(exhaust_job, nullptr);
    smp::run_on_all_cpus(after_exhaustion_job, nullptr);
    kprintf(
        "framealloc-kernel: numa: part (b): %lu allocations took every free frame of the "
        "exhausted nodes without fallback; then %lu requests fell back to node %u",
        exhausting_allocations.load(), fallbacks.load() - second_level_fallbacks.load(),
        state->nearest);
    if (second_level_fallbacks.load() != 0) {
        kprintf(" (%lu to node %u with node %u full too)", second_level_fallbacks.load(),
                state->second_nearest, state->nearest);
    }
    kprintf(" and %lu only() requests were refused\n", refusals.load());
    smp::run_on_all_cpus(give_back_job, nullptr);
    smp::run_on_all_cpus(home_again_job, nullptr);
    smp::run_on_all_cpus(release_job, nullptr);
    smp::park_aps();

    // (d) Everything back, per node, and the allocators consistent.
    const framealloc::Status checked = nodes().check();
    if (!checked) {
        kpanic("numa: node set check() failed: %s", checked.error().message);
    }
    const framealloc::NodeSetStats<numa::kMaxNodes> after = nodes().stats();
    for (unsigned node = 0; node < node_count; ++node) {
        if (after.node[node].general.free_frames != before.node[node].general.free_frames) {
            kpanic("numa: node %u has %lu of %lu free frames back", node,
                   after.node[node].general.free_frames, before.node[node].general.free_frames);
        }
        kprintf("framealloc-kernel: numa: node %u: %lu/%lu frames free, as before the test\n", node,
                after.node[node].general.free_frames, after.node[node].general.total_frames);
    }
    kprintf(
        "framealloc-kernel: numa selftest passed: %u CPUs, %u nodes, %lu local allocations, %lu "
        "preferred, %lu "
        "fallbacks, %lu refused, %lu cross-node frees\n",
        online, node_count, local_allocations.load(), preferred_allocations.load(),
        fallbacks.load(), refusals.load(), cross_node_frees.load());
}

}  // namespace kernel::numa_test
