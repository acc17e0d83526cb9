// libFuzzer target: raw bytes as a boot log into the hosted text reader
// (tools/memmap), format detected from the content, as framealloc-sim's
// `regions` command reads it.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "memmap_text.hpp"
#include "parser_fuzz.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    const auto parsed = framealloc::memmap_text::parse_memory_map(text);
    if (!parsed.ok()) {
        return 0;
    }
    framealloc::fuzz::Collected regions;
    regions.free = parsed.map().free;
    regions.reserved = parsed.map().reserved;
    framealloc::fuzz::exercise(regions);
    return 0;
}
