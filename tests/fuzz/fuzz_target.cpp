// libFuzzer entry point: the input bytes drive the differential driver
// (tests/reliability/differential.hpp) against the reference model, with a
// full comparison after every operation. A difference prints the driver's
// message (op index, op, both answers) and aborts, so libFuzzer saves the
// input as a crash reproducer.
#include <cstdint>
#include <cstdio>
#include <cstdlib>

#include "differential.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    framealloc::reliability::ByteSource source(data, size);
    framealloc::reliability::DiffOptions options;
    options.check_every = 1;
    options.max_ops = 20000;
    const auto result = framealloc::reliability::run_differential(source, options);
    if (!result.ok) {
        std::fprintf(stderr, "framealloc differs from the reference model:\n%s\n",
                     result.failure.c_str());
        std::abort();
    }
    return 0;
}
