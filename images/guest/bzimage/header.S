/*
 * header.S — the real-mode part of the test bzImage: one boot sector and one setup
 * sector (setup_sects = 1), holding the setup header of the Linux x86 boot protocol
 * (Documentation/arch/x86/boot.rst, "The Real-Mode Kernel Header").
 *
 * hvlab uses the 64-bit boot protocol and never runs this code; it reads the header.
 * Every field sits at its offset from the start of the image: a .org before a field
 * makes the assembler refuse the file if a field before it grew.
 */
#define SETUP_SECTS 1
#define LOAD_ADDRESS 0x1000000    /* pref_address: 16 MiB, as Linux's default */

	.section .setup, "a"
	.code16
	.globl _setup
_setup:
	/* The boot sector of old: a BIOS booting this directly just stops. */
	cli
	hlt

	.org 0x1f1
setup_sects:	.byte SETUP_SECTS
root_flags:	.word 0
syssize:	.long payload_paras       /* protected-mode size in 16-byte units (bzimage.ld) */
ram_size:	.word 0
vid_mode:	.word 0xffff              /* "normal" */
root_dev:	.word 0
boot_flag:	.word 0xaa55

	.org 0x200
jump:		.byte 0xeb, setup_code - header  /* the end of the header: 0x202 + this byte */
header:		.ascii "HdrS"
version:	.word 0x020f              /* boot protocol 2.15 */
realmode_swtch:	.long 0
start_sys_seg:	.word 0x1000
kernel_version:	.word 0
type_of_loader:	.byte 0                   /* the boot loader fills this in */
loadflags:	.byte 0x01                /* LOADED_HIGH: the kernel runs from 1 MiB up */
setup_move_size: .word 0x8000
code32_start:	.long 0x100000
ramdisk_image:	.long 0                   /* the boot loader fills this in */
ramdisk_size:	.long 0
bootsect_kludge: .long 0
heap_end_ptr:	.word 0
ext_loader_ver:	.byte 0
ext_loader_type: .byte 0
cmd_line_ptr:	.long 0                   /* the boot loader fills this in */
	.org 0x22c
initrd_addr_max: .long 0x7fffffff
kernel_alignment: .long 0x200000          /* 2 MiB */
relocatable_kernel: .byte 1
min_alignment:	.byte 21                  /* log2 of the smallest alignment that works */
xloadflags:	.word 0x1                 /* XLF_KERNEL_64: a 64-bit entry at +0x200 */
cmdline_size:	.long 255
hardware_subarch: .long 0
hardware_subarch_data: .quad 0
payload_offset:	.long 0
payload_length:	.long 0
setup_data:	.quad 0
	.org 0x258
pref_address:	.quad LOAD_ADDRESS
init_size:	.long payload_init_size   /* bytes from the load address the kernel uses */
handover_offset: .long 0
kernel_info_offset: .long 0

setup_code:
	/* Where real-mode setup code would start. */
	cli
	hlt

	.org (SETUP_SECTS + 1) * 512
