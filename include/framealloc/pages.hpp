// AllocatedPages<P>: the RAII handle to a range of virtual pages, the page
// allocator's counterpart of AllocatedFrames (Theseus: page_allocator's
// AllocatedPages). Pages have no mapped/unmapped typestate -- a mapping owns
// its pages through the page-table code -- so there is one state: allocated.
// The handle is unique (move-only), remembers the allocator it came from, and
// returns its pages there when destroyed.
#pragma once

#include <cstdint>

#include "framealloc/detail/handle.hpp"
#include "framealloc/detail/range_engine.hpp"
#include "framealloc/frame.hpp"
#include "framealloc/result.hpp"

namespace framealloc {

/// What an AllocatedPages handle needs of the allocator it came from.
class PageOwner {
  public:
    /// Takes back 4K pages [first, last] of `pool`, with the bookkeeping node
    /// their handle held in reserve.
    virtual void return_pages(std::uint64_t first, std::uint64_t last, Pool pool) = 0;
    /// Promises `count` more bookkeeping nodes to new handles (a split).
    [[nodiscard]] virtual Status reserve_page_handles(std::uint32_t count) = 0;
    /// Releases `count` promised nodes (a merge).
    virtual void unreserve_page_handles(std::uint32_t count) = 0;

  protected:
    constexpr PageOwner() = default;
    ~PageOwner() = default;
    PageOwner(const PageOwner&) = default;
    PageOwner& operator=(const PageOwner&) = default;
};

namespace detail {
/// Only page allocators make non-empty page handles; they pass this tag.
struct AdoptPagesTag {
    explicit constexpr AdoptPagesTag() = default;
};
}  // namespace detail

template <PageSize P>
class AllocatedPages;

/// The two parts of AllocatedPages::split_at().
template <PageSize P>
struct PagesPair {
    AllocatedPages<P> first;
    AllocatedPages<P> second;
};

namespace detail {
/// Virtual pages as BasicHandle sees them.
template <PageSize P>
struct PageSpace {
    using Owner = PageOwner;
    using Range = PageRange<P>;
    using Unit = Page<P>;
    using Address = VirtualAddress;
    using Tag = AdoptPagesTag;
    static constexpr const char* kOtherPool =
        "merge: the pages lie in different pools, never adjacent in one";
    static constexpr const char* kNotContiguous = "merge: the pages are not contiguous";
    static constexpr const char* kSplitOutside = "split_at: the page is outside the range";

    // Page handles promise nodes from one store, whatever their pool.
    [[nodiscard]] static Status reserve(Owner* owner, std::uint32_t count, Pool /*pool*/) {
        return owner->reserve_page_handles(count);
    }
    static void unreserve(Owner* owner, std::uint32_t count, Pool /*pool*/) {
        owner->unreserve_page_handles(count);
    }
    static void give_back(Owner* owner, std::uint64_t first, std::uint64_t last, Pool pool) {
        owner->return_pages(first, last, pool);
    }
};
}  // namespace detail

template <PageSize P = Page4K>
class AllocatedPages : public detail::BasicHandle<AllocatedPages<P>, detail::PageSpace<P>> {
    using Base = detail::BasicHandle<AllocatedPages<P>, detail::PageSpace<P>>;

  public:
    using Size = P;

    /// An empty handle: owns nothing.
    constexpr AllocatedPages() = default;
    /// Used by page allocators only.
    constexpr AllocatedPages(detail::AdoptPagesTag, PageOwner* owner, PageRange<P> range, Pool pool)
        : Base(owner, range, pool) {}

    // Moving, merge(), range(), start(), end(), start_address(), size_in_bytes(),
    // is_empty(), pool(), owner() and the comparisons come from BasicHandle.
    [[nodiscard]] constexpr std::uint64_t size_in_pages() const {
        return this->range().size_in_pages();
    }
    /// Byte offset of `address` from the start, if inside these pages.
    [[nodiscard]] constexpr Optional<std::uint64_t> offset_of_address(VirtualAddress a) const {
        return this->range().offset_of_address(a);
    }
    /// The address `offset` bytes in, if still inside these pages.
    [[nodiscard]] constexpr Optional<VirtualAddress> address_at_offset(std::uint64_t off) const {
        return this->range().address_at_offset(off);
    }

    /// Splits into [start, at) and [at, end]; `at` may be the first page or
    /// one past the last, leaving one part empty. On success this handle is
    /// empty; on failure (kOutOfRange, kCapacityExhausted) it is unchanged.
    [[nodiscard]] Result<PagesPair<P>> split_at(Page<P> at) {
        return this->template split_in_two<PagesPair<P>>(at);
    }

    /// Exact conversion to another page size (4K <-> 2M/1G). A misaligned
    /// conversion fails and leaves this handle unchanged; on success it is empty.
    template <PageSize Q>
    [[nodiscard]] Result<AllocatedPages<Q>> into_page_size() {
        return this->template convert_into<AllocatedPages<Q>>();
    }
};

}  // namespace framealloc
