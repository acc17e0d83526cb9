// The C++ entry point of the demo kernel, called by boot.S in long mode with
// the Multiboot1 magic and the physical address of the info block. It brings
// up the console, runs global constructors, installs exception reporting,
// reads the memory map and then runs the self-test; the result is reported on
// COM1 and through QEMU's exit status, which is what tests/kernel checks.
#include <cstdint>

#include "console.hpp"
#include "multiboot.hpp"
#include "platform.hpp"
#include "runtime.hpp"
#include "traps.hpp"

extern "C" char __kernel_start[];
extern "C" char __kernel_end[];

namespace kernel {
namespace {

constexpr std::uint32_t kConstructorProbeValue = 0xc0ffee42;

// Proves .init_array is wired up: the value is only set if kmain ran the
// constructor, since the object lives in .bss and starts out zero.
struct ConstructorProbe {
    volatile std::uint32_t value;
    ConstructorProbe() { value = kConstructorProbeValue; }
};
ConstructorProbe constructor_probe;

BootInfo boot_info;

void print_memory_map(const BootInfo& info) {
    kprintf("framealloc-kernel: memory map (%zu entries):\n", info.memory_map_count);
    std::uint64_t usable = 0;
    for (std::size_t i = 0; i < info.memory_map_count; ++i) {
        const MemoryMapEntry& entry = info.memory_map[i];
        kprintf("  [0x%016lx - 0x%016lx) %s\n", entry.base, entry.base + entry.length,
                multiboot_type_name(entry.type));
        if (entry.type == 1) {
            usable += entry.length;
        }
    }
    kprintf("framealloc-kernel: usable RAM %lu KiB\n", usable / 1024);
    if (info.memory_map_dropped != 0) {
        kprintf("framealloc-kernel: warning: %zu memory-map entries did not fit\n",
                info.memory_map_dropped);
    }
    for (std::size_t i = 0; i < info.boot_range_count; ++i) {
        const BootRange& range = info.boot_ranges[i];
        kprintf("  boot data [0x%lx - 0x%lx) %s\n", range.base, range.base + range.length,
                range.what);
    }
}

}  // namespace
}  // namespace kernel

extern "C" [[noreturn]] void kmain(std::uint32_t mb_magic, std::uint32_t mb_info_phys) {
    using namespace kernel;
    console_init();
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
    print_memory_map(boot_info);

    kprintf("framealloc-kernel: selftest passed: boot path only\n");
    qemu_exit(kExitSuccess);
}
