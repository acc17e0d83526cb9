// detail::BasicHandle: the mechanics every handle shares, whatever address
// space it covers -- unique ownership of a range (move, forget, return to the
// owner on destruction), merge of adjacent handles, splits, the range
// accessors and ordering by start. Frames (physical) and AllocatedPages
// (virtual) derive from it and add only what is theirs: their typestate,
// their unit's name in the accessors, iteration, address arithmetic.
//
// The address space comes in as `Space`, a class of types and static
// functions:
//   Owner, Range, Unit, Address, Tag     -- Tag is the adopt tag of Derived's
//                                           (Tag, Owner*, Range, Pool) constructor
//   kOtherPool, kNotContiguous,          -- the error messages, which name the
//   kSplitOutside                           space's unit ("frames", "page", ...)
//   reserve(Owner*, count, pool)         -- promise bookkeeping to new handles
//   unreserve(Owner*, count, pool)       -- give back what handles held
//   give_back(Owner*, first, last, pool) -- a non-empty handle of 4K units
//                                           [first, last] is destroyed
#pragma once

#include <compare>
#include <cstdint>
#include <utility>

#include "framealloc/detail/range_engine.hpp"  // Pool
#include "framealloc/frame.hpp"
#include "framealloc/result.hpp"

namespace framealloc::detail {

template <class Derived, class Space>
class BasicHandle {
  public:
    using Owner = typename Space::Owner;
    using Range = typename Space::Range;
    using Unit = typename Space::Unit;

    [[nodiscard]] constexpr Range range() const { return range_; }
    [[nodiscard]] constexpr Unit start() const { return range_.start(); }
    [[nodiscard]] constexpr Unit end() const { return range_.end(); }
    [[nodiscard]] constexpr typename Space::Address start_address() const {
        return range_.start_address();
    }
    [[nodiscard]] constexpr std::uint64_t size_in_bytes() const { return range_.size_in_bytes(); }
    [[nodiscard]] constexpr bool is_empty() const { return range_.is_empty(); }
    /// Which pool the range returns to.
    [[nodiscard]] constexpr Pool pool() const { return pool_; }
    /// The allocator the range belongs to (nullptr for an empty handle).
    [[nodiscard]] constexpr const Owner* owner() const { return owner_; }

    /// Absorbs `other` when the two are adjacent, of the same allocator and
    /// pool. On success `other` is empty; on failure both are unchanged.
    /// Merging with an empty handle always succeeds.
    [[nodiscard]] Status merge(Derived& other) {
        BasicHandle& that = other;
        if (that.is_empty()) {
            return {};
        }
        if (is_empty()) {
            self() = std::move(other);
            return {};
        }
        if (&that == this) {
            return make_error(ErrorKind::kInvalidArgument, "merge: a handle merged with itself");
        }
        if (owner_ != that.owner_) {
            return make_error(ErrorKind::kForeignHandle,
                              "merge: the other handle belongs to a different allocator");
        }
        if (pool_ != that.pool_) {
            return make_error(ErrorKind::kNotAdjacent, Space::kOtherPool);
        }
        const auto after_this = range_.end().checked_add(1);
        const auto after_that = that.range_.end().checked_add(1);
        if (after_this && *after_this == that.range_.start()) {
            range_ = Range(range_.start(), that.range_.end());
        } else if (after_that && *after_that == range_.start()) {
            range_ = Range(that.range_.start(), range_.end());
        } else {
            return make_error(ErrorKind::kNotAdjacent, Space::kNotContiguous);
        }
        that.forget();
        Space::unreserve(owner_, 1, pool_);
        return {};
    }

    /// Handles order and compare by their start only.
    friend constexpr bool operator==(const Derived& a, const Derived& b) {
        return a.start() == b.start();
    }
    friend constexpr auto operator<=>(const Derived& a, const Derived& b) {
        return a.start() <=> b.start();
    }

  protected:
    constexpr BasicHandle() = default;
    constexpr BasicHandle(Owner* owner, Range range, Pool pool)
        : owner_(owner), range_(range), pool_(pool) {}

