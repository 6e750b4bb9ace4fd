/**
 * @file gdbstub.c
 * @brief The gdbstub on COM2: GDB debugs one partition at a time, its vCPUs as threads.
 *
 * GDB manual, appendix "Remote Serial Protocol". The packet layer is gdb_rsp.c; the
 * stopping, stepping and breakpoints are the debug core's (debug.h); registers come
 * from the architecture's table (arch/debug_arch.h). This file is the conversation:
 * a table of packet handlers, and a small state machine for the one reply that may
 * come late: the stop reply GDB waits for after `?`, `c`, `s` or `vCont`
 * ("Stop Reply Packets"), sent from the poll once the partition has stopped.
 *
 * All-stop only: a stop stops the whole partition GDB sees, while the other partitions
 * run on. `monitor partition NAME|ID` chooses which partition that is (the first by
 * default), `monitor phys on|off` whether m/M/X/Z0 addresses are guest-physical, and
 * any other `monitor` command goes to the hypervisor's monitor (monitor_execute()).
 *
 * The stub never blocks CPU 0: replies wait in a transmit queue that each poll hands to
 * the UART as far as it takes them (debug_port_write_nowait()).
 */
#include <hvlab/debug_port.h>
#include <hvlab/gdb_rsp.h>
#include <hvlab/gdb_regs.h>
#include <hvlab/debug.h>
#include <hvlab/partition.h>
#include <hvlab/console.h>
#include <hvlab/lib.h>
#include <arch/debug_arch.h>

/**
 * Run one monitor command line, writing its output through @p out (hvlab/monitor.h,
 * written by the monitor). Returns 0, or a negative error whose text @p out already gave.
 */
int monitor_execute(const char *line, void (*out)(void *ctx, const char *text), void *ctx)
	__attribute__((weak));

#define REPLY_MAX (RSP_PACKET_SIZE + 1)
#define FRAME_MAX (2 * RSP_PACKET_SIZE + 8) /* every byte escaped, plus $ # cs NUL */
#define TXQ_SIZE 32768
#define MEM_MAX ((REPLY_MAX - 1) / 2)       /* what one m reply can carry */
#define RCMD_LINE_MAX 1024
#define MAX_REGS 64
#define SIGINT 2
#define SIGKILL 9
#define SIGTRAP 5
#define SIGSEGV 11

/* Errors as `Exx` (GDB shows them; the numbers follow the monitor protocol's). */
#define E_BADARG (-1)
#define E_NOTHREAD (-2)
#define E_FAULT (-0x0e)
#define E_STATE (-0x16)

/** A reply GDB is waiting for that is sent only once the partition has stopped. */
enum owed { OWE_NOTHING, OWE_STOP, OWE_OK };

struct gdb_session {
	struct debug_port *dp;
	struct rsp_rx rx;
	u32 part;          /**< index of the partition GDB sees */
	bool phys;         /**< m, M, X and Z0 take guest-physical addresses */
	bool session;      /**< GDB asked `?`: it believes its partition stopped, until D or k */
	u8 owed;           /**< enum owed */
	bool want_stop;    /**< the owed reply needs a stop the stub must still ask for */
	bool defer;        /**< set by a handler: no reply now, the poll sends it */
	s64 g_thread;      /**< Hg: registers and memory of this thread */
	s64 c_thread;      /**< Hc: which thread `s` steps */
	u32 cur_vcpu;      /**< the thread the last stop happened on (thread "0", "any") */
	char frame[FRAME_MAX]; /**< the last frame sent, for a '-' */
	size_t frame_len;
	char txq[TXQ_SIZE];    /**< bytes waiting for the UART */
	size_t tx_off, tx_len;
};

static struct gdb_session gs;
static char reply[REPLY_MAX];
static char target_xml[8192];
static int target_xml_len;
static u8 membuf[RSP_PACKET_SIZE];
static u64 regvals[MAX_REGS], newvals[MAX_REGS];
static bool regok[MAX_REGS], given[MAX_REGS];

static struct partition *cur_part(void)
{
	return &partitions[gs.part];
}

/* ---- Sending ---- */

