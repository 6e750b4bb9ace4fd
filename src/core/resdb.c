/**
 * @file resdb.c
 * @brief The resource database: who owns each CPU, memory range, device, vector and port.
 *
 * Implements the ultravisor's "master in-memory database of hardware-resource allocation"
 * of MECHANISMS.md §2: changes arrive as transactions that apply all or nothing, and each
 * partition gets a read-only view of its own allocation. The model (resources, owners,
 * exclusive and shared entries, limits) is described in resdb.h.
 *
 * How a commit stays all-or-nothing: the operations are applied to the table one after
 * the other, and every change first saves the slot's old contents in an undo log. The
 * first failure replays the log backwards, which puts back every slot as it was. Later
 * operations therefore see the effect of earlier ones ("any free vector" after "vector
 * 0x30" picks 0x31), exactly as if they had been committed one by one.
 *
 * Invariants: no two used entries overlap (resources_overlap() below); an EXCLUSIVE entry
 * has exactly one owner bit; a SHARED entry has at least one.
 *
 * Reading the table (messages' words, the partition view) is src/core/resdb_view.c.
 * Pure logic (the table only), built unchanged for the host unit tests.
 */
#include <hvlab/resdb.h>
#include <hvlab/lib.h>

_Static_assert(RESDB_VIEW_NAME_LEN == RESDB_PART_NAME_LEN, "view and table name lengths");
_Static_assert(RESDB_VIEW_DEVICE_LEN == RESDB_NAME_LEN, "view and table device name lengths");
_Static_assert(RESDB_HV < 64 && RESDB_MAX_CPUS <= 64, "owners and CPU masks are u64 bit sets");

/* The operations a transaction can queue (struct resdb_op.type). */
enum { OP_ALLOC = 1, OP_ANY_CPU, OP_ANY_VECTOR, OP_ANY_MEM, OP_FREE, OP_RELEASE_ALL };

/* Where a commit reports its reason. */
struct commit {
	struct resdb *db;
	char *err;
	size_t errlen;
};

/* Write the reason for a failed commit. Always returns -1. */
static int __attribute__((format(printf, 2, 3))) fail(struct commit *c, const char *fmt, ...)
{
	if (c->err && c->errlen) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(c->err, c->errlen, fmt, ap);
		va_end(ap);
	}
	return -1;
}

/* ---- Comparing resources ---- */

static bool same_name(const struct resdb_res *a, const struct resdb_res *b)
{
	return strncmp(a->name, b->name, RESDB_NAME_LEN) == 0;
}

static bool same_resource(const struct resdb_res *a, const struct resdb_res *b)
{
	return a->kind == b->kind && a->cpu == b->cpu && a->base == b->base && a->size == b->size &&
	       same_name(a, b);
}

/* Can @p a and @p b not both be held by different owners? (Ranges: any common part.) */
static bool resources_overlap(const struct resdb_res *a, const struct resdb_res *b)
{
	if (a->kind != b->kind)
		return false;
	switch (a->kind) {
	case RESDB_DEVICE:
		return same_name(a, b);
	case RESDB_VECTOR:
		return a->base == b->base &&
		       (a->cpu == b->cpu || a->cpu == RESDB_EVERY_CPU || b->cpu == RESDB_EVERY_CPU);
	case RESDB_MEMORY:
	case RESDB_PORTS:
		return a->base < b->base + b->size && b->base < a->base + a->size;
	default:
		return a->base == b->base;
	}
}

/* The used entry overlapping @p r, or -1 (the invariant makes it unique). */
static int find_overlap(const struct resdb *db, const struct resdb_res *r)
{
	for (int i = 0; i < RESDB_MAX_ENTRIES; i++)
		if (db->entries[i].mode != RESDB_FREE && resources_overlap(&db->entries[i].res, r))
			return i;
	return -1;
}

/*
 * The reason @p r cannot be had: ranges (and a vector against a vector of another CPU)
 * "overlap" what is there; single things "are already" held.
 */
