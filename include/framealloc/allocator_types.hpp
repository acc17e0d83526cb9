// The small types around the allocator's interface: the request that carries
// every constraint, the deferred bookkeeping action, the inspect-then-allocate
// protocol, statistics, and the function init() returns to page-table code.
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>

#include "framealloc/frames.hpp"

namespace framealloc {

/// Everything an allocation can ask for. Fields are in 4 KiB frames unless
/// named in bytes; the convenience functions fill in one or two of them.
struct AllocRequest {
    std::uint64_t num_frames = 1;
    /// The first frame's number is a multiple of this (a power of two).
    std::uint64_t align_frames = 1;
    /// If nonzero (a power of two >= num_frames), the run never crosses a
    /// multiple of this many frames -- e.g. 16 for ISA DMA's 64 KiB rule.
    std::uint64_t boundary_frames = 0;
    /// Allocate exactly here (frame containing it); else anywhere allowed.
    Optional<PhysicalAddress> at;
    /// Every byte of the run lies in [min_address, max_address].
    PhysicalAddress min_address = PhysicalAddress::zero();
    PhysicalAddress max_address = PhysicalAddress::new_canonical(PhysicalAddress::kMax);
    /// Restricts an at-address request to one pool (unset: reserved, then
    /// general, then a new reserved region). Anywhere requests always use kGeneral.
    Optional<Pool> pool;

    [[nodiscard]] static constexpr AllocRequest frames(std::uint64_t n) {
        AllocRequest r;
        r.num_frames = n;
        return r;
    }
    [[nodiscard]] constexpr AllocRequest aligned(std::uint64_t frames) const {
        AllocRequest r = *this;
        r.align_frames = frames;
        return r;
    }
    /// Every byte of the run in [lo, hi] (both inclusive).
    [[nodiscard]] constexpr AllocRequest within(PhysicalAddress lo, PhysicalAddress hi) const {
        AllocRequest r = *this;
        r.min_address = lo;
        r.max_address = hi;
        return r;
    }
    /// The same window in plain byte addresses, as below() takes them; a bound
    /// past the physical width is clamped to it (so `lo` there leaves no frame).
    [[nodiscard]] constexpr AllocRequest within(std::uint64_t lo, std::uint64_t hi) const {
        return within(clamped(lo), clamped(hi));
    }
    /// Every byte below `limit` (e.g. 4 GiB for 32-bit DMA); a limit past the
    /// physical width means no limit.
    [[nodiscard]] constexpr AllocRequest below(std::uint64_t limit) const {
        AllocRequest r = *this;
        r.max_address = clamped(limit == 0 ? 0 : limit - 1);
        return r;
    }
    /// The same limit as an address: every byte below `limit`.
    [[nodiscard]] constexpr AllocRequest below(PhysicalAddress limit) const {
        return below(limit.value());
    }
    [[nodiscard]] constexpr AllocRequest not_crossing(std::uint64_t frames) const {
        AllocRequest r = *this;
        r.boundary_frames = frames;
        return r;
    }
    [[nodiscard]] constexpr AllocRequest at_address(PhysicalAddress address) const {
        AllocRequest r = *this;
        r.at = address;
        return r;
    }

  private:
    // Clamp, not new_canonical's masking: masking would wrap 2^52 + x to x.
    [[nodiscard]] static constexpr PhysicalAddress clamped(std::uint64_t address) {
        return PhysicalAddress::new_canonical(
            address > PhysicalAddress::kMax ? PhysicalAddress::kMax : address);
    }
};

/// Where init_carving_metadata() may put the allocator's metadata, and how
/// the kernel reaches it there.
struct MetadataPlacement {
    /// The metadata's virtual address is its physical address plus this
    /// (0 for an identity map, the direct map's base otherwise).
    std::uint64_t direct_map_offset = 0;
    /// The metadata lies inside [lowest, highest]: memory the kernel can
    /// already reach at init. The default keeps it off page 0.
    PhysicalAddress lowest = PhysicalAddress::new_canonical(Page4K::kBytes);
    PhysicalAddress highest = PhysicalAddress::new_canonical(PhysicalAddress::kMax);
};

/// Bookkeeping postponed by allocate_frames_deferred(): growing the node
/// storage from the heap. It runs when destroyed (or at run()), so a caller
/// that is itself the heap chooses the moment, outside its own lock.
class [[nodiscard]] DeferredAllocAction {
  public:
    constexpr DeferredAllocAction() = default;
    constexpr explicit DeferredAllocAction(FrameOwner* owner) : owner_(owner) {}
    DeferredAllocAction(DeferredAllocAction&& o) noexcept : owner_(o.owner_) { o.owner_ = nullptr; }
    DeferredAllocAction& operator=(DeferredAllocAction&& o) noexcept {
        if (this != &o) {
            run();
            owner_ = o.owner_;
            o.owner_ = nullptr;
        }
        return *this;
    }
    DeferredAllocAction(const DeferredAllocAction&) = delete;
    DeferredAllocAction& operator=(const DeferredAllocAction&) = delete;
    ~DeferredAllocAction() { run(); }

    /// True when there is work left to run.
    [[nodiscard]] constexpr bool pending() const { return owner_ != nullptr; }
    /// Runs the postponed work now (once).
    void run() {
        if (owner_ != nullptr) {
            FrameOwner* owner = owner_;
            owner_ = nullptr;
            owner->run_deferred();
        }
    }

