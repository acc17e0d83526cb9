// libFuzzer target: raw bytes as an ACPI SLIT into parse_slit(). An accepted
// matrix must fit the buffer and keep the rules parse_slit() promises (10 on
// the diagonal, more than 10 elsewhere), entry by entry and in copy_to().
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "framealloc/memmap/slit.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace framealloc;
    const auto slit = memmap::parse_slit(data, size);
    if (!slit) {
        return 0;
    }
    const std::uint64_t n = slit->localities;
    if (n == 0 || memmap::kSlitHeaderSize + n * n > size) {
        std::fprintf(stderr, "slit fuzz: matrix of %llu localities does not fit %zu bytes\n",
                     static_cast<unsigned long long>(n), size);
        std::abort();
    }
    std::vector<std::uint8_t> copy(n * n);
    if (!slit->copy_to(Span<std::uint8_t>(copy.data(), copy.size()))) {
        std::abort();
    }
    const Status walk = slit->for_each([&](const memmap::NumaDistance& d) {
        const bool ok = d.from == d.to ? d.distance == 10 : d.distance > 10;
        if (!ok || copy[d.from * n + d.to] != d.distance) {
            std::fprintf(stderr, "slit fuzz: entry (%u, %u) = %u breaks the rules\n", d.from, d.to,
                         d.distance);
            std::abort();
        }
        return Status{};
    });
    if (!walk) {
        std::abort();
    }
    return 0;
}
