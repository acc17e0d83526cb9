// The part of the demo kernel every boot path shares: once a boot path has
// turned its firmware's memory map into regions (and reserved what its loader
// or firmware still uses), run_kernel brings up memory, runs the self-test,
// prints the summary line the tests look for and leaves QEMU.
#pragma once

#include <cstdint>

#include "memory.hpp"

namespace kernel {

[[noreturn]] void run_kernel(BootRegions& regions, std::uint64_t image_start,
                             std::uint64_t image_bytes);

}  // namespace kernel
