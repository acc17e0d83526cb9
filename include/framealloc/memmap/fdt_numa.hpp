// Reader of the NUMA description in a flattened device tree, following the
// kernel's devicetree binding (Documentation/devicetree/bindings/numa.txt):
// a `numa-node-id` u32 on each /memory node and each /cpus/cpu node, and an
// optional /distance-map node whose `distance-matrix` is a list of
// (from, to, distance) u32 triplets. It shares fdt_walk.hpp's walker with
// parse_fdt(), so the blob gets the same checks; nodes with status =
// "disabled" are skipped, and memory or CPUs without a numa-node-id are
// simply not reported (a kernel then puts them on node 0, as Linux does).
#pragma once

#include <cstddef>
#include <cstdint>

#include "framealloc/memmap/common.hpp"
#include "framealloc/memmap/fdt_walk.hpp"
#include "framealloc/memmap/numa.hpp"

namespace framealloc::memmap {

namespace detail {

/// What the NUMA walk remembers about one node at depth 1 to 3.
struct FdtNumaNode {
    bool memory = false;        // memory[@...] or device_type = "memory" (depth 2)
    bool cpus = false;          // "cpus" (depth 2)
    bool cpu = false;           // cpu[@...] or device_type = "cpu" (depth 3)
    bool distance_map = false;  // "distance-map" (depth 2)
    bool disabled = false;
    bool has_node_id = false;
    std::uint32_t node_id = 0;
    std::size_t reg_offset = 0;
    std::size_t reg_length = 0;
    std::size_t matrix_offset = 0;
    std::size_t matrix_length = 0;
    std::uint32_t address_cells = kFdtDefaultAddressCells;
    std::uint32_t size_cells = kFdtDefaultSizeCells;
};

template <typename MemorySink, typename CpuSink, typename DistanceSink>
struct FdtNumaVisitor {
    const FdtBlob& blob;
    MemorySink& memory;
    CpuSink& cpus;
    DistanceSink& distances;
    FdtNumaNode nodes[kFdtCheckedDepth + 1] = {};

    constexpr Status begin(std::size_t depth, std::size_t name) {
        if (depth > kFdtCheckedDepth) {
            return {};
        }
        FdtNumaNode& node = nodes[depth] = FdtNumaNode{};
        if (depth == 2) {
            node.memory = fdt_name_is(blob.bytes, name, "memory");
            node.cpus = fdt_str_eq(blob.bytes, name, "cpus");
            node.distance_map = fdt_name_is(blob.bytes, name, "distance-map");
        } else if (depth == 3) {
            node.cpu = nodes[2].cpus && fdt_name_is(blob.bytes, name, "cpu");
        }
        return {};
    }

    constexpr Status property(std::size_t depth, const FdtProperty& prop) {
        if (depth > kFdtCheckedDepth) {
            return {};
        }
        FdtNumaNode& node = nodes[depth];
        const unsigned char* bytes = blob.bytes;
        if (prop.is(blob, "reg")) {
            node.reg_offset = prop.value;
            node.reg_length = prop.length;
        } else if (prop.is(blob, "numa-node-id")) {
            if (prop.length != 4) {
                return make_error(ErrorKind::kBadRegion, "device tree numa-node-id is not one u32");
            }
            node.has_node_id = true;
            node.node_id = be32(bytes, prop.value);
        } else if (prop.is(blob, "distance-matrix")) {
            node.matrix_offset = prop.value;
            node.matrix_length = prop.length;
        } else if (const bool is_address = prop.is(blob, "#address-cells");
                   is_address || prop.is(blob, "#size-cells")) {
            if (prop.length != 4) {
                return make_error(ErrorKind::kBadRegion, "device tree cell count is not one u32");
            }
            (is_address ? node.address_cells : node.size_cells) = be32(bytes, prop.value);
        } else if (prop.is(blob, "device_type")) {
            if (depth == 2 && prop.length == 7 && fdt_str_eq(bytes, prop.value, "memory")) {
                node.memory = true;
            }
            if (depth == 3 && nodes[2].cpus && prop.length == 4 &&
                fdt_str_eq(bytes, prop.value, "cpu")) {
                node.cpu = true;
            }
        } else if (prop.is(blob, "status")) {
            node.disabled = fdt_status_disabled(bytes, prop.value, prop.length);
        }
        return {};
    }

