// The SRAT and SLIT writer of acpi_builder.hpp.
#include "acpi_builder.hpp"

#include <cstddef>

namespace framealloc::memmap_text {

namespace {

void put(std::vector<std::uint8_t>& out, std::uint64_t value, unsigned width) {
    for (unsigned i = 0; i < width; ++i) {
        out.push_back(static_cast<std::uint8_t>(value >> (8 * i)));
    }
}

void put_text(std::vector<std::uint8_t>& out, const char* text, std::size_t width) {
    for (std::size_t i = 0; i < width; ++i) {
        out.push_back(static_cast<std::uint8_t>(text[i]));
    }
}

// The 36-byte common header; length and checksum are filled in by acpi_seal().
std::vector<std::uint8_t> header(const char* signature, std::uint8_t revision) {
    std::vector<std::uint8_t> out;
    put_text(out, signature, 4);
    put(out, 0, 4);  // length
    out.push_back(revision);
    out.push_back(0);  // checksum
    put_text(out, "FRMALC", 6);
    put_text(out, "NUMATEST", 8);
    put(out, 1, 4);  // OEM revision
    put_text(out, "FATB", 4);
    put(out, 1, 4);  // creator revision
    return out;
}

}  // namespace

void acpi_seal(std::vector<std::uint8_t>& table) {
    const auto length = static_cast<std::uint32_t>(table.size());
    for (unsigned i = 0; i < 4; ++i) {
        table[4 + i] = static_cast<std::uint8_t>(length >> (8 * i));
    }
    table[9] = 0;
    unsigned sum = 0;
    for (const std::uint8_t b : table) {
        sum += b;
    }
    table[9] = static_cast<std::uint8_t>(0x100U - (sum & 0xffU));
}

SratBuilder::SratBuilder(std::uint8_t revision) : bytes_(header("SRAT", revision)) {
    put(bytes_, 1, 4);  // reserved, 1 for backward compatibility
    put(bytes_, 0, 8);  // reserved
}

void SratBuilder::local_apic(std::uint8_t apic_id, std::uint32_t domain, bool enabled) {
    bytes_.push_back(0);
    bytes_.push_back(16);
    bytes_.push_back(static_cast<std::uint8_t>(domain));
    bytes_.push_back(apic_id);
    put(bytes_, enabled ? 1 : 0, 4);
    bytes_.push_back(0);          // local SAPIC EID
    put(bytes_, domain >> 8, 3);  // proximity domain [31:8]
    put(bytes_, 0, 4);            // clock domain
}

void SratBuilder::memory(std::uint64_t base, std::uint64_t length, std::uint32_t domain,
                         bool enabled, bool hot_pluggable, bool non_volatile) {
    bytes_.push_back(1);
    bytes_.push_back(40);
    put(bytes_, domain, 4);
    put(bytes_, 0, 2);  // reserved
    put(bytes_, base, 8);
    put(bytes_, length, 8);
    put(bytes_, 0, 4);  // reserved
    put(bytes_, (enabled ? 1U : 0U) | (hot_pluggable ? 2U : 0U) | (non_volatile ? 4U : 0U), 4);
    put(bytes_, 0, 8);  // reserved
}

void SratBuilder::x2apic(std::uint32_t x2apic_id, std::uint32_t domain, bool enabled) {
    bytes_.push_back(2);
    bytes_.push_back(24);
    put(bytes_, 0, 2);  // reserved
    put(bytes_, domain, 4);
    put(bytes_, x2apic_id, 4);
    put(bytes_, enabled ? 1 : 0, 4);
    put(bytes_, 0, 4);  // clock domain
    put(bytes_, 0, 4);  // reserved
}

void SratBuilder::other(std::uint8_t type, std::uint8_t length, std::uint8_t fill) {
    bytes_.push_back(type);
    bytes_.push_back(length);
    for (unsigned i = 2; i < length; ++i) {
        bytes_.push_back(fill);
    }
}

std::vector<std::uint8_t> SratBuilder::finish() const {
    std::vector<std::uint8_t> out = bytes_;
    acpi_seal(out);
    return out;
}

std::vector<std::uint8_t> build_slit(std::uint64_t localities,
                                     const std::vector<std::uint8_t>& matrix) {
    std::vector<std::uint8_t> out = header("SLIT", 1);
    put(out, localities, 8);
    out.insert(out.end(), matrix.begin(), matrix.end());
    acpi_seal(out);
    return out;
}

}  // namespace framealloc::memmap_text