/* Hand queued bytes to the UART as far as it takes them now. */
static void tx_pump(void)
{
	if (gs.tx_off < gs.tx_len)
		gs.tx_off += debug_port_write_nowait(gs.dp, gs.txq + gs.tx_off, gs.tx_len - gs.tx_off);
	if (gs.tx_off == gs.tx_len)
		gs.tx_off = gs.tx_len = 0;
}

/* Queue @p len bytes; when the queue is full, wait for the UART (rare: 32 KiB queued). */
static void tx_put(const char *data, size_t len)
{
	if (gs.tx_len + len > TXQ_SIZE && gs.tx_off) {
		memmove(gs.txq, gs.txq + gs.tx_off, gs.tx_len - gs.tx_off);
		gs.tx_len -= gs.tx_off;
		gs.tx_off = 0;
	}
	if (gs.tx_len + len > TXQ_SIZE) {
		debug_port_write(gs.dp, gs.txq, gs.tx_len);
		gs.tx_off = gs.tx_len = 0;
		if (len > TXQ_SIZE) {
			debug_port_write(gs.dp, data, len);
			return;
		}
	}
	memcpy(gs.txq + gs.tx_len, data, len);
	gs.tx_len += len;
}

/* Frame and queue one packet; kept for a resend on '-'. */
static void send_packet(const char *payload, size_t len)
{
	int n = rsp_encode(payload, len, gs.frame, sizeof(gs.frame));

	if (n < 0) { /* cannot happen: replies are at most REPLY_MAX */
		n = rsp_encode("E01", 3, gs.frame, sizeof(gs.frame));
	}
	gs.frame_len = (size_t)n;
	tx_put(gs.frame, gs.frame_len);
}

static void send_text(const char *payload)
{
	send_packet(payload, strlen(payload));
}

/* "O" packets: console output during a monitor command or before an exit report. */
static void send_output(const char *text)
{
	size_t len = strlen(text);

	while (len) {
		size_t n = len < (REPLY_MAX - 2) / 2 ? len : (REPLY_MAX - 2) / 2;
		char pkt[REPLY_MAX];
		pkt[0] = 'O';
		rsp_bytes_to_hex(text, n, pkt + 1, sizeof(pkt) - 1);
		send_packet(pkt, 1 + 2 * n);
		text += n;
		len -= n;
	}
}

/* ---- Threads: thread N is vCPU N-1 of the partition GDB sees ---- */

/* The vCPU for thread id @p tid ("0" any and "-1" all: the one that stopped last); -1. */
static int vcpu_of(s64 tid)
{
	struct partition *p = cur_part();

	if (tid == RSP_TID_ANY || tid == RSP_TID_ALL)
		return (int)gs.cur_vcpu;
	if (tid < 1 || (u64)tid > p->nvcpus || !arch_debug_vcpu_started(&p->vcpu[tid - 1]))
		return -1;
	return (int)(tid - 1);
}

/* ---- Stop replies ("Stop Reply Packets") ---- */

/* The T packet for @p p's last stop: signal, thread, and why (swbreak, watch...). */
static int stop_reply(struct partition *p, char *out, size_t outlen)
{
	struct debug_stop s = debug_last_stop(p);
	static const char *const why[] = {
		[DEBUG_STOP_SW_BREAK] = "swbreak:;", [DEBUG_STOP_HW_BREAK] = "hwbreak:;",
		[DEBUG_STOP_WATCH_WRITE] = "watch", [DEBUG_STOP_WATCH_ACCESS] = "awatch",
	};
	const char *extra = s.reason < ARRAY_SIZE(why) && why[s.reason] ? why[s.reason] : "";
	int sig = s.reason == DEBUG_STOP_REQUESTED ? SIGINT : SIGTRAP;

	gs.cur_vcpu = s.vcpu < p->nvcpus ? s.vcpu : 0;
	gs.g_thread = gs.c_thread = gs.cur_vcpu + 1;
	if (s.reason == DEBUG_STOP_WATCH_WRITE || s.reason == DEBUG_STOP_WATCH_ACCESS)
		return snprintf(out, outlen, "T%02xthread:%x;%s:%lx;", sig, gs.cur_vcpu + 1, extra, s.addr);
	return snprintf(out, outlen, "T%02xthread:%x;%s", sig, gs.cur_vcpu + 1, extra);
}

