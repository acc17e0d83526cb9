// Local APIC access (lapic.hpp).
#include "lapic.hpp"

#include "x86.hpp"

namespace kernel::lapic {
namespace {

constexpr std::uint32_t kRegId = 0x20;
constexpr std::uint32_t kRegEoi = 0xb0;
constexpr std::uint32_t kRegSpurious = 0xf0;
constexpr std::uint32_t kRegIcrLow = 0x300;
constexpr std::uint32_t kRegIcrHigh = 0x310;
constexpr std::uint32_t kRegLvtTimer = 0x320;
constexpr std::uint32_t kRegTimerInitial = 0x380;
constexpr std::uint32_t kRegTimerCurrent = 0x390;
constexpr std::uint32_t kRegTimerDivide = 0x3e0;

constexpr std::uint32_t kSoftwareEnable = 1u << 8;
constexpr std::uint32_t kIcrPending = 1u << 12;
constexpr std::uint32_t kIcrAssert = 1u << 14;
constexpr std::uint32_t kIcrInit = 5u << 8;
constexpr std::uint32_t kIcrStartup = 6u << 8;
constexpr std::uint32_t kLvtMasked = 1u << 16;
constexpr std::uint32_t kLvtPeriodic = 1u << 17;
constexpr std::uint32_t kDivideBy1 = 0xb;

constexpr std::uint32_t kMsrApicBase = 0x1b;
constexpr std::uint64_t kApicGlobalEnable = 1u << 11;

constexpr std::uint16_t kPitChannel2 = 0x42;
constexpr std::uint16_t kPitCommand = 0x43;
constexpr std::uint16_t kPitGatePort = 0x61;
constexpr std::uint32_t kPitHz = 1193182;
constexpr std::uint32_t kCalibrationHz = 100;  // 10 ms

std::uint64_t tsc_per_second = 0;
std::uint64_t timer_per_second = 0;

volatile std::uint32_t& reg(std::uint32_t offset) {
    return *reinterpret_cast<volatile std::uint32_t*>(kDefaultBase + offset);
}

std::uint64_t read_msr(std::uint32_t msr) {
    std::uint32_t low;
    std::uint32_t high;
    asm volatile("rdmsr" : "=a"(low), "=d"(high) : "c"(msr));
    return (static_cast<std::uint64_t>(high) << 32) | low;
}

void write_msr(std::uint32_t msr, std::uint64_t value) {
    asm volatile("wrmsr"
                 :
                 : "c"(msr), "a"(static_cast<std::uint32_t>(value)),
                   "d"(static_cast<std::uint32_t>(value >> 32))
                 : "memory");
}

bool send_ipi(std::uint32_t apic_id, std::uint32_t command) {
    reg(kRegIcrHigh) = apic_id << 24;
    reg(kRegIcrLow) = command;
    for (unsigned i = 0; i < 1000000; ++i) {
        if ((reg(kRegIcrLow) & kIcrPending) == 0) {
            return true;
        }
        __builtin_ia32_pause();
    }
    return false;
}

}  // namespace

void disable_legacy_pic() {
    // The BIOS leaves the 8259 pair delivering IRQ 0-7 at vectors 8-15, where
    // the CPU exceptions are. Re-initialise both with vectors 0x20-0x2f (so a
    // spurious IRQ 7 or 15 cannot pose as an exception), then mask every line.
    constexpr std::uint16_t kMasterCommand = 0x20;
    constexpr std::uint16_t kMasterData = 0x21;
    constexpr std::uint16_t kSlaveCommand = 0xa0;
    constexpr std::uint16_t kSlaveData = 0xa1;
    outb(kMasterCommand, 0x11);  // ICW1: edge, cascade, ICW4 follows
    outb(kSlaveCommand, 0x11);
    outb(kMasterData, 0x20);  // ICW2: vector base
    outb(kSlaveData, 0x28);
    outb(kMasterData, 0x04);  // ICW3: slave on IRQ 2
    outb(kSlaveData, 0x02);
    outb(kMasterData, 0x01);  // ICW4: 8086 mode
    outb(kSlaveData, 0x01);
    outb(kMasterData, 0xff);  // mask everything
    outb(kSlaveData, 0xff);
}

void enable() {
    write_msr(kMsrApicBase, read_msr(kMsrApicBase) | kApicGlobalEnable);
    reg(kRegSpurious) = kSoftwareEnable | kSpuriousVector;
    reg(kRegLvtTimer) = kLvtMasked;
}

std::uint32_t id() {
    return reg(kRegId) >> 24;
}

void calibrate() {
    // Gate on, speaker off; channel 2 in mode 0 counts down once and raises
    // its output (port 0x61 bit 5) at zero.
    outb(kPitGatePort, static_cast<std::uint8_t>((inb(kPitGatePort) & ~0x02) | 0x01));
    outb(kPitCommand, 0xb0);  // channel 2, low then high byte, mode 0, binary
    constexpr std::uint32_t count = kPitHz / kCalibrationHz;
    outb(kPitChannel2, static_cast<std::uint8_t>(count & 0xff));
    outb(kPitChannel2, static_cast<std::uint8_t>(count >> 8));
    reg(kRegTimerDivide) = kDivideBy1;
    reg(kRegLvtTimer) = kLvtMasked;
    // Restart the count by toggling the gate, and start the APIC timer with it.
    const std::uint8_t gate = inb(kPitGatePort) & static_cast<std::uint8_t>(~0x01);
    outb(kPitGatePort, gate);
    outb(kPitGatePort, gate | 0x01);
    reg(kRegTimerInitial) = 0xffffffffu;
    const std::uint64_t tsc_start = read_tsc();
    while ((inb(kPitGatePort) & 0x20) == 0) {
    }
    const std::uint64_t tsc_end = read_tsc();
    const std::uint32_t remaining = reg(kRegTimerCurrent);
    reg(kRegTimerInitial) = 0;
    tsc_per_second = (tsc_end - tsc_start) * kCalibrationHz;
    timer_per_second = static_cast<std::uint64_t>(0xffffffffu - remaining) * kCalibrationHz;
}

std::uint64_t tsc_hz() {
    return tsc_per_second;
}

std::uint64_t timer_hz() {
    return timer_per_second;
}

void delay_us(std::uint64_t us) {
    const std::uint64_t start = read_tsc();
    const std::uint64_t ticks = tsc_per_second / 1000000 * us;
    while (read_tsc() - start < ticks) {
        __builtin_ia32_pause();
    }
}

bool send_init(std::uint32_t apic_id) {
    return send_ipi(apic_id, kIcrInit | kIcrAssert);
}

bool send_startup(std::uint32_t apic_id, std::uint8_t page) {
    return send_ipi(apic_id, kIcrStartup | kIcrAssert | page);
}

void timer_start(std::uint8_t vector, std::uint32_t hz) {
    std::uint64_t initial = timer_per_second / hz;
    reg(kRegTimerDivide) = kDivideBy1;
    reg(kRegLvtTimer) = kLvtPeriodic | vector;
    reg(kRegTimerInitial) = static_cast<std::uint32_t>(initial == 0 ? 1 : initial);
}

void timer_stop() {
    reg(kRegLvtTimer) = kLvtMasked;
    reg(kRegTimerInitial) = 0;
}

void eoi() {
    reg(kRegEoi) = 0;
}

}  // namespace kernel::lapic
