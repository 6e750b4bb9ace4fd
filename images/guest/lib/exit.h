/**
 * @file exit.h
 * @brief Ending the partition, and what its exit status means.
 *
 * A guest ends by writing a 32-bit status to I/O port HVLAB_PORT_EXIT (0xf4), like QEMU's
 * isa-debug-exit device. The hypervisor reports the status and stops the partition.
 *
 * Exit-status convention of the test guests:
 *   0x00            success: main() returned 0 (every check passed)
 *   0x01 - 0xcf     main() returned this: for test programs, the number of failed tests
 *   0xd0            the boot information was not valid (bad magic): nothing could run
 *   0xd1            the page allocator ran out of memory while building page tables
 *   0xde            an exception happened inside the exception handler (nested fault)
 *   0xe0 + VECTOR   an unexpected exception VECTOR (0-31), e.g. 0xe6 = #UD, 0xee = #PF
 */
#ifndef GUEST_EXIT_H
#define GUEST_EXIT_H

#include <hvlab/types.h>

#define GUEST_EXIT_OK 0x00
#define GUEST_EXIT_BAD_BOOT_INFO 0xd0
#define GUEST_EXIT_NO_MEMORY 0xd1
#define GUEST_EXIT_NESTED_FAULT 0xde
#define GUEST_EXIT_EXCEPTION(vec) (0xe0 + (vec))

/** End the partition with @p status (see the table above). Never returns. */
void guest_exit(u32 status) __attribute__((noreturn));

#endif
