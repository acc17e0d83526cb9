// The multiprocessor part of the Multiboot kernel's self-test: every CPU
// allocates from the one kernel frame allocator at once, hands allocations to
// other CPUs through a locked queue, and (with the timer on) allocates from a
// local APIC timer interrupt that keeps arriving while the CPU's own
// framealloc calls are in progress. Panics on any failure.
#pragma once

#include <cstdint>

namespace kernel::smp_test {

struct Options {
    /// LAPIC timer on every CPU during the test, its handler allocating.
    bool timer = false;
    std::uint32_t timer_hz = 10000;
    /// Operations per CPU.
    unsigned operations = 4000;
    /// Nested interrupt-time calls required (timer on only). How many timer
    /// interrupts a CPU sees depends on how often QEMU's main loop gets the
    /// host CPU, so with the timer on the CPUs keep going, 200 operations at
    /// a time, until the total is reached or `max_seconds` have passed.
    std::uint64_t min_nested_calls = 1000;
    unsigned max_seconds = 20;
    /// Harness only: the timer handler does not check that its CPU holds no
    /// lock, so a broken lock runs into the lock's own self-deadlock check.
    bool skip_lock_check = false;
};

/// Starts every CPU (smp::start_all_cpus), runs the test on all of them,
/// parks the APs and checks the allocator: check() passes and every frame
/// is back. Prints per-CPU counts.
void run(const Options& options);

}  // namespace kernel::smp_test
