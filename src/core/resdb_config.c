/**
 * @file resdb_config.c
 * @brief From a parsed configuration to one transaction over the resource database.
 *
 * MECHANISMS.md §2: resources change hands only through transactions on the resource
 * database. A scenario file (config.h) asks for CPUs, identity-mapped memory and devices
 * for every partition; resdb_claim_config() checks what only the machine can answer
 * (CPUs online, devices known, memory available, the hypervisor's own ranges) and then
 * asks for everything at once. So a configuration that gives a CPU twice, overlaps two
 * identity-mapped partitions, or dedicates a device someone else holds is refused as a
 * whole, with one message, before any partition exists (issue 3, "Done when").
 *
 * What is claimed, for partition id i (its index in the file):
 *   cpus, cpu_mode = dedicated     each CPU exclusive      "dedicated to partition 'a'"
 *   cpus, cpu_mode = shared        each CPU shared
 *   identity = yes                 memory [address, address + memory) exclusive
 *   devices NAME:dedicated         the device exclusive, and its I/O ports exclusive
 *   devices NAME:shared            the device shared (the hypervisor emulates it; no ports)
 */
#include <hvlab/resdb.h>
#include <hvlab/config.h>
#include <hvlab/lib.h>

/* Partition memory is placed in 2 MiB blocks (as src/core/partition.c allocates it). */
#define PART_MEM_ALIGN MiB(2)

/* The devices hvlab knows by name: the PC's legacy I/O ports and ISA interrupt lines. */
static const struct resdb_known_device known_devices[] = {
	{ "uart0", 0x3f8, 8, 4 }, /* COM1 */
	{ "uart1", 0x2f8, 8, 3 }, /* COM2 */
	{ "rtc", 0x70, 2, 8 },    /* CMOS RTC: index and data ports */
	{ "pit", 0x40, 4, 0 },    /* 8254: three counters and the mode register */
};

const struct resdb_known_device *resdb_known_device(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(known_devices); i++)
		if (strcmp(known_devices[i].name, name) == 0)
			return &known_devices[i];
	return NULL;
}

/* Which key of which partition queued each operation, to name its line on a conflict. */
static const char *const claim_keys[] = { "cpus", "address", "devices" };
enum { CLAIM_CPUS, CLAIM_ADDRESS, CLAIM_DEVICES };

struct claim {
	struct resdb *db;
	const struct hv_config *cfg;
	char *err;
	size_t errlen;
	u8 op_part[RESDB_TX_MAX_OPS]; /**< partition index of each queued operation */
	u8 op_key[RESDB_TX_MAX_OPS];  /**< CLAIM_* of each queued operation */
};

/*
 * Report "FILE:LINE: partition 'NAME': problem", the line being that of @p key in
 * partition @p p; or "FILE: problem" when @p p is NULL. Always returns -1.
 */
static int __attribute__((format(printf, 4, 5)))
refuse(struct claim *cl, const struct partition_config *p, const char *key, const char *fmt, ...)
{
	if (!cl->err || cl->errlen == 0)
		return -1;
	int n = p ? snprintf(cl->err, cl->errlen, "%s:%u: partition '%s': ", cl->cfg->filename,
			     config_key_line(p, key), p->name)
		  : snprintf(cl->err, cl->errlen, "%s: ", cl->cfg->filename);
	if (n >= 0 && (size_t)n < cl->errlen) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(cl->err + n, cl->errlen - n, fmt, ap);
		va_end(ap);
	}
	return -1;
}

/* Host-physical range of an identity-mapped partition. */
static struct resdb_res identity_range(const struct partition_config *p)
{
	return resdb_mem(p->address, ALIGN_UP(p->memory, PAGE_SIZE));
}

/* The checks against the machine that need no database: CPUs, devices, reserved memory. */
static int check_partition(struct claim *cl, const struct partition_config *p, u32 online_cpus,
			   const struct resdb_range *reserved, u32 nreserved)
{
	for (u32 i = 0; i < p->ncpus; i++)
		if (p->cpus[i] >= online_cpus)
			return refuse(cl, p, "cpus", "CPU %u is not online (the machine has %u CPU%s)",
				      p->cpus[i], online_cpus, online_cpus == 1 ? "" : "s");
	for (u32 i = 0; i < p->ndevices; i++)
		if (!resdb_known_device(p->devices[i]))
			return refuse(cl, p, "devices", "unknown device '%s' (known: uart0, uart1, rtc, pit)",
				      p->devices[i]);
	if (!p->identity)
		return 0;

	struct resdb_res mine = identity_range(p);
	for (u32 i = 0; i < nreserved; i++) {
		const struct resdb_range *r = &reserved[i];
		if (r->size && mine.base < r->base + r->size && r->base < mine.base + mine.size) {
			char want[64], have[64];
			resdb_res_text(&mine, false, want, sizeof(want));
			resdb_res_text(&(struct resdb_res){ .kind = RESDB_MEMORY, .base = r->base, .size = r->size },
				       false, have, sizeof(have));
			return refuse(cl, p, "address", "%s overlaps %s of the hypervisor", want, have);
		}
	}
	return 0;
}