/* How @p p ended, as GDB's W (exited with a status) or X (killed by a signal). */
static int exit_reply(struct partition *p, char *out, size_t outlen)
{
	if (p->end_kind == END_EXIT)
		return snprintf(out, outlen, "W%02x", p->exit_status & 0xff);
	return snprintf(out, outlen, "X%02x", p->end_kind == END_FAULT ? SIGSEGV : SIGKILL);
}

/* Detach from the partition GDB sees, if attached: breakpoints out, running again. */
static void detach_part(void)
{
	if (debug_attached(cur_part()))
		debug_detach(cur_part());
	gs.owed = OWE_NOTHING;
	gs.want_stop = false;
}

/* The session is over (D, k, a new GDB): the partition runs on, forgotten. */
static void let_go(void)
{
	detach_part();
	gs.session = false;
}

/* Start waiting for a stop of the partition GDB sees (attaching if need be). */
static int owe_stop(u8 what, bool ask)
{
	const char *why = NULL;
	int err = debug_attach(cur_part(), &why);

	if (err)
		return err;
	gs.owed = what;
	gs.want_stop = ask;
	gs.defer = true;
	return 0;
}

/* Send the owed reply once the partition has stopped (or ended). From the poll. */
static void settle_owed(void)
{
	struct partition *p = cur_part();
	char out[160];

	if (gs.owed == OWE_NOTHING)
		return;
	if (partition_ended(p)) {
		if (p->end_kind == END_FAULT) {
			snprintf(out, sizeof(out), "partition %s failed: %s\n", p->name, p->end_reason);
			send_output(out);
		}
		send_packet(out, (size_t)exit_reply(p, out, sizeof(out)));
		let_go();
		return;
	}
	if (gs.want_stop) {
		int r = debug_request_stop(p, NULL);
		if (r < 0) {
			send_text("E16");
			gs.owed = OWE_NOTHING;
			return;
		}
		gs.want_stop = r > 0; /* 1: vCPU 0 has not started yet; ask again next poll */
	}
	if (!debug_stopped(p))
		return;
	if (gs.owed == OWE_STOP)
		send_packet(out, (size_t)stop_reply(p, out, sizeof(out)));
	else
		send_text("OK");
	gs.owed = OWE_NOTHING;
}

/* ---- Packet handlers (rsp_command: return the reply length or an rsp_err) ---- */

#define HANDLER(name) static int name(void *ctx, const char *args, size_t len, char *out, size_t outlen)

static int ok(char *out, size_t outlen)
{
	return snprintf(out, outlen, "OK");
}

HANDLER(cmd_supported)
{
	/* A new GDB starts with qSupported: forget the old session (breakpoints and all). */
	let_go();
	gs.phys = false;
	return snprintf(out, outlen, "PacketSize=%x;qXfer:features:read+;QStartNoAckMode+;"
			"vContSupported+;swbreak+;hwbreak+", RSP_PACKET_SIZE);
}

HANDLER(cmd_no_ack)
{
	return ok(out, outlen); /* the poll turns acks off once this OK is queued */
}

HANDLER(cmd_features)
{
	struct rsp_mem m;
	int r = rsp_parse_m(args, len, outlen - 2, &m);

	return r ? r : gdb_xfer_reply(target_xml, (size_t)target_xml_len, m.addr, m.len, out, outlen);
}

HANDLER(cmd_stop_reason)
{
	struct partition *p = cur_part();

	if (partition_ended(p))
		return exit_reply(p, out, outlen);
	if (debug_attached(p) && debug_stopped(p))
		return stop_reply(p, out, outlen);
	gs.session = true;
	return owe_stop(OWE_STOP, true); /* GDB attaches: stop it first */
}

HANDLER(cmd_attached)
{
	return snprintf(out, outlen, "1"); /* an existing "process": detach, never kill */
}

HANDLER(cmd_thread_first)
{
	struct partition *p = cur_part();
	size_t n = (size_t)snprintf(out, outlen, "m");

	for (u32 i = 0; i < p->nvcpus; i++)
		if (arch_debug_vcpu_started(&p->vcpu[i]))
			n += (size_t)snprintf(out + n, outlen - n, "%s%x", n > 1 ? "," : "", i + 1);
	return n > 1 ? (int)n : snprintf(out, outlen, "l");
}

