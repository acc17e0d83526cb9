// libFuzzer target: raw bytes into parse_e820(). The first byte picks the
// entry size (20-byte BIOS entries or 24-byte ACPI 3.0 ones); the rest is the
// table. Whatever parses goes through parser_fuzz.hpp's init/check/compare.
#include <cstddef>
#include <cstdint>

#include "framealloc/memmap/e820.hpp"
#include "parser_fuzz.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) {
        return 0;
    }
    const std::size_t entry = (data[0] & 1) != 0 ? framealloc::memmap::kE820ExtendedEntrySize
                                                 : framealloc::memmap::kE820EntrySize;
    framealloc::fuzz::Collected regions;
    if (framealloc::memmap::parse_e820(data + 1, size - 1, entry, regions)) {
        framealloc::fuzz::exercise(regions);
    }
    return 0;
}
