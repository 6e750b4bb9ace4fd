/**
 * @file gdb_regs.h
 * @brief Registers as GDB sees them: a target description (target.xml) and the g/G/p/P
 * packet encodings, both generated from one register table.
 *
 * GDB manual, appendix "Target Descriptions": the stub sends an XML document naming each
 * register, its size and type; the registers are numbered in document order, and that
 * order is the layout of the `g` packet ("Packets": g, "each byte of register data is
 * described by two hex digits ... in target byte order"). So the architecture writes one
 * table (struct gdb_reg_desc[]) and everything GDB needs is derived here: no second list
 * to keep in step.
 *
 * Pure logic (no hardware): built for the host and unit-tested (tests/unit/test_gdb_regs.c).
 */
#ifndef HVLAB_GDB_REGS_H
#define HVLAB_GDB_REGS_H

#include <hvlab/types.h>

#define GDB_REG_RO BIT(0)     /**< P/G may not change it (e.g. control registers) */
#define GDB_REG_NOVALUE BIT(1) /**< never has a value here: always sent as "xx" (unavailable) */

/** One register of the target description. */
struct gdb_reg_desc {
	const char *name;  /**< GDB's name ("rax", "eflags") */
	u16 bits;          /**< 32, 64 or 80; values wider than 64 bits must be GDB_REG_NOVALUE */
	const char *type;  /**< target.xml type: "int64", "code_ptr", "i386_eflags" ... */
	const char *group; /**< "general", "system", "float", or NULL for GDB's default */
	u8 flags;          /**< GDB_REG_* */
	u8 src;            /**< the architecture's own: where the value lives */
	u32 field;         /**< the architecture's own: which one there */
};

/** A whole target description. */
struct gdb_target_desc {
	const char *architecture;      /**< <architecture>, e.g. "i386:x86-64" */
	const char *feature;           /**< the one <feature> name, e.g. "org.gnu.gdb.i386.core" */
	const char *types;             /**< XML put before the registers (flags types), or NULL */
	const struct gdb_reg_desc *regs;
	size_t nregs;
};

/** Write the target.xml document of @p t into @p out; its length, or -1 if it does not fit. */
int gdb_target_xml(const struct gdb_target_desc *t, char *out, size_t outlen);

/** Bytes one `g` packet carries (every register, in order). */
size_t gdb_regs_bytes(const struct gdb_target_desc *t);

/**
 * The `g` reply: every register of @p t, little-endian hex; GDB_REG_NOVALUE registers and
 * those with @p have[i] false as "xx" per byte ("Packets": g, unavailable registers).
 * Returns its length, or -1 if it does not fit in @p outlen (with the NUL).
 */
int gdb_regs_encode(const struct gdb_target_desc *t, const u64 *values, const bool *have, char *out,
		    size_t outlen);

/** The `p` reply for register @p regno (with @p have false: "xx"s). -1: no such register
 *  or no room. */
int gdb_reg_encode(const struct gdb_target_desc *t, u64 regno, u64 value, bool have, char *out, size_t outlen);

/**
 * Decode a `G` packet's @p len hex digits into @p values; @p given[i] is set for each
 * register that came with a value (not "xx"). Returns 0, or an rsp_err (gdb_rsp.h) when
 * the length or a digit is wrong.
 */
int gdb_regs_decode(const struct gdb_target_desc *t, const char *hex, size_t len, u64 *values, bool *given);

/** The value of register @p regno from a `P` packet's @p n bytes; rsp_err if @p n is not
 *  its size, it has no value, or there is no such register. */
int gdb_reg_decode(const struct gdb_target_desc *t, u64 regno, const u8 *bytes, size_t n, u64 *value);

/**
 * One piece of a `qXfer:...:read` answer ("General Query Packets", qXfer): @p len bytes
 * of @p doc from @p offset, prefixed 'm' (more follows) or 'l' (last). Returns its length
 * (binary data, escaped later by rsp_encode()), or an rsp_err when @p offset lies past
 * the end.
 */
int gdb_xfer_reply(const char *doc, size_t doclen, u64 offset, u64 len, char *reply, size_t replylen);

#endif
