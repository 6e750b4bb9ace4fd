/**
 * @file walk_describe.c
 * @brief Monitor command `info ept P ADDR`: one guest-virtual address followed through
 * both translations, level by level, as the CPU follows it.
 *
 *   1. The guest's own page tables (SDM Vol. 3A Chapter 5), in whatever mode its vCPU 0
 *      is in: guest-virtual → guest-physical. The same architectural walk the shadow MMU
 *      and the debugger use (guest_walk()), as a supervisor read that sets no A/D flag.
 *   2. Under EPT, the partition's EPT tables (SDM Vol. 3C §29.3.2): guest-physical →
 *      host-physical (ept_translate()).
 *      Under shadow paging, the CPU walks neither of those: its CR3 holds a shadow root,
 *      tables the hypervisor built from the guest's, mapping guest-virtual straight to
 *      host-physical (shadow_mmu.h). They have the CPU's own format, so the same
 *      guest_walk() reads them, over host memory. A leaf that is not there yet is normal:
 *      the guest's next access faults and the shadow MMU fills it.
 *
 * Needs vCPU 0's paging state (CR0, CR3, CR4, EFER), so its partition must be paused
 * (monitor_with_vmcs()).
 */
#include <hvlab/monitor.h>
#include <hvlab/partition.h>
#include <hvlab/memory.h>
#include <hvlab/lib.h>
#include <arch/vmcs.h>
#include <arch/vmx.h>
#include <arch/vmexit.h>
#include <arch/guest_mem.h>
#include <arch/guest_walk.h>
#include <arch/shadow_mmu.h>
#include <arch/cpu.h>

/* A level of a paging mode: its table's name and which address bits index it. */
struct level {
	const char *table;
	unsigned shift, bits;
};

/* The levels of each mode, top first (SDM Vol. 3A §5.3 32-bit, §5.4 PAE, §5.5 4-level). */
static const struct level levels_32bit[] = { { "PD", 22, 10 }, { "PT", 12, 10 } };
static const struct level levels_pae[] = { { "PDPT", 30, 2 }, { "PD", 21, 9 }, { "PT", 12, 9 } };
static const struct level levels_4level[] = {
	{ "PML4", 39, 9 }, { "PDPT", 30, 9 }, { "PD", 21, 9 }, { "PT", 12, 9 }
};

static const struct {
	const char *name;
	const struct level *levels;
} modes[] = {
	[GUEST_PAGING_NONE] = { "paging off", NULL },
	[GUEST_PAGING_32BIT] = { "32-bit paging (SDM Vol. 3A §5.3)", levels_32bit },
	[GUEST_PAGING_PAE] = { "PAE paging (SDM Vol. 3A §5.4)", levels_pae },
	[GUEST_PAGING_4LEVEL] = { "4-level paging (SDM Vol. 3A §5.5)", levels_4level },
};

/* Paging-structure entry flags (SDM Vol. 3A Tables 5-4..5-20): bit, word. */
static const struct {
	u64 bit;
	const char *word;
} pte_flags[] = {
	{ GPTE_P, "P" }, { GPTE_RW, "RW" }, { GPTE_US, "US" }, { BIT(3), "PWT" }, { BIT(4), "PCD" },
	{ GPTE_A, "A" }, { GPTE_D, "D" },   { GPTE_PS, "PS" }, { GPTE_G, "G" },   { GPTE_XD, "XD" },
};

/* EPT entry flags (SDM Vol. 3C §29.3.2, Tables 29-1..29-6). */
static const struct {
	u64 bit;
	const char *word;
} ept_flags[] = {
	{ EPT_R, "R" }, { EPT_W, "W" }, { EPT_X, "X" }, { EPT_IGNORE_PAT, "IPAT" },
	{ EPT_LARGE, "large" }, { EPT_ACCESSED, "A" }, { EPT_DIRTY, "D" },
};

