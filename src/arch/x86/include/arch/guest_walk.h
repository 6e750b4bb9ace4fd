/**
 * @file guest_walk.h
 * @brief The architectural walk of a guest's own page tables, done in software.
 *
 * Without EPT the hypervisor must translate guest-linear addresses exactly as the
 * processor would (SDM Vol. 3A Chapter 5 "Paging"): to fill shadow entries on demand,
 * and to reflect the guest's own page faults to it with the right error code. This
 * module is that walk, for the four modes a guest passes through while booting:
 *
 *     paging off       CR0.PG = 0                      linear = physical (§5.1.1)
 *     32-bit paging    CR0.PG = 1, CR4.PAE = 0         §5.3, 4 MiB pages with CR4.PSE
 *     PAE paging       CR4.PAE = 1, EFER.LMA = 0       §5.4, 2 MiB pages
 *     4-level paging   CR4.PAE = 1, EFER.LMA = 1       §5.5, 2 MiB and 1 GiB pages
 *
 * It applies the access rights of §5.6 (U/S, R/W with CR0.WP, XD with EFER.NXE, SMEP,
 * SMAP with EFLAGS.AC and implicit supervisor accesses), builds page-fault error codes
 * as §5.7 specifies, and optionally sets accessed and dirty flags as §5.8 describes.
 * Pure logic: guest-physical memory is reached through struct guest_walk_ops, so host
 * unit tests run it over a malloc'd array.
 */
#ifndef ARCH_GUEST_WALK_H
#define ARCH_GUEST_WALK_H

#include <hvlab/types.h>

/** The guest's paging mode (SDM Vol. 3A §5.1.1, Table 5-1). */
enum guest_paging_mode {
	GUEST_PAGING_NONE,   /**< CR0.PG = 0: no translation */
	GUEST_PAGING_32BIT,  /**< 32-bit paging (§5.3) */
	GUEST_PAGING_PAE,    /**< PAE paging (§5.4) */
	GUEST_PAGING_4LEVEL, /**< 4-level paging (§5.5) */
};

/* Paging-structure entry bits shared by all modes (SDM Vol. 3A §5.3-5.5, Tables 5-4..5-20). */
#define GPTE_P BIT(0)    /**< present */
#define GPTE_RW BIT(1)   /**< writes allowed */
#define GPTE_US BIT(2)   /**< user-mode accesses allowed */
#define GPTE_A BIT(5)    /**< accessed */
#define GPTE_D BIT(6)    /**< dirty (leaf entries only) */
#define GPTE_PS BIT(7)   /**< page size: this PDPTE/PDE maps a page */
#define GPTE_G BIT(8)    /**< global (leaf, with CR4.PGE) */
#define GPTE_XD BIT(63)  /**< execute-disable (PAE and 4-level, with EFER.NXE) */

/* Page-fault error code bits (SDM Vol. 3A §5.7, Figure 5-12). PK, SS, HLAT and SGX are never set. */
#define PFEC_P BIT(0)    /**< 0: not-present page; 1: protection or reserved-bit violation */
#define PFEC_W BIT(1)    /**< the access was a write */
#define PFEC_U BIT(2)    /**< the access was a user-mode access */
#define PFEC_RSVD BIT(3) /**< a reserved bit was set in some paging-structure entry */
#define PFEC_I BIT(4)    /**< instruction fetch (only with SMEP, or PAE/4-level with NXE) */

/* The access being translated: OR of these bits (none set: a supervisor data read). */
#define GW_WRITE BIT(0)    /**< data write */
#define GW_FETCH BIT(1)    /**< instruction fetch */
#define GW_USER BIT(2)     /**< CPL = 3 */
#define GW_IMPLICIT BIT(3) /**< implicit supervisor access (GDT, IDT, TSS...; §5.6), even at CPL 3 */

/* Effective permissions of a translation: the entries' rights combined over the path (§5.6). */
#define GW_PERM_R BIT(0) /**< always set on a translation */
#define GW_PERM_W BIT(1) /**< R/W = 1 in every entry */
#define GW_PERM_U BIT(2) /**< U/S = 1 in every entry: a user-mode address */
#define GW_PERM_X BIT(3) /**< XD = 0 in every entry, or XD not in use (32-bit paging, NXE = 0) */

