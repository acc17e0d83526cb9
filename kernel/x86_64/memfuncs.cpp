// memcpy, memset, memmove and memcmp for the x86_64 kernels (Multiboot and
// UEFI). Compilers emit calls to them even with -ffreestanding, so they must
// exist. The copies and fills use string instructions so the compiler cannot
// recognise their bodies as memcpy/memset loops and turn them back into calls
// to themselves; a compare loop is not a pattern either compiler rewrites.
#include <cstddef>

extern "C" {

void* memcpy(void* destination, const void* source, std::size_t count) {
    void* result = destination;
    asm volatile("rep movsb" : "+D"(destination), "+S"(source), "+c"(count) : : "memory");
    return result;
}

void* memset(void* destination, int value, std::size_t count) {
    void* result = destination;
    asm volatile("rep stosb"
                 : "+D"(destination), "+c"(count)
                 : "a"(static_cast<unsigned char>(value))
                 : "memory");
    return result;
}

void* memmove(void* destination, const void* source, std::size_t count) {
    auto* to = static_cast<unsigned char*>(destination);
    const auto* from = static_cast<const unsigned char*>(source);
    if (to <= from || to >= from + count) {
        return memcpy(destination, source, count);
    }
    // Overlap with the destination above the source: copy from the top down.
    void* last_to = to + count - 1;
    const void* last_from = from + count - 1;
    asm volatile("std; rep movsb; cld" : "+D"(last_to), "+S"(last_from), "+c"(count) : : "memory");
    return destination;
}

int memcmp(const void* left, const void* right, std::size_t count) {
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
