// Declarations of the hosted hook defaults in framealloc::hosted (link it in
// programs that run on an operating system; a kernel defines the hooks itself).
#pragma once

#include <cstddef>

#include "framealloc/config.hpp"
#include "framealloc/hooks.hpp"
#include "framealloc/span.hpp"

namespace framealloc {

/// Receives panics instead of the default print-and-abort; a handler that
/// returns lets the program go on (framealloc then leaks, never double-uses).
using PanicHandler = void (*)(const char* message);
/// Installs `handler` (nullptr restores the default); returns the previous one.
PanicHandler set_panic_handler(PanicHandler handler);

/// Pins the calling thread's per-CPU slot (tests, benchmarks).
void set_current_cpu(unsigned cpu);

/// Heap hooks over the C++ aligned operator new/delete.
[[nodiscard]] HeapHooks hosted_heap_hooks();

/// `bytes` of metadata memory for an allocator's init(), from the C++ heap and
/// kept until the program exits: for tools and tests that create allocators
/// freely. Untouched until used, so a large map costs only what it uses.
/// A kernel passes memory of its own instead.
[[nodiscard]] Span<std::byte> hosted_metadata(std::size_t bytes);

}  // namespace framealloc
