// fw_cfg over I/O ports (QEMU docs/specs/fw_cfg.rst): write a 16-bit selector
// to port 0x510, then read the item byte by byte from port 0x511. Item 0x0000
// holds the signature "QEMU"; item 0x0019 the file directory: a big-endian
// u32 count, then per file a big-endian u32 size, u16 selector, u16 reserved
// and a 56-byte NUL-padded name.
#include "fw_cfg.hpp"

#include <cstdint>

#include "x86.hpp"

namespace kernel::fw_cfg {
namespace {

constexpr std::uint16_t kSelectorPort = 0x510;
constexpr std::uint16_t kDataPort = 0x511;
constexpr std::uint16_t kSignature = 0x0000;
constexpr std::uint16_t kFileDirectory = 0x0019;
constexpr std::size_t kNameBytes = 56;

void select(std::uint16_t item) {
    asm volatile("outw %0, %1" : : "a"(item), "Nd"(kSelectorPort) : "memory");
}

std::uint32_t read_be(unsigned bytes) {
    std::uint32_t value = 0;
    for (unsigned i = 0; i < bytes; ++i) {
        value = (value << 8) | inb(kDataPort);
    }
    return value;
}

}  // namespace

bool read_file(const char* name, char* buffer, std::size_t capacity) {
    buffer[0] = '\0';
    select(kSignature);
    if (read_be(4) != 0x51454d55) {  // "QEMU"
        return false;
    }
    select(kFileDirectory);
    const std::uint32_t count = read_be(4);
    std::uint32_t size = 0;
    std::uint16_t item = 0;
    bool found = false;
    for (std::uint32_t file = 0; file < count; ++file) {
        const std::uint32_t file_size = read_be(4);
        const auto file_item = static_cast<std::uint16_t>(read_be(2));
        (void)read_be(2);
        bool same = true;
        bool ended = false;
        for (std::size_t i = 0; i < kNameBytes; ++i) {
            const char c = static_cast<char>(inb(kDataPort));
            if (!ended) {
                same = same && c == name[i];
                ended = c == '\0' || name[i] == '\0';
            }
        }
        if (same && !found) {
            found = true;
            size = file_size;
            item = file_item;
        }
    }
    if (!found) {
        return false;
    }
    select(item);
    std::size_t length = 0;
    for (std::uint32_t i = 0; i < size; ++i) {
        const char c = static_cast<char>(inb(kDataPort));
        if (length + 1 < capacity) {
            buffer[length++] = c;
        }
    }
    buffer[length] = '\0';
    return true;
}

}  // namespace kernel::fw_cfg
