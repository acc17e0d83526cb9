// libFuzzer target: raw bytes as an ACPI SRAT into parse_srat(). Whatever it
// accepts must report only enabled, non-wrapping ranges; the ranges, as free
// regions, then go through parser_fuzz.hpp's exercise() (init, check, free
// total against an independent count).
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>

#include "framealloc/memmap/srat.hpp"
#include "parser_fuzz.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace framealloc;
    fuzz::Collected regions;
    const Status st = memmap::parse_srat(
        data, size,
        [&](const memmap::NumaMemoryRange& r) {
            if (r.length == 0 || r.length - 1 > ~std::uint64_t{0} - r.base) {
                std::fprintf(stderr, "srat fuzz: an empty or wrapping range was reported\n");
                std::abort();
            }
            return memmap::detail::emit(regions, r.base, r.length, MemoryRegionType::kFree);
        },
        [](const memmap::NumaCpu&) { return Status{}; });
    if (st) {
        fuzz::exercise(regions);
    }
    return 0;
}
