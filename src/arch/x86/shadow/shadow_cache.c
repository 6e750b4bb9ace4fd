/**
 * @file shadow_cache.c
 * @brief The shadow page-table cache (MECHANISMS.md §4, first item: Hitachi abstract).
 *
 * On a guest CR3 write the shadow MMU calls shadow_cache_get():
 *
 *     1. look up a shadow root for the new guest root;
 *     2. found: skip rebuilding, load it into the CPU (a hit);
 *     3. not found: allocate one, build it (ops.alloc_root), load it and record the
 *        guest-root → shadow-root association (a miss), evicting the least recently
 *        used association when all @c capacity slots are taken.
 *
 * The table is a small array searched linearly: capacity is at most SHADOW_CACHE_MAX
 * (64), and a CR3 write already costs a VM exit, so a hash would buy nothing readable.
 */
#include <arch/shadow_cache.h>
#include <hvlab/lib.h>

/* Address bits of CR3 that name the top-level table (SDM Vol. 3A §5.3, §5.4.1, §5.5). */
#define CR3_PAE_MASK 0x00000000ffffffe0ULL
#define CR3_TABLE_MASK 0x000ffffffffff000ULL

u64 shadow_cache_key(u64 cr3, enum guest_paging_mode mode, u8 role)
{
	u64 table = cr3 & (mode == GUEST_PAGING_PAE ? CR3_PAE_MASK : CR3_TABLE_MASK);
	return table | ((u64)mode & 3) | ((u64)role << 56);
}

void shadow_cache_init(struct shadow_cache *c, const struct shadow_cache_ops *ops, unsigned capacity)
{
	memset(c, 0, sizeof(*c));
	c->ops = *ops;
	if (capacity < 1)
		capacity = 1;
	if (capacity > SHADOW_CACHE_MAX)
		capacity = SHADOW_CACHE_MAX;
	c->capacity = capacity;
	c->enabled = true;
}

/* The valid entry for @p key, or NULL. */
static struct shadow_cache_entry *find(struct shadow_cache *c, u64 key)
{
	for (unsigned i = 0; i < c->capacity; i++)
		if (c->entry[i].valid && c->entry[i].key == key)
			return &c->entry[i];
	return NULL;
}

/* Drop @p e, handing its root back to the caller. */
static void drop(struct shadow_cache *c, struct shadow_cache_entry *e)
{
	e->valid = false;
	c->ops.free_root(c->ops.ctx, e->key, e->shadow_root);
}

/* The least recently used valid entry, or NULL when the cache is empty. */
static struct shadow_cache_entry *lru(struct shadow_cache *c)
{
	struct shadow_cache_entry *victim = NULL;
	for (unsigned i = 0; i < c->capacity; i++) {
		struct shadow_cache_entry *e = &c->entry[i];
		if (e->valid && (!victim || e->last_use < victim->last_use))
			victim = e;
	}
	return victim;
}

/* A free slot, evicting the LRU entry if every slot is taken. */
static struct shadow_cache_entry *free_slot(struct shadow_cache *c)
{
	for (unsigned i = 0; i < c->capacity; i++)
		if (!c->entry[i].valid)
			return &c->entry[i];
	struct shadow_cache_entry *victim = lru(c);
	drop(c, victim);
	c->stats.evictions++;
	return victim;
}

bool shadow_cache_lookup(struct shadow_cache *c, u64 key, u64 *shadow_root)
{
	struct shadow_cache_entry *e = c->enabled ? find(c, key) : NULL;
	if (!e) {
		c->stats.misses++;
		return false;
	}
	e->last_use = ++c->clock;
	*shadow_root = e->shadow_root;
	c->stats.hits++;
	return true;
}

int shadow_cache_insert(struct shadow_cache *c, u64 key, u64 *shadow_root)
{
	/* Disabled: the previous root is not kept for later (the no-cache baseline). */
	if (!c->enabled) {
		for (unsigned i = 0; i < c->capacity; i++) {
			if (c->entry[i].valid) {
				drop(c, &c->entry[i]);
				c->stats.evictions++;
			}
		}
	}
	/* An association for the same key is stale: the caller is rebuilding it. */
	struct shadow_cache_entry *old = find(c, key);
	if (old) {
		drop(c, old);
		c->stats.invalidations++;
	}

	struct shadow_cache_entry *slot = free_slot(c);
	u64 root;
	while (c->ops.alloc_root(c->ops.ctx, key, &root) != 0) {
		/* Out of memory: give back the least recently used shadow and try again. */
		struct shadow_cache_entry *victim = lru(c);
		if (!victim)
			return -1;
		drop(c, victim);
		c->stats.evictions++;
	}
	slot->key = key;
	slot->shadow_root = root;
	slot->last_use = ++c->clock;
	slot->valid = true;
	*shadow_root = root;
	return 0;
}

int shadow_cache_get(struct shadow_cache *c, u64 key, u64 *shadow_root)
{
	if (shadow_cache_lookup(c, key, shadow_root))
		return 1;
	return shadow_cache_insert(c, key, shadow_root);
}

bool shadow_cache_invalidate(struct shadow_cache *c, u64 key)
{
	struct shadow_cache_entry *e = find(c, key);
	if (!e)
		return false;
	drop(c, e);
	c->stats.invalidations++;
	return true;
}

void shadow_cache_invalidate_all(struct shadow_cache *c)
{
	for (unsigned i = 0; i < c->capacity; i++) {
		if (c->entry[i].valid) {
			drop(c, &c->entry[i]);
			c->stats.invalidations++;
		}
	}
}

void shadow_cache_set_enabled(struct shadow_cache *c, bool enabled)
{
	if (!enabled)
		shadow_cache_invalidate_all(c);
	c->enabled = enabled;
}

unsigned shadow_cache_count(const struct shadow_cache *c)
{
	unsigned n = 0;
	for (unsigned i = 0; i < c->capacity; i++)
		n += c->entry[i].valid;
	return n;
}
