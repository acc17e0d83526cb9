// The local APIC timer interrupt of the multiprocessor test, whose handler
// allocates from the kernel's frame allocator on every tick. Its statistics
// go to the running CPU's record (cpu_local.hpp): ticks, ticks that
// interrupted the CPU's own framealloc call (the self-test raises
// `framealloc_depth` around each call), and what the handler allocated.
#pragma once

#include <cstdint>

namespace kernel::smp_irq {

/// Installs the timer and spurious-interrupt gates in the shared IDT. Boot
/// CPU, once. `busy_address` is a frame that stays allocated for the whole
/// run (the handler's allocate_frames_at must fail on it with "address in
/// use"); with `check_locks` the handler panics when its CPU holds a lock,
/// which an interrupt-masking lock makes impossible.
void install(std::uint64_t busy_address, bool check_locks);

/// Turns the handler's framealloc work on or off, for every CPU.
void set_work(bool on);

/// The calling CPU's timer in periodic mode at `hz`, interrupts enabled.
void start_on_this_cpu(std::uint32_t hz);

/// Masks interrupts on the calling CPU and stops its timer.
void stop_on_this_cpu();

}  // namespace kernel::smp_irq