    constexpr Status end(std::size_t depth) {
        if (depth != 2 && depth != 3) {
            return {};
        }
        const FdtNumaNode& node = nodes[depth];
        const FdtNumaNode& parent = nodes[depth - 1];
        if (node.disabled) {
            return {};
        }
        if (depth == 2 && node.memory && node.has_node_id) {
            return emit_memory(node, parent);
        }
        if (depth == 3 && node.cpu && node.has_node_id) {
            return emit_cpu(node, parent);
        }
        if (depth == 2 && node.distance_map && node.matrix_length != 0) {
            return emit_distances(node);
        }
        return {};
    }

    [[nodiscard]] constexpr Status emit_memory(const FdtNumaNode& node, const FdtNumaNode& parent) {
        return fdt_for_each_reg(
            blob.bytes, node.reg_offset, node.reg_length, parent.address_cells, parent.size_cells,
            [&](std::uint64_t base, std::uint64_t size) -> Status {
                if (size == 0) {
                    return {};
                }
                if (size - 1 > ~std::uint64_t{0} - base) {
                    return make_error(ErrorKind::kOverflow,
                                      "device tree memory range wraps past the top of the "
                                      "address space");
                }
                return static_cast<Status>(
                    memory(NumaMemoryRange{base, size, node.node_id, false, false}));
            });
    }

    [[nodiscard]] constexpr Status emit_cpu(const FdtNumaNode& node, const FdtNumaNode& parent) {
        const std::uint32_t ac = parent.address_cells;
        if (ac == 0 || ac > 2) {
            return make_error(ErrorKind::kBadRegion,
                              "device tree /cpus #address-cells is not 1 or 2");
        }
        if (node.reg_length < std::size_t{4} * ac) {
            return make_error(ErrorKind::kBadRegion, "device tree cpu node has no usable reg");
        }
        auto id = fdt_read_cells(blob.bytes, node.reg_offset, ac);
        if (!id) {
            return id.error();
        }
        return static_cast<Status>(
            cpus(NumaCpu{id.value(), node.node_id, NumaCpu::IdKind::kDeviceTree}));
    }

    [[nodiscard]] constexpr Status emit_distances(const FdtNumaNode& node) {
        if (node.matrix_length % 12 != 0) {
            return make_error(ErrorKind::kBadRegion,
                              "device tree distance-matrix is not a list of u32 triplets");
        }
        for (std::size_t at = node.matrix_offset; at < node.matrix_offset + node.matrix_length;
             at += 12) {
            const NumaDistance entry{be32(blob.bytes, at), be32(blob.bytes, at + 4),
                                     be32(blob.bytes, at + 8)};
            if (entry.from == entry.to && entry.distance != kNumaLocalDistance) {
                return make_error(ErrorKind::kBadRegion,
                                  "device tree distance of a node to itself is not 10");
            }
            if (entry.from != entry.to && entry.distance <= kNumaLocalDistance) {
                return make_error(ErrorKind::kBadRegion,
                                  "device tree distance between two nodes is not above 10");
            }
            FRAMEALLOC_TRY(static_cast<Status>(distances(entry)));
        }
        return {};
    }
};

}  // namespace detail

/// Reads the NUMA description of a flattened device tree blob of at most
/// `size_bytes` readable bytes, in tree order: each `reg` range of a
/// /memory node with a numa-node-id goes to `memory`; each /cpus/cpu node
/// with a numa-node-id goes to `cpus` (its id is the first `reg` entry, read
/// with /cpus's #address-cells, 1 or 2); each triplet of
/// /distance-map's distance-matrix goes to `distances`.
///
/// Errors: those of fdt_open() and fdt_walk(); kBadRegion for a
/// numa-node-id or cell count that is not one u32, a memory reg that does not
/// match its cell counts, a cpu without a usable reg, a distance-matrix that
/// is not whole triplets or gives a node a distance to itself other than 10
/// or to another node of 10 or less; kOverflow for values past 64 bits or a
/// range that wraps; any error a sink returns (the walk stops there).
template <typename MemorySink, typename CpuSink, typename DistanceSink>
requires NumaMemorySink<MemorySink> && NumaCpuSink<CpuSink> && NumaDistanceSink<DistanceSink>
[[nodiscard]] constexpr Status parse_fdt_numa(const void* data, std::size_t size_bytes,
                                              MemorySink&& memory, CpuSink&& cpus,
                                              DistanceSink&& distances) {
    auto opened = fdt_open(data, size_bytes);
    if (!opened) {
        return opened.error();
    }
    detail::FdtNumaVisitor<MemorySink, CpuSink, DistanceSink> visitor{opened.value(), memory, cpus,
                                                                      distances};
    return fdt_walk(opened.value(), visitor);
}

}  // namespace framealloc::memmap
