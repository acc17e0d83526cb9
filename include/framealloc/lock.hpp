// Locks. The allocator takes its lock type as a template parameter so a kernel
// can pass one that also masks interrupts; anything with lock() and unlock()
// works. SpinLock is the default: test-and-test-and-set on one atomic byte,
// with a pause hint while it waits.
#pragma once

#include <atomic>

#include "framealloc/config.hpp"

namespace framealloc {

/// What the allocator needs of a lock.
template <typename L>
concept BasicLockable = requires(L& lock) {
    lock.lock();
    lock.unlock();
};

inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    asm volatile("yield");
#endif
}

class FRAMEALLOC_CAPABILITY("mutex") SpinLock {
  public:
    constexpr SpinLock() = default;
    SpinLock(const SpinLock&) = delete;
    SpinLock& operator=(const SpinLock&) = delete;

    void lock() FRAMEALLOC_ACQUIRE() {
        while (held_.exchange(true, std::memory_order_acquire)) {
            while (held_.load(std::memory_order_relaxed)) {
                cpu_relax();
            }
        }
    }
    [[nodiscard]] bool try_lock() FRAMEALLOC_TRY_ACQUIRE(true) {
        return !held_.load(std::memory_order_relaxed) &&
               !held_.exchange(true, std::memory_order_acquire);
    }
    void unlock() FRAMEALLOC_RELEASE() { held_.store(false, std::memory_order_release); }

  private:
    std::atomic<bool> held_{false};
};

/// Holds a lock for one scope.
template <BasicLockable L>
class FRAMEALLOC_SCOPED_CAPABILITY LockGuard {
  public:
    explicit LockGuard(L& lock) FRAMEALLOC_ACQUIRE(lock) : lock_(lock) { lock_.lock(); }
    ~LockGuard() FRAMEALLOC_RELEASE() { lock_.unlock(); }
    LockGuard(const LockGuard&) = delete;
    LockGuard& operator=(const LockGuard&) = delete;

  private:
    L& lock_;
};

}  // namespace framealloc
