/**
 * @file resdb.h
 * @brief The resource database: the hypervisor's one record of who owns what.
 *
 * MECHANISMS.md §2 (partitioned virtualization with an ultravisor): a "master in-memory
 * database of hardware-resource allocation" changed only by "transaction requests", with a
 * "read-only view" of each partition's own allocation. hvlab keeps that database here:
 *
 * Resources (enum resdb_kind):
 *   - CPU        a physical CPU index                        resdb_cpu(1)
 *   - MEMORY     a host-physical range, 4 KiB granular       resdb_mem(0x200000, 2 MiB)
 *   - DEVICE     a device by name: "uart0", a PCI BDF        resdb_device("uart0")
 *   - VECTOR     an interrupt vector 32-255 on one CPU, or   resdb_vector(1, 0x30)
 *                on every CPU (RESDB_EVERY_CPU, "global")
 *   - PORTS      a range of I/O ports                        resdb_ports(0x3f8, 8)
 * The PFN database (src/mm/pfn_db.c) stays the per-frame truth of host memory; this
 * database records the ranges granted to partitions (identity-mapped ones above all).
 *
 * Owners: the 64 bits of a u64 are the 64 possible owners, partition ids 0-62 and the
 * hypervisor (RESDB_HV = 63). A table entry holds a resource either
 *   - EXCLUSIVE: exactly one owner bit ("CPU 1 is dedicated to partition 'a'"), or
 *   - SHARED: any set of owner bits ("CPU 2 is shared by partitions 'a', 'b'"); another
 *     owner joins by asking for the identical resource in SHARED mode, and the entry goes
 *     away when its last sharer frees it.
 * A resource without an entry is free. Two entries never overlap, so "who owns X" has one
 * answer.
 *
 * Transactions: resdb_tx_begin(), then operations (allocate a given resource, allocate
 * any free one of a kind, free), then resdb_tx_commit(), which applies every operation
 * or none. A conflict fails with a sentence naming the resource and its current owner
 * and leaves the database exactly as it was. Like the ultravisor's command channel, the
 * database takes one transaction at a time, so the transaction workspace lives inside
 * the database (no big structure on a 16 KiB stack); the caller serializes with a lock.
 *
 * Hot restart (ROADMAP "What to keep in mind now"): struct resdb holds no pointers; the
 * entry table is plain data with a magic number and version in front.
 *
 * Limits: RESDB_MAX_ENTRIES entries, RESDB_MAX_CPUS CPUs, 63 partitions, device names of
 * at most 15 characters, RESDB_TX_MAX_OPS operations and RESDB_TX_MAX_UNDO entry changes
 * per transaction, RESDB_TX_MAX_RANGES search ranges per transaction. Exceeding any of
 * them fails the transaction with a message, changing nothing.
 */
#ifndef HVLAB_RESDB_H
#define HVLAB_RESDB_H

#include <hvlab/types.h>
#include <hvlab/resdb_view.h>

#define RESDB_MAGIC 0x42445352u /* "RSDB" in memory order */
#define RESDB_VERSION 1

#define RESDB_MAX_ENTRIES 256
#define RESDB_MAX_CPUS 64
#define RESDB_MAX_PARTITIONS 63  /**< partition ids 0-62 */
#define RESDB_HV 63              /**< owner id of the hypervisor itself */
#define RESDB_NAME_LEN 16        /**< device names, with the NUL */
#define RESDB_PART_NAME_LEN 32   /**< partition names, with the NUL */
#define RESDB_TX_MAX_OPS 256
#define RESDB_TX_MAX_UNDO 256
#define RESDB_TX_MAX_RANGES 32

#define RESDB_EVERY_CPU 0xffffffffu /**< resdb_res.cpu of a global vector */
#define RESDB_VECTOR_FIRST 32       /**< 0-31 are exceptions */
#define RESDB_VECTOR_LAST 255

/** Kinds of resource. */
enum resdb_kind {
	RESDB_NONE = 0, /**< an unused table slot */
	RESDB_CPU = 1,
	RESDB_MEMORY = 2,
	RESDB_DEVICE = 3,
	RESDB_VECTOR = 4,
	RESDB_PORTS = 5,
};

/** How an entry holds its resource (RESDB_FREE only in unused slots). */
enum resdb_mode { RESDB_FREE = 0, RESDB_EXCLUSIVE = 1, RESDB_SHARED = 2 };

/** One resource. Build it with resdb_cpu(), resdb_mem(), ... rather than by hand. */
struct resdb_res {
	u8 kind;                    /**< enum resdb_kind */
	u8 pad[3];
	u32 cpu;                    /**< VECTOR: its CPU, or RESDB_EVERY_CPU; else 0 */
	u64 base;                   /**< CPU index, host-physical address, first port, vector */
	u64 size;                   /**< MEMORY bytes, PORTS count; 1 for the others */
	char name[RESDB_NAME_LEN];  /**< DEVICE name, NUL-terminated; else empty */
};

