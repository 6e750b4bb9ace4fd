/**
 * @file partition.c
 * @brief Creating partitions from the configuration, their device registries, and how
 * they end.
 *
 * A partition is created whole or not at all: every check against the machine comes
 * before the first allocation, so a bad configuration starts nothing.
 */
#include <hvlab/partition.h>
#include <hvlab/console.h>
#include <arch/loader.h>
#include <hvlab/memory.h>
#include <hvlab/multiboot2.h>
#include <hvlab/lib.h>
#include <hvlab/irq.h>
#include <hvlab/resources.h>
#include <arch/partition_arch.h>
#include <arch/percpu.h>
#include <arch/vmexit.h>

struct partition partitions[MAX_PARTITIONS];
u32 npartitions;

extern const struct device_type __devices_start[], __devices_end[];
extern struct mb2_info boot_info; /* src/core/main.c */

/* Guest RAM is one host block aligned to 2 MiB, so EPT can use large pages. */
#define GUEST_RAM_ALIGN MiB(2)

/* Check one partition against the machine before anything is allocated. */
/* CPUs, memory, devices and identity ranges are the resource database's to check
 * (resources_claim_config); what is left are the boot modules and what is not built yet.
 * Each problem is reported as "FILE:LINE: partition 'NAME': problem". */
static int check_against_machine(const struct hv_config *cfg, const struct partition_config *pc)
{
	const char *problem = NULL, *key = NULL;
	char text[96];

	if (!mb2_find_module(&boot_info, pc->image)) {
		snprintf(text, sizeof(text), "no boot module named '%s'", pc->image);
		problem = text, key = "image";
	} else if (pc->initrd[0] && !mb2_find_module(&boot_info, pc->initrd)) {
		snprintf(text, sizeof(text), "no boot module named '%s' (initrd)", pc->initrd);
		problem = text, key = "initrd";
	} else if (strcmp(pc->format, "auto") != 0 && !find_image_loader(pc->format)) {
		snprintf(text, sizeof(text), "unknown image format '%s'", pc->format);
		problem = text, key = "format";
	} else if ((problem = arch_paging_problem(pc)) != NULL) {
		key = "paging";
	} else if (pc->identity && strcmp(pc->format, "auto") != 0 && strcmp(pc->format, "elf64") != 0) {
		/* format = auto means elf64 for them (partition_load_image()). */
		problem = "identity-mapped partitions boot raw ELF64 images only (format = elf64)";
		key = "format";
	} else if (!pc->interception && !pc->identity) {
		/* Interrupts delivered straight to the guest carry host vectors and, for devices,
		 * DMA addresses: only an identity-mapped partition can take them (MECHANISMS.md §3). */
		problem = "interception = off needs identity = yes", key = "interception";
	}
	if (!problem)
		return 0;
	u32 line = config_key_line(pc, key);
	printk("hvlab: config: %s:%u: partition '%s': %s\n", cfg->filename, line ? line : pc->line,
	       pc->name, problem);
	return -1;
}

int partition_load_image(struct partition *p, char *err, size_t errlen)
{
	const struct partition_config *pc = p->cfg;
	const struct mb2_module *m = mb2_find_module(&boot_info, pc->image);
	const struct mb2_module *initrd = pc->initrd[0] ? mb2_find_module(&boot_info, pc->initrd) : NULL;

	if (!m) {
		snprintf(err, errlen, "no boot module named '%s'", pc->image);
		return -1;
	}
	struct loader_input in = {
		.image = phys_to_virt(m->start), .size = m->end - m->start, .cmdline = pc->cmdline,
		.initrd = initrd ? phys_to_virt(initrd->start) : NULL,
		.initrd_size = initrd ? initrd->end - initrd->start : 0,
	};
	/* Identity-mapped RAM does not start at 0, which only the raw loader allows for. */
	const char *format = p->identity && !strcmp(pc->format, "auto") ? "elf64" : pc->format;
	if (load_guest_image(p, format, &in, &p->vcpu[0].arch.boot, err, errlen) < 0)
		return -1;
	lifecycle_stamp_boot_info(p);
	return 0;
}

int partition_attach_devices(struct partition *p, char *err, size_t errlen)
{
	for (const struct device_type *d = __devices_start; d < __devices_end; d++) {
		if (d->attach(p) < 0) {
			snprintf(err, errlen, "device %s could not be attached", d->name);
			return -1;
		}
	}
	return 0;
}