    BasicHandle(BasicHandle&& other) noexcept
        : owner_(other.owner_), range_(other.range_), pool_(other.pool_) {
        other.forget();
    }
    BasicHandle& operator=(BasicHandle&& other) noexcept {
        if (this != &other) {
            release();
            owner_ = other.owner_;
            range_ = other.range_;
            pool_ = other.pool_;
            other.forget();
        }
        return *this;
    }
    BasicHandle(const BasicHandle&) = delete;
    BasicHandle& operator=(const BasicHandle&) = delete;
    ~BasicHandle() { release(); }

    /// split_at() for Derived, whose parts are a `Pair` {first, second}:
    /// [start, at) and [at, end]. `at` may be the start or one past the end,
    /// leaving one part empty. On success this handle is empty; on failure
    /// (kOutOfRange, or the owner's reserve error) it is unchanged.
    template <class Pair>
    [[nodiscard]] Result<Pair> split_in_two(Unit at) {
        const auto past_end = range_.end().checked_add(1);
        if (is_empty() || at < range_.start() ||
            (at > range_.end() && !(past_end && at == *past_end))) {
            return make_error(ErrorKind::kOutOfRange, Space::kSplitOutside);
        }
        if (at == range_.start()) {
            return Pair{Derived(), hand_over<Derived>(range_)};
        }
        if (at > range_.end()) {
            return Pair{hand_over<Derived>(range_), Derived()};
        }
        FRAMEALLOC_TRY(Space::reserve(owner_, 1, pool_));
        Pair parts{piece(range_.start(), at - 1), piece(at, range_.end())};
        forget();
        return parts;
    }

    /// split_range() for Derived, whose parts are a `Split` {before, range,
    /// after}: `middle` must be non-empty and inside; before and after may
    /// come out empty. On success this handle is empty; on failure unchanged.
    template <class Split>
    [[nodiscard]] Result<Split> split_in_three(Range middle) {
        if (is_empty() || middle.is_empty() || !range_.contains_range(middle)) {
            return make_error(ErrorKind::kOutOfRange,
                              "split_range: the range is empty or not inside the handle");
        }
        const bool has_before = middle.start() > range_.start();
        const bool has_after = middle.end() < range_.end();
        const std::uint32_t extra = (has_before ? 1U : 0U) + (has_after ? 1U : 0U);
        if (extra != 0) {
            FRAMEALLOC_TRY(Space::reserve(owner_, extra, pool_));
        }
        Split parts{has_before ? piece(range_.start(), middle.start() - 1) : Derived(),
                    piece(middle.start(), middle.end()),
                    has_after ? piece(middle.end() + 1, range_.end()) : Derived()};
        forget();
        return parts;
    }

    /// into_page_size() for Derived: the same span as an `Out` of another
    /// page size. A misaligned span fails and leaves this handle unchanged.
    template <class Out>
    [[nodiscard]] Result<Out> convert_into() {
        auto converted = range_.template convert<typename Out::Size>();
        if (!converted) {
            return converted.error();
        }
        return hand_over<Out>(converted.value());
    }

    /// Moves ownership into a new handle of type `Out` (another state or
    /// page size) covering `range`, the same span as this one.
    template <class Out, class OutRange>
    Out hand_over(OutRange range) {
        Out out(typename Space::Tag{}, owner_, range, pool_);
        forget();
        return out;
    }

    /// Gives the range up without returning it: the caller now owns it, and
    /// the bookkeeping this handle held is released. Returns the range.
    Range abandon() {
        const Range range = range_;
        if (!is_empty()) {
            Space::unreserve(owner_, 1, pool_);
        }
        forget();
        return range;
    }

  private:
    Derived& self() { return static_cast<Derived&>(*this); }

    Derived piece(Unit s, Unit e) const {
        return Derived(typename Space::Tag{}, owner_, Range(s, e), pool_);
    }
    void forget() {
        owner_ = nullptr;
        range_ = Range::empty();
    }
    void release() {
        if (range_.is_empty() || owner_ == nullptr) {
            return;
        }
        using Size = typename Derived::Size;
        const std::uint64_t first = range_.start().number() * Size::kFrames4K;
        const std::uint64_t last = (range_.end().number() + 1) * Size::kFrames4K - 1;
        Space::give_back(owner_, first, last, pool_);
        forget();
    }

    Owner* owner_ = nullptr;
    Range range_;
    Pool pool_ = Pool::kGeneral;
};

}  // namespace framealloc::detail
