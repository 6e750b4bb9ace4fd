/**
 * @file symbols.c
 * @brief Address → function name, from the table the build embeds (GNUmakefile, two-pass link).
 */
#include <hvlab/symbols.h>
#include <hvlab/console.h>

/** One entry of the embedded table, sorted by address, ended by {0, 0}. */
struct symbol {
	u64 addr;
	const char *name;
};

extern const struct symbol hv_symtab[];
extern char _hv_start[], _bss_start[];

const char *symbol_lookup(u64 addr, u64 *offset)
{
	const struct symbol *best = NULL;

	if (addr < (u64)(uintptr_t)_hv_start || addr >= (u64)(uintptr_t)_bss_start)
		return NULL;
	for (const struct symbol *s = hv_symtab; s->addr; s++) {
		if (s->addr > addr)
			break;
		best = s;
	}
	if (!best)
		return NULL;
	*offset = addr - best->addr;
	return best->name;
}

void print_backtrace(u64 rbp)
{
	/* With -fno-omit-frame-pointer every frame starts {saved rbp, return address}. */
	for (int depth = 0; depth < 16 && rbp && !(rbp & 7); depth++) {
		const u64 *frame = (const u64 *)(uintptr_t)rbp;
		u64 ret = frame[1], off;
		const char *name = symbol_lookup(ret, &off);

		if (!name)
			break;
		printk("  called from %016lx <%s+0x%lx>\n", ret, name, off);
		if (frame[0] <= rbp) /* stacks grow down: a caller's frame is higher */
			break;
		rbp = frame[0];
	}
}