HANDLER(cmd_thread_next)
{
	return snprintf(out, outlen, "l"); /* qfThreadInfo gave them all */
}

HANDLER(cmd_current_thread)
{
	return len ? 0 : snprintf(out, outlen, "QC%x", gs.cur_vcpu + 1);
}

HANDLER(cmd_thread_alive)
{
	u64 tid;
	const char *p = args;

	if (rsp_parse_hex_u64(&p, args + len, &tid) || p != args + len)
		return E_BADARG;
	return vcpu_of((s64)tid) < 0 || tid == 0 ? E_NOTHREAD : ok(out, outlen);
}

HANDLER(cmd_thread_extra)
{
	static const char *const states[] = { "stopped", "runnable", "running", "halted", "waiting for SIPI" };
	u64 tid;
	const char *p = args;
	char text[80];

	if (rsp_parse_hex_u64(&p, args + len, &tid) || p != args + len || vcpu_of((s64)tid) < 0)
		return E_NOTHREAD;
	struct vcpu *v = &cur_part()->vcpu[tid - 1];
	int n = snprintf(text, sizeof(text), "vCPU %u on cpu%u, %s", v->id, v->cpu,
			 v->state < ARRAY_SIZE(states) ? states[v->state] : "?");
	return rsp_bytes_to_hex(text, (size_t)n, out, outlen);
}

HANDLER(cmd_set_thread)
{
	struct rsp_thread_sel sel;
	int r = rsp_parse_H(args, len, &sel);

	if (r)
		return r;
	if (sel.tid != RSP_TID_ALL && sel.tid != RSP_TID_ANY && vcpu_of(sel.tid) < 0)
		return E_NOTHREAD;
	if (sel.op == 'g')
		gs.g_thread = sel.tid;
	else
		gs.c_thread = sel.tid;
	return ok(out, outlen);
}

HANDLER(cmd_read_regs)
{
	int v = vcpu_of(gs.g_thread);

	if (len)
		return E_BADARG;
	if (v < 0)
		return E_NOTHREAD;
	if (arch_debug_read_regs(&cur_part()->vcpu[v], regvals, regok) < 0)
		return E_STATE; /* not stopped */
	return gdb_regs_encode(&arch_gdb_target, regvals, regok, out, outlen);
}

HANDLER(cmd_read_reg)
{
	u64 regno;
	int v = vcpu_of(gs.g_thread), r = rsp_parse_p(args, len, &regno);

	if (r)
		return r;
	if (v < 0)
		return E_NOTHREAD;
	if (regno >= arch_gdb_target.nregs)
		return E_BADARG;
	if (arch_debug_read_regs(&cur_part()->vcpu[v], regvals, regok) < 0)
		return E_STATE;
	return gdb_reg_encode(&arch_gdb_target, regno, regvals[regno], regok[regno], out, outlen);
}

/* Write register @p regno of the Hg thread's vCPU @p v when @p value is new. */
static int write_one(int v, u64 regno, u64 value)
{
	if (regok[regno] && regvals[regno] == value)
		return 0; /* unchanged: also lets G carry read-only registers back */
	return arch_debug_write_reg(&cur_part()->vcpu[v], (u32)regno, value) < 0 ? E_BADARG : 0;
}

HANDLER(cmd_write_regs)
{
	int v = vcpu_of(gs.g_thread), r;

	if (v < 0)
		return E_NOTHREAD;
	if ((r = gdb_regs_decode(&arch_gdb_target, args, len, newvals, given)))
		return r;
	if (arch_debug_read_regs(&cur_part()->vcpu[v], regvals, regok) < 0)
		return E_STATE;
	for (u64 i = 0; i < arch_gdb_target.nregs; i++)
		if (given[i] && (r = write_one(v, i, newvals[i])))
			return r;
	return ok(out, outlen);
}

