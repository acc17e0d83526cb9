// CPU exception reporting for the demo kernel: an IDT whose 32 exception
// vectors print what went wrong on COM1 and fail the QEMU run.
#pragma once

#include <cstdint>

namespace kernel {

/// Builds and loads the IDT. Interrupts stay disabled; only exceptions use it.
void traps_init();

/// Loads the same IDT on the calling CPU (application processors).
void traps_load();

/// Installs an interrupt gate for `vector` (32-255) pointing at an assembly stub.
void traps_set_interrupt(std::uint8_t vector, void (*stub)());

}  // namespace kernel
