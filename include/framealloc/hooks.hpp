// The few things framealloc cannot do by itself and asks of its host. A kernel
// defines these functions; hosted programs link framealloc::hosted, which
// defines them on top of the C library. Nothing else in the core reaches out.
#pragma once

#include <cstddef>

extern "C" {
/// Called on a kernel bug framealloc cannot return an error for (a non-empty
/// MappedFrames destroyed, a double free through corrupted bookkeeping). It
/// should not return; if it does, framealloc leaks the frames involved rather
/// than hand them out twice.
void framealloc_panic(const char* message);

/// The id of the CPU running the caller, in [0, FRAMEALLOC_MAX_CPUS) for the
/// per-CPU fast path (ids at or above it use the shared pool). Called with the
/// caller's preemption state unchanged: an id that is stale because the thread
/// migrated is harmless, since every per-CPU cache also has its own lock.
unsigned framealloc_cpu_id();
}

namespace framealloc {

/// How an allocator reaches the kernel heap once one exists. The functions may
/// themselves allocate frames from the same allocator (a heap growing); the
/// allocator never calls them with its lock held.
struct HeapHooks {
    /// Returns `bytes` bytes aligned to `align`, or nullptr.
    void* (*allocate)(void* context, std::size_t bytes, std::size_t align) = nullptr;
    /// Gives back memory from allocate().
    void (*deallocate)(void* context, void* memory, std::size_t bytes, std::size_t align) = nullptr;
    void* context = nullptr;

    [[nodiscard]] constexpr bool valid() const {
        return allocate != nullptr && deallocate != nullptr;
    }
};

}  // namespace framealloc
