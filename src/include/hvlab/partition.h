/**
 * @file partition.h
 * @brief Partitions and their virtual CPUs: what the hypervisor knows about each guest.
 *
 * Everything here is plain data that can be walked and serialized (ROADMAP.md: hot
 * restart hands it to a new hypervisor instance). The architecture-specific part of a
 * vCPU (VMCS, saved registers) and of a partition (EPT) live in struct arch_vcpu and
 * struct arch_partition, defined by src/arch/x86/include/arch/vcpu_arch.h.
 */
#ifndef HVLAB_PARTITION_H
#define HVLAB_PARTITION_H

#include <hvlab/types.h>
#include <hvlab/config.h>
#include <hvlab/spinlock.h>
#include <arch/vcpu_arch.h>
#include <hvlab/vtimer.h>
#include <hvlab/lifecycle.h>

#define MAX_PARTITIONS CONFIG_MAX_PARTITIONS
#define MAX_VCPUS CONFIG_MAX_VCPUS
#define MAX_PIO_REGIONS 16
#define MAX_MMIO_REGIONS 16
#define EXIT_REASON_COUNT 80

struct vcpu;
struct partition;

/** Port I/O emulation callbacks of one device. Sizes are 1, 2 or 4 bytes. */
struct pio_ops {
	u32 (*read)(struct vcpu *v, void *state, u16 port, u8 size);
	void (*write)(struct vcpu *v, void *state, u16 port, u8 size, u32 value);
};

/** MMIO emulation callbacks; offset is from the region's base; sizes 1, 2, 4 or 8. */
struct mmio_ops {
	u64 (*read)(struct vcpu *v, void *state, u64 offset, u8 size);
	void (*write)(struct vcpu *v, void *state, u64 offset, u8 size, u64 value);
};

/** A range of I/O ports a device emulates. */
struct pio_region {
	u16 base, count;
	const struct pio_ops *ops;
	void *state;
	const char *name;
};

/** A range of guest-physical addresses a device emulates (left unmapped in EPT). */
struct mmio_region {
	u64 base, size;
	const struct mmio_ops *ops;
	void *state;
	const char *name;
};

enum vcpu_state {
	VCPU_STOPPED = 0, /**< not started, or its partition ended */
	VCPU_RUNNABLE,    /**< ready to enter the guest */
	VCPU_RUNNING,     /**< in the guest (or handling its exit) on its CPU */
	VCPU_HALTED,      /**< executed HLT: waits for an interrupt (or NMI/INIT if IF was 0) */
	VCPU_WAIT_SIPI,   /**< after INIT: waits for a STARTUP IPI (SDM Vol. 3A §9.4.4) */
};

/** One virtual CPU. */
struct vcpu {
	struct partition *part;
	u32 id;              /**< vCPU number inside the partition */
	u32 cpu;             /**< physical CPU it runs on (struct cpu index) */
	volatile u8 state;   /**< enum vcpu_state */
	bool halted_with_if; /**< VCPU_HALTED with RFLAGS.IF set: interrupts wake it */
	struct arch_vcpu arch;
};

enum partition_state { PART_EMPTY = 0, PART_READY, PART_RUNNING, PART_ENDED };

/** How a partition ended. */
enum end_kind {
	END_NONE = 0,
	END_EXIT,    /**< the guest wrote its status to the exit port */
	END_FAULT,   /**< the hypervisor stopped it: end_reason says why */
	END_DESTROYED, /**< destroyed while it ran (src/core/lifecycle.c) */
};

/** Exit and event counters, read by the monitor and benchmarks. */
struct partition_counters {
	u64 exits[EXIT_REASON_COUNT]; /**< VM exits by basic exit reason */
	u64 exits_total;
	u64 injections;               /**< events injected into the guest */
	u64 hypercalls;
	u64 mmio_emulated;
	u64 pio_emulated;
	u64 resets;                   /**< soft resets (src/core/lifecycle.c) */
};

