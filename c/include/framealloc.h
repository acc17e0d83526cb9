/* framealloc.h: the C interface of framealloc, for kernels written in C (and
 * for C++ code that prefers plain functions over templates). It wraps one
 * instantiation of the C++ BasicFrameAllocator behind an opaque handle. The
 * caller provides the allocator's metadata memory (size asked for with
 * fa_allocator_size()), so nothing is allocated behind its back until it
 * hands over heap hooks with fa_move_to_heap(). Frames come back as plain
 * ranges (fa_frames); the allocator remembers every range it gave out, so a
 * range it never gave out, or one freed twice, is refused with an error
 * instead of corrupting its state. C11; usable from C++ too. */
#ifndef FRAMEALLOC_H
#define FRAMEALLOC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** @file
 * @brief The C interface of framealloc.
 *
 * All sizes are in 4 KiB frames unless a name says bytes. Every function that
 * can fail returns an ::fa_status; ::FA_OK is zero, every error is positive
 * and has the same value as the C++ `framealloc::ErrorKind` of the same name.
 * Output parameters are written only on success.
 */

/** Size of a frame in bytes: every frame count in this interface is in these. */
#define FA_FRAME_SIZE 4096u
/** Frames in one 2 MiB huge frame. */
#define FA_FRAMES_PER_2M 512u
/** Frames in one 1 GiB huge frame. */
#define FA_FRAMES_PER_1G 262144u

/** Outcome of a call. The values equal framealloc::ErrorKind's. */
typedef enum fa_status {
    FA_OK = 0,                        /**< Success. */
    FA_ERR_ZERO_FRAMES = 1,           /**< A request for zero frames or zero bytes. */
    FA_ERR_ADDRESS_IN_USE = 2,        /**< Some requested frame is already allocated. */
    FA_ERR_OUTSIDE_ALLOCATOR = 3,     /**< The address lies in no region of this allocator. */
    FA_ERR_NOT_ENOUGH_CONTIGUOUS = 4, /**< Free memory exists, but no run fits the request. */
    FA_ERR_OUT_OF_MEMORY = 5,         /**< Not enough free frames in total. */
    FA_ERR_ALREADY_INITIALIZED = 6,   /**< fa_init() (or fa_move_to_heap()) called twice. */
    FA_ERR_NOT_INITIALIZED = 7,       /**< The call needs fa_init() first. */
    FA_ERR_CAPACITY_EXHAUSTED = 8,    /**< No bookkeeping room left (nodes or handle table). */
    FA_ERR_BAD_REGION = 9,            /**< A region is malformed or has an invalid type. */
    FA_ERR_OVERFLOW = 10,             /**< A size or range passes the top of the address space. */
    FA_ERR_NOT_ADJACENT = 11,         /**< fa_merge(): the ranges are not adjacent. */
    FA_ERR_OUT_OF_RANGE = 12,         /**< A frame or range lies outside what it must be in. */
    FA_ERR_MISALIGNED = 13,           /**< An address or range is not aligned as required. */
    FA_ERR_INVALID_ARGUMENT = 14,     /**< A NULL pointer, bad flag, non-power-of-two... */
    FA_ERR_REGION_BUSY = 15,          /**< A region cannot go offline: frames are allocated. */
    FA_ERR_HEAP_UNAVAILABLE = 16,     /**< The heap hook returned no memory. */
    FA_ERR_FOREIGN_HANDLE = 17,       /**< A range this allocator did not give out, or freed. */
    FA_ERR_INVARIANT_VIOLATION = 18,  /**< fa_check() found corrupted bookkeeping (a bug). */
    FA_STATUS_MAX_ENUM = 0x7fffffff   /**< Not a status: keeps the type int-sized in C and C++. */
} fa_status;

/** What kind of memory a region is (values equal framealloc::MemoryRegionType's). */
typedef enum fa_region_type {
    FA_REGION_FREE = 0,     /**< General-purpose RAM. */
    FA_REGION_RESERVED = 1, /**< Handed out only when asked for by address (MMIO, tables). */
    FA_REGION_UNKNOWN = 2,  /**< Placeholder; ignored by fa_init(). */
    FA_REGION_MAX_ENUM = 0x7fffffff /**< Not a type: keeps the type int-sized. */
} fa_region_type;

/** A region of physical memory in bytes, as firmware maps describe it. Free
 * regions shrink inward to whole frames, reserved ones grow outward. */
typedef struct fa_region {
    uint64_t start;      /**< First byte. */
    uint64_t size_bytes; /**< Length in bytes; zero gives an empty region. */
    fa_region_type type; /**< Free, reserved or unknown. */
} fa_region;

