// Parser for a flattened device tree (DTB), the memory description that ARM,
// RISC-V and PowerPC firmware hands the kernel. Free memory is the `reg` of
// the root's memory nodes; reserved memory is the memory reservation block
// plus the `reg` of every child of /reserved-memory. The blob comes from
// firmware and may be truncated or corrupt, so every offset, length and string
// is checked against the header's sizes before it is read: a bad blob gives an
// error, never an out-of-bounds read or an endless loop. The walk is a single
// pass with no recursion and no heap; nothing below depth 2 matters to us, so
// deeper nodes are only counted, never stored.
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

/// What the walk remembers about one node at depth 1 or 2 while its
/// properties are still being read.
struct FdtNode {
    bool named_memory = false;           // "memory" or "memory@..."
    bool named_reserved_memory = false;  // "reserved-memory"
    bool device_type_memory = false;
    bool disabled = false;
    bool has_children = false;
    bool has_reg = false;
    std::size_t reg_offset = 0;
    std::size_t reg_length = 0;
    // The cell counts this node declares for its own children.
    std::uint32_t address_cells = kFdtDefaultAddressCells;
    std::uint32_t size_cells = kFdtDefaultSizeCells;
};

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

/// Emits every (address, size) pair of a `reg` property whose layout the
/// parent described with `address_cells`/`size_cells`.
template <typename Sink>
[[nodiscard]] constexpr Status fdt_emit_reg(const unsigned char* bytes, const FdtNode& node,
                                            std::uint32_t address_cells, std::uint32_t size_cells,
                                            MemoryRegionType type, Sink& sink) {
    if (address_cells == 0 || size_cells == 0 || address_cells > kFdtMaxCells ||
        size_cells > kFdtMaxCells) {
        return make_error(ErrorKind::kBadRegion,
                          "device tree #address-cells/#size-cells unusable for reg");
    }
    const std::size_t pair = std::size_t{4} * (address_cells + size_cells);
    if (node.reg_length % pair != 0) {
        return make_error(ErrorKind::kBadRegion,
                          "device tree reg length is not a multiple of its cell counts");
    }
    for (std::size_t at = node.reg_offset; at < node.reg_offset + node.reg_length; at += pair) {
        auto address = fdt_read_cells(bytes, at, address_cells);
        if (!address.has_value()) {
            return address.error();
        }
        auto size = fdt_read_cells(bytes, at + std::size_t{4} * address_cells, size_cells);
        if (!size.has_value()) {
            return size.error();
        }
        FRAMEALLOC_TRY(emit(sink, address.value(), size.value(), type));
    }
    return {};
}

}  // namespace detail

