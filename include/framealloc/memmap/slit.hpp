// Reader of the ACPI System Locality Information Table (SLIT): the relative
// distance between every pair of proximity domains (localities), an N x N
// byte matrix after an 8-byte count. The table is checked as a whole
// (acpi_table.hpp: header, length, checksum), then the matrix is held to the
// rules Linux applies before trusting it: 10 on the diagonal, more than 10
// everywhere else (255 means unreachable).
#pragma once

#include <cstddef>
#include <cstdint>

#include "framealloc/memmap/acpi_table.hpp"
#include "framealloc/memmap/common.hpp"
#include "framealloc/memmap/numa.hpp"
#include "framealloc/span.hpp"

namespace framealloc::memmap {

/// The SLIT's fixed part: the common header and the locality count.
inline constexpr std::size_t kSlitHeaderSize = 44;
/// More localities than this cannot fit a table whose length is a u32.
inline constexpr std::uint64_t kSlitMaxLocalities = 0xffff;

/// A checked SLIT matrix, pointing into the caller's buffer.
struct SlitMatrix {
    std::uint64_t localities = 0;
    const unsigned char* entries = nullptr;

    /// The distance from locality `from` to `to` (both < localities).
    [[nodiscard]] constexpr std::uint8_t distance(std::uint64_t from, std::uint64_t to) const {
        return entries[from * localities + to];
    }

    /// Copies the matrix row by row into `out`, which must hold exactly
    /// localities * localities bytes (NodeSet::init() takes that form).
    /// Errors: kInvalidArgument for a buffer of another size.
    [[nodiscard]] constexpr Status copy_to(Span<std::uint8_t> out) const {
        if (out.size() != localities * localities) {
            return make_error(ErrorKind::kInvalidArgument,
                              "distance buffer is not localities x localities bytes");
        }
        for (std::size_t i = 0; i < out.size(); ++i) {
            out[i] = entries[i];
        }
        return {};
    }

    /// Passes every entry to `sink`, row by row; stops at a sink's error.
    template <typename Sink>
    requires NumaDistanceSink<Sink>
    [[nodiscard]] constexpr Status for_each(Sink&& sink) const {
        for (std::uint64_t i = 0; i < localities; ++i) {
            for (std::uint64_t j = 0; j < localities; ++j) {
                FRAMEALLOC_TRY(static_cast<Status>(
                    sink(NumaDistance{static_cast<std::uint32_t>(i), static_cast<std::uint32_t>(j),
                                      distance(i, j)})));
            }
        }
        return {};
    }
};

/// Reads a SLIT of at most `size_bytes` readable bytes. Errors: those of
/// acpi_open() (signature "SLIT"); kBadRegion for no localities, a matrix
/// that does not fit the table's length, a diagonal entry other than 10 or
/// another entry of 10 or less.
[[nodiscard]] constexpr Result<SlitMatrix> parse_slit(const void* data, std::size_t size_bytes) {
    auto table = acpi_open(data, size_bytes, "SLIT", kSlitHeaderSize);
    if (!table) {
        return table.error();
    }
    const std::uint64_t n = detail::le64(table->bytes, kAcpiHeaderSize);
    if (n == 0) {
        return make_error(ErrorKind::kBadRegion, "SLIT has no localities");
    }
    if (n > kSlitMaxLocalities || n * n > table->length - kSlitHeaderSize) {
        return make_error(ErrorKind::kBadRegion, "SLIT matrix does not fit the table's length");
    }
    const SlitMatrix matrix{n, table->bytes + kSlitHeaderSize};
    for (std::uint64_t i = 0; i < n; ++i) {
        for (std::uint64_t j = 0; j < n; ++j) {
            const std::uint8_t d = matrix.distance(i, j);
            if (i == j && d != kNumaLocalDistance) {
                return make_error(ErrorKind::kBadRegion,
                                  "SLIT distance of a locality to itself is not 10");
            }
            if (i != j && d <= kNumaLocalDistance) {
                return make_error(ErrorKind::kBadRegion,
                                  "SLIT distance between two localities is not above 10");
            }
        }
    }
    return matrix;
}

}  // namespace framealloc::memmap
