/*
 * Entry point of the AArch64 kernel. QEMU's virt board starts the CPU at the
 * ELF entry in EL1 with the MMU and caches off. x0 holds the device tree's
 * address only under the Linux boot protocol (not for ELF images, whose
 * tree is at the start of RAM); it is passed on and kmain decides. The code
 * sets up a stack, zeroes .bss, installs exception vectors that report and
 * fail the run, and calls kmain(x0).
 */

    .section .text.boot, "ax"
    .globl _start
    .type _start, %function
_start:
    msr daifset, #0xf          /* no interrupts of any kind */
    mov x19, x0
    ldr x1, =__bss_start
    ldr x2, =__bss_end
1:  cmp x1, x2
    b.hs 2f
    str xzr, [x1], #8
    b 1b
2:  ldr x1, =kernel_stack_top
    mov sp, x1
    ldr x1, =exception_vectors
    msr vbar_el1, x1
    isb
    mov x0, x19
    bl kmain
3:  wfe
    b 3b

/* 16 vectors of 0x80 bytes: {current EL with SP0, current EL with SPx,
   lower EL AArch64, lower EL AArch32} x {sync, IRQ, FIQ, SError}. Each passes
   its index to the C++ handler, which prints the syndrome and exits. */
    .section .text, "ax"
    .balign 2048
    .globl exception_vectors
exception_vectors:
    .irp index, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15
    .balign 0x80
    mov x0, #\index
    b exception_entry
    .endr

exception_entry:
    ldr x1, =kernel_stack_top  /* a fault may come from a bad stack */
    mov sp, x1
    bl exception_handler
4:  wfe
    b 4b

    .section .bss
    .balign 16
kernel_stack:
    .space 65536
kernel_stack_top:

    .section .note.GNU-stack, "", %progbits
