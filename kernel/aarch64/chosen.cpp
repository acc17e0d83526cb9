// A minimal walk of the device tree's structure block, looking only for the
// bootargs property of the root's child "chosen". framealloc's parse_fdt reads
// memory nodes only; this is the kernel's own business. Token and header
// layout: Devicetree Specification 0.4, chapter 5.
#include "chosen.hpp"

#include <cstdint>

namespace kernel {
namespace {

constexpr std::uint32_t kBeginNode = 1;
constexpr std::uint32_t kEndNode = 2;
constexpr std::uint32_t kProp = 3;
constexpr std::uint32_t kNop = 4;
constexpr std::size_t kHeaderBytes = 40;

std::uint32_t be32(const unsigned char* p) {
    return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) |
           std::uint32_t{p[3]};
}

// Length of the string at `offset`, or `limit - offset` if unterminated.
std::size_t bounded_length(const unsigned char* blob, std::size_t offset, std::size_t limit) {
    std::size_t i = offset;
    while (i < limit && blob[i] != 0) {
        ++i;
    }
    return i - offset;
}

bool equals(const unsigned char* text, const char* literal) {
    std::size_t i = 0;
    for (; literal[i] != '\0'; ++i) {
        if (text[i] != static_cast<unsigned char>(literal[i])) {
            return false;
        }
    }
    return text[i] == 0;
}

}  // namespace

const char* device_tree_bootargs(const unsigned char* blob, std::size_t size) {
    if (size < kHeaderBytes) {
        return nullptr;
    }
    const std::size_t off_struct = be32(blob + 8);
    const std::size_t off_strings = be32(blob + 12);
    const std::size_t strings_bytes = be32(blob + 32);
    const std::size_t struct_bytes = be32(blob + 36);
    if (off_struct > size || struct_bytes > size - off_struct || off_strings > size ||
        strings_bytes > size - off_strings) {
        return nullptr;
    }
    const std::size_t end = off_struct + struct_bytes;
    const std::size_t strings_end = off_strings + strings_bytes;
    unsigned depth = 0;
    bool in_chosen = false;
    for (std::size_t at = off_struct; at + 4 <= end;) {
        const std::uint32_t token = be32(blob + at);
        at += 4;
        if (token == kBeginNode) {
            const std::size_t length = bounded_length(blob, at, end);
            if (at + length >= end) {
                return nullptr;
            }
            ++depth;
            if (depth == 2) {
                in_chosen = equals(blob + at, "chosen");
            }
            at += (length + 1 + 3) & ~std::size_t{3};
        } else if (token == kEndNode) {
            if (depth <= 1) {
                return nullptr;  // the root closed without a /chosen/bootargs
            }
            in_chosen = in_chosen && depth != 2;
            --depth;
        } else if (token == kProp) {
            if (at + 8 > end) {
                return nullptr;
            }
            const std::size_t length = be32(blob + at);
            const std::size_t name = off_strings + be32(blob + at + 4);
            at += 8;
            if (length > end - at || name >= strings_end ||
                bounded_length(blob, name, strings_end) == strings_end - name) {
                return nullptr;
            }
            if (in_chosen && depth == 2 && equals(blob + name, "bootargs") && length > 0 &&
                blob[at + length - 1] == 0) {
                return reinterpret_cast<const char*>(blob + at);
            }
            at += (length + 3) & ~std::size_t{3};
        } else if (token != kNop) {
            return nullptr;  // FDT_END or garbage
        }
    }
    return nullptr;
}

}  // namespace kernel
