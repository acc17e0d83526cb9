// Compile-time configuration of framealloc, in one place. Every knob is a
// macro named after what it controls; define it before including any
// framealloc header (or with -D) to change it. This file also holds the
// portability macros (Clang thread-safety attributes, branch hints) so the
// rest of the core never tests compilers itself.
#pragma once

/// Number of bookkeeping nodes an allocator holds inside itself before a heap
/// exists. A node tracks one free chunk, one region, or is held in reserve for
/// one live handle, so this bounds (chunks + regions + live handles) in early
/// mode. Theseus fixes this at 32 chunks; here it is a parameter.
#ifndef FRAMEALLOC_EARLY_CAPACITY
#define FRAMEALLOC_EARLY_CAPACITY 256
#endif

/// Bytes of metadata memory built into every frame allocator, used by the
/// two-argument init(). 64 KiB covers about 1.9 GiB of usable memory; larger
/// machines pass their own memory to init() (see metadata_bytes()).
#ifndef FRAMEALLOC_BUILTIN_METADATA
#define FRAMEALLOC_BUILTIN_METADATA 65536
#endif

/// Highest CPU id (exclusive) the per-CPU fast path serves. CPU ids at or above
/// it use the shared pool directly.
#ifndef FRAMEALLOC_MAX_CPUS
#define FRAMEALLOC_MAX_CPUS 64
#endif

/// When nonzero, each frame allocator counts its general-pool operations and
/// those that took its pool-wide lock (see op_counts()); for benchmarks.
#ifndef FRAMEALLOC_COUNT_SHARED_OPS
#define FRAMEALLOC_COUNT_SHARED_OPS 0
#endif

/// Number of physical address bits of the architecture. Frames at or above
/// 2^FRAMEALLOC_PHYS_ADDR_BITS do not exist; ranges reaching past it are errors.
#ifndef FRAMEALLOC_PHYS_ADDR_BITS
#define FRAMEALLOC_PHYS_ADDR_BITS 52
#endif

/// Number of canonical virtual address bits (x86_64 four-level paging: 48).
#ifndef FRAMEALLOC_VIRT_ADDR_BITS
#define FRAMEALLOC_VIRT_ADDR_BITS 48
#endif

/// When nonzero, every allocator operation runs the full invariant checker
/// afterwards and panics on a violation. Slow; meant for debug kernels.
#ifndef FRAMEALLOC_CHECK_EVERY_OP
#define FRAMEALLOC_CHECK_EVERY_OP 0
#endif

// Clang's -Wthread-safety attributes; they expand to nothing elsewhere.
#if defined(__clang__)
#define FRAMEALLOC_TSA(x) __attribute__((x))
#else
#define FRAMEALLOC_TSA(x)
#endif
#define FRAMEALLOC_CAPABILITY(name) FRAMEALLOC_TSA(capability(name))
#define FRAMEALLOC_GUARDED_BY(lock) FRAMEALLOC_TSA(guarded_by(lock))
#define FRAMEALLOC_REQUIRES(...) FRAMEALLOC_TSA(requires_capability(__VA_ARGS__))
#define FRAMEALLOC_EXCLUDES(...) FRAMEALLOC_TSA(locks_excluded(__VA_ARGS__))
#define FRAMEALLOC_ACQUIRE(...) FRAMEALLOC_TSA(acquire_capability(__VA_ARGS__))
#define FRAMEALLOC_RELEASE(...) FRAMEALLOC_TSA(release_capability(__VA_ARGS__))
#define FRAMEALLOC_TRY_ACQUIRE(...) FRAMEALLOC_TSA(try_acquire_capability(__VA_ARGS__))
#define FRAMEALLOC_SCOPED_CAPABILITY FRAMEALLOC_TSA(scoped_lockable)
#define FRAMEALLOC_NO_TSA FRAMEALLOC_TSA(no_thread_safety_analysis)

#if defined(__GNUC__)
#define FRAMEALLOC_LIKELY(x) __builtin_expect(!!(x), 1)
#define FRAMEALLOC_UNLIKELY(x) __builtin_expect(!!(x), 0)
#else
#define FRAMEALLOC_LIKELY(x) (x)
#define FRAMEALLOC_UNLIKELY(x) (x)
#endif
