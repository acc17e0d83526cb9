// NodeSet: one allocation interface over up to N per-node frame allocators
// (NUMA). The kernel initialises one BasicFrameAllocator per node with that
// node's regions (node_regions.hpp splits one firmware map by the SRAT's or
// the device tree's node ranges) and hands them to init() together with a
// SLIT-style distance table and each CPU's home node. A request names a node
// (or none: the calling CPU's home node) and a policy: that node only, or that
// node first and then the others, nearest first. Frames always go back to the
// allocator that handed them out, since a handle belongs to its allocator.
//
// Locking: the set adds no lock of its own. Its tables are written by init()
// alone, which must finish before any other CPU uses the set (the `ready_`
// flag publishes them); only the CPU-to-node table changes later, through
// set_home_node(), one relaxed atomic byte per CPU. Every allocation takes the
// locks of the node allocators it tries, one at a time, never two at once.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <utility>

#include "framealloc/allocator.hpp"
#include "framealloc/config.hpp"
#include "framealloc/hooks.hpp"
#include "framealloc/result.hpp"
#include "framealloc/span.hpp"

namespace framealloc {

/// A CPU-to-node table entry for a CPU that has no home node (absent, or not
/// described by the firmware).
inline constexpr std::uint8_t kNoNode = 0xff;
/// The SLIT's distance of a node to itself; every other distance is larger.
inline constexpr std::uint8_t kLocalDistance = 10;
/// The distance init() assumes between two different nodes when no table is given.
inline constexpr std::uint8_t kDefaultRemoteDistance = 20;
/// A SLIT distance meaning "unreachable": never fall back to that node.
inline constexpr std::uint8_t kUnreachableDistance = 255;

/// Where a request may be served.
enum class NodePolicy : std::uint8_t {
    kPreferred,  ///< The named node first, then the others by distance (ties: lower id).
    kOnly,       ///< The named node or nothing.
};

/// The NUMA side of a request, passed beside its AllocRequest. No node means
/// the home node of the calling CPU (framealloc_cpu_id()).
struct NodeRequest {
    Optional<unsigned> node;
    NodePolicy policy = NodePolicy::kPreferred;

    /// The calling CPU's home node, with `policy`.
    [[nodiscard]] static constexpr NodeRequest local(NodePolicy policy = NodePolicy::kPreferred) {
        return NodeRequest{{}, policy};
    }
    /// Node `id` first, then the nearest others.
    [[nodiscard]] static constexpr NodeRequest prefer(unsigned id) {
        return NodeRequest{id, NodePolicy::kPreferred};
    }
    /// Node `id` only.
    [[nodiscard]] static constexpr NodeRequest only(unsigned id) {
        return NodeRequest{id, NodePolicy::kOnly};
    }
};

/// Per-node and total statistics of a NodeSet (one consistent snapshot per
/// node; the nodes are read one after the other).
template <std::size_t N>
struct NodeSetStats {
    FrameStats node[N] = {};
    /// Sums over the nodes; largest_free_chunk is the largest of any node,
    /// heap_mode is true when every node is in heap mode.
    FrameStats total;
    unsigned node_count = 0;
};

/// Up to N frame allocators of type `Allocator` (a BasicFrameAllocator),
/// one per NUMA node, behind one interface. The set does not own the
/// allocators: the kernel places and initialises them, and they must outlive
/// the set. Constant-initialisable, no heap, no destructor work.
template <std::size_t N, typename Allocator = FrameAllocator>
class NodeSet {
    static_assert(N >= 1 && N < kNoNode, "a node set holds 1 to 254 nodes");

  public:
    constexpr NodeSet() = default;
    NodeSet(const NodeSet&) = delete;
    NodeSet& operator=(const NodeSet&) = delete;