/** A range of frames handed out by (or given back to) an allocator. */
typedef struct fa_frames {
    uint64_t start_frame; /**< Number of the first 4 KiB frame (address / 4096). */
    uint64_t num_frames;  /**< Length in 4 KiB frames; zero means no range. */
} fa_frames;

/** Physical address of the first byte of `frames`. */
static inline uint64_t fa_frames_address(fa_frames frames) {
    return frames.start_frame * (uint64_t)FA_FRAME_SIZE;
}

/** Unit of fa_request::num_frames, and the natural alignment of the result. */
typedef enum fa_page_size {
    FA_PAGE_4K = 0,               /**< Ordinary 4 KiB frames. */
    FA_PAGE_2M = 1,               /**< 2 MiB huge frames, naturally aligned. */
    FA_PAGE_1G = 2,               /**< 1 GiB huge frames, naturally aligned. */
    FA_PAGE_MAX_ENUM = 0x7fffffff /**< Not a size: keeps the type int-sized. */
} fa_page_size;

/** fa_request::flags: allocate exactly at fa_request::at_address. */
#define FA_REQ_AT 0x1u
/** fa_request::flags: an at-address request looks in the general pool only. */
#define FA_REQ_POOL_GENERAL 0x2u
/** fa_request::flags: an at-address request looks in the reserved pool only. */
#define FA_REQ_POOL_RESERVED 0x4u
/** fa_request::flags: postpone growing bookkeeping storage to fa_run_deferred(). */
#define FA_REQ_DEFER 0x8u

/** Every constraint an allocation can carry. Zero-initialise it and set what
 * you need: zero means "no constraint" for every field except num_frames. */
typedef struct fa_request {
    uint64_t num_frames;      /**< How many frames (or huge frames, see page_size). */
    uint64_t align_frames;    /**< First frame a multiple of this power of two; 0 = 1. */
    uint64_t boundary_frames; /**< If nonzero, the run never crosses a multiple of it. */
    uint64_t min_address;     /**< Every byte of the run at or above this. */
    uint64_t max_address;     /**< Every byte at or below this; 0 = no limit. */
    uint64_t at_address;      /**< With FA_REQ_AT: the run starts at the frame holding it. */
    uint32_t flags;           /**< FA_REQ_* bits. */
    fa_page_size page_size;   /**< FA_PAGE_2M / FA_PAGE_1G ask for huge frames. */
} fa_request;

/** Counts for one pool, in 4 KiB frames. */
/** Size classes of fa_pool_stats.free_chunks_by_order: order k counts free
 * runs of 2^k to 2^(k+1) - 1 frames (like Linux's /proc/buddyinfo); the last
 * order also counts every larger run. */
#define FA_FREE_CHUNK_ORDERS 24

typedef struct fa_pool_stats {
    uint64_t total_frames;       /**< Frames in the pool's regions. */
    uint64_t free_frames;        /**< Free, including frames parked in per-CPU caches. */
    uint64_t allocated_frames;   /**< total_frames - free_frames. */
    uint64_t free_chunks;        /**< Free runs in the shared pool. */
    uint64_t largest_free_chunk; /**< Longest free run in the shared pool. */
    /** Free runs of the shared pool by size class; they add up to free_chunks. */
    uint64_t free_chunks_by_order[FA_FREE_CHUNK_ORDERS];
} fa_pool_stats;

/** A snapshot of an allocator. */
typedef struct fa_stats {
    fa_pool_stats general;           /**< The pool of free regions. */
    fa_pool_stats reserved;          /**< The pool of reserved regions. */
    uint64_t cached_frames;          /**< Free frames in per-CPU caches. */
    uint32_t nodes_capacity;         /**< Bookkeeping nodes available. */
    uint32_t nodes_used;             /**< Nodes tracking chunks and regions. */
    uint32_t nodes_reserved;         /**< Nodes promised to live ranges. */
    uint32_t fragmentation_permille; /**< 0 = free memory in one run; toward 1000 = splintered. */
    uint64_t live_ranges;            /**< Ranges given out and not yet freed. */
    uint64_t handle_capacity;        /**< Size of the live-range table. */
    bool heap_mode;                  /**< True after fa_move_to_heap(). */
} fa_stats;

/** How the allocator reaches the kernel heap (same contract as the C++
 * framealloc::HeapHooks). The hooks may allocate frames from this allocator;
 * they are never called with the allocator's locks held. */
typedef struct fa_heap_hooks {
    /** Returns `bytes` bytes aligned to `align`, or NULL. */
    void* (*allocate)(void* context, size_t bytes, size_t align);
    /** Gives back memory from allocate(). */
    void (*deallocate)(void* context, void* memory, size_t bytes, size_t align);
    /** Passed to both functions unchanged. */
    void* context;
} fa_heap_hooks;

