/**
 * @file shadow_mmu.c
 * @brief The shadow MMU: roots per guest CR3 through the cache, #PF handling, stores.
 *
 * The design is told in arch/shadow_mmu.h and docs/design/shadow-paging.md. This file:
 *   - shadow_mmu_load(): a CR3 load or paging-mode change looks up the root for the new
 *     (guest CR3, mode, role) in the shadow page-table cache (MECHANISMS.md §4, first
 *     item): a hit reuses it as it is, a miss gets an empty root, filled by later faults;
 *   - shadow_mmu_page_fault(): walk the guest's tables as the CPU would (guest_walk(),
 *     setting A/D), then reflect the guest's fault, or fill one 4 KiB leaf;
 *   - shadow_mmu_emulated_store() and shadow_mmu_unprotect(): stores to guest page tables.
 */
#include "shadow_internal.h"
#include <arch/guest_mem.h>
#include <arch/cpu.h>
#include <arch/ept.h>
#include <hvlab/partition.h>
#include <hvlab/memory.h>
#include <hvlab/lib.h>

#define PAGE_MASK_4K (~0xfffULL)
#define NO_PROGRESS_LIMIT 64 /* the same fault this many times in a row is a hypervisor bug */

/* ---- Guest memory for the walk: RAM of the partition only ---------------------------- */

static bool walk_read(void *ctx, u64 gpa, unsigned size, u64 *val)
{
	struct shadow_mmu *m = ctx;
	u64 hpa;

	/* A page table outside RAM (a device page, the read-only resource view) could change
	 * behind the hypervisor's back, untracked: not allowed as a table. */
	if (!shadow_frame_of(m, gpa) || !gpa_to_hpa(m->part, gpa, &hpa))
		return false;
	*val = size == 4 ? *(volatile u32 *)phys_to_virt(hpa) : *(volatile u64 *)phys_to_virt(hpa);
	return true;
}

/* Set A/D flags with a locked OR, as the CPU does (SDM Vol. 3A §5.8). */
static bool walk_write(void *ctx, u64 gpa, unsigned size, u64 val)
{
	struct shadow_mmu *m = ctx;
	u64 hpa;

	if (!shadow_frame_of(m, gpa) || !gpa_to_hpa(m->part, gpa, &hpa))
		return false;
	if (size == 4)
		__atomic_fetch_or((u32 *)phys_to_virt(hpa), (u32)val, __ATOMIC_SEQ_CST);
	else
		__atomic_fetch_or((u64 *)phys_to_virt(hpa), val, __ATOMIC_SEQ_CST);
	return true;
}

static struct guest_walk_ops walk_ops(struct shadow_mmu *m)
{
	return (struct guest_walk_ops){ walk_read, walk_write, m };
}

void shadow_walk_cpu(const struct shadow_guest_state *gs, struct guest_walk_cpu *cpu)
{
	static int pdpe1gb = -1, maxphyaddr;

	if (pdpe1gb < 0) {
		/* 1 GiB pages are offered to every shadow-paged guest: the walk is software and
		 * backs them with 4 KiB leaves, whatever the CPU (exit_cpuid.c says so). */
		pdpe1gb = 1;
		maxphyaddr = cpuid(0x80000000, 0).eax >= 0x80000008 ? cpuid(0x80000008, 0).eax & 0xff : 36;
	}
	memset(cpu, 0, sizeof(*cpu));
	cpu->mode = guest_paging_mode_of(gs->cr0 & CR0_PG, gs->cr4 & CR4_PAE, gs->efer & EFER_LMA);
	cpu->cr3 = gs->cr3;
	cpu->cr0_wp = gs->cr0 & CR0_WP;
	cpu->cr4_pse = gs->cr4 & CR4_PSE;
	cpu->cr4_pge = gs->cr4 & CR4_PGE;
	cpu->cr4_smep = gs->cr4 & CR4_SMEP;
	cpu->cr4_smap = gs->cr4 & CR4_SMAP;
	cpu->efer_nxe = gs->efer & EFER_NXE;
	cpu->eflags_ac = gs->rflags & BIT(18);
	cpu->pdpe1gb = pdpe1gb;
	cpu->maxphyaddr = (u8)maxphyaddr;
}

/* The control bits shadow leaves depend on (shadow_cache_key() role): a change of any
 * of them selects another root rather than invalidating this one. */
