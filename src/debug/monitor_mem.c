/**
 * @file monitor_mem.c
 * @brief Monitor command `x/N P ADDR`: N bytes of a partition's memory at a guest-virtual
 * address, in hex.
 *
 * The address goes through the guest's own page tables as vCPU 0 has them now (the
 * architectural walk of SDM Vol. 3A Chapter 5), then through the partition's physical
 * map, so nothing outside the partition can be read. The debug core does it
 * (debug_read_mem(), hvlab/debug.h), which also shows a debugger's breakpoints with the
 * bytes they replaced. The page tables in use are in vCPU 0's VMCS (CR3, and CR0/CR4/EFER
 * for the mode), which is why its partition must be paused.
 */
#include <hvlab/monitor.h>
#include <hvlab/partition.h>
#include <hvlab/debug.h>
#include <hvlab/lib.h>

#define X_DEFAULT 16   /* bytes when no /N is given */
#define X_MAX 1024     /* bytes at most: 64 lines */
#define X_PER_LINE 16

/* One line: "0x108000: 07 00 00 00 00 00 00 00  00 00 00 00 00 00 00 00". */
static void print_line(struct monitor_call *call, u64 addr, const u8 *bytes, size_t n)
{
	char line[X_PER_LINE * 3 + 4];
	size_t used = 0;

	for (size_t i = 0; i < n; i++)
		used += (size_t)snprintf(line + used, sizeof(line) - used, "%s%02x", i == 0 ? "" : i == 8 ? "  " : " ",
					 bytes[i]);
	monitor_printf(call, "0x%lx: %s\n", addr, line);
}

/* x/N P ADDR */
static int examine(struct monitor_call *call)
{
	static u8 buf[X_MAX]; /* CPU 0 alone runs monitor commands */
	struct partition *p = monitor_partition(call, 0);
	u64 addr = call->arg[1].num, len = call->count_given ? call->count : X_DEFAULT;

	if (!p)
		return MON_ERR_NOENT;
	if (len > X_MAX)
		return monitor_fail(call, MON_ERR_USAGE, "x: at most %u bytes at a time, not %lu", X_MAX, len);
	int err = monitor_check_parked(call, &p->vcpu[0]);
	if (err)
		return err;
	size_t got = debug_read_mem(p, 0, addr, buf, len, false);
	for (size_t off = 0; off < got; off += X_PER_LINE)
		print_line(call, addr + off, buf + off, got - off < X_PER_LINE ? got - off : X_PER_LINE);
	if (got < len)
		return monitor_fail(call, MON_ERR_NOENT, "0x%lx: not mapped in partition %u (%s)'s page tables",
				    addr + got, p->id, p->name);
	return MON_OK;
}

MONITOR_COMMAND(cmd_x) = { "x/N", "P ADDR",
			   "N bytes (default 16) of partition P's memory at guest address ADDR, in hex", examine };