/** One partition. */
struct partition {
	u16 id;                        /**< index in partitions[], also the PFN-database owner id */
	u8 state;                      /**< enum partition_state */
	char name[CONFIG_NAME_LEN];
	const struct partition_config *cfg;
	u64 mem_size;                  /**< bytes of main guest RAM */
	u64 ram_base;                  /**< its guest-physical start: 0, or the host address if identity-mapped */
	u64 mem_hpa;                   /**< where that RAM lives in host memory (contiguous) */
	u64 low_hpa;                   /**< identity-mapped only: host frames behind guest-physical [0, 1 MiB) */
	bool identity;                 /**< RAM at GPA == HPA, exclusively (config identity = yes) */
	bool direct_irqs;              /**< interception off: interrupts reach the guest without exits */
	u32 nvcpus;
	struct vcpu vcpu[MAX_VCPUS];
	struct arch_partition arch;
	struct pio_region pio[MAX_PIO_REGIONS];
	u32 npio;
	struct mmio_region mmio[MAX_MMIO_REGIONS];
	u32 nmmio;
	u8 end_kind;                   /**< enum end_kind */
	u32 exit_status;               /**< END_EXIT: what the guest wrote */
	char end_reason[128];          /**< END_FAULT: why */
	struct partition_counters counters;
	spinlock_t lock;
	struct vtimer *timers;         /**< armed virtual timers (src/core/vtimer.c) */
	spinlock_t timer_lock;
	struct partition_lifecycle lc; /**< pause/reset/destroy requests (src/core/lifecycle.c) */
};

extern struct partition partitions[MAX_PARTITIONS];
extern u32 npartitions;

/**
 * Create every partition of @p cfg: check it against the machine (CPUs online, memory,
 * boot modules), allocate memory, build EPT, load images, attach devices. On any
 * problem print "hvlab: config: ..." naming it and return -1 with nothing started.
 */
int partitions_create(const struct hv_config *cfg);

/** Load @p p's image into its RAM with its loader (creation and soft reset). Returns 0, or
 *  -1 with the reason in @p err. */
int partition_load_image(struct partition *p, char *err, size_t errlen);

/** Attach every device model of the device table to @p p, each starting from reset.
 *  Returns 0, or -1 naming the device in @p err. */
int partition_attach_devices(struct partition *p, char *err, size_t errlen);

/** End partition @p p because the guest asked to (exit port), with @p status. */
void partition_exit(struct partition *p, u32 status);

/** End partition @p p because of a fault; the reason is printed and kept. */
void partition_fault(struct partition *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/** True once @p p has ended. */
static inline bool partition_ended(const struct partition *p)
{
	return p->state == PART_ENDED;
}

/** Size of the private low memory of an identity-mapped partition (BIOS area, boot data). */
#define IDENTITY_LOW_RAM MiB(1)

/**
 * The host address of guest-physical [@p gpa, @p gpa + @p len) of @p p, when that range
 * lies entirely in one RAM region (main RAM, or an identity partition's low memory);
 * 0 otherwise.
 */
u64 partition_ram_hpa(const struct partition *p, u64 gpa, u64 len);

/** Copy @p len bytes to guest RAM at guest-physical @p gpa; false (nothing written) when the
 *  range is not entirely RAM of @p p. */
bool partition_write(struct partition *p, u64 gpa, const void *buf, u64 len);

/** Register an I/O-port range for @p p. Returns 0, or -1 if full or overlapping. */
int pio_register(struct partition *p, u16 base, u16 count, const struct pio_ops *ops, void *state,
		 const char *name);

/** Register a guest-physical MMIO range for @p p. Returns 0, or -1 if full or overlapping. */
int mmio_register(struct partition *p, u64 base, u64 size, const struct mmio_ops *ops, void *state,
		  const char *name);

/** The I/O-port region containing @p port, or NULL. */
struct pio_region *pio_find(struct partition *p, u16 port);

/** The MMIO region containing @p gpa, or NULL. */
struct mmio_region *mmio_find(struct partition *p, u64 gpa);

/** Print one summary line of every partition's end and return the machine's exit status:
 *  0 when every partition exited with status 0 or was destroyed while it ran, else 1. */
int partitions_summary(void);

/** A device model: attached to every partition at creation (src/devices/). */
struct device_type {
	const char *name;
	/** Register the device's ports/regions for @p p; return 0 or -1. */
	int (*attach)(struct partition *p);
	/** Optional: @p p has ended (e.g. print what is still buffered). */
	void (*ended)(struct partition *p);
};

/** Put a struct device_type into the device table the partition code walks. */
#define DEVICE_TYPE(ident) \
	static const struct device_type ident __attribute__((used, section(".table.devices"), aligned(8)))

#endif