/** A host-physical range [base, base + size), for memory searches. */
struct resdb_range {
	u64 base;
	u64 size;
};

/** One row of the table: a resource and who holds it. */
struct resdb_entry {
	struct resdb_res res;
	u8 mode;      /**< enum resdb_mode; RESDB_FREE = slot unused */
	u8 pad[7];
	u64 owners;   /**< bit n = owner n (partition n, or RESDB_HV) */
};

/** One queued operation of the open transaction (internal to resdb.c). */
struct resdb_op {
	u8 type;            /**< enum in resdb.c */
	u8 mode;            /**< enum resdb_mode wanted */
	u16 owner;
	u16 first_range;    /**< searches: index in resdb_tx.ranges */
	u16 nranges;
	struct resdb_res res; /**< the resource; for searches, its kind (and size) */
	u64 align;          /**< memory searches */
	u64 cpus;           /**< vector searches: mask of CPUs, 0 = every CPU */
	u64 result;         /**< after commit: what was chosen or how many were freed */
};

/** How to undo one change to the table: the slot and what it held before. */
struct resdb_undo {
	u32 slot;
	u32 pad;
	struct resdb_entry old;
};

/** The transaction workspace (one per database; see the file comment). */
struct resdb_tx {
	u32 open;        /**< between resdb_tx_begin() and commit/abort */
	u32 nops;
	u32 nranges;
	u32 nundo;
	u32 overflow;    /**< an operation did not fit: commit will refuse */
	s32 failed_op;   /**< after a failed commit: the operation at fault, -1 = none */
	struct resdb_op ops[RESDB_TX_MAX_OPS];
	struct resdb_range ranges[RESDB_TX_MAX_RANGES];
	struct resdb_undo undo[RESDB_TX_MAX_UNDO];
};

/** The database. Plain data: walk `entries`, serialize it as it is. */
struct resdb {
	u32 magic;       /**< RESDB_MAGIC */
	u16 version;     /**< RESDB_VERSION */
	u16 pad;
	u32 ncpus;       /**< CPUs online, 0 .. ncpus-1 */
	u32 pad2;
	u64 generation;  /**< incremented by every successful commit */
	char part_name[RESDB_MAX_PARTITIONS][RESDB_PART_NAME_LEN]; /**< for messages and views */
	struct resdb_entry entries[RESDB_MAX_ENTRIES];
	struct resdb_tx tx;
};

/* ---- Naming resources ---- */

/** Physical CPU @p cpu. */
static inline struct resdb_res resdb_cpu(u32 cpu)
{
	return (struct resdb_res){ .kind = RESDB_CPU, .base = cpu, .size = 1 };
}

/** Host-physical memory [@p base, @p base + @p size); both multiples of 4 KiB. */
static inline struct resdb_res resdb_mem(u64 base, u64 size)
{
	return (struct resdb_res){ .kind = RESDB_MEMORY, .base = base, .size = size };
}

/** I/O ports [@p base, @p base + @p count). */
static inline struct resdb_res resdb_ports(u32 base, u32 count)
{
	return (struct resdb_res){ .kind = RESDB_PORTS, .base = base, .size = count };
}

/** Interrupt @p vector on physical CPU @p cpu (RESDB_EVERY_CPU: a global vector). */
static inline struct resdb_res resdb_vector(u32 cpu, u32 vector)
{
	return (struct resdb_res){ .kind = RESDB_VECTOR, .cpu = cpu, .base = vector, .size = 1 };
}

/** Device @p name ("uart0"). A name too long to store makes the operation fail at commit. */
struct resdb_res resdb_device(const char *name);

/* ---- The database ---- */

/** Empty database for a machine with @p ncpus CPUs online (at most RESDB_MAX_CPUS). */
void resdb_init(struct resdb *db, u32 ncpus);

/**
 * Record the name of partition @p id for messages and views ("partition 'a'"; without a
 * name, "partition 3"). Returns 0, or -1 for a bad id (the name is cut to fit).
 */
int resdb_set_partition_name(struct resdb *db, u16 id, const char *name);

/**
 * Who holds @p res: returns the owner bits of the entry equal to or overlapping @p res
 * (0 = free) and its mode in @p mode (may be NULL).
 */
u64 resdb_owners(const struct resdb *db, struct resdb_res res, u8 *mode);

/* ---- In words (src/core/resdb_view.c) ---- */

/**
 * One line about entry @p e into @p buf: "CPU 1: dedicated to partition 'a'". For the
 * monitor and for dumps. Returns the length written (as snprintf).
 */
int resdb_entry_text(const struct resdb *db, const struct resdb_entry *e, char *buf, size_t len);

/**
 * Name resource @p r: "CPU 1", "memory 0x200000-0x3fffff", "I/O ports 0x3f8-0x3ff",
 * "vector 0x30 on CPU 1", "device 'uart0'". @p is_short drops the "I/O " of ports.
 */