static int conflict(struct commit *c, const struct resdb_res *r, const struct resdb_entry *e)
{
	char want[64], have[64], held[200], who[160];

	resdb_res_text(r, false, want, sizeof(want));
	if (r->kind == RESDB_MEMORY || r->kind == RESDB_PORTS ||
	    (r->kind == RESDB_VECTOR && r->cpu != e->res.cpu)) {
		bool plural = r->kind == RESDB_PORTS && r->size > 1;
		resdb_res_text(&e->res, true, have, sizeof(have));
		resdb_owners_text(c->db, e->owners, who, sizeof(who));
		return fail(c, "%s %s %s %s %s", want, plural ? "overlap" : "overlaps", have,
			    e->mode == RESDB_SHARED ? "shared by" : "of", who);
	}
	resdb_held_text(c->db, e, held, sizeof(held));
	return fail(c, "%s is already %s", want, held);
}

/* ---- Changing the table (every change goes through the undo log) ---- */

static int set_slot(struct commit *c, int slot, const struct resdb_entry *e)
{
	struct resdb_tx *tx = &c->db->tx;

	if (tx->nundo == RESDB_TX_MAX_UNDO)
		return fail(c, "transaction too large (more than %d table changes)", RESDB_TX_MAX_UNDO);
	tx->undo[tx->nundo++] = (struct resdb_undo){ .slot = (u32)slot, .old = c->db->entries[slot] };
	c->db->entries[slot] = *e;
	return 0;
}

static void rollback(struct resdb *db)
{
	while (db->tx.nundo > 0) {
		struct resdb_undo *u = &db->tx.undo[--db->tx.nundo];
		db->entries[u->slot] = u->old;
	}
}

/* Is @p r well-formed for this database? */
static int check_resource(struct commit *c, const struct resdb_res *r)
{
	char what[64];
	u32 ncpus = c->db->ncpus;

	resdb_res_text(r, false, what, sizeof(what));
	switch (r->kind) {
	case RESDB_CPU:
		if (r->base >= ncpus)
			return fail(c, "CPU %lu is not online (the machine has %u CPUs)", r->base, ncpus);
		return 0;
	case RESDB_MEMORY:
		if (r->size == 0 || r->base % PAGE_SIZE || r->size % PAGE_SIZE || r->base + r->size < r->base)
			return fail(c, "bad memory range base 0x%lx size 0x%lx (4 KiB multiples, not empty)",
				    r->base, r->size);
		return 0;
	case RESDB_DEVICE:
		if (r->name[0] == '\0' || strnlen(r->name, RESDB_NAME_LEN) == RESDB_NAME_LEN)
			return fail(c, "bad device name (1 to %d characters)", RESDB_NAME_LEN - 1);
		return 0;
	case RESDB_VECTOR:
		if (r->base < RESDB_VECTOR_FIRST || r->base > RESDB_VECTOR_LAST)
			return fail(c, "%s: only vectors 0x20-0xff can be allocated", what);
		if (r->cpu != RESDB_EVERY_CPU && r->cpu >= ncpus)
			return fail(c, "%s: CPU %u is not online (the machine has %u CPUs)", what, r->cpu, ncpus);
		return 0;
	case RESDB_PORTS:
		if (r->size == 0 || r->base + r->size > 0x10000)
			return fail(c, "bad I/O port range base 0x%lx count %lu", r->base, r->size);
		return 0;
	default:
		return fail(c, "unknown resource kind %u", r->kind);
	}
}

