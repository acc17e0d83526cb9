/*
 * Entry stub of the local APIC timer interrupt (smp.cpp installs it). It
 * saves the registers the C++ handler may clobber (the kernel uses no SSE or
 * x87 state), aligns the stack, calls timer_interrupt() and returns with
 * iretq; the interrupt gate has cleared IF, iretq restores it. The spurious
 * vector needs no EOI and does nothing.
 */
    .section .text
    .code64
    .globl timer_interrupt_stub
    .globl spurious_interrupt_stub

timer_interrupt_stub:
    pushq %rax
    pushq %rcx
    pushq %rdx
    pushq %rsi
    pushq %rdi
    pushq %r8
    pushq %r9
    pushq %r10
    pushq %r11
    pushq %rbp
    movq %rsp, %rbp
    andq $-16, %rsp
    cld
    call timer_interrupt
    movq %rbp, %rsp
    popq %rbp
    popq %r11
    popq %r10
    popq %r9
    popq %r8
    popq %rdi
    popq %rsi
    popq %rdx
    popq %rcx
    popq %rax
    iretq

spurious_interrupt_stub:
    iretq

    .section .note.GNU-stack, "", @progbits
