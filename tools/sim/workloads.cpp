// How the built-in workloads behave. Each is a set of allocation categories
// (page cache, huge pages, DMA buffers, ...) with a weight and a frame budget;
// every step picks a category and then allocates or frees, leaning towards
// freeing once the category is over budget, so memory use wanders around a
// steady state the way a running kernel's does. The boot-like workloads first
// replay a fixed early-boot script (kernel image, page tables, firmware MMIO,
// moving to the heap) before the random part starts.
#include "workloads.hpp"

#include <algorithm>
#include <deque>
#include <functional>

#include "prng.hpp"

namespace framealloc::sim {
namespace {

constexpr unsigned kCpus = 4;

/// Ids of live allocations; removal of a random one is O(1).
class LiveSet {
  public:
    void add(std::uint64_t id, std::uint64_t frames) {
        ids_.push_back(Entry{id, frames});
        frames_ += frames;
    }
    [[nodiscard]] bool empty() const { return ids_.empty(); }
    [[nodiscard]] std::uint64_t frames() const { return frames_; }
    /// Removes a random entry and returns its id.
    std::uint64_t take_random(Prng& prng) {
        const std::size_t i = static_cast<std::size_t>(prng.below(ids_.size()));
        const Entry e = ids_[i];
        ids_[i] = ids_.back();
        ids_.pop_back();
        frames_ -= e.frames;
        return e.id;
    }

  private:
    struct Entry {
        std::uint64_t id;
        std::uint64_t frames;
    };
    std::vector<Entry> ids_;
    std::uint64_t frames_ = 0;
};

struct Category {
    const char* name = nullptr;
    std::uint32_t weight = 1;
    std::uint64_t budget_frames = 0;
    std::function<Op(Prng&)> make;
    LiveSet live;
};

std::uint64_t frames_of(const Op& op) {
    return op.kind == OpKind::kAllocHuge ? op.count * 512 : op.count;
}

std::uint64_t pow2_between(Prng& prng, unsigned lo_shift, unsigned hi_shift) {
    return 1ULL << prng.between(lo_shift, hi_shift);
}

Op alloc(std::uint64_t count) {
    Op op;
    op.kind = OpKind::kAlloc;
    op.count = count;
    return op;
}

Op alloc_at(std::uint64_t address, std::uint64_t count) {
    Op op;
    op.kind = OpKind::kAllocAt;
    op.at = address;
    op.count = count;
    return op;
}

Op dma_descriptor(Prng& prng) {
    Op op = alloc(pow2_between(prng, 0, 4));  // 4 KiB .. 64 KiB
    op.align = op.count;
    op.boundary = kDmaBoundaryFrames;
    op.below = kDmaLimit;
    return op;
}

Op dma_ring(Prng& prng) {
    Op op = alloc(pow2_between(prng, 5, 8));  // 128 KiB .. 1 MiB
    op.align = 16;
    op.below = kDmaLimit;
    return op;
}

// What a kernel does before and just after its heap exists. Kept anonymous:
// the kernel never gives these back.
std::vector<Op> boot_script(std::uint64_t usable) {
    const std::uint64_t heap_chunk = std::clamp<std::uint64_t>(usable / 256, 16, 2048);
    std::vector<Op> ops;
    ops.push_back(alloc_at(0x100000, 1024));  // the kernel image, loaded at 1 MiB
    for (int i = 0; i < 16; ++i) {
        ops.push_back(alloc(1));  // boot page tables
    }
    Op early_heap = alloc(std::min<std::uint64_t>(256, heap_chunk));
    early_heap.align = 16;
    ops.push_back(early_heap);
    ops.push_back(alloc_at(0xFEE00000, 1));  // local APIC
    ops.push_back(alloc_at(0xFEC00000, 1));  // IOAPIC
    ops.push_back(alloc_at(0xFED00000, 1));  // HPET
    Op heap;
    heap.kind = OpKind::kMoveToHeap;
    ops.push_back(heap);
    for (int i = 0; i < 8; ++i) {
        Op grow = alloc(heap_chunk);  // the kernel heap growing
        grow.align = 512;
        ops.push_back(grow);
    }
    for (int i = 0; i < 4; ++i) {
        Op d = alloc(16);  // AHCI command lists and FIS areas
        d.align = 16;
        d.boundary = kDmaBoundaryFrames;
        d.below = kDmaLimit;
        ops.push_back(d);
        Op ring = alloc(64);  // NIC descriptor rings
        ring.align = 16;
        ring.below = kDmaLimit;
        ops.push_back(ring);
    }
    // The framebuffer BAR sits in the PCI hole, outside every region:
    // it becomes a new reserved region on the spot.
    ops.push_back(alloc_at(0xE0000000, 2048));
    return ops;
}

// Steady-state workloads start with the heap up: the early storage is a
// boot-time crutch of a few hundred nodes, not where a kernel lives.
std::vector<Op> heap_up() {
    Op op;
    op.kind = OpKind::kMoveToHeap;
    return {op};
}

class MixWorkload final : public OpSource {
  public:
    MixWorkload(std::string name, std::uint64_t seed, std::vector<Op> script)
        : name_(std::move(name)), prng_(seed), script_(script.begin(), script.end()) {}

