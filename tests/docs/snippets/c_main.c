// snippet-mode: run
/* Statements run inside main() of a hosted C program, with the kernel
 * helpers a C kernel would have (panic, an aligned heap) defined on the C
 * library. framealloc_hosted supplies the two hooks. */
#include <stdio.h>
#include <stdlib.h>

static _Noreturn void panic(const char* message) {
    fprintf(stderr, "panic: %s\n", message);
    exit(1);
}
static void* kmalloc_aligned_hook(void* context, size_t bytes, size_t align) {
    (void)context;
    return aligned_alloc(align, (bytes + align - 1) / align * align);
}
static void kfree_hook(void* context, void* memory, size_t bytes, size_t align) {
    (void)context;
    (void)bytes;
    (void)align;
    free(memory);
}

int main(void) {
    // @SNIPPET@
    return 0;
}
