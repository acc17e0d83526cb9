// Freestanding C/C++ run-time support for the kernel. GCC emits calls to
// memcpy, memset, memmove and memcmp even with -ffreestanding, so they must
// exist. The copies and fills use string instructions so the compiler cannot
// recognise their bodies as memcpy/memset loops and turn them back into calls
// to themselves; a compare loop is not a pattern either compiler rewrites.
// Global destructors never run (the kernel exits through QEMU), so
// __cxa_atexit only has to accept the registration.
#include "runtime.hpp"

#include <cstddef>
#include <cstdint>

#include "console.hpp"

extern "C" {

using InitFunction = void (*)();
extern InitFunction __init_array_start[];
extern InitFunction __init_array_end[];

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

// Referenced by every __cxa_atexit registration of a global destructor.
void* __dso_handle = nullptr;

int __cxa_atexit(void (*)(void*), void*, void*) {
    return 0;
}

void __cxa_pure_virtual() {
    kernel::kpanic("pure virtual function called");
}

}  // extern "C"

// A virtual destructor's deleting variant refers to operator delete even when
// no object is ever heap-allocated; reaching it is a kernel bug.
void operator delete(void*) noexcept {
    kernel::kpanic("operator delete called");
}
void operator delete(void*, std::size_t) noexcept {
    kernel::kpanic("operator delete called");
}

namespace kernel {

void run_global_constructors() {
    for (InitFunction* function = __init_array_start; function != __init_array_end; ++function) {
        (*function)();
    }
}

}  // namespace kernel
