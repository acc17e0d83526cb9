// Application-processor bring-up for the Multiboot kernel: the CPU list from
// the ACPI MADT, INIT-SIPI-SIPI through the xAPIC, a real-mode trampoline page
// below 1 MiB claimed from framealloc by address, per-CPU stacks allocated
// from framealloc, a GDT per CPU, the shared IDT, and a dense CPU index behind
// GS (cpu_local.hpp) that framealloc_cpu_id returns. Once started, an AP runs
// whatever job the boot CPU posts (run_on_all_cpus) until it is parked.
#pragma once

#include <cstdint>

#include "multiboot.hpp"

namespace kernel::smp {

/// Claims the trampoline page with allocate_frames_at; call right after
/// framealloc's init, before anything else can allocate. The page is the
/// lowest one from 0x1000 up that no loader data in `boot` overlaps.
void claim_trampoline(const BootInfo& boot);

/// Reads the MADT, calibrates the time base and starts every AP it lists,
/// one at a time. Returns the number of CPUs online, the boot CPU included.
/// Panics if an AP does not come up.
unsigned start_all_cpus();

/// CPUs online (1 before start_all_cpus()).
[[nodiscard]] unsigned cpu_count();

/// Runs job(cpu_index, context) on every online CPU at once, the boot CPU
/// included, and returns when all have finished.
void run_on_all_cpus(void (*job)(unsigned cpu, void* context), void* context);

/// Stops the APs: each switches its timer off, masks interrupts and halts for
/// good. Returns once all of them have.
void park_aps();

}  // namespace kernel::smp
