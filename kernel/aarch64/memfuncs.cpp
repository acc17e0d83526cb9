// memcpy, memset, memmove and memcmp for the AArch64 kernel. Compilers emit
// calls to them even with -ffreestanding. Plain byte loops: no unaligned
// accesses (the early code runs with the MMU off, where they fault), no SIMD
// (-mgeneral-regs-only), and no_builtin keeps Clang from recognising a loop
// as memcpy and calling the function from itself.
#include <cstddef>

extern "C" {

__attribute__((no_builtin)) void* memcpy(void* destination, const void* source, std::size_t count) {
    auto* to = static_cast<unsigned char*>(destination);
    const auto* from = static_cast<const unsigned char*>(source);
    for (std::size_t i = 0; i < count; ++i) {
        to[i] = from[i];
    }
    return destination;
}

__attribute__((no_builtin)) void* memset(void* destination, int value, std::size_t count) {
    auto* to = static_cast<unsigned char*>(destination);
    for (std::size_t i = 0; i < count; ++i) {
        to[i] = static_cast<unsigned char>(value);
    }
    return destination;
}

__attribute__((no_builtin)) void* memmove(void* destination, const void* source,
                                          std::size_t count) {
    auto* to = static_cast<unsigned char*>(destination);
    const auto* from = static_cast<const unsigned char*>(source);
    if (to <= from || to >= from + count) {
        return memcpy(destination, source, count);
    }
    for (std::size_t i = count; i > 0; --i) {
        to[i - 1] = from[i - 1];
    }
    return destination;
}

__attribute__((no_builtin)) int memcmp(const void* left, const void* right, std::size_t count) {
    const auto* a = static_cast<const unsigned char*>(left);
    const auto* b = static_cast<const unsigned char*>(right);
    for (std::size_t i = 0; i < count; ++i) {
        if (a[i] != b[i]) {
            return a[i] < b[i] ? -1 : 1;
        }
    }
    return 0;
}

}  // extern "C"