HANDLER(cmd_write_reg)
{
	u64 regno, value;
	u8 bytes[RSP_REG_MAX_BYTES];
	size_t n;
	int v = vcpu_of(gs.g_thread), r;

	if ((r = rsp_parse_P(args, len, &regno, bytes, &n)))
		return r;
	if (v < 0)
		return E_NOTHREAD;
	if ((r = gdb_reg_decode(&arch_gdb_target, regno, bytes, n, &value)))
		return r;
	if (arch_debug_read_regs(&cur_part()->vcpu[v], regvals, regok) < 0)
		return E_STATE;
	return (r = write_one(v, regno, value)) ? r : ok(out, outlen);
}

HANDLER(cmd_read_mem)
{
	struct rsp_mem m;
	int v = vcpu_of(gs.g_thread), r = rsp_parse_m(args, len, MEM_MAX, &m);

	if (r)
		return r;
	size_t got = debug_read_mem(cur_part(), v < 0 ? 0 : (u32)v, m.addr, membuf, (size_t)m.len, gs.phys);
	if (got == 0 && m.len)
		return E_FAULT; /* GDB takes a short read as "the rest is not there" */
	return rsp_bytes_to_hex(membuf, got, out, outlen);
}

/* M and X: the same but for how the data is written in the packet. */
static int write_mem(const char *args, size_t len, char *out, size_t outlen, bool binary)
{
	struct rsp_mem m;
	int v = vcpu_of(gs.g_thread);
	int r = binary ? rsp_parse_X(args, len, membuf, sizeof(membuf), &m)
		       : rsp_parse_M(args, len, membuf, sizeof(membuf), &m);

	if (r)
		return r;
	if (debug_write_mem(cur_part(), v < 0 ? 0 : (u32)v, m.addr, membuf, (size_t)m.len, gs.phys) != m.len)
		return E_FAULT;
	return ok(out, outlen);
}

HANDLER(cmd_write_mem)
{
	return write_mem(args, len, out, outlen, false);
}

HANDLER(cmd_write_mem_binary)
{
	return write_mem(args, len, out, outlen, true);
}

/* Z and z. x86 cannot watch reads alone: Z3 gets the empty reply ("not supported"). */
static int breakpoint(const char *args, size_t len, char *out, size_t outlen, bool insert)
{
	struct rsp_break b;
	int v = vcpu_of(gs.g_thread), r = rsp_parse_Z(args, len, &b);

	if (r)
		return r;
	if (b.type == DEBUG_WP_READ)
		return 0;
	struct partition *p = cur_part();
	if (!debug_attached(p) || !debug_stopped(p))
		return E_STATE;
	u64 n = b.type == DEBUG_BP_SW || b.type == DEBUG_BP_HW ? 1 : b.kind;
	r = insert ? debug_insert(p, v < 0 ? 0 : (u32)v, (u8)b.type, b.addr, n, gs.phys, NULL)
		   : debug_remove(p, v < 0 ? 0 : (u32)v, (u8)b.type, b.addr, n, gs.phys, NULL);
	return r ? r : ok(out, outlen);
}

HANDLER(cmd_insert)
{
	return breakpoint(args, len, out, outlen, true);
}

HANDLER(cmd_remove)
{
	return breakpoint(args, len, out, outlen, false);
}

/* Step vCPU @p v (the others stay stopped: docs/gdb.md), or continue everything. */
static int resume(int v, bool step)
{
	struct partition *p = cur_part();
	int r;

	if (!debug_attached(p))
		return E_STATE;
	r = step ? debug_step(p, (u32)v, NULL) : debug_continue(p, NULL);
	if (r)
		return E_STATE;
	gs.owed = OWE_STOP;
	gs.want_stop = false;
	gs.defer = true;
	return 0;
}

HANDLER(cmd_continue)
{
	/* "c" and "Csig": a signal means nothing to a partition, it is dropped. */
	return len && args[-1] == 'c' ? E_BADARG : resume(0, false);
}

HANDLER(cmd_step)
{
	int v = vcpu_of(gs.c_thread);

	if (len && args[-1] == 's')
		return E_BADARG; /* "s ADDR" (resume elsewhere) is not offered */
	return v < 0 ? E_NOTHREAD : resume(v, true);
}

HANDLER(cmd_vcont_query)
{
	return len ? 0 : snprintf(out, outlen, "vCont;c;C;s;S");
}

