/*
 * Start-up code of the application processors. smp.cpp copies the bytes
 * between ap_trampoline_start and ap_trampoline_end to a page below 1 MiB
 * (claimed from framealloc with allocate_frames_at) and fills in the data
 * block at the end (ApTrampolineData in smp.cpp); a STARTUP IPI with that
 * page's number starts an AP here in real mode, CS = page << 8, IP = 0. The
 * code never uses an absolute address of its own: %ebx holds the page's
 * physical address, and the GDT base and far-jump targets come from the data
 * block. Path: real mode -> 32-bit protected mode (own GDT) -> PAE, the BSP's
 * CR3, EFER.LME, paging -> 64-bit mode -> the entry function, called with the
 * CPU's record in %rdi on the stack the BSP allocated for it.
 */

#define CR0_PE 0x00000001
#define CR0_MP 0x00000002
#define CR0_EM 0x00000004
#define CR0_WP 0x00010000
#define CR0_PG 0x80000000
#define CR4_PAE 0x00000020
#define CR4_OSFXSR 0x00000200
#define CR4_OSXMMEXCPT 0x00000400
#define MSR_EFER 0xC0000080
#define EFER_LME 0x00000100

#define OFF(label) ((label) - ap_trampoline_start)

    .section .rodata
    .balign 16
    .globl ap_trampoline_start
    .globl ap_trampoline_protected
    .globl ap_trampoline_long
    .globl ap_trampoline_gdt
    .globl ap_trampoline_data
    .globl ap_trampoline_end

    .code16
ap_trampoline_start:
    cli
    cld
    movw %cs, %ax
    movw %ax, %ds
    xorl %ebx, %ebx
    movw %ax, %bx
    shll $4, %ebx
    lgdtl OFF(tr_gdt_pointer)
    movl %cr0, %eax
    orl $CR0_PE, %eax
    movl %eax, %cr0
    ljmpl *OFF(tr_far32)

    .code32
ap_trampoline_protected:
    movw $0x10, %ax
    movw %ax, %ds
    movw %ax, %es
    movw %ax, %ss
    movl %cr4, %eax
    orl $(CR4_PAE | CR4_OSFXSR | CR4_OSXMMEXCPT), %eax
    movl %eax, %cr4
    movl OFF(tr_cr3)(%ebx), %eax
    movl %eax, %cr3
    movl $MSR_EFER, %ecx
    rdmsr
    orl $EFER_LME, %eax
    wrmsr
    movl %cr0, %eax
    andl $(~CR0_EM), %eax
    orl $(CR0_PG | CR0_WP | CR0_MP | CR0_PE), %eax
    movl %eax, %cr0
    ljmpl *OFF(tr_far64)(%ebx)

    .code64
ap_trampoline_long:
    movl %ebx, %ebx            /* upper halves are undefined after the switch */
    movw $0x10, %ax
    movw %ax, %ds
    movw %ax, %es
    movw %ax, %ss
    xorw %ax, %ax
    movw %ax, %fs
    movw %ax, %gs
    movq OFF(tr_stack)(%rbx), %rsp
    movq OFF(tr_cpu)(%rbx), %rdi
    movq OFF(tr_entry)(%rbx), %rax
    xorl %ebp, %ebp
    callq *%rax
1:  cli
    hlt
    jmp 1b

    .balign 8
ap_trampoline_gdt:
    .quad 0
    .quad 0x00CF9A000000FFFF    /* 0x08: 32-bit code */
    .quad 0x00CF92000000FFFF    /* 0x10: data */
    .quad 0x00AF9A000000FFFF    /* 0x18: 64-bit code */
tr_gdt_end:

    /* The data block; smp.cpp's ApTrampolineData mirrors this layout. */
    .balign 8
ap_trampoline_data:
tr_gdt_pointer:
    .word tr_gdt_end - ap_trampoline_gdt - 1
    .long 0                     /* GDT base: page + OFF(ap_trampoline_gdt) */
tr_far32:
    .long 0                     /* page + OFF(ap_trampoline_protected) */
    .word 0x08
tr_far64:
    .long 0                     /* page + OFF(ap_trampoline_long) */
    .word 0x18
    .word 0, 0, 0
tr_cr3:
    .quad 0
tr_stack:
    .quad 0
tr_cpu:
    .quad 0
tr_entry:
    .quad 0
ap_trampoline_end:

    .section .note.GNU-stack, "", @progbits
