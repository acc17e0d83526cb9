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
#include <type_traits>

#include "framealloc/detail/handle.hpp"
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

namespace detail {
/// Physical frames as BasicHandle sees them; S decides what destruction does.
template <MemoryState S, PageSize P>
struct FrameSpace {
    using Owner = FrameOwner;
    using Range = FrameRange<P>;
    using Unit = Frame<P>;
    using Address = PhysicalAddress;
    using Tag = AdoptTag;
    static constexpr const char* kOtherPool =
        "merge: the frames lie in different pools, never adjacent in one";
    static constexpr const char* kNotContiguous = "merge: the frames are not contiguous";
    static constexpr const char* kSplitOutside = "split_at: the frame is outside the range";

    [[nodiscard]] static Status reserve(Owner* owner, std::uint32_t count, Pool pool) {
        return owner->reserve_handles(count, pool);
    }
    static void unreserve(Owner* owner, std::uint32_t count, Pool pool) {
        owner->unreserve_handles(count, pool);
    }
    static void give_back(Owner* owner, std::uint64_t first, std::uint64_t last, Pool pool) {
        if constexpr (S == MemoryState::kMapped) {
            framealloc_panic("framealloc: a non-empty MappedFrames was destroyed; unmap it first");
            owner->unreserve_handles(1, pool);  // the frames stay allocated: still mapped
        } else {
            owner->return_frames(first, last, pool);
        }
    }
};
}  // namespace detail

template <MemoryState S, PageSize P>
class Frames : public detail::BasicHandle<Frames<S, P>, detail::FrameSpace<S, P>> {
    using Base = detail::BasicHandle<Frames<S, P>, detail::FrameSpace<S, P>>;

  public:
    static constexpr MemoryState kState = S;
    using Size = P;
    static_assert(S != MemoryState::kFree || std::is_same_v<P, Page4K>,
                  "FreeFrames only exist for 4 KiB frames");

    /// An empty handle: owns nothing, may be destroyed in any state.
    constexpr Frames() = default;
    /// Used by allocators only.
    constexpr Frames(detail::AdoptTag, FrameOwner* owner, FrameRange<P> range, Pool pool)
        : Base(owner, range, pool) {}

    // Moving, merge(), range(), start(), end(), start_address(), size_in_bytes(),
    // is_empty(), pool(), owner() and the comparisons come from BasicHandle.
    [[nodiscard]] constexpr std::uint64_t size_in_frames() const {
        return this->range().size_in_frames();
    }

    /// Splits into [start, at) and [at, end], like slicing: `at` may be the
    /// first frame or one past the last, leaving one part empty. On success
    /// this handle is empty; on failure it is unchanged.
    [[nodiscard]] Result<FramesPair<S, P>> split_at(Frame<P> at) {
        return this->template split_in_two<FramesPair<S, P>>(at);
    }

    /// Splits out `middle`, which must be non-empty and inside this range,
    /// into before / range / after (before and after may be empty). On success
    /// this handle is empty; on failure it is unchanged.
    [[nodiscard]] Result<SplitFrames<S, P>> split_range(FrameRange<P> middle) {
        return this->template split_in_three<SplitFrames<S, P>>(middle);
    }

    /// Exact conversion to another page size (4K <-> 2M/1G). A misaligned
    /// conversion fails and leaves this handle unchanged; on success it is empty.
    template <PageSize Q>
    [[nodiscard]] Result<Frames<S, Q>> into_page_size() {
        return this->template convert_into<Frames<S, Q>>();
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
        return this->abandon();
    }

    /// `for (AllocatedFrame<> f : frames.iter())`: borrowed views of each frame.
    [[nodiscard]] constexpr auto iter() const requires(S == MemoryState::kAllocated) {
        return detail::NumberSequence<AllocatedFrame<P>, &view_at>(this->start().number(),
                                                                   size_in_frames());
    }
    /// The frame at `index` frames from the start, if inside.
    [[nodiscard]] constexpr Optional<AllocatedFrame<P>> get(std::uint64_t index) const
        requires(S == MemoryState::kAllocated) {
        if (index >= size_in_frames()) {
            return {};
        }
        return AllocatedFrame<P>(this->start() + index);
    }

  private:
    static constexpr AllocatedFrame<P> view_at(std::uint64_t number) {
        return AllocatedFrame<P>(Frame<P>::from_number(number).value());
    }

    template <MemoryState T>
    Frames<T, P> transition() {
        return this->template hand_over<Frames<T, P>>(this->range());
    }
};

using FreeFrames = Frames<MemoryState::kFree, Page4K>;
template <PageSize P = Page4K>
using AllocatedFrames = Frames<MemoryState::kAllocated, P>;
template <PageSize P = Page4K>
using MappedFrames = Frames<MemoryState::kMapped, P>;
template <PageSize P = Page4K>
using UnmappedFrames = Frames<MemoryState::kUnmapped, P>;

}  // namespace framealloc
