// The kernel's locks: spinlocks that mask interrupts while held. lock() saves
// RFLAGS, clears IF (cli), then spins; unlock() releases and restores the
// saved IF, so nested locks released in reverse order unmask only when the
// outermost goes. An interrupt can therefore never arrive on a CPU that holds
// one of these locks, which is what framealloc's interrupt contract asks of
// its Lock type (docs/getting-started.md, "Interrupt contract").
//
// Two checks make a violation visible instead of a silent hang: a CPU that
// asks for a lock it already holds (an interrupt handler running over the
// holder on the same CPU, which cannot finish until the handler returns)
// panics at once, and `locks_held` in the CPU's record lets the timer handler
// verify that it never interrupted a lock holder. FrameallocLock can be
// switched to a broken variant that skips the cli (framealloc.inject=broken-lock)
// so the test suite proves those checks fire.
#pragma once

#include <atomic>
#include <cstdint>

#include "cpu_local.hpp"
#include "framealloc/config.hpp"

namespace kernel {

namespace detail {
/// Set from the command line before framealloc is initialised; never changes afterwards.
inline constinit bool g_broken_framealloc_lock = false;
[[noreturn]] void lock_self_deadlock(const void* lock, unsigned cpu);
}  // namespace detail

inline constexpr std::uint64_t kRflagsIf = 1u << 9;

[[nodiscard]] inline std::uint64_t save_flags_and_cli() {
    std::uint64_t flags;
    asm volatile("pushfq; popq %0; cli" : "=r"(flags) : : "memory");
    return flags;
}

[[nodiscard]] inline std::uint64_t save_flags() {
    std::uint64_t flags;
    asm volatile("pushfq; popq %0" : "=r"(flags) : : "memory");
    return flags;
}

inline void restore_interrupts(std::uint64_t flags) {
    if ((flags & kRflagsIf) != 0) {
        asm volatile("sti" : : : "memory");
    }
}

template <bool kBreakable>
class FRAMEALLOC_CAPABILITY("mutex") BasicIrqSpinLock {
  public:
    constexpr BasicIrqSpinLock() = default;
    BasicIrqSpinLock(const BasicIrqSpinLock&) = delete;
    BasicIrqSpinLock& operator=(const BasicIrqSpinLock&) = delete;

    void lock() FRAMEALLOC_ACQUIRE() {
        const std::uint64_t flags = enter();
        CpuLocal* me = this_cpu();
        while (held_.exchange(true, std::memory_order_acquire)) {
            while (held_.load(std::memory_order_relaxed)) {
                if (owner_.load(std::memory_order_relaxed) == me) {
                    detail::lock_self_deadlock(this, me->index);
                }
                __builtin_ia32_pause();
            }
        }
        acquired(me, flags);
    }

    [[nodiscard]] bool try_lock() FRAMEALLOC_TRY_ACQUIRE(true) {
        const std::uint64_t flags = enter();
        if (held_.load(std::memory_order_relaxed) ||
            held_.exchange(true, std::memory_order_acquire)) {
            restore_interrupts(flags);
            return false;
        }
        acquired(this_cpu(), flags);
        return true;
    }

    void unlock() FRAMEALLOC_RELEASE() {
        const std::uint64_t flags = flags_;
        CpuLocal* me = owner_.load(std::memory_order_relaxed);
        --me->locks_held;
        owner_.store(nullptr, std::memory_order_relaxed);
        held_.store(false, std::memory_order_release);
        restore_interrupts(flags);
    }

    /// True when the running CPU holds this lock.
    [[nodiscard]] bool held_here() const {
        return owner_.load(std::memory_order_relaxed) == this_cpu();
    }

  private:
    static std::uint64_t enter() {
        if (kBreakable && detail::g_broken_framealloc_lock) {
            return save_flags();  // the deliberate bug: interrupts stay on
        }
        return save_flags_and_cli();
    }
    void acquired(CpuLocal* me, std::uint64_t flags) {
        owner_.store(me, std::memory_order_relaxed);
        flags_ = flags;
        ++me->locks_held;
    }

    std::atomic<bool> held_{false};
    std::atomic<CpuLocal*> owner_{nullptr};
    std::uint64_t flags_ = 0;  // RFLAGS of the holder before lock(); guarded by held_
};

/// Console, heap, hand-off queue: always masks interrupts.
using IrqSpinLock = BasicIrqSpinLock<false>;
/// The Lock type of the kernel's frame allocator (pool and per-CPU caches).
using FrameallocLock = BasicIrqSpinLock<true>;

/// An IrqSpinLock the holding CPU may take again (the heap: framealloc's
/// heap hook can run inside a heap grow on the same CPU).
class FRAMEALLOC_CAPABILITY("mutex") RecursiveIrqLock {
  public:
    constexpr RecursiveIrqLock() = default;
    // The analysis cannot follow a conditional acquire; callers see a plain lock.
    void lock() FRAMEALLOC_ACQUIRE() FRAMEALLOC_NO_TSA {
        if (lock_.held_here()) {
            ++depth_;
            return;
        }
        lock_.lock();
        depth_ = 1;
    }
    void unlock() FRAMEALLOC_RELEASE() FRAMEALLOC_NO_TSA {
        if (--depth_ == 0) {
            lock_.unlock();
        }
    }

  private:
    IrqSpinLock lock_;
    unsigned depth_ = 0;
};

}  // namespace kernel