    /// Attaches the node allocators and the topology. `nodes[i]` is node i
    /// (each already initialised, no two the same); `distances` is a
    /// row-major nodes.size() x nodes.size() table as the SLIT gives it:
    /// distance[i][i] = 10, every other entry 11..254, or 255 for
    /// "unreachable" (never a fallback), and symmetric; an empty table means
    /// 20 between any two nodes. `cpu_nodes[cpu]` is the home node of each
    /// CPU id (kNoNode for none), at most FRAMEALLOC_MAX_CPUS entries; CPUs
    /// past its end have no home node. Call once, before any other CPU uses
    /// the set. Errors: kAlreadyInitialized; kInvalidArgument (no nodes or
    /// more than N, a null or repeated allocator, a distance table of the
    /// wrong size, a diagonal entry other than 10, an off-diagonal entry
    /// below 11, an asymmetric table, a CPU table longer than
    /// FRAMEALLOC_MAX_CPUS or naming a node that does not exist);
    /// kNotInitialized (an allocator whose init() has not run). On error
    /// nothing changes.
    [[nodiscard]] Status init(Span<Allocator* const> nodes, Span<const std::uint8_t> distances,
                              Span<const std::uint8_t> cpu_nodes) {
        if (ready_.load(std::memory_order_acquire)) {
            return make_error(ErrorKind::kAlreadyInitialized, "node set already initialised");
        }
        FRAMEALLOC_TRY(validate_nodes(nodes));
        FRAMEALLOC_TRY(validate_distances(distances, nodes.size()));
        FRAMEALLOC_TRY(validate_cpu_nodes(cpu_nodes, nodes.size()));
        count_ = static_cast<unsigned>(nodes.size());
        for (unsigned i = 0; i < count_; ++i) {
            nodes_[i] = nodes[i];
            for (unsigned j = 0; j < count_; ++j) {
                distance_[i][j] = distances.empty()
                                      ? (i == j ? kLocalDistance : kDefaultRemoteDistance)
                                      : distances[std::size_t{i} * count_ + j];
            }
        }
        for (unsigned i = 0; i < count_; ++i) {
            build_order(i);
        }
        for (unsigned cpu = 0; cpu < FRAMEALLOC_MAX_CPUS; ++cpu) {
            home_[cpu].store(cpu < cpu_nodes.size() ? cpu_nodes[cpu] : kNoNode,
                             std::memory_order_relaxed);
        }
        ready_.store(true, std::memory_order_release);
        return {};
    }

    [[nodiscard]] bool is_initialized() const { return ready_.load(std::memory_order_acquire); }
    /// Number of nodes (0 before init()).
    [[nodiscard]] unsigned node_count() const { return is_initialized() ? count_ : 0; }

    /// The allocator of node `id`; kInvalidArgument when there is no such
    /// node, kNotInitialized before init().
    [[nodiscard]] Result<Allocator*> node(unsigned id) const {
        FRAMEALLOC_TRY(check_node(id));
        return nodes_[id];
    }

    /// The SLIT distance from node `from` to node `to`; errors as node().
    [[nodiscard]] Result<std::uint8_t> distance(unsigned from, unsigned to) const {
        FRAMEALLOC_TRY(check_node(from));
        FRAMEALLOC_TRY(check_node(to));
        return distance_[from][to];
    }

    /// The nodes a kPreferred request for `id` tries, in order: `id` itself,
    /// then every reachable node by distance (ties: lower id first). Empty
    /// when there is no such node.
    [[nodiscard]] Span<const std::uint8_t> fallback_order(unsigned id) const {
        if (!check_node(id)) {
            return {};
        }
        return Span<const std::uint8_t>(order_[id], order_length_[id]);
    }

    /// The home node of `cpu`. Errors: kNotInitialized (before init(), or
    /// the CPU has no home node).
    [[nodiscard]] Result<unsigned> home_node(unsigned cpu) const {
        if (!is_initialized()) {
            return make_error(ErrorKind::kNotInitialized, "node set init() has not been called");
        }
        const std::uint8_t node =
            cpu < FRAMEALLOC_MAX_CPUS ? home_[cpu].load(std::memory_order_relaxed) : kNoNode;
        if (node == kNoNode) {
            return make_error(ErrorKind::kNotInitialized,
                              "the calling CPU has no home node; name a node in the request");
        }
        return unsigned{node};
    }

