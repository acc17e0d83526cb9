// Implementation of FdtBuilder: serialises nodes and properties into the
// big-endian FDT layout (header, 8-byte aligned reservation block, 4-byte
// aligned structure block, strings block), sharing property-name strings.
#include "fdt_builder.hpp"

#include <cstddef>

#include "framealloc/memmap/fdt.hpp"

namespace framealloc::memmap_text {
namespace {

void put_be32(std::vector<std::uint8_t>& out, std::uint32_t value) {
    for (int shift = 24; shift >= 0; shift -= 8) {
        out.push_back(static_cast<std::uint8_t>(value >> shift));
    }
}

void put_be64(std::vector<std::uint8_t>& out, std::uint64_t value) {
    put_be32(out, static_cast<std::uint32_t>(value >> 32));
    put_be32(out, static_cast<std::uint32_t>(value));
}

}  // namespace

void FdtBuilder::add_reservation(std::uint64_t address, std::uint64_t size) {
    reservations_.push_back(address);
    reservations_.push_back(size);
}

void FdtBuilder::token(std::uint32_t value) {
    put_be32(struct_, value);
}

void FdtBuilder::pad_struct() {
    while (struct_.size() % 4 != 0) {
        struct_.push_back(0);
    }
}

void FdtBuilder::begin_node(std::string_view name) {
    token(memmap::kFdtBeginNode);
    struct_.insert(struct_.end(), name.begin(), name.end());
    struct_.push_back(0);
    pad_struct();
    ++open_nodes_;
}

void FdtBuilder::end_node() {
    token(memmap::kFdtEndNode);
    --open_nodes_;
}

std::uint32_t FdtBuilder::string_offset(std::string_view name) {
    // Reuse an existing name so repeated properties share one string, as dtc does.
    std::string key(name);
    key.push_back('\0');
    const std::size_t found = strings_.find(key);
    if (found != std::string::npos && (found == 0 || strings_[found - 1] == '\0')) {
        return static_cast<std::uint32_t>(found);
    }
    const auto offset = static_cast<std::uint32_t>(strings_.size());
    strings_ += key;
    return offset;
}

void FdtBuilder::property(std::string_view name, const std::vector<std::uint8_t>& value) {
    token(memmap::kFdtProp);
    put_be32(struct_, static_cast<std::uint32_t>(value.size()));
    put_be32(struct_, string_offset(name));
    struct_.insert(struct_.end(), value.begin(), value.end());
    pad_struct();
}

void FdtBuilder::property_u32(std::string_view name, std::uint32_t value) {
    std::vector<std::uint8_t> bytes;
    put_be32(bytes, value);
    property(name, bytes);
}

void FdtBuilder::property_string(std::string_view name, std::string_view value) {
    std::vector<std::uint8_t> bytes(value.begin(), value.end());
    bytes.push_back(0);
    property(name, bytes);
}

void FdtBuilder::property_cells(std::string_view name, const std::vector<std::uint32_t>& cells) {
    std::vector<std::uint8_t> bytes;
    for (std::uint32_t cell : cells) {
        put_be32(bytes, cell);
    }
    property(name, bytes);
}

void FdtBuilder::append_cells(std::vector<std::uint32_t>& out, std::uint64_t value,
                              unsigned cells) {
    for (unsigned i = cells; i > 0; --i) {
        const unsigned shift = 32 * (i - 1);
        out.push_back(shift >= 64 ? 0 : static_cast<std::uint32_t>(value >> shift));
    }
}

std::vector<std::uint8_t> FdtBuilder::finish() {
    while (open_nodes_ > 0) {
        end_node();
    }
    token(memmap::kFdtEnd);

    std::vector<std::uint8_t> rsvmap;
    for (std::uint64_t value : reservations_) {
        put_be64(rsvmap, value);
    }
    put_be64(rsvmap, 0);
    put_be64(rsvmap, 0);

    const std::size_t off_rsvmap = memmap::kFdtHeaderSize;  // 40, already 8-aligned
    const std::size_t off_struct = off_rsvmap + rsvmap.size();
    const std::size_t off_strings = off_struct + struct_.size();
    const std::size_t total = off_strings + strings_.size();

    std::vector<std::uint8_t> blob;
    blob.reserve(total);
    put_be32(blob, memmap::kFdtMagic);
    put_be32(blob, static_cast<std::uint32_t>(total));
    put_be32(blob, static_cast<std::uint32_t>(off_struct));
    put_be32(blob, static_cast<std::uint32_t>(off_strings));
    put_be32(blob, static_cast<std::uint32_t>(off_rsvmap));
    put_be32(blob, 17);  // version
    put_be32(blob, 16);  // last compatible version
    put_be32(blob, 0);   // boot_cpuid_phys
    put_be32(blob, static_cast<std::uint32_t>(strings_.size()));
    put_be32(blob, static_cast<std::uint32_t>(struct_.size()));
    blob.insert(blob.end(), rsvmap.begin(), rsvmap.end());
    blob.insert(blob.end(), struct_.begin(), struct_.end());
    blob.insert(blob.end(), strings_.begin(), strings_.end());
    return blob;
}

}  // namespace framealloc::memmap_text
