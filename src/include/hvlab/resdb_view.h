/**
 * @file resdb_view.h
 * @brief A partition's read-only view of its own resources, as the guest sees it.
 *
 * MECHANISMS.md §2: "each partition monitor gets a read-only view of its own allocation".
 * The hypervisor fills one of these with resdb_view_fill() (src/core/resdb.c) and maps the
 * page read-only into the partition, so this header is shared by the hypervisor and the
 * guests and describes plain data only:
 *  - no pointers and only fixed-width fields, so it means the same in every build;
 *  - it starts with a magic number, a layout version and its own size: a reader checks
 *    all three before trusting the rest, and a later version only appends fields;
 *  - every array has a count, and RESDB_VIEW_TRUNCATED says an array was too small.
 * The whole view fits in one 4 KiB page (checked below).
 */
#ifndef HVLAB_RESDB_VIEW_H
#define HVLAB_RESDB_VIEW_H

#include <hvlab/types.h>

#define RESDB_VIEW_MAGIC 0x56424452u /* "RDBV" in memory order */
#define RESDB_VIEW_VERSION 1

/* How many of each resource one view lists. */
#define RESDB_VIEW_MAX_CPUS 64
#define RESDB_VIEW_MAX_MEM 16
#define RESDB_VIEW_MAX_DEVICES 16
#define RESDB_VIEW_MAX_PORTS 32
#define RESDB_VIEW_MAX_VECTORS 64
#define RESDB_VIEW_NAME_LEN 32
#define RESDB_VIEW_DEVICE_LEN 16

/** How the partition holds a resource (the `mode` byte of every item). */
enum resdb_view_mode {
	RESDB_VIEW_DEDICATED = 1, /**< this partition alone */
	RESDB_VIEW_SHARED = 2,    /**< this partition and others (`sharers` says how many) */
};

/** Flag bits of resdb_view.flags. */
#define RESDB_VIEW_TRUNCATED 0x1u /**< some array was full; the view is incomplete */

/** A physical CPU the partition's vCPUs run on. */
struct resdb_view_cpu {
	u32 cpu;     /**< physical CPU index */
	u8 mode;     /**< enum resdb_view_mode */
	u8 sharers;  /**< number of owners (partitions, and the hypervisor) holding it */
	u8 pad[2];
};

/** A host-physical memory range granted to the partition. */
struct resdb_view_mem {
	u64 base;    /**< host-physical address */
	u64 size;    /**< bytes */
	u8 mode;
	u8 sharers;
	u8 pad[6];
};

/** A device the partition owns or shares, by name ("uart0", a PCI BDF). */
struct resdb_view_device {
	char name[RESDB_VIEW_DEVICE_LEN]; /**< NUL-terminated */
	u8 mode;
	u8 sharers;
	u8 pad[6];
};

/** A range of I/O ports. */
struct resdb_view_ports {
	u16 base;    /**< first port */
	u8 mode;
	u8 sharers;
	u32 count;   /**< number of ports (up to 0x10000) */
};

/** An interrupt vector on one CPU (or on every CPU). */
struct resdb_view_vector {
	u32 cpu;     /**< physical CPU, or RESDB_VIEW_EVERY_CPU for a global vector */
	u8 vector;   /**< 32-255 */
	u8 mode;
	u8 sharers;
	u8 pad;
};
#define RESDB_VIEW_EVERY_CPU 0xffffffffu

/** The page itself. */
struct resdb_view {
	u32 magic;        /**< RESDB_VIEW_MAGIC */
	u16 version;      /**< RESDB_VIEW_VERSION */
	u16 size;         /**< sizeof(struct resdb_view) of the writer */
	u32 partition;    /**< the partition id this view describes */
	u32 flags;        /**< RESDB_VIEW_TRUNCATED */
	u64 generation;   /**< database generation when filled: changes after every commit */
	char name[RESDB_VIEW_NAME_LEN]; /**< the partition's name, NUL-terminated */
	u32 ncpus, nmem, ndevices, nports, nvectors;
	u32 pad;
	struct resdb_view_cpu cpus[RESDB_VIEW_MAX_CPUS];
	struct resdb_view_mem mem[RESDB_VIEW_MAX_MEM];
	struct resdb_view_device devices[RESDB_VIEW_MAX_DEVICES];
	struct resdb_view_ports ports[RESDB_VIEW_MAX_PORTS];
	struct resdb_view_vector vectors[RESDB_VIEW_MAX_VECTORS];
};

_Static_assert(sizeof(struct resdb_view) <= 4096, "the view must fit in one 4 KiB page");

#endif