/* Give @p r to @p owner: a new entry, or one more sharer of an identical shared one. */
static int claim(struct commit *c, const struct resdb_res *r, u16 owner, u8 mode)
{
	struct resdb *db = c->db;

	if (check_resource(c, r) < 0)
		return -1;
	if (owner > RESDB_HV)
		return fail(c, "bad owner id %u", owner);
	if (mode != RESDB_EXCLUSIVE && mode != RESDB_SHARED)
		return fail(c, "bad mode %u", mode);

	int slot = find_overlap(db, r);
	if (slot >= 0) {
		struct resdb_entry e = db->entries[slot];
		bool join = mode == RESDB_SHARED && e.mode == RESDB_SHARED &&
			    same_resource(&e.res, r) && !(e.owners & BIT(owner));
		if (!join)
			return conflict(c, r, &e);
		e.owners |= BIT(owner);
		return set_slot(c, slot, &e);
	}
	for (slot = 0; slot < RESDB_MAX_ENTRIES; slot++) {
		if (db->entries[slot].mode == RESDB_FREE) {
			struct resdb_entry e = { .res = *r, .mode = mode, .owners = BIT(owner) };
			return set_slot(c, slot, &e);
		}
	}
	char what[64];
	resdb_res_text(r, false, what, sizeof(what));
	return fail(c, "no room for %s: the resource table is full (%d entries)", what, RESDB_MAX_ENTRIES);
}

/* Take @p owner off entry @p slot; the entry goes when nobody holds it any more. */
static int drop_owner(struct commit *c, int slot, u16 owner)
{
	struct resdb_entry e = c->db->entries[slot];

	e.owners &= ~BIT(owner);
	if (e.owners == 0)
		e = (struct resdb_entry){ .mode = RESDB_FREE };
	return set_slot(c, slot, &e);
}

static int op_free(struct commit *c, const struct resdb_op *op)
{
	for (int i = 0; i < RESDB_MAX_ENTRIES; i++) {
		const struct resdb_entry *e = &c->db->entries[i];
		if (e->mode != RESDB_FREE && (e->owners & BIT(op->owner)) && same_resource(&e->res, &op->res))
			return drop_owner(c, i, op->owner);
	}
	char what[64], who[160];
	resdb_res_text(&op->res, false, what, sizeof(what));
	resdb_owners_text(c->db, BIT(op->owner), who, sizeof(who));
	return fail(c, "%s is not held by %s", what, who);
}

static int op_release_all(struct commit *c, struct resdb_op *op)
{
	for (int i = 0; i < RESDB_MAX_ENTRIES; i++) {
		const struct resdb_entry *e = &c->db->entries[i];
		if (e->mode != RESDB_FREE && (e->owners & BIT(op->owner))) {
			if (drop_owner(c, i, op->owner) < 0)
				return -1;
			op->result++;
		}
	}
	return 0;
}

static int op_any_cpu(struct commit *c, struct resdb_op *op)
{
	for (u32 cpu = 0; cpu < c->db->ncpus; cpu++) {
		struct resdb_res r = resdb_cpu(cpu);
		if (find_overlap(c->db, &r) < 0) {
			op->result = cpu;
			return claim(c, &r, op->owner, op->mode);
		}
	}
	return fail(c, "no free CPU (all %u are taken)", c->db->ncpus);
}

/* Is @p vector free on every CPU of @p cpus (0 = a global vector)? */
static bool vector_free(const struct resdb *db, u64 cpus, u32 vector)
{
	if (cpus == 0) {
		struct resdb_res r = resdb_vector(RESDB_EVERY_CPU, vector);
		return find_overlap(db, &r) < 0;
	}
	for (u32 cpu = 0; cpu < RESDB_MAX_CPUS; cpu++) {
		struct resdb_res r = resdb_vector(cpu, vector);
		if ((cpus & BIT(cpu)) && find_overlap(db, &r) >= 0)
			return false;
	}
	return true;
}

