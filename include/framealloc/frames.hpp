// Frames<State, P>: the one handle to a range of physical frames. It is unique
// (move-only), knows which allocator it came from, and its state is part of
// its type, so the compiler rejects a transition SPEC.md does not allow:
//
//     Free -> Allocated -> Mapped -> Unmapped -> Allocated -> Free
//                     \-----------------------------------/
//
// Destroying a handle walks it down that chain back into the free pool; only
// a non-empty Mapped handle may not be destroyed (its frames are still in
// page tables), which is a kernel bug reported through framealloc_panic.
#pragma once

#include <cstdint>
#include <utility>

#include "framealloc/detail/range_engine.hpp"
#include "framealloc/frame.hpp"
#include "framealloc/hooks.hpp"
#include "framealloc/result.hpp"

namespace framealloc {

/// The typestate of a Frames handle.
enum class MemoryState : std::uint8_t { kFree, kAllocated, kMapped, kUnmapped };

/// What a handle needs of the allocator it came from. Allocators implement it;
/// handles only ever hold a pointer to it.
class FrameOwner {
  public:
    /// Takes back 4K frames [first, last] of `pool`, with the bookkeeping node
    /// their handle held in reserve.
    virtual void return_frames(std::uint64_t first, std::uint64_t last, Pool pool) {
        (void)first;
        (void)last;
        (void)pool;
    }
    /// Promises the bookkeeping `count` more handles of `pool` need (a split).
    [[nodiscard]] virtual Status reserve_handles(std::uint32_t count, Pool pool) {
        (void)count;
        (void)pool;
        return make_error(ErrorKind::kForeignHandle, "handle has no allocator");
    }
    /// Releases what `count` handles of `pool` held (a merge, or frames handed
    /// to page tables).
    virtual void unreserve_handles(std::uint32_t count, Pool pool) {
        (void)count;
        (void)pool;
    }
    /// Checks that 4K frames [first, last] are allocated (none free, all in one
    /// pool's regions) and promises a node to a new handle for them.
    [[nodiscard]] virtual Result<Pool> adopt_frames(std::uint64_t first, std::uint64_t last) {
        (void)first;
        (void)last;
        return make_error(ErrorKind::kForeignHandle, "handle has no allocator");
    }
    /// Runs the bookkeeping a DeferredAllocAction postponed.
    virtual void run_deferred() {}

  protected:
    constexpr FrameOwner() = default;
    ~FrameOwner() = default;
    FrameOwner(const FrameOwner&) = default;
    FrameOwner& operator=(const FrameOwner&) = default;
};

namespace detail {
/// Only allocators make non-empty handles; they pass this tag to do so.
struct AdoptTag {
    explicit constexpr AdoptTag() = default;
};
}  // namespace detail

template <MemoryState S, PageSize P = Page4K>
class Frames;

/// The three parts of split_range(): before, the range asked for, after.
template <MemoryState S, PageSize P>
struct SplitFrames {
    Frames<S, P> before;
    Frames<S, P> range;
    Frames<S, P> after;
};

/// The two parts of split_at().
template <MemoryState S, PageSize P>
struct FramesPair {
    Frames<S, P> first;
    Frames<S, P> second;
};

/// A borrowed view of one frame of an AllocatedFrames; valid while that lives.
template <PageSize P = Page4K>
class AllocatedFrame {
  public:
    constexpr AllocatedFrame() = default;
    constexpr explicit AllocatedFrame(Frame<P> frame) : frame_(frame) {}
    [[nodiscard]] constexpr Frame<P> frame() const { return frame_; }
    [[nodiscard]] constexpr Frame<P> operator*() const { return frame_; }
    [[nodiscard]] constexpr PhysicalAddress start_address() const { return frame_.start_address(); }
    [[nodiscard]] constexpr std::uint64_t number() const { return frame_.number(); }

  private:
    Frame<P> frame_;
};

template <MemoryState S, PageSize P>
class Frames {
  public:
    static constexpr MemoryState kState = S;
    using Size = P;
    static_assert(S != MemoryState::kFree || std::is_same_v<P, Page4K>,
                  "FreeFrames only exist for 4 KiB frames");

    /// An empty handle: owns nothing, may be destroyed in any state.
    constexpr Frames() = default;
    /// Used by allocators only.
    constexpr Frames(detail::AdoptTag, FrameOwner* owner, FrameRange<P> range, Pool pool)
        : owner_(owner), range_(range), pool_(pool) {}

    Frames(Frames&& other) noexcept
        : owner_(other.owner_), range_(other.range_), pool_(other.pool_) {
        other.forget();
    }
    Frames& operator=(Frames&& other) noexcept {
        if (this != &other) {
            release();
            owner_ = other.owner_;
            range_ = other.range_;
            pool_ = other.pool_;
            other.forget();
        }
        return *this;
    }
    Frames(const Frames&) = delete;
    Frames& operator=(const Frames&) = delete;
    ~Frames() { release(); }

