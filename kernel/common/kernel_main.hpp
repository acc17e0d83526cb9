// The part of the demo kernel every boot path shares: once a boot path has
// turned its firmware's memory map into regions (and reserved what its loader
// or firmware still uses), run_kernel brings up memory, runs the self-test,
// prints the summary line the tests look for and leaves QEMU.
#pragma once

#include <cstdint>

#include "memory.hpp"

namespace kernel {

/// Boot-path additions to the shared sequence (the Multiboot kernel's SMP
/// bring-up and tests). Either hook may be null.
struct BootExtras {
    /// Runs right after framealloc's init, before anything else allocates.
    void (*after_allocator_init)() = nullptr;
    /// Runs after the single-CPU self-test passed; panics on failure.
    void (*after_selftest)() = nullptr;
};

[[noreturn]] void run_kernel(BootRegions& regions, std::uint64_t image_start,
                             std::uint64_t image_bytes, const BootExtras& extras = {});

}  // namespace kernel