static int op_any_vector(struct commit *c, struct resdb_op *op)
{
	if (c->db->ncpus < 64 && (op->cpus >> c->db->ncpus) != 0)
		return fail(c, "vector search on CPUs that are not online (the machine has %u CPUs)",
			    c->db->ncpus);
	for (u32 v = RESDB_VECTOR_FIRST; v <= RESDB_VECTOR_LAST; v++) {
		if (!vector_free(c->db, op->cpus, v))
			continue;
		op->result = v;
		if (op->cpus == 0)
			return claim(c, &(struct resdb_res){ .kind = RESDB_VECTOR, .cpu = RESDB_EVERY_CPU,
							     .base = v, .size = 1 }, op->owner, op->mode);
		for (u32 cpu = 0; cpu < RESDB_MAX_CPUS; cpu++) {
			struct resdb_res r = resdb_vector(cpu, v);
			if ((op->cpus & BIT(cpu)) && claim(c, &r, op->owner, op->mode) < 0)
				return -1;
		}
		return 0;
	}
	return fail(c, "no vector is free on all the CPUs asked for");
}

/*
 * First fit over the ranges in order: try the first aligned address of the range; when
 * the candidate overlaps an entry, no start before that entry's end can work, so jump to
 * the first aligned address after it.
 */
static int op_any_mem(struct commit *c, struct resdb_op *op)
{
	u64 size = op->res.size, align = op->align;

	if (size == 0 || size % PAGE_SIZE || align < PAGE_SIZE || (align & (align - 1)))
		return fail(c, "bad memory search: size 0x%lx, alignment 0x%lx", size, align);
	for (u32 i = 0; i < op->nranges; i++) {
		const struct resdb_range *w = &c->db->tx.ranges[op->first_range + i];
		u64 end = w->base + w->size < w->base ? UINT64_MAX : w->base + w->size;
		u64 base = ALIGN_UP(w->base, align);
		while (base >= w->base && base < end && size <= end - base) {
			struct resdb_res r = resdb_mem(base, size);
			int slot = find_overlap(c->db, &r);
			if (slot < 0) {
				op->result = base;
				return claim(c, &r, op->owner, op->mode);
			}
			const struct resdb_res *taken = &c->db->entries[slot].res;
			base = ALIGN_UP(taken->base + taken->size, align);
		}
	}
	return fail(c, "no free memory range of 0x%lx bytes aligned to 0x%lx in the ranges given", size,
		    align);
}

static int apply(struct commit *c, struct resdb_op *op)
{
	switch (op->type) {
	case OP_ALLOC:
		return claim(c, &op->res, op->owner, op->mode);
	case OP_ANY_CPU:
		return op_any_cpu(c, op);
	case OP_ANY_VECTOR:
		return op_any_vector(c, op);
	case OP_ANY_MEM:
		return op_any_mem(c, op);
	case OP_FREE:
		return op_free(c, op);
	case OP_RELEASE_ALL:
		return op_release_all(c, op);
	}
	return fail(c, "unknown operation %u", op->type);
}

/* ---- Public functions ---- */

struct resdb_res resdb_device(const char *name)
{
	struct resdb_res r = { .kind = RESDB_DEVICE, .size = 1 };
	size_t n = strnlen(name, RESDB_NAME_LEN); /* RESDB_NAME_LEN: too long, refused at commit */

	memcpy(r.name, name, n);
	return r;
}

void resdb_init(struct resdb *db, u32 ncpus)
{
	memset(db, 0, sizeof(*db));
	db->magic = RESDB_MAGIC;
	db->version = RESDB_VERSION;
	db->ncpus = ncpus < RESDB_MAX_CPUS ? ncpus : RESDB_MAX_CPUS;
	db->tx.failed_op = -1;
}

int resdb_set_partition_name(struct resdb *db, u16 id, const char *name)
{
	if (id >= RESDB_MAX_PARTITIONS)
		return -1;
	snprintf(db->part_name[id], RESDB_PART_NAME_LEN, "%s", name);
	return 0;
}

u64 resdb_owners(const struct resdb *db, struct resdb_res res, u8 *mode)
{
	int slot = find_overlap(db, &res);

	if (mode)
		*mode = slot < 0 ? RESDB_FREE : db->entries[slot].mode;
	return slot < 0 ? 0 : db->entries[slot].owners;
}