  private:
    FrameOwner* owner_ = nullptr;
};

/// What allocate_frames_deferred() returns.
struct DeferredAllocation {
    AllocatedFrames<> frames;
    DeferredAllocAction action;
};

/// The answer of an inspect_then_allocate_free_frames() callback.
struct FramesIteratorRequest {
    enum class Kind : std::uint8_t { kNext, kStop, kAllocateAt };
    Kind kind = Kind::kNext;
    Frame<> frame;
    std::uint64_t num_frames = 0;

    [[nodiscard]] static constexpr FramesIteratorRequest Next() { return {}; }
    [[nodiscard]] static constexpr FramesIteratorRequest Stop() {
        return FramesIteratorRequest{Kind::kStop, Frame<>(), 0};
    }
    /// Allocate `num_frames` frames starting at `frame`, which must lie in the
    /// chunk just inspected.
    [[nodiscard]] static constexpr FramesIteratorRequest AllocateAt(Frame<> frame,
                                                                    std::uint64_t num_frames) {
        return FramesIteratorRequest{Kind::kAllocateAt, frame, num_frames};
    }
};

/// Size classes of the free-chunk histogram (PoolStats::free_chunks_by_order):
/// order k holds chunks of 2^k to 2^(k+1) - 1 frames, like Linux's
/// /proc/buddyinfo; the last order also holds everything larger (32 GiB and up).
inline constexpr std::size_t kFreeChunkOrders = 24;

/// The histogram order of a free chunk of `frames` (>= 1) frames: floor(log2),
/// capped at the last order.
[[nodiscard]] constexpr std::size_t free_chunk_order(std::uint64_t frames) {
    const auto order = static_cast<std::size_t>(std::bit_width(frames | 1U)) - 1;
    return order < kFreeChunkOrders ? order : kFreeChunkOrders - 1;
}

/// Counts for one pool, in 4 KiB frames.
struct PoolStats {
    std::uint64_t total_frames = 0;
    std::uint64_t free_frames = 0;  ///< Including frames in per-CPU caches.
    std::uint64_t allocated_frames = 0;
    std::uint64_t free_chunks = 0;         ///< Free runs in the shared pool.
    std::uint64_t largest_free_chunk = 0;  ///< In frames, shared pool only.
    /// Free runs of the shared pool by size class (see free_chunk_order());
    /// the entries add up to free_chunks. Which sizes are left says more than
    /// the largest alone: no order >= 9 means no 2 MiB frame can be had.
    std::uint64_t free_chunks_by_order[kFreeChunkOrders] = {};

    /// Counts one free run of `frames` frames in the histogram.
    constexpr void count_free_chunk(std::uint64_t frames) {
        ++free_chunks_by_order[free_chunk_order(frames)];
    }
};

/// Operation counts of a frame allocator built with FRAMEALLOC_COUNT_SHARED_OPS.
struct OpCounts {
    std::uint64_t pool_ops = 0;         ///< General-pool operations past the per-CPU caches.
    std::uint64_t shared_lock_ops = 0;  ///< Of those, the ones that took the pool-wide lock.
};

/// A snapshot of an allocator.
struct FrameStats {
    PoolStats general;
    PoolStats reserved;
    std::uint64_t cached_frames = 0;  ///< Free frames held in per-CPU caches.
    std::uint32_t nodes_capacity = 0;
    std::uint32_t nodes_used = 0;
    std::uint32_t nodes_reserved = 0;
    /// Metadata memory the general pool's bookkeeping occupies, in bytes;
    /// fixed at init.
    std::uint64_t metadata_bytes = 0;
    bool heap_mode = false;

    /// Fragmentation of the general pool, 0..1000: 1000 * (1 - largest free
    /// chunk / free frames). 0 means all free memory is one run; it nears 1000
    /// as free memory splinters. Per-CPU cached frames count as splinters.
    [[nodiscard]] constexpr std::uint32_t fragmentation_permille() const {
        if (general.free_frames == 0) {
            return 0;
        }
        return static_cast<std::uint32_t>(1000 - (general.largest_free_chunk * 1000) /
                                                     general.free_frames);
    }
};

/// The function init() returns: page-table code calls it with frames it just
/// unmapped to get them back as an UnmappedFrames handle.
class IntoUnmappedFrames {
  public:
    constexpr IntoUnmappedFrames() = default;
    constexpr explicit IntoUnmappedFrames(FrameOwner* owner) : owner_(owner) {}

    /// Fails (kAddressInUse) if any of the frames is free, or if they are not
    /// all in one pool: only frames that really were allocated can come back.
    template <PageSize P>
    [[nodiscard]] Result<UnmappedFrames<P>> operator()(FrameRange<P> range) const {
        if (owner_ == nullptr) {
            return make_error(ErrorKind::kNotInitialized, "no allocator behind this function");
        }
        if (range.is_empty()) {
            return UnmappedFrames<P>();
        }
        const std::uint64_t first = range.start().number() * P::kFrames4K;
        const std::uint64_t last = (range.end().number() + 1) * P::kFrames4K - 1;
        auto pool = owner_->adopt_frames(first, last);
        if (!pool) {
            return pool.error();
        }
        return UnmappedFrames<P>(detail::AdoptTag{}, owner_, range, pool.value());
    }

  private:
    FrameOwner* owner_ = nullptr;
};

}  // namespace framealloc
