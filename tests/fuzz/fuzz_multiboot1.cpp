// libFuzzer target: raw bytes into parse_multiboot1_mmap() (the buffer at
// mmap_addr, mmap_length bytes long).
#include <cstddef>
#include <cstdint>

#include "framealloc/memmap/multiboot.hpp"
#include "parser_fuzz.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    framealloc::fuzz::Collected regions;
    if (framealloc::memmap::parse_multiboot1_mmap(data, size, regions)) {
        framealloc::fuzz::exercise(regions);
    }
    return 0;
}
