// Parser for the UEFI memory map that GetMemoryMap() returns: an array of
// EFI_MEMORY_DESCRIPTOR whose stride is the DescriptorSize the firmware
// reports, not sizeof the struct, because firmware is allowed to append fields
// (real machines report 48 bytes). After ExitBootServices the loader's and the
// boot services' memory is ordinary RAM again, so those types count as free
// together with conventional memory - but only when the range is write-back
// cacheable, since RAM the CPU cannot cache normally is not general purpose.
#pragma once

#include <cstddef>
#include <cstdint>

#include "framealloc/memmap/common.hpp"

namespace framealloc::memmap {

/// EFI_MEMORY_TYPE values (UEFI 2.10, section 7.2).
inline constexpr std::uint32_t kEfiReservedMemoryType = 0;
inline constexpr std::uint32_t kEfiLoaderCode = 1;
inline constexpr std::uint32_t kEfiLoaderData = 2;
inline constexpr std::uint32_t kEfiBootServicesCode = 3;
inline constexpr std::uint32_t kEfiBootServicesData = 4;
inline constexpr std::uint32_t kEfiRuntimeServicesCode = 5;
inline constexpr std::uint32_t kEfiRuntimeServicesData = 6;
inline constexpr std::uint32_t kEfiConventionalMemory = 7;
inline constexpr std::uint32_t kEfiUnusableMemory = 8;
inline constexpr std::uint32_t kEfiAcpiReclaimMemory = 9;
inline constexpr std::uint32_t kEfiAcpiMemoryNvs = 10;
inline constexpr std::uint32_t kEfiMemoryMappedIo = 11;
inline constexpr std::uint32_t kEfiMemoryMappedIoPortSpace = 12;
inline constexpr std::uint32_t kEfiPalCode = 13;
inline constexpr std::uint32_t kEfiPersistentMemory = 14;
inline constexpr std::uint32_t kEfiUnacceptedMemory = 15;

/// EFI memory attribute bits.
inline constexpr std::uint64_t kEfiMemoryUc = 0x1;
inline constexpr std::uint64_t kEfiMemoryWc = 0x2;
inline constexpr std::uint64_t kEfiMemoryWt = 0x4;
inline constexpr std::uint64_t kEfiMemoryWb = 0x8;
inline constexpr std::uint64_t kEfiMemoryUce = 0x10;
inline constexpr std::uint64_t kEfiMemoryWp = 0x1000;
inline constexpr std::uint64_t kEfiMemoryRp = 0x2000;
inline constexpr std::uint64_t kEfiMemoryXp = 0x4000;
inline constexpr std::uint64_t kEfiMemoryNv = 0x8000;
inline constexpr std::uint64_t kEfiMemoryMoreReliable = 0x10000;
inline constexpr std::uint64_t kEfiMemoryRo = 0x20000;
inline constexpr std::uint64_t kEfiMemorySp = 0x40000;
inline constexpr std::uint64_t kEfiMemoryCpuCrypto = 0x80000;
inline constexpr std::uint64_t kEfiMemoryRuntime = 0x8000000000000000ULL;

/// The fields of EFI_MEMORY_DESCRIPTOR that version 1 defines: 40 bytes
/// (type, 4 bytes of padding, then four u64). Larger strides are allowed.
inline constexpr std::size_t kEfiDescriptorMinSize = 40;
/// UEFI pages are always 4 KiB, whatever the CPU's page size.
inline constexpr std::uint64_t kEfiPageSize = 4096;

/// True when a descriptor of `type` with `attribute` is general-purpose RAM
/// once boot services have exited.
[[nodiscard]] constexpr bool uefi_is_usable(std::uint32_t type, std::uint64_t attribute) {
    switch (type) {
        case kEfiLoaderCode:
        case kEfiLoaderData:
        case kEfiBootServicesCode:
        case kEfiBootServicesData:
        case kEfiConventionalMemory:
            break;
        default:
            return false;
    }
    // "Specific purpose" memory is set aside by the platform for one driver
    // (e.g. HBM for an accelerator); Linux keeps it soft-reserved, and so do we.
    return (attribute & kEfiMemoryWb) != 0 && (attribute & kEfiMemorySp) == 0;
}

/// Parses a UEFI memory map of `size_bytes` bytes whose descriptors are
/// `descriptor_size` bytes apart (the DescriptorSize GetMemoryMap() returned),
/// and passes one region per non-empty descriptor to `sink`.
///
/// Errors: kInvalidArgument for a null buffer or a descriptor size below 40;
/// kBadRegion when the map ends inside a descriptor; kOverflow when a
/// descriptor's page count does not fit in bytes or its range wraps past 2^64;
/// any error the sink returns (parsing stops there).
template <typename Sink>
requires RegionSink<Sink>
[[nodiscard]] Status parse_uefi(const void* data, std::size_t size_bytes,
                                std::size_t descriptor_size, Sink&& sink) {
    if (descriptor_size < kEfiDescriptorMinSize) {
        return make_error(ErrorKind::kInvalidArgument,
                          "UEFI descriptor size is smaller than EFI_MEMORY_DESCRIPTOR");
    }
    if (size_bytes == 0) {
        return {};
    }
    if (data == nullptr) {
        return make_error(ErrorKind::kInvalidArgument, "UEFI memory map is null");
    }
    if (size_bytes % descriptor_size != 0) {
        return make_error(ErrorKind::kBadRegion, "UEFI memory map ends inside a descriptor");
    }
    const auto* bytes = static_cast<const unsigned char*>(data);
    for (std::size_t offset = 0; offset < size_bytes; offset += descriptor_size) {
        const std::uint32_t type = detail::le32(bytes, offset);
        const std::uint64_t physical_start = detail::le64(bytes, offset + 8);
        const std::uint64_t pages = detail::le64(bytes, offset + 24);
        const std::uint64_t attribute = detail::le64(bytes, offset + 32);
        if (pages > (~0ULL / kEfiPageSize)) {
            return make_error(ErrorKind::kOverflow, "UEFI descriptor page count overflows 64 bits");
        }
        const MemoryRegionType region_type =
            uefi_is_usable(type, attribute) ? MemoryRegionType::kFree : MemoryRegionType::kReserved;
        FRAMEALLOC_TRY(detail::emit(sink, physical_start, pages * kEfiPageSize, region_type));
    }
    return {};
}

}  // namespace framealloc::memmap
