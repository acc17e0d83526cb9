// Declarations of the hosted hook defaults in framealloc::hosted (link it in
// programs that run on an operating system; a kernel defines the hooks itself).
#pragma once

#include "framealloc/config.hpp"
#include "framealloc/hooks.hpp"

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

}  // namespace framealloc
