// Per-CPU data of the x86_64 kernels. Every CPU's GS base points at its own
// CpuLocal (the BSP's is set in traps_init, an AP's by its entry code), so the
// running CPU finds its record, and its dense index 0..N-1, with one
// GS-relative load. Before traps_init runs (the UEFI boot prints before it
// takes over the machine) everything reads as CPU 0.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

namespace kernel {

inline constexpr unsigned kMaxCpus = 16;

struct CpuLocal {
    CpuLocal* self = nullptr;  // at offset 0: this_cpu() reads it through GS
    std::uint32_t index = 0;
    std::uint32_t apic_id = 0;
    /// Interrupt-masking locks this CPU holds right now (IrqSpinLock).
    std::uint32_t locks_held = 0;
    /// Above zero while this CPU's self-test code is inside a framealloc call.
    std::uint32_t framealloc_depth = 0;
    /// Timer interrupt statistics (smp_irq.cpp).
    std::uint64_t timer_ticks = 0;
    std::uint64_t nested_calls = 0;
    std::uint64_t irq_allocations = 0;
    std::uint64_t irq_huge = 0;
    std::uint64_t irq_busy_rejected = 0;
    std::uint64_t irq_capacity_exhausted = 0;
    std::uint64_t irq_failures = 0;
    /// This CPU's GDT: null, 64-bit code, data.
    std::uint64_t gdt[3] = {};
};

namespace detail {
extern CpuLocal g_cpus[kMaxCpus];
inline constinit bool g_cpu_local_ready = false;
}  // namespace detail

/// The running CPU's record.
[[nodiscard]] inline CpuLocal* this_cpu() {
    if (!detail::g_cpu_local_ready) {
        return &detail::g_cpus[0];
    }
    CpuLocal* self;
    asm volatile("movq %%gs:0, %0" : "=r"(self));
    return self;
}

/// The running CPU's dense index (0 = the boot CPU).
[[nodiscard]] inline unsigned cpu_index() {
    return this_cpu()->index;
}

/// Record `index` (for the smp code; 0 is the boot CPU).
[[nodiscard]] inline CpuLocal& cpu_local(unsigned index) {
    return detail::g_cpus[index];
}

/// Points GS at `cpu`; from then on this_cpu() on this CPU returns it.
void cpu_local_install(CpuLocal& cpu);

}  // namespace kernel
