// The UEFI boot: a PE32+ application (BOOTX64.EFI) that OVMF starts. gnu-efi's
// crt0 applies the image's relocations and calls efi_main. The application
// asks the firmware where it was loaded, takes the memory map with
// GetMemoryMap into a buffer inside its own image, leaves boot services
// (fetching a fresh map and retrying when the map key has gone stale, as the
// specification requires), and from then on owns the machine: it loads its
// own GDT, IDT, page tables and stack -- the firmware's all live in
// boot-services memory, which is free RAM now -- parses the raw descriptors
// with framealloc::memmap::parse_uefi, checks the usable-frame total against
// a count of its own, and runs the shared kernel (memory bring-up, self-test,
// exit through isa-debug-exit).
#include <cstddef>
#include <cstdint>

#include "command_line.hpp"
#include "console.hpp"
#include "efi.hpp"
#include "framealloc/memmap.hpp"
#include "fw_cfg.hpp"
#include "kernel_main.hpp"
#include "traps.hpp"

namespace kernel {
namespace {

// OVMF's map at -m 256M has about 100 descriptors of 48 bytes; the buffer has
// room for several times that, in the image so that it stays reserved.
constexpr std::size_t kMapBufferBytes = std::size_t{64} * 1024;
constexpr unsigned kMaxExitAttempts = 8;
constexpr std::uint64_t kLowMemoryEnd = 1 << 20;
constexpr std::size_t kStackBytes = std::size_t{64} * 1024;
constexpr std::size_t kCommandLineBytes = 256;

char command_line[kCommandLineBytes];

alignas(16) unsigned char map_buffer[kMapBufferBytes];

struct FirmwareMap {
    std::uint64_t size = 0;
    std::uint64_t key = 0;
    std::uint64_t descriptor_size = 0;
    std::uint32_t descriptor_version = 0;
    unsigned exit_attempts = 0;
    std::uint64_t image_base = 0;
    std::uint64_t image_size = 0;
};
constinit FirmwareMap firmware_map;

// Identity map of the first 4 GiB with 2 MiB pages (RAM below 4 GiB and the
// APIC window): one PML4, one PDPT, four page directories. RAM above 4 GiB,
// if any, is mapped later by memory_init from framealloc frames.
constexpr std::uint64_t kPresent = 1u << 0;
constexpr std::uint64_t kWritable = 1u << 1;
constexpr std::uint64_t kHugePage = 1u << 7;
alignas(4096) std::uint64_t boot_pml4[512];
alignas(4096) std::uint64_t boot_pdpt[512];
alignas(4096) std::uint64_t boot_pd[4][512];

// Null, 64-bit code (selector 0x08, the one traps.cpp uses), data (0x10).
alignas(16) constexpr std::uint64_t kGdt[3] = {0, 0x00af9a000000ffff, 0x00cf92000000ffff};

alignas(16) unsigned char kernel_stack[kStackBytes];

void build_boot_tables() {
    for (std::uint64_t gib = 0; gib < 4; ++gib) {
        for (std::uint64_t i = 0; i < 512; ++i) {
            boot_pd[gib][i] = ((gib << 30) + (i << 21)) | kPresent | kWritable | kHugePage;
        }
        boot_pdpt[gib] = reinterpret_cast<std::uintptr_t>(&boot_pd[gib][0]) | kPresent | kWritable;
    }
    boot_pml4[0] = reinterpret_cast<std::uintptr_t>(&boot_pdpt[0]) | kPresent | kWritable;
}

// Interrupts off, then the kernel's own GDT (reloading CS through a far
// return), page tables and stack; `next` runs on the new stack.
[[noreturn]] void take_over_cpu(void (*next)()) {
    struct [[gnu::packed]] {
        std::uint16_t limit;
        std::uint64_t base;
    } gdtr{sizeof(kGdt) - 1, reinterpret_cast<std::uintptr_t>(&kGdt[0])};
    asm volatile(
        "cli\n\t"
        "lgdt %0\n\t"
        "pushq $0x08\n\t"
        "leaq 1f(%%rip), %%rax\n\t"
        "pushq %%rax\n\t"
        "lretq\n"
        "1:\n\t"
        "movl $0x10, %%eax\n\t"
        "movw %%ax, %%ds\n\t"
        "movw %%ax, %%es\n\t"
        "movw %%ax, %%ss\n\t"
        "movw %%ax, %%fs\n\t"
        "movw %%ax, %%gs\n\t"
        :
        : "m"(gdtr)
        : "rax", "memory");
    build_boot_tables();
    asm volatile("mov %0, %%cr3"
                 :
                 : "r"(reinterpret_cast<std::uintptr_t>(&boot_pml4[0]))
                 : "memory");
    const std::uintptr_t stack_top = reinterpret_cast<std::uintptr_t>(kernel_stack) + kStackBytes;
    asm volatile(
        "movq %0, %%rsp\n\t"
        "xorl %%ebp, %%ebp\n\t"
        "callq *%1\n\t"
        "ud2"
        :
        : "r"(stack_top), "r"(next)
        : "memory");
    __builtin_unreachable();
}

// The usable-frame total of the raw descriptors, counted here from the
// specification's rules (loader and boot-services memory plus conventional
// memory, write-back cacheable, not specific-purpose), without the parser.
std::uint64_t count_usable_frames(const unsigned char* map, std::uint64_t size,
                                  std::uint64_t stride) {
    std::uint64_t frames = 0;
    for (std::uint64_t at = 0; at + stride <= size; at += stride) {
        std::uint32_t type;
        std::uint64_t pages;
        std::uint64_t attribute;
        __builtin_memcpy(&type, map + at, sizeof(type));
        __builtin_memcpy(&pages, map + at + 24, sizeof(pages));
        __builtin_memcpy(&attribute, map + at + 32, sizeof(attribute));
        const bool usable_type = type == 1 || type == 2 || type == 3 || type == 4 || type == 7;
        const bool write_back = (attribute & 0x8) != 0;
        const bool specific_purpose = (attribute & 0x40000) != 0;
        if (usable_type && write_back && !specific_purpose) {
            frames += pages;
        }
    }
    return frames;
}

// Runs on the kernel's own stack, after ExitBootServices: no firmware left.
[[noreturn]] void after_exit() {
    traps_init();
    const FirmwareMap& fw = firmware_map;
    const std::uint64_t descriptors = fw.size / fw.descriptor_size;
    kprintf(
        "framealloc-kernel: UEFI boot services exited after %u GetMemoryMap/ExitBootServices "
        "attempt(s); own GDT, IDT, page tables and stack loaded\n",
        fw.exit_attempts);
    kprintf(
        "framealloc-kernel: UEFI memory map: %lu descriptors of %lu bytes (version %u), %lu "
        "bytes\n",
        descriptors, fw.descriptor_size, fw.descriptor_version, fw.size);

    static BootRegions regions;
    const framealloc::Status parsed =
        framealloc::memmap::parse_uefi(map_buffer, fw.size, fw.descriptor_size, regions);
    if (!parsed) {
        kpanic("parsing the UEFI memory map: %s (%s)", framealloc::to_string(parsed.error().kind),
               parsed.error().message);
    }
    std::uint64_t parsed_frames = 0;
    for (const auto& region : regions.free_regions()) {
        parsed_frames += region.frames.size_in_frames();
    }
    const std::uint64_t counted_frames =
        count_usable_frames(map_buffer, fw.size, fw.descriptor_size);
    kprintf(
        "framealloc-kernel: UEFI usable frames: %lu from framealloc::memmap::parse_uefi, %lu "
        "counted from the raw descriptors\n",
        parsed_frames, counted_frames);
    if (parsed_frames != counted_frames) {
        kpanic("the parsed UEFI map disagrees with the raw descriptors: %lu vs %lu frames",
               parsed_frames, counted_frames);
    }
    // The low 1 MiB stays untouched on x86 (real-mode structures, AP start-up
    // code); the image (code, data, this map, the stack) is reserved by
    // run_kernel.
    reserve_range(regions, 0, kLowMemoryEnd, "reserving the low 1 MiB");
    run_kernel(regions, fw.image_base, fw.image_size);
}

}  // namespace
}  // namespace kernel