    void add(const char* name, std::uint32_t weight, std::uint64_t budget,
             std::function<Op(Prng&)> make) {
        Category c;
        c.name = name;
        c.weight = weight;
        c.budget_frames = std::max<std::uint64_t>(budget, 1);
        c.make = std::move(make);
        total_weight_ += weight;
        categories_.push_back(std::move(c));
    }

    bool next(Op& op) override {
        if (!script_.empty()) {
            op = script_.front();
            script_.pop_front();
            op.cpu = 0;  // boot runs on the bootstrap processor
            op.category = "boot (image, page tables, early heap, MMIO, DMA rings)";
            pending_ = nullptr;
            return true;
        }
        Category& c = pick();
        const bool over = c.live.frames() >= c.budget_frames;
        const bool free = !c.live.empty() && prng_.chance(over ? 650 : 350);
        if (free) {
            op = Op{};
            op.kind = OpKind::kFree;
            op.id = c.live.take_random(prng_);
            pending_ = nullptr;
        } else {
            op = c.make(prng_);
            op.category = c.name;
            op.id = next_id_++;
            pending_ = &c;
        }
        op.cpu = static_cast<unsigned>(prng_.below(kCpus));
        return true;
    }

    void on_result(const Op& op, bool succeeded) override {
        if (pending_ != nullptr && succeeded) {
            pending_->live.add(op.id, frames_of(op));
        }
        pending_ = nullptr;
    }

    [[nodiscard]] std::string name() const override { return name_; }

  private:
    Category& pick() {
        std::uint64_t roll = prng_.below(total_weight_);
        for (Category& c : categories_) {
            if (roll < c.weight) {
                return c;
            }
            roll -= c.weight;
        }
        return categories_.back();
    }