void resdb_res_text(const struct resdb_res *r, bool is_short, char *buf, size_t len);

/** Name a set of owners: "partition 'a'", "the hypervisor and partitions 'a', 'b'". */
void resdb_owners_text(const struct resdb *db, u64 owners, char *buf, size_t len);

/** How entry @p e is held: "dedicated to partition 'a'", "shared by ...", "reserved by ...". */
void resdb_held_text(const struct resdb *db, const struct resdb_entry *e, char *buf, size_t len);

/* ---- Transactions ---- */

/** Open a transaction. Returns 0, or -1 when one is already open. */
int resdb_tx_begin(struct resdb *db);

/**
 * Queue: give @p res to @p owner in @p mode (RESDB_EXCLUSIVE or RESDB_SHARED).
 * Every queueing function returns the operation's index, or -1 when the transaction is
 * full (commit then fails, so checking only the commit is enough).
 */
int resdb_tx_alloc(struct resdb *db, struct resdb_res res, u16 owner, u8 mode);

/** Queue: give the lowest free CPU to @p owner. resdb_tx_result() is its index. */
int resdb_tx_alloc_any_cpu(struct resdb *db, u16 owner, u8 mode);

/**
 * Queue: find the lowest vector free on every CPU of the mask @p cpus (0 = one global
 * vector, free on every CPU) and give it to @p owner on each of those CPUs: a partition
 * on dedicated CPUs gets the same vector everywhere. resdb_tx_result() is the vector.
 */
int resdb_tx_alloc_any_vector(struct resdb *db, u64 cpus, u16 owner, u8 mode);

/**
 * Queue: find the lowest @p size bytes starting at a multiple of @p align (a power of two,
 * at least 4 KiB) inside one of the @p n ranges @p within, overlapping no memory entry,
 * and give it to @p owner. resdb_tx_result() is the base address.
 */
int resdb_tx_alloc_any_mem(struct resdb *db, u64 size, u64 align, const struct resdb_range *within,
			   u32 n, u16 owner, u8 mode);

/**
 * Queue: @p owner gives back @p res, which must be equal to what it holds (no partial
 * frees). A shared entry loses one sharer and disappears with its last.
 */
int resdb_tx_free(struct resdb *db, struct resdb_res res, u16 owner);

/** Queue: @p owner gives back everything it holds. resdb_tx_result() is the count. */
int resdb_tx_release_all(struct resdb *db, u16 owner);

/**
 * Apply every queued operation, in order, or none. On a conflict or bad operation,
 * returns -1 with the reason in @p err ("CPU 1 is already dedicated to partition 'a'"),
 * the database unchanged and resdb_tx_failed_op() naming the operation; else 0.
 * Closes the transaction either way.
 */
int resdb_tx_commit(struct resdb *db, char *err, size_t errlen);

/** Drop the open transaction without applying anything. */
void resdb_tx_abort(struct resdb *db);

/** After a successful commit: what operation @p op chose (see each operation). */
u64 resdb_tx_result(const struct resdb *db, int op);

/** After a failed commit: the index of the operation at fault, or -1. */
int resdb_tx_failed_op(const struct resdb *db);

/* ---- The read-only view (resdb_view.h; src/core/resdb_view.c) ---- */

/**
 * Fill @p out with everything partition @p id holds, in table order. Returns 0, or -1
 * for a bad id. Sets RESDB_VIEW_TRUNCATED when an array of the view is full.
 */
int resdb_view_fill(const struct resdb *db, u16 id, struct resdb_view *out);

/* ---- From a configuration (src/core/resdb_config.c) ---- */

struct hv_config;

/** A device hvlab knows by name: its I/O ports and its ISA interrupt line. */
struct resdb_known_device {
	const char *name;
	u16 port_base;
	u16 port_count;
	u8 irq;
};

/** Look up a device name ("uart0"). Returns NULL when hvlab does not know it. */
const struct resdb_known_device *resdb_known_device(const char *name);

/**
 * Claim everything configuration @p cfg asks for in ONE transaction over @p db: names
 * the partitions (id = index in cfg->part), dedicated CPUs exclusive and shared CPUs
 * shared, identity-mapped memory exclusive at its address, devices dedicated or shared,
 * and the I/O ports of dedicated devices. Before that it checks the configuration
 * against the machine: every CPU below @p online_cpus, every device known, the total
 * memory (each partition rounded up to 2 MiB) within @p free_bytes, and no identity range
 * overlapping the @p nreserved hypervisor ranges @p reserved.
 * Returns 0; or -1 with "FILE:LINE: partition 'NAME': problem" in @p err and the database
 * unchanged. Memory of partitions that are not identity-mapped is not placed here.
 */
int resdb_claim_config(struct resdb *db, const struct hv_config *cfg, u32 online_cpus, u64 free_bytes,
		       const struct resdb_range *reserved, u32 nreserved, char *err, size_t errlen);

#endif