int resdb_tx_begin(struct resdb *db)
{
	if (db->tx.open)
		return -1;
	db->tx.open = 1;
	db->tx.nops = db->tx.nranges = db->tx.nundo = db->tx.overflow = 0;
	db->tx.failed_op = -1;
	return 0;
}

/* Append an operation; -1 (and a refused commit later) when the workspace is full. */
static int queue(struct resdb *db, struct resdb_op op)
{
	struct resdb_tx *tx = &db->tx;

	if (!tx->open || tx->nops == RESDB_TX_MAX_OPS) {
		tx->overflow = 1;
		return -1;
	}
	tx->ops[tx->nops] = op;
	return (int)tx->nops++;
}

int resdb_tx_alloc(struct resdb *db, struct resdb_res res, u16 owner, u8 mode)
{
	return queue(db, (struct resdb_op){ .type = OP_ALLOC, .res = res, .owner = owner, .mode = mode });
}

int resdb_tx_alloc_any_cpu(struct resdb *db, u16 owner, u8 mode)
{
	return queue(db, (struct resdb_op){ .type = OP_ANY_CPU, .owner = owner, .mode = mode });
}

int resdb_tx_alloc_any_vector(struct resdb *db, u64 cpus, u16 owner, u8 mode)
{
	return queue(db, (struct resdb_op){ .type = OP_ANY_VECTOR, .cpus = cpus, .owner = owner,
					    .mode = mode });
}

int resdb_tx_alloc_any_mem(struct resdb *db, u64 size, u64 align, const struct resdb_range *within,
			   u32 n, u16 owner, u8 mode)
{
	struct resdb_tx *tx = &db->tx;

	if (n > RESDB_TX_MAX_RANGES - tx->nranges) {
		tx->overflow = 1;
		return -1;
	}
	int op = queue(db, (struct resdb_op){ .type = OP_ANY_MEM, .res = resdb_mem(0, size),
					      .align = align, .first_range = (u16)tx->nranges,
					      .nranges = (u16)n, .owner = owner, .mode = mode });
	if (op >= 0 && n > 0) {
		memcpy(&tx->ranges[tx->nranges], within, n * sizeof(*within));
		tx->nranges += n;
	}
	return op;
}

int resdb_tx_free(struct resdb *db, struct resdb_res res, u16 owner)
{
	return queue(db, (struct resdb_op){ .type = OP_FREE, .res = res, .owner = owner });
}

int resdb_tx_release_all(struct resdb *db, u16 owner)
{
	return queue(db, (struct resdb_op){ .type = OP_RELEASE_ALL, .owner = owner });
}

int resdb_tx_commit(struct resdb *db, char *err, size_t errlen)
{
	struct commit c = { .db = db, .err = err, .errlen = errlen };
	struct resdb_tx *tx = &db->tx;

	if (err && errlen)
		err[0] = '\0';
	if (!tx->open)
		return fail(&c, "no transaction is open");
	tx->open = 0;
	tx->nundo = 0;
	if (tx->overflow)
		return fail(&c, "transaction too large (at most %d operations and %d search ranges)",
			    RESDB_TX_MAX_OPS, RESDB_TX_MAX_RANGES);
	for (u32 i = 0; i < tx->nops; i++) {
		tx->ops[i].result = 0;
		if (apply(&c, &tx->ops[i]) < 0) {
			tx->failed_op = (s32)i;
			rollback(db);
			return -1;
		}
	}
	tx->nundo = 0;
	db->generation++;
	return 0;
}

void resdb_tx_abort(struct resdb *db)
{
	db->tx.open = 0;
	db->tx.nops = 0;
}

u64 resdb_tx_result(const struct resdb *db, int op)
{
	return op >= 0 && (u32)op < db->tx.nops ? db->tx.ops[op].result : 0;
}

int resdb_tx_failed_op(const struct resdb *db)
{
	return db->tx.failed_op;
}
