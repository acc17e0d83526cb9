// Freestanding C++ run-time support shared by every boot of the kernel: the
// symbols compilers emit references to (__cxa_atexit, __dso_handle, pure
// virtual calls, operator delete). Global destructors never run (the kernel
// exits through QEMU), so __cxa_atexit only has to accept the registration.
// memcpy and friends are per architecture (x86_64/memfuncs.cpp,
// aarch64/memfuncs.cpp); global constructors run from init_array.cpp.
#include <cstddef>
#include <cstdint>

#include "console.hpp"

extern "C" {

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