/* " P RW A" for the bits of @p e named in a flag table. */
#define FLAG_WORDS(table, e, buf, len)                                                     \
	do {                                                                               \
		size_t used_ = 0;                                                          \
		(buf)[0] = '\0';                                                           \
		for (size_t i_ = 0; i_ < ARRAY_SIZE(table); i_++)                           \
			if (((e) & (table)[i_].bit) && used_ < (len))                       \
				used_ += (size_t)snprintf((buf) + used_, (len) - used_, " %s", \
							  (table)[i_].word);               \
	} while (0)

static const char *size_words(u64 size)
{
	return size >= GiB(1) ? "1 GiB" : size >= MiB(4) ? "4 MiB" : size >= MiB(2) ? "2 MiB" : "4 KiB";
}

/* ---- Reading the tables ---- */

/* Guest page tables live in guest-physical memory (through the partition's physical map). */
static bool read_guest(void *ctx, u64 gpa, unsigned size, u64 *val)
{
	*val = 0;
	return guest_read_phys(ctx, gpa, val, size) == size;
}

/* Shadow tables live in host memory the hypervisor allocated (identity-mapped). */
static bool read_host(void *ctx, u64 hpa, unsigned size, u64 *val)
{
	if ((hpa & (PAGE_SIZE - 1)) + size > PAGE_SIZE)
		return false;
	*val = size == 4 ? *(const u32 *)phys_to_virt(hpa) : *(const u64 *)phys_to_virt(hpa);
	return true;
}

static bool no_write(void *ctx, u64 addr, unsigned size, u64 val)
{
	return false; /* looking changes nothing: no A/D flags are set */
}

/* One walk's levels, then its outcome. @p space names where entries live ("gpa", "hpa"). */
static void show_walk(struct monitor_call *call, const struct guest_walk_cpu *cpu,
		      const struct guest_walk_result *w, u64 la, const char *space, const char *result)
{
	const struct level *lv = modes[cpu->mode].levels;
	char flags[64];

	for (int i = 0; i < w->levels && lv; i++) {
		FLAG_WORDS(pte_flags, w->entry[i], flags, sizeof(flags));
		u64 index = (la >> lv[i].shift) & (BIT(lv[i].bits) - 1);
		monitor_printf(call, "  %-4s[%3lu] at %s 0x%lx: %016lx%s\n", lv[i].table, index, space,
			       w->entry_gpa[i], w->entry[i], flags);
	}
	if (w->status == GW_OK)
		monitor_printf(call, "  -> %s 0x%lx (%s page, %s%s%s)\n", result, w->gpa, size_words(w->page_size),
			       (w->perms & GW_PERM_W) ? "writable" : "read-only",
			       (w->perms & GW_PERM_U) ? ", user" : ", supervisor only",
			       (w->perms & GW_PERM_X) ? ", executable" : ", no execute");
	else if (w->status == GW_FAULT)
		monitor_printf(call, "  -> not mapped: an access would fault (#PF error code 0x%x)\n", w->error_code);
	else
		monitor_printf(call, "  -> a table at 0x%lx is outside memory\n", w->gpa);
}

