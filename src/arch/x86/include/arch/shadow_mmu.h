/**
 * @file shadow_mmu.h
 * @brief Shadow paging: memory virtualization without EPT.
 *
 * Without EPT the processor walks one set of page tables, so the hypervisor builds
 * them: *shadow* page tables that map guest-linear addresses straight to host-physical
 * frames, derived from the guest's own tables (guest-linear → guest-physical) and the
 * partition's physical map (guest-physical → host-physical, the EPT hierarchy built for
 * every partition, used here as a plain table). The guest's CR3 never reaches the CPU:
 * the CPU runs on a shadow root, and the guest reads back the CR3 it wrote.
 *
 * How the shadow stays right (docs/design/shadow-paging.md tells the whole story):
 *   - Filled on demand. A shadow root starts empty; every #PF exits (exception bitmap
 *     bit 14), the hypervisor walks the guest's tables (guest_walk(), with A/D set as
 *     the CPU would) and either reflects the guest's own fault or installs one 4 KiB
 *     shadow leaf. Guest 2 MiB, 4 MiB and 1 GiB pages are backed by 4 KiB leaves.
 *   - Kept coherent. Every guest frame that a shadow was derived from (a guest page
 *     table) is write-protected in every shadow. A guest write to it faults; the
 *     hypervisor emulates the store and drops exactly the shadow entries derived from
 *     the changed guest entry. The shadow therefore never holds a stale translation,
 *     which is stronger than the TLB semantics INVLPG and CR3 loads repair, so neither
 *     needs to exit for correctness.
 *   - Cached. Roots are kept per guest root (guest CR3 + paging mode + the control bits
 *     shadow entries depend on) in the shadow page-table cache (shadow_cache.h,
 *     MECHANISMS.md §4 first item): a CR3 load that finds its root skips rebuilding.
 *     Coherence above is what makes reusing an inactive root correct.
 *   - Dirty bits. A shadow leaf is writable only once the guest's leaf has D set, so
 *     the first write faults and the hypervisor sets D, as the CPU would (SDM Vol. 3A §5.8).
 *
 * The CPU runs the shadow in 4-level paging when the guest is in IA-32e mode, and in
 * PAE paging otherwise (guest paging off, 32-bit and PAE paging): CR0.PG and CR0.PE are
 * fixed to 1 without unrestricted guest (SDM Vol. 3C §24.8), so a guest with paging off
 * runs on an identity shadow of its guest-physical memory.
 *
 * One vCPU per partition: application processors start in real mode, which needs the
 * unrestricted-guest control, which needs EPT.
 */
#ifndef ARCH_SHADOW_MMU_H
#define ARCH_SHADOW_MMU_H

#include <hvlab/types.h>
#include <arch/guest_walk.h>
#include <arch/shadow_cache.h>

struct partition;
struct vcpu;

/** Counters, printed in the partition summary and by the benchmark. */
struct shadow_stats {
	u64 page_faults;      /**< #PF exits */
	u64 leaves_filled;    /**< shadow leaves installed */
	u64 guest_faults;     /**< #PF reflected to the guest (its own fault) */
	u64 write_emulations; /**< guest stores to its page tables, emulated */
	u64 unprotects;       /**< page-table frames given up (store not emulated) */
	u64 flood_unprotects; /**< page-table frames given up after many stores and no walk */
	u64 entries_zapped;   /**< shadow entries dropped because a guest entry changed */
	u64 cr3_loads;        /**< guest CR3 loads and paging-mode changes */
	u64 pool_reclaims;    /**< roots dropped because the shadow pool ran dry */
};

/** The shadow MMU of one partition. */
struct shadow_mmu;

/** The guest's view of its paging controls (what it wrote, not what the CPU runs on). */
struct shadow_guest_state {
	u64 cr0, cr3, cr4, efer, rflags;
};

