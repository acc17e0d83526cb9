// libFuzzer target: raw bytes as a flattened device tree into
// parse_fdt_numa(). Accepted memory ranges must not wrap and accepted
// distances must keep the binding's rules; the ranges, as free regions, then
// go through parser_fuzz.hpp's exercise().
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>

#include "framealloc/memmap/fdt_numa.hpp"
#include "parser_fuzz.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace framealloc;
    fuzz::Collected regions;
    const Status st = memmap::parse_fdt_numa(
        data, size,
        [&](const memmap::NumaMemoryRange& r) {
            if (r.length == 0 || r.length - 1 > ~std::uint64_t{0} - r.base) {
                std::fprintf(stderr, "fdt numa fuzz: an empty or wrapping range was reported\n");
                std::abort();
            }
            return memmap::detail::emit(regions, r.base, r.length, MemoryRegionType::kFree);
        },
        [](const memmap::NumaCpu&) { return Status{}; },
        [](const memmap::NumaDistance& d) {
            if (d.from == d.to ? d.distance != 10 : d.distance <= 10) {
                std::fprintf(stderr, "fdt numa fuzz: distance (%u, %u) = %u accepted\n", d.from,
                             d.to, d.distance);
                std::abort();
            }
            return Status{};
        });
    if (st) {
        fuzz::exercise(regions);
    }
    return 0;
}