HANDLER(cmd_vcont)
{
	struct rsp_vcont vc;
	int r = rsp_parse_vcont(args - 1, len + 1, &vc); /* the parser wants the ';' */

	if (r)
		return r;
	/* The first step action names the vCPU that steps; without one, everything continues. */
	for (u32 i = 0; i < vc.n; i++) {
		if (vc.act[i].action == 't')
			return E_BADARG; /* non-stop mode only */
		if (vc.act[i].action == 's' || vc.act[i].action == 'S') {
			int v = vcpu_of(vc.act[i].tid == RSP_TID_ALL ? gs.c_thread : vc.act[i].tid);
			return v < 0 ? E_NOTHREAD : resume(v, true);
		}
	}
	return resume(0, false);
}

HANDLER(cmd_detach)
{
	let_go();
	return ok(out, outlen); /* the session stays: GDB may connect again */
}

HANDLER(cmd_kill)
{
	let_go(); /* "kill" never ends a partition from GDB: it runs on, forgotten */
	gs.defer = true;
	return 0;
}

HANDLER(cmd_symbol)
{
	return ok(out, outlen); /* no symbols wanted */
}

/* ---- monitor commands (qRcmd) ---- */

/* A build without the monitor (src/debug/monitor*.c) still answers `monitor ...`: this
 * definition is weak, so the monitor's own replaces it at link time. */
int monitor_execute(const char *line, void (*out)(void *ctx, const char *text), void *ctx)
{
	out(ctx, "monitor not available\n");
	return 0;
}

static void rcmd_out(void *ctx, const char *text)
{
	send_output(text);
}

/* "partition NAME|ID": which partition GDB sees; GDB gets the OK once it is stopped. */
static int monitor_partition(const char *arg)
{
	char text[200];
	bool by_id = arg[0] != '\0';
	u32 id = 0, n;

	for (const char *c = arg; by_id && *c; c++) { /* all digits: an id, else a name */
		by_id = *c >= '0' && *c <= '9' && id < 100000;
		id = id * 10 + (u32)(*c - '0');
	}
	for (n = 0; n < npartitions; n++)
		if (by_id ? id == n : strcmp(arg, partitions[n].name) == 0)
			break;
	if (!arg[0] || n >= npartitions) {
		snprintf(text, sizeof(text), "%s%s: %u partition(s); GDB sees %u (%s)\n",
			 arg[0] ? "no partition " : "partition", arg, npartitions, gs.part, cur_part()->name);
		send_output(text);
		return arg[0] ? E_NOTHREAD : 0;
	}
	detach_part(); /* the old one runs on */
	gs.part = n;
	gs.cur_vcpu = 0;
	gs.g_thread = gs.c_thread = 1;
	snprintf(text, sizeof(text), "GDB now sees partition %u (%s); type `maintenance flush register-cache` and `info threads`\n",
		 n, cur_part()->name);
	send_output(text);
	if (gs.session && !partition_ended(cur_part()))
		return owe_stop(OWE_OK, true); /* GDB believes it stopped: make it so */
	return 0;
}

static int monitor_phys(const char *arg)
{
	if (strcmp(arg, "on") == 0 || strcmp(arg, "off") == 0)
		gs.phys = arg[1] == 'n';
	else if (arg[0])
		return send_output("usage: phys on|off\n"), E_BADARG;
	send_output(gs.phys ? "addresses are guest-physical\n" : "addresses are guest-virtual\n");
	return 0;
}

HANDLER(cmd_monitor)
{
	static char line[RCMD_LINE_MAX + 1];
	int n = rsp_hex_to_bytes(args, len, (u8 *)line, RCMD_LINE_MAX);
	int r;

	if (n < 0)
		return n;
	line[n] = '\0';
	if (strncmp(line, "partition", 9) == 0 && (line[9] == ' ' || !line[9]))
		r = monitor_partition(line[9] ? line + 10 : "");
	else if (strncmp(line, "phys", 4) == 0 && (line[4] == ' ' || !line[4]))
		r = monitor_phys(line[4] ? line + 5 : "");
	else
		r = monitor_execute(line, rcmd_out, NULL);
	if (strcmp(line, "help") == 0)
		send_output("partition NAME|ID  which partition GDB debugs (gdbstub)\n"
			    "phys on|off        guest-physical addresses for memory and breakpoints (gdbstub)\n");
	if (r < 0)
		return r;
	return gs.defer ? 0 : ok(out, outlen);
}

