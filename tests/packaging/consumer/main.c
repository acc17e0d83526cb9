/* Consumer check (C): the installed C header compiles as C11 and works. */
#include <framealloc.h>

#include <stdio.h>
#include <stdlib.h>

int main(void) {
    size_t size = fa_allocator_size(8);
    size_t align = fa_allocator_align();
    void* memory = aligned_alloc(align, (size + align - 1) / align * align);
    fa_allocator* fa = NULL;
    if (memory == NULL || fa_create(memory, size, &fa) != FA_OK) {
        return 1;
    }
    const fa_region ram = {0x100000, 0x400000, FA_REGION_FREE};
    fa_frames frames;
    if (fa_init(fa, &ram, 1) != FA_OK || fa_allocate_frames(fa, 4, &frames) != FA_OK ||
        frames.num_frames != 4 || fa_free(fa, frames) != FA_OK ||
        fa_free(fa, frames) != FA_ERR_FOREIGN_HANDLE) {
        return 2;
    }
    fa_destroy(fa);
    free(memory);
    puts("consumer_c ok");
    return 0;
}
