/*
 * CPU exception entry stubs (vectors 0-31). The demo kernel never expects an
 * exception; these exist so that a bug (a bad pointer, a page the identity map
 * does not cover) is reported on the serial port with the vector, error code,
 * RIP and CR2, and fails the test with a clear message instead of ending in a
 * silent triple fault. Each stub pushes a uniform frame (vector, error code,
 * then what the CPU pushed) and jumps to the common C++ handler, which never
 * returns.
 */

    .section .text
    .code64

/* Most vectors get a zero pushed in place of an error code... */
.macro TRAP_STUB_NO_ERROR vector
    .balign 16
trap_stub_\vector:
    pushq $0
    pushq $\vector
    jmp trap_common
.endm

/* ...the rest have one pushed by the CPU itself. */
.macro TRAP_STUB_ERROR vector
    .balign 16
trap_stub_\vector:
    pushq $\vector
    jmp trap_common
.endm

/* Plain .irp lists rather than recursive macros: both GNU as and LLVM's
   integrated assembler accept them. */
.irp vector, 0, 1, 2, 3, 4, 5, 6, 7, 9, 15, 16, 18, 19, 20, 22, 23, 24, 25, 26, 27, 28, 31
    TRAP_STUB_NO_ERROR \vector
.endr
.irp vector, 8, 10, 11, 12, 13, 14, 17, 21, 29, 30
    TRAP_STUB_ERROR \vector
.endr

trap_common:
    /* rdi points at {vector, error code, rip, cs, rflags, rsp, ss}. */
    movq %rsp, %rdi
    andq $-16, %rsp
    call trap_handler
1:  cli
    hlt
    jmp 1b

    .section .rodata
    .balign 8
    .globl trap_stub_table
trap_stub_table:
.irp vector, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31
    .quad trap_stub_\vector
.endr

    .section .note.GNU-stack, "", @progbits
