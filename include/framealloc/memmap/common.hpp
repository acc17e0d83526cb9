// Shared plumbing for the firmware memory-map parsers: the sink concept every
// parser feeds, bounds-checked little/big-endian loads from an untrusted byte
// buffer, and the one place where a raw (start, size, type) triple becomes a
// PhysicalMemoryRegion. Firmware tables are untrusted input, so every load here
// takes the buffer size and every caller checks it before reading; loads go
// byte by byte so that no alignment is assumed and no libc is needed.
#pragma once

#include <concepts>
#include <cstddef>
#include <cstdint>

#include "framealloc/region.hpp"
#include "framealloc/result.hpp"

namespace framealloc::memmap {

/// Anything that accepts one region at a time and may refuse it: a lambda, a
/// RegionList, a function object writing into the caller's own storage.
template <typename Sink>
concept RegionSink = requires(Sink& sink, const PhysicalMemoryRegion& region) {
    { sink(region) } -> std::convertible_to<Status>;
};

namespace detail {

/// Reads `width` bytes at `offset` as a little-endian number; the caller has
/// already checked that offset + width <= buffer size.
[[nodiscard]] constexpr std::uint64_t load_le(const unsigned char* bytes, std::size_t offset,
                                              unsigned width) {
    std::uint64_t value = 0;
    for (unsigned i = width; i > 0; --i) {
        value = (value << 8) | bytes[offset + i - 1];
    }
    return value;
}

/// Reads `width` bytes at `offset` as a big-endian number (device trees).
[[nodiscard]] constexpr std::uint64_t load_be(const unsigned char* bytes, std::size_t offset,
                                              unsigned width) {
    std::uint64_t value = 0;
    for (unsigned i = 0; i < width; ++i) {
        value = (value << 8) | bytes[offset + i];
    }
    return value;
}

[[nodiscard]] constexpr std::uint32_t le32(const unsigned char* bytes, std::size_t offset) {
    return static_cast<std::uint32_t>(load_le(bytes, offset, 4));
}
[[nodiscard]] constexpr std::uint64_t le64(const unsigned char* bytes, std::size_t offset) {
    return load_le(bytes, offset, 8);
}
[[nodiscard]] constexpr std::uint32_t be32(const unsigned char* bytes, std::size_t offset) {
    return static_cast<std::uint32_t>(load_be(bytes, offset, 4));
}
[[nodiscard]] constexpr std::uint64_t be64(const unsigned char* bytes, std::size_t offset) {
    return load_be(bytes, offset, 8);
}

/// True when [offset, offset + length) lies inside a buffer of `size` bytes;
/// written so that no sum can wrap.
[[nodiscard]] constexpr bool fits(std::size_t size, std::size_t offset, std::size_t length) {
    return offset <= size && length <= size - offset;
}

/// Turns a firmware range into a region and hands it to the sink. Ranges that
/// cover no whole frame (free) or no byte at all are dropped here, so sinks
/// never see an empty region.
template <typename Sink>
[[nodiscard]] constexpr Status emit(Sink& sink, std::uint64_t start, std::uint64_t size,
                                    MemoryRegionType type) {
    auto region = PhysicalMemoryRegion::from_bytes(start, size, type);
    if (!region.has_value()) {
        return region.error();
    }
    if (region.value().frames.is_empty()) {
        return {};
    }
    return static_cast<Status>(sink(static_cast<const PhysicalMemoryRegion&>(region.value())));
}

}  // namespace detail
}  // namespace framealloc::memmap
