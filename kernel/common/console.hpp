// Output for the demo kernel: the port's debug UART (COM1 on x86_64, the
// PL011 on AArch64) and a small printf-like formatter on top of it. The test suite reads what the
// kernel says from QEMU's serial log, so this is the kernel's only user interface. Supported
// conversions: %s %c %d %i %u %x %X %p %%, with the flags '0' and
// '-', a field width, and the length modifiers l, ll and z.
#pragma once

#include <cstdarg>
#include <cstdint>

namespace kernel {

/// Brings up the debug UART (platform::serial_init).
void console_init();

void console_write(const char* text);
void console_write_char(char c);

[[gnu::format(printf, 1, 2)]] void kprintf(const char* format, ...);
void kvprintf(const char* format, va_list args);

/// Prints "framealloc-kernel: PANIC: <message>" and leaves QEMU with the
/// failure status. Used for every unrecoverable condition in the kernel.
[[noreturn, gnu::format(printf, 1, 2)]] void kpanic(const char* format, ...);

}  // namespace kernel
