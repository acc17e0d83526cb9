// libFuzzer target: raw bytes as a whole Multiboot 2 information structure
// into parse_multiboot2_info(), so the tag walk and the mmap tag parser are
// both fuzzed.
#include <cstddef>
#include <cstdint>

#include "framealloc/memmap/multiboot.hpp"
#include "parser_fuzz.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    framealloc::fuzz::Collected regions;
    if (framealloc::memmap::parse_multiboot2_info(data, size, regions)) {
        framealloc::fuzz::exercise(regions);
    }
    return 0;
}
