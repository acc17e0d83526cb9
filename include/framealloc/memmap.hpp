// Umbrella header for the firmware memory-map parsers: e820, UEFI, Multiboot
// 1/2 and flattened device trees, plus the fixed-capacity RegionList sink.
// Everything here is freestanding and header-only, so a kernel can turn the
// map its loader gave it into allocator regions before any heap exists.
#pragma once

#include "framealloc/memmap/common.hpp"
#include "framealloc/memmap/e820.hpp"
#include "framealloc/memmap/fdt.hpp"
#include "framealloc/memmap/multiboot.hpp"
#include "framealloc/memmap/region_list.hpp"
#include "framealloc/memmap/uefi.hpp"