static int create_one(struct partition *p, const struct partition_config *pc, u16 id)
{
	char err[128];

	memset(p, 0, sizeof(*p));
	p->id = id;
	p->cfg = pc;
	snprintf(p->name, sizeof(p->name), "%s", pc->name);
	p->mem_size = pc->memory;
	p->nvcpus = pc->ncpus;
	p->identity = pc->identity;
	p->direct_irqs = !pc->interception;
	if (p->identity) {
		/* Its RAM was claimed frame by frame in partitions_create(); the BIOS area and boot
		 * data below 1 MiB get private frames. */
		p->ram_base = p->mem_hpa = pc->address;
		p->low_hpa = frames_alloc(IDENTITY_LOW_RAM >> PAGE_SHIFT, PAGE_SIZE, PFN_PARTITION, id);
	} else {
		p->mem_hpa = frames_alloc(ALIGN_UP(pc->memory, PAGE_SIZE) >> PAGE_SHIFT, GUEST_RAM_ALIGN,
					  PFN_PARTITION, id);
	}
	if (!p->mem_hpa || (p->identity && !p->low_hpa)) {
		printk("hvlab: config: partition '%s': cannot allocate %lu MiB of contiguous memory\n",
		       p->name, pc->memory >> 20);
		return -1;
	}
	if (arch_partition_init(p) < 0) {
		printk("hvlab: partition '%s': out of memory for its translation tables\n", p->name);
		return -1;
	}
	/* vCPU 0 starts at the image's entry; the others wait for the guest to start them
	 * with INIT and STARTUP IPIs, as application processors do (SDM Vol. 3A §9.4). */
	for (u32 i = 0; i < p->nvcpus; i++)
		p->vcpu[i] = (struct vcpu){ .part = p, .id = i, .cpu = pc->cpus[i],
					    .state = i == 0 ? VCPU_RUNNABLE : VCPU_WAIT_SIPI };

	if (partition_load_image(p, err, sizeof(err)) < 0) {
		printk("hvlab: config: partition '%s': image '%s': %s\n", p->name, pc->image, err);
		return -1;
	}
	if (partition_attach_devices(p, err, sizeof(err)) < 0) {
		printk("hvlab: partition '%s': %s\n", p->name, err);
		return -1;
	}
	p->state = PART_READY;
	printk("hvlab: partition %s: %lu MiB at host 0x%lx%s, image %s, vCPU 0 on cpu%u, paging %s%s\n",
	       p->name, p->mem_size >> 20, p->mem_hpa, p->identity ? " (identity-mapped)" : "", pc->image,
	       p->vcpu[0].cpu, arch_paging_description(p), p->direct_irqs ? ", interception off" : "");
	return 0;
}

int partitions_create(const struct hv_config *cfg)
{
	if (resources_claim_config(cfg) < 0)
		return -1;
	for (u32 i = 0; i < cfg->nparts; i++)
		if (check_against_machine(cfg, &cfg->part[i]) < 0)
			return -1;
	/* Identity-mapped RAM first, before any allocation can take those frames. */
	for (u32 i = 0; i < cfg->nparts; i++) {
		const struct partition_config *pc = &cfg->part[i];
		if (pc->identity && !pfn_claim_range(&pfn_db, pc->address >> PAGE_SHIFT, pc->memory >> PAGE_SHIFT,
						     PFN_PARTITION, (u16)i)) {
			printk("hvlab: config: %s:%u: partition '%s': host memory 0x%lx-0x%lx is not free\n",
			       cfg->filename, config_key_line(pc, "address"), pc->name, pc->address,
			       pc->address + pc->memory - 1);
			return -1;
		}
	}
	for (u32 i = 0; i < cfg->nparts; i++) {
		if (create_one(&partitions[i], &cfg->part[i], (u16)i) < 0 ||
		    resources_record_memory(&partitions[i]) < 0)
			return -1;
		npartitions = i + 1;
	}
	return resources_publish_views();
}

/* Mark @p ended (the first reason wins) and make each of its vCPUs notice. */
static bool end_partition(struct partition *p, u8 kind)
{
	bool first = false;

	spin_lock(&p->lock);
	if (p->state != PART_ENDED) {
		p->end_kind = kind;
		p->state = PART_ENDED;
		first = true;
	}
	spin_unlock(&p->lock);
	for (u32 i = 0; first && i < p->nvcpus; i++)
		vcpu_kick(&p->vcpu[i]);
	for (const struct device_type *d = __devices_start; first && d < __devices_end; d++)
		if (d->ended)
			d->ended(p);
	return first;
}

void partition_exit(struct partition *p, u32 status)
{
	if (partition_ended(p))
		return;
	p->exit_status = status;
	if (end_partition(p, END_EXIT))
		printk("hvlab: partition %s exited with status %u\n", p->name, status);
}

/* What the guest said last often explains its fault: show its last console line. */
static void print_last_console_line(const struct partition *p)
{
	char text[160];
	size_t n = uart_console_history(p, text, sizeof(text));

	while (n && (text[n - 1] == '\n' || text[n - 1] == '\r'))
		n--;
	size_t start = n;
	while (start && text[start - 1] != '\n')
		start--;
	if (start < n)
		printk("hvlab: partition %s: its last console line was \"%.*s\"\n", p->name,
		       (int)(n - start), text + start);
}

