// The few UEFI definitions the UEFI boot uses, written from the UEFI 2.10
// specification: the system table, the boot-services entries up to
// ExitBootServices, and the loaded-image protocol. Only the fields this
// application calls are typed; the others are placeholders that keep the
// offsets right. Firmware entry points use the Microsoft x64 calling
// convention, which the kernel (built for the System V ABI) reaches through
// ms_abi function pointers.
#pragma once

#include <cstddef>
#include <cstdint>

namespace kernel::efi {

using Status = std::uint64_t;
using Handle = void*;

inline constexpr Status kSuccess = 0;
inline constexpr Status kErrorBit = std::uint64_t{1} << 63;
inline constexpr Status kInvalidParameter = kErrorBit | 2;
inline constexpr Status kBufferTooSmall = kErrorBit | 5;

/// EFI_ALLOCATE_TYPE AllocateAnyPages and EFI_MEMORY_TYPE EfiLoaderData.
inline constexpr std::uint32_t kAllocateAnyPages = 0;
inline constexpr std::uint32_t kLoaderData = 2;

struct Guid {
    std::uint32_t data1;
    std::uint16_t data2;
    std::uint16_t data3;
    std::uint8_t data4[8];
};

/// EFI_LOADED_IMAGE_PROTOCOL_GUID.
inline constexpr Guid kLoadedImageProtocolGuid = {
    0x5b1b31a1, 0x9562, 0x11d2, {0x8e, 0x3f, 0x00, 0xa0, 0xc9, 0x69, 0x72, 0x3b}};

struct TableHeader {
    std::uint64_t signature;
    std::uint32_t revision;
    std::uint32_t header_size;
    std::uint32_t crc32;
    std::uint32_t reserved;
};

#define FRAMEALLOC_EFIAPI __attribute__((ms_abi))

using Placeholder = void*;

struct BootServices {
    TableHeader header;
    Placeholder raise_tpl;
    Placeholder restore_tpl;
    Status(FRAMEALLOC_EFIAPI* allocate_pages)(std::uint32_t type, std::uint32_t memory_type,
                                              std::uint64_t pages, std::uint64_t* memory);
    Placeholder free_pages;
    Status(FRAMEALLOC_EFIAPI* get_memory_map)(std::uint64_t* map_size, void* map,
                                              std::uint64_t* map_key,
                                              std::uint64_t* descriptor_size,
                                              std::uint32_t* descriptor_version);
    Placeholder allocate_pool;
    Placeholder free_pool;
    Placeholder create_event;
    Placeholder set_timer;
    Placeholder wait_for_event;
    Placeholder signal_event;
    Placeholder close_event;
    Placeholder check_event;
    Placeholder install_protocol_interface;
    Placeholder reinstall_protocol_interface;
    Placeholder uninstall_protocol_interface;
    Status(FRAMEALLOC_EFIAPI* handle_protocol)(Handle handle, const Guid* protocol,
                                               void** interface);
    Placeholder reserved;
    Placeholder register_protocol_notify;
    Placeholder locate_handle;
    Placeholder locate_device_path;
    Placeholder install_configuration_table;
    Placeholder load_image;
    Placeholder start_image;
    Placeholder exit;
    Placeholder unload_image;
    Status(FRAMEALLOC_EFIAPI* exit_boot_services)(Handle image, std::uint64_t map_key);
};
static_assert(offsetof(BootServices, get_memory_map) == 24 + 4 * 8);
static_assert(offsetof(BootServices, exit_boot_services) == 24 + 26 * 8);

struct SystemTable {
    TableHeader header;
    const char16_t* firmware_vendor;
    std::uint32_t firmware_revision;
    Handle console_in_handle;
    Placeholder con_in;
    Handle console_out_handle;
    Placeholder con_out;
    Handle standard_error_handle;
    Placeholder std_err;
    Placeholder runtime_services;
    BootServices* boot_services;
    std::uint64_t number_of_table_entries;
    Placeholder configuration_table;
};
static_assert(offsetof(SystemTable, boot_services) == 96);

struct LoadedImage {
    std::uint32_t revision;
    Handle parent_handle;
    SystemTable* system_table;
    Handle device_handle;
    Placeholder file_path;
    Placeholder reserved;
    std::uint32_t load_options_size;
    Placeholder load_options;
    void* image_base;
    std::uint64_t image_size;
    std::uint32_t image_code_type;
    std::uint32_t image_data_type;
    Placeholder unload;
};
static_assert(offsetof(LoadedImage, image_base) == 64);

#undef FRAMEALLOC_EFIAPI

}  // namespace kernel::efi
