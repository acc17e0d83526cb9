// The local APIC in xAPIC mode (MMIO at 0xfee00000, identity-mapped): enable,
// id, INIT and STARTUP IPIs for AP bring-up, the timer, EOI; plus the time
// base the bring-up delays and the timer rate need, calibrated against PIT
// channel 2.
#pragma once

#include <cstdint>

namespace kernel::lapic {

inline constexpr std::uint64_t kDefaultBase = 0xfee00000;
inline constexpr std::uint8_t kSpuriousVector = 0xff;

/// Remaps the legacy 8259 PICs away from the exception vectors and masks
/// them: only local APIC interrupts reach the CPUs. Boot CPU, once.
void disable_legacy_pic();

/// Sets the APIC global enable (IA32_APIC_BASE) and the software enable
/// with the spurious vector; every CPU calls it for itself.
void enable();

/// This CPU's local APIC id.
[[nodiscard]] std::uint32_t id();

/// Measures the TSC and the APIC timer (divide by 1) against 10 ms of PIT
/// channel 2. Called once, on the boot CPU.
void calibrate();
[[nodiscard]] std::uint64_t tsc_hz();
[[nodiscard]] std::uint64_t timer_hz();

/// Busy-waits (TSC) for `us` microseconds; needs calibrate().
void delay_us(std::uint64_t us);

/// INIT, then STARTUP with the trampoline's page number; each waits until
/// the APIC reports the IPI delivered. Return false if it never does.
[[nodiscard]] bool send_init(std::uint32_t apic_id);
[[nodiscard]] bool send_startup(std::uint32_t apic_id, std::uint8_t page);

/// Periodic timer on this CPU at `hz` interrupts per second, on `vector`.
void timer_start(std::uint8_t vector, std::uint32_t hz);
void timer_stop();
void eoi();

}  // namespace kernel::lapic
