// The request rules every allocator built on RangeEngine shares, whatever it
// numbers (physical frames, virtual pages): what makes a run's shape valid,
// how a byte size becomes whole 4 KiB units, which whole units an address
// window holds, and how far node storage grows at a time.
#pragma once

#include <cstdint>

#include "framealloc/address.hpp"
#include "framealloc/detail/node_pool.hpp"
#include "framealloc/detail/range_engine.hpp"
#include "framealloc/result.hpp"

namespace framealloc::detail {

[[nodiscard]] constexpr bool is_power_of_two(std::uint64_t v) {
    return v != 0 && (v & (v - 1)) == 0;
}

/// Validates count, alignment and boundary of a run in a space of
/// `max_count` units and returns them as a Constraint with no window.
[[nodiscard]] constexpr Result<Constraint> run_shape(std::uint64_t count, std::uint64_t align,
                                                     std::uint64_t boundary,
                                                     std::uint64_t max_count) {
    if (count == 0) {
        return make_error(ErrorKind::kZeroFrames, "zero-sized request");
    }
    if (!is_power_of_two(align)) {
        return make_error(ErrorKind::kInvalidArgument, "alignment is not a power of two");
    }
    if (boundary != 0 && (!is_power_of_two(boundary) || boundary < count)) {
        return make_error(ErrorKind::kInvalidArgument,
                          "boundary is not a power of two at least as large as the run");
    }
    if (count > max_count) {
        return make_error(ErrorKind::kOutOfMemory, "more than the address space holds");
    }
    Constraint c;
    c.count = count;
    c.align = align;
    c.boundary = boundary;
    return c;
}

/// Restricts `c` to the whole 4 KiB units inside the bytes [lo, hi] of a space
/// whose last unit is `max_unit`; no window at all keeps the engine's fast path.
[[nodiscard]] constexpr Status restrict_to_window(Constraint& c, std::uint64_t lo, std::uint64_t hi,
                                                  std::uint64_t max_unit) {
    constexpr std::uint64_t kMask = Page4K::kBytes - 1;
    if (lo == 0 && (hi >> Page4K::kShift) >= max_unit && (hi & kMask) == kMask) {
        return {};  // the whole space: the common case, and no window at all
    }
    const std::uint64_t first = (lo >> Page4K::kShift) + ((lo & kMask) != 0 ? 1 : 0);
    std::uint64_t last = hi >> Page4K::kShift;  // hi may be 2^64-1: no "+ 1" on it
    const bool last_partial = (hi & kMask) != kMask;
    if (hi < lo || (last_partial && last == 0) || first > last - (last_partial ? 1 : 0)) {
        return make_error(ErrorKind::kInvalidArgument, "the address window holds no whole frame");
    }
    last -= last_partial ? 1 : 0;
    c.min = first;
    c.max = (first == 0 && last == max_unit) ? ~0ULL : last;
    return {};
}

/// The exact run [first, first + count - 1] an at-address request names,
/// checked against its alignment, window and boundary in a space whose last
/// unit is `max_unit`.
[[nodiscard]] constexpr Result<UnitRange> exact_run(std::uint64_t first, const Constraint& c,
                                                    std::uint64_t max_unit) {
    if ((first & (c.align - 1)) != 0) {
        return make_error(ErrorKind::kMisaligned, "the address is not aligned as requested");
    }
    if (c.count - 1 > max_unit - first) {
        return make_error(ErrorKind::kOverflow, "range passes the top of the address space");
    }
    const std::uint64_t last = first + (c.count - 1);
    if (first < c.min || (c.max != ~0ULL && last > c.max)) {
        return make_error(ErrorKind::kOutOfRange, "the address is outside the requested window");
    }
    if (c.boundary != 0 && first / c.boundary != last / c.boundary) {
        return make_error(ErrorKind::kMisaligned, "the range crosses the requested boundary");
    }
    return UnitRange{first, last};
}

/// A whole request in engine units: the run's shape plus the whole units
/// inside the byte window [lo, hi], in a space whose last unit is `max_unit`.
[[nodiscard]] constexpr Result<Constraint> to_constraint(std::uint64_t count, std::uint64_t align,
                                                         std::uint64_t boundary, std::uint64_t lo,
                                                         std::uint64_t hi, std::uint64_t max_unit) {
    auto shape = run_shape(count, align, boundary, max_unit + 1);
    if (!shape) {
        return shape.error();
    }
    Constraint c = shape.value();
    FRAMEALLOC_TRY(restrict_to_window(c, lo, hi, max_unit));
    return c;
}

/// Whole 4 KiB units covering `bytes` bytes that start `offset` bytes into a unit.
[[nodiscard]] constexpr Result<std::uint64_t> units_for_bytes(std::uint64_t offset,
                                                              std::uint64_t bytes) {
    if (bytes == 0) {
        return make_error(ErrorKind::kZeroFrames, "zero bytes requested");
    }
    if (bytes > ~0ULL - offset - (Page4K::kBytes - 1)) {
        return make_error(ErrorKind::kOverflow, "byte size passes the top of the address space");
    }
    return (bytes + offset + Page4K::kBytes - 1) >> Page4K::kShift;
}

/// The node count storage grows to from `count`: double, at least 1024.
[[nodiscard]] constexpr Index grown_count(Index count) {
    const std::uint64_t doubled = 2ULL * count;
    const std::uint64_t at_least = doubled < 1024 ? 1024 : doubled;
    return static_cast<Index>(at_least > 0x7fffffffULL ? 0x7fffffffULL : at_least);
}

}  // namespace framealloc::detail
