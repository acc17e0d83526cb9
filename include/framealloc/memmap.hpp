// Umbrella header for the firmware memory-map parsers: e820, UEFI, Multiboot
// 1/2 and flattened device trees, the NUMA tables (ACPI SRAT and SLIT, the
// device tree's numa-node-id and distance-map) and the split of a map by
// node, plus the fixed-capacity RegionList sink.
// Everything here is freestanding and header-only, so a kernel can turn the
// map its loader gave it into allocator regions before any heap exists.
#pragma once

#include "framealloc/memmap/acpi_table.hpp"
#include "framealloc/memmap/common.hpp"
#include "framealloc/memmap/e820.hpp"
#include "framealloc/memmap/fdt.hpp"
#include "framealloc/memmap/fdt_numa.hpp"
#include "framealloc/memmap/fdt_walk.hpp"
#include "framealloc/memmap/multiboot.hpp"
#include "framealloc/memmap/node_regions.hpp"
#include "framealloc/memmap/numa.hpp"
#include "framealloc/memmap/region_list.hpp"
#include "framealloc/memmap/slit.hpp"
#include "framealloc/memmap/srat.hpp"
#include "framealloc/memmap/uefi.hpp"