    [[nodiscard]] constexpr FrameRange<P> range() const { return range_; }
    [[nodiscard]] constexpr Frame<P> start() const { return range_.start(); }
    [[nodiscard]] constexpr Frame<P> end() const { return range_.end(); }
    [[nodiscard]] constexpr PhysicalAddress start_address() const { return range_.start_address(); }
    [[nodiscard]] constexpr std::uint64_t size_in_frames() const { return range_.size_in_frames(); }
    [[nodiscard]] constexpr std::uint64_t size_in_bytes() const { return range_.size_in_bytes(); }
    [[nodiscard]] constexpr bool is_empty() const { return range_.is_empty(); }
    /// Which pool the frames return to.
    [[nodiscard]] constexpr Pool pool() const { return pool_; }
    /// The allocator the frames belong to (nullptr for an empty handle).
    [[nodiscard]] constexpr const FrameOwner* owner() const { return owner_; }

    /// Absorbs `other` when the two are physically adjacent, of the same
    /// allocator and pool. On success `other` is empty; on failure both are
    /// unchanged. Merging with an empty handle always succeeds.
    [[nodiscard]] Status merge(Frames& other) {
        if (other.is_empty()) {
            return {};
        }
        if (is_empty()) {
            *this = std::move(other);
            return {};
        }
        if (&other == this) {
            return make_error(ErrorKind::kInvalidArgument, "merge: a handle merged with itself");
        }
        if (owner_ != other.owner_) {
            return make_error(ErrorKind::kForeignHandle,
                              "merge: the other handle belongs to a different allocator");
        }
        if (pool_ != other.pool_) {
            return make_error(ErrorKind::kNotAdjacent,
                              "merge: the frames lie in different pools, never adjacent in one");
        }
        const auto after_this = range_.end().checked_add(1);
        const auto after_other = other.range_.end().checked_add(1);
        if (after_this && *after_this == other.range_.start()) {
            range_ = FrameRange<P>(range_.start(), other.range_.end());
        } else if (after_other && *after_other == range_.start()) {
            range_ = FrameRange<P>(other.range_.start(), range_.end());
        } else {
            return make_error(ErrorKind::kNotAdjacent, "merge: the frames are not contiguous");
        }
        other.forget();
        owner_->unreserve_handles(1, pool_);
        return {};
    }

    /// Splits into [start, at) and [at, end], like slicing: `at` may be the
    /// first frame or one past the last, leaving one part empty. On success
    /// this handle is empty; on failure it is unchanged.
    [[nodiscard]] Result<FramesPair<S, P>> split_at(Frame<P> at) {
        if (is_empty() || at < range_.start() ||
            (at > range_.end() && at != range_.end().checked_add(1).value_or(range_.end()))) {
            return make_error(ErrorKind::kOutOfRange, "split_at: the frame is outside the range");
        }
        if (at == range_.start()) {
            return FramesPair<S, P>{Frames(), take()};
        }
        if (at > range_.end()) {
            return FramesPair<S, P>{take(), Frames()};
        }
        FRAMEALLOC_TRY(owner_->reserve_handles(1, pool_));
        FramesPair<S, P> parts{piece(range_.start(), at - 1), piece(at, range_.end())};
        forget();
        return parts;
    }

    /// Splits out `middle`, which must be non-empty and inside this range,
    /// into before / range / after (before and after may be empty). On success
    /// this handle is empty; on failure it is unchanged.
    [[nodiscard]] Result<SplitFrames<S, P>> split_range(FrameRange<P> middle) {
        if (is_empty() || middle.is_empty() || !range_.contains_range(middle)) {
            return make_error(ErrorKind::kOutOfRange,
                              "split_range: the range is empty or not inside the handle");
        }
        const bool has_before = middle.start() > range_.start();
        const bool has_after = middle.end() < range_.end();
        const std::uint32_t extra = (has_before ? 1U : 0U) + (has_after ? 1U : 0U);
        if (extra != 0) {
            FRAMEALLOC_TRY(owner_->reserve_handles(extra, pool_));
        }
        SplitFrames<S, P> parts{has_before ? piece(range_.start(), middle.start() - 1) : Frames(),
                                piece(middle.start(), middle.end()),
                                has_after ? piece(middle.end() + 1, range_.end()) : Frames()};
        forget();
        return parts;
    }

    /// Exact conversion to another page size (4K <-> 2M/1G). A misaligned
    /// conversion fails and leaves this handle unchanged; on success it is empty.
    template <PageSize Q>
    [[nodiscard]] Result<Frames<S, Q>> into_page_size() {
        auto converted = range_.template convert<Q>();
        if (!converted) {
            return converted.error();
        }
        Frames<S, Q> out(detail::AdoptTag{}, owner_, converted.value(), pool_);
        forget();
        return out;
    }

