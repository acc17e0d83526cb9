// Frames, pages and inclusive ranges of them. One template serves both address
// spaces: Frame<P>/FrameRange<P> number physical memory, Page<P>/PageRange<P>
// number virtual memory. Numbers are in units of P; arithmetic never wraps (it
// saturates, or the checked_ form returns nothing), so a range can never pass
// the top of the address space and come back as a small number.
#pragma once

#include <cstdint>

#include "framealloc/address.hpp"

namespace framealloc {

namespace detail {
/// Iterates `count` consecutive unit numbers from `first`, yielding
/// `Make(number)`: ranges yield frames or pages, handles yield borrowed views.
template <typename Value, Value (*Make)(std::uint64_t)>
class NumberSequence {
  public:
    class Iterator {
      public:
        constexpr Iterator(std::uint64_t next, std::uint64_t remaining)
            : next_(next), remaining_(remaining) {}
        constexpr Value operator*() const { return Make(next_); }
        constexpr Iterator& operator++() {
            ++next_;
            --remaining_;
            return *this;
        }
        constexpr bool operator==(const Iterator& o) const { return remaining_ == o.remaining_; }

      private:
        std::uint64_t next_;
        std::uint64_t remaining_;
    };
    constexpr NumberSequence(std::uint64_t first, std::uint64_t count)
        : first_(first), count_(count) {}
    [[nodiscard]] constexpr Iterator begin() const { return Iterator(first_, count_); }
    [[nodiscard]] constexpr Iterator end() const { return Iterator(0, 0); }

  private:
    std::uint64_t first_;
    std::uint64_t count_;
};
}  // namespace detail

/// One naturally aligned unit of size P in the address space of Addr.
template <typename Addr, PageSize P = Page4K>
class BasicFrame {
  public:
    using Address = Addr;
    using Size = P;
    /// The highest unit number whose start address is representable.
    static constexpr std::uint64_t kMaxNumber = Addr::kMax >> P::kShift;

    constexpr BasicFrame() = default;

    /// The unit numbered `number`, or nothing past kMaxNumber.
    [[nodiscard]] static constexpr Optional<BasicFrame> from_number(std::uint64_t number) {
        if (number > kMaxNumber) {
            return {};
        }
        return BasicFrame(number);
    }
    /// The unit that contains `address`.
    [[nodiscard]] static constexpr BasicFrame containing_address(Addr address) {
        return BasicFrame(address.value() >> P::kShift);
    }
    [[nodiscard]] static constexpr BasicFrame min() { return BasicFrame(0); }
    [[nodiscard]] static constexpr BasicFrame max() { return BasicFrame(kMaxNumber); }

    [[nodiscard]] constexpr std::uint64_t number() const { return number_; }
    [[nodiscard]] constexpr Addr start_address() const {
        return Addr::new_canonical(number_ << P::kShift);
    }

    /// This unit plus `count`, or nothing past max().
    [[nodiscard]] constexpr Optional<BasicFrame> checked_add(std::uint64_t count) const {
        if (count > kMaxNumber - number_) {
            return {};
        }
        return BasicFrame(number_ + count);
    }
    /// This unit minus `count`, or nothing below min().
    [[nodiscard]] constexpr Optional<BasicFrame> checked_sub(std::uint64_t count) const {
        if (count > number_) {
            return {};
        }
        return BasicFrame(number_ - count);
    }
    /// Saturating arithmetic (Theseus semantics): stops at max() / min().
    friend constexpr BasicFrame operator+(BasicFrame f, std::uint64_t count) {
        return f.checked_add(count).value_or(max());
    }
    friend constexpr BasicFrame operator-(BasicFrame f, std::uint64_t count) {
        return f.checked_sub(count).value_or(min());
    }
    /// Number of units from `b` up to `a` (0 when b is above a).
    friend constexpr std::uint64_t operator-(BasicFrame a, BasicFrame b) {
        return a.number_ > b.number_ ? a.number_ - b.number_ : 0;
    }
    constexpr BasicFrame& operator+=(std::uint64_t count) { return *this = *this + count; }
    constexpr BasicFrame& operator-=(std::uint64_t count) { return *this = *this - count; }

    // NOLINTNEXTLINE(modernize-use-nullptr): clang-tidy 14 misreads a defaulted <=>
    friend constexpr auto operator<=>(BasicFrame, BasicFrame) = default;

  private:
    constexpr explicit BasicFrame(std::uint64_t number) : number_(number) {}
    std::uint64_t number_ = 0;
};

/// An inclusive range [start, end] of units; empty when start > end.
template <typename Addr, PageSize P = Page4K>
class BasicRange {
  public:
    using Unit = BasicFrame<Addr, P>;
    using Address = Addr;
    using Size = P;

    /// The empty range.
    constexpr BasicRange() : start_(Unit::from_number(1).value()), end_(Unit::min()) {}
    /// The range [start, end]; empty when start > end.
    constexpr BasicRange(Unit start, Unit end) : start_(start), end_(end) {}

    [[nodiscard]] static constexpr BasicRange empty() { return BasicRange(); }

    /// The smallest range covering the `size_bytes` bytes from `start`. Zero
    /// bytes give the empty range; bytes past the top of the space are kOverflow.
    [[nodiscard]] static constexpr Result<BasicRange> from_address(Addr start,
                                                                   std::uint64_t size_bytes) {
        if (size_bytes == 0) {
            return empty();
        }
        if (size_bytes - 1 > Addr::kMax - start.value()) {
            return make_error(ErrorKind::kOverflow, "range passes the top of the address space");
        }
        const std::uint64_t last = start.value() + (size_bytes - 1);
        return BasicRange(Unit::containing_address(start),
                          Unit::containing_address(Addr::new_canonical(last)));
    }
    /// The range of `count` units starting at `start`; kOverflow past max().
    [[nodiscard]] static constexpr Result<BasicRange> from_count(Unit start, std::uint64_t count) {
        if (count == 0) {
            return empty();
        }
        auto last = start.checked_add(count - 1);
        if (!last) {
            return make_error(ErrorKind::kOverflow, "range passes the top of the address space");
        }
        return BasicRange(start, *last);
    }

