// The C++ entry point of the AArch64 boot, called by start.S with the CPU's
// x0 at entry. It finds the device tree QEMU passes, following QEMU's
// documented convention for the virt board: an image booted through the
// Linux boot protocol gets the tree's address in x0; any other image (this
// ELF) finds it at the start of RAM, 0x4000_0000. The tree is parsed with
// framealloc::memmap::parse_fdt, the tree itself is reserved, the MMU is
// turned on with a static identity map, and run_kernel (shared with the x86
// boots) does the rest.
#include <cstdint>

#include "arm64.hpp"
#include "chosen.hpp"
#include "command_line.hpp"
#include "console.hpp"
#include "framealloc/memmap.hpp"
#include "kernel_main.hpp"
#include "mmu.hpp"
#include "runtime.hpp"

extern "C" char __kernel_start[];
extern "C" char __kernel_end[];

namespace kernel {
namespace {

constexpr std::uint64_t kVirtRamBase = 0x40000000;
// The header fields read before the parser runs: magic and totalsize.
constexpr std::uint32_t kFdtMagic = 0xd00dfeed;

// The boot identity map, used until memory_init builds one from a frame
// framealloc hands out (as the x86 kernels replace their boot tables).
alignas(4096) std::uint64_t boot_table[512];

std::uint32_t load_be32(std::uint64_t address) {
    const auto* bytes = reinterpret_cast<const volatile unsigned char*>(address);
    return (std::uint32_t{bytes[0]} << 24) | (std::uint32_t{bytes[1]} << 16) |
           (std::uint32_t{bytes[2]} << 8) | std::uint32_t{bytes[3]};
}

// Returns the device tree's address and says where it was found, or 0.
std::uint64_t find_device_tree(std::uint64_t x0, const char** where) {
    if (x0 != 0 && (x0 & 7) == 0 && load_be32(x0) == kFdtMagic) {
        *where = "x0 (Linux boot protocol)";
        return x0;
    }
    if (load_be32(kVirtRamBase) == kFdtMagic) {
        *where = "start of RAM (QEMU's place for bare-metal images)";
        return kVirtRamBase;
    }
    return 0;
}

// Lets tests/kernel prove that its harness notices a failing AArch64 kernel:
// a panic, and a data abort (reported by traps.cpp); both exit with 35.
void inject_failure(const char* command_line) {
    if (command_line_has(command_line, "framealloc.inject=panic")) {
        kpanic("failure injected from the command line");
    }
    if (command_line_has(command_line, "framealloc.inject=data-abort")) {
        // 1 TiB is beyond the 39-bit address space the MMU translates.
        auto* unmapped = reinterpret_cast<volatile std::uint64_t*>(std::uintptr_t{1} << 40);
        (void)*unmapped;
    }
}

}  // namespace
}  // namespace kernel

extern "C" [[noreturn]] void kmain(std::uint64_t x0) {
    using namespace kernel;
    console_init();
    console_write("\n");
    run_global_constructors();
    const std::uint64_t current_el = (FRAMEALLOC_READ_SYSREG(CurrentEL) >> 2) & 3;
    const auto image_start = reinterpret_cast<std::uintptr_t>(__kernel_start);
    const auto image_end = reinterpret_cast<std::uintptr_t>(__kernel_end);
    kprintf("framealloc-kernel: AArch64 at EL%lu, image [0x%lx - 0x%lx), x0 = 0x%lx\n", current_el,
            image_start, image_end, x0);

    const char* where = nullptr;
    const std::uint64_t dtb = find_device_tree(x0, &where);
    if (dtb == 0) {
        kpanic("no device tree in x0 or at 0x%lx", kVirtRamBase);
    }
    const std::uint32_t dtb_bytes = load_be32(dtb + 4);

    static BootRegions regions;
    const framealloc::Status parsed =
        framealloc::memmap::parse_fdt(reinterpret_cast<const void*>(dtb), dtb_bytes, regions);
    if (!parsed) {
        kpanic("parsing the device tree: %s (%s)", framealloc::to_string(parsed.error().kind),
               parsed.error().message);
    }
    std::uint64_t memory_frames = 0;
    for (const auto& region : regions.free_regions()) {
        memory_frames += region.frames.size_in_frames();
    }
    kprintf(
        "framealloc-kernel: device tree at 0x%lx from %s, %u bytes: %zu memory and %zu "
        "reserved regions, %lu frames of RAM\n",
        dtb, where, dtb_bytes, regions.free_regions().size(), regions.reserved_regions().size(),
        memory_frames);
    reserve_range(regions, dtb, dtb_bytes, "reserving the device tree");
    const char* command_line =
        device_tree_bootargs(reinterpret_cast<const unsigned char*>(dtb), dtb_bytes);
    if (command_line != nullptr) {
        kprintf("framealloc-kernel: command line (/chosen/bootargs): %s\n", command_line);
    }

    // Atomics (framealloc's lock) need normal memory: with the MMU off every
    // access is Device-nGnRnE, so turn it on before framealloc runs.
    std::uint64_t ram_base = ~std::uint64_t{0};
    std::uint64_t ram_top = 0;
    for (const auto& region : regions.free_regions()) {
        const std::uint64_t start = region.frames.start_address().value();
        const std::uint64_t end = start + region.frames.size_in_bytes();
        ram_base = start < ram_base ? start : ram_base;
        ram_top = end > ram_top ? end : ram_top;
    }
    if (mmu::fill_identity_table(boot_table, ram_base, ram_top) == 0) {
        kpanic("RAM up to 0x%lx is beyond the boot map", ram_top);
    }
    mmu::install(boot_table);
    kprintf("framealloc-kernel: MMU on with the boot identity map\n");
    inject_failure(command_line);

    run_kernel(regions, image_start, image_end - image_start);
}
