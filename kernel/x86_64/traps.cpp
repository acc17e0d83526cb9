// The IDT for CPU exceptions and the handler the assembly stubs in traps.S
// jump to. Any exception in this kernel is a bug, so the handler only reports
// and exits; it never resumes.
#include "traps.hpp"

#include <cstdint>

#include "console.hpp"
#include "cpu_local.hpp"
#include "x86.hpp"

extern "C" const std::uint64_t trap_stub_table[32];

namespace kernel {

// The frame traps.S builds under the CPU's own interrupt frame.
struct TrapFrame {
    std::uint64_t vector;
    std::uint64_t error_code;
    std::uint64_t rip;
    std::uint64_t cs;
    std::uint64_t rflags;
    std::uint64_t rsp;
    std::uint64_t ss;
};

namespace {

struct [[gnu::packed]] IdtGate {
    std::uint16_t offset_low;
    std::uint16_t selector;
    std::uint8_t ist;
    std::uint8_t type_attributes;
    std::uint16_t offset_middle;
    std::uint32_t offset_high;
    std::uint32_t reserved;
};
static_assert(sizeof(IdtGate) == 16);

struct [[gnu::packed]] IdtPointer {
    std::uint16_t limit;
    std::uint64_t base;
};

constexpr std::uint16_t kKernelCodeSelector = 0x08;
constexpr std::uint8_t kInterruptGatePresent = 0x8e;  // P, DPL 0, 64-bit interrupt gate

// Vectors 0-31 are the CPU exceptions; smp.cpp adds the APIC timer and the
// spurious vector. One IDT, shared by every CPU.
alignas(16) IdtGate idt[256];

IdtGate gate(std::uint64_t handler) {
    return IdtGate{static_cast<std::uint16_t>(handler),
                   kKernelCodeSelector,
                   0,
                   kInterruptGatePresent,
                   static_cast<std::uint16_t>(handler >> 16),
                   static_cast<std::uint32_t>(handler >> 32),
                   0};
}

const char* exception_name(std::uint64_t vector) {
    switch (vector) {
        case 0:
            return "divide error";
        case 3:
            return "breakpoint";
        case 6:
            return "invalid opcode";
        case 8:
            return "double fault";
        case 13:
            return "general protection fault";
        case 14:
            return "page fault";
        case 17:
            return "alignment check";
        case 19:
            return "SIMD floating-point exception";
        default:
            return "exception";
    }
}

}  // namespace

void traps_init() {
    // The boot CPU's record; from here on this_cpu() reads it through GS.
    cpu_local_install(cpu_local(0));

    for (unsigned vector = 0; vector < 32; ++vector) {
        idt[vector] = gate(trap_stub_table[vector]);
    }
    traps_load();
}

void traps_load() {
    IdtPointer pointer{sizeof(idt) - 1, reinterpret_cast<std::uint64_t>(&idt[0])};
    asm volatile("lidt %0" : : "m"(pointer));
}

void traps_set_interrupt(std::uint8_t vector, void (*stub)()) {
    idt[vector] = gate(reinterpret_cast<std::uint64_t>(stub));
}

}  // namespace kernel

extern "C" [[noreturn]] void trap_handler(const kernel::TrapFrame* frame) {
    kernel::kpanic("CPU %s (vector %lu, error code 0x%lx) at rip=0x%lx rsp=0x%lx cr2=0x%lx",
                   kernel::exception_name(frame->vector), frame->vector, frame->error_code,
                   frame->rip, frame->rsp, kernel::read_cr2());
}
