/**
 * @file resources.h
 * @brief The machine's resource database (src/core/resdb.c) as partitions use it.
 *
 * MECHANISMS.md §2: one master record of who owns which CPUs, memory, devices, ports and
 * vectors, changed only by transactions, with a read-only view of its own allocation
 * mapped into every partition at HVLAB_RESDB_VIEW_GPA (guest_abi.h).
 */
#ifndef HVLAB_RESOURCES_H
#define HVLAB_RESOURCES_H

#include <hvlab/resdb.h>

struct partition;

/** The one database of the machine. */
extern struct resdb resdb;

/** Serialize transactions on the database: resdb has one transaction at a time (resdb.h),
 *  and CPUs start them concurrently. Hold it from resdb_tx_begin() to commit or abort. */
void resources_lock(void);
void resources_unlock(void);

/** Fill @p p's read-only view page again (after its resources changed). */
void resources_refresh_view(struct partition *p);

/**
 * Claim everything @p cfg asks for in one transaction. On a conflict or a check against
 * the machine that fails, print "hvlab: config: FILE:LINE: ..." and return -1 with
 * nothing allocated.
 */
int resources_claim_config(const struct hv_config *cfg);

/** Record @p p's guest RAM (placed by the frame allocator) in the database. */
int resources_record_memory(struct partition *p);

/** Fill every partition's read-only view page and map it into the partition. */
int resources_publish_views(void);

#endif