    std::string name_;
    Prng prng_;
    std::deque<Op> script_;
    std::vector<Category> categories_;
    std::uint64_t total_weight_ = 0;
    std::uint64_t next_id_ = 1;
    Category* pending_ = nullptr;
};

Op page_cache(Prng& prng) {
    // Mostly single pages; now and then a readahead window.
    return alloc(prng.chance(900) ? 1 : pow2_between(prng, 2, 5));
}

Op huge_page(Prng& prng) {
    Op op;
    op.kind = OpKind::kAllocHuge;
    op.count = prng.chance(850) ? 1 : 2;
    return op;
}

Op small_noise(Prng& prng) {
    return alloc(prng.between(1, 4));
}

Op page_tables(Prng& prng) {
    return alloc(prng.between(1, 4));  // a process's first page-table pages
}

Op big_buffer(Prng& prng) {
    Op op = alloc(prng.between(16, 1024));  // module text, vmalloc backing
    op.align = prng.chance(500) ? 1 : 16;
    return op;
}

// NUMA: page cache on the CPU's own node (nearest other node when full),
// buffers pinned to the home node, and a database that prefers the last
// node and is big enough to spill over from it.
Op node_local_cache(Prng& prng) {
    return page_cache(prng);
}

Op pinned_buffer(Prng& prng) {
    Op op = alloc(prng.between(16, 256));
    op.node_only = true;
    return op;
}

Op database_on(unsigned node, Prng& prng) {
    Op op = alloc(pow2_between(prng, 6, 9));  // 256 KiB .. 2 MiB
    op.node = node;
    return op;
}

// The request categories the summary breaks failures down by; each name says
// what constrains the request.
constexpr const char* kPageCache = "page cache (1 frame, readahead up to 32)";
constexpr const char* kHugePages = "huge pages (1-2 x 2 MiB, 2 MiB aligned)";
constexpr const char* kSmallNoise = "small allocations (1-4 frames)";
constexpr const char* kDmaDescriptors = "DMA descriptors (below 4 GiB, not crossing 64 KiB)";
constexpr const char* kDmaRings = "DMA rings (below 4 GiB, 64 KiB aligned)";
constexpr const char* kBigBuffers = "big buffers (16-1024 frames)";
constexpr const char* kPageTables = "page tables (1-4 frames)";
constexpr const char* kNodeCache = "node-local page cache (1-32 frames, home node first)";
constexpr const char* kPinned = "pinned buffers (16-256 frames, home node only)";
constexpr const char* kDatabase = "database (64-512 frames, last node first)";

const std::vector<WorkloadInfo> kWorkloads = {
    {"boot", "kernel image, page tables, early heap, firmware MMIO, DMA rings, then processes",
     5000},
    {"churn", "page-cache style: single frames and readahead windows on 4 CPUs", 200000},
    {"hugepages", "2 MiB frames (allocate_huge<Page2M>) fighting 4 KiB noise", 100000},
    {"dma", "aligned buffers below 4 GiB that never cross 64 KiB (AllocRequest)", 100000},
    {"mixed", "boot, then page cache, huge pages, DMA and big buffers with random frees", 200000},
    {"numa",
     "node-local page cache, home-node-only buffers, and a database that spills off the "
     "last node; frees from any CPU (try --map two-node)",
     150000},
};

}  // namespace

const std::vector<WorkloadInfo>& workloads() {
    return kWorkloads;
}

std::uint64_t default_ops(const std::string& name) {
    for (const WorkloadInfo& w : kWorkloads) {
        if (name == w.name) {
            return w.default_ops;
        }
    }
    return 0;
}

std::unique_ptr<OpSource> make_workload(const std::string& name, MachineSize size,
                                        std::uint64_t seed) {
    const std::uint64_t usable = size.usable_frames;
    const std::uint64_t low = size.usable_below_4g;
    const auto share = [usable](std::uint64_t permille) { return usable / 1000 * permille; };
    if (name == "boot") {
        auto w = std::make_unique<MixWorkload>(name, seed, boot_script(usable));
        w->add(kPageTables, 1, std::clamp<std::uint64_t>(usable / 512, 64, 8192), page_tables);
        return w;
    }
    if (name == "churn") {
        auto w = std::make_unique<MixWorkload>(name, seed, heap_up());
        w->add(kPageCache, 1, share(300), page_cache);
        return w;
    }
    if (name == "hugepages") {
        auto w = std::make_unique<MixWorkload>(name, seed, heap_up());
        w->add(kHugePages, 45, share(700), huge_page);
        w->add(kSmallNoise, 55, share(20), small_noise);
        return w;
    }
    if (name == "dma") {
        auto w = std::make_unique<MixWorkload>(name, seed, heap_up());
        // Budgets relative to what lies below 4 GiB, not to the whole machine.
        w->add(kDmaDescriptors, 70, low / 1000 * 150, dma_descriptor);
        w->add(kDmaRings, 30, low / 1000 * 600, dma_ring);
        return w;
    }
    if (name == "mixed") {
        auto w = std::make_unique<MixWorkload>(name, seed, boot_script(usable));
        w->add(kPageCache, 50, share(200), page_cache);
        w->add(kHugePages, 15, share(350), huge_page);
        w->add(kDmaDescriptors, 10, low / 1000 * 50, dma_descriptor);
        w->add(kDmaRings, 5, low / 1000 * 100, dma_ring);
        w->add(kBigBuffers, 10, share(200), big_buffer);
        w->add(kPageTables, 10, share(10), page_tables);
        return w;
    }
    if (name == "numa") {
        auto w = std::make_unique<MixWorkload>(name, seed, heap_up());
        const unsigned last = size.nodes == 0 ? 0 : size.nodes - 1;
        w->add(kNodeCache, 50, share(250), node_local_cache);
        w->add(kPinned, 15, share(100), pinned_buffer);
        w->add(kDatabase, 35, share(700), [last](Prng& prng) { return database_on(last, prng); });
        return w;
    }
    return nullptr;
}

}  // namespace framealloc::sim
