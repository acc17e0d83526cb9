/*
 * Entry point of the framealloc demo kernel. QEMU's Multiboot1 loader finds the
 * header below, loads the (elf32-converted) image at 1 MiB and jumps to _start
 * in 32-bit protected mode with paging off. This file does the minimum needed to
 * run C++: zero .bss, check that the CPU has long mode, identity-map the first
 * 4 GiB with 2 MiB pages (RAM below 4 GiB plus the local APIC / IOAPIC window),
 * turn on PAE, long mode and paging, load a flat GDT and call
 * kmain(multiboot_magic, multiboot_info_phys) on a 64 KiB stack. kmain later
 * replaces these tables with ones sized from the memory map and built from
 * frames that framealloc hands out, so RAM above 4 GiB is mapped there.
 */

#define MB1_HEADER_MAGIC 0x1BADB002
/* bit 0: page-align modules, bit 1: we need mem_* and the memory map. */
#define MB1_HEADER_FLAGS 0x00000003

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

#define PTE_PRESENT 0x001
#define PTE_WRITABLE 0x002
#define PTE_HUGE 0x080

#define KERNEL_CODE_SELECTOR 0x08
#define KERNEL_DATA_SELECTOR 0x10

/* QEMU isa-debug-exit: writing v makes QEMU exit with (v << 1) | 1. */
#define DEBUG_EXIT_PORT 0xf4
#define DEBUG_EXIT_FAILURE 0x11
#define COM1_PORT 0x3f8

    .section .multiboot, "a"
    .balign 4
multiboot_header:
    .long MB1_HEADER_MAGIC
    .long MB1_HEADER_FLAGS
    .long -(MB1_HEADER_MAGIC + MB1_HEADER_FLAGS)

    .section .boot.text, "ax"
    .code32
    .globl _start
    .type _start, @function
_start:
    cli
    cld
    /* eax/ebx are clobbered below (rep stos, cpuid); ebp and esi survive. */
    movl %eax, %ebp
    movl %ebx, %esi

    /* The loader is not required to clear .bss, and the page tables live there. */
    movl $__bss_start, %edi
    movl $__bss_end, %ecx
    subl %edi, %ecx
    xorl %eax, %eax
    rep stosb
    movl $boot_stack_top, %esp

    movl $0x80000000, %eax
    cpuid
    cmpl $0x80000001, %eax
    jb no_long_mode
    movl $0x80000001, %eax
    cpuid
    btl $29, %edx
    jnc no_long_mode

    /* PML4[0] covers the low 512 GiB through one PDPT. */
    movl $boot_pdpt, %eax
    orl $(PTE_PRESENT | PTE_WRITABLE), %eax
    movl %eax, boot_pml4

    /* PDPT[0..3]: one page directory per GiB. */
    movl $boot_pd, %eax
    orl $(PTE_PRESENT | PTE_WRITABLE), %eax
    xorl %ecx, %ecx
1:  movl %eax, boot_pdpt(, %ecx, 8)
    addl $0x1000, %eax
    incl %ecx
    cmpl $4, %ecx
    jb 1b

    /* 2048 entries of 2 MiB: physical 0 .. 4 GiB, high dwords stay zero. */
    movl $(PTE_PRESENT | PTE_WRITABLE | PTE_HUGE), %eax
    xorl %ecx, %ecx
2:  movl %eax, boot_pd(, %ecx, 8)
    addl $0x200000, %eax
    incl %ecx
    cmpl $2048, %ecx
    jb 2b

    movl $boot_pml4, %eax
    movl %eax, %cr3

    /* SSE enabled so that code the compiler may vectorise (memcpy loops in
       hosted-style headers) cannot fault with #UD; the kernel never switches
       tasks, so no FPU state has to be saved. */
    movl %cr4, %eax
    orl $(CR4_PAE | CR4_OSFXSR | CR4_OSXMMEXCPT), %eax
    movl %eax, %cr4

    movl $MSR_EFER, %ecx
    rdmsr
    orl $EFER_LME, %eax
    wrmsr

    movl %cr0, %eax
    andl $(~CR0_EM), %eax
    orl $(CR0_PG | CR0_WP | CR0_MP | CR0_PE), %eax
    movl %eax, %cr0

    lgdt boot_gdt_pointer
    ljmp $KERNEL_CODE_SELECTOR, $long_mode_start

/* Without long mode there is nothing to run: say so on COM1 and fail the test. */
no_long_mode:
    movl $no_long_mode_message, %esi
    movw $COM1_PORT, %dx
3:  lodsb
    testb %al, %al
    jz 4f
    outb %al, %dx
    jmp 3b
4:  movw $DEBUG_EXIT_PORT, %dx
    movl $DEBUG_EXIT_FAILURE, %eax
    outl %eax, %dx
5:  hlt
    jmp 5b
    .size _start, . - _start

    .code64
long_mode_start:
    movw $KERNEL_DATA_SELECTOR, %ax
    movw %ax, %ds
    movw %ax, %es
    movw %ax, %ss
    xorw %ax, %ax
    movw %ax, %fs
    movw %ax, %gs

    movq $boot_stack_top, %rsp
    movl %ebp, %edi     /* zero-extends: kmain(uint32_t magic, */
    movl %esi, %esi     /*                   uint32_t info_phys) */
    xorl %ebp, %ebp     /* ends frame-pointer chains for backtraces */
    call kmain

    /* kmain never returns; if it does, stop here rather than run off. */
6:  cli
    hlt
    jmp 6b

    .section .rodata
no_long_mode_message:
    .asciz "framealloc-kernel: CPU has no long mode\n"

    .balign 8
    .globl boot_gdt
boot_gdt:
    .quad 0
    .quad 0x00AF9A000000FFFF    /* 64-bit ring-0 code: P, S, exec/read, L */
    .quad 0x00CF92000000FFFF    /* ring-0 data: P, S, read/write */
boot_gdt_end:

    /* lgdt reads a 32-bit base in protected mode and 64 bits in long mode;
       the image is below 4 GiB, so one descriptor serves both. */
    .balign 8
    .word 0, 0, 0
boot_gdt_pointer:
    .word boot_gdt_end - boot_gdt - 1
    .quad boot_gdt

    .section .bss
    .balign 4096
    .globl boot_pml4
boot_pml4:
    .skip 4096
boot_pdpt:
    .skip 4096
boot_pd:
    .skip 4 * 4096

    .balign 16
boot_stack_bottom:
    .skip 65536
    .globl boot_stack_top
boot_stack_top:

    .section .note.GNU-stack, "", @progbits