    [[nodiscard]] constexpr Unit start() const { return start_; }
    [[nodiscard]] constexpr Unit end() const { return end_; }
    [[nodiscard]] constexpr Addr start_address() const { return start_.start_address(); }
    [[nodiscard]] constexpr bool is_empty() const { return start_ > end_; }
    /// Number of units; a full-space range of 4K frames (2^52) still fits.
    [[nodiscard]] constexpr std::uint64_t size_in_frames() const {
        return is_empty() ? 0 : end_.number() - start_.number() + 1;
    }
    /// Alias for virtual ranges.
    [[nodiscard]] constexpr std::uint64_t size_in_pages() const { return size_in_frames(); }
    /// Size in bytes, saturating at 2^64-1 (only the full 64-bit space reaches it).
    [[nodiscard]] constexpr std::uint64_t size_in_bytes() const {
        const std::uint64_t n = size_in_frames();
        if (n > (~0ULL >> P::kShift)) {
            return ~0ULL;
        }
        return n << P::kShift;
    }

    [[nodiscard]] constexpr bool contains(Unit unit) const {
        return !is_empty() && start_ <= unit && unit <= end_;
    }
    [[nodiscard]] constexpr bool contains_address(Addr address) const {
        return contains(Unit::containing_address(address));
    }
    /// True when every unit of `other` lies in this range (an empty `other` is contained).
    [[nodiscard]] constexpr bool contains_range(const BasicRange& other) const {
        return other.is_empty() || (contains(other.start_) && contains(other.end_));
    }
    /// Byte offset of `address` from the start of this range, if inside it.
    [[nodiscard]] constexpr Optional<std::uint64_t> offset_of_address(Addr address) const {
        if (!contains_address(address)) {
            return {};
        }
        return address.value() - start_address().value();
    }
    /// The address `offset` bytes into this range, if still inside it.
    [[nodiscard]] constexpr Optional<Addr> address_at_offset(std::uint64_t offset) const {
        if (is_empty() || offset >= size_in_bytes()) {
            return {};
        }
        return Addr::new_canonical(start_address().value() + offset);
    }
    /// The units both ranges share (empty when they do not overlap).
    [[nodiscard]] constexpr BasicRange overlap(const BasicRange& other) const {
        if (is_empty() || other.is_empty()) {
            return empty();
        }
        const Unit s = start_ > other.start_ ? start_ : other.start_;
        const Unit e = end_ < other.end_ ? end_ : other.end_;
        return s <= e ? BasicRange(s, e) : empty();
    }
    /// This range grown just enough to include `unit`.
    [[nodiscard]] constexpr BasicRange to_extended(Unit unit) const {
        if (is_empty()) {
            return BasicRange(unit, unit);
        }
        return BasicRange(unit < start_ ? unit : start_, unit > end_ ? unit : end_);
    }

    /// Exact conversion to another page size: every unit boundary must line up
    /// (4K -> 2M needs a 2 MiB-aligned start and a multiple of 512 frames).
    template <PageSize Q>
    [[nodiscard]] constexpr Result<BasicRange<Addr, Q>> convert() const {
        using Other = BasicRange<Addr, Q>;
        if (is_empty()) {
            return Other::empty();
        }
        const std::uint64_t last_excl_units = end_.number() + 1;  // exclusive end in units of P
        if constexpr (P::kShift <= Q::kShift) {
            constexpr std::uint64_t kRatio = 1ULL << (Q::kShift - P::kShift);
            if ((start_.number() % kRatio) != 0 || (last_excl_units % kRatio) != 0) {
                return make_error(ErrorKind::kMisaligned,
                                  "range is not aligned to the larger page size");
            }
            return Other(Other::Unit::from_number(start_.number() / kRatio).value(),
                         Other::Unit::from_number(last_excl_units / kRatio - 1).value());
        } else {
            constexpr std::uint64_t kRatio = 1ULL << (P::kShift - Q::kShift);
            return Other(Other::Unit::from_number(start_.number() * kRatio).value(),
                         Other::Unit::from_number(last_excl_units * kRatio - 1).value());
        }
    }

    friend constexpr bool operator==(const BasicRange& a, const BasicRange& b) {
        return (a.is_empty() && b.is_empty()) || (a.start_ == b.start_ && a.end_ == b.end_);
    }

    /// Iterate with `for (Frame<> f : range.iter())` (end() names the last unit).
    [[nodiscard]] constexpr auto iter() const {
        return detail::NumberSequence<Unit, &unit_at>(start_.number(), size_in_frames());
    }

  private:
    static constexpr Unit unit_at(std::uint64_t number) {
        return Unit::from_number(number).value();
    }

    Unit start_;
    Unit end_;
};

template <PageSize P = Page4K>
using Frame = BasicFrame<PhysicalAddress, P>;
template <PageSize P = Page4K>
using FrameRange = BasicRange<PhysicalAddress, P>;
template <PageSize P = Page4K>
using Page = BasicFrame<VirtualAddress, P>;
template <PageSize P = Page4K>
using PageRange = BasicRange<VirtualAddress, P>;

}  // namespace framealloc
