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

/* Vectors for which the CPU pushes an error code itself. */
.macro TRAP_STUB vector
    .balign 16
trap_stub_\vector:
    .if (\vector == 8) || (\vector == 10) || (\vector == 11) || (\vector == 12) || (\vector == 13) || (\vector == 14) || (\vector == 17) || (\vector == 21) || (\vector == 29) || (\vector == 30)
    .else
    pushq $0
    .endif
    pushq $\vector
    jmp trap_common
.endm

.altmacro
.macro TRAP_STUBS from, to
    TRAP_STUB %from
    .if \to - \from
    TRAP_STUBS %(\from + 1), \to
    .endif
.endm

TRAP_STUBS 0, 31

trap_common:
    /* rdi points at {vector, error code, rip, cs, rflags, rsp, ss}. */
    movq %rsp, %rdi
    andq $-16, %rsp
    call trap_handler
1:  cli
    hlt
    jmp 1b

.macro TRAP_ENTRY vector
    .quad trap_stub_\vector
.endm
.macro TRAP_ENTRIES from, to
    TRAP_ENTRY %from
    .if \to - \from
    TRAP_ENTRIES %(\from + 1), \to
    .endif
.endm

    .section .rodata
    .balign 8
    .globl trap_stub_table
trap_stub_table:
    TRAP_ENTRIES 0, 31

    .section .note.GNU-stack, "", @progbits