static u8 role_of(const struct guest_walk_cpu *cpu)
{
	return (u8)(cpu->cr0_wp | cpu->efer_nxe << 1 | cpu->cr4_pse << 2 | cpu->cr4_smep << 3 |
		    cpu->cr4_smap << 4);
}

/* ---- Roots: the cache's callbacks ------------------------------------------------------ */

static int root_id_of_hpa(struct shadow_mmu *m, u64 hpa)
{
	for (int id = 0; id < SHADOW_ROOTS; id++)
		if (m->root[id].live && m->root[id].hpa == hpa)
			return id;
	return -1;
}

/* The cache missed: take a free root id and an empty top-level table. */
static int alloc_root(void *ctx, u64 key, u64 *shadow_root)
{
	struct shadow_mmu *m = ctx;
	int id;

	for (id = 0; id < SHADOW_ROOTS && m->root[id].live; id++)
		;
	if (id == SHADOW_ROOTS)
		return -1;
	u64 pa = shadow_table_alloc(m);
	if (!pa)
		return -1;
	struct shadow_root *r = &m->root[id];
	r->live = true;
	r->hpa = pa;
	r->key = key;
	r->mode = m->pending_mode;
	r->levels = m->pending_levels;
	memcpy(r->pdpte, m->pdpte, sizeof(r->pdpte));
	r->nframes = 0;
	r->frames_overflow = false;
	*shadow_root = pa;
	return 0;
}

/* The cache dropped a root (eviction, invalidation, or no cache): free its tables. */
static void free_root(void *ctx, u64 key, u64 shadow_root)
{
	struct shadow_mmu *m = ctx;
	int id = root_id_of_hpa(m, shadow_root);

	if (id < 0)
		return;
	shadow_root_untrack(m, id);
	shadow_root_free_tables(m, &m->root[id]);
	m->root[id].live = false;
	if (m->active == id)
		m->active = -1;
}

/* The pool is dry: give back the least recently used root other than the active one;
 * if there is none, empty the active root (it refills on demand). */
static void reclaim(struct shadow_mmu *m)
{
	struct shadow_cache_entry *victim = NULL;
	u64 active_hpa = m->active >= 0 ? m->root[m->active].hpa : 0;

	m->stats.pool_reclaims++;
	for (unsigned i = 0; i < m->cache.capacity; i++) {
		struct shadow_cache_entry *e = &m->cache.entry[i];
		if (e->valid && e->shadow_root != active_hpa && (!victim || e->last_use < victim->last_use))
			victim = e;
	}
	if (victim)
		shadow_cache_invalidate(&m->cache, victim->key);
	else if (m->active >= 0)
		shadow_zap_range(m, &m->root[m->active], 0, LA_END);
}

/* ---- Set-up --------------------------------------------------------------------------- */

static struct shadow_mmu *mmu_of(const struct partition *p)
{
	return p->arch.shadow;
}

int shadow_mmu_init(struct partition *p, bool cache_enabled)
{
	u64 pages = ALIGN_UP(sizeof(struct shadow_mmu), PAGE_SIZE) / PAGE_SIZE;
	u64 pa = frames_alloc(pages, PAGE_SIZE, PFN_HYPERVISOR, 0);
	if (!pa)
		return -1;
	struct shadow_mmu *m = phys_to_virt(pa);
	memset(m, 0, sizeof(*m));
	m->part = p;
	m->active = -1;
	m->pool_limit = SHADOW_POOL_PAGES;
	m->nframes = ALIGN_UP(p->mem_size, PAGE_SIZE) / PAGE_SIZE;
	m->frame_table_pages = ALIGN_UP(m->nframes * sizeof(struct shadow_frame), PAGE_SIZE) / PAGE_SIZE;
	u64 fpa = frames_alloc(m->frame_table_pages, PAGE_SIZE, PFN_HYPERVISOR, 0);
	u64 lists = frames_alloc(SHADOW_ROOTS, PAGE_SIZE, PFN_HYPERVISOR, 0); /* ROOT_FRAMES_MAX u32 each */
	if (!fpa || !lists) {
		if (fpa)
			frames_free(fpa, m->frame_table_pages);
		frames_free(pa, pages);
		return -1;
	}
	m->frame = phys_to_virt(fpa);
	memset(m->frame, 0, m->frame_table_pages * PAGE_SIZE);
	for (int id = 0; id < SHADOW_ROOTS; id++)
		m->root[id].frames = (u32 *)phys_to_virt(lists + id * PAGE_SIZE);

	struct shadow_cache_ops ops = { alloc_root, free_root, m };
	shadow_cache_init(&m->cache, &ops, SHADOW_ROOTS);
	shadow_cache_set_enabled(&m->cache, cache_enabled);
	p->arch.shadow = m;
	return 0;
}