/** The guest's control-register state that the walk depends on. */
struct guest_walk_cpu {
	enum guest_paging_mode mode;
	u64 cr3;
	bool cr0_wp;       /**< CR0.WP: supervisor writes honour R/W */
	bool cr4_pse;      /**< CR4.PSE: 4 MiB pages in 32-bit paging */
	bool cr4_pge;      /**< CR4.PGE: the G bit makes a translation global */
	bool cr4_smep;     /**< CR4.SMEP: no supervisor fetches from user-mode addresses */
	bool cr4_smap;     /**< CR4.SMAP: no supervisor data accesses to user-mode addresses */
	bool efer_nxe;     /**< EFER.NXE: the XD bit is in use (otherwise reserved) */
	bool eflags_ac;    /**< EFLAGS.AC: lifts SMAP for explicit supervisor accesses */
	bool pdpe1gb;      /**< CPUID.80000001H:EDX.Page1GB[26]: PS in a 4-level PDPTE allowed */
	u8 maxphyaddr;     /**< CPUID.80000008H:EAX[7:0], 32..52 */
	/** PAE only: the four PDPTEs loaded at the last CR3 load (§5.4.1); NULL reads them from memory. */
	const u64 *pdpte;
};

/** How the walk reaches guest-physical memory. */
struct guest_walk_ops {
	/** Read the @p size (4 or 8) byte little-endian value at @p gpa; false when @p gpa is not RAM. */
	bool (*read)(void *ctx, u64 gpa, unsigned size, u64 *val);
	/**
	 * Write @p size bytes at @p gpa (used only to set A and D flags); false when not RAM.
	 * The processor sets these flags with a locked operation; a hypervisor callback
	 * should do the same (lock OR) when other vCPUs may share the tables.
	 */
	bool (*write)(void *ctx, u64 gpa, unsigned size, u64 val);
	void *ctx;
};

/** What a walk concluded. */
enum guest_walk_status {
	GW_OK,      /**< translated: gpa, page_size, perms and global are valid */
	GW_FAULT,   /**< the guest takes #PF with error_code (CR2 = the linear address) */
	GW_NOT_RAM, /**< a paging structure lies outside guest RAM: gpa says where */
};

/** The result of one walk, including the path, so a shadow MMU can track table pages. */
struct guest_walk_result {
	enum guest_walk_status status;
	u64 gpa;         /**< GW_OK: translated address; GW_NOT_RAM: the entry address not in RAM */
	u64 page_size;   /**< 4 KiB, 2 MiB, 4 MiB or 1 GiB (GW_OK) */
	u32 perms;       /**< GW_PERM_* (GW_OK) */
	bool global;     /**< leaf G = 1 and CR4.PGE = 1 (GW_OK) */
	u32 error_code;  /**< PFEC_* (GW_FAULT) */
	int levels;      /**< entries read, top level first */
	u64 entry[4];    /**< the entries read (before any A/D update) */
	u64 entry_gpa[4];/**< where each entry lives in guest-physical memory */
};

/** Set A and D in the guest's entries as the processor would (flag to guest_walk()). */
#define GW_SET_AD BIT(0)

/**
 * Translate linear address @p la for @p access (GW_WRITE/FETCH/USER/IMPLICIT) under the
 * paging state @p cpu, reading entries through @p ops. With GW_SET_AD in @p flags and a
 * successful translation, sets A in every entry used and D in the leaf on a write
 * (§5.8). Returns the status, also stored in @p out.
 */
enum guest_walk_status guest_walk(const struct guest_walk_cpu *cpu, const struct guest_walk_ops *ops,
				  u64 la, u32 access, u32 flags, struct guest_walk_result *out);

/**
 * Load the four PAE PDPTEs addressed by @p cpu->cr3 into @p pdpte, as a MOV to CR3 in
 * PAE mode does (SDM Vol. 3A §5.4.1). Returns 0; -1 if a present PDPTE has a reserved
 * bit set (the MOV raises #GP); -2 if the PDPT is not in RAM.
 */
int guest_walk_load_pdptes(const struct guest_walk_cpu *cpu, const struct guest_walk_ops *ops, u64 pdpte[4]);

/** The paging mode selected by CR0.PG, CR4.PAE and EFER.LMA (SDM Vol. 3A §5.1.1, Table 5-1). */
enum guest_paging_mode guest_paging_mode_of(bool cr0_pg, bool cr4_pae, bool efer_lma);

#endif