    /// Sets (or, with kNoNode, clears) the home node of `cpu`: a CPU brought
    /// online later. Errors: kNotInitialized; kInvalidArgument (cpu at or
    /// past FRAMEALLOC_MAX_CPUS, or no such node).
    [[nodiscard]] Status set_home_node(unsigned cpu, std::uint8_t node) {
        if (!is_initialized()) {
            return make_error(ErrorKind::kNotInitialized, "node set init() has not been called");
        }
        if (cpu >= FRAMEALLOC_MAX_CPUS) {
            return make_error(ErrorKind::kInvalidArgument,
                              "CPU id is not below FRAMEALLOC_MAX_CPUS");
        }
        if (node != kNoNode && node >= count_) {
            return make_error(ErrorKind::kInvalidArgument, "home node id is out of range");
        }
        home_[cpu].store(node, std::memory_order_relaxed);
        return {};
    }

    /// Allocates `request` on the node `where` names (or the calling CPU's
    /// home node). With kPreferred, a node that cannot serve the request for
    /// want of memory (kOutOfMemory, kNotEnoughContiguous,
    /// kCapacityExhausted) passes it to the next node of fallback_order();
    /// any other error ends the request at once. When every node refuses,
    /// the first node's error is returned.
    ///
    /// A request for an exact address (`request.at`) goes to the node whose
    /// regions hold it, whatever the distances say (with kOnly, only the
    /// named node is asked); it only reaches memory some node manages:
    /// device memory outside every node is allocated from one node's
    /// allocator directly, so that no two nodes ever track the same frame.
    ///
    /// Errors: kNotInitialized (before init(), or no node named and the CPU
    /// has no home node); kInvalidArgument (no such node); kOutsideAllocator
    /// (an address no node asked manages); those of Allocator::allocate().
    [[nodiscard]] Result<AllocatedFrames<>> allocate(const AllocRequest& request,
                                                     NodeRequest where = {}) {
        auto first = start_node(where);
        if (!first) {
            return first.error();
        }
        const unsigned id = first.value();
        if (request.at) {
            return allocate_at(request, id, where.policy);
        }
        return on_nodes(id, where.policy, [&](Allocator& node) { return node.allocate(request); });
    }

    /// `count` naturally aligned huge frames (Page2M or Page1G) honouring the
    /// window of `constraints`, on the node `where` names, with the same
    /// fallback as allocate(). Errors: those of allocate() and of
    /// Allocator::allocate_huge().
    template <PageSize P>
    [[nodiscard]] Result<AllocatedFrames<P>> allocate_huge(std::uint64_t count = 1,
                                                           AllocRequest constraints = {},
                                                           NodeRequest where = {}) {
        auto first = start_node(where);
        if (!first) {
            return first.error();
        }
        return on_nodes(first.value(), where.policy, [&](Allocator& node) {
            return node.template allocate_huge<P>(count, constraints);
        });
    }

    /// `num_frames` frames anywhere, on the node `where` names.
    [[nodiscard]] Result<AllocatedFrames<>> allocate_frames(std::uint64_t num_frames,
                                                            NodeRequest where = {}) {
        return allocate(AllocRequest::frames(num_frames), where);
    }

    /// The node whose allocator handed out `frames`; kForeignHandle when none
    /// of this set's did (or the handle is empty), kNotInitialized before init().
    template <typename Handle>
    [[nodiscard]] Result<unsigned> node_of(const Handle& frames) const {
        if (!is_initialized()) {
            return make_error(ErrorKind::kNotInitialized, "node set init() has not been called");
        }
        for (unsigned i = 0; i < count_; ++i) {
            if (frames.owner() != nullptr && frames.owner() == nodes_[i]) {
                return i;
            }
        }
        return make_error(ErrorKind::kForeignHandle, "the handle belongs to no node of this set");
    }

    /// A snapshot of every node and their sum (all zero before init()).
    [[nodiscard]] NodeSetStats<N> stats() const {
        NodeSetStats<N> out;
        out.node_count = node_count();
        out.total.heap_mode = out.node_count != 0;
        for (unsigned i = 0; i < out.node_count; ++i) {
            out.node[i] = nodes_[i]->stats();
            add_stats(out.total, out.node[i]);
        }
        return out;
    }

