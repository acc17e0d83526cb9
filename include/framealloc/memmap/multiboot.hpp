// Parsers for the memory maps a Multiboot-compliant bootloader (GRUB, QEMU's
// -kernel, Limine, bochs) hands to the kernel: the Multiboot 1 `mmap` buffer,
// the Multiboot 2 memory-map tag (type 6), and a walker that finds that tag in
// a whole Multiboot 2 information structure. Both versions carry the e820
// types through unchanged, so only type 1 is free. Every size field in these
// structures comes from the loader and is checked before it is trusted: a zero
// or short size would otherwise loop forever or read past the buffer.
#pragma once

#include <cstddef>
#include <cstdint>

#include "framealloc/memmap/common.hpp"
#include "framealloc/span.hpp"

namespace framealloc::memmap {

/// Multiboot memory types (the same numbers as e820).
inline constexpr std::uint32_t kMultibootMemoryAvailable = 1;
inline constexpr std::uint32_t kMultibootMemoryReserved = 2;
inline constexpr std::uint32_t kMultibootMemoryAcpiReclaimable = 3;
inline constexpr std::uint32_t kMultibootMemoryNvs = 4;
inline constexpr std::uint32_t kMultibootMemoryBadRam = 5;

/// Multiboot 1: bytes an entry's `size` field must cover (base, length, type).
inline constexpr std::size_t kMultiboot1EntryMinSize = 20;

/// Multiboot 2 tag types this file knows.
inline constexpr std::uint32_t kMultiboot2TagEnd = 0;
inline constexpr std::uint32_t kMultiboot2TagMmap = 6;
/// Multiboot 2 memory-map tag header: type, size, entry_size, entry_version.
inline constexpr std::size_t kMultiboot2MmapHeaderSize = 16;
/// Multiboot 2 memory-map entry: base, length, type, reserved.
inline constexpr std::size_t kMultiboot2EntryMinSize = 24;

/// Parses a Multiboot 1 `mmap_addr`/`mmap_length` buffer. Each entry starts
/// with a u32 `size` that does not count itself, so the next entry begins
/// size + 4 bytes later.
///
/// Errors: kInvalidArgument for a null buffer; kBadRegion when an entry's size
/// is below 20 or an entry runs past the buffer; kOverflow for a range that
/// wraps past 2^64; any error the sink returns.
template <typename Sink>
requires RegionSink<Sink>
[[nodiscard]] Status parse_multiboot1_mmap(const void* data, std::size_t size_bytes, Sink&& sink) {
    if (size_bytes == 0) {
        return {};
    }
    if (data == nullptr) {
        return make_error(ErrorKind::kInvalidArgument, "multiboot mmap buffer is null");
    }
    const auto* bytes = static_cast<const unsigned char*>(data);
    std::size_t offset = 0;
    while (offset < size_bytes) {
        if (!detail::fits(size_bytes, offset, 4)) {
            return make_error(ErrorKind::kBadRegion, "multiboot mmap ends inside an entry");
        }
        const std::uint32_t entry_size = detail::le32(bytes, offset);
        if (entry_size < kMultiboot1EntryMinSize) {
            return make_error(ErrorKind::kBadRegion, "multiboot mmap entry size is below 20");
        }
        if (!detail::fits(size_bytes - offset, 4, entry_size)) {
            return make_error(ErrorKind::kBadRegion, "multiboot mmap entry runs past the buffer");
        }
        const std::uint64_t base = detail::le64(bytes, offset + 4);
        const std::uint64_t length = detail::le64(bytes, offset + 12);
        const std::uint32_t type = detail::le32(bytes, offset + 20);
        FRAMEALLOC_TRY(detail::emit(sink, base, length,
                                    type == kMultibootMemoryAvailable
                                        ? MemoryRegionType::kFree
                                        : MemoryRegionType::kReserved));
        offset += std::size_t{4} + entry_size;
    }
    return {};
}

/// Parses a Multiboot 2 memory-map tag (type 6), starting at the tag's type
/// field; `size_bytes` is how many bytes are readable from there (at least
/// the tag's own size).
///
/// Errors: kInvalidArgument for a null buffer or a tag of another type;
/// kBadRegion when the tag is shorter than its header, claims more bytes than
/// are readable, has an entry size below 24, or is not a whole number of
/// entries; kOverflow for a range that wraps; any error the sink returns.
template <typename Sink>
requires RegionSink<Sink>
[[nodiscard]] Status parse_multiboot2_mmap_tag(const void* data, std::size_t size_bytes,
                                               Sink&& sink) {
    if (data == nullptr) {
        return make_error(ErrorKind::kInvalidArgument, "multiboot2 mmap tag is null");
    }
    if (size_bytes < kMultiboot2MmapHeaderSize) {
        return make_error(ErrorKind::kBadRegion, "multiboot2 mmap tag is shorter than its header");
    }
    const auto* bytes = static_cast<const unsigned char*>(data);
    if (detail::le32(bytes, 0) != kMultiboot2TagMmap) {
        return make_error(ErrorKind::kInvalidArgument, "multiboot2 tag is not a memory map (6)");
    }
    const std::uint32_t tag_size = detail::le32(bytes, 4);
    const std::uint32_t entry_size = detail::le32(bytes, 8);
    if (tag_size < kMultiboot2MmapHeaderSize || tag_size > size_bytes) {
        return make_error(ErrorKind::kBadRegion, "multiboot2 mmap tag size is out of bounds");
    }
    if (entry_size < kMultiboot2EntryMinSize) {
        return make_error(ErrorKind::kBadRegion, "multiboot2 mmap entry size is below 24");
    }
    const std::size_t body = tag_size - kMultiboot2MmapHeaderSize;
    if (body % entry_size != 0) {
        return make_error(ErrorKind::kBadRegion,
                          "multiboot2 mmap tag is not a whole number of entries");
    }
    // entry_version is deliberately not checked: the spec promises that newer
    // versions only append fields, and entry_size already tells us the stride.
    for (std::size_t offset = kMultiboot2MmapHeaderSize; offset < tag_size; offset += entry_size) {
        const std::uint64_t base = detail::le64(bytes, offset);
        const std::uint64_t length = detail::le64(bytes, offset + 8);
        const std::uint32_t type = detail::le32(bytes, offset + 16);
        FRAMEALLOC_TRY(detail::emit(sink, base, length,
                                    type == kMultibootMemoryAvailable
                                        ? MemoryRegionType::kFree
                                        : MemoryRegionType::kReserved));
    }
    return {};
}

/// Finds the first tag of `type` in a Multiboot 2 information structure (the
/// address the loader leaves in EBX). Returns the tag's bytes, header included.
///
/// Errors: kInvalidArgument for a null buffer or when no such tag exists;
/// kBadRegion when total_size is out of bounds, a tag's size is below 8 or
/// runs past the structure, or the end tag is missing.
[[nodiscard]] inline Result<Span<const unsigned char>> find_multiboot2_tag(const void* info,
                                                                           std::size_t size_bytes,
                                                                           std::uint32_t type) {
    if (info == nullptr) {
        return make_error(ErrorKind::kInvalidArgument, "multiboot2 info is null");
    }
    if (size_bytes < 8) {
        return make_error(ErrorKind::kBadRegion, "multiboot2 info is shorter than its header");
    }
    const auto* bytes = static_cast<const unsigned char*>(info);
    const std::uint32_t total_size = detail::le32(bytes, 0);
    if (total_size < 8 || total_size > size_bytes) {
        return make_error(ErrorKind::kBadRegion, "multiboot2 info total_size is out of bounds");
    }
    std::size_t offset = 8;
    while (detail::fits(total_size, offset, 8)) {
        const std::uint32_t tag_type = detail::le32(bytes, offset);
        const std::uint32_t tag_size = detail::le32(bytes, offset + 4);
        if (tag_size < 8 || !detail::fits(total_size, offset, tag_size)) {
            return make_error(ErrorKind::kBadRegion, "multiboot2 tag size is out of bounds");
        }
        if (tag_type == type) {
            return Span<const unsigned char>(bytes + offset, tag_size);
        }
        if (tag_type == kMultiboot2TagEnd) {
            return make_error(ErrorKind::kInvalidArgument, "multiboot2 info has no such tag");
        }
        // Tags start on 8-byte boundaries; the padding is not part of tag_size.
        offset += (static_cast<std::size_t>(tag_size) + 7) & ~std::size_t{7};
    }
    return make_error(ErrorKind::kBadRegion, "multiboot2 info has no end tag");
}

/// Finds the memory-map tag in a whole Multiboot 2 information structure and
/// parses it. Errors: those of find_multiboot2_tag() (kInvalidArgument when
/// the loader gave no memory map) and of parse_multiboot2_mmap_tag().
template <typename Sink>
requires RegionSink<Sink>
[[nodiscard]] Status parse_multiboot2_info(const void* info, std::size_t size_bytes, Sink&& sink) {
    auto tag = find_multiboot2_tag(info, size_bytes, kMultiboot2TagMmap);
    if (!tag.has_value()) {
        return tag.error();
    }
    return parse_multiboot2_mmap_tag(tag.value().data(), tag.value().size(), sink);
}

}  // namespace framealloc::memmap