// Called by gnu-efi's crt0 (System V ABI) once the image is relocated.
extern "C" kernel::efi::Status efi_main(kernel::efi::Handle image,
                                        kernel::efi::SystemTable* system_table) {
    using namespace kernel;
    console_init();
    console_write("\n");
    efi::BootServices* boot = system_table->boot_services;

    void* interface = nullptr;
    efi::Status status = boot->handle_protocol(image, &efi::kLoadedImageProtocolGuid, &interface);
    if (status != efi::kSuccess || interface == nullptr) {
        kpanic("HandleProtocol(LoadedImage) failed: status 0x%lx", status);
    }
    const auto* loaded = static_cast<const efi::LoadedImage*>(interface);
    firmware_map.image_base = reinterpret_cast<std::uintptr_t>(loaded->image_base);
    firmware_map.image_size = loaded->image_size;
    kprintf("framealloc-kernel: UEFI application, image [0x%lx - 0x%lx), firmware revision 0x%x\n",
            firmware_map.image_base, firmware_map.image_base + firmware_map.image_size,
            system_table->header.revision);
    // The harness's options come through QEMU's fw_cfg (see fw_cfg.hpp).
    if (fw_cfg::read_file("opt/framealloc/cmdline", command_line, sizeof(command_line))) {
        kprintf("framealloc-kernel: command line (fw_cfg): %s\n", command_line);
    }
    if (command_line_has(command_line, "framealloc.inject=panic")) {
        kpanic("failure injected from the command line");
    }
    // Makes the first map key stale on purpose, so that the retry below runs
    // against the real firmware: an allocation changes the map.
    const bool make_key_stale = command_line_has(command_line, "framealloc.inject=stale-map-key");

    // Between GetMemoryMap and ExitBootServices nothing may call the firmware
    // (any allocation would change the map and its key); writing to COM1
    // directly does not. A stale key makes ExitBootServices fail with
    // EFI_INVALID_PARAMETER: fetch the map again and retry.
    for (unsigned attempt = 1;; ++attempt) {
        if (attempt > kMaxExitAttempts) {
            kpanic("ExitBootServices still failing after %u attempts", kMaxExitAttempts);
        }
        std::uint64_t size = sizeof(map_buffer);
        status =
            boot->get_memory_map(&size, map_buffer, &firmware_map.key,
                                 &firmware_map.descriptor_size, &firmware_map.descriptor_version);
        if (status == efi::kBufferTooSmall) {
            kpanic("GetMemoryMap needs %lu bytes, the buffer holds %zu", size, sizeof(map_buffer));
        }
        if (status != efi::kSuccess) {
            kpanic("GetMemoryMap failed: status 0x%lx", status);
        }
        firmware_map.size = size;
        firmware_map.exit_attempts = attempt;
        if (make_key_stale && attempt == 1) {
            std::uint64_t page = 0;
            (void)boot->allocate_pages(efi::kAllocateAnyPages, efi::kLoaderData, 1, &page);
        }
        status = boot->exit_boot_services(image, firmware_map.key);
        if (status == efi::kSuccess) {
            break;
        }
        if (status != efi::kInvalidParameter) {
            kpanic("ExitBootServices failed: status 0x%lx", status);
        }
        kprintf(
            "framealloc-kernel: ExitBootServices attempt %u: stale map key, fetching the map "
            "again\n",
            attempt);
    }
    take_over_cpu(after_exit);
}
