/**
 * @file gdb_regs.c
 * @brief target.xml and the register packets, derived from one register table
 * (see gdb_regs.h; GDB manual, "Target Descriptions" and "Packets": g, G, p, P).
 */
#include <hvlab/gdb_regs.h>
#include <hvlab/gdb_rsp.h>
#include <hvlab/lib.h>
#include <stdarg.h>

/* ---- target.xml ---- */

/* Append formatted text at *@p pos of @p out; false (and *pos at the end) when full. */
static bool append(char *out, size_t outlen, size_t *pos, const char *fmt, ...)
{
	va_list ap;

	if (*pos >= outlen)
		return false;
	va_start(ap, fmt);
	int r = vsnprintf(out + *pos, outlen - *pos, fmt, ap);
	va_end(ap);
	if (r < 0 || *pos + (size_t)r >= outlen) {
		*pos = outlen;
		return false;
	}
	*pos += (size_t)r;
	return true;
}

int gdb_target_xml(const struct gdb_target_desc *t, char *out, size_t outlen)
{
	size_t pos = 0;
	bool ok = append(out, outlen, &pos,
			 "<?xml version=\"1.0\"?>\n<!DOCTYPE target SYSTEM \"gdb-target.dtd\">\n"
			 "<target version=\"1.0\">\n<architecture>%s</architecture>\n<feature name=\"%s\">\n",
			 t->architecture, t->feature);
	if (ok && t->types)
		ok = append(out, outlen, &pos, "%s", t->types);
	for (size_t i = 0; ok && i < t->nregs; i++) {
		const struct gdb_reg_desc *r = &t->regs[i];
		/* regnum makes the numbering explicit: it is the p/P number and the g order. */
		ok = append(out, outlen, &pos, "<reg name=\"%s\" type=\"%s\" bitsize=\"%u\" regnum=\"%u\"",
			    r->name, r->type, r->bits, (unsigned)i);
		if (ok && r->group)
			ok = append(out, outlen, &pos, " group=\"%s\"", r->group);
		if (ok)
			ok = append(out, outlen, &pos, "/>\n");
	}
	if (ok)
		ok = append(out, outlen, &pos, "</feature>\n</target>\n");
	return ok ? (int)pos : -1;
}

/* ---- g, G, p, P ---- */

size_t gdb_regs_bytes(const struct gdb_target_desc *t)
{
	size_t n = 0;

	for (size_t i = 0; i < t->nregs; i++)
		n += t->regs[i].bits / 8;
	return n;
}

/* Encode one register at @p out (2 * bits / 8 digits, no NUL): little-endian, or "xx"s. */
static void encode_one(const struct gdb_reg_desc *r, u64 value, bool have, char *out)
{
	static const char hex[] = "0123456789abcdef";
	size_t bytes = r->bits / 8;

	for (size_t b = 0; b < bytes; b++) {
		if (!have || (r->flags & GDB_REG_NOVALUE)) {
			out[2 * b] = out[2 * b + 1] = 'x';
			continue;
		}
		u8 byte = b < 8 ? (u8)(value >> (8 * b)) : 0;
		out[2 * b] = hex[byte >> 4];
		out[2 * b + 1] = hex[byte & 0xf];
	}
}

int gdb_regs_encode(const struct gdb_target_desc *t, const u64 *values, const bool *have, char *out,
		    size_t outlen)
{
	size_t pos = 0;

	if (2 * gdb_regs_bytes(t) + 1 > outlen)
		return -1;
	for (size_t i = 0; i < t->nregs; i++) {
		encode_one(&t->regs[i], values[i], have[i], out + pos);
		pos += t->regs[i].bits / 4;
	}
	out[pos] = '\0';
	return (int)pos;
}

int gdb_reg_encode(const struct gdb_target_desc *t, u64 regno, u64 value, bool have, char *out, size_t outlen)
{
	if (regno >= t->nregs || (size_t)t->regs[regno].bits / 4 + 1 > outlen)
		return -1;
	encode_one(&t->regs[regno], value, have, out);
	out[t->regs[regno].bits / 4] = '\0';
	return t->regs[regno].bits / 4;
}

int gdb_regs_decode(const struct gdb_target_desc *t, const char *hex, size_t len, u64 *values, bool *given)
{
	size_t pos = 0;

	if (len != 2 * gdb_regs_bytes(t))
		return RSP_ERR_SYNTAX;
	for (size_t i = 0; i < t->nregs; i++) {
		const struct gdb_reg_desc *r = &t->regs[i];
		size_t bytes = r->bits / 8;
		u8 buf[16];

		given[i] = false;
		values[i] = 0;
		if (hex[pos] == 'x') { /* unavailable: GDB sends it back as it got it */
			pos += 2 * bytes;
			continue;
		}
		if (rsp_hex_to_bytes(hex + pos, 2 * bytes, buf, sizeof(buf)) != (int)bytes)
			return RSP_ERR_HEX;
		pos += 2 * bytes;
		if (r->flags & GDB_REG_NOVALUE)
			continue;
		for (size_t b = 0; b < bytes && b < 8; b++)
			values[i] |= (u64)buf[b] << (8 * b);
		given[i] = true;
	}
	return RSP_OK;
}

int gdb_reg_decode(const struct gdb_target_desc *t, u64 regno, const u8 *bytes, size_t n, u64 *value)
{
	if (regno >= t->nregs)
		return RSP_ERR_RANGE;
	const struct gdb_reg_desc *r = &t->regs[regno];
	if (r->flags & GDB_REG_NOVALUE)
		return RSP_ERR_RANGE;
	if (n != r->bits / 8u)
		return RSP_ERR_SYNTAX;
	*value = 0;
	for (size_t b = 0; b < n && b < 8; b++)
		*value |= (u64)bytes[b] << (8 * b);
	return RSP_OK;
}

/* ---- qXfer ---- */

int gdb_xfer_reply(const char *doc, size_t doclen, u64 offset, u64 len, char *reply, size_t replylen)
{
	if (offset > doclen)
		return RSP_ERR_RANGE;
	if (replylen < 2)
		return RSP_ERR_TOO_LONG;
	u64 left = doclen - offset;
	u64 n = len < left ? len : left;
	if (n > replylen - 2)
		n = replylen - 2;
	reply[0] = offset + n < doclen ? 'm' : 'l';
	memcpy(reply + 1, doc + offset, (size_t)n);
	reply[1 + n] = '\0';
	return (int)(1 + n);
}