/** Receives one line of fa_dump() output (NUL-terminated, no newline). */
typedef void (*fa_dump_fn)(void* context, const char* line);

/** What an fa_inspect_fn answers. */
typedef enum fa_iter_kind {
    FA_ITER_NEXT = 0,             /**< Show the next free chunk. */
    FA_ITER_STOP = 1,             /**< Stop; allocate nothing. */
    FA_ITER_ALLOCATE_AT = 2,      /**< Allocate fa_iter_request::frames (inside the chunk). */
    FA_ITER_MAX_ENUM = 0x7fffffff /**< Not a kind: keeps the type int-sized. */
} fa_iter_kind;

/** The answer of an fa_inspect_fn. */
typedef struct fa_iter_request {
    fa_iter_kind kind; /**< What to do next. */
    fa_frames frames;  /**< With FA_ITER_ALLOCATE_AT: the frames to take. */
} fa_iter_request;

/** Called on each free chunk of the general pool in address order, under the
 * allocator's lock: it must not call into the allocator. */
typedef fa_iter_request (*fa_inspect_fn)(void* context, fa_frames chunk);

/** An allocator. Opaque: it lives in memory the caller provides. */
typedef struct fa_allocator fa_allocator;

/** A short, stable description of `status` ("address in use", ...); never NULL. */
const char* fa_status_message(fa_status status);

/** Bytes of metadata memory an allocator needs to keep `handle_capacity`
 * ranges live at once before it moves to the heap (at least 8 are kept).
 * Returns 0 if the size would overflow. */
size_t fa_allocator_size(size_t handle_capacity);
/** Alignment the metadata memory needs. */
size_t fa_allocator_align(void);

/** Builds an allocator in `memory` (`size` bytes, aligned to
 * fa_allocator_align()); every byte past the allocator itself becomes its
 * live-range table. Errors: FA_ERR_INVALID_ARGUMENT (NULL pointer),
 * FA_ERR_MISALIGNED, FA_ERR_CAPACITY_EXHAUSTED (smaller than
 * fa_allocator_size(0)). */
fa_status fa_create(void* memory, size_t size, fa_allocator** out);
/** Frees every live range, gives heap memory back through the hooks, and
 * ends the allocator; its memory then belongs to the caller again. NULL is
 * ignored. */
void fa_destroy(fa_allocator* allocator);

/** Builds the allocator from `count` regions (free and reserved mixed; they
 * may be unsorted, overlapping, unaligned; reserved wins). The conversion
 * uses the live-range table as scratch space, so it holds at most as many
 * regions as fa_create() gave handle slots (else FA_ERR_CAPACITY_EXHAUSTED).
 * Errors also: FA_ERR_ALREADY_INITIALIZED, FA_ERR_BAD_REGION (type not one of
 * fa_region_type), FA_ERR_OVERFLOW (a region wraps past 2^64). */
fa_status fa_init(fa_allocator* allocator, const fa_region* regions, size_t count);

/** Bytes of metadata fa_init_with_metadata() needs for these regions (an
 * upper bound: about 1.07 bits per usable frame plus a little per region);
 * 0 when `regions` is NULL with a nonzero count or a region is malformed. */
size_t fa_metadata_size(const fa_region* regions, size_t count);

/** fa_init() with the general pool's bookkeeping in `metadata` (`size` bytes,
 * at least fa_metadata_size(); the allocator keeps using it until
 * fa_destroy()). fa_init() itself uses the memory built into the allocator,
 * FRAMEALLOC_BUILTIN_METADATA bytes (64 KiB: about 1.9 GiB of RAM); larger
 * machines call this. Errors: those of fa_init(), FA_ERR_INVALID_ARGUMENT
 * (NULL metadata with a nonzero size), FA_ERR_CAPACITY_EXHAUSTED (`size`
 * smaller than the regions need). */
fa_status fa_init_with_metadata(fa_allocator* allocator, const fa_region* regions, size_t count,
                                void* metadata, size_t size);

/** Moves bookkeeping to heap memory from `hooks` (copied) and turns on the
 * per-CPU caches; from now on the live-range table grows through the heap.
 * Errors: FA_ERR_INVALID_ARGUMENT, FA_ERR_NOT_INITIALIZED,
 * FA_ERR_ALREADY_INITIALIZED, FA_ERR_HEAP_UNAVAILABLE. */
fa_status fa_move_to_heap(fa_allocator* allocator, const fa_heap_hooks* hooks);

