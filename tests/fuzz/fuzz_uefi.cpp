// libFuzzer target: raw bytes into parse_uefi(). The first byte picks the
// descriptor stride (40 to 104 bytes: firmware may append fields, so the
// parser must honour any stride of at least 40); the rest is the map.
#include <cstddef>
#include <cstdint>

#include "framealloc/memmap/uefi.hpp"
#include "parser_fuzz.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) {
        return 0;
    }
    const std::size_t stride = 40 + (data[0] % 65);
    framealloc::fuzz::Collected regions;
    if (framealloc::memmap::parse_uefi(data + 1, size - 1, stride, regions)) {
        framealloc::fuzz::exercise(regions);
    }
    return 0;
}
