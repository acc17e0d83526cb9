// The allocating timer interrupt (smp_irq.hpp).
#include "smp_irq.hpp"

#include <atomic>

#include "console.hpp"
#include "cpu_local.hpp"
#include "frame_allocator.hpp"
#include "lapic.hpp"
#include "selftest_support.hpp"
#include "traps.hpp"

extern "C" void timer_interrupt_stub();
extern "C" void spurious_interrupt_stub();

namespace kernel::smp_irq {
namespace {

using framealloc::ErrorKind;
using framealloc::Page2M;
using framealloc::PhysicalAddress;
using selftest::kind_name;

constexpr std::uint8_t kTimerVector = 0x40;

std::atomic<bool> work_on{false};
bool check_locks = true;
std::uint64_t busy_address = 0;

// A failed interrupt-time allocation. The contract allows one answer besides
// success: kCapacityExhausted when the interrupted code was itself growing
// framealloc's node storage. Anything else fails the run on the spot.
void note_failure(CpuLocal& cpu, ErrorKind kind, const char* what) {
    if (kind == ErrorKind::kCapacityExhausted) {
        ++cpu.irq_capacity_exhausted;
        return;
    }
    ++cpu.irq_failures;
    kpanic("cpu %u: %s in the timer handler failed: %s", cpu.index, what, kind_name(kind));
}

// One tick's work: a frame allocated, written, read back and freed; every
// 64th tick a 2 MiB frame; every 16th an allocate_frames_at of a frame that
// is always in use, which must fail cleanly with "address in use".
void work(CpuLocal& cpu) {
    const std::uint64_t tick = cpu.timer_ticks;
    {
        auto frames = frame_allocator().allocate_frames(1);
        if (!frames) {
            note_failure(cpu, frames.kind(), "allocate_frames(1)");
        } else {
            const std::uint64_t address = frames.value().start_address().value();
            auto* word = reinterpret_cast<volatile std::uint64_t*>(address);
            *word = selftest::pattern_word(address, tick);
            if (*word != selftest::pattern_word(address, tick)) {
                kpanic("cpu %u: interrupt-time frame 0x%lx does not hold what was written",
                       cpu.index, address);
            }
            ++cpu.irq_allocations;
        }
    }
    if (tick % 64 == 0) {
        auto huge = frame_allocator().allocate_huge<Page2M>();
        if (!huge) {
            note_failure(cpu, huge.kind(), "allocate_huge<Page2M>");
        } else {
            *reinterpret_cast<volatile std::uint64_t*>(huge.value().start_address().value() +
                                                       Page2M::kBytes - 8) = tick;
            ++cpu.irq_huge;
        }
    }
    if (tick % 16 == 0) {
        auto busy =
            frame_allocator().allocate_frames_at(PhysicalAddress::new_canonical(busy_address), 1);
        if (busy) {
            kpanic(
                "cpu %u: allocate_frames_at(0x%lx) of the kernel image succeeded in the "
                "timer handler",
                cpu.index, busy_address);
        }
        if (busy.kind() != ErrorKind::kAddressInUse) {
            kpanic("cpu %u: allocate_frames_at of a busy address in the timer handler: %s",
                   cpu.index, kind_name(busy.kind()));
        }
        ++cpu.irq_busy_rejected;
    }
}

}  // namespace

void install(std::uint64_t busy, bool check) {
    busy_address = busy;
    check_locks = check;
    traps_set_interrupt(kTimerVector, timer_interrupt_stub);
    traps_set_interrupt(lapic::kSpuriousVector, spurious_interrupt_stub);
}

void set_work(bool on) {
    work_on.store(on, std::memory_order_release);
}

void start_on_this_cpu(std::uint32_t hz) {
    lapic::timer_start(kTimerVector, hz);
    asm volatile("sti" : : : "memory");
}

void stop_on_this_cpu() {
    asm volatile("cli" : : : "memory");
    lapic::timer_stop();
}

}  // namespace kernel::smp_irq

// The local APIC timer. Interrupt gates mask IF, so nothing nests inside it.
extern "C" void timer_interrupt() {
    using namespace kernel;
    using namespace kernel::smp_irq;
    CpuLocal* cpu = this_cpu();
    ++cpu->timer_ticks;
    if (cpu->locks_held != 0 && check_locks) {
        kpanic(
            "cpu %u: timer interrupt arrived while this CPU held %u lock(s) that should mask "
            "interrupts: nested-interrupt check failed, the lock does not mask interrupts",
            cpu->index, cpu->locks_held);
    }
    if (work_on.load(std::memory_order_acquire)) {
        if (cpu->framealloc_depth != 0) {
            // This CPU's own framealloc call is interrupted. Other CPUs read
            // the count while the test runs (nested_so_far).
            __atomic_store_n(&cpu->nested_calls, cpu->nested_calls + 1, __ATOMIC_RELAXED);
        }
        work(*cpu);
    }
    lapic::eoi();
}
