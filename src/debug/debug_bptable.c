/**
 * @file debug_bptable.c
 * @brief Breakpoint bookkeeping of the debug core (see debug_bptable.h). Pure logic.
 */
#include <hvlab/debug_bptable.h>
#include <hvlab/lib.h>

void bptable_init(struct debug_bptable *t)
{
	memset(t, 0, sizeof(*t));
}

struct debug_swbp *bptable_sw_find(struct debug_bptable *t, u64 addr)
{
	for (size_t i = 0; i < DEBUG_SW_MAX; i++)
		if (t->sw[i].refs && t->sw[i].addr == addr)
			return &t->sw[i];
	return NULL;
}

struct debug_swbp *bptable_sw_find_gpa(struct debug_bptable *t, u64 gpa)
{
	for (size_t i = 0; i < DEBUG_SW_MAX; i++)
		if (t->sw[i].refs && t->sw[i].gpa == gpa)
			return &t->sw[i];
	return NULL;
}

struct debug_swbp *bptable_sw_add(struct debug_bptable *t, u64 addr, u64 gpa, bool *fresh)
{
	struct debug_swbp *bp = bptable_sw_find(t, addr);

	*fresh = false;
	if (bp && bp->gpa == gpa) {
		if (bp->refs == 0xff)
			return NULL;
		bp->refs++; /* GDB inserted it again */
		return bp;
	}
	/* A new entry, in the first free slot. */
	for (size_t i = 0; i < DEBUG_SW_MAX; i++) {
		if (t->sw[i].refs)
			continue;
		/* An alias of a byte that already holds our int3 shares its original byte. */
		struct debug_swbp *alias = bptable_sw_find_gpa(t, gpa);
		t->sw[i] = (struct debug_swbp){ .addr = addr, .gpa = gpa, .refs = 1 };
		if (alias)
			t->sw[i].orig = alias->orig, t->sw[i].lifted = alias->lifted;
		else
			*fresh = true;
		return &t->sw[i];
	}
	return NULL;
}

bool bptable_sw_put(struct debug_bptable *t, struct debug_swbp *bp)
{
	if (!bp->refs || --bp->refs)
		return false;
	/* The last insertion went: restore the byte unless an alias still needs the int3. */
	return bptable_sw_find_gpa(t, bp->gpa) == NULL;
}

struct debug_hwbp *bptable_hw_find(struct debug_bptable *t, u8 type, u64 addr, u64 len)
{
	for (size_t i = 0; i < DEBUG_HW_MAX; i++)
		if (t->hw[i].refs && t->hw[i].type == type && t->hw[i].addr == addr && t->hw[i].len == len)
			return &t->hw[i];
	return NULL;
}

struct debug_hwbp *bptable_hw_add(struct debug_bptable *t, u8 type, u64 addr, u64 len)
{
	struct debug_hwbp *bp = bptable_hw_find(t, type, addr, len);

	if (bp)
		return bp->refs == 0xff ? NULL : (bp->refs++, bp);
	for (size_t i = 0; i < DEBUG_HW_MAX; i++) {
		if (!t->hw[i].refs) {
			t->hw[i] = (struct debug_hwbp){ .type = type, .refs = 1, .addr = addr, .len = len };
			return &t->hw[i];
		}
	}
	return NULL;
}

void bptable_hw_put(struct debug_bptable *t, struct debug_hwbp *bp)
{
	if (bp->refs)
		bp->refs--;
}

bool bptable_empty(const struct debug_bptable *t)
{
	for (size_t i = 0; i < DEBUG_SW_MAX; i++)
		if (t->sw[i].refs)
			return false;
	for (size_t i = 0; i < DEBUG_HW_MAX; i++)
		if (t->hw[i].refs)
			return false;
	return true;
}