/* Queue one operation of partition @p part, remembering which key asked for it. */
static void queue(struct claim *cl, int op, u32 part, u8 key)
{
	if (op < 0)
		return; /* the transaction is full: the commit refuses it */
	cl->op_part[op] = (u8)part;
	cl->op_key[op] = key;
}

/* Queue everything partition @p i asks for. */
static void queue_partition(struct claim *cl, u32 i)
{
	const struct partition_config *p = &cl->cfg->part[i];
	struct resdb *db = cl->db;
	u16 id = (u16)i;

	u8 cpu_mode = p->cpu_mode == CPU_DEDICATED ? RESDB_EXCLUSIVE : RESDB_SHARED;
	for (u32 c = 0; c < p->ncpus; c++)
		queue(cl, resdb_tx_alloc(db, resdb_cpu(p->cpus[c]), id, cpu_mode), i, CLAIM_CPUS);

	if (p->identity)
		queue(cl, resdb_tx_alloc(db, identity_range(p), id, RESDB_EXCLUSIVE), i, CLAIM_ADDRESS);

	for (u32 d = 0; d < p->ndevices; d++) {
		bool dedicated = p->device_mode[d] == DEVICE_DEDICATED;
		queue(cl, resdb_tx_alloc(db, resdb_device(p->devices[d]), id,
					 dedicated ? RESDB_EXCLUSIVE : RESDB_SHARED), i, CLAIM_DEVICES);
		const struct resdb_known_device *k = resdb_known_device(p->devices[d]);
		if (dedicated && k)
			queue(cl, resdb_tx_alloc(db, resdb_ports(k->port_base, k->port_count), id,
						 RESDB_EXCLUSIVE), i, CLAIM_DEVICES);
	}
}

int resdb_claim_config(struct resdb *db, const struct hv_config *cfg, u32 online_cpus, u64 free_bytes,
		       const struct resdb_range *reserved, u32 nreserved, char *err, size_t errlen)
{
	struct claim cl = { .db = db, .cfg = cfg, .err = err, .errlen = errlen };
	char old_names[CONFIG_MAX_PARTITIONS][RESDB_PART_NAME_LEN];
	char reason[200];
	u64 need = 0;

	if (err && errlen)
		err[0] = '\0';
	_Static_assert(CONFIG_MAX_PARTITIONS <= RESDB_MAX_PARTITIONS, "every partition needs an owner id");
	if (cfg->nparts > CONFIG_MAX_PARTITIONS)
		return refuse(&cl, NULL, NULL, "too many partitions (at most %d)", CONFIG_MAX_PARTITIONS);

	/* 1. What the machine alone decides. */
	for (u32 i = 0; i < cfg->nparts; i++) {
		if (check_partition(&cl, &cfg->part[i], online_cpus, reserved, nreserved) < 0)
			return -1;
		u64 rounded = ALIGN_UP(cfg->part[i].memory, PART_MEM_ALIGN);
		bool overflow = rounded < cfg->part[i].memory || need + rounded < need;
		need = overflow ? UINT64_MAX : need + rounded;
	}
	if (need > free_bytes)
		return refuse(&cl, NULL, NULL, "the partitions need %lu MiB of memory, but only %lu MiB is free",
			      need >> 20, free_bytes >> 20);

	/* 2. One transaction for all partitions. Names first, so conflicts can say whose. */
	if (resdb_tx_begin(db) < 0)
		return refuse(&cl, NULL, NULL, "another resource transaction is open");
	for (u32 i = 0; i < cfg->nparts; i++) {
		memcpy(old_names[i], db->part_name[i], RESDB_PART_NAME_LEN);
		resdb_set_partition_name(db, (u16)i, cfg->part[i].name);
		queue_partition(&cl, i);
	}
	if (resdb_tx_commit(db, reason, sizeof(reason)) == 0)
		return 0;

	/* 3. Refused: put the names back and say which partition's line asked for what. */
	for (u32 i = 0; i < cfg->nparts; i++)
		memcpy(db->part_name[i], old_names[i], RESDB_PART_NAME_LEN);
	int op = resdb_tx_failed_op(db);
	if (op < 0)
		return refuse(&cl, NULL, NULL, "%s", reason);
	return refuse(&cl, &cfg->part[cl.op_part[op]], claim_keys[cl.op_key[op]], "%s", reason);
}
