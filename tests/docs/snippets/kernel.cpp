// snippet-mode: kernel
// File-scope code linked as a kernel would link it: freestanding, -nostdlib,
// nothing but kernel_base.hpp and the two hooks besides the example.
#include "kernel_base.hpp"

extern "C" {
void framealloc_panic(const char*) {
    for (;;) {
    }
}
unsigned framealloc_cpu_id() {
    return 0;
}
}

// @SNIPPET@

extern "C" void _start();
extern "C" void _start() {
    (void)fa::allocate_frames(1);
    for (;;) {
    }
}
