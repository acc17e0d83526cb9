// The flattened device tree (DTB) walker every device-tree reader shares: it
// checks the header's sizes and offsets against the blob, then runs once
// through the structure block and tells a visitor about each node opened,
// each property and each node closed. The blob comes from firmware and may be
// truncated or corrupt, so every offset, length and string is checked before
// it is read: a bad blob gives an error, never an out-of-bounds read or an
// endless loop. No recursion and no heap; what to remember about a node is
// the visitor's business (parse_fdt() keeps depths 1 to 3, parse_fdt_numa()
// the same).
#pragma once

#include <cstddef>
#include <cstdint>

#include "framealloc/memmap/common.hpp"

namespace framealloc::memmap {

inline constexpr std::uint32_t kFdtMagic = 0xd00dfeed;
/// Structure-block tokens.
inline constexpr std::uint32_t kFdtBeginNode = 1;
inline constexpr std::uint32_t kFdtEndNode = 2;
inline constexpr std::uint32_t kFdtProp = 3;
inline constexpr std::uint32_t kFdtNop = 4;
inline constexpr std::uint32_t kFdtEnd = 9;
/// Header size of version 17 blobs (the current one); version 16 lacks the
/// last field (size_dt_struct) and is 36 bytes.
inline constexpr std::size_t kFdtHeaderSize = 40;
inline constexpr std::size_t kFdtHeaderSizeV16 = 36;
/// The spec's default cell counts when a parent does not say.
inline constexpr std::uint32_t kFdtDefaultAddressCells = 2;
inline constexpr std::uint32_t kFdtDefaultSizeCells = 1;
/// More cells than this cannot describe a 64-bit address we could use.
inline constexpr std::uint32_t kFdtMaxCells = 4;
/// Depths (1 = the root) at which the walker enforces that properties come
/// before subnodes: the cell counts the readers take from a parent must not
/// change after its children were read.
inline constexpr std::size_t kFdtCheckedDepth = 3;

namespace detail {

/// Equality of the NUL-terminated string at bytes[offset] with `literal`; the
/// caller has checked that the string is terminated inside the buffer.
[[nodiscard]] constexpr bool fdt_str_eq(const unsigned char* bytes, std::size_t offset,
                                        const char* literal) {
    std::size_t i = 0;
    for (; literal[i] != '\0'; ++i) {
        if (bytes[offset + i] != static_cast<unsigned char>(literal[i])) {
            return false;
        }
    }
    return bytes[offset + i] == 0;
}

/// True when the node name at bytes[offset] is `base` or `base@unit`.
[[nodiscard]] constexpr bool fdt_name_is(const unsigned char* bytes, std::size_t offset,
                                         const char* base) {
    std::size_t i = 0;
    for (; base[i] != '\0'; ++i) {
        if (bytes[offset + i] != static_cast<unsigned char>(base[i])) {
            return false;
        }
    }
    return bytes[offset + i] == 0 || bytes[offset + i] == '@';
}

/// Length of the NUL-terminated string at `offset`, searched no further than
/// `limit`; returns limit - offset (no terminator) when it runs off the end.
[[nodiscard]] constexpr std::size_t fdt_strnlen(const unsigned char* bytes, std::size_t offset,
                                                std::size_t limit) {
    std::size_t i = offset;
    while (i < limit && bytes[i] != 0) {
        ++i;
    }
    return i - offset;
}

/// Reads `cells` big-endian u32 cells at `offset` as one number; kOverflow
/// when a value needs more than 64 bits.
[[nodiscard]] constexpr Result<std::uint64_t> fdt_read_cells(const unsigned char* bytes,
                                                             std::size_t offset,
                                                             std::uint32_t cells) {
    std::uint64_t value = 0;
    for (std::uint32_t i = 0; i < cells; ++i) {
        if ((value >> 32) != 0) {
            return make_error(ErrorKind::kOverflow, "device tree reg value exceeds 64 bits");
        }
        value = (value << 32) | be32(bytes, offset + std::size_t{4} * i);
    }
    return value;
}

/// Calls f(address, size) -> Status on each pair of a `reg` property of
/// `length` bytes at `offset`, read with the parent's cell counts. Errors:
/// kBadRegion for cell counts reg cannot use or a length that is not a whole
/// number of pairs; kOverflow for a value over 64 bits; any error f returns.
template <typename F>
[[nodiscard]] constexpr Status fdt_for_each_reg(const unsigned char* bytes, std::size_t offset,
                                                std::size_t length, std::uint32_t address_cells,
                                                std::uint32_t size_cells, F&& f) {
    if (address_cells == 0 || size_cells == 0 || address_cells > kFdtMaxCells ||
        size_cells > kFdtMaxCells) {
        return make_error(ErrorKind::kBadRegion,
                          "device tree #address-cells/#size-cells unusable for reg");
    }
    const std::size_t pair = std::size_t{4} * (address_cells + size_cells);
    if (length % pair != 0) {
        return make_error(ErrorKind::kBadRegion,
                          "device tree reg length is not a multiple of its cell counts");
    }
    for (std::size_t at = offset; at < offset + length; at += pair) {
        auto address = fdt_read_cells(bytes, at, address_cells);
        if (!address) {
            return address.error();
        }
        auto size = fdt_read_cells(bytes, at + std::size_t{4} * address_cells, size_cells);
        if (!size) {
            return size.error();
        }
        FRAMEALLOC_TRY(f(address.value(), size.value()));
    }
    return {};
}

/// A `status` property's verdict: only "okay" or "ok" (or no status at all)
/// mean the node is in use.
[[nodiscard]] constexpr bool fdt_status_disabled(const unsigned char* bytes, std::size_t value,
                                                 std::size_t length) {
    return !(length == 5 && fdt_str_eq(bytes, value, "okay")) &&
           !(length == 3 && fdt_str_eq(bytes, value, "ok"));
}

}  // namespace detail

/// A blob whose header has been checked: every offset and size below lies
/// inside the first `total` bytes of `bytes`.
struct FdtBlob {
    const unsigned char* bytes = nullptr;
    std::size_t total = 0;
    std::size_t off_struct = 0;
    std::size_t struct_size = 0;
    std::size_t off_strings = 0;
    std::size_t strings_size = 0;
    std::size_t off_rsvmap = 0;
};

/// One property as the walker hands it out: the offset of its NUL-terminated
/// name (checked to end inside the strings block) and of its value, both
/// into the blob's bytes, and the value's length (inside the structure block).
struct FdtProperty {
    std::size_t name = 0;
    std::size_t value = 0;
    std::size_t length = 0;

