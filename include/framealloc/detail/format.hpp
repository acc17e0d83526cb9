// Number formatting for state dumps, without printf: the core has no libc.
#pragma once

#include <cstdint>

namespace framealloc::detail {

/// Enough room for "0x" + 16 hex digits or 20 decimal digits, and a NUL.
struct NumberText {
    char text[24];
};

[[nodiscard]] constexpr NumberText to_hex(std::uint64_t value) {
    NumberText out{};
    constexpr char kDigits[] = "0123456789abcdef";
    char tmp[16];
    int n = 0;
    do {
        tmp[n++] = kDigits[value & 0xf];
        value >>= 4;
    } while (value != 0);
    int i = 0;
    out.text[i++] = '0';
    out.text[i++] = 'x';
    while (n > 0) {
        out.text[i++] = tmp[--n];
    }
    out.text[i] = '\0';
    return out;
}

[[nodiscard]] constexpr NumberText to_dec(std::uint64_t value) {
    NumberText out{};
    char tmp[20];
    int n = 0;
    do {
        tmp[n++] = static_cast<char>('0' + value % 10);
        value /= 10;
    } while (value != 0);
    int i = 0;
    while (n > 0) {
        out.text[i++] = tmp[--n];
    }
    out.text[i] = '\0';
    return out;
}

}  // namespace framealloc::detail
