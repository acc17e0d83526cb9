// AP bring-up (smp.hpp).
#include "smp.hpp"

#include <atomic>
#include <new>
#include <utility>

#include "acpi.hpp"
#include "console.hpp"
#include "cpu_local.hpp"
#include "frame_allocator.hpp"
#include "lapic.hpp"
#include "traps.hpp"
#include "x86.hpp"

extern "C" const char ap_trampoline_start[];
extern "C" const char ap_trampoline_protected[];
extern "C" const char ap_trampoline_long[];
extern "C" const char ap_trampoline_gdt[];
extern "C" const char ap_trampoline_data[];
extern "C" const char ap_trampoline_end[];
extern "C" const std::uint64_t boot_gdt[3];

namespace kernel::smp {
namespace {

using framealloc::AllocatedFrames;
using framealloc::PhysicalAddress;

constexpr std::uint64_t kLowMemoryEnd = 0xa0000;  // below the EBDA and VGA window
constexpr std::uint64_t kStackFrames = 4;         // 16 KiB per AP
constexpr std::uint64_t kInitDelayUs = 10000;
constexpr std::uint64_t kStartupDelayUs = 200;
constexpr std::uint64_t kStartTimeoutUs = 200000;

// Mirrors the data block at the end of trampoline.S.
struct [[gnu::packed]] ApTrampolineData {
    std::uint16_t gdt_limit;
    std::uint32_t gdt_base;
    std::uint32_t far32_offset;
    std::uint16_t far32_selector;
    std::uint32_t far64_offset;
    std::uint16_t far64_selector;
    std::uint16_t padding[3];
    std::uint64_t cr3;
    std::uint64_t stack_top;
    std::uint64_t cpu;
    std::uint64_t entry;
};
static_assert(sizeof(ApTrampolineData) == 56);

struct [[gnu::packed]] GdtPointer {
    std::uint16_t limit;
    std::uint64_t base;
};

// Raw storage and placement new: globals with destructors would need
// registration at start-up. The handles live as long as the kernel.
alignas(AllocatedFrames<>) unsigned char trampoline_storage[sizeof(AllocatedFrames<>)];
alignas(AllocatedFrames<>) unsigned char stack_storage[kMaxCpus][sizeof(AllocatedFrames<>)];
std::uint64_t trampoline_page = 0;

unsigned online = 1;
std::atomic<unsigned> ap_started{0};

// The job board: the boot CPU posts a job and bumps the generation; each AP
// runs every new generation once and counts itself done.
void (*job_function)(unsigned, void*) = nullptr;
void* job_context = nullptr;
std::atomic<unsigned> job_generation{0};
std::atomic<unsigned> job_done{0};
std::atomic<bool> park_requested{false};
std::atomic<unsigned> parked{0};

bool overlaps(const BootInfo& boot, std::uint64_t page) {
    for (std::size_t i = 0; i < boot.boot_range_count; ++i) {
        const BootRange& r = boot.boot_ranges[i];
        if (r.base < page + 4096 && page < r.base + r.length) {
            return true;
        }
    }
    return false;
}

// Each CPU gets its own copy of the boot GDT (null, code 0x08, data 0x10);
// CS is reloaded with a far return, the data segments directly. GS is left
// alone: loading it would clear the base that points at the CPU's record.
void load_cpu_gdt(CpuLocal& cpu) {
    for (unsigned i = 0; i < 3; ++i) {
        cpu.gdt[i] = boot_gdt[i];
    }
    GdtPointer pointer{sizeof(cpu.gdt) - 1, reinterpret_cast<std::uint64_t>(&cpu.gdt[0])};
    asm volatile(
        "lgdt %0\n\t"
        "pushq $0x08\n\t"
        "leaq 1f(%%rip), %%rax\n\t"
        "pushq %%rax\n\t"
        "lretq\n"
        "1:\n\t"
        "movw $0x10, %%ax\n\t"
        "movw %%ax, %%ds\n\t"
        "movw %%ax, %%es\n\t"
        "movw %%ax, %%ss\n\t"
        :
        : "m"(pointer)
        : "rax", "memory");
}

[[noreturn]] void park_this_cpu() {
    lapic::timer_stop();
    asm volatile("cli" : : : "memory");
    parked.fetch_add(1, std::memory_order_acq_rel);
    halt_forever();
}

[[noreturn]] void ap_main(CpuLocal* cpu) {
    cpu_local_install(*cpu);
    load_cpu_gdt(*cpu);
    traps_load();
    lapic::enable();
    cpu->apic_id = lapic::id();
    ap_started.fetch_add(1, std::memory_order_acq_rel);
    unsigned seen = 0;
    for (;;) {
        if (park_requested.load(std::memory_order_acquire)) {
            park_this_cpu();
        }
        const unsigned generation = job_generation.load(std::memory_order_acquire);
        if (generation != seen) {
            seen = generation;
            job_function(cpu->index, job_context);
            job_done.fetch_add(1, std::memory_order_acq_rel);
        }
        __builtin_ia32_pause();
    }
}

void start_ap(unsigned index, std::uint32_t apic_id) {
    CpuLocal& cpu = cpu_local(index);
    cpu.index = index;
    cpu.apic_id = apic_id;
    cpu.self = &cpu;
    auto* stack = new (stack_storage[index]) AllocatedFrames<>([&] {
        auto frames = frame_allocator().allocate_frames(kStackFrames);
        if (!frames) {
            kpanic("smp: no frames for cpu %u's stack: %s", index,
                   framealloc::to_string(frames.kind()));
        }
        return std::move(frames.value());
    }());
    auto* data = reinterpret_cast<ApTrampolineData*>(
        trampoline_page + static_cast<std::uint64_t>(ap_trampoline_data - ap_trampoline_start));
    data->cr3 = read_cr3();
    data->stack_top = stack->start_address().value() + stack->size_in_bytes();
    data->cpu = reinterpret_cast<std::uint64_t>(&cpu);
    data->entry = reinterpret_cast<std::uint64_t>(&ap_main);

    const unsigned before = ap_started.load(std::memory_order_acquire);
    if (!lapic::send_init(apic_id)) {
        kpanic("smp: INIT IPI to APIC %u was not delivered", apic_id);
    }
    lapic::delay_us(kInitDelayUs);
    const auto page = static_cast<std::uint8_t>(trampoline_page >> 12);
    for (unsigned attempt = 0; attempt < 2; ++attempt) {
        if (!lapic::send_startup(apic_id, page)) {
            kpanic("smp: STARTUP IPI to APIC %u was not delivered", apic_id);
        }
        lapic::delay_us(kStartupDelayUs);
        if (ap_started.load(std::memory_order_acquire) != before) {
            return;
        }
    }
    const std::uint64_t deadline = read_tsc() + lapic::tsc_hz() / 1000000 * kStartTimeoutUs;
    while (read_tsc() < deadline) {
        if (ap_started.load(std::memory_order_acquire) != before) {
            return;
        }
        __builtin_ia32_pause();
    }
    kpanic("smp: cpu %u (APIC %u) did not start", index, apic_id);
}

}  // namespace

void claim_trampoline(const BootInfo& boot) {
    const std::uint64_t bytes = static_cast<std::uint64_t>(ap_trampoline_end - ap_trampoline_start);
    if (bytes > 4096) {
        kpanic("smp: the AP trampoline is larger than a page");
    }
    for (std::uint64_t page = 0x1000; page < kLowMemoryEnd; page += 4096) {
        if (overlaps(boot, page)) {
            continue;
        }
        auto frames = frame_allocator().allocate_frames_at(PhysicalAddress::new_canonical(page), 1);
        if (!frames) {
            continue;  // something claimed it first
        }
        new (trampoline_storage) AllocatedFrames<>(std::move(frames.value()));
        trampoline_page = page;
        kprintf(
            "framealloc-kernel: smp: AP trampoline page 0x%lx claimed with allocate_frames_at\n",
            page);
        return;
    }
    kpanic("smp: no page below 0x%lx for the AP trampoline", kLowMemoryEnd);
}

unsigned start_all_cpus() {
    if (trampoline_page == 0) {
        kpanic("smp: start_all_cpus() without a claimed trampoline page");
    }
    acpi::MadtCpus cpus;
    const char* why = nullptr;
    if (!acpi::read_madt_cpus(&cpus, &why)) {
        kpanic("smp: %s", why);
    }
    if (cpus.lapic_address != lapic::kDefaultBase) {
        kpanic("smp: local APIC at 0x%lx, this kernel expects 0x%lx", cpus.lapic_address,
               lapic::kDefaultBase);
    }
    lapic::disable_legacy_pic();
    lapic::enable();
    CpuLocal& bsp = cpu_local(0);
    bsp.apic_id = lapic::id();
    load_cpu_gdt(bsp);
    lapic::calibrate();
    kprintf(
        "framealloc-kernel: smp: ACPI MADT lists %zu CPUs (%zu ignored beyond %zu), boot CPU "
        "APIC id %u; TSC %lu MHz, APIC timer %lu MHz\n",
        cpus.count, cpus.dropped, acpi::kMaxMadtCpus, bsp.apic_id, lapic::tsc_hz() / 1000000,
        lapic::timer_hz() / 1000000);

    // The trampoline code, then the parts of its data block that are the same
    // for every AP; start_ap() fills in the rest.
    const std::uint64_t bytes = static_cast<std::uint64_t>(ap_trampoline_end - ap_trampoline_start);
    __builtin_memcpy(reinterpret_cast<void*>(trampoline_page), ap_trampoline_start, bytes);
    auto offset = [](const char* label) {
        return static_cast<std::uint32_t>(label - ap_trampoline_start);
    };
    auto* data = reinterpret_cast<ApTrampolineData*>(trampoline_page + offset(ap_trampoline_data));
    const auto base = static_cast<std::uint32_t>(trampoline_page);
    data->gdt_base = base + offset(ap_trampoline_gdt);
    data->far32_offset = base + offset(ap_trampoline_protected);
    data->far64_offset = base + offset(ap_trampoline_long);

    for (std::size_t i = 0; i < cpus.count; ++i) {
        if (cpus.apic_ids[i] == bsp.apic_id) {
            continue;
        }
        if (cpus.apic_ids[i] > 0xfe) {  // xAPIC IPIs address 8-bit ids; 0xff is broadcast
            kprintf("framealloc-kernel: smp: APIC id %u needs x2APIC mode, left off\n",
                    cpus.apic_ids[i]);
            continue;
        }
        if (online == kMaxCpus) {
            kprintf("framealloc-kernel: smp: more than %u CPUs, the rest stay off\n", kMaxCpus);
            break;
        }
        start_ap(online, cpus.apic_ids[i]);
        kprintf(
            "framealloc-kernel: smp: cpu %u (APIC id %u) online, 16 KiB stack at 0x%lx\n", online,
            cpus.apic_ids[i],
            reinterpret_cast<AllocatedFrames<>*>(stack_storage[online])->start_address().value());
        ++online;
    }
    return online;
}

unsigned cpu_count() {
    return online;
}

void run_on_all_cpus(void (*job)(unsigned cpu, void* context), void* context) {
    job_function = job;
    job_context = context;
    job_done.store(0, std::memory_order_relaxed);
    job_generation.fetch_add(1, std::memory_order_acq_rel);
    job(0, context);
    while (job_done.load(std::memory_order_acquire) != online - 1) {
        __builtin_ia32_pause();
    }
}

void park_aps() {
    park_requested.store(true, std::memory_order_release);
    while (parked.load(std::memory_order_acquire) != online - 1) {
        __builtin_ia32_pause();
    }
}

}  // namespace kernel::smp
