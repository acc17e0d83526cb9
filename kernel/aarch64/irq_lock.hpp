// The kernel's locks on AArch64: spinlocks that mask IRQs (DAIF.I) while
// held and restore the previous mask on unlock, so nested locks released in
// reverse order unmask only when the outermost goes. The AArch64 kernel runs
// on one CPU with interrupts off; the locks keep the shared code identical to
// the x86_64 kernels, where they matter (see x86_64/irq_lock.hpp).
#pragma once

#include <atomic>
#include <cstdint>

#include "framealloc/config.hpp"

namespace kernel {

class FRAMEALLOC_CAPABILITY("mutex") IrqSpinLock {
  public:
    constexpr IrqSpinLock() = default;
    IrqSpinLock(const IrqSpinLock&) = delete;
    IrqSpinLock& operator=(const IrqSpinLock&) = delete;

    void lock() FRAMEALLOC_ACQUIRE() {
        std::uint64_t daif;
        asm volatile("mrs %0, daif; msr daifset, #2" : "=r"(daif) : : "memory");
        while (held_.exchange(true, std::memory_order_acquire)) {
            while (held_.load(std::memory_order_relaxed)) {
                asm volatile("yield");
            }
        }
        daif_ = daif;
    }
    [[nodiscard]] bool try_lock() FRAMEALLOC_TRY_ACQUIRE(true) {
        std::uint64_t daif;
        asm volatile("mrs %0, daif; msr daifset, #2" : "=r"(daif) : : "memory");
        if (held_.load(std::memory_order_relaxed) ||
            held_.exchange(true, std::memory_order_acquire)) {
            asm volatile("msr daif, %0" : : "r"(daif) : "memory");
            return false;
        }
        daif_ = daif;
        return true;
    }
    void unlock() FRAMEALLOC_RELEASE() {
        const std::uint64_t daif = daif_;
        held_.store(false, std::memory_order_release);
        asm volatile("msr daif, %0" : : "r"(daif) : "memory");
    }

  private:
    std::atomic<bool> held_{false};
    std::uint64_t daif_ = 0;
};

using FrameallocLock = IrqSpinLock;

/// One CPU: the heap's re-entry (framealloc's heap hook inside a heap grow)
/// is always the holder coming back, so a depth count is the whole lock.
class FRAMEALLOC_CAPABILITY("mutex") RecursiveIrqLock {
  public:
    constexpr RecursiveIrqLock() = default;
    // The analysis cannot follow a conditional acquire; callers see a plain lock.
    void lock() FRAMEALLOC_ACQUIRE() FRAMEALLOC_NO_TSA {
        if (depth_++ == 0) {
            lock_.lock();
        }
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
