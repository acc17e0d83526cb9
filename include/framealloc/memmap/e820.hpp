// Parser for the BIOS INT 15h/E820 memory map, the table a legacy-BIOS (or
// CSM) x86 machine reports and that bootloaders pass on as an array. Only type
// 1 is RAM the kernel may hand out; every other type, including vendor numbers
// nobody documents, stays reserved so that no byte the firmware claims is ever
// allocated by accident. Entries may arrive unsorted, overlapping or unaligned;
// that is the allocator's init() to sort out, not ours.
#pragma once

#include <cstddef>
#include <cstdint>

#include "framealloc/memmap/common.hpp"

namespace framealloc::memmap {

/// E820 type numbers (ACPI "Address Range Types" plus Linux's additions).
inline constexpr std::uint32_t kE820Usable = 1;
inline constexpr std::uint32_t kE820Reserved = 2;
inline constexpr std::uint32_t kE820AcpiData = 3;
inline constexpr std::uint32_t kE820AcpiNvs = 4;
inline constexpr std::uint32_t kE820Unusable = 5;
inline constexpr std::uint32_t kE820Pmem = 7;
inline constexpr std::uint32_t kE820Pram = 12;
inline constexpr std::uint32_t kE820SoftReserved = 0xefffffff;

/// Entry sizes: the classic 20-byte entry, and 24 bytes with the ACPI 3.0
/// extended attributes word.
inline constexpr std::size_t kE820EntrySize = 20;
inline constexpr std::size_t kE820ExtendedEntrySize = 24;

/// ACPI 3.0 extended attribute bits.
inline constexpr std::uint32_t kE820AttrEnabled = 1U << 0;
inline constexpr std::uint32_t kE820AttrNonVolatile = 1U << 1;

/// True when an entry of `type` (with `ext_attrs`, when the entry has them)
/// may be handed out as general-purpose memory.
[[nodiscard]] constexpr bool e820_is_usable(std::uint32_t type, bool has_ext_attrs,
                                            std::uint32_t ext_attrs) {
    if (type != kE820Usable) {
        return false;
    }
    // ACPI 3.0 tells the OS to ignore disabled entries and not to use
    // non-volatile ranges as ordinary RAM; keeping them reserved instead of
    // dropping them still stops the allocator from handing them out.
    if (has_ext_attrs &&
        ((ext_attrs & kE820AttrEnabled) == 0 || (ext_attrs & kE820AttrNonVolatile) != 0)) {
        return false;
    }
    return true;
}

/// Parses `size_bytes` bytes of e820 entries laid out back to back, each
/// `entry_size` bytes (20, or 24 with extended attributes), and passes one
/// region per non-empty entry to `sink`.
///
/// Errors: kInvalidArgument for a null buffer or an entry size other than 20
/// or 24; kBadRegion when the buffer ends inside an entry; kOverflow when an
/// entry wraps past 2^64; any error the sink returns (parsing stops there).
template <typename Sink>
requires RegionSink<Sink>
[[nodiscard]] Status parse_e820(const void* data, std::size_t size_bytes, std::size_t entry_size,
                                Sink&& sink) {
    if (entry_size != kE820EntrySize && entry_size != kE820ExtendedEntrySize) {
        return make_error(ErrorKind::kInvalidArgument, "e820 entry size must be 20 or 24");
    }
    if (size_bytes == 0) {
        return {};
    }
    if (data == nullptr) {
        return make_error(ErrorKind::kInvalidArgument, "e820 buffer is null");
    }
    if (size_bytes % entry_size != 0) {
        return make_error(ErrorKind::kBadRegion, "e820 buffer ends inside an entry");
    }
    const auto* bytes = static_cast<const unsigned char*>(data);
    const bool has_ext = entry_size == kE820ExtendedEntrySize;
    for (std::size_t offset = 0; offset < size_bytes; offset += entry_size) {
        const std::uint64_t base = detail::le64(bytes, offset);
        const std::uint64_t length = detail::le64(bytes, offset + 8);
        const std::uint32_t type = detail::le32(bytes, offset + 16);
        const std::uint32_t ext = has_ext ? detail::le32(bytes, offset + 20) : 0;
        const MemoryRegionType region_type = e820_is_usable(type, has_ext, ext)
                                                 ? MemoryRegionType::kFree
                                                 : MemoryRegionType::kReserved;
        FRAMEALLOC_TRY(detail::emit(sink, base, length, region_type));
    }
    return {};
}

}  // namespace framealloc::memmap
