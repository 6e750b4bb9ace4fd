/**
 * @file monitor_info.c
 * @brief Monitor commands that show partitions: `info partitions`, `info exits [P]`,
 * `console P [N]`.
 *
 * hvmon refreshes all three every second (docs/design/monitor-protocol.md), and parses
 * two of them: each `info partitions` line starts with the partition's id, and each
 * counter of `info exits` is a line `REASON: COUNT` with the count last. Everything here
 * only reads: counters are bumped on other CPUs meanwhile, and a 64-bit aligned load
 * sees either the old or the new value, which is all a live view needs.
 */
#include <hvlab/monitor.h>
#include <hvlab/partition.h>
#include <hvlab/console.h>
#include <hvlab/lib.h>
#include <arch/partition_arch.h>
#include <arch/vmexit.h>

/* enum vcpu_state in words. */
static const char *const vcpu_state_words[] = {
	[VCPU_STOPPED] = "stopped",
	[VCPU_RUNNABLE] = "runnable",
	[VCPU_RUNNING] = "running",
	[VCPU_HALTED] = "halted",
	[VCPU_WAIT_SIPI] = "waiting for SIPI",
};

/* "ept" or "shadow": the first word of the architecture's description of @p p's paging. */
static void paging_word(const struct partition *p, char *buf, size_t len)
{
	const char *d = arch_paging_description(p);
	size_t n = 0;

	while (d && d[n] && d[n] != ' ' && n + 1 < len) {
		buf[n] = d[n];
		n++;
	}
	buf[n] = '\0';
}

/* ", vCPU 1 halted on cpu1": one vCPU, appended to @p buf at *@p used. */
static void vcpu_words(const struct vcpu *v, char *buf, size_t len, size_t *used)
{
	const struct partition *p = v->part;
	u8 state = v->state;
	const char *word = state < ARRAY_SIZE(vcpu_state_words) ? vcpu_state_words[state] : "?";
	bool parked = (p->lc.parked & BIT(v->id)) && !partition_ended(p);

	if (*used < len)
		*used += (size_t)snprintf(buf + *used, len - *used, "%svCPU %u %s%s on cpu%u", v->id ? ", " : "",
					  v->id, word, parked ? " (parked)" : "", v->cpu);
}

/* info partitions: "0  ticker     running  ept     vCPU 0 running on cpu1". */
static int info_partitions(struct monitor_call *call)
{
	char vcpus[320], paging[16]; /* 8 vCPUs of about 35 characters */

	if (npartitions == 0)
		monitor_printf(call, "no partitions\n");
	for (u32 i = 0; i < npartitions; i++) {
		const struct partition *p = &partitions[i];
		size_t used = 0;
		vcpus[0] = '\0';
		for (u32 k = 0; k < p->nvcpus; k++)
			vcpu_words(&p->vcpu[k], vcpus, sizeof(vcpus), &used);
		paging_word(p, paging, sizeof(paging));
		monitor_printf(call, "%u  %-10s %-8s %-7s %s\n", p->id, p->name, monitor_partition_state(p),
			       paging, vcpus);
		/* How it ended, on a line of its own (indented: not a partition line). */
		if (p->end_kind == END_EXIT)
			monitor_printf(call, "   exited with status %u\n", p->exit_status);
		else if (p->end_kind == END_FAULT)
			monitor_printf(call, "   faulted: %s\n", p->end_reason);
	}
	return MON_OK;
}

MONITOR_COMMAND(cmd_info_partitions) = {
	"info partitions", "", "every partition: id, name, state, paging mode, vCPUs with state and CPU",
	info_partitions
};

/* Add @p p's counters into @p sum. */
static void add_counters(struct partition_counters *sum, const struct partition *p)
{
	const struct partition_counters *c = &p->counters;

	for (u32 r = 0; r < EXIT_REASON_COUNT; r++)
		sum->exits[r] += c->exits[r];
	sum->exits_total += c->exits_total;
	sum->injections += c->injections;
	sum->hypercalls += c->hypercalls;
	sum->mmio_emulated += c->mmio_emulated;
	sum->pio_emulated += c->pio_emulated;
}

/* info exits [P]: a heading, then "REASON: COUNT" for each reason seen, in reason order. */
static int info_exits(struct monitor_call *call)
{
	static struct partition_counters sum; /* 700 bytes: kept off CPU 0's stack */
	struct partition *one = NULL;

	if (call->arg[0].given && !(one = monitor_partition(call, 0)))
		return MON_ERR_NOENT;
	memset(&sum, 0, sizeof(sum));
	for (u32 i = 0; i < npartitions; i++)
		if (!one || one == &partitions[i])
			add_counters(&sum, &partitions[i]);
	if (one)
		monitor_printf(call, "exits of partition %u (%s): %lu in all\n", one->id, one->name,
			       sum.exits_total);
	else
		monitor_printf(call, "exits of all %u partitions: %lu in all\n", npartitions, sum.exits_total);
	for (u32 r = 0; r < EXIT_REASON_COUNT; r++)
		if (sum.exits[r])
			monitor_printf(call, "%s: %lu\n", exit_reason_name(r), sum.exits[r]);
	/* Not counters of exits: a heading line (its ':' is not followed by a number alone). */
	monitor_printf(call, "besides: %lu injections, %lu hypercalls, %lu MMIO and %lu port accesses emulated\n",
		       sum.injections, sum.hypercalls, sum.mmio_emulated, sum.pio_emulated);
	return MON_OK;
}

MONITOR_COMMAND(cmd_info_exits) = {
	"info exits", "[P]", "VM exits counted per exit reason, of partition P or of all", info_exits
};

/* Where the last @p lines lines of @p text (@p n bytes) start. */
static size_t last_lines(const char *text, size_t n, u64 lines)
{
	size_t start = n;

	if (start && text[start - 1] == '\n')
		start--; /* the last line's own newline */
	while (start > 0) {
		if (text[start - 1] == '\n' && --lines == 0)
			break;
		start--;
	}
	return start;
}

/* console P [N]: the last N (default 20) lines of P's console, as the guest wrote them. */
static int console_tail(struct monitor_call *call)
{
	static char text[4096 + 2]; /* the UART keeps 4 KiB (uart.c) */
	struct partition *p = monitor_partition(call, 0);
	u64 want = call->arg[1].given ? call->arg[1].num : 20;

	if (!p)
		return MON_ERR_NOENT;
	size_t n = uart_console_history(p, text, sizeof(text) - 2);
	/* The oldest line may be cut by the ring: drop it unless it is all there is. */
	size_t start = last_lines(text, n, want);
	if (start == 0 && n == sizeof(text) - 2) {
		while (start < n && text[start] != '\n')
			start++;
		start += start < n;
	}
	/* Plain text for the terminal: no carriage returns or other control characters. */
	size_t o = 0;
	for (size_t i = start; i < n; i++) {
		char c = text[i];
		if (c == '\r')
			continue;
		text[o++] = (c == '\n' || c == '\t' || ((u8)c >= 0x20 && (u8)c != 0x7f)) ? c : '?';
	}
	if (o && text[o - 1] != '\n')
		text[o++] = '\n';
	text[o] = '\0';
	call->out(call->ctx, text);
	return MON_OK;
}

MONITOR_COMMAND(cmd_console) = {
	"console", "P [N]", "the last N lines (default 20) partition P wrote to its console", console_tail
};
