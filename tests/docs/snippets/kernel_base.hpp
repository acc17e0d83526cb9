// The freestanding kernel environment of the kernel wrappers: the four memory
// routines a freestanding compiler may call, and stand-ins for the kernel's own
// helpers that the examples call.
#pragma once

#include <cstddef>
#include <cstdint>

#include <framealloc/framealloc.hpp>

namespace fa = framealloc;

extern "C" {
void* memcpy(void* d, const void* s, std::size_t n) {
    for (std::size_t i = 0; i < n; ++i)
        static_cast<char*>(d)[i] = static_cast<const char*>(s)[i];
    return d;
}
void* memmove(void* d, const void* s, std::size_t n) {
    if (d < s)
        return memcpy(d, s, n);
    for (std::size_t i = n; i > 0; --i)
        static_cast<char*>(d)[i - 1] = static_cast<const char*>(s)[i - 1];
    return d;
}
void* memset(void* d, int c, std::size_t n) {
    for (std::size_t i = 0; i < n; ++i)
        static_cast<unsigned char*>(d)[i] = static_cast<unsigned char>(c);
    return d;
}
int memcmp(const void* a, const void* b, std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) {
        const int d =
            static_cast<const unsigned char*>(a)[i] - static_cast<const unsigned char*>(b)[i];
        if (d != 0)
            return d;
    }
    return 0;
}
}

// The kernel's own helpers the examples call.
namespace {
[[maybe_unused]] void serial_write(const char*) {}
[[maybe_unused, noreturn]] void halt_forever() {
    for (;;) {
    }
}
struct PerCpu {
    unsigned index;
};
PerCpu g_cpu0{};
[[maybe_unused]] PerCpu* this_cpu() {
    return &g_cpu0;
}
}  // namespace
