// Exception reporting for the AArch64 kernel: start.S's vectors land here
// with the vector's index. Any exception is a kernel bug, so the handler
// prints the syndrome and fails the run. If reporting itself faults (or
// semihosting is off, so the exit's HLT is undefined), a second exception
// powers off through PSCI instead, which the harness also counts as failure.
#include <cstdint>

#include "arm64.hpp"
#include "console.hpp"

namespace {

bool handling = false;

const char* vector_name(std::uint64_t index) {
    static constexpr const char* kKinds[4] = {"synchronous", "IRQ", "FIQ", "SError"};
    return kKinds[index % 4];
}

}  // namespace

extern "C" [[noreturn]] void exception_handler(std::uint64_t index) {
    if (handling) {
        kernel::arm64::psci_system_off();
    }
    handling = true;
    kernel::kpanic("CPU %s exception (vector %lu): ESR_EL1=0x%lx ELR_EL1=0x%lx FAR_EL1=0x%lx",
                   vector_name(index), index, FRAMEALLOC_READ_SYSREG(esr_el1),
                   FRAMEALLOC_READ_SYSREG(elr_el1), FRAMEALLOC_READ_SYSREG(far_el1));
}