    /// Runs every node allocator's check(); the first failure is returned.
    /// Errors: kNotInitialized before init(); kInvariantViolation.
    [[nodiscard]] Status check() const {
        if (!is_initialized()) {
            return make_error(ErrorKind::kNotInitialized, "node set init() has not been called");
        }
        for (unsigned i = 0; i < count_; ++i) {
            FRAMEALLOC_TRY(nodes_[i]->check());
        }
        return {};
    }

  private:
    [[nodiscard]] Status check_node(unsigned id) const {
        if (!is_initialized()) {
            return make_error(ErrorKind::kNotInitialized, "node set init() has not been called");
        }
        if (id >= count_) {
            return make_error(ErrorKind::kInvalidArgument, "node id is out of range");
        }
        return {};
    }

    [[nodiscard]] Result<unsigned> start_node(const NodeRequest& where) const {
        if (where.node) {
            FRAMEALLOC_TRY(check_node(where.node.value()));
            return where.node.value();
        }
        return home_node(framealloc_cpu_id());
    }

    // Runs `attempt` on node `id`, then (kPreferred, and only while the
    // nodes answer for want of memory) on the rest of its fallback order.
    template <typename Attempt>
    [[nodiscard]] auto on_nodes(unsigned id, NodePolicy policy, Attempt&& attempt) const
        -> decltype(attempt(std::declval<Allocator&>())) {
        auto frames = attempt(*nodes_[id]);
        if (frames || policy == NodePolicy::kOnly || !may_fall_back(frames.kind())) {
            return frames;
        }
        const Error first_error = frames.error();
        for (unsigned k = 1; k < order_length_[id]; ++k) {
            auto next = attempt(*nodes_[order_[id][k]]);
            if (next || !may_fall_back(next.kind())) {
                return next;
            }
        }
        return first_error;
    }

    [[nodiscard]] static constexpr bool may_fall_back(ErrorKind kind) {
        return kind == ErrorKind::kOutOfMemory || kind == ErrorKind::kNotEnoughContiguous ||
               kind == ErrorKind::kCapacityExhausted;
    }

    // An exact-address request on one node, never creating a region there:
    // kOutsideAllocator means the node does not hold the whole range. Each
    // pool alone answers kAddressInUse for a range the other pool holds, so
    // reserved-then-general mirrors the allocator's own unrestricted order.
    [[nodiscard]] Result<AllocatedFrames<>> allocate_at_on(unsigned node,
                                                           const AllocRequest& request) const {
        if (request.pool) {
            return nodes_[node]->allocate(request);
        }
        AllocRequest in_pool = request;
        in_pool.pool = Pool::kReserved;
        auto reserved = nodes_[node]->allocate(in_pool);
        if (reserved || reserved.kind() != ErrorKind::kAddressInUse) {
            return reserved;
        }
        in_pool.pool = Pool::kGeneral;
        return nodes_[node]->allocate(in_pool);
    }

    // The node that holds the address serves it: the named one first, then
    // every other by id.
    [[nodiscard]] Result<AllocatedFrames<>> allocate_at(const AllocRequest& request, unsigned id,
                                                        NodePolicy policy) const {
        auto here = allocate_at_on(id, request);
        if (here || here.kind() != ErrorKind::kOutsideAllocator || policy == NodePolicy::kOnly) {
            return here;
        }
        for (unsigned i = 0; i < count_; ++i) {
            if (i == id) {
                continue;
            }
            auto there = allocate_at_on(i, request);
            if (there || there.kind() != ErrorKind::kOutsideAllocator) {
                return there;
            }
        }
        return make_error(ErrorKind::kOutsideAllocator, "no node manages the requested address");
    }

    [[nodiscard]] static Status validate_nodes(Span<Allocator* const> nodes) {
        if (nodes.empty() || nodes.size() > N) {
            return make_error(ErrorKind::kInvalidArgument,
                              "a node set needs between 1 and N node allocators");
        }
        for (std::size_t i = 0; i < nodes.size(); ++i) {
            if (nodes[i] == nullptr) {
                return make_error(ErrorKind::kInvalidArgument, "a node allocator is null");
            }
            for (std::size_t j = 0; j < i; ++j) {
                if (nodes[j] == nodes[i]) {
                    return make_error(ErrorKind::kInvalidArgument,
                                      "one allocator is given for two nodes");
                }
            }
            if (!nodes[i]->is_initialized()) {
                return make_error(ErrorKind::kNotInitialized,
                                  "a node allocator has not been initialised");
            }
        }
        return {};
    }