/** What the #PF exit handler is to do next. */
enum shadow_pf_result {
	SPF_RETRY,        /**< a shadow leaf was installed: resume, the access runs again */
	SPF_GUEST_FAULT,  /**< the guest's own #PF: inject it with out->error_code, CR2 = address */
	SPF_PT_WRITE,     /**< a store the hypervisor must perform (shadow_mmu_emulated_store): to a guest
			       page table, or a CR0.WP = 0 store to a user page under SMEP/SMAP */
	SPF_NOT_MEMORY,   /**< out->gpa is not RAM of the partition: an emulated device or an attack */
	SPF_STOP,         /**< the partition was ended (reason already given) */
};

/** Details of a page-fault outcome. */
struct shadow_pf_out {
	u32 error_code; /**< SPF_GUEST_FAULT: the guest's error code (SDM Vol. 3A §5.7) */
	u64 gpa;        /**< SPF_PT_WRITE, SPF_NOT_MEMORY: the guest-physical address */
	bool write, fetch;
};

/** Set up @p p's shadow MMU (pool, tracking, cache enabled or not). Returns 0 or -1 (out of memory). */
int shadow_mmu_init(struct partition *p, bool cache_enabled);

/** Forget every shadow root and every tracked frame of @p p (soft reset: new memory contents). */
void shadow_mmu_reset(struct partition *p);

/** Free everything the shadow MMU of @p p holds (shadow tables included). */
void shadow_mmu_destroy(struct partition *p);

/**
 * The shadow root for the guest paging state @p gs (after a CR3 load or a change of
 * CR0.PG/WP, CR4.PAE/PSE/SMEP/SMAP or EFER.NXE/LMA): found in the cache or built empty.
 * Returns 0 and the root's host-physical address in @p root; -1 if PAE PDPTEs have
 * reserved bits set (the guest's MOV takes #GP); -2 if its PDPT is not guest RAM;
 * -3 if the host is out of memory.
 */
int shadow_mmu_load(struct vcpu *v, const struct shadow_guest_state *gs, u64 *root);

/**
 * Handle a #PF exit at linear address @p la with hardware error code @p pfec: walk the
 * guest's tables (setting A/D), then fill a shadow leaf, or say why not (@p out).
 */
enum shadow_pf_result shadow_mmu_page_fault(struct vcpu *v, const struct shadow_guest_state *gs,
					    u64 la, u32 pfec, struct shadow_pf_out *out);

/**
 * Perform a guest store of @p size bytes of @p value at guest-physical @p gpa, within
 * one page, into a write-protected guest page table, and drop every shadow entry derived
 * from the guest entries it changed. Returns 0, or -1 if @p gpa is not guest RAM.
 */
int shadow_mmu_emulated_store(struct vcpu *v, u64 gpa, unsigned size, u64 value);

/**
 * The store (hardware error code @p pfec) to page-table frame @p gpa cannot be
 * emulated: drop every shadow entry derived from that frame, stop protecting it, and
 * map @p la writable so the instruction at @p rip can run natively. Returns SPF_RETRY, or SPF_STOP if the same instruction
 * keeps coming back (it needs the frame as a page table to complete).
 */
enum shadow_pf_result shadow_mmu_unprotect(struct vcpu *v, const struct shadow_guest_state *gs,
					   u64 la, u32 pfec, u64 gpa, u64 rip);

/**
 * The hypervisor wrote @p len bytes of @p p's memory at guest-physical @p gpa behind the
 * guest's back (debugger, monitor): drop the shadow entries derived from page-table
 * entries there. Nothing to do under EPT.
 */
void shadow_mmu_host_wrote(const struct partition *p, u64 gpa, size_t len);

/** The counters of @p p's shadow MMU, and of its cache (NULL when @p p uses EPT). */
const struct shadow_stats *shadow_mmu_stats(const struct partition *p, const struct shadow_cache_stats **cache);

/** Shadow pages in use / allowed for @p p. */
void shadow_mmu_pool_usage(const struct partition *p, u64 *used, u64 *limit);

/** Fill @p cpu for a walk of the guest's tables in state @p gs (mode, CR3, WP, PSE...). */
void shadow_walk_cpu(const struct shadow_guest_state *gs, struct guest_walk_cpu *cpu);

#endif
