// libFuzzer target: raw bytes as a flattened device tree blob into
// parse_fdt() (/memory nodes free, /reserved-memory children and the
// reservation block reserved).
#include <cstddef>
#include <cstdint>

#include "framealloc/memmap/fdt.hpp"
#include "parser_fuzz.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    framealloc::fuzz::Collected regions;
    if (framealloc::memmap::parse_fdt(data, size, regions)) {
        framealloc::fuzz::exercise(regions);
    }
    return 0;
}
