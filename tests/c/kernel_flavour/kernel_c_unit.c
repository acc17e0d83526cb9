/* A C kernel's use of framealloc, built with the kernel flags and linked with
 * nothing but libframealloc_c-kernel.a: only the two hooks and the memory
 * routines a freestanding compiler may call are defined here. If the kernel
 * flavour of the C library ever needs libc or the C++ run time, this link
 * fails. */
#include <framealloc.h>
#include <stddef.h>

void framealloc_panic(const char* message) {
    (void)message;
    for (;;) {
    }
}
unsigned framealloc_cpu_id(void) {
    return 0;
}
void* memcpy(void* d, const void* s, size_t n) {
    for (size_t i = 0; i < n; ++i)
        ((char*)d)[i] = ((const char*)s)[i];
    return d;
}
void* memmove(void* d, const void* s, size_t n) {
    if ((char*)d < (const char*)s)
        return memcpy(d, s, n);
    for (size_t i = n; i > 0; --i)
        ((char*)d)[i - 1] = ((const char*)s)[i - 1];
    return d;
}
void* memset(void* d, int c, size_t n) {
    for (size_t i = 0; i < n; ++i)
        ((unsigned char*)d)[i] = (unsigned char)c;
    return d;
}
int memcmp(const void* a, const void* b, size_t n) {
    for (size_t i = 0; i < n; ++i) {
        const int d = ((const unsigned char*)a)[i] - ((const unsigned char*)b)[i];
        if (d != 0)
            return d;
    }
    return 0;
}

static _Alignas(64) unsigned char fa_memory[64 * 1024];

void _start(void);
void _start(void) {
    fa_allocator* fa = NULL;
    const fa_region map[] = {{0x100000, 0x7ff00000, FA_REGION_FREE}};
    fa_frames f;
    if (fa_create(fa_memory, sizeof fa_memory, &fa) == FA_OK && fa_init(fa, map, 1) == FA_OK &&
        fa_allocate_frames(fa, 4, &f) == FA_OK) {
        (void)fa_free(fa, f);
    }
    for (;;) {
    }
}