void shadow_mmu_reset(struct partition *p)
{
	struct shadow_mmu *m = mmu_of(p);

	if (!m)
		return;
	shadow_cache_invalidate_all(&m->cache);
	for (int id = 0; id < SHADOW_ROOTS; id++) /* a root the disabled cache no longer lists */
		if (m->root[id].live)
			free_root(m, m->root[id].key, m->root[id].hpa);
	memset(m->frame, 0, m->frame_table_pages * PAGE_SIZE);
	m->active = -1;
	m->fault_repeats = m->unprotect_repeats = 0;
}

void shadow_mmu_destroy(struct partition *p)
{
	struct shadow_mmu *m = mmu_of(p);

	if (!m)
		return;
	shadow_mmu_reset(p);
	frames_free(virt_to_phys(m->frame), m->frame_table_pages);
	frames_free(virt_to_phys(m->root[0].frames), SHADOW_ROOTS);
	frames_free(virt_to_phys(m), ALIGN_UP(sizeof(*m), PAGE_SIZE) / PAGE_SIZE);
	p->arch.shadow = NULL;
}

/* ---- CR3 loads and mode changes -------------------------------------------------------- */

int shadow_mmu_load(struct vcpu *v, const struct shadow_guest_state *gs, u64 *root)
{
	struct shadow_mmu *m = mmu_of(v->part);
	struct guest_walk_cpu cpu;
	struct guest_walk_ops ops = walk_ops(m);

	shadow_walk_cpu(gs, &cpu);
	m->stats.cr3_loads++;
	u64 cr3 = cpu.mode == GUEST_PAGING_NONE ? 0 : cpu.cr3;
	u64 key = shadow_cache_key(cr3, cpu.mode, role_of(&cpu));

	if (cpu.mode == GUEST_PAGING_PAE) {
		/* MOV to CR3 in PAE mode loads the four PDPTEs (SDM Vol. 3A §5.4.1); a load that
		 * faults changes nothing. */
		u64 pdpte[4];
		int err = guest_walk_load_pdptes(&cpu, &ops, pdpte);
		if (err < 0)
			return err;
		memcpy(m->pdpte, pdpte, sizeof(pdpte));
	}
	m->pending_mode = cpu.mode;
	m->pending_levels = cpu.mode == GUEST_PAGING_4LEVEL ? 4 : 3;
	if (shadow_cache_lookup(&m->cache, key, root)) {
		int id = root_id_of_hpa(m, *root);
		/* A PAE root built from other PDPTEs does not fit, even for the same CR3. */
		if (id >= 0 && memcmp(m->root[id].pdpte, m->pdpte, sizeof(m->pdpte)) == 0) {
			m->active = id;
			return 0;
		}
		shadow_cache_invalidate(&m->cache, key);
	}
	while (shadow_cache_insert(&m->cache, key, root) < 0) {
		if (m->pool_used == 0)
			return -3; /* the host itself is out of memory */
		reclaim(m);
	}
	m->active = root_id_of_hpa(m, *root);
	return 0;
}

/* ---- Page faults ---------------------------------------------------------------------- */

static u32 access_of(u32 pfec)
{
	return (pfec & PFEC_W ? GW_WRITE : 0) | (pfec & PFEC_U ? GW_USER : 0) | (pfec & PFEC_I ? GW_FETCH : 0);
}

/* Record every guest table the walk read as a table of the active root (PAE PDPTEs are
 * not: the CPU reads them only at CR3 loads, and so does the shadow). */
static void track_walk(struct shadow_mmu *m, const struct guest_walk_cpu *cpu,
		       const struct guest_walk_result *w, u64 la)
{
	int top = cpu->mode == GUEST_PAGING_4LEVEL ? 4 : cpu->mode == GUEST_PAGING_PAE ? 3 : 2;

	for (int k = cpu->mode == GUEST_PAGING_PAE ? 1 : 0; k < w->levels; k++)
		shadow_track_table(m, m->active, w->entry_gpa[k], top - k, la);
}

