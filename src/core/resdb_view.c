/**
 * @file resdb_view.c
 * @brief Reading the resource database: in words, and as a partition's view page.
 *
 * MECHANISMS.md §2 gives every partition "a read-only view of its own allocation":
 * resdb_view_fill() builds that page (layout in resdb_view.h) from the table in
 * src/core/resdb.c. The same file puts resources and owners into words, for the
 * reasons a refused transaction gives ("CPU 1 is already dedicated to partition 'a'")
 * and for the monitor. Only reads the table; pure logic, built for host unit tests too.
 */
#include <hvlab/resdb.h>
#include <hvlab/lib.h>

static u32 count_bits(u64 x)
{
	u32 n = 0;
	for (; x; x &= x - 1)
		n++;
	return n;
}

/* Append to buf at *pos, never beyond len. */
static void __attribute__((format(printf, 4, 5))) append(char *buf, size_t len, size_t *pos,
							 const char *fmt, ...)
{
	if (*pos >= len)
		return;
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(buf + *pos, len - *pos, fmt, ap);
	va_end(ap);
	if (n > 0)
		*pos += (size_t)n;
}

void resdb_owners_text(const struct resdb *db, u64 owners, char *buf, size_t len)
{
	size_t pos = 0;
	u64 parts = owners & ~BIT(RESDB_HV);

	buf[0] = '\0';
	if (owners & BIT(RESDB_HV))
		append(buf, len, &pos, "the hypervisor%s", parts ? " and " : "");
	if (parts)
		append(buf, len, &pos, "partition%s ", count_bits(parts) > 1 ? "s" : "");
	for (u32 id = 0; id < RESDB_MAX_PARTITIONS; id++) {
		if (!(parts & BIT(id)))
			continue;
		parts &= ~BIT(id);
		if (db->part_name[id][0])
			append(buf, len, &pos, "'%s'", db->part_name[id]);
		else
			append(buf, len, &pos, "%u", id);
		if (parts)
			append(buf, len, &pos, ", ");
	}
}

void resdb_held_text(const struct resdb *db, const struct resdb_entry *e, char *buf, size_t len)
{
	char who[160];

	resdb_owners_text(db, e->owners, who, sizeof(who));
	if (e->mode == RESDB_SHARED)
		snprintf(buf, len, "shared by %s", who);
	else if (e->owners == BIT(RESDB_HV))
		snprintf(buf, len, "reserved by the hypervisor");
	else
		snprintf(buf, len, "dedicated to %s", who);
}

void resdb_res_text(const struct resdb_res *r, bool is_short, char *buf, size_t len)
{
	switch (r->kind) {
	case RESDB_CPU:
		snprintf(buf, len, "CPU %lu", r->base);
		break;
	case RESDB_MEMORY:
		snprintf(buf, len, "memory 0x%lx-0x%lx", r->base, r->base + r->size - 1);
		break;
	case RESDB_DEVICE:
		snprintf(buf, len, "device '%.*s'", RESDB_NAME_LEN, r->name);
		break;
	case RESDB_VECTOR:
		if (r->cpu == RESDB_EVERY_CPU)
			snprintf(buf, len, "vector 0x%lx on every CPU", r->base);
		else
			snprintf(buf, len, "vector 0x%lx on CPU %u", r->base, r->cpu);
		break;
	case RESDB_PORTS:
		if (r->size == 1)
			snprintf(buf, len, "%sport 0x%lx", is_short ? "" : "I/O ", r->base);
		else
			snprintf(buf, len, "%sports 0x%lx-0x%lx", is_short ? "" : "I/O ", r->base,
				 r->base + r->size - 1);
		break;
	default:
		snprintf(buf, len, "resource of unknown kind %u", r->kind);
	}
}

int resdb_entry_text(const struct resdb *db, const struct resdb_entry *e, char *buf, size_t len)
{
	char what[64], held[200];

	if (e->mode == RESDB_FREE)
		return snprintf(buf, len, "(unused)");
	resdb_res_text(&e->res, false, what, sizeof(what));
	resdb_held_text(db, e, held, sizeof(held));
	return snprintf(buf, len, "%s: %s", what, held);
}


/* The view lists every entry with the partition's owner bit, in table order. */
int resdb_view_fill(const struct resdb *db, u16 id, struct resdb_view *out)
{
	if (id >= RESDB_MAX_PARTITIONS)
		return -1;
	memset(out, 0, sizeof(*out));
	out->magic = RESDB_VIEW_MAGIC;
	out->version = RESDB_VIEW_VERSION;
	out->size = sizeof(*out);
	out->partition = id;
	out->generation = db->generation;
	memcpy(out->name, db->part_name[id], RESDB_VIEW_NAME_LEN - 1);

	for (int i = 0; i < RESDB_MAX_ENTRIES; i++) {
		const struct resdb_entry *e = &db->entries[i];
		const struct resdb_res *r = &e->res;
		if (e->mode == RESDB_FREE || !(e->owners & BIT(id)))
			continue;
		u8 mode = e->mode == RESDB_SHARED ? RESDB_VIEW_SHARED : RESDB_VIEW_DEDICATED;
		u8 sharers = (u8)count_bits(e->owners);
		bool full = false;

		switch (r->kind) {
		case RESDB_CPU:
			if (!(full = out->ncpus == RESDB_VIEW_MAX_CPUS))
				out->cpus[out->ncpus++] = (struct resdb_view_cpu){
					.cpu = (u32)r->base, .mode = mode, .sharers = sharers };
			break;
		case RESDB_MEMORY:
			if (!(full = out->nmem == RESDB_VIEW_MAX_MEM))
				out->mem[out->nmem++] = (struct resdb_view_mem){
					.base = r->base, .size = r->size, .mode = mode, .sharers = sharers };
			break;
		case RESDB_DEVICE:
			if (!(full = out->ndevices == RESDB_VIEW_MAX_DEVICES)) {
				struct resdb_view_device *d = &out->devices[out->ndevices++];
				memcpy(d->name, r->name, RESDB_VIEW_DEVICE_LEN - 1);
				d->mode = mode;
				d->sharers = sharers;
			}
			break;
		case RESDB_PORTS:
			if (!(full = out->nports == RESDB_VIEW_MAX_PORTS))
				out->ports[out->nports++] = (struct resdb_view_ports){
					.base = (u16)r->base, .count = (u32)r->size, .mode = mode,
					.sharers = sharers };
			break;
		case RESDB_VECTOR:
			if (!(full = out->nvectors == RESDB_VIEW_MAX_VECTORS))
				out->vectors[out->nvectors++] = (struct resdb_view_vector){
					.cpu = r->cpu, .vector = (u8)r->base, .mode = mode, .sharers = sharers };
			break;
		}
		if (full)
			out->flags |= RESDB_VIEW_TRUNCATED;
	}
	return 0;
}
