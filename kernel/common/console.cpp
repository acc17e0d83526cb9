// The kernel's printf, on top of the port's debug UART (platform.hpp). Polled,
// unbuffered output: every byte must be in QEMU's log before the kernel
// exits, so waiting for the transmitter is the simple and correct choice. One
// interrupt-masking lock keeps the lines of different CPUs apart.
#include "console.hpp"

#include "framealloc/config.hpp"
#include "irq_lock.hpp"
#include "platform.hpp"

namespace kernel {
namespace {

// Keeps the lines of different CPUs apart. kpanic waits only a bounded time
// for it: a panic must reach the log even if the holder is stuck.
constinit IrqSpinLock console_lock;
constexpr unsigned kPanicLockAttempts = 1u << 22;

// One conversion's formatting options.
struct FieldSpec {
    unsigned width = 0;
    bool zero_pad = false;
    bool left_align = false;
};

void write_padded(const char* text, unsigned length, FieldSpec spec) {
    unsigned padding = spec.width > length ? spec.width - length : 0;
    if (!spec.left_align) {
        for (unsigned i = 0; i < padding; ++i) {
            console_write_char(spec.zero_pad ? '0' : ' ');
        }
    }
    for (unsigned i = 0; i < length; ++i) {
        console_write_char(text[i]);
    }
    if (spec.left_align) {
        for (unsigned i = 0; i < padding; ++i) {
            console_write_char(' ');
        }
    }
}

void write_unsigned(std::uint64_t value, unsigned base, bool upper, bool negative, FieldSpec spec) {
    const char* digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
    char buffer[24];
    unsigned length = 0;
    do {
        buffer[sizeof(buffer) - 1 - length] = digits[value % base];
        value /= base;
        ++length;
    } while (value != 0);
    if (negative) {
        // With zero padding the sign must precede the zeros, not follow them.
        if (spec.zero_pad) {
            console_write_char('-');
            if (spec.width > 0) {
                --spec.width;
            }
        } else {
            buffer[sizeof(buffer) - 1 - length] = '-';
            ++length;
        }
    }
    write_padded(buffer + sizeof(buffer) - length, length, spec);
}

}  // namespace

void console_init() {
    platform::serial_init();
}

void console_write_char(char c) {
    platform::serial_write(c);
}

void console_write(const char* text) {
    while (*text != '\0') {
        console_write_char(*text++);
    }
}

void kvprintf(const char* format, va_list args) {
    for (const char* p = format; *p != '\0'; ++p) {
        if (*p != '%') {
            console_write_char(*p);
            continue;
        }
        ++p;
        FieldSpec spec;
        for (;; ++p) {
            if (*p == '0') {
                spec.zero_pad = true;
            } else if (*p == '-') {
                spec.left_align = true;
            } else {
                break;
            }
        }
        while (*p >= '0' && *p <= '9') {
            spec.width = spec.width * 10 + static_cast<unsigned>(*p - '0');
            ++p;
        }
        int longs = 0;
        bool size_t_arg = false;
        while (*p == 'l' || *p == 'z') {
            if (*p == 'z') {
                size_t_arg = true;
            } else {
                ++longs;
            }
            ++p;
        }
        // Every 64-bit type is passed the same way on the LP64 targets this
        // kernel builds for (x86_64, AArch64); only int differs.
        bool wide = longs > 0 || size_t_arg;
        switch (*p) {
            case 'd':
            case 'i': {
                std::int64_t value = wide ? va_arg(args, long long) : va_arg(args, int);
                bool negative = value < 0;
                std::uint64_t magnitude = negative ? 0 - static_cast<std::uint64_t>(value)
                                                   : static_cast<std::uint64_t>(value);
                write_unsigned(magnitude, 10, false, negative, spec);
                break;
            }
            case 'u':
            case 'x':
            case 'X': {
                std::uint64_t value =
                    wide ? va_arg(args, unsigned long long) : va_arg(args, unsigned int);
                write_unsigned(value, *p == 'u' ? 10 : 16, *p == 'X', false, spec);
                break;
            }
            case 'p': {
                console_write("0x");
                auto value = reinterpret_cast<std::uintptr_t>(va_arg(args, void*));
                write_unsigned(value, 16, false, false, FieldSpec{16, true, false});
                break;
            }
            case 's': {
                const char* text = va_arg(args, const char*);
                if (text == nullptr) {
                    text = "(null)";
                }
                unsigned length = 0;
                while (text[length] != '\0') {
                    ++length;
                }
                write_padded(text, length, spec);
                break;
            }
            case 'c':
                console_write_char(static_cast<char>(va_arg(args, int)));
                break;
            case '%':
                console_write_char('%');
                break;
            case '\0':
                return;
            default:
                // Show unknown conversions rather than silently dropping them.
                console_write_char('%');
                console_write_char(*p);
                break;
        }
    }
}

void kprintf(const char* format, ...) {
    va_list args;
    va_start(args, format);
    console_lock.lock();
    kvprintf(format, args);
    console_lock.unlock();
    va_end(args);
}

// Takes the console lock if it can get it, and never gives it back: the run ends here.
FRAMEALLOC_NO_TSA void kpanic(const char* format, ...) {
    for (unsigned i = 0; i < kPanicLockAttempts && !console_lock.try_lock(); ++i) {
    }
    console_write("framealloc-kernel: PANIC: ");
    va_list args;
    va_start(args, format);
    kvprintf(format, args);
    va_end(args);
    console_write("\n");
    platform::exit(platform::ExitCode::kFailure);
}

}  // namespace kernel
