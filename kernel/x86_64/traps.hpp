// CPU exception reporting for the demo kernel: an IDT whose 32 exception
// vectors print what went wrong on COM1 and fail the QEMU run.
#pragma once

namespace kernel {

/// Builds and loads the IDT. Interrupts stay disabled; only exceptions use it.
void traps_init();

}  // namespace kernel