/* The 4 KiB shadow leaf for a successful walk @w of @la by @access (SDM Vol. 3A §5.6). */
static u64 make_leaf(struct shadow_mmu *m, const struct guest_walk_cpu *cpu, const struct guest_walk_result *w,
		     u32 access, u64 hpa, bool host_writable)
{
	bool leaf_dirty = cpu->mode == GUEST_PAGING_NONE || (w->entry[w->levels - 1] & GPTE_D) ||
			  (access & GW_WRITE);
	bool user = w->perms & GW_PERM_U;
	bool writable = (w->perms & GW_PERM_W) && leaf_dirty;

	/* CR0.WP = 0 lets supervisor code write read-only pages. The shadow grants that as a
	 * supervisor-only writable leaf; a later user access faults and flips it back. */
	if (!(w->perms & GW_PERM_W) && !cpu->cr0_wp && (access & GW_WRITE) && !(access & GW_USER)) {
		writable = true;
		user = false;
	}
	writable = writable && host_writable;
	return (hpa & PAGE_MASK_4K) | SPTE_P | SPTE_A | (writable ? SPTE_RW | SPTE_D : 0) | (user ? SPTE_US : 0) |
	       (w->perms & GW_PERM_X ? 0 : SPTE_XD);
}

/* CR0.WP = 0 lets supervisor code write a read-only page; make_leaf() grants that with a
 * supervisor-only leaf. For a user page under SMEP or SMAP that leaf would hide the page's
 * user-ness from the CPU, which then checks neither (a later fetch or an access with
 * EFLAGS.AC = 0 would go through; STAC/CLAC do not exit). Such a store is done by the
 * hypervisor instead, and the leaf keeps the guest's rights (SDM Vol. 3A §5.6). */
static bool wp0_store_to_protected_user_page(const struct guest_walk_cpu *cpu, const struct guest_walk_result *w,
					     u32 access)
{
	return (access & GW_WRITE) && !(access & GW_USER) && !cpu->cr0_wp && !(w->perms & GW_PERM_W) &&
	       (w->perms & GW_PERM_U) && (cpu->cr4_smep || cpu->cr4_smap);
}

/* Guard against a fault that comes back unchanged forever. */
static bool no_progress(struct shadow_mmu *m, u64 la)
{
	if (la != m->last_fault_la) {
		m->last_fault_la = la;
		m->fault_repeats = 0;
		return false;
	}
	return ++m->fault_repeats > NO_PROGRESS_LIMIT;
}

enum shadow_pf_result shadow_mmu_page_fault(struct vcpu *v, const struct shadow_guest_state *gs, u64 la,
					    u32 pfec, struct shadow_pf_out *out)
{
	struct shadow_mmu *m = mmu_of(v->part);
	struct guest_walk_cpu cpu;
	struct guest_walk_result w;
	struct guest_walk_ops ops = walk_ops(m);
	u32 access = access_of(pfec);

	m->stats.page_faults++;
	memset(out, 0, sizeof(*out));
	out->write = access & GW_WRITE;
	out->fetch = access & GW_FETCH;
	shadow_walk_cpu(gs, &cpu);
	if (cpu.mode == GUEST_PAGING_PAE)
		cpu.pdpte = m->pdpte;

	switch (guest_walk(&cpu, &ops, la, access, GW_SET_AD, &w)) {
	case GW_FAULT:
		m->stats.guest_faults++;
		out->error_code = w.error_code;
		return SPF_GUEST_FAULT;
	case GW_NOT_RAM:
		partition_fault(v->part, "shadow paging: a page-table entry for linear 0x%lx is at guest-physical "
				"0x%lx: not RAM of this partition", la, w.gpa);
		return SPF_STOP;
	case GW_OK:
		break;
	}
	out->gpa = w.gpa;

	struct ept_walk phys; /* guest-physical → host-physical: the partition's map */
	if (!ept_translate(&v->part->arch.ept, w.gpa, &phys) || !(phys.perms & EPT_R) ||
	    ((access & GW_WRITE) && !(phys.perms & EPT_W)))
		return SPF_NOT_MEMORY;
	if (m->active < 0 || no_progress(m, la)) {
		partition_fault(v->part, "shadow paging: no progress on the fault at linear 0x%lx (RIP-side bug "
				"in the hypervisor)", la);
		return SPF_STOP;
	}

	track_walk(m, &cpu, &w, la);
	struct shadow_frame *fr = shadow_frame_of(m, w.gpa);
	bool is_table = fr && fr->roots;
	if (is_table && (access & GW_WRITE))
		return SPF_PT_WRITE;
	if (wp0_store_to_protected_user_page(&cpu, &w, access))
		return SPF_PT_WRITE; /* performed by the hypervisor, the leaf stays as it is */

	u64 leaf = make_leaf(m, &cpu, &w, access, phys.hpa, (phys.perms & EPT_W) && !is_table);
	while (shadow_map_leaf(m, &m->root[m->active], la & LA_MASK, leaf) < 0) {
		u64 before = m->pool_used;
		reclaim(m);
		if (m->pool_used >= before) { /* nothing to give back: the host is out of frames */
			partition_fault(v->part, "shadow paging: the host is out of memory for shadow tables");
			return SPF_STOP;
		}
	}
	if (leaf & SPTE_RW)
		shadow_track_writable(m, m->active, w.gpa, la);
	return SPF_RETRY;
}

