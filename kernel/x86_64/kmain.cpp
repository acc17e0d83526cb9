// The C++ entry point of the Multiboot boot, called by boot.S in long mode
// with the Multiboot1 magic and the physical address of the info block. It
// brings up the console, runs global constructors, installs exception
// reporting, parses the Multiboot memory map with framealloc's parser,
// reserves what the loader still uses, and hands over to run_kernel (shared
// with the other boot paths): memory bring-up, self-test, exit status.
#include <cstdint>

#include "command_line.hpp"
#include "console.hpp"
#include "framealloc/memmap.hpp"
#include "irq_lock.hpp"
#include "kernel_main.hpp"
#include "multiboot.hpp"
#include "numa.hpp"
#include "numa_test.hpp"
#include "runtime.hpp"
#include "smp.hpp"
#include "smp_test.hpp"
#include "traps.hpp"

extern "C" char __kernel_start[];
extern "C" char __kernel_end[];

namespace kernel {
namespace {

constexpr std::uint32_t kConstructorProbeValue = 0xc0ffee42;
constexpr std::uint64_t kLowMemoryEnd = 1 << 20;

// Proves .init_array is wired up: the value is only set if kmain ran the
// constructor, since the object lives in .bss and starts out zero.
struct ConstructorProbe {
    volatile std::uint32_t value;
    ConstructorProbe() { value = kConstructorProbeValue; }
};
ConstructorProbe constructor_probe;

BootInfo boot_info;
smp_test::Options smp_options;

// Options of the multiprocessor test, from the command line:
//   framealloc.smp-timer         LAPIC timer on every CPU, its handler allocating
//   framealloc.inject=broken-lock  framealloc's lock stops masking interrupts
//                                (implies the timer); the run must fail
//   framealloc.inject=broken-lock-unchecked  the same without the handler's
//                                lock check: the lock's self-deadlock check must fire
void read_smp_options(const char* command_line) {
    smp_options.timer = command_line_has(command_line, "framealloc.smp-timer");
    const bool unchecked =
        command_line_has(command_line, "framealloc.inject=broken-lock-unchecked");
    if (unchecked || command_line_has(command_line, "framealloc.inject=broken-lock")) {
        kprintf(
            "framealloc-kernel: broken lock injected: framealloc's lock will not mask "
            "interrupts%s\n",
            unchecked ? "; the timer handler's lock check is off" : "");
        detail::g_broken_framealloc_lock = true;
        smp_options.timer = true;
        smp_options.skip_lock_check = unchecked;
    }
}

void claim_trampoline() {
    smp::claim_trampoline(boot_info);
}

void run_smp_test() {
    smp_test::run(smp_options);
}

void run_numa_test() {
    numa_test::run();
}

void print_boot_data(const BootInfo& info) {
    for (std::size_t i = 0; i < info.boot_range_count; ++i) {
        const BootRange& range = info.boot_ranges[i];
        kprintf("  loader data [0x%lx - 0x%lx) %s\n", range.base, range.base + range.length,
                range.what);
    }
}

// Lets tests/kernel prove that its harness notices a failing kernel: a panic
// (exit status 35), a CPU exception (reported by traps.cpp, also 35) and a
// triple fault (QEMU under -no-reboot then exits with 0).
void inject_failure(const char* command_line) {
    if (command_line_has(command_line, "framealloc.inject=panic")) {
        kpanic("failure injected from the command line");
    }
    if (command_line_has(command_line, "framealloc.inject=triple-fault")) {
        kprintf("framealloc-kernel: triple fault injected from the command line\n");
        struct [[gnu::packed]] {
            std::uint16_t limit;
            std::uint64_t base;
        } empty_idt{0, 0};
        // #UD finds no IDT entry, neither does the #GP nor the #DF after it.
        asm volatile("lidt %0; ud2" : : "m"(empty_idt));
    }
    if (command_line_has(command_line, "framealloc.inject=page-fault")) {
        // 1 TiB is far above anything the identity map covers.
        auto* unmapped = reinterpret_cast<volatile std::uint64_t*>(std::uintptr_t{1} << 40);
        (void)*unmapped;
    }
}

}  // namespace
}  // namespace kernel

extern "C" [[noreturn]] void kmain(std::uint32_t mb_magic, std::uint32_t mb_info_phys) {
    using namespace kernel;
    console_init();
    // The firmware's own messages on COM1 may leave a line unfinished.
    console_write("\n");
    run_global_constructors();
    traps_init();
    kprintf("framealloc-kernel: booted in long mode, image [0x%lx - 0x%lx)\n",
            reinterpret_cast<std::uintptr_t>(__kernel_start),
            reinterpret_cast<std::uintptr_t>(__kernel_end));
    if (constructor_probe.value != kConstructorProbeValue) {
        kpanic("global constructors did not run");
    }

    const char* error = nullptr;
    if (!parse_multiboot_info(mb_magic, mb_info_phys, boot_info, &error)) {
        kpanic("%s", error);
    }
    if (boot_info.loader_name != nullptr) {
        kprintf("framealloc-kernel: loaded by %s\n", boot_info.loader_name);
    }
    print_boot_data(boot_info);
    inject_failure(boot_info.command_line);
    read_smp_options(boot_info.command_line);

    // The map, parsed by framealloc's own Multiboot1 parser; then what is
    // already in use: the low 1 MiB (BIOS data, EBDA, option ROMs) and
    // everything the loader left for us.
    static BootRegions regions;
    const framealloc::Status parsed = framealloc::memmap::parse_multiboot1_mmap(
        reinterpret_cast<const void*>(boot_info.mmap_addr), boot_info.mmap_length, regions);
    if (!parsed) {
        kpanic("parsing the Multiboot memory map: %s", parsed.error().message);
    }
    reserve_range(regions, 0, kLowMemoryEnd, "reserving the low 1 MiB");
    if (boot_info.boot_ranges_dropped != 0) {
        kpanic("too many loader data ranges to reserve");
    }
    for (std::size_t i = 0; i < boot_info.boot_range_count; ++i) {
        reserve_range(regions, boot_info.boot_ranges[i].base, boot_info.boot_ranges[i].length,
                      boot_info.boot_ranges[i].what);
    }
    // framealloc.numa: one allocator per node from the SRAT/SLIT, the kernel's
    // own allocator cut down to the RAM below numa::kBootPoolEnd, and the NUMA
    // test instead of the SMP one.
    const bool numa_boot = command_line_has(boot_info.command_line, "framealloc.numa");
    if (numa_boot) {
        numa::init(regions);
    }
    const auto image_start = reinterpret_cast<std::uintptr_t>(__kernel_start);
    BootExtras extras;
    extras.after_allocator_init = claim_trampoline;
    extras.after_selftest = numa_boot ? run_numa_test : run_smp_test;
    run_kernel(regions, image_start, reinterpret_cast<std::uintptr_t>(__kernel_end) - image_start,
               extras);
}
