// The kernel's frame allocator. framealloc's free functions use a default
// allocator locked by the plain framealloc::SpinLock, which masks nothing; a
// kernel that allocates from interrupt handlers needs a Lock that masks
// interrupts (docs/getting-started.md, "Interrupt contract"), so the kernel
// owns its allocator object with the port's FrameallocLock (irq_lock.hpp).
// Like framealloc's default allocator it is constinit and trivially
// destructible (kEternal), so no constructor runs for it: the UEFI image has
// no .init_array.
#pragma once

#include "framealloc/framealloc.hpp"
#include "irq_lock.hpp"

namespace kernel {

using KernelFrameAllocator =
    framealloc::BasicFrameAllocator<FrameallocLock, FRAMEALLOC_EARLY_CAPACITY, true>;

/// The allocator every part of the kernel uses.
[[nodiscard]] KernelFrameAllocator& frame_allocator();

}  // namespace kernel