/* ---- Stores to guest page tables -------------------------------------------------------- */

int shadow_mmu_emulated_store(struct vcpu *v, u64 gpa, unsigned size, u64 value)
{
	struct shadow_mmu *m = mmu_of(v->part);
	u64 hpa;

	if (!gpa_to_hpa(v->part, gpa, &hpa) || ((gpa & 0xfff) + size) > PAGE_SIZE)
		return -1;
	void *dst = phys_to_virt(hpa);
	switch (size) { /* one store of that width, as the guest's instruction would do */
	case 1: *(volatile u8 *)dst = (u8)value; break;
	case 2: *(volatile u16 *)dst = (u16)value; break;
	case 4: *(volatile u32 *)dst = (u32)value; break;
	default: *(volatile u64 *)dst = value; break;
	}
	m->stats.write_emulations++;
	m->fault_repeats = 0;
	shadow_frame_written(m, gpa, size);
	if (shadow_frame_flooded(m, gpa))
		m->stats.flood_unprotects++;
	return 0;
}

enum shadow_pf_result shadow_mmu_unprotect(struct vcpu *v, const struct shadow_guest_state *gs, u64 la,
					   u32 pfec, u64 gpa, u64 rip)
{
	struct shadow_mmu *m = mmu_of(v->part);
	struct shadow_pf_out out;

	/* The instruction runs natively once the frame is no table any more; if it needs the
	 * frame as a table itself (its code or stack is mapped through it), it never gets
	 * there: after a few rounds, say so instead of looping. */
	u64 frame = gpa & ~0xfffULL;
	if (rip == m->unprotect_rip && frame == m->unprotect_frame && ++m->unprotect_repeats > 4) {
		partition_fault(v->part, "shadow paging: the instruction at RIP 0x%lx writes page table "
				"0x%lx, which it also runs through, and it cannot be emulated", rip, gpa);
		return SPF_STOP;
	}
	if (rip != m->unprotect_rip || frame != m->unprotect_frame)
		m->unprotect_rip = rip, m->unprotect_frame = frame, m->unprotect_repeats = 0;
	m->stats.unprotects++;
	shadow_frame_untrack(m, gpa);
	/* The write faults once more and now fills a writable leaf (or finds the frame is a
	 * table again, for the walk of this very address: then this repeats). */
	return shadow_mmu_page_fault(v, gs, la, pfec, &out) == SPF_STOP ? SPF_STOP : SPF_RETRY;
}

void shadow_mmu_host_wrote(const struct partition *p, u64 gpa, size_t len)
{
	struct shadow_mmu *m = mmu_of(p);

	while (m && len) { /* page by page: shadow_frame_written() takes one frame */
		size_t chunk = PAGE_SIZE - (gpa & 0xfff);
		if (chunk > len)
			chunk = len;
		shadow_frame_written(m, gpa, (unsigned)chunk);
		gpa += chunk;
		len -= chunk;
	}
}

/* ---- Looking at it ---------------------------------------------------------------------- */

const struct shadow_stats *shadow_mmu_stats(const struct partition *p, const struct shadow_cache_stats **cache)
{
	struct shadow_mmu *m = mmu_of(p);

	if (!m)
		return NULL;
	if (cache)
		*cache = &m->cache.stats;
	return &m->stats;
}

void shadow_mmu_pool_usage(const struct partition *p, u64 *used, u64 *limit)
{
	struct shadow_mmu *m = mmu_of(p);

	*used = m ? m->pool_used : 0;
	*limit = m ? m->pool_limit : 0;
}
