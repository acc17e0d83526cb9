// Multiboot1 info-block parser. The structures are read in place through
// packed layouts whose offsets are pinned with static_asserts, because a
// wrong offset here would silently hand the allocator a wrong memory map.
#include "multiboot.hpp"

#include <cstddef>

namespace kernel {
namespace {

// Bits of MultibootInfo::flags saying which fields are valid.
constexpr std::uint32_t kFlagCommandLine = 1u << 2;
constexpr std::uint32_t kFlagModules = 1u << 3;
constexpr std::uint32_t kFlagMemoryMap = 1u << 6;
constexpr std::uint32_t kFlagLoaderName = 1u << 9;

struct [[gnu::packed]] MultibootInfo {
    std::uint32_t flags;
    std::uint32_t mem_lower;
    std::uint32_t mem_upper;
    std::uint32_t boot_device;
    std::uint32_t cmdline;
    std::uint32_t mods_count;
    std::uint32_t mods_addr;
    std::uint32_t syms[4];
    std::uint32_t mmap_length;
    std::uint32_t mmap_addr;
    std::uint32_t drives_length;
    std::uint32_t drives_addr;
    std::uint32_t config_table;
    std::uint32_t boot_loader_name;
    std::uint32_t apm_table;
    std::uint32_t vbe_control_info;
    std::uint32_t vbe_mode_info;
    std::uint16_t vbe_mode;
    std::uint16_t vbe_interface_seg;
    std::uint16_t vbe_interface_off;
    std::uint16_t vbe_interface_len;
    std::uint64_t framebuffer_addr;
    std::uint32_t framebuffer_pitch;
    std::uint32_t framebuffer_width;
    std::uint32_t framebuffer_height;
    std::uint8_t framebuffer_bpp;
    std::uint8_t framebuffer_type;
    std::uint8_t color_info[6];
};
static_assert(offsetof(MultibootInfo, cmdline) == 16);
static_assert(offsetof(MultibootInfo, mods_count) == 20);
static_assert(offsetof(MultibootInfo, mmap_length) == 44);
static_assert(offsetof(MultibootInfo, mmap_addr) == 48);
static_assert(offsetof(MultibootInfo, boot_loader_name) == 64);
static_assert(offsetof(MultibootInfo, framebuffer_addr) == 88);
static_assert(sizeof(MultibootInfo) == 116);

struct [[gnu::packed]] MultibootModule {
    std::uint32_t mod_start;
    std::uint32_t mod_end;
    std::uint32_t string;
    std::uint32_t reserved;
};
static_assert(sizeof(MultibootModule) == 16);

std::uint64_t string_bytes(const char* text) {
    std::uint64_t length = 0;
    while (text[length] != '\0') {
        ++length;
    }
    return length + 1;
}

void add_boot_range(BootInfo& out, std::uint64_t base, std::uint64_t length, const char* what) {
    if (length == 0) {
        return;
    }
    if (out.boot_range_count == BootInfo::kMaxBootRanges) {
        ++out.boot_ranges_dropped;
        return;
    }
    out.boot_ranges[out.boot_range_count++] = BootRange{base, length, what};
}

}  // namespace

bool parse_multiboot_info(std::uint32_t magic, std::uint32_t info_phys, BootInfo& out,
                          const char** error) {
    if (magic != kMultibootBootloaderMagic) {
        *error = "not started by a Multiboot1 loader (bad magic)";
        return false;
    }
    const auto* info =
        reinterpret_cast<const MultibootInfo*>(static_cast<std::uintptr_t>(info_phys));
    add_boot_range(out, info_phys, sizeof(MultibootInfo), "multiboot info");
    if ((info->flags & kFlagMemoryMap) == 0) {
        *error = "loader gave no memory map (flags bit 6 clear)";
        return false;
    }

    out.mmap_addr = info->mmap_addr;
    out.mmap_length = info->mmap_length;
    add_boot_range(out, info->mmap_addr, info->mmap_length, "multiboot memory map");

    if ((info->flags & kFlagCommandLine) != 0 && info->cmdline != 0) {
        out.command_line =
            reinterpret_cast<const char*>(static_cast<std::uintptr_t>(info->cmdline));
        add_boot_range(out, info->cmdline, string_bytes(out.command_line), "command line");
    }
    if ((info->flags & kFlagLoaderName) != 0 && info->boot_loader_name != 0) {
        out.loader_name =
            reinterpret_cast<const char*>(static_cast<std::uintptr_t>(info->boot_loader_name));
        add_boot_range(out, info->boot_loader_name, string_bytes(out.loader_name), "loader name");
    }
    if ((info->flags & kFlagModules) != 0 && info->mods_count != 0) {
        add_boot_range(out, info->mods_addr,
                       static_cast<std::uint64_t>(info->mods_count) * sizeof(MultibootModule),
                       "module list");
        const auto* modules =
            reinterpret_cast<const MultibootModule*>(static_cast<std::uintptr_t>(info->mods_addr));
        for (std::uint32_t i = 0; i < info->mods_count; ++i) {
            if (modules[i].mod_end > modules[i].mod_start) {
                add_boot_range(out, modules[i].mod_start, modules[i].mod_end - modules[i].mod_start,
                               "module");
            }
        }
    }
    return true;
}

}  // namespace kernel