/* Step 2 under EPT: guest-physical @p gpa through the EPT tables, level by level. */
static void show_ept(struct monitor_call *call, const struct partition *p, u64 gpa, bool cpu_walks_it)
{
	static const char *const tables[4] = { "PML4", "PDPT", "PD", "PT" };
	struct ept_walk w;
	char flags[64];

	ept_translate(&p->arch.ept, gpa, &w);
	monitor_printf(call, "%s, root 0x%lx:\n",
		       cpu_walks_it ? "EPT (SDM Vol. 3C §29.3.2)" : "physical map (EPT tables the CPU does not use here)",
		       p->arch.ept.root_pa);
	for (int i = 0; i < w.levels && i < 4; i++) {
		FLAG_WORDS(ept_flags, w.entry[i], flags, sizeof(flags));
		u64 index = (gpa >> (39 - 9 * i)) & 511;
		bool leaf = w.mapped && i == w.levels - 1;
		monitor_printf(call, "  %-4s[%3lu]: %016lx%s%s\n", tables[i], index, w.entry[i], flags,
			       leaf ? (((w.entry[i] >> EPT_MEMTYPE_SHIFT) & 7) == EPT_MT_WB ? " WB" : " UC") : "");
	}
	if (w.mapped)
		monitor_printf(call, "  -> host-physical 0x%lx (%s page,%s%s%s)\n", w.hpa, size_words(w.page_size),
			       (w.perms & EPT_R) ? " R" : "", (w.perms & EPT_W) ? " W" : "", (w.perms & EPT_X) ? " X" : "");
	else
		monitor_printf(call, "  -> not mapped: an access exits with an EPT violation\n");
}

/* Step 2 under shadow paging: the tables the CPU really walks, from its real CR3. */
static void show_shadow(struct monitor_call *call, struct vcpu *v, const struct guest_walk_cpu *guest,
			u64 la)
{
	struct guest_walk_cpu cpu = *guest;
	struct guest_walk_ops ops = { read_host, no_write, NULL };
	struct guest_walk_result w;
	u64 cr0 = vmread(GUEST_CR0), cr4 = vmread(GUEST_CR4);
	bool ia32e = vmread(VM_ENTRY_CONTROLS) & ENTRY_IA32E_MODE_GUEST;

	/* The CPU runs the shadow in 4-level paging in IA-32e mode, else in PAE paging. */
	cpu.mode = guest_paging_mode_of(cr0 & CR0_PG, cr4 & CR4_PAE, ia32e);
	cpu.cr3 = vmread(GUEST_CR3);
	cpu.pdpte = NULL;
	guest_walk(&cpu, &ops, la, 0, 0, &w);
	monitor_printf(call, "shadow tables (the CPU walks these), %s, CR3 0x%lx:\n", modes[cpu.mode].name, cpu.cr3);
	show_walk(call, &cpu, &w, la, "hpa", "host-physical");
	if (w.status == GW_FAULT)
		monitor_printf(call, "  (not filled yet: the guest's next access faults and fills it)\n");
}

/* info ept P ADDR, with vCPU 0's VMCS current. */
static int walk_dump(struct vcpu *v, void *ctx)
{
	struct monitor_call *call = ctx;
	struct partition *p = v->part;
	struct shadow_guest_state gs;
	struct guest_walk_cpu cpu;
	struct guest_walk_ops ops = { read_guest, no_write, p };
	struct guest_walk_result w;
	u64 la = call->arg[1].num;

	vcpu_paging_state(v, &gs);
	shadow_walk_cpu(&gs, &cpu);
	monitor_printf(call, "walk of 0x%lx in partition %u (%s), vCPU %u\n", la, p->id, p->name, v->id);
	guest_walk(&cpu, &ops, la, 0, 0, &w);
	monitor_printf(call, "guest page tables, %s, CR3 0x%lx:\n", modes[cpu.mode].name, cpu.cr3);
	show_walk(call, &cpu, &w, la, "gpa", "guest-physical");
	if (w.status != GW_OK)
		return 0;
	if (vcpu_shadow_paging(v))
		show_shadow(call, v, &cpu, la);
	show_ept(call, p, w.gpa, !vcpu_shadow_paging(v));
	return 0;
}

static int info_ept(struct monitor_call *call)
{
	struct partition *p = monitor_partition(call, 0);

	if (!p)
		return MON_ERR_NOENT;
	return monitor_with_vmcs(call, &p->vcpu[0], walk_dump, call);
}

MONITOR_COMMAND(cmd_info_ept) = {
	"info ept", "P ADDR", "walk guest address ADDR through guest paging, then EPT or shadow tables", info_ept
};
