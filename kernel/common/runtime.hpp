// The pieces of a C/C++ run time the kernel provides itself because it links
// with -nostdlib: global constructors (run by kmain before anything else) and
// the symbols compilers emit calls to (memcpy and friends, __cxa_atexit).
#pragma once

namespace kernel {

/// Runs every function in .init_array (global constructors), in link order.
void run_global_constructors();

}  // namespace kernel