static const struct rsp_command commands[] = {
	{ "qSupported", cmd_supported },
	{ "QStartNoAckMode", cmd_no_ack },
	{ "qXfer:features:read:target.xml:", cmd_features },
	{ "?", cmd_stop_reason },
	{ "qAttached", cmd_attached },
	{ "qfThreadInfo", cmd_thread_first },
	{ "qsThreadInfo", cmd_thread_next },
	{ "qC", cmd_current_thread },
	{ "T", cmd_thread_alive },
	{ "qThreadExtraInfo,", cmd_thread_extra },
	{ "H", cmd_set_thread },
	{ "g", cmd_read_regs },
	{ "G", cmd_write_regs },
	{ "p", cmd_read_reg },
	{ "P", cmd_write_reg },
	{ "m", cmd_read_mem },
	{ "M", cmd_write_mem },
	{ "X", cmd_write_mem_binary },
	{ "Z", cmd_insert },
	{ "z", cmd_remove },
	{ "c", cmd_continue },
	{ "C", cmd_continue },
	{ "s", cmd_step },
	{ "S", cmd_step },
	{ "vCont?", cmd_vcont_query },
	{ "vCont;", cmd_vcont },
	{ "D", cmd_detach },
	{ "k", cmd_kill },
	{ "qSymbol::", cmd_symbol },
	{ "qRcmd,", cmd_monitor },
};

/* ---- The serial line ---- */

/* One whole packet: answer it (now, or later through gs.owed). */
static void handle_packet(void)
{
	gs.defer = false;
	int n = rsp_dispatch(commands, ARRAY_SIZE(commands), gs.rx.data, gs.rx.len, NULL, reply, sizeof(reply));
	if (!gs.defer)
		send_packet(reply, (size_t)n);
	if (strcmp(gs.rx.data, "QStartNoAckMode") == 0)
		gs.rx.no_ack = true; /* from the next packet on ("Packet Acknowledgment") */
	if (gs.rx.data[0] == 'D' || gs.rx.data[0] == 'k')
		gs.rx.no_ack = false; /* the next GDB starts with acknowledgments */
}

static void handle_byte(u8 byte)
{
	enum rsp_event ev = rsp_rx_byte(&gs.rx, byte);

	/* A new GDB (qSupported) expects acknowledgments, whatever the last one agreed. */
	if (ev == RSP_EV_PACKET && strncmp(gs.rx.data, "qSupported", 10) == 0)
		gs.rx.no_ack = false;
	char ack = rsp_rx_ack(&gs.rx, ev);
	if (ack)
		tx_put(&ack, 1);
	switch (ev) {
	case RSP_EV_PACKET:
		handle_packet();
		break;
	case RSP_EV_NACK:
		tx_put(gs.frame, gs.frame_len); /* the last reply got mangled: again */
		break;
	case RSP_EV_INTERRUPT:
		if (gs.owed == OWE_STOP)
			gs.want_stop = true; /* Ctrl-C: stop it; the stop reply says SIGINT */
		break;
	default:
		break;
	}
}

static void gdb_init(struct debug_port *dp)
{
	gs.dp = dp;
	rsp_rx_init(&gs.rx);
	gs.g_thread = gs.c_thread = 1;
	target_xml_len = gdb_target_xml(&arch_gdb_target, target_xml, sizeof(target_xml));
	if (target_xml_len < 0)
		target_xml_len = 0;
}

/* CPU 0, at least every millisecond: read what arrived, answer, send what is queued. */
static void gdb_poll(struct debug_port *dp)
{
	int c;

	tx_pump();
	for (int i = 0; i < 64 && (c = debug_port_getc(dp)) >= 0; i++)
		handle_byte((u8)c);
	if (npartitions)
		settle_owed();
	tx_pump();
}

DEBUG_SERVICE(gdb, DEBUG_PORT_COM2, gdb_init, gdb_poll);
