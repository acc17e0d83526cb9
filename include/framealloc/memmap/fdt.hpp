// Parser for a flattened device tree (DTB), the memory description that ARM,
// RISC-V and PowerPC firmware hands the kernel. Free memory is the `reg` of
// the root's memory nodes; reserved memory is the memory reservation block
// plus the `reg` of every child of /reserved-memory. The blob comes from
// firmware and may be truncated or corrupt, so every offset, length and string
// is checked before it is read (fdt_walk.hpp's walker does the checking): a bad
// blob gives an error, never an out-of-bounds read or an endless loop. Nothing
// below depth 3 matters here, so deeper nodes are only counted, never stored.
#pragma once

#include <cstddef>
#include <cstdint>

#include "framealloc/memmap/common.hpp"
#include "framealloc/memmap/fdt_walk.hpp"

namespace framealloc::memmap {

namespace detail {

/// What parse_fdt() remembers about one node at depth 1 to 3 while its
/// properties are still being read.
struct FdtNode {
    bool named_memory = false;           // "memory" or "memory@..."
    bool named_reserved_memory = false;  // "reserved-memory"
    bool device_type_memory = false;
    bool disabled = false;
    bool has_reg = false;
    std::size_t reg_offset = 0;
    std::size_t reg_length = 0;
    // The cell counts this node declares for its own children.
    std::uint32_t address_cells = kFdtDefaultAddressCells;
    std::uint32_t size_cells = kFdtDefaultSizeCells;
};

/// Emits every (address, size) pair of a `reg` property whose layout the
/// parent described with `address_cells`/`size_cells`.
template <typename Sink>
[[nodiscard]] constexpr Status fdt_emit_reg(const unsigned char* bytes, const FdtNode& node,
                                            std::uint32_t address_cells, std::uint32_t size_cells,
                                            MemoryRegionType type, Sink& sink) {
    return fdt_for_each_reg(
        bytes, node.reg_offset, node.reg_length, address_cells, size_cells,
        [&](std::uint64_t address, std::uint64_t size) { return emit(sink, address, size, type); });
}

/// The visitor of parse_fdt(): remembers depths 1 to 3 and emits a memory
/// node's or a /reserved-memory child's reg when it closes.
template <typename Sink>
struct FdtMemoryVisitor {
    const FdtBlob& blob;
    Sink& sink;
    FdtNode nodes[kFdtCheckedDepth + 1] = {};

    constexpr Status begin(std::size_t depth, std::size_t name) {
        if (depth <= kFdtCheckedDepth) {
            nodes[depth] = FdtNode{};
            nodes[depth].named_memory = depth == 2 && fdt_name_is(blob.bytes, name, "memory");
            nodes[depth].named_reserved_memory =
                depth == 2 && fdt_str_eq(blob.bytes, name, "reserved-memory");
        }
        return {};
    }

    constexpr Status property(std::size_t depth, const FdtProperty& prop) {
        if (depth > kFdtCheckedDepth) {
            return {};
        }
        FdtNode& node = nodes[depth];
        const unsigned char* bytes = blob.bytes;
        if (prop.is(blob, "reg")) {
            node.has_reg = true;
            node.reg_offset = prop.value;
            node.reg_length = prop.length;
        } else if (const bool is_address = prop.is(blob, "#address-cells");
                   is_address || prop.is(blob, "#size-cells")) {
            if (prop.length != 4) {
                return make_error(ErrorKind::kBadRegion, "device tree cell count is not one u32");
            }
            (is_address ? node.address_cells : node.size_cells) = be32(bytes, prop.value);
        } else if (prop.is(blob, "device_type")) {
            node.device_type_memory = prop.length == 7 && fdt_str_eq(bytes, prop.value, "memory");
        } else if (prop.is(blob, "status")) {
            node.disabled = fdt_status_disabled(bytes, prop.value, prop.length);
        }
        return {};
    }

    constexpr Status end(std::size_t depth) {
        if (depth != 2 && depth != 3) {
            return {};
        }
        const FdtNode& node = nodes[depth];
        const FdtNode& parent = nodes[depth - 1];
        const bool is_memory = depth == 2 && (node.named_memory || node.device_type_memory);
        const bool is_reserved = depth == 3 && parent.named_reserved_memory;
        if (node.has_reg && !node.disabled && (is_memory || is_reserved)) {
            return fdt_emit_reg(blob.bytes, node, parent.address_cells, parent.size_cells,
                                is_memory ? MemoryRegionType::kFree : MemoryRegionType::kReserved,
                                sink);
        }
        return {};
    }
};

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
    auto opened = fdt_open(data, size_bytes);
    if (!opened) {
        return opened.error();
    }
    const FdtBlob& blob = opened.value();

    // The memory reservation block: (address, size) pairs ended by (0, 0).
    for (std::size_t at = blob.off_rsvmap;; at += 16) {
        if (!detail::fits(blob.total, at, 16)) {
            return make_error(ErrorKind::kBadRegion, "device tree reservation map has no end");
        }
        const std::uint64_t address = detail::be64(blob.bytes, at);
        const std::uint64_t size = detail::be64(blob.bytes, at + 8);
        if (address == 0 && size == 0) {
            break;
        }
        FRAMEALLOC_TRY(detail::emit(sink, address, size, MemoryRegionType::kReserved));
    }

    detail::FdtMemoryVisitor<Sink> visitor{blob, sink};
    return fdt_walk(blob, visitor);
}

}  // namespace framealloc::memmap