/// Parses a flattened device tree blob of at most `size_bytes` readable bytes
/// and passes its memory to `sink`: memory-reservation entries (reserved),
/// then, in tree order, the `reg` ranges of root children named memory[@...]
/// or with device_type = "memory" (free) and of the children of
/// /reserved-memory (reserved). Nodes with status = "disabled" are skipped,
/// as Linux does. Cell counts come from the parent; a parent that gives none
/// gets the spec's defaults (2 address cells, 1 size cell).
///
/// Errors: kInvalidArgument for a null blob or a wrong magic number;
/// kBadRegion for a header whose sizes or offsets do not fit the blob, an
/// unsupported version, a truncated or malformed structure or strings block, a
/// reg whose length does not match the cell counts; kOverflow for values that
/// need more than 64 bits or wrap past 2^64; any error the sink returns.
template <typename Sink>
requires RegionSink<Sink>
[[nodiscard]] Status parse_fdt(const void* data, std::size_t size_bytes, Sink&& sink) {
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
    const std::size_t total = detail::be32(bytes, 4);
    const std::size_t off_struct = detail::be32(bytes, 8);
    const std::size_t off_strings = detail::be32(bytes, 12);
    const std::size_t off_rsvmap = detail::be32(bytes, 16);
    const std::uint32_t version = detail::be32(bytes, 20);
    const std::uint32_t last_compatible = detail::be32(bytes, 24);
    const std::size_t strings_size = detail::be32(bytes, 32);
    if (version < 16 || last_compatible > 17) {
        return make_error(ErrorKind::kBadRegion, "device tree version is not supported");
    }
    const std::size_t header_size = version >= 17 ? kFdtHeaderSize : kFdtHeaderSizeV16;
    if (total < header_size || total > size_bytes) {
        return make_error(ErrorKind::kBadRegion, "device tree totalsize does not fit the blob");
    }
    if (off_struct < header_size || off_struct % 4 != 0 || off_struct > total) {
        return make_error(ErrorKind::kBadRegion, "device tree structure block is out of bounds");
    }
    // Version 16 has no size_dt_struct: the block may run to the end of the blob.
    const std::size_t struct_size = version >= 17 ? detail::be32(bytes, 36) : total - off_struct;
    if (!detail::fits(total, off_struct, struct_size)) {
        return make_error(ErrorKind::kBadRegion, "device tree structure block is out of bounds");
    }
    if (!detail::fits(total, off_strings, strings_size)) {
        return make_error(ErrorKind::kBadRegion, "device tree strings block is out of bounds");
    }
    if (off_rsvmap < header_size || off_rsvmap % 8 != 0 || off_rsvmap > total) {
        return make_error(ErrorKind::kBadRegion, "device tree reservation map is out of bounds");
    }

    // The memory reservation block: (address, size) pairs ended by (0, 0).
    for (std::size_t at = off_rsvmap;; at += 16) {
        if (!detail::fits(total, at, 16)) {
            return make_error(ErrorKind::kBadRegion, "device tree reservation map has no end");
        }
        const std::uint64_t address = detail::be64(bytes, at);
        const std::uint64_t size = detail::be64(bytes, at + 8);
        if (address == 0 && size == 0) {
            break;
        }
        FRAMEALLOC_TRY(detail::emit(sink, address, size, MemoryRegionType::kReserved));
    }

    // The structure block. Depth 0 is outside the root, 1 is the root, 2 its
    // children, 3 grandchildren; only the first three are remembered.
    const std::size_t end = off_struct + struct_size;
    detail::FdtNode nodes[4] = {};
    std::size_t depth = 0;
    bool root_done = false;
    std::size_t at = off_struct;
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
            if (depth >= 1 && depth <= 3) {
                nodes[depth].has_children = true;  // the node being entered's parent
            }
            ++depth;
            if (depth <= 3) {
                nodes[depth] = detail::FdtNode{};
                nodes[depth].named_memory = depth == 2 && detail::fdt_name_is(bytes, at, "memory");
                nodes[depth].named_reserved_memory =
                    depth == 2 && detail::fdt_str_eq(bytes, at, "reserved-memory");
            }
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
            if (name_offset >= strings_size ||
                detail::fdt_strnlen(bytes, off_strings + name_offset, off_strings + strings_size) ==
                    strings_size - name_offset) {
                return make_error(ErrorKind::kBadRegion,
                                  "device tree property name is out of bounds");
            }
            if (depth <= 3) {
                detail::FdtNode& node = nodes[depth];
                if (node.has_children) {
                    // The spec puts properties before subnodes; a late one
                    // would change cell counts children were already read with.
                    return make_error(ErrorKind::kBadRegion,
                                      "device tree property follows a subnode");
                }
                const std::size_t name = off_strings + name_offset;
                if (detail::fdt_str_eq(bytes, name, "reg")) {
                    node.has_reg = true;
                    node.reg_offset = at;
                    node.reg_length = length;
                } else if (const bool is_address =
                               detail::fdt_str_eq(bytes, name, "#address-cells");
                           is_address || detail::fdt_str_eq(bytes, name, "#size-cells")) {
                    if (length != 4) {
                        return make_error(ErrorKind::kBadRegion,
                                          "device tree cell count is not one u32");
                    }
                    (is_address ? node.address_cells : node.size_cells) = detail::be32(bytes, at);
                } else if (detail::fdt_str_eq(bytes, name, "device_type")) {
                    node.device_type_memory =
                        length == 7 && detail::fdt_str_eq(bytes, at, "memory");
                } else if (detail::fdt_str_eq(bytes, name, "status")) {
                    // Only "okay" / "ok" (or no status at all) mean the node is in use.
                    node.disabled = !(length == 5 && detail::fdt_str_eq(bytes, at, "okay")) &&
                                    !(length == 3 && detail::fdt_str_eq(bytes, at, "ok"));
                }
            }
            at += (length + 3) & ~std::size_t{3};
            continue;
        }
        if (token == kFdtEndNode) {
            if (depth == 0) {
                return make_error(ErrorKind::kBadRegion, "device tree closes a node never opened");
            }
            if (depth == 2 || depth == 3) {
                const detail::FdtNode& node = nodes[depth];
                const detail::FdtNode& parent = nodes[depth - 1];
                const bool is_memory = depth == 2 && (node.named_memory || node.device_type_memory);
                const bool is_reserved = depth == 3 && parent.named_reserved_memory;
                if (node.has_reg && !node.disabled && (is_memory || is_reserved)) {
                    FRAMEALLOC_TRY(detail::fdt_emit_reg(
                        bytes, node, parent.address_cells, parent.size_cells,
                        is_memory ? MemoryRegionType::kFree : MemoryRegionType::kReserved, sink));
                }
            }
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
