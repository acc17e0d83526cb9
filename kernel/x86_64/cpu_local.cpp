// Per-CPU records (cpu_local.hpp) and the lock checks of irq_lock.hpp.
#include "cpu_local.hpp"

#include "console.hpp"
#include "irq_lock.hpp"

namespace kernel {

namespace detail {
constinit CpuLocal g_cpus[kMaxCpus];

void lock_self_deadlock(const void* lock, unsigned cpu) {
    kpanic(
        "cpu %u asked for lock %p, which it holds itself: an interrupt arrived while the "
        "lock was held (a lock that does not mask interrupts); this CPU would spin forever",
        cpu, lock);
}
}  // namespace detail

namespace {
constexpr std::uint32_t kMsrGsBase = 0xc0000101;
}  // namespace

void cpu_local_install(CpuLocal& cpu) {
    cpu.self = &cpu;
    const auto base = reinterpret_cast<std::uint64_t>(&cpu);
    asm volatile("wrmsr"
                 :
                 : "c"(kMsrGsBase), "a"(static_cast<std::uint32_t>(base)),
                   "d"(static_cast<std::uint32_t>(base >> 32))
                 : "memory");
    detail::g_cpu_local_ready = true;
}

}  // namespace kernel
