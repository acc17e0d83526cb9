// Runs the global constructors the linker collected in .init_array: with
// -nostdlib nobody else does. The image's linker script brackets the section
// with __init_array_start / __init_array_end. The UEFI application links with
// gnu-efi's script, which keeps no such list, so it does not use this file;
// the shared code has no dynamic initialisers (everything is constinit).
#include "runtime.hpp"

extern "C" {
using InitFunction = void (*)();
extern InitFunction __init_array_start[];
extern InitFunction __init_array_end[];
}

namespace kernel {

void run_global_constructors() {
    for (InitFunction* function = __init_array_start; function != __init_array_end; ++function) {
        (*function)();
    }
}

}  // namespace kernel