    /// True when the property's name is `literal`.
    [[nodiscard]] constexpr bool is(const FdtBlob& blob, const char* literal) const {
        return detail::fdt_str_eq(blob.bytes, name, literal);
    }
};

/// Checks a blob's header. Errors: kInvalidArgument for a null blob or a
/// wrong magic number; kBadRegion for a header whose sizes or offsets do not
/// fit the blob or an unsupported version.
[[nodiscard]] constexpr Result<FdtBlob> fdt_open(const void* data, std::size_t size_bytes) {
    if (data == nullptr) {
        return make_error(ErrorKind::kInvalidArgument, "device tree blob is null");
    }
    const auto* bytes = static_cast<const unsigned char*>(data);
    if (size_bytes < kFdtHeaderSizeV16) {
        return make_error(ErrorKind::kBadRegion, "device tree blob is shorter than its header");
    }
    if (detail::be32(bytes, 0) != kFdtMagic) {
        return make_error(ErrorKind::kInvalidArgument, "device tree magic is not 0xd00dfeed");
    }
    FdtBlob blob;
    blob.bytes = bytes;
    blob.total = detail::be32(bytes, 4);
    blob.off_struct = detail::be32(bytes, 8);
    blob.off_strings = detail::be32(bytes, 12);
    blob.off_rsvmap = detail::be32(bytes, 16);
    const std::uint32_t version = detail::be32(bytes, 20);
    const std::uint32_t last_compatible = detail::be32(bytes, 24);
    blob.strings_size = detail::be32(bytes, 32);
    if (version < 16 || last_compatible > 17) {
        return make_error(ErrorKind::kBadRegion, "device tree version is not supported");
    }
    const std::size_t header_size = version >= 17 ? kFdtHeaderSize : kFdtHeaderSizeV16;
    if (blob.total < header_size || blob.total > size_bytes) {
        return make_error(ErrorKind::kBadRegion, "device tree totalsize does not fit the blob");
    }
    if (blob.off_struct < header_size || blob.off_struct % 4 != 0 || blob.off_struct > blob.total) {
        return make_error(ErrorKind::kBadRegion, "device tree structure block is out of bounds");
    }
    // Version 16 has no size_dt_struct: the block may run to the end of the blob.
    blob.struct_size = version >= 17 ? detail::be32(bytes, 36) : blob.total - blob.off_struct;
    if (!detail::fits(blob.total, blob.off_struct, blob.struct_size)) {
        return make_error(ErrorKind::kBadRegion, "device tree structure block is out of bounds");
    }
    if (!detail::fits(blob.total, blob.off_strings, blob.strings_size)) {
        return make_error(ErrorKind::kBadRegion, "device tree strings block is out of bounds");
    }
    if (blob.off_rsvmap < header_size || blob.off_rsvmap % 8 != 0 || blob.off_rsvmap > blob.total) {
        return make_error(ErrorKind::kBadRegion, "device tree reservation map is out of bounds");
    }
    return blob;
}

/// Anything fdt_walk() can report to: begin(depth, name_offset) when a node
/// opens (depth 1 is the root; the name is NUL-terminated inside the block),
/// property(depth, FdtProperty) for each of its properties, end(depth)
/// when it closes. Each returns a Status; an error stops the walk.
template <typename V>
concept FdtVisitor = requires(V& v, std::size_t depth, std::size_t offset, const FdtProperty& p) {
    { v.begin(depth, offset) } -> std::convertible_to<Status>;
    { v.property(depth, p) } -> std::convertible_to<Status>;
    { v.end(depth) } -> std::convertible_to<Status>;
};

/// Walks the structure block of a checked blob once, in tree order. Errors:
/// kBadRegion for a truncated or malformed structure or strings block (a
/// node never closed or closed twice, a second root, an unterminated name,
/// a property running past the block or naming a string outside the strings
/// block, a property after a subnode at depth <= kFdtCheckedDepth, an
/// unknown token); any error the visitor returns.
template <typename Visitor>
requires FdtVisitor<Visitor>
[[nodiscard]] constexpr Status fdt_walk(const FdtBlob& blob, Visitor& visitor) {
    const unsigned char* bytes = blob.bytes;
    const std::size_t end = blob.off_struct + blob.struct_size;
    // has_children[d]: the node open at depth d has had a subnode already.
    bool has_children[kFdtCheckedDepth + 1] = {};
    std::size_t depth = 0;
    bool root_done = false;
    std::size_t at = blob.off_struct;
    while (true) {
        if (!detail::fits(end, at, 4)) {
            return make_error(ErrorKind::kBadRegion, "device tree structure block is truncated");
        }
        const std::uint32_t token = detail::be32(bytes, at);
        at += 4;
        if (token == kFdtNop) {
            continue;
        }
        if (token == kFdtEnd) {
            if (depth != 0 || !root_done) {
                return make_error(ErrorKind::kBadRegion, "device tree ends inside a node");
            }
            return {};
        }
        if (token == kFdtBeginNode) {
            if (depth == 0 && root_done) {
                return make_error(ErrorKind::kBadRegion, "device tree has a second root node");
            }
            const std::size_t name_length = detail::fdt_strnlen(bytes, at, end);
            if (at + name_length >= end) {
                return make_error(ErrorKind::kBadRegion, "device tree node name is unterminated");
            }
            if (depth >= 1 && depth <= kFdtCheckedDepth) {
                has_children[depth] = true;
            }
            ++depth;
            if (depth <= kFdtCheckedDepth) {
                has_children[depth] = false;
            }
            FRAMEALLOC_TRY(static_cast<Status>(visitor.begin(depth, at)));
            at += (name_length + 1 + 3) & ~std::size_t{3};
            continue;
        }
        if (token == kFdtProp) {
            if (depth == 0 || !detail::fits(end, at, 8)) {
                return make_error(ErrorKind::kBadRegion, "device tree property is malformed");
            }
            const std::size_t length = detail::be32(bytes, at);
            const std::size_t name_offset = detail::be32(bytes, at + 4);
            at += 8;
            if (!detail::fits(end, at, length)) {
                return make_error(ErrorKind::kBadRegion,
                                  "device tree property runs past the block");
            }
            if (name_offset >= blob.strings_size ||
                detail::fdt_strnlen(bytes, blob.off_strings + name_offset,
                                    blob.off_strings + blob.strings_size) ==
                    blob.strings_size - name_offset) {
                return make_error(ErrorKind::kBadRegion,
                                  "device tree property name is out of bounds");
            }
            if (depth <= kFdtCheckedDepth && has_children[depth]) {
                // The spec puts properties before subnodes; a late one
                // would change cell counts children were already read with.
                return make_error(ErrorKind::kBadRegion, "device tree property follows a subnode");
            }
            const FdtProperty prop{blob.off_strings + name_offset, at, length};
            FRAMEALLOC_TRY(static_cast<Status>(visitor.property(depth, prop)));
            at += (length + 3) & ~std::size_t{3};
            continue;
        }
        if (token == kFdtEndNode) {
            if (depth == 0) {
                return make_error(ErrorKind::kBadRegion, "device tree closes a node never opened");
            }
            FRAMEALLOC_TRY(static_cast<Status>(visitor.end(depth)));
            --depth;
            if (depth == 0) {
                root_done = true;
            }
            continue;
        }
        return make_error(ErrorKind::kBadRegion, "device tree has an unknown token");
    }
}

}  // namespace framealloc::memmap
