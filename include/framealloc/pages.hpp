// AllocatedPages<P>: the RAII handle to a range of virtual pages, the page
// allocator's counterpart of AllocatedFrames (Theseus: page_allocator's
// AllocatedPages). Pages have no mapped/unmapped typestate -- a mapping owns
// its pages through the page-table code -- so there is one state: allocated.
// The handle is unique (move-only), remembers the allocator it came from, and
// returns its pages there when destroyed.
#pragma once

#include <compare>
#include <cstdint>
#include <type_traits>
#include <utility>

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

template <PageSize P = Page4K>
class AllocatedPages {
  public:
    using Size = P;

    /// An empty handle: owns nothing.
    constexpr AllocatedPages() = default;
    /// Used by page allocators only.
    constexpr AllocatedPages(detail::AdoptPagesTag, PageOwner* owner, PageRange<P> range, Pool pool)
        : owner_(owner), range_(range), pool_(pool) {}

    AllocatedPages(AllocatedPages&& other) noexcept
        : owner_(other.owner_), range_(other.range_), pool_(other.pool_) {
        other.forget();
    }
    AllocatedPages& operator=(AllocatedPages&& other) noexcept {
        if (this != &other) {
            release();
            owner_ = other.owner_;
            range_ = other.range_;
            pool_ = other.pool_;
            other.forget();
        }
        return *this;
    }
    AllocatedPages(const AllocatedPages&) = delete;
    AllocatedPages& operator=(const AllocatedPages&) = delete;
    ~AllocatedPages() { release(); }

    [[nodiscard]] constexpr PageRange<P> range() const { return range_; }
    [[nodiscard]] constexpr Page<P> start() const { return range_.start(); }
    [[nodiscard]] constexpr Page<P> end() const { return range_.end(); }
    [[nodiscard]] constexpr VirtualAddress start_address() const { return range_.start_address(); }
    [[nodiscard]] constexpr std::uint64_t size_in_pages() const { return range_.size_in_pages(); }
    [[nodiscard]] constexpr std::uint64_t size_in_bytes() const { return range_.size_in_bytes(); }
    [[nodiscard]] constexpr bool is_empty() const { return range_.is_empty(); }
    [[nodiscard]] constexpr Pool pool() const { return pool_; }
    [[nodiscard]] constexpr const PageOwner* owner() const { return owner_; }
    /// Byte offset of `address` from the start, if inside these pages.
    [[nodiscard]] constexpr Optional<std::uint64_t> offset_of_address(VirtualAddress a) const {
        return range_.offset_of_address(a);
    }
    /// The address `offset` bytes in, if still inside these pages.
    [[nodiscard]] constexpr Optional<VirtualAddress> address_at_offset(std::uint64_t off) const {
        return range_.address_at_offset(off);
    }

    /// Absorbs `other` when the two are virtually adjacent, of the same
    /// allocator and pool. On success `other` is empty; on failure both are
    /// unchanged. Merging with an empty handle always succeeds.
    [[nodiscard]] Status merge(AllocatedPages& other) {
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
                              "merge: the pages lie in different pools, never adjacent in one");
        }
        const auto after_this = range_.end().checked_add(1);
        const auto after_other = other.range_.end().checked_add(1);
        if (after_this && *after_this == other.range_.start()) {
            range_ = PageRange<P>(range_.start(), other.range_.end());
        } else if (after_other && *after_other == range_.start()) {
            range_ = PageRange<P>(other.range_.start(), range_.end());
        } else {
            return make_error(ErrorKind::kNotAdjacent, "merge: the pages are not contiguous");
        }
        other.forget();
        owner_->unreserve_page_handles(1);
        return {};
    }

    /// Splits into [start, at) and [at, end]; `at` may be the first page or
    /// one past the last, leaving one part empty. On success this handle is
    /// empty; on failure (kOutOfRange, kCapacityExhausted) it is unchanged.
    [[nodiscard]] Result<PagesPair<P>> split_at(Page<P> at) {
        const auto past_end = range_.end().checked_add(1);
        if (is_empty() || at < range_.start() ||
            (at > range_.end() && !(past_end && at == *past_end))) {
            return make_error(ErrorKind::kOutOfRange, "split_at: the page is outside the range");
        }
        if (at == range_.start()) {
            return PagesPair<P>{AllocatedPages(), take()};
        }
        if (at > range_.end()) {
            return PagesPair<P>{take(), AllocatedPages()};
        }
        FRAMEALLOC_TRY(owner_->reserve_page_handles(1));
        PagesPair<P> parts{piece(range_.start(), at - 1), piece(at, range_.end())};
        forget();
        return parts;
    }

    /// Exact conversion to another page size (4K <-> 2M/1G). A misaligned
    /// conversion fails and leaves this handle unchanged; on success it is empty.
    template <PageSize Q>
    [[nodiscard]] Result<AllocatedPages<Q>> into_page_size() {
        auto converted = range_.template convert<Q>();
        if (!converted) {
            return converted.error();
        }
        AllocatedPages<Q> out(detail::AdoptPagesTag{}, owner_, converted.value(), pool_);
        forget();
        return out;
    }

    /// Handles order and compare by their start page only.
    friend constexpr bool operator==(const AllocatedPages& a, const AllocatedPages& b) {
        return a.range_.start() == b.range_.start();
    }
    friend constexpr auto operator<=>(const AllocatedPages& a, const AllocatedPages& b) {
        return a.range_.start() <=> b.range_.start();
    }

  private:
    AllocatedPages piece(Page<P> s, Page<P> e) const {
        return AllocatedPages(detail::AdoptPagesTag{}, owner_, PageRange<P>(s, e), pool_);
    }
    AllocatedPages take() {
        AllocatedPages out(detail::AdoptPagesTag{}, owner_, range_, pool_);
        forget();
        return out;
    }
    void forget() {
        owner_ = nullptr;
        range_ = PageRange<P>::empty();
    }
    void release() {
        if (range_.is_empty() || owner_ == nullptr) {
            return;
        }
        const std::uint64_t first = range_.start().number() * P::kFrames4K;
        const std::uint64_t last = (range_.end().number() + 1) * P::kFrames4K - 1;
        owner_->return_pages(first, last, pool_);
        forget();
    }

    PageOwner* owner_ = nullptr;
    PageRange<P> range_;
    Pool pool_ = Pool::kGeneral;
};

}  // namespace framealloc
