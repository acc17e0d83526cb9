// snippet-mode: kernel
// File-scope code defining the two hooks, linked as a kernel would link it: freestanding,
// -nostdlib, nothing but kernel_base.hpp and an entry point besides the example.
#include "kernel_base.hpp"

// @SNIPPET@

extern "C" void _start();
extern "C" void _start() {
    (void)fa::allocate_frames(1);
    for (;;) {
    }
}
