// The checks every ACPI system description table gets before a reader looks
// inside it: the 36-byte common header, its signature, a length that fits
// both the buffer and the table's own fixed part, and the checksum (all
// `length` bytes sum to zero modulo 256). Firmware tables are untrusted
// input; a reader only ever reads inside the length this returns.
#pragma once

#include <cstddef>
#include <cstdint>

#include "framealloc/memmap/common.hpp"

namespace framealloc::memmap {

/// Size of the common header of every ACPI system description table.
inline constexpr std::size_t kAcpiHeaderSize = 36;

/// A table whose header has been checked: `length` bytes of `bytes` are
/// readable and belong to it.
struct AcpiTable {
    const unsigned char* bytes = nullptr;
    std::size_t length = 0;
    std::uint8_t revision = 0;
};

/// Checks the table at `data` (at most `size_bytes` readable bytes) against
/// `signature` (four characters) and the length of its fixed part,
/// `min_length`. Errors: kInvalidArgument for a null buffer or another
/// table's signature; kBadRegion for a buffer shorter than the header, a
/// length below the fixed part or past the buffer, or a checksum that does
/// not sum to zero.
[[nodiscard]] constexpr Result<AcpiTable> acpi_open(const void* data, std::size_t size_bytes,
                                                    const char* signature, std::size_t min_length) {
    if (data == nullptr) {
        return make_error(ErrorKind::kInvalidArgument, "ACPI table is null");
    }
    const auto* bytes = static_cast<const unsigned char*>(data);
    if (size_bytes < kAcpiHeaderSize) {
        return make_error(ErrorKind::kBadRegion, "ACPI table is shorter than its header");
    }
    for (std::size_t i = 0; i < 4; ++i) {
        if (bytes[i] != static_cast<unsigned char>(signature[i])) {
            return make_error(ErrorKind::kInvalidArgument,
                              "ACPI table signature is not the one asked for");
        }
    }
    const std::size_t length = detail::le32(bytes, 4);
    if (length < min_length) {
        return make_error(ErrorKind::kBadRegion, "ACPI table length is below its fixed part");
    }
    if (length > size_bytes) {
        return make_error(ErrorKind::kBadRegion, "ACPI table length runs past the buffer");
    }
    unsigned sum = 0;
    for (std::size_t i = 0; i < length; ++i) {
        sum += bytes[i];
    }
    if ((sum & 0xffU) != 0) {
        return make_error(ErrorKind::kBadRegion, "ACPI table checksum does not sum to zero");
    }
    return AcpiTable{bytes, length, bytes[8]};
}

}  // namespace framealloc::memmap