    // ---- State transitions; each consumes the handle. ----

    /// Free -> Allocated, and Unmapped -> Allocated.
    [[nodiscard]] Frames<MemoryState::kAllocated, P> into_allocated() &&
        requires(S == MemoryState::kFree || S == MemoryState::kUnmapped) {
        return transition<MemoryState::kAllocated>();
    }
    /// Allocated -> Free (4K only); destroying the result returns the frames.
    [[nodiscard]] Frames<MemoryState::kFree, P> into_free() &&
        requires(S == MemoryState::kAllocated && std::is_same_v<P, Page4K>) {
        return transition<MemoryState::kFree>();
    }
    /// Allocated -> Mapped: the frames are now in page tables.
    [[nodiscard]] Frames<MemoryState::kMapped, P> into_mapped() &&
        requires(S == MemoryState::kAllocated) {
        return transition<MemoryState::kMapped>();
    }
    /// Mapped -> Unmapped: the page tables no longer reference the frames.
    [[nodiscard]] Frames<MemoryState::kUnmapped, P> into_unmapped() &&
        requires(S == MemoryState::kMapped) {
        return transition<MemoryState::kUnmapped>();
    }
    /// Mapped frames handed to page tables for good: the handle is consumed
    /// without returning anything; the page-table code later gets them back as
    /// UnmappedFrames from the function init() returned.
    FrameRange<P> into_page_table() && requires(S == MemoryState::kMapped) {
        const FrameRange<P> range = range_;
        if (!is_empty()) {
            owner_->unreserve_handles(1, pool_);
        }
        forget();
        return range;
    }

    /// `for (AllocatedFrame<> f : frames.iter())`: borrowed views of each frame.
    [[nodiscard]] constexpr auto iter() const requires(S == MemoryState::kAllocated) {
        return detail::NumberSequence<AllocatedFrame<P>, &view_at>(range_.start().number(),
                                                                   range_.size_in_frames());
    }
    /// The frame at `index` frames from the start, if inside.
    [[nodiscard]] constexpr Optional<AllocatedFrame<P>> get(std::uint64_t index) const
        requires(S == MemoryState::kAllocated) {
        if (index >= range_.size_in_frames()) {
            return {};
        }
        return AllocatedFrame<P>(range_.start() + index);
    }

    /// Handles order and compare by their start frame only.
    friend constexpr bool operator==(const Frames& a, const Frames& b) {
        return a.range_.start() == b.range_.start();
    }
    friend constexpr auto operator<=>(const Frames& a, const Frames& b) {
        return a.range_.start() <=> b.range_.start();
    }

  private:
    template <MemoryState, PageSize>
    friend class Frames;

    static constexpr AllocatedFrame<P> view_at(std::uint64_t number) {
        return AllocatedFrame<P>(Frame<P>::from_number(number).value());
    }

    template <MemoryState T>
    Frames<T, P> transition() {
        Frames<T, P> out(detail::AdoptTag{}, owner_, range_, pool_);
        forget();
        return out;
    }
    Frames piece(Frame<P> s, Frame<P> e) const {
        return Frames(detail::AdoptTag{}, owner_, FrameRange<P>(s, e), pool_);
    }
    Frames take() {
        Frames out(detail::AdoptTag{}, owner_, range_, pool_);
        forget();
        return out;
    }
    void forget() {
        owner_ = nullptr;
        range_ = FrameRange<P>::empty();
    }
    void release() {
        if (range_.is_empty() || owner_ == nullptr) {
            return;
        }
        if constexpr (S == MemoryState::kMapped) {
            framealloc_panic("framealloc: a non-empty MappedFrames was destroyed; unmap it first");
            owner_->unreserve_handles(1, pool_);  // the frames stay allocated: still mapped
        } else {
            const std::uint64_t first = range_.start().number() * P::kFrames4K;
            const std::uint64_t last = (range_.end().number() + 1) * P::kFrames4K - 1;
            owner_->return_frames(first, last, pool_);
        }
        forget();
    }

    FrameOwner* owner_ = nullptr;
    FrameRange<P> range_;
    Pool pool_ = Pool::kGeneral;
};

using FreeFrames = Frames<MemoryState::kFree, Page4K>;
template <PageSize P = Page4K>
using AllocatedFrames = Frames<MemoryState::kAllocated, P>;
template <PageSize P = Page4K>
using MappedFrames = Frames<MemoryState::kMapped, P>;
template <PageSize P = Page4K>
using UnmappedFrames = Frames<MemoryState::kUnmapped, P>;

}  // namespace framealloc
