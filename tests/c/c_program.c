/* A plain C11 program against framealloc.h, built with -std=c11 -Wall -Wextra
 * -Werror: proves the header is valid C and walks a kernel's life through
 * the C interface (metadata memory from the caller, init from a byte-based
 * map, early allocations, move to a heap, constrained and huge allocations,
 * split/merge, refused foreign ranges and double frees, stats, check, dump).
 * Exits nonzero, naming the failed expectation, on the first surprise. */
#include <stdalign.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "framealloc.h"

static int failures = 0;

#define EXPECT(cond)                                                            \
    do {                                                                        \
        if (!(cond)) {                                                          \
            fprintf(stderr, "%s:%d: expected %s\n", __FILE__, __LINE__, #cond); \
            ++failures;                                                         \
        }                                                                       \
    } while (0)

#define MIB (1024ull * 1024ull)
#define GIB (1024ull * MIB)

/* The heap hooks a C kernel would write over its own heap; here, libc's. */
static size_t heap_live_blocks = 0;
static void* heap_allocate(void* context, size_t bytes, size_t align) {
    (void)context;
    size_t rounded = (bytes + align - 1) / align * align;
    void* p = aligned_alloc(align, rounded);
    if (p != NULL) {
        ++heap_live_blocks;
    }
    return p;
}
static void heap_deallocate(void* context, void* memory, size_t bytes, size_t align) {
    (void)context;
    (void)bytes;
    (void)align;
    --heap_live_blocks;
    free(memory);
}

static int dump_lines = 0;
static int dump_saw_handles = 0;
static void on_dump_line(void* context, const char* line) {
    (void)context;
    ++dump_lines;
    if (strstr(line, "c handles: live") != NULL) {
        dump_saw_handles = 1;
    }
}

int main(void) {
    /* Metadata memory for 16 live ranges before the heap exists. */
    size_t size = fa_allocator_size(16);
    EXPECT(size > 0);
    EXPECT(fa_allocator_align() >= alignof(uint64_t));
    void* memory =
        aligned_alloc(fa_allocator_align(), (size + fa_allocator_align() - 1) /
                                                fa_allocator_align() * fa_allocator_align());
    fa_allocator* fa = NULL;
    EXPECT(fa_create(memory, size, &fa) == FA_OK);
    EXPECT(fa != NULL);

    /* A firmware map in bytes: low memory, a hole, RAM above 4 GiB, an APIC page. */
    const fa_region map[] = {
        {1 * MIB, 63 * MIB, FA_REGION_FREE},
        {4 * GIB, 2 * GIB, FA_REGION_FREE},
        {0xFEE00000ull, 4096, FA_REGION_RESERVED},
        {0, 0, FA_REGION_UNKNOWN},
    };
    /* Over 2 GiB of RAM: more bitmap than the built-in metadata memory holds,
       so the allocator is given its own (and a refused init changes nothing). */
    const size_t regions = sizeof map / sizeof map[0];
    EXPECT(fa_init(fa, map, regions) == FA_ERR_CAPACITY_EXHAUSTED);
    const size_t meta_size = fa_metadata_size(map, regions);
    EXPECT(meta_size > 0);
    void* metadata = malloc(meta_size);
    EXPECT(fa_init_with_metadata(fa, map, regions, metadata, meta_size / 2) ==
           FA_ERR_CAPACITY_EXHAUSTED);
    EXPECT(fa_init_with_metadata(fa, map, regions, metadata, meta_size) == FA_OK);
    EXPECT(fa_init(fa, map, 1) == FA_ERR_ALREADY_INITIALIZED);

    fa_stats st;
    EXPECT(fa_get_stats(fa, &st) == FA_OK);
    EXPECT(st.general.total_frames == (63 * MIB + 2 * GIB) / FA_FRAME_SIZE);
    EXPECT(st.reserved.total_frames == 1);
    EXPECT(!st.heap_mode);

    /* Early mode: an ordinary allocation and one at the reserved APIC page. */
    fa_frames early;
    EXPECT(fa_allocate_frames(fa, 3, &early) == FA_OK);
    EXPECT(early.num_frames == 3);
    fa_frames apic;
    EXPECT(fa_allocate_frames_at(fa, 0xFEE00000ull, 1, &apic) == FA_OK);
    EXPECT(fa_frames_address(apic) == 0xFEE00000ull);
    EXPECT(fa_allocate_frames_at(fa, 0xFEE00000ull, 1, &apic) == FA_ERR_ADDRESS_IN_USE);

    /* Refusals that lose nothing: foreign, wrong length, double free. */
    fa_frames never = {early.start_frame + 100, 1};
    EXPECT(fa_free(fa, never) == FA_ERR_FOREIGN_HANDLE);
    fa_frames shorter = {early.start_frame, 2};
    EXPECT(fa_free(fa, shorter) == FA_ERR_FOREIGN_HANDLE);
    EXPECT(fa_free(fa, early) == FA_OK);
    EXPECT(fa_free(fa, early) == FA_ERR_FOREIGN_HANDLE);
    EXPECT(strcmp(fa_status_message(FA_ERR_FOREIGN_HANDLE), "foreign handle") == 0);

    /* The heap arrives. */
    fa_heap_hooks hooks = {heap_allocate, heap_deallocate, NULL};
    EXPECT(fa_move_to_heap(fa, &hooks) == FA_OK);
    EXPECT(fa_move_to_heap(fa, &hooks) == FA_ERR_ALREADY_INITIALIZED);

    /* Constraints: aligned, below 4 GiB, not crossing 64 KiB, and huge. */
    fa_request req;
    memset(&req, 0, sizeof req);
    req.num_frames = 8;
    req.align_frames = 8;
    req.max_address = 4 * GIB - 1;
    req.boundary_frames = 16;
    fa_frames dma;
    EXPECT(fa_allocate(fa, &req, &dma) == FA_OK);
    EXPECT(dma.start_frame % 8 == 0);
    EXPECT(fa_frames_address(dma) + dma.num_frames * FA_FRAME_SIZE <= 4 * GIB);
    EXPECT(dma.start_frame / 16 == (dma.start_frame + dma.num_frames - 1) / 16);

    memset(&req, 0, sizeof req);
    req.num_frames = 1;
    req.page_size = FA_PAGE_1G;
    fa_frames gig;
    EXPECT(fa_allocate(fa, &req, &gig) == FA_OK);
    EXPECT(gig.num_frames == FA_FRAMES_PER_1G);
    EXPECT(fa_frames_address(gig) % GIB == 0);
    EXPECT(fa_frames_address(gig) >= 4 * GIB);

    /* Split the gigabyte at 2 MiB, then put it back together. */
    fa_frames low;
    fa_frames high;
    EXPECT(fa_split(fa, gig, gig.start_frame + FA_FRAMES_PER_2M, &low, &high) == FA_OK);
    EXPECT(low.start_frame == gig.start_frame && low.num_frames == FA_FRAMES_PER_2M);
    EXPECT(high.start_frame == gig.start_frame + FA_FRAMES_PER_2M);
    EXPECT(fa_free(fa, gig) == FA_ERR_FOREIGN_HANDLE);
    fa_frames whole;
    EXPECT(fa_merge(fa, high, low, &whole) == FA_OK);
    EXPECT(whole.start_frame == gig.start_frame && whole.num_frames == gig.num_frames);
    EXPECT(fa_merge(fa, whole, dma, &whole) == FA_ERR_NOT_ADJACENT);

    /* Many live ranges at once: the table outgrows its 16 early slots. */
    enum { kMany = 200 };
    fa_frames many[kMany];
    for (int i = 0; i < kMany; ++i) {
        EXPECT(fa_allocate_frames(fa, 1, &many[i]) == FA_OK);
    }
    EXPECT(fa_get_stats(fa, &st) == FA_OK);
    EXPECT(st.live_ranges == kMany + 3); /* + apic, dma, whole */
    EXPECT(st.handle_capacity > kMany);
    EXPECT(st.heap_mode);
    EXPECT(fa_check(fa) == FA_OK);
    for (int i = 0; i < kMany; ++i) {
        EXPECT(fa_free(fa, many[i]) == FA_OK);
    }
    EXPECT(fa_free(fa, many[0]) == FA_ERR_FOREIGN_HANDLE);

    EXPECT(fa_dump(fa, on_dump_line, NULL) == FA_OK);
    EXPECT(dump_lines > 2);
    EXPECT(dump_saw_handles);

    EXPECT(fa_free(fa, whole) == FA_OK);
    EXPECT(fa_free(fa, dma) == FA_OK);
    EXPECT(fa_free(fa, apic) == FA_OK);
    fa_drain_cpu_caches(fa);
    EXPECT(fa_get_stats(fa, &st) == FA_OK);
    EXPECT(st.general.allocated_frames == 0);
    EXPECT(st.reserved.allocated_frames == 0);
    EXPECT(st.live_ranges == 0);
    EXPECT(fa_check(fa) == FA_OK);

    fa_destroy(fa);
    EXPECT(heap_live_blocks == 0);
    free(metadata);
    free(memory);

    if (failures != 0) {
        fprintf(stderr, "%d expectation(s) failed\n", failures);
        return 1;
    }
    puts("c program: all expectations met");
    return 0;
}