    [[nodiscard]] static Status validate_distances(Span<const std::uint8_t> d, std::size_t n) {
        if (d.empty()) {
            return {};
        }
        if (d.size() != n * n) {
            return make_error(ErrorKind::kInvalidArgument,
                              "distance table is not node count x node count entries");
        }
        for (std::size_t i = 0; i < n; ++i) {
            if (d[i * n + i] != kLocalDistance) {
                return make_error(ErrorKind::kInvalidArgument,
                                  "distance of a node to itself is not 10");
            }
            for (std::size_t j = 0; j < n; ++j) {
                if (i != j && d[i * n + j] <= kLocalDistance) {
                    return make_error(ErrorKind::kInvalidArgument,
                                      "distance between two nodes is not above 10");
                }
                if (d[i * n + j] != d[j * n + i]) {
                    return make_error(ErrorKind::kInvalidArgument, "distance table is asymmetric");
                }
            }
        }
        return {};
    }

    [[nodiscard]] static Status validate_cpu_nodes(Span<const std::uint8_t> cpu_nodes,
                                                   std::size_t n) {
        if (cpu_nodes.size() > FRAMEALLOC_MAX_CPUS) {
            return make_error(ErrorKind::kInvalidArgument,
                              "CPU-to-node table is longer than FRAMEALLOC_MAX_CPUS");
        }
        for (const std::uint8_t node : cpu_nodes) {
            if (node != kNoNode && node >= n) {
                return make_error(ErrorKind::kInvalidArgument,
                                  "CPU-to-node table names a node that does not exist");
            }
        }
        return {};
    }

    // Node `id` first, then the reachable others by (distance, id): an
    // insertion sort, N is small.
    void build_order(unsigned id) {
        std::uint8_t* order = order_[id];
        std::size_t length = 0;
        order[length++] = static_cast<std::uint8_t>(id);
        // `length < N` always holds (count_ <= N); saying so lets GCC see it.
        for (unsigned j = 0; j < count_ && length < N; ++j) {
            if (j == id || distance_[id][j] == kUnreachableDistance) {
                continue;
            }
            std::size_t at = length++;
            while (at > 1 && distance_[id][order[at - 1]] > distance_[id][j]) {
                order[at] = order[at - 1];
                --at;
            }
            order[at] = static_cast<std::uint8_t>(j);
        }
        order_length_[id] = static_cast<std::uint8_t>(length);
    }

    static void add_pool(PoolStats& sum, const PoolStats& p) {
        sum.total_frames += p.total_frames;
        sum.free_frames += p.free_frames;
        sum.allocated_frames += p.allocated_frames;
        sum.free_chunks += p.free_chunks;
        if (p.largest_free_chunk > sum.largest_free_chunk) {
            sum.largest_free_chunk = p.largest_free_chunk;
        }
        for (std::size_t k = 0; k < kFreeChunkOrders; ++k) {
            sum.free_chunks_by_order[k] += p.free_chunks_by_order[k];
        }
    }

    static void add_stats(FrameStats& sum, const FrameStats& s) {
        add_pool(sum.general, s.general);
        add_pool(sum.reserved, s.reserved);
        sum.cached_frames += s.cached_frames;
        sum.nodes_capacity += s.nodes_capacity;
        sum.nodes_used += s.nodes_used;
        sum.nodes_reserved += s.nodes_reserved;
        sum.metadata_bytes += s.metadata_bytes;
        sum.heap_mode = sum.heap_mode && s.heap_mode;
    }

    Allocator* nodes_[N] = {};
    std::uint8_t distance_[N][N] = {};
    std::uint8_t order_[N][N] = {};
    std::uint8_t order_length_[N] = {};
    std::atomic<std::uint8_t> home_[FRAMEALLOC_MAX_CPUS] = {};
    unsigned count_ = 0;
    std::atomic<bool> ready_{false};
};

}  // namespace framealloc