void partition_fault(struct partition *p, const char *fmt, ...)
{
	char reason[sizeof(p->end_reason)];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);
	if (partition_ended(p))
		return; /* the first reason is the one that counts */
	memcpy(p->end_reason, reason, sizeof(reason));
	if (lifecycle_reset_on_fault(p, p->end_reason, sizeof(p->end_reason)))
		return; /* on_fault = reset: it starts again (src/core/lifecycle.c) */
	if (end_partition(p, END_FAULT)) {
		printk("hvlab: partition %s stopped: %s\n", p->name, p->end_reason);
		print_last_console_line(p);
	}
}

u64 partition_ram_hpa(const struct partition *p, u64 gpa, u64 len)
{
	if (gpa >= p->ram_base && gpa - p->ram_base <= p->mem_size && len <= p->mem_size - (gpa - p->ram_base))
		return p->mem_hpa + (gpa - p->ram_base);
	if (p->identity && gpa <= IDENTITY_LOW_RAM && len <= IDENTITY_LOW_RAM - gpa)
		return p->low_hpa + gpa;
	return 0;
}

bool partition_write(struct partition *p, u64 gpa, const void *buf, u64 len)
{
	u64 hpa = partition_ram_hpa(p, gpa, len);

	if (!hpa)
		return false;
	memcpy(phys_to_virt(hpa), buf, len);
	return true;
}

int pio_register(struct partition *p, u16 base, u16 count, const struct pio_ops *ops, void *state,
		 const char *name)
{
	if (p->npio == MAX_PIO_REGIONS)
		return -1;
	for (u32 i = 0; i < p->npio; i++)
		if (base < p->pio[i].base + p->pio[i].count && p->pio[i].base < base + count)
			return -1;
	p->pio[p->npio++] = (struct pio_region){ base, count, ops, state, name };
	return 0;
}

int mmio_register(struct partition *p, u64 base, u64 size, const struct mmio_ops *ops, void *state,
		  const char *name)
{
	if (p->nmmio == MAX_MMIO_REGIONS || !size || base + size < base ||
	    (base < p->ram_base + p->mem_size && p->ram_base < base + size) ||
	    (p->identity && base < IDENTITY_LOW_RAM))
		return -1; /* a device may not shadow guest RAM, nor wrap around */
	for (u32 i = 0; i < p->nmmio; i++)
		if (base < p->mmio[i].base + p->mmio[i].size && p->mmio[i].base < base + size)
			return -1;
	p->mmio[p->nmmio++] = (struct mmio_region){ base, size, ops, state, name };
	return 0;
}

struct pio_region *pio_find(struct partition *p, u16 port)
{
	for (u32 i = 0; i < p->npio; i++)
		if (port >= p->pio[i].base && port - p->pio[i].base < p->pio[i].count)
			return &p->pio[i];
	return NULL;
}

struct mmio_region *mmio_find(struct partition *p, u64 gpa)
{
	for (u32 i = 0; i < p->nmmio; i++)
		if (gpa >= p->mmio[i].base && gpa - p->mmio[i].base < p->mmio[i].size)
			return &p->mmio[i];
	return NULL;
}

/* One line of exit counts by reason, e.g.
 * "hvlab: partition basic: 1234 VM exits: CPUID 12, I/O instruction 1200". */
static void print_exit_counts(const struct partition *p)
{
	char line[400];
	int len = snprintf(line, sizeof(line), "hvlab: partition %s: %lu VM exits", p->name,
			   p->counters.exits_total);
	const char *sep = ": ";

	for (u32 r = 0; r < EXIT_REASON_COUNT && len < (int)sizeof(line); r++) {
		if (!p->counters.exits[r])
			continue;
		len += snprintf(line + len, sizeof(line) - len, "%s%s %lu", sep, exit_reason_name(r),
				p->counters.exits[r]);
		sep = ", ";
	}
	printk("%s\n", line);
}

int partitions_summary(void)
{
	char line[512];
	int len = snprintf(line, sizeof(line), "hvlab: summary:");
	int status = 0;

	for (u32 i = 0; i < npartitions; i++) {
		print_exit_counts(&partitions[i]);
		arch_partition_report(&partitions[i]);
	}
	for (u32 i = 0; i < npartitions; i++) {
		struct partition *p = &partitions[i];
		if (p->end_kind == END_EXIT)
			len += snprintf(line + len, sizeof(line) - len, " %s=%u", p->name, p->exit_status);
		else
			len += snprintf(line + len, sizeof(line) - len, " %s=%s", p->name,
					p->end_kind == END_FAULT ? "fault" :
					p->end_kind == END_DESTROYED ? "destroyed" : "running");
		/* Destroyed while it ran: ended by request, not a failure (lifecycle.h). */
		if ((p->end_kind != END_EXIT && p->end_kind != END_DESTROYED) || p->exit_status != 0)
			status = 1;
		if (len >= (int)sizeof(line))
			break;
	}
	printk("%s\n", line);
	return status;
}
