/**
 * @file guest_mem.h
 * @brief Reading and writing guest memory from the hypervisor, by guest-physical or
 * guest-virtual address.
 */
#ifndef ARCH_GUEST_MEM_H
#define ARCH_GUEST_MEM_H

#include <hvlab/types.h>

struct vcpu;
struct partition;

/** Where guest-physical @p gpa of @p p lives in host memory; false when it is not RAM. */
bool gpa_to_hpa(const struct partition *p, u64 gpa, u64 *hpa);

/**
 * Translate guest-virtual @p gva through @p v's current paging mode (off, 32-bit, PAE or
 * 4-level), reading the guest's page tables through its physical map. Returns false when
 * the address is not mapped (the guest itself would fault on a supervisor read).
 */
bool gva_to_gpa(struct vcpu *v, u64 gva, u64 *gpa);

/** Copy @p len bytes at guest-virtual @p gva into @p buf; returns the bytes copied (stops at the first unmapped page). */
size_t guest_read_virt(struct vcpu *v, u64 gva, void *buf, size_t len);

/** Copy @p len bytes at guest-physical @p gpa of @p p into @p buf; returns the bytes copied. */
size_t guest_read_phys(const struct partition *p, u64 gpa, void *buf, size_t len);

/** Copy @p len bytes from @p buf to guest-physical @p gpa; returns the bytes copied. */
size_t guest_write_phys(const struct partition *p, u64 gpa, const void *buf, size_t len);

#endif