/** The general allocation: see fa_request. Errors: every allocation error of
 * the C++ allocate(), FA_ERR_INVALID_ARGUMENT for a NULL pointer or an
 * unknown flag or page size, FA_ERR_CAPACITY_EXHAUSTED when the live-range
 * table is full (nothing is allocated then). */
fa_status fa_allocate(fa_allocator* allocator, const fa_request* request, fa_frames* out);
/** `num_frames` frames anywhere in the general pool. */
fa_status fa_allocate_frames(fa_allocator* allocator, uint64_t num_frames, fa_frames* out);
/** `num_frames` frames from the frame containing `address` (reserved pool,
 * then general, then a new reserved region for unknown memory). */
fa_status fa_allocate_frames_at(fa_allocator* allocator, uint64_t address, uint64_t num_frames,
                                fa_frames* out);
/** Enough frames for `num_bytes` bytes, anywhere. */
fa_status fa_allocate_by_bytes(fa_allocator* allocator, uint64_t num_bytes, fa_frames* out);
/** The frames covering `num_bytes` bytes from `address`. */
fa_status fa_allocate_by_bytes_at(fa_allocator* allocator, uint64_t address, uint64_t num_bytes,
                                  fa_frames* out);
/** Shows each free chunk to `fn`, which may ask for frames inside it. `*out`
 * is set to the frames taken, or to {0, 0} when `fn` stopped or the chunks
 * ran out. */
fa_status fa_inspect_then_allocate(fa_allocator* allocator, fa_inspect_fn fn, void* context,
                                   fa_frames* out);
/** Runs the bookkeeping growth that FA_REQ_DEFER allocations postponed. Call
 * it once the caller holds no lock the heap needs. */
void fa_run_deferred(fa_allocator* allocator);

/** Gives back exactly a range this allocator gave out (or made by fa_split()
 * or fa_merge()). Errors: FA_ERR_FOREIGN_HANDLE for any other range -- never
 * allocated here, from another allocator, already freed, or a different
 * length -- and nothing changes. */
fa_status fa_free(fa_allocator* allocator, fa_frames frames);
/** Splits a live range before frame number `at` into [start, at) and
 * [at, end]. `at` must be strictly inside (both parts non-empty). Errors:
 * FA_ERR_FOREIGN_HANDLE, FA_ERR_OUT_OF_RANGE, FA_ERR_CAPACITY_EXHAUSTED; on
 * error the range stays live as it was. */
fa_status fa_split(fa_allocator* allocator, fa_frames frames, uint64_t at, fa_frames* first,
                   fa_frames* second);
/** Joins two physically adjacent live ranges of the same pool into one (in
 * either order). Errors: FA_ERR_FOREIGN_HANDLE (a range not live here),
 * FA_ERR_INVALID_ARGUMENT (the same range given twice), FA_ERR_NOT_ADJACENT;
 * on error both stay live as they were. */
fa_status fa_merge(fa_allocator* allocator, fa_frames a, fa_frames b, fa_frames* out);

/** Adds a region at run time (hot-plug, device memory). Errors:
 * FA_ERR_BAD_REGION (overlap, bad type), FA_ERR_ZERO_FRAMES (no whole frame),
 * FA_ERR_OVERFLOW, FA_ERR_CAPACITY_EXHAUSTED, FA_ERR_NOT_INITIALIZED. */
fa_status fa_add_region(fa_allocator* allocator, const fa_region* region);
/** Takes `frames` offline; they must lie in one region and all be free.
 * Errors: FA_ERR_REGION_BUSY, FA_ERR_BAD_REGION, FA_ERR_ZERO_FRAMES,
 * FA_ERR_OVERFLOW, FA_ERR_NOT_INITIALIZED. */
fa_status fa_take_offline(fa_allocator* allocator, fa_frames frames);

/** Returns every frame cached for `cpu` to the shared pool (CPU going offline). */
void fa_drain_cpu_cache(fa_allocator* allocator, unsigned cpu);
/** Drains every CPU's cache. */
void fa_drain_cpu_caches(fa_allocator* allocator);

/** Fills `*out` with a snapshot. Errors: FA_ERR_INVALID_ARGUMENT. */
fa_status fa_get_stats(const fa_allocator* allocator, fa_stats* out);
/** Validates every internal invariant, including the live-range table.
 * Errors: FA_ERR_INVARIANT_VIOLATION, FA_ERR_INVALID_ARGUMENT. */
fa_status fa_check(const fa_allocator* allocator);
/** Writes a human-readable dump, one line per call of `fn`. Errors:
 * FA_ERR_INVALID_ARGUMENT. */
fa_status fa_dump(const fa_allocator* allocator, fa_dump_fn fn, void* context);

#ifdef __cplusplus
}
#endif

#endif /* FRAMEALLOC_H */
