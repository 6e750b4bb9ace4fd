/**
 * @file testdev.c
 * @brief The MMIO test device: a page of registers that exercises MMIO emulation.
 *
 * Every access is an EPT violation the hypervisor decodes and emulates
 * (src/arch/x86/vmx/exit_ept.c); tests use it to check MMIO round trips and benchmarks
 * to measure their cost. Registers: guest_abi.h HVLAB_TESTDEV_*.
 */
#include <hvlab/partition.h>
#include <hvlab/guest_abi.h>

struct testdev {
	u64 scratch;
	u64 count;
};

static spinlock_t testdev_lock = SPINLOCK_INIT; /* vCPUs on several CPUs may use it */

static struct testdev testdevs[MAX_PARTITIONS];

static u64 testdev_read(struct vcpu *v, void *state, u64 offset, u8 size)
{
	struct testdev *t = state;
	u64 value;

	spin_lock(&testdev_lock);
	t->count++;
	switch (offset & ~7ULL) {
	case HVLAB_TESTDEV_ID: value = HVLAB_TESTDEV_MAGIC >> ((offset & 7) * 8); break;
	case HVLAB_TESTDEV_SCRATCH: value = t->scratch >> ((offset & 7) * 8); break;
	case HVLAB_TESTDEV_COUNT: value = t->count; break;
	default: value = ~0ULL; break; /* unimplemented registers read as all ones */
	}
	spin_unlock(&testdev_lock);
	return value;
}

static void testdev_write(struct vcpu *v, void *state, u64 offset, u8 size, u64 value)
{
	struct testdev *t = state;

	spin_lock(&testdev_lock);
	t->count++;
	if ((offset & ~7ULL) == HVLAB_TESTDEV_SCRATCH) {
		unsigned shift = (offset & 7) * 8;
		u64 mask = (size == 8 ? ~0ULL : (1ULL << (size * 8)) - 1) << shift;
		t->scratch = (t->scratch & ~mask) | ((value << shift) & mask);
	}
	spin_unlock(&testdev_lock);
}

static const struct mmio_ops testdev_ops = { testdev_read, testdev_write };

static int testdev_attach(struct partition *p)
{
	struct testdev *t = &testdevs[p->id];

	*t = (struct testdev){ 0, 0 };
	return mmio_register(p, HVLAB_TESTDEV_BASE, HVLAB_TESTDEV_SIZE, &testdev_ops, t, "test device");
}
DEVICE_TYPE(testdev_device) = { "testdev", testdev_attach };
